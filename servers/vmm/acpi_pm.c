/*
 * The ACPI PM registers: see acpi_pm.h for the register map and how the
 * VMM drives the model.
 *
 * How the pieces fit:
 *  - Every access is split into byte accesses at consecutive ports, so
 *    16-bit registers touched with one 32-bit access (or byte by byte)
 *    behave as on hardware.  Each 16-bit register is handled as two
 *    bytes of the same register.
 *  - The PM timer is a pure function of time: count = now_ns * 3579545 /
 *    10^9, taken modulo 2^24.  Nothing needs to tick.
 *  - TMR_STS is set when timer bit 23 changes, i.e. when count / 2^23
 *    differs between two looks.  The model looks on every call that
 *    passes the time.
 *  - The SCI is a level computed from the status and enable bits.
 *
 * Only <stdint.h>: no library calls.
 */
#include "acpi_pm.h"

#define NS_PER_S 1000000000ull
#define TIMER_MASK ((1u << ACPI_PM_TIMER_BITS) - 1)
#define TMR_STS_PERIOD (1ull << (ACPI_PM_TIMER_BITS - 1))   /* ticks between bit-23 changes */

/* The bits each register really has. */
#define PM1_STS_BITS (ACPI_PM1_TMR | ACPI_PM1_BM_STS | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | \
		      ACPI_PM1_SLPBTN | ACPI_PM1_RTC | ACPI_PM1_PCIEXP_WAKE | ACPI_PM1_WAK_STS)
#define PM1_EN_BITS  (ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN | \
		      ACPI_PM1_RTC | ACPI_PM1_PCIEXP_WAKE)
#define PM1_CNT_STORED (ACPI_PM1_BM_RLD | ACPI_PM1_SLP_TYP)
/* The status bits that raise the SCI when enabled (PCIEXP_WAKE_EN is a
 * "disable" bit and wakes only; WAK_STS has no enable). */
#define PM1_SCI_BITS (ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN | \
		      ACPI_PM1_RTC)
#define RST_STORED (ACPI_RST_SYS | ACPI_RST_FULL)

/* Ticks since time 0, without overflowing 64 bits for any now_ns:
 * whole seconds and the rest separately. */
static uint64_t ticks_at(uint64_t now_ns)
{
	uint64_t s = now_ns / NS_PER_S, rest = now_ns % NS_PER_S;

	return s * ACPI_PM_TIMER_HZ + rest * ACPI_PM_TIMER_HZ / NS_PER_S;
}

/* The first time (ns) at which ticks_at() reaches `ticks`. */
static uint64_t ns_at(uint64_t ticks)
{
	uint64_t s = ticks / ACPI_PM_TIMER_HZ, rest = ticks % ACPI_PM_TIMER_HZ;

	return s * NS_PER_S + (rest * NS_PER_S + ACPI_PM_TIMER_HZ - 1) / ACPI_PM_TIMER_HZ;
}

uint32_t acpi_pm_timer(uint64_t now_ns)
{
	return (uint32_t)(ticks_at(now_ns) & TIMER_MASK);
}

void acpi_pm_init(struct acpi_pm *pm)
{
	pm->pm1_sts = 0;
	pm->pm1_en = 0;
	pm->pm1_cnt = 0;
	pm->gpe0_sts = 0;
	pm->gpe0_en = 0;
	pm->rst_cnt = 0;
	pm->seen_ticks = 0;
}

void acpi_pm_update(struct acpi_pm *pm, uint64_t now_ns)
{
	uint64_t ticks = ticks_at(now_ns);

	if (ticks <= pm->seen_ticks)
		return;   /* time did not move (or went back: ignore) */
	if (ticks / TMR_STS_PERIOD != pm->seen_ticks / TMR_STS_PERIOD)
		pm->pm1_sts |= ACPI_PM1_TMR;
	pm->seen_ticks = ticks;
}

uint64_t acpi_pm_next_event_ns(const struct acpi_pm *pm, uint64_t now_ns)
{
	uint64_t ticks;

	if (!(pm->pm1_en & ACPI_PM1_TMR) || (pm->pm1_sts & ACPI_PM1_TMR))
		return UINT64_MAX;
	ticks = ticks_at(now_ns);
	if (pm->seen_ticks > ticks)
		ticks = pm->seen_ticks;
	return ns_at((ticks / TMR_STS_PERIOD + 1) * TMR_STS_PERIOD);
}

void acpi_pm_power_button(struct acpi_pm *pm, uint64_t now_ns)
{
	acpi_pm_update(pm, now_ns);
	pm->pm1_sts |= ACPI_PM1_PWRBTN;
}

void acpi_pm_gpe_raise(struct acpi_pm *pm, unsigned gpe)
{
	if (gpe < 16)
		pm->gpe0_sts |= (uint16_t)(1u << gpe);
}

int acpi_pm_sci_level(const struct acpi_pm *pm)
{
	/* SCI_EN is always 1 here (see acpi_pm.h). */
	return (pm->pm1_sts & pm->pm1_en & PM1_SCI_BITS) != 0 ||
	       (pm->gpe0_sts & pm->gpe0_en) != 0;
}

int acpi_pm_claims(unsigned port, unsigned size)
{
	if (size != 1 && size != 2 && size != 4)
		return 0;
	if (port == ACPI_RESET_PORT)
		return size == 1;
	return port >= ACPI_PM_BASE && port + size <= ACPI_PM_BASE + ACPI_PM_PORTS;
}

/* --- byte access ------------------------------------------------------- */

/* Byte `hi` (0 or 1) of a 16-bit value. */
static uint8_t byte_of(uint16_t v, unsigned hi)
{
	return (uint8_t)(hi ? v >> 8 : v);
}

/* Write-1-to-clear of one byte of a 16-bit status register. */
static void w1c(uint16_t *reg, unsigned hi, uint8_t v, uint16_t bits)
{
	uint16_t clear = (uint16_t)((hi ? (uint16_t)v << 8 : v) & bits);

	*reg &= (uint16_t)~clear;
}

/* Replace one byte of a 16-bit read-write register, keeping only `bits`. */
static void set_byte(uint16_t *reg, unsigned hi, uint8_t v, uint16_t bits)
{
	uint16_t mask = (uint16_t)((hi ? 0xff00 : 0x00ff) & bits);
	uint16_t val = hi ? (uint16_t)((uint16_t)v << 8) : v;

	*reg = (uint16_t)((*reg & ~mask) | (val & mask));
}

static uint8_t read_byte(struct acpi_pm *pm, unsigned port, uint64_t now_ns)
{
	unsigned off;

	if (port == ACPI_RESET_PORT)
		return pm->rst_cnt;
	off = port - ACPI_PM_BASE;
	switch (off) {
	case 0x0: case 0x1:
		return byte_of(pm->pm1_sts, off & 1);
	case 0x2: case 0x3:
		return byte_of(pm->pm1_en, off & 1);
	case 0x4: case 0x5:
		return byte_of((uint16_t)((pm->pm1_cnt & PM1_CNT_STORED) | ACPI_PM1_SCI_EN),
			       off & 1);
	case 0x8: case 0x9: case 0xa: case 0xb:
		return (uint8_t)(acpi_pm_timer(now_ns) >> (8 * (off - 8)));
	case 0xc: case 0xd:
		return byte_of(pm->gpe0_sts, off & 1);
	case 0xe: case 0xf:
		return byte_of(pm->gpe0_en, off & 1);
	default:
		return 0xff;   /* 0x606, 0x607: nothing there */
	}
}

/* The high byte of PM1_CNT holds SLP_TYP and SLP_EN: a sleep request. */
static enum acpi_pm_event write_cnt_high(struct acpi_pm *pm, uint8_t v)
{
	uint16_t written = (uint16_t)((uint16_t)v << 8);
	unsigned typ;

	set_byte(&pm->pm1_cnt, 1, v, PM1_CNT_STORED);
	if (!(written & ACPI_PM1_SLP_EN))
		return ACPI_PM_NONE;
	typ = (written & ACPI_PM1_SLP_TYP) >> ACPI_PM1_SLP_TYP_SHIFT;
	if (typ == ACPI_SLP_TYP_S5)
		return ACPI_PM_POWER_OFF;
	pm->pm1_sts |= ACPI_PM1_WAK_STS;   /* no such state: awake again at once */
	return ACPI_PM_NONE;
}

static enum acpi_pm_event write_byte(struct acpi_pm *pm, unsigned port, uint8_t v)
{
	unsigned off;

	if (port == ACPI_RESET_PORT) {
		pm->rst_cnt = v & RST_STORED;
		return (v & ACPI_RST_CPU) ? ACPI_PM_RESET : ACPI_PM_NONE;
	}
	off = port - ACPI_PM_BASE;
	switch (off) {
	case 0x0: case 0x1:
		w1c(&pm->pm1_sts, off & 1, v, PM1_STS_BITS);
		break;
	case 0x2: case 0x3:
		set_byte(&pm->pm1_en, off & 1, v, PM1_EN_BITS);
		break;
	case 0x4:
		/* SCI_EN is the hardware's, GBL_RLS has no firmware to
		 * wake: only BM_RLD is kept. */
		set_byte(&pm->pm1_cnt, 0, v, PM1_CNT_STORED);
		break;
	case 0x5:
		return write_cnt_high(pm, v);
	case 0xc: case 0xd:
		w1c(&pm->gpe0_sts, off & 1, v, 0xffff);
		break;
	case 0xe: case 0xf:
		set_byte(&pm->gpe0_en, off & 1, v, 0xffff);
		break;
	default:
		break;         /* the timer is read-only; 0x606/0x607 are empty */
	}
	return ACPI_PM_NONE;
}

enum acpi_pm_event acpi_pm_io(struct acpi_pm *pm, unsigned port, unsigned size,
			      int is_in, uint32_t *value, uint64_t now_ns)
{
	enum acpi_pm_event ev = ACPI_PM_NONE;

	if (!acpi_pm_claims(port, size)) {
		if (is_in)
			*value = size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
		return ACPI_PM_NONE;
	}
	acpi_pm_update(pm, now_ns);
	if (is_in) {
		uint32_t v = 0;

		for (unsigned i = 0; i < size; i++)
			v |= (uint32_t)read_byte(pm, port + i, now_ns) << (8 * i);
		*value = v;
		return ACPI_PM_NONE;
	}
	for (unsigned i = 0; i < size; i++) {
		enum acpi_pm_event e = write_byte(pm, port + i, (uint8_t)(*value >> (8 * i)));

		if (e != ACPI_PM_NONE)
			ev = e;
	}
	return ev;
}
