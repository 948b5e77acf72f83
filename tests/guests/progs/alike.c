/* A guest for pages shared by content (tests/system/page_sharing.c):
 * it fills guest-physical 2 MiB..8 MiB with bytes that differ from page to
 * page but are the same in every VM running it, then checks them all
 * twice a second and prints "check N ok" (or "BAD" with the page).  Built
 * with WRITER (alike_writer.c), it also rewrites 6 MiB..8 MiB with other
 * bytes at check WRITE_AT, so its pages there stop being alike. */
#include "guest.h"

#define START 0x200000UL
#define END 0x800000UL
#define REWRITTEN 0x600000UL
#define WRITE_AT 24
#define PAGE 4096UL

static volatile unsigned ticks;

__attribute__((interrupt)) static void timer(void *frame)
{
	(void)frame;
	ticks++;
	outb(0x20, 0x20);
}

/* Word k of the page at pa, in pass `seed`. */
static uint64_t word(uint64_t pa, unsigned k, uint64_t seed)
{
	return (pa / PAGE + 1) * 0x9e3779b97f4a7c15UL ^ (uint64_t)k * 0xbf58476d1ce4e5b9UL ^ seed;
}

static void fill(uint64_t from, uint64_t to, uint64_t seed)
{
	for (uint64_t pa = from; pa < to; pa += PAGE)
		for (unsigned k = 0; k < PAGE / 8; k++)
			((volatile uint64_t *)pa)[k] = word(pa, k, seed);
}

/* The first page whose bytes are not what was written, or 0. */
static uint64_t check(int rewritten)
{
	for (uint64_t pa = START; pa < END; pa += PAGE) {
		uint64_t seed = rewritten && pa >= REWRITTEN ? 2 : 1;
		for (unsigned k = 0; k < PAGE / 8; k++)
			if (((volatile uint64_t *)pa)[k] != word(pa, k, seed))
				return pa;
	}
	return 0;
}

int main(void)
{
	timer_start(timer);
	__asm__ volatile("sti");
	fill(START, END, 1);
	gprintf("filled\n");
	int rewritten = 0;
	for (unsigned n = 1;; n++) {
		unsigned until = ticks + 50;
		while (ticks < until)
			__asm__ volatile("hlt");
#ifdef WRITER
		if (n == WRITE_AT) {
			fill(REWRITTEN, END, 2);
			rewritten = 1;
			gprintf("rewrote 6..8 MiB\n");
		}
#endif
		uint64_t bad = check(rewritten);
		if (bad)
			gprintf("check %u BAD at 0x%lx\n", n, bad);
		else
			gprintf("check %u ok\n", n);
	}
}
