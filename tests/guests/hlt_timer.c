/* HLT waits for an interrupt: the VMM's 8254 ticks through its 8259.
 * And a guest that runs without exits gets its interrupts too. */
#include "guest.h"

static volatile unsigned ticks;

__attribute__((interrupt)) static void timer(void *frame)
{
	(void)frame;
	ticks++;
	outb(0x20, 0x20); /* end of interrupt */
}

int main(void)
{
	plan(4);
	timer_start(timer);
	__asm__ volatile("sti");
	for (int i = 0; i < 5; i++)
		__asm__ volatile("hlt");
	__asm__ volatile("cli");
	ok(ticks >= 5, "five HLTs each woke on a timer interrupt (%u ticks)", ticks);
	unsigned before = ticks;
	for (volatile int i = 0; i < 1000; i++)
		;
	ok(ticks == before, "with interrupts off no more arrive");
	uint8_t isr;
	outb(0x20, 0x0b);
	isr = inb(0x20);
	ok(isr == 0, "every interrupt was ended (ISR %x)", isr);
	/* spin, making no exits at all, with interrupts on */
	before = ticks;
	__asm__ volatile("sti");
	for (uint64_t spins = 0; ticks < before + 3 && spins < 4000000000UL; spins++)
		__asm__ volatile("" ::: "memory");
	__asm__ volatile("cli");
	ok(ticks >= before + 3, "a guest that makes no exits still gets timer interrupts (%u)", ticks - before);
	return 0;
}
