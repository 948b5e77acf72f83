/*
 * The host clock server: reads the CMOS real-time clock (ports 0x70 and
 * 0x71) and serves idl/clock.idl as "clock".  See README.md.
 * Capabilities (boot manifest order): slot 9 the ports 0x70-0x71.
 */
#include <libipc/libipc.h>
#include <libipc/server.h>
#include "clock.h"   /* generated from idl/clock.idl */
#include "init.h"

#define INIT_SLOT 8
#define PORTS_SLOT 9
#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71

#define REG_SECONDS 0x00
#define REG_MINUTES 0x02
#define REG_HOURS 0x04
#define REG_DAY 0x07
#define REG_MONTH 0x08
#define REG_YEAR 0x09
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_D 0x0d
#define REG_CENTURY 0x32

#define A_UIP 0x80
#define B_BINARY 0x04
#define B_24H 0x02
#define D_VRT 0x80

/* UIP lasts at most about 2 ms; each port access is a system call of a
 * microsecond or more, so this bounds a wait at well over that. */
#define UIP_POLLS 200000
#define READ_TRIES 10

static uint8_t cmos_read(unsigned reg)
{
	uint64_t v = 0xff;

	/* Bit 7 of the index (NMI mask) is left 0, as the kernel expects. */
	sys_ioport_out(PORTS_SLOT, CMOS_INDEX, 1, reg & 0x7f);
	sys_ioport_in(PORTS_SLOT, CMOS_DATA, 1, &v);
	return (uint8_t)v;
}

static int update_in_progress(void)
{
	return (cmos_read(REG_A) & A_UIP) != 0;
}

static int wait_uip_clear(void)
{
	for (int i = 0; i < UIP_POLLS; i++)
		if (!update_in_progress())
			return 1;
	return 0;
}

struct cmos_time {
	uint8_t sec, min, hour, day, month, year, century, b;
};

/* One consistent set of the time registers: UIP clear before and after,
 * and the seconds unchanged across the reads. */
static int read_registers(struct cmos_time *t)
{
	for (int try = 0; try < READ_TRIES; try++) {
		if (!wait_uip_clear())
			return 0;
		t->sec = cmos_read(REG_SECONDS);
		t->min = cmos_read(REG_MINUTES);
		t->hour = cmos_read(REG_HOURS);
		t->day = cmos_read(REG_DAY);
		t->month = cmos_read(REG_MONTH);
		t->year = cmos_read(REG_YEAR);
		t->century = cmos_read(REG_CENTURY);
		t->b = cmos_read(REG_B);
		if (!update_in_progress() && cmos_read(REG_SECONDS) == t->sec)
			return 1;
	}
	return 0;
}

/* A register's value, or -1 if it is not valid BCD in BCD mode. */
static int decode(uint8_t v, int binary)
{
	if (binary)
		return v;
	if ((v & 0x0f) > 9 || (v >> 4) > 9)
		return -1;
	return (v >> 4) * 10 + (v & 0x0f);
}

/* Days from 1970-01-01 to y-m-d (y >= 1970), counting years from March
 * so that the leap day ends a year. */
static int64_t days_since_epoch(int64_t y, int m, int d)
{
	if (m <= 2) {
		y--;
		m += 12;
	}
	/* days from 0000-03-01; 719468 of them up to 1970-01-01 */
	int64_t days = 365 * y + y / 4 - y / 100 + y / 400 + (153 * (m - 3) + 2) / 5 + d - 1;
	return days - 719468;
}

static long read_clock(uint64_t *unix_seconds)
{
	struct cmos_time t;

	if (!(cmos_read(REG_D) & D_VRT) || !read_registers(&t))
		return E_STATE;
	int binary = (t.b & B_BINARY) != 0;
	int sec = decode(t.sec, binary), min = decode(t.min, binary);
	int hour = decode(t.hour & 0x7f, binary);
	int day = decode(t.day, binary), month = decode(t.month, binary);
	int year = decode(t.year, binary), century = decode(t.century, binary);

	if (!(t.b & B_24H) && hour >= 1 && hour <= 12)
		hour = hour % 12 + ((t.hour & 0x80) ? 12 : 0);
	if (sec < 0 || sec > 59 || min < 0 || min > 59 || hour < 0 || hour > 23 || day < 1 || day > 31 ||
	    month < 1 || month > 12 || year < 0 || year > 99)
		return E_STATE;
	/* 0x32 is the century on PC chipsets (ACPI's FADT usually says
	 * so); trust it only when it is plausible. */
	if (century < 19 || century > 21)
		century = year < 70 ? 20 : 19;
	int64_t full_year = century * 100 + year;
	if (full_year < 1970)
		return E_STATE;
	*unix_seconds = (uint64_t)(days_since_epoch(full_year, month, day) * 86400 + hour * 3600 + min * 60 + sec);
	return E_OK;
}

static long do_now(void *ctx, uint64_t badge, uint64_t *unix_seconds)
{
	(void)ctx;
	(void)badge;
	return read_clock(unix_seconds);
}

static const struct clock_ops ops = { .now = do_now };

static int handle(struct server *s, const struct msg *req, struct msg *reply)
{
	return clock_dispatch(&ops, s->ctx, req, s->recv_slots, reply) ? SERVER_REPLY : SERVER_UNKNOWN;
}

int main(const struct bootinfo *bi)
{
	static struct server srv;
	uint64_t port, send = slot_alloc(), now = 0;

	(void)bi;
	long err = object_alloc(OBJ_PORT, 0, &port);
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, send, RIGHT_SEND, 0);
	if (!err && read_clock(&now) != E_OK)
		debug_printf("rtc: the CMOS clock does not give a valid time; serving anyway\n");
	if (err || (err = server_init(&srv, port, handle, 0)) || (err = init_publish(INIT_SLOT, "clock", send))) {
		debug_printf("rtc: cannot publish the clock: %ld\n", err);
		return 1;
	}
	return (int)server_run(&srv);
}
