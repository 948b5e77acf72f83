/* init's clock: the TSC, for the uptimes ps shows and trace_read's
 * times.  The TSC's rate is measured once, on the first request that
 * needs it, against the kernel's 100 Hz timer: that request waits 110 ms,
 * which beats making every boot wait for a figure nobody may ask for.
 * QEMU's TSC runs at a constant rate, so one measurement holds. */
#include <libipc/libipc.h>
#include "tasks.h"

#define CALIBRATION_TICKS 10   /* 100 ms */

static uint64_t per_ms;
static uint64_t init_started;

uint64_t tsc_now(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

void uptime_init(void)
{
	init_started = tsc_now();
}

uint64_t init_started_tsc(void)
{
	return init_started;
}

uint64_t tsc_per_ms(void)
{
	if (!per_ms) {
		clock_nap(1); /* from a tick's edge */
		uint64_t t0 = tsc_now();
		clock_nap(CALIBRATION_TICKS);
		per_ms = (tsc_now() - t0) / (CALIBRATION_TICKS * 10);
		if (!per_ms)
			per_ms = 1;
	}
	return per_ms;
}

uint64_t tsc_to_ms(uint64_t ticks)
{
	return ticks / tsc_per_ms();
}
