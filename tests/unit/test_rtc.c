/* Host unit tests for servers/vmm/rtc.c: the CMOS real-time clock model.
 * The tests play the guest (port reads and writes, including the
 * sequences Linux 6.1's mc146818-lib and rtc-cmos use) and the VMM (the
 * host time passed in, rtc_next_event/rtc_update, the IRQ line), and
 * check the calendar arithmetic on its own. */
// unit-under-test: servers/vmm/rtc.c
#include <stdint.h>
#include <string.h>
#include "unit.h"
#include "../../servers/vmm/rtc.h"

#define SEC 1000000000ULL
#define MS 1000000ULL
#define US 1000ULL
#define MIB (1024ULL * 1024)

/* 2024-02-29 12:34:56 UTC, a Thursday */
#define T_LEAP 1709210096ULL

static uint8_t rd(struct rtc *r, unsigned reg, uint64_t now)
{
	rtc_write(r, RTC_PORT_INDEX, (uint8_t)reg, now);
	return rtc_read(r, RTC_PORT_DATA, now);
}

static void wr(struct rtc *r, unsigned reg, uint8_t v, uint64_t now)
{
	rtc_write(r, RTC_PORT_INDEX, (uint8_t)reg, now);
	rtc_write(r, RTC_PORT_DATA, v, now);
}

static void setup(struct rtc *r, uint64_t now)
{
	memset(r, 0xa5, sizeof(*r));
	rtc_init(r, now, 256 * MIB, 0);
}

/* ------------------------------------------------------------------- */

static void test_calendar(void)
{
	CHECK(rtc_days_from_civil(1970, 1, 1) == 0, "1970-01-01 is day 0");
	CHECK(rtc_days_from_civil(2000, 1, 1) == 10957, "2000-01-01 is day 10957");
	CHECK(rtc_days_from_civil(2100, 3, 1) == 47541, "2100-03-01 is day 47541");
	CHECK(rtc_days_from_civil(1900, 1, 1) == -25567, "1900-01-01 is day -25567");
	CHECK(rtc_days_from_civil(1, 1, 1) == -719162, "0001-01-01 is day -719162");
	CHECK(rtc_days_from_civil(2000, 3, 1) - rtc_days_from_civil(2000, 2, 28) == 2,
	      "2000 is a leap year (divisible by 400)");
	CHECK(rtc_days_from_civil(2100, 3, 1) - rtc_days_from_civil(2100, 2, 28) == 1,
	      "2100 is not (divisible by 100)");
	CHECK(rtc_days_from_civil(2024, 3, 1) - rtc_days_from_civil(2024, 2, 28) == 2,
	      "2024 is (divisible by 4)");
	CHECK(rtc_days_from_civil(2023, 3, 1) - rtc_days_from_civil(2023, 2, 28) == 1,
	      "2023 is not");

	/* Every day from year 1 to 9999 converts back to itself and the
	 * date moves on by exactly one day. */
	int ok = 1;
	int64_t py = 0;
	unsigned pm = 12, pd = 31;
	for (int64_t d = rtc_days_from_civil(1, 1, 1); d <= rtc_days_from_civil(9999, 12, 31); d++) {
		int64_t y;
		unsigned m, dd;
		rtc_civil_from_days(d, &y, &m, &dd);
		if (rtc_days_from_civil(y, m, dd) != d || m < 1 || m > 12 || dd < 1 || dd > 31)
			ok = 0;
		/* the next date after (py, pm, pd) */
		int next_ok = (y == py && m == pm && dd == pd + 1) ||
			      (y == py && m == pm + 1 && dd == 1) || (y == py + 1 && m == 1 && dd == 1 && pm == 12);
		if (!next_ok)
			ok = 0;
		py = y;
		pm = m;
		pd = dd;
	}
	CHECK(ok, "days 0001-01-01 .. 9999-12-31 round-trip and follow each other");
}

static void test_reset_state(void)
{
	struct rtc r;
	uint64_t now = T_LEAP * SEC + 100 * MS;

	setup(&r, now);
	CHECK(rd(&r, RTC_REG_A, now) == 0x26, "reset: A = 0x26 (32 kHz, 1024 Hz rate, no UIP)");
	CHECK(rd(&r, RTC_REG_B, now) == 0x02, "reset: B = 0x02 (24 h, BCD, no interrupts)");
	CHECK(rd(&r, RTC_REG_C, now) == 0x00, "reset: C = 0");
	CHECK(rd(&r, RTC_REG_D, now) == 0x80, "reset: D = 0x80 (VRT; bit 6 clear, which rtc-cmos checks)");
	CHECK(!rtc_irq_level(&r), "reset: IRQ 8 low");
	CHECK(rtc_next_event(&r, now) == RTC_NO_EVENT, "reset: no timer needed");
	CHECK(rtc_read(&r, RTC_PORT_INDEX, now) == 0xff, "the index port reads 0xff");
	rtc_write(&r, RTC_PORT_INDEX, 0x80 | RTC_REG_D, now);
	CHECK(r.nmi_masked == 1 && rtc_read(&r, RTC_PORT_DATA, now) == 0x80,
	      "index bit 7 (NMI mask) is stored and does not change the register");
	CHECK(rtc_read(&r, 0x72, now) == 0xff, "a port not ours reads 0xff");
}

static void test_time_bcd_24h(void)
{
	struct rtc r;
	uint64_t now = T_LEAP * SEC + 100 * MS;

	setup(&r, now);
	CHECK(rd(&r, RTC_SECONDS, now) == 0x56, "BCD seconds 56");
	CHECK(rd(&r, RTC_MINUTES, now) == 0x34, "BCD minutes 34");
	CHECK(rd(&r, RTC_HOURS, now) == 0x12, "BCD hours 12");
	CHECK(rd(&r, RTC_DAY_OF_WEEK, now) == 5, "day of week 5 (Thursday; Sunday is 1)");
	CHECK(rd(&r, RTC_DAY_OF_MONTH, now) == 0x29, "BCD day 29");
	CHECK(rd(&r, RTC_MONTH, now) == 0x02, "BCD month 2");
	CHECK(rd(&r, RTC_YEAR, now) == 0x24, "BCD year 24");
	CHECK(rd(&r, RTC_CENTURY, now) == 0x20, "BCD century 20 at 0x32");
	CHECK(rtc_guest_seconds(&r, now) == (int64_t)T_LEAP, "guest time = host time");
	now += 5 * SEC;
	CHECK(rd(&r, RTC_SECONDS, now) == 0x01 && rd(&r, RTC_MINUTES, now) == 0x35,
	      "five seconds later: 12:35:01");
}

static void test_time_binary_12h(void)
{
	struct rtc r;
	/* 2025-06-15 13:05:09, a Sunday */
	uint64_t now = 1749992709ULL * SEC;

	setup(&r, now);
	wr(&r, RTC_REG_B, RTC_B_DM | RTC_B_24H, now);
	CHECK(rd(&r, RTC_SECONDS, now) == 9 && rd(&r, RTC_MINUTES, now) == 5 &&
	      rd(&r, RTC_HOURS, now) == 13, "binary 24 h: 13:05:09");
	CHECK(rd(&r, RTC_YEAR, now) == 25 && rd(&r, RTC_CENTURY, now) == 20 &&
	      rd(&r, RTC_MONTH, now) == 6 && rd(&r, RTC_DAY_OF_MONTH, now) == 15,
	      "binary date 2025-06-15, century 20");
	CHECK(rd(&r, RTC_DAY_OF_WEEK, now) == 1, "Sunday is day 1");
	wr(&r, RTC_REG_B, RTC_B_DM, now);
	CHECK(rd(&r, RTC_HOURS, now) == (0x80 | 1), "binary 12 h: 1 PM = 0x81");
	wr(&r, RTC_REG_B, 0, now);
	CHECK(rd(&r, RTC_HOURS, now) == 0x81, "BCD 12 h: 1 PM = 0x81");
	uint64_t midnight = 1749945600ULL * SEC;  /* 2025-06-15 00:00:00 */
	setup(&r, midnight);
	wr(&r, RTC_REG_B, 0, midnight);
	CHECK(rd(&r, RTC_HOURS, midnight) == 0x12, "12 h: midnight is 12 AM (0x12)");
	uint64_t noon = midnight + 12 * 3600 * SEC;
	CHECK(rd(&r, RTC_HOURS, noon) == 0x92, "12 h: noon is 12 PM (0x92)");
	uint64_t late = midnight + (23 * 3600 + 59 * 60) * SEC;
	CHECK(rd(&r, RTC_HOURS, late) == 0x91, "12 h: 23:59 is 11 PM (0x91)");
}

static void test_century_rollover(void)
{
	struct rtc r;
	uint64_t now = 4102444799ULL * SEC;  /* 2099-12-31 23:59:59 */

	setup(&r, now);
	CHECK(rd(&r, RTC_YEAR, now) == 0x99 && rd(&r, RTC_CENTURY, now) == 0x20 &&
	      rd(&r, RTC_MONTH, now) == 0x12 && rd(&r, RTC_DAY_OF_MONTH, now) == 0x31,
	      "2099-12-31");
	now += SEC;
	CHECK(rd(&r, RTC_YEAR, now) == 0x00 && rd(&r, RTC_CENTURY, now) == 0x21 &&
	      rd(&r, RTC_MONTH, now) == 0x01 && rd(&r, RTC_DAY_OF_MONTH, now) == 0x01,
	      "one second later: 2100-01-01, century 21");
	now = 4107542399ULL * SEC;  /* 2100-02-28 23:59:59 */
	setup(&r, now);
	now += SEC;
	CHECK(rd(&r, RTC_MONTH, now) == 0x03 && rd(&r, RTC_DAY_OF_MONTH, now) == 0x01,
	      "2100-02-28 is followed by 2100-03-01");
	now = 951782399ULL * SEC;  /* 2000-02-28 23:59:59 */
	setup(&r, now);
	now += SEC;
	CHECK(rd(&r, RTC_MONTH, now) == 0x02 && rd(&r, RTC_DAY_OF_MONTH, now) == 0x29,
	      "2000-02-28 is followed by 2000-02-29");
}

static void test_uip(void)
{
	struct rtc r;
	uint64_t base = T_LEAP * SEC;

	setup(&r, base);
	CHECK(!(rd(&r, RTC_REG_A, base + 500 * MS) & RTC_A_UIP), "UIP clear in mid-second");
	CHECK(!(rd(&r, RTC_REG_A, base + SEC - 250 * US) & RTC_A_UIP), "UIP clear 250 us before the update");
	CHECK(rd(&r, RTC_REG_A, base + SEC - 240 * US) & RTC_A_UIP, "UIP set 240 us before the update");
	CHECK(rd(&r, RTC_REG_A, base + SEC - 1) == (0x26 | RTC_A_UIP), "A = 0xa6 in the last nanosecond");
	CHECK(!(rd(&r, RTC_REG_A, base + SEC) & RTC_A_UIP), "UIP clear once the second has turned");
	wr(&r, RTC_REG_A, 0xa6, base + SEC);
	CHECK(rd(&r, RTC_REG_A, base + SEC) == 0x26, "UIP is read-only");

	/* mc146818_avoid_UIP: read A until UIP is clear, read the time,
	 * read A again; take the time if UIP stayed clear and seconds did
	 * not change.  Starting inside the UIP window, the loop (1 ms per
	 * retry, as Linux's mdelay) must succeed on the second try. */
	uint64_t t = base + 2 * SEC - 100 * US;
	int tries = 0, done = 0;
	uint8_t secs = 0;
	while (tries < 10 && !done) {
		tries++;
		if (rd(&r, RTC_REG_A, t) & RTC_A_UIP) {
			t += MS;
			continue;
		}
		secs = rd(&r, RTC_SECONDS, t);
		t += 20 * US;
		if (!(rd(&r, RTC_REG_A, t) & RTC_A_UIP) && rd(&r, RTC_SECONDS, t) == secs)
			done = 1;
	}
	CHECK(done && tries == 2 && secs == 0x58, "Linux's UIP-avoiding read succeeds on its 2nd try (%d, %02x)",
	      tries, secs);

	wr(&r, RTC_REG_B, RTC_B_SET | RTC_B_24H, t);
	CHECK(!(rd(&r, RTC_REG_A, base + 3 * SEC - 1) & RTC_A_UIP), "no UIP while SET");
}

static void test_set_time(void)
{
	struct rtc r;
	uint64_t now = T_LEAP * SEC + 300 * MS;

	setup(&r, now);
	/* Linux's mc146818_set_time: SET, divider reset, write, restore. */
	wr(&r, RTC_REG_B, RTC_B_SET | RTC_B_24H, now);
	wr(&r, RTC_REG_A, 0x70, now);
	now += 2 * SEC;
	CHECK(rd(&r, RTC_SECONDS, now) == 0x56, "frozen while SET: still 56 two seconds later");
	wr(&r, RTC_YEAR, 0x30, now);
	wr(&r, RTC_MONTH, 0x01, now);
	wr(&r, RTC_DAY_OF_MONTH, 0x02, now);
	wr(&r, RTC_HOURS, 0x03, now);
	wr(&r, RTC_MINUTES, 0x04, now);
	wr(&r, RTC_SECONDS, 0x05, now);
	wr(&r, RTC_CENTURY, 0x20, now);
	CHECK(rd(&r, RTC_YEAR, now) == 0x30 && rd(&r, RTC_SECONDS, now) == 0x05,
	      "written registers read back while SET");
	wr(&r, RTC_REG_B, RTC_B_24H, now);
	CHECK(rd(&r, RTC_SECONDS, now + 5 * SEC) == 0x05, "still frozen: the divider is in reset");
	wr(&r, RTC_REG_A, 0x26, now);
	/* 2030-01-02 03:04:05 = 1893553445 */
	CHECK(rtc_guest_seconds(&r, now) == 1893553445LL, "the clock runs from the written time");
	CHECK(rd(&r, RTC_SECONDS, now + 499 * MS) == 0x05 && rd(&r, RTC_SECONDS, now + 500 * MS) == 0x06,
	      "out of divider reset the first update comes 500 ms later");
	CHECK(rd(&r, RTC_DAY_OF_WEEK, now + SEC) == 4, "day of week recomputed (2030-01-02 is a Wednesday)");
	uint64_t later = now + 3600 * SEC;
	CHECK(rtc_guest_seconds(&r, later) == 1893553445LL + 3600, "an hour of host time is an hour of guest time");

	/* SET alone (no divider reset) keeps the phase: the update stays
	 * where it was. */
	setup(&r, T_LEAP * SEC + 300 * MS);
	now = T_LEAP * SEC + 300 * MS;
	wr(&r, RTC_REG_B, RTC_B_SET | RTC_B_24H | RTC_B_UIE, now);
	CHECK(!(rd(&r, RTC_REG_B, now) & RTC_B_UIE), "setting SET clears UIE");
	wr(&r, RTC_MINUTES, 0x00, now);
	wr(&r, RTC_REG_B, RTC_B_24H, now);
	CHECK(rd(&r, RTC_MINUTES, now) == 0x00 && rd(&r, RTC_SECONDS, now) == 0x56, "minutes set to 0");
	CHECK(rd(&r, RTC_SECONDS, now + 699 * MS) == 0x56 && rd(&r, RTC_SECONDS, now + 700 * MS) == 0x57,
	      "the second still turns at the host's second boundary");

	/* A write to a running clock sets that field at once. */
	setup(&r, T_LEAP * SEC);
	now = T_LEAP * SEC;
	wr(&r, RTC_HOURS, 0x23, now);
	CHECK(rd(&r, RTC_HOURS, now) == 0x23 && rd(&r, RTC_MINUTES, now) == 0x34 &&
	      rd(&r, RTC_DAY_OF_MONTH, now) == 0x29, "hours written while running: 23:34, same day");
	CHECK(rtc_guest_seconds(&r, now) == (int64_t)T_LEAP + 11 * 3600, "offset of 11 hours");

	/* Invalid BCD is clamped, not trusted. */
	setup(&r, T_LEAP * SEC);
	wr(&r, RTC_REG_B, RTC_B_SET | RTC_B_24H, now);
	wr(&r, RTC_MONTH, 0x99, now);
	wr(&r, RTC_REG_B, RTC_B_24H, now);
	CHECK(rd(&r, RTC_MONTH, now) == 0x12, "month 99 becomes December");
}

static void test_periodic(void)
{
	struct rtc r;
	uint64_t now = T_LEAP * SEC + 1;

	setup(&r, now);
	CHECK(rtc_next_event(&r, now) == RTC_NO_EVENT, "PIE off: no timer");
	now += 10 * MS;
	CHECK(rd(&r, RTC_REG_C, now) == RTC_C_PF, "PF is set without PIE (no IRQF)");
	CHECK(rd(&r, RTC_REG_C, now) == 0, "read clears C");
	wr(&r, RTC_REG_B, RTC_B_PIE | RTC_B_24H, now);
	uint64_t next = rtc_next_event(&r, now);
	CHECK(next > now && next - now <= 976563, "PIE at 1024 Hz: next tick within 977 us (%llu ns)",
	      (unsigned long long)(next - now));
	rtc_update(&r, next - 1);
	CHECK(!rtc_irq_level(&r), "not yet 1 ns before");
	rtc_update(&r, next);
	CHECK(rtc_irq_level(&r), "IRQ 8 raised at the tick");
	CHECK(rtc_next_event(&r, next) == RTC_NO_EVENT, "no timer while the line is up");
	CHECK(rd(&r, RTC_REG_C, next) == (RTC_C_IRQF | RTC_C_PF), "C = IRQF | PF");
	CHECK(!rtc_irq_level(&r), "reading C drops the line");
	uint64_t next2 = rtc_next_event(&r, next);
	CHECK(next2 - next >= 976562 && next2 - next <= 976563, "the next tick one period later (%llu)",
	      (unsigned long long)(next2 - next));

	/* count ticks over a second at 2 Hz (rate 15) and 8192 Hz (rate 3) */
	static const struct { uint8_t rate; unsigned hz; } rates[] = { { 15, 2 }, { 3, 8192 }, { 1, 256 }, { 2, 128 } };
	for (unsigned i = 0; i < 4; i++) {
		setup(&r, T_LEAP * SEC);
		now = T_LEAP * SEC;
		wr(&r, RTC_REG_A, (uint8_t)(0x20 | rates[i].rate), now);
		wr(&r, RTC_REG_B, RTC_B_PIE | RTC_B_24H, now);
		unsigned ticks = 0;
		for (;;) {
			uint64_t t = rtc_next_event(&r, now);
			if (t > T_LEAP * SEC + SEC)
				break;
			now = t;
			rtc_update(&r, now);
			if (rtc_irq_level(&r))
				ticks++;
			rd(&r, RTC_REG_C, now);
		}
		CHECK(ticks == rates[i].hz, "rate %u: %u interrupts in a second (%u)", rates[i].rate, rates[i].hz, ticks);
	}
	wr(&r, RTC_REG_A, 0x20, now);
	CHECK(rtc_next_event(&r, now) == RTC_NO_EVENT, "rate 0: no periodic interrupt");
}

static void test_update_and_alarm(void)
{
	struct rtc r;
	uint64_t now = T_LEAP * SEC + 250 * MS;

	setup(&r, now);
	wr(&r, RTC_REG_B, RTC_B_UIE | RTC_B_24H, now);
	CHECK(rtc_next_event(&r, now) == (T_LEAP + 1) * SEC, "UIE: wake at the next second");
	rtc_update(&r, (T_LEAP + 1) * SEC);
	CHECK(rtc_irq_level(&r) && rd(&r, RTC_REG_C, (T_LEAP + 1) * SEC) == (RTC_C_IRQF | RTC_C_PF | RTC_C_UF),
	      "update-ended interrupt: IRQF | UF (and PF, which runs at 1024 Hz without PIE)");

	/* alarm at 12:35:10, three... fourteen seconds ahead */
	setup(&r, now);
	wr(&r, RTC_SECONDS_ALARM, 0x10, now);
	wr(&r, RTC_MINUTES_ALARM, 0x35, now);
	wr(&r, RTC_HOURS_ALARM, 0x12, now);
	wr(&r, RTC_REG_B, RTC_B_AIE | RTC_B_24H, now);
	uint64_t fired = 0;
	for (int i = 0; i < 100 && !fired; i++) {
		now = rtc_next_event(&r, now);
		rtc_update(&r, now);
		if (rtc_irq_level(&r))
			fired = now;
		else
			rd(&r, RTC_REG_C, now);
	}
	CHECK(fired == (T_LEAP + 14) * SEC, "the alarm fires at 12:35:10 exactly");
	CHECK((rd(&r, RTC_REG_C, now) & (RTC_C_IRQF | RTC_C_AF)) == (RTC_C_IRQF | RTC_C_AF), "C has IRQF | AF");

	/* don't-care seconds: fires at the next second; a long gap still
	 * sees the alarm that passed */
	setup(&r, T_LEAP * SEC);
	now = T_LEAP * SEC;
	wr(&r, RTC_SECONDS_ALARM, 0xff, now);
	wr(&r, RTC_MINUTES_ALARM, 0xc0, now);
	wr(&r, RTC_HOURS_ALARM, 0xc0, now);
	rtc_update(&r, now + SEC);
	CHECK((rd(&r, RTC_REG_C, now + SEC) & ~RTC_C_PF) == (RTC_C_AF | RTC_C_UF), "all don't-care: AF every second (no AIE: no IRQF)");
	setup(&r, T_LEAP * SEC);
	wr(&r, RTC_HOURS_ALARM, 0x03, now);
	wr(&r, RTC_MINUTES_ALARM, 0x00, now);
	wr(&r, RTC_SECONDS_ALARM, 0x00, now);
	now += 20 * 3600 * SEC;
	CHECK(rd(&r, RTC_REG_C, now) & RTC_C_AF, "an alarm passed during a 20-hour gap is flagged");

	/* 12 h alarm hours */
	setup(&r, T_LEAP * SEC);
	now = T_LEAP * SEC;
	wr(&r, RTC_REG_B, 0, now);                    /* 12 h BCD */
	wr(&r, RTC_HOURS_ALARM, 0x92, now);           /* 12 PM */
	wr(&r, RTC_MINUTES_ALARM, 0x34, now);
	wr(&r, RTC_SECONDS_ALARM, 0x57, now);
	rtc_update(&r, now + SEC);
	CHECK(rd(&r, RTC_REG_C, now + SEC) & RTC_C_AF, "12 h alarm 12:34:57 PM matches");

	/* no updates while SET */
	setup(&r, T_LEAP * SEC);
	now = T_LEAP * SEC;
	wr(&r, RTC_REG_B, RTC_B_SET | RTC_B_24H, now);
	rd(&r, RTC_REG_C, now);
	CHECK(!(rd(&r, RTC_REG_C, now + 3 * SEC) & RTC_C_UF), "no UF while SET");
	/* enabling an interrupt whose flag is up raises the line */
	setup(&r, T_LEAP * SEC);
	rtc_update(&r, now + SEC);
	wr(&r, RTC_REG_B, RTC_B_UIE | RTC_B_24H, now + SEC);
	CHECK(rtc_irq_level(&r), "UIE turned on with UF pending raises IRQ 8");
}

static void test_memory_bytes(void)
{
	struct rtc r;
	uint64_t now = T_LEAP * SEC;

	rtc_init(&r, now, 256 * MIB, 0);
	CHECK(rd(&r, CMOS_BASE_MEM_LO, now) == 0x80 && rd(&r, CMOS_BASE_MEM_HI, now) == 0x02, "base memory 640 KiB");
	CHECK(rd(&r, CMOS_EXT_MEM_LO, now) == 0xff && rd(&r, CMOS_EXT_MEM_HI, now) == 0xff &&
	      rd(&r, CMOS_EXT_MEM2_LO, now) == 0xff && rd(&r, CMOS_EXT_MEM2_HI, now) == 0xff,
	      "256 MiB: extended memory capped at 65535 KiB");
	CHECK(rd(&r, CMOS_MEM_16M_LO, now) == 0x00 && rd(&r, CMOS_MEM_16M_HI, now) == 0x0f,
	      "256 MiB: 3840 x 64 KiB above 16 MiB");
	CHECK(rd(&r, CMOS_EQUIPMENT, now) == 0x02, "equipment: coprocessor, no floppy, no mouse");
	unsigned sum = 0;
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += rd(&r, i, now);
	CHECK(rd(&r, CMOS_CHECKSUM_HI, now) == (sum >> 8) && rd(&r, CMOS_CHECKSUM_LO, now) == (sum & 0xff),
	      "checksum of 0x10-0x2d at 0x2e/0x2f");
	rtc_init(&r, now, 8 * MIB, 0);
	CHECK(rd(&r, CMOS_EXT_MEM_LO, now) == 0x00 && rd(&r, CMOS_EXT_MEM_HI, now) == 0x1c &&
	      rd(&r, CMOS_MEM_16M_LO, now) == 0 && rd(&r, CMOS_MEM_16M_HI, now) == 0,
	      "8 MiB: 7168 KiB extended, nothing above 16 MiB");
	rtc_init(&r, now, 3072 * MIB, 1024 * MIB);
	CHECK(rd(&r, CMOS_MEM_4G_LO, now) == 0x00 && rd(&r, CMOS_MEM_4G_MID, now) == 0x40 &&
	      rd(&r, CMOS_MEM_4G_HI, now) == 0x00, "1 GiB above 4 GiB: 0x4000 x 64 KiB at 0x5b-0x5d");
	wr(&r, 0x40, 0x5a, now);
	wr(&r, 0x7f, 0xa5, now);
	CHECK(rd(&r, 0x40, now) == 0x5a && rd(&r, 0x7f, now) == 0xa5, "the rest is scratch RAM");
	wr(&r, RTC_REG_D, 0x00, now);
	wr(&r, RTC_REG_C, 0xff, now);
	CHECK(rd(&r, RTC_REG_D, now) == 0x80 && rd(&r, RTC_REG_C, now) == 0x00, "C and D are read-only");
}

/* rtc-cmos's probe: A forced to 0x26, interrupts off, 24 h required,
 * D bit 6 clear; then its alarm and the clock reads. */
static void test_linux_probe(void)
{
	struct rtc r;
	uint64_t now = T_LEAP * SEC + 123 * MS;

	setup(&r, now);
	CHECK(!(rd(&r, RTC_REG_D, now) & 0x40), "rtc-cmos: register D bit 6 is 0 (accessible)");
	wr(&r, RTC_REG_A, 0x26, now);
	CHECK(rd(&r, RTC_SECONDS, now) == 0x56, "writing A = 0x26 again keeps the time and phase");
	uint8_t b = rd(&r, RTC_REG_B, now);
	wr(&r, RTC_REG_B, b & ~(RTC_B_PIE | RTC_B_AIE | RTC_B_UIE), now);
	rd(&r, RTC_REG_C, now);
	CHECK(rd(&r, RTC_REG_B, now) & RTC_B_24H, "rtc-cmos: 24-hour mode");
	CHECK(!rtc_irq_level(&r) && rtc_next_event(&r, now) == RTC_NO_EVENT, "quiet after the probe");
}

int main(void)
{
	test_calendar();
	test_reset_state();
	test_time_bcd_24h();
	test_time_binary_12h();
	test_century_rollover();
	test_uip();
	test_set_time();
	test_periodic();
	test_update_and_alarm();
	test_memory_bytes();
	test_linux_probe();
	return unit_done();
}
