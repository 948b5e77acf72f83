/* Host unit tests for servers/vmm/pit8254.c: the 8254 timer model the
 * VMM gives its guests.  The tests play the guest (port reads and writes
 * at chosen times) and the VMM (pit_update, pit_next_irq), including the
 * sequences Linux uses: its two TSC calibrations on channel 2, its
 * periodic and one-shot clock event device and the PIT clocksource.
 *
 * Time in these tests is mostly counted in input clock ticks; at(t) is
 * the first ns at which tick t has happened. */
// unit-under-test: servers/vmm/pit8254.c
#include <stdint.h>
#include <string.h>
#include "unit.h"
#include "../../servers/vmm/pit8254.h"

/* --- helpers -------------------------------------------------------- */

static uint64_t at(uint64_t tick)
{
	return pit_ticks_to_ns(tick);
}

static uint8_t in(struct pit8254 *p, unsigned port, uint64_t tick)
{
	return pit_io_read(p, port, at(tick));
}

static void out(struct pit8254 *p, unsigned port, uint8_t v, uint64_t tick)
{
	pit_io_write(p, port, v, at(tick));
}

static uint8_t cw(unsigned channel, unsigned access, unsigned mode)
{
	return (uint8_t)(channel << 6 | access << 4 | mode << 1);
}

/* Control word, then the count in LSB/MSB order, all at `tick`. */
static void program(struct pit8254 *p, unsigned ch, unsigned mode, uint16_t count, uint64_t tick)
{
	out(p, PIT_PORT_CONTROL, cw(ch, PIT_RW_LSB_MSB, mode), tick);
	out(p, PIT_PORT_COUNTER0 + ch, (uint8_t)count, tick);
	out(p, PIT_PORT_COUNTER0 + ch, (uint8_t)(count >> 8), tick);
}

/* A counter-latch command and a two-byte read, as Linux's clocksource. */
static uint16_t latched(struct pit8254 *p, unsigned ch, uint64_t tick)
{
	out(p, PIT_PORT_CONTROL, cw(ch, PIT_RW_LATCH, 0), tick);
	uint8_t lo = in(p, PIT_PORT_COUNTER0 + ch, tick);
	uint8_t hi = in(p, PIT_PORT_COUNTER0 + ch, tick);
	return (uint16_t)(lo | hi << 8);
}

static uint8_t status(struct pit8254 *p, unsigned ch, uint64_t tick)
{
	out(p, PIT_PORT_CONTROL, (uint8_t)(0xc0 | PIT_RB_NO_COUNT | PIT_RB_COUNTER(ch)), tick);
	return in(p, PIT_PORT_COUNTER0 + ch, tick);
}

static void setup(struct pit8254 *p)
{
	memset(p, 0, sizeof(*p));
	pit_init(p, 0);
	pit_update(p, 0);
}

/* ------------------------------------------------------------------- */

static void test_time(void)
{
	CHECK(pit_ns_to_ticks(1000000000ull) == PIT_HZ, "1 s is 1193182 ticks");
	CHECK(pit_ticks_to_ns(PIT_HZ) == 1000000000ull, "1193182 ticks is 1 s");
	CHECK(pit_ns_to_ticks(838) == 0 && pit_ns_to_ticks(839) == 1,
	      "the first tick comes at 838.1 ns");
	CHECK(pit_ticks_to_ns(1) == 839, "tick 1 has happened by 839 ns");

	int exact = 1;
	static const uint64_t samples[] = { 1, 2, 255, 65535, 65536, 1193181, 1193183,
					    123456789, 37ull * 24 * 3600 * PIT_HZ + 17,
					    500ull * 365 * 24 * 3600 * PIT_HZ + 99 };
	for (unsigned i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		uint64_t k = samples[i], ns = pit_ticks_to_ns(k);
		if (pit_ns_to_ticks(ns) != k || pit_ns_to_ticks(ns - 1) != k - 1)
			exact = 0;
	}
	CHECK(exact, "ticks_to_ns gives the first ns of each tick, up to 500 years");
	uint64_t year_ns = 365ull * 24 * 3600 * 1000000000ull;
	CHECK(pit_ns_to_ticks(year_ns) == 365ull * 24 * 3600 * PIT_HZ,
	      "no overflow: a year of ns is a year of ticks");
}

static void test_reset(void)
{
	struct pit8254 p;

	setup(&p);
	CHECK(status(&p, 0, 10) == (0x36 | PIT_STATUS_OUT),
	      "reset: channel 0 in mode 3, LSB/MSB, binary, OUT high, count loaded");
	CHECK(status(&p, 1, 10) == (0x34 | PIT_STATUS_OUT), "reset: channel 1 in mode 2");
	CHECK(status(&p, 2, 10) == (0x36 | PIT_STATUS_OUT | PIT_STATUS_NULL_COUNT),
	      "reset: channel 2 in mode 3, not loaded (gate low)");
	CHECK(latched(&p, 1, 1 + 18 * 7 + 5) == 18 - 5, "reset: channel 1 refresh period 18");
	CHECK(latched(&p, 0, 1001) == (uint16_t)(65536 - 2000),
	      "reset: channel 0 counts down by 2 per tick (mode 3, 65536)");
	CHECK(latched(&p, 2, 5000) == 0, "reset: channel 2 stopped");
	CHECK((in(&p, PIT_PORT_B, 5000) & ~PIT_PORTB_REFRESH) == PIT_PORTB_OUT2,
	      "reset: port B: gate 2 and speaker off, OUT2 high (mode 3, idle)");
	CHECK(in(&p, PIT_PORT_CONTROL, 5000) == 0xff, "port 0x43 reads 0xff");
	CHECK(pit_update(&p, at(32768)) == 0, "reset: no IRQ 0 edge in the first half period");
	CHECK(pit_next_irq(&p, at(32768)) == at(65537), "reset: the next edge ends the 18.2 Hz period");
	CHECK(pit_update(&p, at(65537)) == 1, "reset: 18.2 Hz tick");
}

static void test_mode2_counting(void)
{
	struct pit8254 p;
	const uint64_t t0 = 5000;
	int ok = 1;

	setup(&p);
	program(&p, 0, 2, 1000, t0);
	CHECK(latched(&p, 0, t0) == (uint16_t)(65536 - 2 * (t0 - 1)),
	      "before the next clock the CE holds the old count");
	CHECK(status(&p, 0, t0) & PIT_STATUS_NULL_COUNT, "null count until the next clock");
	CHECK(latched(&p, 0, t0 + 1) == 1000, "the count loads on the next clock");
	CHECK(!(status(&p, 0, t0 + 1) & PIT_STATUS_NULL_COUNT), "null count clears on load");
	CHECK(pit_out(&p, 0, at(t0 + 1 + 998)) == 1 && latched(&p, 0, t0 + 1 + 999) == 1 &&
	      pit_out(&p, 0, at(t0 + 1 + 999)) == 0 && pit_out(&p, 0, at(t0 + 1 + 1000)) == 1,
	      "mode 2: OUT low only while the count is 1");
	for (uint64_t k = 1000; k < 5000; k += 7)
		if (latched(&p, 0, t0 + 1 + k) != 1000 - k % 1000)
			ok = 0;
	CHECK(ok, "mode 2: the count read equals 1000 - (elapsed ticks mod 1000)");

	/* A new count while counting: the current period ends first. */
	uint64_t t1 = t0 + 1 + 10000 + 300;
	out(&p, PIT_PORT_COUNTER0, 500 & 0xff, t1);
	out(&p, PIT_PORT_COUNTER0, 500 >> 8, t1);
	CHECK(latched(&p, 0, t1 + 1) == 699, "mode 2: a new count does not cut the period");
	CHECK(latched(&p, 0, t1 + 700) == 500, "mode 2: the new count loads at the period's end");
	CHECK(latched(&p, 0, t1 + 700 + 501) == 499, "mode 2: and runs with the new period");

	/* pit_next_irq sees through a pending count change. */
	uint64_t t2 = t1 + 700 + 500 * 10 + 100;  /* 100 ticks into a period */
	pit_update(&p, at(t2));
	out(&p, PIT_PORT_COUNTER0, 300 & 0xff, t2);
	out(&p, PIT_PORT_COUNTER0, 300 >> 8, t2);
	CHECK(pit_next_irq(&p, at(t2)) == at(t2 + 400), "next IRQ: the current period's end");
	CHECK(pit_update(&p, at(t2 + 400)) == 1 && pit_next_irq(&p, at(t2 + 400)) == at(t2 + 700),
	      "next IRQ: then the new period");
}

static void test_latch_and_flipflop(void)
{
	struct pit8254 p;
	const uint64_t t0 = 100, l = t0 + 1;  /* l: the load tick */

	setup(&p);
	program(&p, 0, 2, 0x1234, t0);
	out(&p, PIT_PORT_CONTROL, cw(0, PIT_RW_LATCH, 0), l + 0x10);
	CHECK(status(&p, 0, l + 0x20) == (0x34 | PIT_STATUS_OUT),
	      "a counter latch does not change the mode or access");
	out(&p, PIT_PORT_CONTROL, cw(0, PIT_RW_LATCH, 0), l + 0x30);
	CHECK(in(&p, PIT_PORT_COUNTER0, l + 0x100) == 0x24, "latched LSB, read later");
	CHECK(in(&p, PIT_PORT_COUNTER0, l + 0x200) == 0x12,
	      "latched MSB; the second latch command was ignored");
	CHECK(in(&p, PIT_PORT_COUNTER0, l + 0x300) == 0x34,
	      "after the latched pair, reads follow the counter again (LSB)");
	CHECK(in(&p, PIT_PORT_COUNTER0, l + 0x400) == 0x0e, "... and MSB");

	/* An odd number of reads leaves the flip-flop on the MSB. */
	CHECK(in(&p, PIT_PORT_COUNTER0, l + 0x430) == 0x04, "unlatched LSB");
	out(&p, PIT_PORT_CONTROL, cw(0, PIT_RW_LATCH, 0), l + 0x440);
	CHECK(in(&p, PIT_PORT_COUNTER0, l + 0x450) == 0x0d,
	      "one flip-flop: the next read is an MSB, latched or not");
	CHECK(in(&p, PIT_PORT_COUNTER0, l + 0x460) == 0xd4,
	      "the latch was released by that MSB read");

	/* Writing a control word resets the flip-flops. */
	in(&p, PIT_PORT_COUNTER0, l + 0x470);
	program(&p, 0, 2, 0x0300, l + 0x480);
	CHECK(latched(&p, 0, l + 0x481) == 0x0300, "control word resets the read flip-flop");

	/* Reads and writes have separate flip-flops: the sequence the
	 * data sheet allows, read LSB, write LSB, read MSB, write MSB. */
	const uint64_t t1 = l + 0x481 + 0x300 * 5 + 0x123;  /* count 0x300 - 0x123 = 0x1dd */
	CHECK(in(&p, PIT_PORT_COUNTER0, t1) == 0xdd, "read LSB");
	out(&p, PIT_PORT_COUNTER0, 0x00, t1);
	CHECK(in(&p, PIT_PORT_COUNTER0, t1) == 0x01, "write LSB, read MSB");
	out(&p, PIT_PORT_COUNTER0, 0x02, t1);
	CHECK(latched(&p, 0, t1 + 0x1dd - 1) == 1 && latched(&p, 0, t1 + 0x1dd) == 0x0200 &&
	      latched(&p, 0, t1 + 0x1dd + 1) == 0x01ff,
	      "write MSB: the new count 0x200 loads at the end of the period");

	/* LSB-only and MSB-only access. */
	out(&p, PIT_PORT_CONTROL, cw(2, PIT_RW_LSB, 0), 20000);
	out(&p, PIT_PORT_COUNTER2, 0x80, 20000);
	out(&p, PIT_PORT_B, PIT_PORTB_GATE2, 20000);
	CHECK(in(&p, PIT_PORT_COUNTER2, 20001) == 0x80, "LSB access: count = byte");
	CHECK(in(&p, PIT_PORT_COUNTER2, 20011) == 0x76, "LSB access: every read is the LSB");
	out(&p, PIT_PORT_CONTROL, cw(2, PIT_RW_MSB, 0), 20100);
	out(&p, PIT_PORT_COUNTER2, 0x02, 20100);
	CHECK(in(&p, PIT_PORT_COUNTER2, 20101) == 0x02, "MSB access: count = byte << 8");
	CHECK(latched(&p, 2, 20102) == 0x0101, "MSB access: the latch gives the MSB, then it is free");
	CHECK(in(&p, PIT_PORT_COUNTER2, 20101 + 0x100) == 0x01, "MSB access: live MSB");
}

static void test_readback(void)
{
	struct pit8254 p;

	setup(&p);
	out(&p, PIT_PORT_B, PIT_PORTB_GATE2, 10);
	out(&p, PIT_PORT_CONTROL, 0xb1, 10);  /* ch 2, LSB/MSB, mode 0, BCD */
	CHECK(status(&p, 2, 11) == (0x31 | PIT_STATUS_NULL_COUNT),
	      "status after the control word: mode 0 OUT low, null count");
	out(&p, PIT_PORT_COUNTER2, 0x00, 12);
	out(&p, PIT_PORT_COUNTER2, 0x01, 12);
	CHECK(status(&p, 2, 12) == (0x31 | PIT_STATUS_NULL_COUNT), "null count until the load");
	CHECK(status(&p, 2, 13) == 0x31, "null count clears on the next clock");
	CHECK(status(&p, 2, 13 + 100) == (0x31 | PIT_STATUS_OUT),
	      "OUT high after 100 (BCD 0100) ticks");

	/* Count and status of two counters at once; status reads first. */
	program(&p, 0, 2, 1000, 200);
	out(&p, PIT_PORT_CONTROL, 0xc0 | PIT_RB_COUNTER(0) | PIT_RB_COUNTER(2), 201 + 10);
	out(&p, PIT_PORT_CONTROL, 0xc0 | PIT_RB_COUNTER(0), 201 + 50);  /* ignored */
	CHECK(in(&p, PIT_PORT_COUNTER0, 400) == (0x34 | PIT_STATUS_OUT), "read-back: status first");
	CHECK(in(&p, PIT_PORT_COUNTER0, 400) == (990 & 0xff), "read-back: then count LSB");
	CHECK(in(&p, PIT_PORT_COUNTER0, 400) == (990 >> 8), "read-back: and MSB");
	CHECK(in(&p, PIT_PORT_COUNTER2, 400) == (0x31 | PIT_STATUS_OUT),
	      "read-back latched counter 2 at the same time");
	/* Counter 2 loaded 100 (BCD) at tick 13; at 211 it is 198 ticks on. */
	CHECK(in(&p, PIT_PORT_COUNTER2, 400) == 0x02 && in(&p, PIT_PORT_COUNTER2, 400) == 0x99,
	      "BCD: 100 - 198 wraps to 9902");
	out(&p, PIT_PORT_CONTROL, 0xc0 | PIT_RB_NO_STATUS | PIT_RB_COUNTER(0), 420);
	out(&p, PIT_PORT_CONTROL, 0xc0 | PIT_RB_NO_COUNT | PIT_RB_COUNTER(0), 430);
	CHECK(in(&p, PIT_PORT_COUNTER0, 500) == (0x34 | PIT_STATUS_OUT),
	      "a status latched after the count still reads first");
	CHECK(in(&p, PIT_PORT_COUNTER0, 500) == (1000 - 219) % 256 &&
	      in(&p, PIT_PORT_COUNTER0, 500) == (1000 - 219) / 256,
	      "then the count, latched before it");
}

static void test_mode0_and_irq(void)
{
	struct pit8254 p;
	const uint64_t t0 = 1000, n = 500;

	setup(&p);
	out(&p, PIT_PORT_CONTROL, 0x30, t0);  /* ch 0, LSB/MSB, mode 0 */
	CHECK(pit_out(&p, 0, at(t0)) == 0, "mode 0: the control word drops OUT");
	uint16_t held = latched(&p, 0, t0);
	CHECK(latched(&p, 0, t0 + 5000) == held, "mode 0: the control word alone stops the count");
	CHECK(pit_update(&p, at(t0 + 70000)) == 0 && pit_next_irq(&p, at(t0 + 70000)) == UINT64_MAX,
	      "mode 0 without a count: no interrupt, none due");

	uint64_t t1 = t0 + 70000;
	out(&p, PIT_PORT_COUNTER0, (uint8_t)n, t1);
	out(&p, PIT_PORT_COUNTER0, (uint8_t)(n >> 8), t1);
	CHECK(pit_next_irq(&p, at(t1)) == at(t1 + 1 + n),
	      "mode 0: IRQ 0 due n+1 ticks after the count is written");
	CHECK(latched(&p, 0, t1 + 1) == n && latched(&p, 0, t1 + 1 + n - 1) == 1, "mode 0 counts down");
	CHECK(pit_update(&p, at(t1 + n)) == 0 && pit_out(&p, 0, at(t1 + n)) == 0,
	      "no edge before terminal count, OUT low");
	CHECK(pit_update(&p, at(t1 + n + 1) - 1) == 0, "no edge 1 ns before");
	CHECK(pit_update(&p, at(t1 + n + 1)) == 1 && pit_out(&p, 0, at(t1 + n + 1)) == 1,
	      "one edge at terminal count, OUT high");
	CHECK(pit_next_irq(&p, at(t1 + n + 1)) == UINT64_MAX, "mode 0: one-shot, nothing more due");
	CHECK(latched(&p, 0, t1 + n + 2) == 0xffff, "mode 0: the count wraps after terminal count");
	CHECK(pit_update(&p, at(t1 + 200000)) == 0 && pit_out(&p, 0, at(t1 + 200000)) == 1,
	      "mode 0: OUT stays high through the wrap, no more edges");

	/* A new count re-arms. */
	uint64_t t2 = t1 + 200000;
	out(&p, PIT_PORT_COUNTER0, 100, t2);
	CHECK(pit_out(&p, 0, at(t2)) == 0, "mode 0: the first byte of a new count drops OUT");
	uint16_t c = latched(&p, 0, t2);
	CHECK(latched(&p, 0, t2 + 50) == c, "mode 0: and stops the count until the second byte");
	out(&p, PIT_PORT_COUNTER0, 0, t2 + 50);
	CHECK(pit_next_irq(&p, at(t2 + 50)) == at(t2 + 50 + 101), "mode 0 re-armed");
	/* Rewritten before it fires: only the new count matters. */
	out(&p, PIT_PORT_COUNTER0, 200, t2 + 100);
	out(&p, PIT_PORT_COUNTER0, 0, t2 + 100);
	CHECK(pit_update(&p, at(t2 + 151)) == 0, "a rewritten count cancels the old expiry");
	CHECK(pit_next_irq(&p, at(t2 + 151)) == at(t2 + 100 + 201), "and the new one is due");
	CHECK(pit_update(&p, at(t2 + 301)) == 1, "the new expiry interrupts");
}

static void test_mode4_oneshot(void)
{
	struct pit8254 p;

	setup(&p);
	/* Linux's one-shot clock event device: 0x38 once, then each event
	 * is a count written to channel 0. */
	out(&p, PIT_PORT_CONTROL, 0x38, 1000);
	CHECK(pit_out(&p, 0, at(1000)) == 1, "mode 4: OUT high after the control word");
	pit_update(&p, at(1000));
	CHECK(pit_next_irq(&p, at(2000)) == UINT64_MAX, "mode 4 without a count: nothing due");
	out(&p, PIT_PORT_COUNTER0, 100, 2000);
	out(&p, PIT_PORT_COUNTER0, 0, 2000);
	CHECK(pit_next_irq(&p, at(2000)) == at(2000 + 102),
	      "mode 4: IRQ at the end of the strobe, count + 2 ticks after the write");
	CHECK(pit_out(&p, 0, at(2100)) == 1 && pit_update(&p, at(2100)) == 0 &&
	      pit_out(&p, 0, at(2101)) == 0 && pit_update(&p, at(2101)) == 0 &&
	      pit_out(&p, 0, at(2102)) == 1 && pit_update(&p, at(2102)) == 1,
	      "mode 4: OUT low for one tick at count 0, one edge as it ends");
	CHECK(pit_next_irq(&p, at(2102)) == UINT64_MAX, "mode 4: no second strobe");
	CHECK(pit_update(&p, at(2000 + 70000)) == 0, "mode 4: not after the wrap either");

	/* Re-arm before expiry (a new next_event). */
	out(&p, PIT_PORT_COUNTER0, 0x00, 80000);
	out(&p, PIT_PORT_COUNTER0, 0x10, 80000);  /* 4096 */
	out(&p, PIT_PORT_COUNTER0, 0x0f, 80010);
	out(&p, PIT_PORT_COUNTER0, 0x00, 80010);  /* 15, Linux's minimum */
	CHECK(pit_next_irq(&p, at(80010)) == at(80010 + 17), "mode 4: a new count re-arms");
	CHECK(pit_update(&p, at(80010 + 17)) == 1 && pit_update(&p, at(90000)) == 0,
	      "only the later count fires");

	/* The maximum Linux programs, 0x7fff. */
	out(&p, PIT_PORT_COUNTER0, 0xff, 100000);
	out(&p, PIT_PORT_COUNTER0, 0x7f, 100000);
	CHECK(pit_next_irq(&p, at(100001)) == at(100000 + 0x7fff + 2), "mode 4: the longest event");

	/* Shutdown: mode 0 with count 0 gives one interrupt 65537 ticks on. */
	out(&p, PIT_PORT_CONTROL, 0x30, 110000);
	out(&p, PIT_PORT_COUNTER0, 0, 110000);
	out(&p, PIT_PORT_COUNTER0, 0, 110000);
	CHECK(pit_update(&p, at(110000 + 0x7fff + 2)) == 0, "shutdown cancels the pending event");
	CHECK(pit_next_irq(&p, at(110001)) == at(110000 + 65537),
	      "shutdown: count 0 is 65536, one last interrupt as on the chip");
}

static void test_periodic_no_burst(void)
{
	struct pit8254 p;
	const uint64_t latch = 4773;  /* Linux with HZ = 250 */
	const uint64_t t0 = 50;
	int ok = 1;

	setup(&p);
	out(&p, PIT_PORT_CONTROL, 0x34, t0);
	out(&p, PIT_PORT_COUNTER0, latch & 0xff, t0);
	out(&p, PIT_PORT_COUNTER0, latch >> 8, t0);
	pit_update(&p, at(t0));
	uint64_t now = at(t0);
	for (unsigned k = 1; k <= 20; k++) {
		uint64_t next = pit_next_irq(&p, now);
		if (next != at(t0 + 1 + k * latch))
			ok = 0;
		if (pit_update(&p, next - 1) != 0 || pit_update(&p, next) != 1)
			ok = 0;
		now = next;
	}
	CHECK(ok, "mode 2: one edge per period, each announced exactly by pit_next_irq");

	/* The VMM looks late, after ten periods: it is told ten edges (to
	 * raise IRQ 0 once), and the next one is in the future. */
	uint64_t late = at(t0 + 1 + 30 * latch + 7);
	CHECK(pit_update(&p, late) == 10, "late look: ten edges reported in one number");
	CHECK(pit_update(&p, late) == 0, "and reported once");
	CHECK(pit_next_irq(&p, late) == at(t0 + 1 + 31 * latch),
	      "late look: the next edge is the next period's, no replay");

	/* Square wave (BIOS default, and some other OSes). */
	program(&p, 0, 3, 1001, 1000000);
	pit_update(&p, at(1000000));
	CHECK(latched(&p, 0, 1000001) == 1001 && latched(&p, 0, 1000002) == 1000 &&
	      latched(&p, 0, 1000003) == 998 && latched(&p, 0, 1000001 + 500) == 2 &&
	      latched(&p, 0, 1000001 + 501) == 1001 && latched(&p, 0, 1000001 + 502) == 998,
	      "mode 3, odd count: n, n-1, then by 2; low half n, n-3, then by 2");
	CHECK(pit_out(&p, 0, at(1001002 + 500)) == 1 && pit_out(&p, 0, at(1001002 + 501)) == 0 &&
	      pit_out(&p, 0, at(1001002 + 1000)) == 0 && pit_out(&p, 0, at(1001002 + 1001)) == 1,
	      "mode 3, odd count: high (n+1)/2, low (n-1)/2");
	pit_update(&p, at(1001002 + 1001));
	CHECK(pit_update(&p, at(1001002 + 6 * 1001)) == 5, "mode 3: one rising edge per period");
	program(&p, 0, 3, 1000, 2000000);
	CHECK(latched(&p, 0, 2000001 + 99) == 1000 - 198, "mode 3, even count: by 2");
	/* A new count in mode 3 waits for the end of the half-cycle. */
	out(&p, PIT_PORT_COUNTER0, 100, 2000001 + 100);
	out(&p, PIT_PORT_COUNTER0, 0, 2000001 + 100);
	CHECK(latched(&p, 0, 2000001 + 499) == 2 && pit_out(&p, 0, at(2000001 + 499)) == 1,
	      "mode 3: the half-cycle runs to its end");
	CHECK(latched(&p, 0, 2000001 + 500) == 100 && pit_out(&p, 0, at(2000001 + 500)) == 0 &&
	      pit_out(&p, 0, at(2000001 + 550)) == 1,
	      "mode 3: the new count starts with the low half");
}

static void test_count_zero(void)
{
	struct pit8254 p;

	setup(&p);
	program(&p, 0, 2, 0, 10);
	pit_update(&p, at(10));
	CHECK(latched(&p, 0, 11) == 0 && latched(&p, 0, 12) == 0xffff,
	      "count 0: loads as 0 (65536), then 0xffff");
	CHECK(pit_next_irq(&p, at(12)) == at(11 + 65536), "count 0: period 65536 in mode 2");
	program(&p, 0, 0, 0, 100000);
	pit_update(&p, at(100000));
	CHECK(pit_next_irq(&p, at(100000)) == at(100001 + 65536), "count 0: mode 0 fires after 65536");

	/* BCD: count 0 is 10000, values read in BCD. */
	out(&p, PIT_PORT_CONTROL, 0x35, 300000);  /* mode 2, BCD */
	out(&p, PIT_PORT_COUNTER0, 0, 300000);
	out(&p, PIT_PORT_COUNTER0, 0, 300000);
	CHECK(latched(&p, 0, 300001) == 0x0000 && latched(&p, 0, 300002) == 0x9999 &&
	      latched(&p, 0, 300001 + 1234) == 0x8766, "BCD count 0 is 10000");
	pit_update(&p, at(300002));
	CHECK(pit_next_irq(&p, at(300002)) == at(300001 + 10000), "BCD: period 10000");
	out(&p, PIT_PORT_CONTROL, 0x35, 400000);
	out(&p, PIT_PORT_COUNTER0, 0x00, 400000);
	out(&p, PIT_PORT_COUNTER0, 0x10, 400000);  /* BCD 1000 */
	CHECK(latched(&p, 0, 400002) == 0x0999, "BCD 1000 - 1 reads 0999");
	pit_update(&p, at(400002));
	CHECK(pit_next_irq(&p, at(400002)) == at(400001 + 1000), "BCD 1000 is a period of 1000");
}

static void test_gate(void)
{
	struct pit8254 p;

	setup(&p);
	/* Mode 0, GATE low: the count loads but holds. */
	out(&p, PIT_PORT_CONTROL, 0xb0, 100);
	out(&p, PIT_PORT_COUNTER2, 0x00, 100);
	out(&p, PIT_PORT_COUNTER2, 0x01, 100);  /* 256 */
	CHECK(latched(&p, 2, 5000) == 256, "mode 0, GATE low: loaded and held");
	out(&p, PIT_PORT_B, PIT_PORTB_GATE2, 5000);
	CHECK(latched(&p, 2, 5100) == 156, "GATE high: counting");
	out(&p, PIT_PORT_B, 0, 5100);
	CHECK(latched(&p, 2, 9000) == 156, "GATE low again: held");
	out(&p, PIT_PORT_B, PIT_PORTB_GATE2, 9000);
	CHECK(pit_out(&p, 2, at(9155)) == 0 && pit_out(&p, 2, at(9156)) == 1,
	      "resumes where it stopped; OUT high at terminal count");
	CHECK(in(&p, PIT_PORT_B, 9156) & PIT_PORTB_OUT2, "OUT2 shows in port B bit 5");

	/* Mode 2: GATE low forces OUT high and holds; GATE high reloads. */
	out(&p, PIT_PORT_CONTROL, 0xb4, 10000);
	out(&p, PIT_PORT_COUNTER2, 100, 10000);
	out(&p, PIT_PORT_COUNTER2, 0, 10000);
	CHECK(pit_out(&p, 2, at(10001 + 99)) == 0, "mode 2: OUT low at count 1");
	out(&p, PIT_PORT_B, 0, 10001 + 99);
	CHECK(pit_out(&p, 2, at(10001 + 99)) == 1, "mode 2: GATE low forces OUT high at once");
	CHECK(latched(&p, 2, 10500) == 1, "mode 2: the count holds while GATE is low");
	out(&p, PIT_PORT_B, PIT_PORTB_GATE2, 20000);
	CHECK(latched(&p, 2, 20001) == 100 && latched(&p, 2, 20011) == 90,
	      "mode 2: GATE high reloads on the next clock");

	/* Mode 1: a hardware one-shot, triggered by GATE rising. */
	out(&p, PIT_PORT_B, 0, 30000);
	out(&p, PIT_PORT_CONTROL, 0xb2, 30000);
	out(&p, PIT_PORT_COUNTER2, 50, 30000);
	out(&p, PIT_PORT_COUNTER2, 0, 30000);
	CHECK(pit_out(&p, 2, at(30100)) == 1, "mode 1: OUT high until triggered");
	out(&p, PIT_PORT_B, PIT_PORTB_GATE2, 30100);
	CHECK(pit_out(&p, 2, at(30100)) == 1 && pit_out(&p, 2, at(30101)) == 0,
	      "mode 1: OUT low from the clock after the trigger");
	CHECK(pit_out(&p, 2, at(30150)) == 0 && pit_out(&p, 2, at(30151)) == 1,
	      "mode 1: high again after n ticks");
	out(&p, PIT_PORT_B, 0, 30200);
	CHECK(pit_out(&p, 2, at(30300)) == 1, "mode 1: GATE low does nothing");
	out(&p, PIT_PORT_B, PIT_PORTB_GATE2, 30300);
	out(&p, PIT_PORT_B, 0, 30330);
	out(&p, PIT_PORT_B, PIT_PORTB_GATE2, 30330);  /* retrigger */
	CHECK(pit_out(&p, 2, at(30351)) == 0 && pit_out(&p, 2, at(30381)) == 1,
	      "mode 1: retriggering restarts the one-shot");

	/* Mode 5: hardware strobe. */
	out(&p, PIT_PORT_CONTROL, 0xba, 40000);
	out(&p, PIT_PORT_COUNTER2, 20, 40000);
	out(&p, PIT_PORT_COUNTER2, 0, 40000);
	out(&p, PIT_PORT_B, 0, 40010);
	CHECK(pit_out(&p, 2, at(40100)) == 1, "mode 5: no strobe before a trigger");
	out(&p, PIT_PORT_B, PIT_PORTB_GATE2, 40100);
	CHECK(pit_out(&p, 2, at(40120)) == 1 && pit_out(&p, 2, at(40121)) == 0 &&
	      pit_out(&p, 2, at(40122)) == 1, "mode 5: one-tick strobe n ticks after the load");

	/* Channel 0's gate is tied high: mode 1 never starts there. */
	program(&p, 0, 1, 10, 50000);
	pit_update(&p, at(50000));
	CHECK(pit_next_irq(&p, at(50000)) == UINT64_MAX && pit_update(&p, at(60000)) == 0,
	      "mode 1 on channel 0 never triggers");
}

static void test_port_b(void)
{
	struct pit8254 p;

	setup(&p);
	uint8_t a = in(&p, PIT_PORT_B, 10), b = in(&p, PIT_PORT_B, 10);
	CHECK((a ^ b) == PIT_PORTB_REFRESH, "bit 4 toggles on every read");
	out(&p, PIT_PORT_B, 0xff, 20);
	uint8_t v = in(&p, PIT_PORT_B, 20);
	CHECK((v & 0x0f) == 0x0f, "bits 0-3 are stored");
	CHECK((v & 0xc0) == 0, "bits 6-7 (NMI sources) read 0 and are not writable");
	out(&p, PIT_PORT_B, 0x02, 30);
	CHECK((in(&p, PIT_PORT_B, 30) & 0x0f) == 0x02, "speaker bit alone");

	/* OUT2 follows channel 2 in mode 0. */
	out(&p, PIT_PORT_B, PIT_PORTB_GATE2, 100);
	program(&p, 2, 0, 10, 100);
	CHECK(!(in(&p, PIT_PORT_B, 110) & PIT_PORTB_OUT2), "OUT2 low while counting");
	CHECK(in(&p, PIT_PORT_B, 111) & PIT_PORTB_OUT2, "OUT2 high at terminal count");
}

static void test_edges_from_accesses(void)
{
	struct pit8254 p;

	setup(&p);
	program(&p, 0, 0, 1000, 100);
	pit_update(&p, at(100));
	/* Mode 0 with OUT low, then a control word for mode 2: OUT rises
	 * at once, and the 8259 sees that edge. */
	out(&p, PIT_PORT_CONTROL, 0x34, 200);
	CHECK(pit_update(&p, at(200)) == 1, "a control word that raises OUT is an edge");
	CHECK(pit_next_irq(&p, at(200)) == UINT64_MAX, "mode 2 without a count: nothing due");
	/* Monotonic time: a late `now` is taken as no time passing. */
	out(&p, PIT_PORT_COUNTER0, 100, 300);
	out(&p, PIT_PORT_COUNTER0, 0, 300);
	uint16_t c = latched(&p, 0, 350);
	CHECK(latched(&p, 0, 320) == c, "time never runs backwards");
}

/* Linux's quick_pit_calibrate() (arch/x86/kernel/tsc.c), played with
 * each port access taking `access_ns` of guest time and the TSC being
 * the ns clock itself.  Returns the measured rate in ns per PIT tick
 * (times 1000), or 0 if Linux would report "Fast TSC calibration
 * failed".  Also checks that the MSB values came in order. */
struct guest {
	struct pit8254 pit;
	uint64_t now;
	uint64_t access_ns;
};

static uint8_t g_in(struct guest *g, unsigned port)
{
	g->now += g->access_ns;
	return pit_io_read(&g->pit, port, g->now);
}

static void g_out(struct guest *g, unsigned port, uint8_t v)
{
	g->now += g->access_ns;
	pit_io_write(&g->pit, port, v, g->now);
}

static int verify_msb(struct guest *g, uint8_t val)
{
	g_in(g, 0x42);
	return g_in(g, 0x42) == val;
}

static int expect_msb(struct guest *g, uint8_t val, uint64_t *tscp, uint64_t *deltap, int *reads)
{
	int count;
	uint64_t tsc = 0, prev_tsc = 0;

	for (count = 0; count < 50000; count++) {
		if (!verify_msb(g, val))
			break;
		prev_tsc = tsc;
		tsc = g->now;
	}
	*deltap = g->now - prev_tsc;
	*tscp = tsc;
	*reads = count;
	return count > 5;
}

#define QUICK_ITERATIONS (50 * PIT_HZ / 1000 / 256)

static uint64_t quick_pit_calibrate(struct guest *g, int *min_reads)
{
	uint64_t tsc, delta, d1, d2;
	int reads;

	*min_reads = 1 << 30;
	g_out(g, 0x61, (uint8_t)((g_in(g, 0x61) & ~0x02) | 0x01));
	g_out(g, 0x43, 0xb0);
	g_out(g, 0x42, 0xff);
	g_out(g, 0x42, 0xff);
	verify_msb(g, 0);
	if (!expect_msb(g, 0xff, &tsc, &d1, &reads))
		return 0;
	*min_reads = reads;
	for (unsigned i = 1; i <= QUICK_ITERATIONS; i++) {
		if (!expect_msb(g, (uint8_t)(0xff - i), &delta, &d2, &reads))
			return 0;
		if (reads < *min_reads)
			*min_reads = reads;
		delta -= tsc;
		if (i == 1 && d1 + d2 >= (delta * QUICK_ITERATIONS) >> 11)
			return 0;
		if (d1 + d2 >= delta >> 11)
			continue;
		if (!verify_msb(g, (uint8_t)(0xfe - i)))
			return 0;
		/* Linux: delta TSC cycles over i * 256 PIT ticks. */
		return delta * 1000 / (i * 256);
	}
	return 0;
}

static void test_quick_pit_calibrate(void)
{
	struct guest g;
	int min_reads;

	/* First the plain shape: MSB reads as time advances in small steps. */
	memset(&g, 0, sizeof(g));
	pit_init(&g.pit, 0);
	g.now = 12345678;
	g.access_ns = 700;
	g_out(&g, 0x61, (uint8_t)((g_in(&g, 0x61) & ~0x02) | 0x01));
	g_out(&g, 0x43, 0xb0);
	g_out(&g, 0x42, 0xff);
	g_out(&g, 0x42, 0xff);
	int steady = 1, seen_all = 1;
	unsigned expect = 0xff, runs = 0;
	for (int i = 0; i < 60000; i++) {
		g_in(&g, 0x42);
		unsigned msb = g_in(&g, 0x42);
		if (msb == expect) {
			runs++;
		} else if (msb == expect - 1 && runs > 5) {
			expect = msb;
			runs = 1;
		} else {
			steady = 0;
			break;
		}
		if (expect == 0x10)
			break;
	}
	if (expect != 0x10)
		seen_all = 0;
	CHECK(steady && seen_all, "channel 2 MSB steps down one at a time, each seen many times");

	/* The whole of quick_pit_calibrate() at several exit costs; the
	 * measured ns per tick must be 1e9 / 1193182 = 838.095 within
	 * Linux's 500 ppm. */
	static const uint64_t costs[] = { 300, 1000, 2000, 3000 };
	for (unsigned i = 0; i < sizeof(costs) / sizeof(costs[0]); i++) {
		memset(&g, 0, sizeof(g));
		pit_init(&g.pit, 0);
		g.now = 1000000000ull * (i + 1) + 77;
		g.access_ns = costs[i];
		uint64_t r = quick_pit_calibrate(&g, &min_reads);
		CHECK(r > 838095 - 420 && r < 838095 + 420,
		      "quick_pit_calibrate with %lu ns per port access: %lu.%03lu ns per tick, "
		      "at least %d reads per MSB", (unsigned long)costs[i],
		      (unsigned long)(r / 1000), (unsigned long)(r % 1000), min_reads);
	}
}

/* Linux's slower fallback, pit_calibrate_tsc(): mode 0 with 10 ms,
 * polling OUT2 in port B bit 5. */
static void test_pit_calibrate_tsc(void)
{
	struct guest g;
	const unsigned latch = PIT_HZ / 100;

	memset(&g, 0, sizeof(g));
	pit_init(&g.pit, 0);
	g.now = 5000000;
	g.access_ns = 2000;
	g_out(&g, 0x61, (uint8_t)((g_in(&g, 0x61) & ~0x02) | 0x01));
	g_out(&g, 0x43, 0xb0);
	g_out(&g, 0x42, (uint8_t)latch);
	g_out(&g, 0x42, (uint8_t)(latch >> 8));
	uint64_t t1 = g.now;
	unsigned loops = 0;
	while (!(g_in(&g, 0x61) & 0x20))
		loops++;
	uint64_t elapsed = g.now - t1;
	CHECK(elapsed >= 10000000 - 4000 && elapsed <= 10000000 + 4000,
	      "pit_calibrate_tsc: OUT2 rises 10 ms after the count (%lu ns, %u polls)",
	      (unsigned long)elapsed, loops);
}

/* Linux's "pit" clocksource reads channel 0 (mode 2) with a latch. */
static void test_clocksource_reads(void)
{
	struct pit8254 p;
	const uint16_t latch = 4773;
	int ok = 1;

	setup(&p);
	program(&p, 0, 2, latch, 0);
	uint16_t prev = latched(&p, 0, 1);
	for (uint64_t t = 2; t < 1 + latch; t += 13) {
		uint16_t c = latched(&p, 0, t);
		if (c > prev || c != latch - (t - 1))
			ok = 0;
		prev = c;
	}
	CHECK(ok, "clocksource: latched reads fall with time through a period, never above LATCH");
}

int main(void)
{
	test_time();
	test_reset();
	test_mode2_counting();
	test_latch_and_flipflop();
	test_readback();
	test_mode0_and_irq();
	test_mode4_oneshot();
	test_periodic_no_burst();
	test_count_zero();
	test_gate();
	test_port_b();
	test_edges_from_accesses();
	test_quick_pit_calibrate();
	test_pit_calibrate_tsc();
	test_clocksource_reads();
	return unit_done();
}
