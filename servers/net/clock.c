/*
 * Time and chance for lwIP.  sys_now, in milliseconds, is libipc's
 * monotonic clock (the TSC calibrated against the kernel's timer; main
 * calls it once before any thread starts, as libipc asks).  LWIP_RAND
 * (port/arch/cc.h) is net_random.
 */
#include "net.h"
#include "lwip/sys.h"

static uint64_t random_state;

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

u32_t sys_now(void)
{
	return (u32_t)clock_ms();
}

/* xorshift64*, stirred with the TSC: not for secrets, but unpredictable
 * enough that TCP's initial sequence numbers and ports differ per boot. */
uint32_t net_random(void)
{
	random_state ^= rdtsc() | 1;
	random_state ^= random_state >> 12;
	random_state ^= random_state << 25;
	random_state ^= random_state >> 27;
	return (uint32_t)((random_state * 0x2545f4914f6cdd1dULL) >> 32);
}
