/* A guest that checks its own memory and registers, for snapshots: it
 * fills 2 MiB (of its 4) with a pattern once, then ten times a second checks the
 * whole of it, an SSE register it set once, and a round counter kept in
 * memory, and prints "memcheck: round N ok".  A guest restored from a
 * snapshot goes on with the next round; any difference is printed as
 * BAD (tests/system/snapshot.c). */
#include "guest.h"

#define REGION_GPA 0x200000UL
#define REGION ((volatile uint64_t *)REGION_GPA)
#define WORDS (0x200000 / 8)
#define XMM_VALUE 0x5eed5eed12345678UL

static volatile unsigned ticks;
static volatile uint64_t round_no;

__attribute__((interrupt)) static void timer(void *frame)
{
	(void)frame;
	ticks++;
	outb(0x20, 0x20);
}

static uint64_t pattern(uint64_t i)
{
	return (i + 1) * 0x9e3779b97f4a7c15UL;
}

int main(void)
{
	for (uint64_t i = 0; i < WORDS; i++)
		REGION[i] = pattern(i);
	uint64_t x = XMM_VALUE;
	__asm__ volatile("movq %0, %%xmm7" :: "r"(x));
	timer_start(timer);
	__asm__ volatile("sti");
	for (;;) {
		uint64_t bad = 0, first = 0;
		for (uint64_t i = 0; i < WORDS; i++)
			if (REGION[i] != pattern(i) && !bad++)
				first = i;
		__asm__ volatile("movq %%xmm7, %0" : "=r"(x));
		if (bad)
			gprintf("memcheck: round %lu BAD: %lu words differ, the first at %lx\n", round_no, bad,
			        REGION_GPA + first * 8);
		else if (x != XMM_VALUE)
			gprintf("memcheck: round %lu BAD: xmm7 holds %lx\n", round_no, x);
		else
			gprintf("memcheck: round %lu ok\n", round_no);
		round_no++;
		unsigned until = ticks + 10;
		while (ticks < until)
			__asm__ volatile("hlt");
	}
}
