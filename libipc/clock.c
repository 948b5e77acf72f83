/* A monotonic clock for programs: the TSC, whose rate is measured once,
 * on first use, against the kernel's 100 Hz timer (SYS_NOTIFY_AFTER on a
 * port of the program's own), and naps on that timer.  QEMU's TSC runs at
 * a constant rate, so one measurement holds.  Not thread-safe on the
 * first call: call clock_ms once before starting threads that use it.
 * A nap waits on the thread's own wake port (tls.c), so threads nap at
 * once, each woken by its own timer; the program's port is for a thread
 * without one. */
#include <libipc/libipc.h>
#include <libipc/ipc.h>
#include <libipc/tls.h>

#define CALIBRATION_TICKS 10      /* 100 ms */

static uint64_t tsc0, tsc_per_ms;
static uint64_t nap_port;

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static int have_port(void)
{
	return nap_port || object_alloc(OBJ_PORT, 0, &nap_port) == E_OK;
}

void clock_nap(unsigned ticks)
{
	struct msg m;
	uint64_t port = thread_wake_port();
	if (!ticks || (!port && !have_port()))
		return;
	port = port ? port : nap_port;
	sys_notify_after(port, 1, ticks);
	ipc_recv(port, 0, &m);
}

static void calibrate(void)
{
	tsc_per_ms = 1000000; /* a guess, should the timer be out of reach */
	if (have_port()) {
		clock_nap(1); /* from a tick's edge */
		uint64_t t = rdtsc();
		clock_nap(CALIBRATION_TICKS);
		uint64_t per_ms = (rdtsc() - t) / (CALIBRATION_TICKS * 10);
		if (per_ms)
			tsc_per_ms = per_ms;
	}
	tsc0 = rdtsc();
}

uint64_t clock_ms(void)
{
	if (!tsc_per_ms)
		calibrate();
	return (rdtsc() - tsc0) / tsc_per_ms;
}

uint64_t clock_us(void)
{
	if (!tsc_per_ms)
		calibrate();
	return (rdtsc() - tsc0) * 1000 / tsc_per_ms;
}
