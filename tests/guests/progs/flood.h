/* What the flooding guests share: a quiet start (so that the VM beside
 * them calibrates undisturbed), "flood: start", then the flood until eight
 * seconds of TSC time have passed (twice what the ticker beside it needs:
 * each VM calibrates its TSC against its own timer, and under load the two
 * calibrations differ), when the timer interrupt (which the
 * VMM delivers between the flood's exits, as hardware delivers it between
 * a string instruction's iterations) prints "flood: end" and exits. */
#include "guest.h"

static volatile unsigned flood_ticks;
static volatile uint64_t flood_end;

__attribute__((interrupt)) static void flood_timer(struct frame *f)
{
	(void)f;
	flood_ticks++;
	outb(0x20, 0x20);
	if (flood_end && rdtsc() > flood_end) {
		gprintf("flood: end\n");
		vmmcall(2, 0, 0);
	}
}

static void flood_run(void (*flood)(void))
{
	timer_start(flood_timer);
	uint64_t per_tick = tsc_per_tick(&flood_ticks, 10);
	unsigned until = flood_ticks + 100;   /* a second of quiet */
	__asm__ volatile("sti");
	while (flood_ticks < until)
		__asm__ volatile("hlt");
	gprintf("flood: start\n");
	flood_end = rdtsc() + 800 * per_tick;
	flood();
	for (;;)
		__asm__ volatile("hlt");
}
