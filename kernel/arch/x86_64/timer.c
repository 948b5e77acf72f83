/* The 8259 PICs and the PIT: the scheduler's tick.  Only IRQ 0 is
 * unmasked; device IRQs belong to user-level drivers (irq.c). */
#include "cpu.h"
#include "timer.h"

#define PIC1 0x20
#define PIC2 0xa0
#define PIT_HZ 1193182

void timer_init(unsigned hz)
{
	/* ICW1..4: edge triggered, cascade, vectors 32..47, 8086 mode */
	outb(PIC1, 0x11); outb(PIC2, 0x11);
	outb(PIC1 + 1, TIMER_VECTOR); outb(PIC2 + 1, TIMER_VECTOR + 8);
	outb(PIC1 + 1, 4); outb(PIC2 + 1, 2);
	outb(PIC1 + 1, 1); outb(PIC2 + 1, 1);
	outb(PIC1 + 1, 0xfa); /* IRQ 0 and the cascade; drivers unmask theirs */
	outb(PIC2 + 1, 0xff);

	unsigned div = PIT_HZ / hz;
	outb(0x43, 0x34); /* channel 0, lo/hi, rate generator */
	outb(0x40, (uint8_t)div);
	outb(0x40, (uint8_t)(div >> 8));
}

/* IRQ 7 and 15 fire spuriously; a real one shows in the in-service reg. */
int pic_is_spurious(int irq)
{
	uint16_t base = irq < 8 ? PIC1 : PIC2;
	if ((irq & 7) != 7)
		return 0;
	outb(base, 0x0b);
	if (inb(base) & 0x80)
		return 0;
	if (irq >= 8)
		outb(PIC1, 0x20); /* the master did see a cascade interrupt */
	return 1;
}

void pic_mask(int irq)
{
	uint16_t port = (irq < 8 ? PIC1 : PIC2) + 1;
	outb(port, inb(port) | (uint8_t)(1 << (irq & 7)));
}

void pic_unmask(int irq)
{
	uint16_t port = (irq < 8 ? PIC1 : PIC2) + 1;
	outb(port, inb(port) & (uint8_t)~(1 << (irq & 7)));
}

void pic_eoi(int irq)
{
	if (irq >= 8)
		outb(PIC2, 0x20);
	outb(PIC1, 0x20);
}
