/* The host clock server (servers/drivers/rtc) reads QEMU's CMOS clock,
 * which QEMU sets from the host's clock in UTC (-rtc base=utc, its
 * default), and serves it as "clock".  The runner cannot hand us the
 * host's time, so the test checks that the answer is a plausible date
 * (after 2025-01-01, before 2100) and that it advances with the kernel's
 * timer: two reads a second apart differ by 0..2 seconds, and three
 * seconds apart by 2..4.  init is the root task; this program is the
 * client its manifest starts (slot 9: the clock). */
// test-root: build/init.elf
// test-module: tests/system/manifests/clock.manifest
// test-module: build/rtc.elf
// test-expect: clock-test: the host clock says 2\d\d\d-\d\d-\d\d \d\d:\d\d:\d\d UTC
#include "tap.h"
#include "clock.h"
#include "init.h"

#define INIT 8
#define CLOCK 9
#define TICKS_PER_SECOND 100
#define JAN_2025 1735689600ULL  /* 2025-01-01 00:00:00 UTC */
#define JAN_2100 4102444800ULL

/* Sleep on the kernel's timer (SYS_NOTIFY_AFTER, 100 Hz). */
static long sleep_ticks(uint64_t port, uint64_t ticks)
{
	struct msg m;
	long err = sys_notify_after(port, 1, ticks);
	return err ? err : ipc_recv(port, 0, &m);
}

/* y-m-d from days since 1970 (for the log line only). */
static void civil(uint64_t days, unsigned *y, unsigned *m, unsigned *d)
{
	static const unsigned len[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned year = 1970;

	for (;;) {
		unsigned ylen = (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 366 : 365;
		if (days < ylen)
			break;
		days -= ylen;
		year++;
	}
	unsigned month = 0;
	for (;; month++) {
		unsigned mlen = len[month] + (month == 1 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0));
		if (days < mlen)
			break;
		days -= mlen;
	}
	*y = year;
	*m = month + 1;
	*d = (unsigned)days + 1;
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(8);
	tap_eq(cspace_slot_type(CLOCK), OBJ_PORT, "init gave us the clock it was told we need");
	uint64_t clock = 0, t0 = 0, t1 = 0, t2 = 0;
	tap_eq(init_lookup(INIT, "clock", &clock), E_OK, "the clock is published by name");

	long err = clock_now(clock, &t0);
	tap_ok(!err && t0 > JAN_2025 && t0 < JAN_2100, "now() is a plausible date: %lu (err %ld)", t0, err);
	unsigned y, mo, d;
	civil(t0 / 86400, &y, &mo, &d);
	debug_printf("clock-test: the host clock says %04u-%02u-%02u %02lu:%02lu:%02lu UTC (%lu)\n", y, mo, d,
		     t0 % 86400 / 3600, t0 % 3600 / 60, t0 % 60, t0);

	uint64_t nap;
	err = object_alloc(OBJ_PORT, 0, &nap);
	tap_eq(err ? err : sleep_ticks(nap, TICKS_PER_SECOND), E_OK, "slept a second on the kernel's timer");
	err = clock_now(CLOCK, &t1);
	tap_ok(!err && t1 >= t0 && t1 - t0 <= 2, "a second later it moved by 0..2 s: %lu -> %lu", t0, t1);
	tap_eq(sleep_ticks(nap, 3 * TICKS_PER_SECOND), E_OK, "slept three seconds");
	err = clock_now(clock, &t2);
	tap_ok(!err && t2 >= t1 + 2 && t2 - t1 <= 4, "three seconds later it moved by 2..4 s: %lu -> %lu", t1, t2);

	/* many calls in a row: each reads the chip and stays consistent */
	int monotonic = 1;
	uint64_t prev = t2, t = 0;
	for (int i = 0; i < 200; i++) {
		if (clock_now(clock, &t) || t < prev || t - prev > 1)
			monotonic = 0;
		prev = t;
	}
	tap_ok(monotonic, "200 calls in a row never go backwards or jump (last %lu)", prev);
	tap_done();
}
