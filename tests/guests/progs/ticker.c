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
	timer_start(timer);
	__asm__ volatile("sti");
	for (unsigned n = 0;; n++) {
		gprintf("tick %u\n", n);
		unsigned until = ticks + 10;
		while (ticks < until)
			__asm__ volatile("hlt");
	}
}
