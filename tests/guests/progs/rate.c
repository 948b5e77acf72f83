/* A ticker that measures its own rate: it calibrates the TSC against its
 * timer while the machine is quiet, then counts the timer interrupts it
 * receives over two seconds of TSC time while the VM beside it floods
 * (tests/system/fair_*.c), and says whether it kept 80% of them.  A VM
 * starved of the processor loses ticks: its VMM's timer notifications and
 * its 8259's request bit merge while it waits. */
#include "guest.h"

static volatile unsigned ticks;

__attribute__((interrupt)) static void timer(struct frame *f)
{
	(void)f;
	ticks++;
	outb(0x20, 0x20);
}

static void wait_tsc(uint64_t until)
{
	while (rdtsc() < until)
		__asm__ volatile("hlt");
}

int main(void)
{
	uint64_t start = rdtsc();
	timer_start(timer);
	uint64_t per_tick = tsc_per_tick(&ticks, 20);
	__asm__ volatile("sti");
	/* the flooding VM starts about a second after it boots */
	wait_tsc(start + 160 * per_tick);
	gprintf("rate: measuring\n");
	unsigned before = ticks;
	wait_tsc(rdtsc() + 200 * per_tick);
	unsigned got = ticks - before;
	gprintf("rate: %u of 200 ticks (%u%%)\n", got, got / 2);
	gprintf("rate: %s\n", got >= 160 ? "PASS" : "FAIL");
	for (;;)
		__asm__ volatile("hlt");
}
