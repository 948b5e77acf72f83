/* TAP output for system tests running on Berth.  tools/runtests.py reads
 * these lines from the serial port. */
#ifndef TAP_H
#define TAP_H

#include <libipc/libipc.h>

void tap_plan(int n);
/* Start each result line with a newline of its own, in the same write:
 * for tests whose console a guest shares, where a guest's prompt (a line
 * without its end) may be the last thing written. */
void tap_own_lines(void);
int tap_ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* ok when got == want; prints both when not */
int tap_eq(long got, long want, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* End the run: QEMU exits through isa-debug-exit. */
_Noreturn void tap_done(void);

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* Spin (without yielding) for about n TSC ticks. */
static inline void spin_ticks(uint64_t n)
{
	uint64_t end = rdtsc() + n;
	while (rdtsc() < end)
		;
}

#endif
