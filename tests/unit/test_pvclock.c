/* Host unit tests for servers/vmm/pvclock.c: the paravirtual clock's
 * records.  The test reads them back the way Linux's pvclock code does
 * (arch/x86/include/asm/pvclock.h: the version, then the scaled TSC
 * delta added to the system time; the TSC rate in kHz from the scale),
 * and checks the result against exact arithmetic. */
// unit-under-test: servers/vmm/pvclock.c
#include <stdint.h>
#include <string.h>
#include "unit.h"
#include "../../servers/vmm/pvclock.h"

static uint64_t get(const uint8_t *p, unsigned at, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)p[at + i] << (8 * i);
	return v;
}

/* What a guest computes from the record at TSC value tsc. */
static uint64_t guest_read_ns(const uint8_t *rec, uint64_t tsc)
{
	struct pvclock_scale s = { (uint32_t)get(rec, 24, 4), (int8_t)get(rec, 28, 1) };
	return get(rec, 16, 8) + pvclock_scale_delta(s, tsc - get(rec, 8, 8));
}

/* Linux's pvclock_tsc_khz(): 10^6 * 2^32 / mul, shifted back. */
static uint64_t guest_tsc_khz(const uint8_t *rec)
{
	uint64_t khz = (1000000ULL << 32) / get(rec, 24, 4);
	int8_t shift = (int8_t)get(rec, 28, 1);
	return shift < 0 ? khz << -shift : khz >> shift;
}

static uint64_t exact_ns(uint64_t cycles, uint64_t hz)
{
	return (uint64_t)((unsigned __int128)cycles * 1000000000u / hz);
}

static void test_scale(void)
{
	static const uint64_t rates[] = { 1000000ULL, 33333333ULL, 499999999ULL, 999999999ULL,
	                                  1000000000ULL, 1000000001ULL, 2595684000ULL, 3999999999ULL,
	                                  12000000000ULL, 100000000000ULL };
	for (unsigned i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		uint64_t hz = rates[i];
		struct pvclock_scale s = pvclock_scale(hz);
		CHECK(s.mul >= 0x80000000u, "%lu Hz: the multiplier keeps 31 significant bits (%#x, shift %d)",
		      (unsigned long)hz, s.mul, s.shift);
		/* one hour of cycles: off by at most one part in 10^9 (+1 ns) */
		uint64_t hour = hz * 3600, want = exact_ns(hour, hz), got = pvclock_scale_delta(s, hour);
		uint64_t diff = got > want ? got - want : want - got;
		CHECK(diff <= want / 1000000000u + 1, "%lu Hz: an hour scales to %lu ns (exact %lu)",
		      (unsigned long)hz, (unsigned long)got, (unsigned long)want);
		uint64_t ms = hz / 1000, small = pvclock_scale_delta(s, ms), small_want = exact_ns(ms, hz);
		CHECK(small + 1 >= small_want && small <= small_want, "%lu Hz: about a millisecond of cycles is %lu ns (exact %lu)",
		      (unsigned long)hz, (unsigned long)small, (unsigned long)small_want);
	}
	struct pvclock_scale none = pvclock_scale(0);
	CHECK(none.mul == 0 && none.shift == 0, "an unknown rate gives a zero scale, not a division by zero");
}

static void test_time_info(void)
{
	uint8_t rec[PVCLOCK_TIME_INFO_SIZE];
	memset(rec, 0xaa, sizeof(rec));
	uint64_t hz = 2595684000ULL, tsc0 = 0x123456789abULL;
	pvclock_time_info(rec, 4, tsc0, 0, pvclock_scale(hz), PVCLOCK_FLAG_TSC_STABLE);
	CHECK(get(rec, 0, 4) == 4, "the version is as given (even: the record is complete)");
	CHECK(get(rec, 4, 4) == 0 && get(rec, 30, 2) == 0, "the padding is zero");
	CHECK(get(rec, 8, 8) == tsc0, "tsc_timestamp at offset 8");
	CHECK(get(rec, 29, 1) == PVCLOCK_FLAG_TSC_STABLE, "flags at offset 29: the TSC is stable");
	CHECK(guest_read_ns(rec, tsc0) == 0, "at the timestamp the clock reads the system time");
	uint64_t later = tsc0 + hz * 7 + hz / 2;
	uint64_t ns = guest_read_ns(rec, later);
	CHECK(ns >= 7499999990ULL && ns <= 7500000010ULL, "7.5 s of cycles later it reads %lu ns",
	      (unsigned long)ns);
	uint64_t khz = guest_tsc_khz(rec);
	CHECK(khz >= 2595683 && khz <= 2595685, "the guest derives the TSC's rate: %lu kHz",
	      (unsigned long)khz);
	pvclock_time_info(rec, 6, tsc0, 5000, pvclock_scale(hz), 0);
	CHECK(guest_read_ns(rec, tsc0) == 5000 && get(rec, 29, 1) == 0, "a system time and no flags");

	/* a slow TSC (shift > 0) and a fast one (shift < 0) */
	pvclock_time_info(rec, 2, 0, 0, pvclock_scale(33333333ULL), 0);
	CHECK((int8_t)get(rec, 28, 1) > 0, "a 33 MHz TSC shifts left");
	CHECK(guest_tsc_khz(rec) >= 33332 && guest_tsc_khz(rec) <= 33334, "and the guest reads 33333 kHz (%lu)",
	      (unsigned long)guest_tsc_khz(rec));
	pvclock_time_info(rec, 2, 0, 0, pvclock_scale(12000000000ULL), 0);
	CHECK((int8_t)get(rec, 28, 1) < 0, "a 12 GHz TSC shifts right");
	CHECK(guest_tsc_khz(rec) >= 11999999 && guest_tsc_khz(rec) <= 12000001,
	      "and the guest reads 12000000 kHz (%lu)", (unsigned long)guest_tsc_khz(rec));
}

static void test_wall_clock(void)
{
	uint8_t rec[PVCLOCK_WALL_CLOCK_SIZE];
	uint64_t at_zero = 1795861991ULL * 1000000000ULL + 123456789ULL;
	pvclock_wall_clock(rec, 2, at_zero);
	CHECK(get(rec, 0, 4) == 2, "wall clock: version");
	CHECK(get(rec, 4, 4) == 1795861991ULL, "wall clock: seconds since 1970");
	CHECK(get(rec, 8, 4) == 123456789ULL, "wall clock: nanoseconds");
}

static void test_init(void)
{
	struct pvclock pc;
	memset(&pc, 0x5a, sizeof(pc));
	pvclock_init(&pc);
	CHECK(pc.system_time_msr == 0 && pc.wall_clock_msr == 0 && pc.version == 0,
	      "power-on: both MSRs read zero, nothing registered");
	CHECK(PVCLOCK_KVM_FEATURES == ((1u << 1) | (1u << 3) | (1u << 24)),
	      "the features shown: NOP_IO_DELAY, CLOCKSOURCE2, CLOCKSOURCE_STABLE_BIT, nothing else");
}

int main(void)
{
	test_scale();
	test_time_info();
	test_wall_clock();
	test_init();
	return unit_done();
}
