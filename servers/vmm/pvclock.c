/* The paravirtual clock's records (pvclock.h): pure arithmetic and
 * layout, so the unit test checks them against what Linux computes. */
#include "pvclock.h"

void pvclock_init(struct pvclock *pc)
{
	pc->system_time_msr = 0;
	pc->wall_clock_msr = 0;
	pc->version = 0;
}

/* mul/2^32 * 2^shift is 10^9/tsc_hz, with mul in [2^31, 2^32) so that
 * it keeps 31 significant bits (a drift below one part in 10^9). */
struct pvclock_scale pvclock_scale(uint64_t tsc_hz)
{
	struct pvclock_scale s = { 0, 0 };
	if (!tsc_hz)
		return s;
	unsigned __int128 num = 1000000000u, den = tsc_hz;
	int shift = 0;
	while (num >= den) {        /* a rate below 1 GHz: more than 1 ns per cycle */
		den <<= 1;
		shift++;
	}
	while (num * 2 < den) {
		num <<= 1;
		shift--;
	}
	s.mul = (uint32_t)((num << 32) / den);
	s.shift = (int8_t)shift;
	return s;
}

uint64_t pvclock_scale_delta(struct pvclock_scale s, uint64_t cycles)
{
	if (s.shift < 0)
		cycles >>= -s.shift;
	else
		cycles <<= s.shift;
	return (uint64_t)(((unsigned __int128)cycles * s.mul) >> 32);
}

static void put(uint8_t *out, unsigned at, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		out[at + i] = (uint8_t)(v >> (8 * i));
}

/* Layout (little-endian): version u32, pad u32, tsc_timestamp u64,
 * system_time u64, tsc_to_system_mul u32, tsc_shift s8, flags u8, pad. */
void pvclock_time_info(uint8_t out[PVCLOCK_TIME_INFO_SIZE], uint32_t version, uint64_t tsc,
                       uint64_t system_ns, struct pvclock_scale s, uint8_t flags)
{
	for (unsigned i = 0; i < PVCLOCK_TIME_INFO_SIZE; i++)
		out[i] = 0;
	put(out, 0, version, 4);
	put(out, 8, tsc, 8);
	put(out, 16, system_ns, 8);
	put(out, 24, s.mul, 4);
	put(out, 28, (uint8_t)s.shift, 1);
	put(out, 29, flags, 1);
}

/* Layout: version u32, sec u32, nsec u32. */
void pvclock_wall_clock(uint8_t out[PVCLOCK_WALL_CLOCK_SIZE], uint32_t version, uint64_t unix_ns_at_zero)
{
	put(out, 0, version, 4);
	put(out, 4, unix_ns_at_zero / 1000000000u, 4);
	put(out, 8, unix_ns_at_zero % 1000000000u, 4);
}
