/* COM1, polled: the kernel's diagnostic channel only. */
#include "cpu.h"
#include "serial.h"

#define COM1 SERIAL_COM1

void serial_init(void)
{
	outb(COM1 + 1, 0x00); /* no interrupts */
	outb(COM1 + 3, 0x80); /* DLAB */
	outb(COM1 + 0, 0x01); /* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03); /* 8N1 */
	outb(COM1 + 2, 0xc7); /* FIFO on */
	outb(COM1 + 4, 0x03);
}

void serial_putc(char c)
{
	if (c == '\n')
		serial_putc('\r');
	for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
		;
	outb(COM1, (uint8_t)c);
}
