/* A guest that prints "tick N" ten times a second, forever: progress
 * that system tests can watch. */
#include "guest.h"

static volatile unsigned ticks;

__attribute__((interrupt)) static void timer(void *frame)
{
	(void)frame;
	ticks++;
	outb(0x20, 0x20);
}

int main(void)
{
	outb(0x20, 0x11); outb(0x21, 0x20); outb(0x21, 4); outb(0x21, 1);
	outb(0x21, 0xfe);
	idt_set(0x20, timer);
	idt_load();
	outb(0x43, 0x34); outb(0x40, (uint8_t)11932); outb(0x40, (uint8_t)(11932 >> 8));
	__asm__ volatile("sti");
	for (unsigned n = 0;; n++) {
		gprintf("tick %u\n", n);
		unsigned until = ticks + 10;
		while (ticks < until)
			__asm__ volatile("hlt");
	}
}
