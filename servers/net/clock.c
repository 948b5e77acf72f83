/*
 * Time for lwIP (sys_now, in milliseconds) and for the waits of calls:
 * the TSC, whose rate is measured once at start against the kernel's
 * 100 Hz timer (SYS_NOTIFY_AFTER), as the VMM does.  QEMU's TSC runs at
 * a constant rate, so one measurement holds.  Monotonic by construction.
 */
#include "net.h"
#include "lwip/sys.h"

#define CALIBRATION_TICKS 10      /* 100 ms */

static uint64_t tsc0, tsc_per_ms = 1000000, random_state;

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

void clock_init(void)
{
	uint64_t port;
	struct msg m;
	if (object_alloc(OBJ_PORT, 0, &port) == E_OK) {
		/* from a tick edge to a later one */
		sys_notify_after(port, 1, 1);
		ipc_recv(port, 0, &m);
		uint64_t t = rdtsc();
		sys_notify_after(port, 1, CALIBRATION_TICKS);
		ipc_recv(port, 0, &m);
		uint64_t per_ms = (rdtsc() - t) / (CALIBRATION_TICKS * 10);
		if (per_ms)
			tsc_per_ms = per_ms;
		sys_cnode_delete(port);
		slot_free(port);
	}
	tsc0 = rdtsc();
	random_state = tsc0 ^ 0x9e3779b97f4a7c15ULL;
}

uint64_t now_ms(void)
{
	return (rdtsc() - tsc0) / tsc_per_ms;
}

uint64_t now_us(void)
{
	return (rdtsc() - tsc0) * 1000 / tsc_per_ms;
}

u32_t sys_now(void)
{
	return (u32_t)now_ms();
}

/* xorshift64*, stirred with the TSC: not for secrets, but unpredictable
 * enough that TCP's initial sequence numbers and ports differ per boot. */
uint32_t net_random(void)
{
	random_state ^= rdtsc();
	random_state ^= random_state >> 12;
	random_state ^= random_state << 25;
	random_state ^= random_state >> 27;
	return (uint32_t)((random_state * 0x2545f4914f6cdd1dULL) >> 32);
}
