/* One rep outsb to port 0x80 with RCX = 2^64 - 1: a single instruction
 * that would keep the VMM busy for ever if it did not bound the work per
 * exit (tests/system/fair_outs.c). */
#include "flood.h"

static void outsb_forever(void)
{
	uint64_t rcx = ~0UL, rsi = 0x100000;
	__asm__ volatile("rep outsb" : "+c"(rcx), "+S"(rsi) : "d"(0x80) : "memory");
}

int main(void)
{
	flood_run(outsb_forever);
	return 0;
}
