/*
 * The CMOS real-time clock model: see rtc.h for what the VMM must do and
 * what is modelled.
 *
 * How the pieces fit:
 *  - The guest's time is the host's time plus an offset (seconds and
 *    nanoseconds).  While the clock "updates" (divider running, SET
 *    clear) the time registers are computed from it on every read; when
 *    it stops, their values are frozen into cmos[] and the guest reads
 *    and writes them there; when it starts again, cmos[] is turned back
 *    into an offset.  The sub-second part of the offset is the phase of
 *    the chip's divider chain: it only changes when the divider leaves
 *    reset.
 *  - Events (periodic ticks, the end of each update, alarms) are not
 *    scheduled: advance() looks at the guest time at the last call and
 *    now and sets the flags of whatever happened in between.  Every
 *    entry point calls it first, so a change of the offset never looks
 *    like time passing.
 *
 * Only <stdint.h>: no library calls, so it runs anywhere.
 */
#include "rtc.h"

#define NS_PER_SEC 1000000000LL
#define SECS_PER_DAY 86400
#define TIMEBASE_HZ 32768
/* UIP rises 244 us (8 time-base cycles) before each update. */
#define UIP_NS (8LL * NS_PER_SEC / TIMEBASE_HZ)
/* Leaving divider reset, the first update comes half a second later. */
#define RELEASE_PHASE_NS (NS_PER_SEC / 2)

/* A point of the guest's clock. */
struct gtime {
	int64_t sec;   /* unix seconds, may be negative */
	int64_t ns;    /* 0 .. NS_PER_SEC - 1 */
};

/* ---- arithmetic ------------------------------------------------------- */

/* Division and remainder rounding towards minus infinity, for times
 * before 1970 that a guest may set. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

/*
 * Dates.  Counting years from March 1st puts the leap day at the end of
 * the year, so the month lengths of a year (31 30 31 30 31 31 30 31 30
 * 31 31 28/29 from March) follow the pattern 153 days per 5 months and
 * the day a month starts is (153 * m + 2) / 5 for m = 0 (March) .. 11
 * (February).  A 400-year cycle is 146097 days; inside one, a year yoe
 * starts 365 * yoe + yoe / 4 - yoe / 100 days in.
 */
#define DAYS_PER_400Y 146097
/* From 0000-03-01 to 1970-01-01. */
#define EPOCH_FROM_MARCH0 719468

static int64_t days_before_year_in_cycle(int64_t yoe)
{
	return 365 * yoe + yoe / 4 - yoe / 100;
}

static unsigned month_start(unsigned m)  /* m: 0 = March */
{
	return (153 * m + 2) / 5;
}

int64_t rtc_days_from_civil(int64_t year, unsigned month, unsigned day)
{
	/* January and February belong to the previous March-based year. */
	int64_t y = month <= 2 ? year - 1 : year;
	unsigned m = month <= 2 ? month + 9 : month - 3;
	int64_t cycle = floor_div(y, 400);
	int64_t yoe = y - cycle * 400;

	return cycle * DAYS_PER_400Y + days_before_year_in_cycle(yoe) +
	       month_start(m) + day - 1 - EPOCH_FROM_MARCH0;
}

void rtc_civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day)
{
	int64_t z = days + EPOCH_FROM_MARCH0;
	int64_t cycle = floor_div(z, DAYS_PER_400Y);
	int64_t doc = z - cycle * DAYS_PER_400Y;     /* day of the cycle */
	int64_t yoe = doc / 365;                     /* at most one too many */

	if (yoe > 399)
		yoe = 399;
	while (days_before_year_in_cycle(yoe) > doc)
		yoe--;
	unsigned doy = (unsigned)(doc - days_before_year_in_cycle(yoe));
	unsigned m = (5 * doy + 2) / 153;            /* inverse of month_start */

	*day = doy - month_start(m) + 1;
	*month = m < 10 ? m + 3 : m - 9;
	*year = cycle * 400 + yoe + (*month <= 2 ? 1 : 0);
}

/* ---- register encoding ---------------------------------------------- */

static int binary_mode(const struct rtc *r)
{
	return (r->cmos[RTC_REG_B] & RTC_B_DM) != 0;
}

static int hours_24(const struct rtc *r)
{
	return (r->cmos[RTC_REG_B] & RTC_B_24H) != 0;
}

static uint8_t to_reg(const struct rtc *r, unsigned v)
{
	return binary_mode(r) ? (uint8_t)v : (uint8_t)(((v / 10) << 4) | (v % 10));
}

static unsigned from_reg(const struct rtc *r, uint8_t v)
{
	return binary_mode(r) ? v : (unsigned)(v >> 4) * 10 + (v & 0x0f);
}

static uint8_t hours_to_reg(const struct rtc *r, unsigned h24)
{
	if (hours_24(r))
		return to_reg(r, h24);
	unsigned h12 = h24 % 12 == 0 ? 12 : h24 % 12;
	return (uint8_t)(to_reg(r, h12) | (h24 >= 12 ? 0x80 : 0));
}

static unsigned hours_from_reg(const struct rtc *r, uint8_t v)
{
	if (hours_24(r))
		return from_reg(r, v);
	unsigned h = from_reg(r, v & 0x7f) % 12;  /* 12 AM is 0 */
	return h + ((v & 0x80) ? 12 : 0);
}

static unsigned clamp(unsigned v, unsigned lo, unsigned hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int is_time_register(unsigned reg)
{
	switch (reg) {
	case RTC_SECONDS: case RTC_MINUTES: case RTC_HOURS:
	case RTC_DAY_OF_WEEK: case RTC_DAY_OF_MONTH: case RTC_MONTH:
	case RTC_YEAR: case RTC_CENTURY:
		return 1;
	default:
		return 0;
	}
}

/* The value of time register `reg` at guest second `sec`. */
static uint8_t time_register(const struct rtc *r, unsigned reg, int64_t sec)
{
	int64_t days = floor_div(sec, SECS_PER_DAY);
	unsigned sod = (unsigned)(sec - days * SECS_PER_DAY);
	int64_t year;
	unsigned month, day;

	switch (reg) {
	case RTC_SECONDS:
		return to_reg(r, sod % 60);
	case RTC_MINUTES:
		return to_reg(r, sod / 60 % 60);
	case RTC_HOURS:
		return hours_to_reg(r, sod / 3600);
	case RTC_DAY_OF_WEEK:
		/* 1970-01-01 was a Thursday, day 5 when Sunday is 1. */
		return to_reg(r, (unsigned)floor_mod(days + 4, 7) + 1);
	default:
		break;
	}
	rtc_civil_from_days(days, &year, &month, &day);
	/* Two BCD digits of year and century cannot show more than 9999. */
	if (year < 0)
		year = 0;
	if (year > 9999)
		year = 9999;
	switch (reg) {
	case RTC_DAY_OF_MONTH:
		return to_reg(r, day);
	case RTC_MONTH:
		return to_reg(r, month);
	case RTC_YEAR:
		return to_reg(r, (unsigned)(year % 100));
	default:  /* RTC_CENTURY */
		return to_reg(r, (unsigned)(year / 100));
	}
}

/* The guest second the frozen time registers in cmos[] describe. */
static int64_t seconds_from_registers(const struct rtc *r)
{
	const uint8_t *c = r->cmos;
	unsigned sec = clamp(from_reg(r, c[RTC_SECONDS]), 0, 59);
	unsigned min = clamp(from_reg(r, c[RTC_MINUTES]), 0, 59);
	unsigned hour = clamp(hours_from_reg(r, c[RTC_HOURS]), 0, 23);
	unsigned day = clamp(from_reg(r, c[RTC_DAY_OF_MONTH]), 1, 31);
	unsigned month = clamp(from_reg(r, c[RTC_MONTH]), 1, 12);
	unsigned year = clamp(from_reg(r, c[RTC_YEAR]), 0, 99);
	unsigned century = clamp(from_reg(r, c[RTC_CENTURY]), 0, 99);

	/* Day 31 of a 30-day month is carried into the next month by the
	 * arithmetic, as if the chip had counted on. */
	return rtc_days_from_civil(century * 100 + year, month, day) * SECS_PER_DAY +
	       hour * 3600 + min * 60 + sec;
}

/* ---- the clock ------------------------------------------------------- */

static struct gtime guest_time(const struct rtc *r, uint64_t now_ns)
{
	struct gtime g;

	g.sec = (int64_t)(now_ns / NS_PER_SEC) + r->offset_sec;
	g.ns = (int64_t)(now_ns % NS_PER_SEC) + r->offset_ns;
	if (g.ns >= NS_PER_SEC) {
		g.ns -= NS_PER_SEC;
		g.sec++;
	}
	return g;
}

/* Make the guest's clock read `g` at host time `now_ns`. */
static void set_guest_time(struct rtc *r, uint64_t now_ns, struct gtime g)
{
	int64_t ns = g.ns - (int64_t)(now_ns % NS_PER_SEC);
	int64_t sec = g.sec - (int64_t)(now_ns / NS_PER_SEC);

	if (ns < 0) {
		ns += NS_PER_SEC;
		sec--;
	}
	r->offset_sec = sec;
	r->offset_ns = (uint32_t)ns;
}

/* The host time at which the guest's clock reads `g` (0 if that was
 * before the epoch of the host clock, which never happens for events
 * after now). */
static uint64_t host_time(const struct rtc *r, struct gtime g)
{
	int64_t sec = g.sec - r->offset_sec;
	int64_t ns = g.ns - (int64_t)r->offset_ns;

	if (ns < 0) {
		ns += NS_PER_SEC;
		sec--;
	}
	if (sec < 0)
		return 0;
	return (uint64_t)sec * NS_PER_SEC + (uint64_t)ns;
}

/* Time-base cycles since the epoch, rounded down. */
static int64_t cycles(struct gtime g)
{
	return g.sec * TIMEBASE_HZ + g.ns * TIMEBASE_HZ / NS_PER_SEC;
}

/* The earliest guest time at which `c` cycles have passed. */
static struct gtime time_of_cycle(int64_t c)
{
	struct gtime g;

	g.sec = floor_div(c, TIMEBASE_HZ);
	int64_t frac = c - g.sec * TIMEBASE_HZ;
	g.ns = (frac * NS_PER_SEC + TIMEBASE_HZ - 1) / TIMEBASE_HZ;  /* round up */
	return g;
}

static int divider_running(const struct rtc *r)
{
	return (r->cmos[RTC_REG_A] & RTC_A_DV_MASK) <= RTC_A_DV_32KHZ;
}

/* The time registers count (the chip performs its update cycles). */
static int updating(const struct rtc *r)
{
	return divider_running(r) && !(r->cmos[RTC_REG_B] & RTC_B_SET);
}

/* The periodic interrupt's period in time-base cycles, 0 if off. */
static int64_t periodic_cycles(const struct rtc *r)
{
	unsigned rate = r->cmos[RTC_REG_A] & RTC_A_RATE_MASK;

	if (rate == 0)
		return 0;
	if (rate <= 2)
		rate += 7;  /* 256 and 128 Hz, the same as rates 8 and 9 */
	return (int64_t)1 << (rate - 1);
}

/* Freeze the clock's current reading into cmos[]. */
static void freeze(struct rtc *r, uint64_t now_ns)
{
	int64_t sec = guest_time(r, now_ns).sec;
	static const uint8_t regs[] = {
		RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_WEEK,
		RTC_DAY_OF_MONTH, RTC_MONTH, RTC_YEAR, RTC_CENTURY,
	};

	for (unsigned i = 0; i < sizeof(regs); i++)
		r->cmos[regs[i]] = time_register(r, regs[i], sec);
}

/* Start the clock from the frozen registers, keeping the divider's
 * phase. */
static void thaw(struct rtc *r, uint64_t now_ns)
{
	struct gtime g = guest_time(r, now_ns);

	g.sec = seconds_from_registers(r);
	set_guest_time(r, now_ns, g);
}

/* Does guest second `sec` match the alarm registers? */
static int alarm_matches(const struct rtc *r, int64_t sec)
{
	unsigned sod = (unsigned)floor_mod(sec, SECS_PER_DAY);
	uint8_t as = r->cmos[RTC_SECONDS_ALARM];
	uint8_t am = r->cmos[RTC_MINUTES_ALARM];
	uint8_t ah = r->cmos[RTC_HOURS_ALARM];

	/* bits 7-6 both set: "don't care" */
	if ((as & 0xc0) != 0xc0 && from_reg(r, as) != sod % 60)
		return 0;
	if ((am & 0xc0) != 0xc0 && from_reg(r, am) != sod / 60 % 60)
		return 0;
	if ((ah & 0xc0) != 0xc0 && hours_from_reg(r, ah) != sod / 3600)
		return 0;
	return 1;
}

static void update_irqf(struct rtc *r)
{
	uint8_t c = r->cmos[RTC_REG_C] & (RTC_C_PF | RTC_C_AF | RTC_C_UF);
	uint8_t b = r->cmos[RTC_REG_B];

	if (((c & RTC_C_PF) && (b & RTC_B_PIE)) || ((c & RTC_C_AF) && (b & RTC_B_AIE)) ||
	    ((c & RTC_C_UF) && (b & RTC_B_UIE)))
		c |= RTC_C_IRQF;
	r->cmos[RTC_REG_C] = c;
}

/* Set the flags of everything that happened between last_ns and now. */
static void advance(struct rtc *r, uint64_t now_ns)
{
	if (now_ns <= r->last_ns)
		return;
	if (divider_running(r)) {
		struct gtime from = guest_time(r, r->last_ns);
		struct gtime to = guest_time(r, now_ns);
		int64_t period = periodic_cycles(r);

		if (period && floor_div(cycles(to), period) > floor_div(cycles(from), period))
			r->cmos[RTC_REG_C] |= RTC_C_PF;
		if (updating(r) && to.sec > from.sec) {
			/* Updates ended at each second boundary in (from, to].
			 * The alarm repeats daily, so one day of them is
			 * enough to know whether it went off. */
			int64_t first = from.sec + 1;

			r->cmos[RTC_REG_C] |= RTC_C_UF;
			if (to.sec - first >= SECS_PER_DAY)
				first = to.sec - SECS_PER_DAY + 1;
			for (int64_t s = first; s <= to.sec; s++) {
				if (alarm_matches(r, s)) {
					r->cmos[RTC_REG_C] |= RTC_C_AF;
					break;
				}
			}
		}
	}
	r->last_ns = now_ns;
	update_irqf(r);
}

/* ---- the interface --------------------------------------------------- */

static void fill_memory_size(struct rtc *r, uint64_t below_4g, uint64_t above_4g)
{
	uint64_t kib = below_4g / 1024;
	uint64_t ext = kib > 1024 ? kib - 1024 : 0;          /* KiB above 1 MiB */
	uint64_t over16 = below_4g > (16u << 20) ? (below_4g - (16u << 20)) >> 16 : 0;
	uint64_t over4g = above_4g >> 16;
	unsigned sum = 0;

	if (ext > 0xffff)
		ext = 0xffff;
	if (over16 > 0xffff)
		over16 = 0xffff;
	if (over4g > 0xffffff)
		over4g = 0xffffff;
	r->cmos[CMOS_BASE_MEM_LO] = 640 & 0xff;
	r->cmos[CMOS_BASE_MEM_HI] = 640 >> 8;
	r->cmos[CMOS_EXT_MEM_LO] = r->cmos[CMOS_EXT_MEM2_LO] = (uint8_t)ext;
	r->cmos[CMOS_EXT_MEM_HI] = r->cmos[CMOS_EXT_MEM2_HI] = (uint8_t)(ext >> 8);
	r->cmos[CMOS_MEM_16M_LO] = (uint8_t)over16;
	r->cmos[CMOS_MEM_16M_HI] = (uint8_t)(over16 >> 8);
	r->cmos[CMOS_MEM_4G_LO] = (uint8_t)over4g;
	r->cmos[CMOS_MEM_4G_MID] = (uint8_t)(over4g >> 8);
	r->cmos[CMOS_MEM_4G_HI] = (uint8_t)(over4g >> 16);
	/* No floppies, no IDE disks (0x10, 0x12 stay 0).  The equipment
	 * byte: a math coprocessor (bit 1); no floppy (bit 0); display
	 * bits 5-4 00, "a card with its own BIOS" as for VGA; no PS/2
	 * mouse (bit 2), since the i8042 has no auxiliary device. */
	r->cmos[CMOS_EQUIPMENT] = 0x02;
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += r->cmos[i];
	r->cmos[CMOS_CHECKSUM_HI] = (uint8_t)(sum >> 8);
	r->cmos[CMOS_CHECKSUM_LO] = (uint8_t)sum;
}

void rtc_init(struct rtc *r, uint64_t now_ns, uint64_t ram_below_4g, uint64_t ram_above_4g)
{
	for (unsigned i = 0; i < CMOS_SIZE; i++)
		r->cmos[i] = 0;
	r->index = 0;
	r->nmi_masked = 0;
	r->offset_sec = 0;
	r->offset_ns = 0;
	r->last_ns = now_ns;
	r->cmos[RTC_REG_A] = RTC_A_DV_32KHZ | 0x06;  /* 1024 Hz periodic rate */
	r->cmos[RTC_REG_B] = RTC_B_24H;              /* BCD, no interrupts */
	r->cmos[RTC_REG_D] = RTC_D_VRT;
	fill_memory_size(r, ram_below_4g, ram_above_4g);
}

static uint8_t read_register(struct rtc *r, unsigned reg, uint64_t now_ns)
{
	uint8_t v;

	if (is_time_register(reg) && updating(r))
		return time_register(r, reg, guest_time(r, now_ns).sec);
	switch (reg) {
	case RTC_REG_A:
		v = r->cmos[RTC_REG_A];
		if (updating(r) && guest_time(r, now_ns).ns >= NS_PER_SEC - UIP_NS)
			v |= RTC_A_UIP;
		return v;
	case RTC_REG_C:
		/* Reading C acknowledges every flag and drops the line. */
		v = r->cmos[RTC_REG_C];
		r->cmos[RTC_REG_C] = 0;
		return v;
	case RTC_REG_D:
		return RTC_D_VRT;
	default:
		return r->cmos[reg];
	}
}

static void write_register_a(struct rtc *r, uint8_t value, uint64_t now_ns)
{
	int was_running = divider_running(r), was_updating = updating(r);

	r->cmos[RTC_REG_A] = value & ~RTC_A_UIP;   /* UIP is read-only */
	if (was_updating && !updating(r))
		freeze(r, now_ns);
	if (!was_running && divider_running(r)) {
		/* Out of reset the divider starts half a second before
		 * the next update. */
		struct gtime g = guest_time(r, now_ns);
		g.ns = RELEASE_PHASE_NS;
		set_guest_time(r, now_ns, g);
	}
	if (!was_updating && updating(r))
		thaw(r, now_ns);
}

static void write_register_b(struct rtc *r, uint8_t value, uint64_t now_ns)
{
	int was_updating = updating(r);

	if (value & RTC_B_SET)
		value &= ~RTC_B_UIE;   /* the chip clears UIE when SET goes on */
	if (was_updating && (value & RTC_B_SET))
		freeze(r, now_ns);     /* in the format the guest knew */
	r->cmos[RTC_REG_B] = value;
	if (!was_updating && updating(r))
		thaw(r, now_ns);
	/* IRQF follows the enables at once: enabling an interrupt whose
	 * flag is already up raises the line. */
	update_irqf(r);
}

static void write_register(struct rtc *r, unsigned reg, uint8_t value, uint64_t now_ns)
{
	if (is_time_register(reg)) {
		if (updating(r)) {
			/* Setting one field of a running clock: the others
			 * keep their current values. */
			freeze(r, now_ns);
			r->cmos[reg] = value;
			thaw(r, now_ns);
		} else {
			r->cmos[reg] = value;
		}
		return;
	}
	switch (reg) {
	case RTC_REG_A:
		write_register_a(r, value, now_ns);
		break;
	case RTC_REG_B:
		write_register_b(r, value, now_ns);
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break;  /* read-only */
	default:
		r->cmos[reg] = value;  /* alarms and RAM */
		break;
	}
}

uint8_t rtc_read(struct rtc *r, unsigned port, uint64_t now_ns)
{
	advance(r, now_ns);
	if (port != RTC_PORT_DATA)
		return 0xff;  /* the index port is write-only */
	return read_register(r, r->index, now_ns);
}

void rtc_write(struct rtc *r, unsigned port, uint8_t value, uint64_t now_ns)
{
	advance(r, now_ns);
	if (port == RTC_PORT_INDEX) {
		r->index = value & 0x7f;
		r->nmi_masked = value >> 7;
	} else if (port == RTC_PORT_DATA) {
		write_register(r, r->index, value, now_ns);
	}
}

void rtc_update(struct rtc *r, uint64_t now_ns)
{
	advance(r, now_ns);
}

int rtc_irq_level(const struct rtc *r)
{
	return (r->cmos[RTC_REG_C] & RTC_C_IRQF) != 0;
}

static uint64_t earlier(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t rtc_next_event(const struct rtc *r, uint64_t now_ns)
{
	uint8_t b = r->cmos[RTC_REG_B];
	uint64_t next = RTC_NO_EVENT;

	/* Once the line is up nothing changes it until C is read; a
	 * stopped divider makes no events at all. */
	if (rtc_irq_level(r) || !divider_running(r))
		return RTC_NO_EVENT;
	/* Flags up to last_ns are set already; count from there. */
	if (now_ns < r->last_ns)
		now_ns = r->last_ns;
	struct gtime g = guest_time(r, now_ns);
	int64_t period = periodic_cycles(r);

	if ((b & RTC_B_PIE) && period) {
		int64_t tick = (floor_div(cycles(g), period) + 1) * period;
		next = earlier(next, host_time(r, time_of_cycle(tick)));
	}
	/* Alarms are checked at each update, so an enabled alarm asks for
	 * a wake-up every second, as the update interrupt does. */
	if ((b & (RTC_B_UIE | RTC_B_AIE)) && updating(r)) {
		struct gtime second = { g.sec + 1, 0 };
		next = earlier(next, host_time(r, second));
	}
	return next < now_ns ? now_ns : next;
}

int64_t rtc_guest_seconds(const struct rtc *r, uint64_t now_ns)
{
	if (updating(r))
		return guest_time(r, now_ns).sec;
	return seconds_from_registers(r);
}
