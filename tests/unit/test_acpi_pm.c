/* Host unit tests for servers/vmm/acpi_pm.c: the ACPI fixed-hardware
 * registers.  The tests play the guest (port reads and writes, in the
 * sequences Linux's ACPICA uses to power off and to handle the power
 * button) and the VMM (the time, the power button, the SCI line). */
// unit-under-test: servers/vmm/acpi_pm.c
#include <stdint.h>
#include "unit.h"
#include "../../servers/vmm/acpi_pm.h"

#define MS 1000000ull
#define S  1000000000ull

static struct acpi_pm pm;
static uint64_t now;

static uint32_t in(unsigned port, unsigned size)
{
	uint32_t v = 0xdeadbeef;

	acpi_pm_io(&pm, port, size, 1, &v, now);
	return v;
}

static enum acpi_pm_event out(unsigned port, unsigned size, uint32_t v)
{
	return acpi_pm_io(&pm, port, size, 0, &v, now);
}

static void reset(void)
{
	acpi_pm_init(&pm);
	now = 0;
}

static void test_ports(void)
{
	CHECK(acpi_pm_claims(0x600, 2) && acpi_pm_claims(0x608, 4) && acpi_pm_claims(0x60f, 1),
	      "claims the PM block 0x600-0x60f");
	CHECK(!acpi_pm_claims(0x5ff, 1) && !acpi_pm_claims(0x610, 1) && !acpi_pm_claims(0x60e, 4),
	      "nothing outside it");
	CHECK(acpi_pm_claims(ACPI_RESET_PORT, 1), "claims byte access to 0xcf9");
	CHECK(!acpi_pm_claims(0xcf8, 4) && !acpi_pm_claims(0xcf9, 2),
	      "leaves wider accesses at 0xcf8 to PCI CONFIG_ADDRESS");
	CHECK(!acpi_pm_claims(0x600, 3), "size 3 is no access");
	reset();
	CHECK(in(0x700, 2) == 0xffff && in(0x700, 4) == 0xffffffff && in(0x700, 1) == 0xff,
	      "an unclaimed read is all ones, as wide as the access");
	CHECK(in(0x606, 2) == 0xffff, "0x606-0x607 are not decoded");
}

static void test_power_on_state(void)
{
	reset();
	CHECK(in(ACPI_PM1A_EVT_BLK, 2) == 0, "PM1_STS clear at power on");
	CHECK(in(ACPI_PM1A_EVT_BLK + 2, 2) == 0, "PM1_EN clear at power on");
	CHECK(in(ACPI_PM1A_CNT_BLK, 2) == ACPI_PM1_SCI_EN,
	      "PM1_CNT: SCI_EN set from the start (already in ACPI mode)");
	CHECK(in(ACPI_GPE0_BLK, 4) == 0, "GPE0 status and enable clear");
	CHECK(in(ACPI_RESET_PORT, 1) == 0, "reset control clear");
	CHECK(!acpi_pm_sci_level(&pm), "SCI low");
}

static void test_pm1_control(void)
{
	reset();
	CHECK(out(ACPI_PM1A_CNT_BLK, 2, 0) == ACPI_PM_NONE, "writing 0 to PM1_CNT: no event");
	CHECK(in(ACPI_PM1A_CNT_BLK, 2) & ACPI_PM1_SCI_EN, "SCI_EN cannot be cleared (hardware owned)");
	out(ACPI_PM1A_CNT_BLK, 2, ACPI_PM1_BM_RLD | ACPI_PM1_GBL_RLS | 0x03f8);
	CHECK(in(ACPI_PM1A_CNT_BLK, 2) == (ACPI_PM1_SCI_EN | ACPI_PM1_BM_RLD),
	      "BM_RLD kept; GBL_RLS write-only; reserved bits read 0");
	out(ACPI_PM1A_CNT_BLK, 2, ACPI_PM1_SCI_EN | (3 << ACPI_PM1_SLP_TYP_SHIFT));
	CHECK(in(ACPI_PM1A_CNT_BLK, 2) == (ACPI_PM1_SCI_EN | (3 << ACPI_PM1_SLP_TYP_SHIFT)),
	      "SLP_TYP read-write");
	CHECK(in(ACPI_PM1A_CNT_BLK + 1, 1) == (3 << 2), "high byte alone: SLP_TYP");
}

/* acpi_hw_legacy_sleep: clear WAK_STS, clear all status, write SLP_TYP
 * without SLP_EN, then with it. */
static enum acpi_pm_event linux_enter_sleep(unsigned typ)
{
	uint32_t cnt;

	out(ACPI_PM1A_EVT_BLK, 2, ACPI_PM1_WAK_STS);
	out(ACPI_PM1A_EVT_BLK, 2, 0xffff);
	cnt = in(ACPI_PM1A_CNT_BLK, 2);
	cnt &= ~(uint32_t)(ACPI_PM1_SLP_TYP | ACPI_PM1_SLP_EN);
	cnt |= typ << ACPI_PM1_SLP_TYP_SHIFT;
	if (out(ACPI_PM1A_CNT_BLK, 2, cnt) != ACPI_PM_NONE)
		return (enum acpi_pm_event)-1;   /* SLP_TYP alone must do nothing */
	cnt |= ACPI_PM1_SLP_EN;
	return out(ACPI_PM1A_CNT_BLK, 2, cnt);
}

static void test_power_off(void)
{
	reset();
	CHECK(linux_enter_sleep(ACPI_SLP_TYP_S5) == ACPI_PM_POWER_OFF,
	      "Linux's S5 sequence: SLP_TYP=5 then SLP_EN -> power off");
	CHECK(!(in(ACPI_PM1A_CNT_BLK, 2) & ACPI_PM1_SLP_EN), "SLP_EN reads 0");

	reset();
	CHECK(out(ACPI_PM1A_CNT_BLK + 1, 1, (ACPI_PM1_SLP_EN | (ACPI_SLP_TYP_S5 << 10)) >> 8) ==
	      ACPI_PM_POWER_OFF, "a byte write of the high byte powers off too");

	reset();
	CHECK(out(ACPI_PM1A_EVT_BLK, 4, (uint32_t)(ACPI_PM1_SLP_EN | (ACPI_SLP_TYP_S5 << 10)) << 16)
	      == ACPI_PM_NONE, "PM1_EN bits 13/10-12 are not SLP_EN (no power off)");

	reset();
	CHECK(linux_enter_sleep(3) == ACPI_PM_NONE, "S3 (not offered): no event");
	CHECK(in(ACPI_PM1A_EVT_BLK, 2) & ACPI_PM1_WAK_STS,
	      "S3: WAK_STS set at once, so a guest waiting for it goes on");
	out(ACPI_PM1A_EVT_BLK, 2, ACPI_PM1_WAK_STS);
	CHECK(!(in(ACPI_PM1A_EVT_BLK, 2) & ACPI_PM1_WAK_STS), "WAK_STS is write-1-to-clear");
	CHECK(linux_enter_sleep(0) == ACPI_PM_NONE, "S0 type: no event");
	CHECK(linux_enter_sleep(7) == ACPI_PM_NONE, "type 7: no event");
}

static void test_reset(void)
{
	reset();
	CHECK(out(ACPI_RESET_PORT, 1, ACPI_RESET_VALUE) == ACPI_PM_RESET,
	      "ACPI reset: 0x06 to 0xcf9 -> reset");
	reset();
	CHECK(out(ACPI_RESET_PORT, 1, 0x02) == ACPI_PM_NONE, "reboot=pci step 1 (0x02): nothing yet");
	CHECK(in(ACPI_RESET_PORT, 1) == 0x02, "SYS_RST reads back");
	CHECK(out(ACPI_RESET_PORT, 1, 0x0e) == ACPI_PM_RESET, "reboot=pci step 2 (0x0e): reset");
	CHECK(in(ACPI_RESET_PORT, 1) == 0x0a, "RST_CPU does not read back");
}

static void test_status_enable(void)
{
	reset();
	out(ACPI_PM1A_EVT_BLK + 2, 2, 0xffff);
	CHECK(in(ACPI_PM1A_EVT_BLK + 2, 2) ==
	      (ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN | ACPI_PM1_RTC |
	       ACPI_PM1_PCIEXP_WAKE), "PM1_EN keeps only its defined bits");
	out(ACPI_PM1A_EVT_BLK + 2, 2, 0);

	acpi_pm_power_button(&pm, now);
	CHECK(in(ACPI_PM1A_EVT_BLK, 2) == ACPI_PM1_PWRBTN, "power button: PWRBTN_STS");
	CHECK(!acpi_pm_sci_level(&pm), "no SCI while PWRBTN_EN is clear");
	out(ACPI_PM1A_EVT_BLK + 2, 2, ACPI_PM1_PWRBTN);
	CHECK(acpi_pm_sci_level(&pm), "SCI once PWRBTN_EN is set");
	out(ACPI_PM1A_EVT_BLK, 2, 0);
	CHECK(acpi_pm_sci_level(&pm), "writing 0 clears nothing");
	out(ACPI_PM1A_EVT_BLK, 1, 0xff);
	CHECK(acpi_pm_sci_level(&pm), "writing ones to the low byte leaves bit 8");
	out(ACPI_PM1A_EVT_BLK, 2, ACPI_PM1_PWRBTN);
	CHECK(in(ACPI_PM1A_EVT_BLK, 2) == 0 && !acpi_pm_sci_level(&pm),
	      "write 1 to PWRBTN_STS: cleared, SCI drops");

	/* A 32-bit read returns status in the low half and enable in the high. */
	acpi_pm_power_button(&pm, now);
	CHECK(in(ACPI_PM1A_EVT_BLK, 4) == ((uint32_t)ACPI_PM1_PWRBTN << 16 | ACPI_PM1_PWRBTN),
	      "32-bit read of PM1_EVT: status | enable << 16");

	/* GPE0 */
	reset();
	acpi_pm_gpe_raise(&pm, 3);
	acpi_pm_gpe_raise(&pm, 12);
	acpi_pm_gpe_raise(&pm, 16);   /* no such GPE: ignored */
	CHECK(in(ACPI_GPE0_BLK, 2) == ((1u << 3) | (1u << 12)), "GPE0_STS bits raised");
	CHECK(!acpi_pm_sci_level(&pm), "GPEs disabled: no SCI");
	out(ACPI_GPE0_BLK + 3, 1, 0x10);
	CHECK(in(ACPI_GPE0_BLK + 2, 2) == (1u << 12) && acpi_pm_sci_level(&pm),
	      "GPE0_EN bit 12 (byte write): SCI");
	out(ACPI_GPE0_BLK + 1, 1, 0x10);
	CHECK(in(ACPI_GPE0_BLK, 2) == (1u << 3) && !acpi_pm_sci_level(&pm),
	      "GPE0_STS write 1 to clear: SCI drops");
}

static void test_timer(void)
{
	uint32_t a, b;

	reset();
	CHECK(in(ACPI_PM_TMR_BLK, 4) == 0, "timer 0 at time 0");
	now = 1 * S;
	CHECK(in(ACPI_PM_TMR_BLK, 4) == ACPI_PM_TIMER_HZ, "3579545 ticks after one second");
	now = 1 * MS;
	CHECK(acpi_pm_timer(now) == 3579, "3579 ticks after 1 ms (rounded down)");
	CHECK(acpi_pm_timer(279) == 0 && acpi_pm_timer(280) == 1,
	      "first tick at 280 ns (1/3.579545 MHz = 279.4 ns)");

	/* Linux checks the rate against the PIT over ~50 ms: within 5%. */
	a = acpi_pm_timer(10 * MS);
	b = acpi_pm_timer(60 * MS);
	CHECK(b - a >= 178977 - 1 && b - a <= 178977 + 1, "50 ms = 178977 ticks");

	/* 24-bit wrap: 2^24 ticks = 4.68695 s. */
	now = 4686 * MS;
	a = in(ACPI_PM_TMR_BLK, 4);
	now = 4687 * MS;
	b = in(ACPI_PM_TMR_BLK, 4);
	CHECK(a > 0xff0000 && b < 0x1000, "the count wraps at 2^24 (0x%x -> 0x%x)", a, b);
	CHECK(((b - a) & 0xffffff) == 3579 || ((b - a) & 0xffffff) == 3580,
	      "Linux's masked delta across the wrap is still 1 ms");
	CHECK((in(ACPI_PM_TMR_BLK, 4) >> 24) == 0, "bits 24-31 read 0");

	/* Byte and word reads see the same count. */
	now = 123456789;
	a = in(ACPI_PM_TMR_BLK, 4);
	CHECK(in(ACPI_PM_TMR_BLK, 1) == (a & 0xff) && in(ACPI_PM_TMR_BLK + 1, 2) == ((a >> 8) & 0xffff),
	      "narrow reads of the timer");
	out(ACPI_PM_TMR_BLK, 4, 0);
	CHECK(in(ACPI_PM_TMR_BLK, 4) == a, "the timer is read-only");

	/* No overflow in the arithmetic for long uptimes: a year. */
	now = 365ull * 24 * 3600 * S;
	CHECK(acpi_pm_timer(now) == (uint32_t)((365ull * 24 * 3600 * ACPI_PM_TIMER_HZ) & 0xffffff),
	      "exact after a year of uptime");
	CHECK(acpi_pm_timer(now + S) - acpi_pm_timer(now) == ACPI_PM_TIMER_HZ ||
	      ((acpi_pm_timer(now + S) - acpi_pm_timer(now)) & 0xffffff) == ACPI_PM_TIMER_HZ,
	      "still 3579545 ticks a second after a year");
}

static void test_timer_status(void)
{
	uint64_t next;

	reset();
	/* Bit 23 first changes at 2^23 ticks = 2.3435 s. */
	now = 2343 * MS;
	CHECK(!(in(ACPI_PM1A_EVT_BLK, 2) & ACPI_PM1_TMR), "no TMR_STS before bit 23 changes");
	now = 2344 * MS;
	CHECK(in(ACPI_PM1A_EVT_BLK, 2) & ACPI_PM1_TMR, "TMR_STS once bit 23 has changed");
	CHECK(!acpi_pm_sci_level(&pm), "no SCI with TMR_EN clear");
	CHECK(acpi_pm_next_event_ns(&pm, now) == UINT64_MAX, "no timer event without TMR_EN");
	out(ACPI_PM1A_EVT_BLK + 2, 2, ACPI_PM1_TMR);
	CHECK(acpi_pm_sci_level(&pm), "TMR_EN: SCI");
	CHECK(acpi_pm_next_event_ns(&pm, now) == UINT64_MAX, "status already set: no event to wait for");
	out(ACPI_PM1A_EVT_BLK, 2, ACPI_PM1_TMR);
	CHECK(!acpi_pm_sci_level(&pm), "TMR_STS cleared: SCI drops");

	next = acpi_pm_next_event_ns(&pm, now);
	CHECK(next > now && acpi_pm_timer(next) == 0 && acpi_pm_timer(next - 1) == 0xffffff,
	      "next event: when the count wraps to 0 (bit 23 falls)");
	acpi_pm_update(&pm, next - 1);
	CHECK(!acpi_pm_sci_level(&pm), "1 ns before: nothing");
	acpi_pm_update(&pm, next);
	CHECK(acpi_pm_sci_level(&pm), "at the event time: TMR_STS and SCI");

	/* Time that goes back changes nothing. */
	reset();
	acpi_pm_update(&pm, 3 * S);
	out(ACPI_PM1A_EVT_BLK, 2, 0xffff);
	acpi_pm_update(&pm, 1 * S);
	CHECK(!(pm.pm1_sts & ACPI_PM1_TMR), "time going back sets no status");
}

int main(void)
{
	test_ports();
	test_power_on_state();
	test_pm1_control();
	test_power_off();
	test_reset();
	test_status_enable();
	test_timer();
	test_timer_status();
	return unit_done();
}
