/* init's clock: the TSC, for the uptimes ps shows and trace_read's
 * times.  The TSC's rate is measured once, on the first request that
 * needs it, against the kernel's 100 Hz timer: that request waits 110 ms,
 * which beats making every boot wait for a figure nobody may ask for.
 * QEMU's TSC runs at a constant rate, so one measurement holds.  The
 * port it naps on is made at start, before the tasks' pools take the
 * memory. */
#include <libipc/libipc.h>
#include <libipc/ipc.h>
#include "tasks.h"

#define CALIBRATION_TICKS 10   /* 100 ms */

static uint64_t per_ms;
static uint64_t init_started;
static uint64_t nap_port;  /* made at start, so that a later lack of memory cannot spoil the measurement */

uint64_t tsc_now(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

void uptime_init(void)
{
	init_started = tsc_now();
	if (object_alloc(OBJ_PORT, 0, &nap_port))
		nap_port = 0;
}

/* Sleep so many timer ticks; 0, or -1 if we cannot. */
static int nap(unsigned ticks)
{
	struct msg m;
	if (!nap_port || sys_notify_after(nap_port, 1, ticks) || ipc_recv(nap_port, 0, &m))
		return -1;
	return 0;
}

uint64_t init_started_tsc(void)
{
	return init_started;
}

uint64_t tsc_per_ms(void)
{
	if (!per_ms) {
		if (nap(1)) /* from a tick's edge */
			return 1000000; /* a guess (a 1 GHz TSC); measured at the next request */
		uint64_t t0 = tsc_now();
		if (nap(CALIBRATION_TICKS))
			return 1000000;
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
