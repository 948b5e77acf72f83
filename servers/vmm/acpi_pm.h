/*
 * The ACPI fixed-hardware registers of the guest's platform: PM1a event
 * (status and enable), PM1a control, the PM timer, a GPE0 block and the
 * reset register, at the ports the FADT gives (acpi.h).
 *
 * How the VMM uses it:
 *
 *   - At VM start (and on every guest reset): acpi_pm_init(&pm).
 *   - Port I/O: for every guest IN/OUT where acpi_pm_claims(port, size)
 *     is true (ports 0x600-0x60f, any size 1/2/4; port 0xcf9 with size 1
 *     only, since wider accesses at 0xcf8 are PCI CONFIG_ADDRESS), call
 *       ev = acpi_pm_io(&pm, port, size, is_in, &value, now_ns);
 *     value is read or written in its low `size` bytes.  Then:
 *       ev == ACPI_PM_POWER_OFF  the guest asked for S5: stop the VM
 *                                (as after "poweroff"), do not resume it;
 *       ev == ACPI_PM_RESET      the guest asked for a reset: reboot it.
 *   - After every call that can change it (acpi_pm_io, acpi_pm_update,
 *     acpi_pm_power_button, acpi_pm_gpe_raise), set the SCI line (ISA IRQ
 *     9 on the 8259, GSI 9 on the I/O APIC, level-triggered, active high)
 *     to acpi_pm_sci_level(&pm).  It is a level: it stays up until the
 *     guest clears the status bit.
 *   - Graceful shutdown from the host: acpi_pm_power_button(&pm, now_ns)
 *     presses the power button.  Linux (its ACPI button driver, then
 *     systemd-logind or acpid) shuts down and ends with an S5 write.
 *   - Time: now_ns is nanoseconds since the VM started, from the same
 *     clock the guest's TSC follows (Linux calibrates the TSC against
 *     this timer), and never decreasing.  The PM timer reads
 *     now_ns * 3.579545 MHz, modulo 2^24.
 *   - Timer overflow interrupt: the guest may set TMR_EN to get an SCI
 *     each time timer bit 23 changes (every ~2.34 s).  Linux never does.
 *     TMR_STS is computed when the VMM gives the model the time; if the
 *     VMM wants that SCI on time, it arms a host timer for
 *     acpi_pm_next_event_ns() and calls acpi_pm_update() then.  Without
 *     that, TMR_STS is still right whenever the guest reads PM1_STS.
 *
 * Registers (16-bit unless said; reserved bits read 0, writes ignored):
 *   0x600 PM1_STS  write 1 to clear.  TMR_STS (bit 0: timer bit 23
 *                  changed), PWRBTN_STS (8: the power button was
 *                  pressed), WAK_STS (15: set when a sleep state other
 *                  than S5 is entered, meaning "woke up at once").
 *                  BM/GBL/SLPBTN/RTC/PCIEXP_WAKE never get set here.
 *   0x602 PM1_EN   TMR_EN (0), GBL_EN (5), PWRBTN_EN (8), SLPBTN_EN (9),
 *                  RTC_EN (10), PCIEXP_WAKE_DIS (14): read-write.
 *   0x604 PM1_CNT  SCI_EN (0): reads 1 always (no SMI firmware; the
 *                  hardware owns this bit).  BM_RLD (1): read-write.
 *                  GBL_RLS (2): write-only, ignored (no firmware to
 *                  signal).  SLP_TYP (10-12): read-write.  SLP_EN (13):
 *                  write-only, reads 0.  Writing SLP_EN = 1 enters
 *                  sleep state SLP_TYP: ACPI_SLP_TYP_S5 returns
 *                  ACPI_PM_POWER_OFF; any other type (the DSDT offers
 *                  none) is not a state this platform has, so the model
 *                  "wakes" at once: it sets WAK_STS and returns
 *                  ACPI_PM_NONE, and a guest waiting for WAK_STS goes on.
 *   0x608 PM_TMR   32-bit read-only: bits 0-23 count, bits 24-31 read 0
 *                  (FADT TMR_VAL_EXT clear).
 *   0x60c GPE0_STS 16 GPEs, write 1 to clear; set by acpi_pm_gpe_raise.
 *   0x60e GPE0_EN  read-write.
 *   0x606, 0x607   not decoded: read 0xff.
 *   0xcf9 RST_CNT  byte: bits 1 (SYS_RST) and 3 (FULL_RST) read-write;
 *                  writing bit 2 (RST_CPU) as 1 returns ACPI_PM_RESET.
 *                  ACPI's reset writes 0x06; Linux's reboot=pci 0x02 then
 *                  0x06 (or 0x0e).
 *
 * Registers are modelled byte by byte, so any access size and any
 * alignment behaves as the concatenation of byte accesses (all at the
 * same now_ns).
 *
 * A pure state machine: no system calls and no library calls, for the
 * VMM and for tests/unit/test_acpi_pm.c alike.
 */
#ifndef ACPI_PM_H
#define ACPI_PM_H

#include <stdint.h>
#include "acpi.h"

/* PM1 status (0x600) and enable (0x602) bits. */
#define ACPI_PM1_TMR          0x0001   /* TMR_STS / TMR_EN */
#define ACPI_PM1_BM_STS       0x0010
#define ACPI_PM1_GBL          0x0020   /* GBL_STS / GBL_EN */
#define ACPI_PM1_PWRBTN       0x0100   /* PWRBTN_STS / PWRBTN_EN */
#define ACPI_PM1_SLPBTN       0x0200
#define ACPI_PM1_RTC          0x0400
#define ACPI_PM1_PCIEXP_WAKE  0x4000   /* _STS / _DIS */
#define ACPI_PM1_WAK_STS      0x8000

/* PM1 control (0x604) bits. */
#define ACPI_PM1_SCI_EN       0x0001
#define ACPI_PM1_BM_RLD       0x0002
#define ACPI_PM1_GBL_RLS      0x0004
#define ACPI_PM1_SLP_TYP_SHIFT 10
#define ACPI_PM1_SLP_TYP      0x1c00
#define ACPI_PM1_SLP_EN       0x2000

/* Reset control register (0xcf9) bits. */
#define ACPI_RST_SYS          0x02
#define ACPI_RST_CPU          0x04
#define ACPI_RST_FULL         0x08

#define ACPI_PM_TIMER_HZ      3579545u
#define ACPI_PM_TIMER_BITS    24

enum acpi_pm_event {
	ACPI_PM_NONE = 0,
	ACPI_PM_POWER_OFF,   /* SLP_EN written with SLP_TYP = S5 */
	ACPI_PM_RESET,       /* RST_CPU written to 0xcf9 */
};

/* All the state.  Public only so that the VMM can embed it. */
struct acpi_pm {
	uint16_t pm1_sts;
	uint16_t pm1_en;
	uint16_t pm1_cnt;      /* BM_RLD and SLP_TYP as written; SCI_EN is implied */
	uint16_t gpe0_sts;
	uint16_t gpe0_en;
	uint8_t rst_cnt;       /* SYS_RST and FULL_RST */
	uint64_t seen_ticks;   /* the timer count when time was last given */
};

/* Power-on state: everything clear, SCI_EN set, timer following now_ns. */
void acpi_pm_init(struct acpi_pm *pm);

/* 1 if port..port+size-1 is this model's (see above). */
int acpi_pm_claims(unsigned port, unsigned size);

/* One guest IN (is_in != 0: *value receives the low `size` bytes, the
 * rest zero) or OUT (the low `size` bytes of *value are written).  size
 * is 1, 2 or 4.  Ports not claimed read as all ones and ignore writes. */
enum acpi_pm_event acpi_pm_io(struct acpi_pm *pm, unsigned port, unsigned size,
			      int is_in, uint32_t *value, uint64_t now_ns);

/* The PM timer's 24-bit value at now_ns (what a read of 0x608 returns). */
uint32_t acpi_pm_timer(uint64_t now_ns);

/* Brings TMR_STS up to date for now_ns (see the timer overflow note). */
void acpi_pm_update(struct acpi_pm *pm, uint64_t now_ns);

/* When TMR_STS will next be set, in now_ns units, if TMR_EN is on and
 * TMR_STS is clear (the only case where that would raise the SCI);
 * otherwise UINT64_MAX. */
uint64_t acpi_pm_next_event_ns(const struct acpi_pm *pm, uint64_t now_ns);

/* Host events. */
void acpi_pm_power_button(struct acpi_pm *pm, uint64_t now_ns);
void acpi_pm_gpe_raise(struct acpi_pm *pm, unsigned gpe);  /* gpe 0..15 */

/* The SCI level now: SCI_EN and an enabled status bit (PM1 timer, global,
 * power button, sleep button, RTC; or any GPE0). */
int acpi_pm_sci_level(const struct acpi_pm *pm);

#endif
