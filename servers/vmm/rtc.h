/*
 * A model of the PC's CMOS real-time clock (Motorola MC146818A, as every
 * PC chipset still presents it) with its 128 bytes of CMOS RAM.
 *
 * How the VMM uses it
 * -------------------
 *  - Ports: 0x70 (index, write-only; bit 7 is the NMI mask, stored and
 *    otherwise ignored; reads give 0xff) and 0x71 (data).  Byte accesses
 *    only; the VMM splits or refuses wider ones.  Every guest IN/OUT on
 *    them becomes rtc_read()/rtc_write() with the host's time now.
 *  - Time: every call takes `now_ns`, the host's time in nanoseconds
 *    since 1970-01-01 00:00:00 UTC (the unix epoch).  The VMM gets unix
 *    seconds from the clock server (idl/clock.idl, name "clock") once at
 *    start and adds the time elapsed since on its own timer or TSC; the
 *    model needs the sub-second part for the update-in-progress bit and
 *    the periodic interrupt.  `now_ns` must never go backwards (a call
 *    with an earlier time than a previous one is taken as "no time has
 *    passed").  The guest sees this time as it is, i.e. in UTC, which is
 *    what Linux (and Debian's /etc/adjtime default) expects.
 *  - Interrupt: IRQ 8 (ISA, edge).  After every rtc_read/rtc_write/
 *    rtc_update the VMM looks at rtc_irq_level(); a change from 0 to 1 is
 *    an edge to raise on the 8259 (or the I/O APIC pin 8).  The level
 *    falls when the guest reads register C.
 *  - Timer: rtc_next_event(now) says when (host ns) the VMM should next
 *    call rtc_update(): the next periodic, alarm or update-ended
 *    interrupt the guest enabled, or RTC_NO_EVENT.  Ask again after every
 *    access and every rtc_update (the answer changes when the guest
 *    programs the chip or reads register C).  Flags with their interrupt
 *    disabled need no timer: they are brought up to date on each access.
 *    While the alarm interrupt is enabled the answer is the next second
 *    boundary (the alarm is compared at each update), so a guest using
 *    AIE costs one wake-up a second.  The periodic interrupt asks for
 *    its own rate (up to 8192 Hz); a VMM whose timer is coarser may call
 *    rtc_update() late: the ticks in between collapse into one flag,
 *    as on a chip whose register C was not read in time.
 *  - Memory size: rtc_init() takes guest RAM below and above 4 GiB and
 *    fills the CMOS memory-size bytes as a PC BIOS does.
 *  - ACPI: the FADT's CENTURY field should be 0x32 (RTC_CENTURY), which
 *    makes Linux read the century from the chip instead of guessing it
 *    from the two-digit year.  DAY_ALRM and MON_ALRM must be 0: this
 *    chip has no date alarm.
 *
 * What is modelled
 * ----------------
 * Registers 0-9 and 0x32 (century) hold the time in BCD or binary
 * (register B bit 2) and 12 or 24 hours (bit 1; PM is bit 7 of the hour
 * in 12-hour mode).  They are computed from the guest's time on every
 * read, so they always agree with each other; the guest's time is the
 * host's time plus an offset that changes only when the guest sets the
 * clock (as QEMU keeps it).  The day of the week (1 = Sunday) is derived
 * from the date; a value the guest writes there is replaced by the right
 * one when the clock starts again.
 *
 *  - Register A: UIP (bit 7) is set during the last 244 us (8 cycles of
 *    the 32.768 kHz time base) of each second while the clock updates;
 *    the divider bits (6-4) and rate bits (3-0) are stored.  Divider
 *    values 0-2 run the clock (2, 32.768 kHz, is the normal one; like
 *    QEMU we do not slow down for 0 or 1), 6 and 7 hold the divider in
 *    reset, 3-5 stop it.  Leaving reset or stop, the first update comes
 *    500 ms later, as the data sheet says.
 *  - Register B: SET (bit 7) stops the updates and lets the guest write
 *    the time registers; clearing it starts the clock from what they
 *    hold (and clears UIE when SET goes on, as the chip does).  PIE, AIE,
 *    UIE (bits 6-4), SQWE, DM, 24/12 and DSE are stored; DSE changes
 *    nothing (no daylight-saving jumps).  Writing a time register while
 *    the clock runs sets the clock at once.
 *  - Register C: IRQF, PF, AF, UF (bits 7-4); reading it clears them.
 *    PF is set at the periodic rate (register A's rate bits: 1 and 2
 *    are 256 and 128 Hz, n >= 3 is 65536 >> n Hz) whenever the divider
 *    runs; UF at the end of each update (once a second, not while SET);
 *    AF when the time matches the alarm registers (1, 3, 5; a value with
 *    bits 7-6 set is "any").  IRQF = PF.PIE + AF.AIE + UF.UIE.
 *  - Register D: VRT (bit 7) always set: the battery is fine.
 *  - The rest (0x0e-0x7f) is plain RAM, set at init as below.  0x2e-0x2f
 *    hold the standard checksum of 0x10-0x2d, which the model does not
 *    keep up to date after guest writes (neither does a real chipset).
 *
 * Invalid time values written by the guest (a BCD digit above 9, month
 * 13) are clamped to the nearest valid value when the clock starts.
 *
 * This file and rtc.c are a pure state machine: no system calls, no
 * library calls.  They build both for the host (unit tests) and
 * freestanding (the VMM).
 */
#ifndef RTC_H
#define RTC_H

#include <stdint.h>

#define RTC_PORT_INDEX 0x70
#define RTC_PORT_DATA  0x71
#define RTC_IRQ        8

/* Register indexes. */
#define RTC_SECONDS       0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES       0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS         0x04
#define RTC_HOURS_ALARM   0x05
#define RTC_DAY_OF_WEEK   0x06
#define RTC_DAY_OF_MONTH  0x07
#define RTC_MONTH         0x08
#define RTC_YEAR          0x09
#define RTC_REG_A         0x0a
#define RTC_REG_B         0x0b
#define RTC_REG_C         0x0c
#define RTC_REG_D         0x0d
#define RTC_CENTURY       0x32

/* Register A. */
#define RTC_A_UIP        0x80
#define RTC_A_DV_MASK    0x70
#define RTC_A_DV_32KHZ   0x20  /* the normal time base */
#define RTC_A_DV_RESET   0x60  /* 6 and 7: divider held in reset */
#define RTC_A_RATE_MASK  0x0f

/* Register B. */
#define RTC_B_SET   0x80
#define RTC_B_PIE   0x40
#define RTC_B_AIE   0x20
#define RTC_B_UIE   0x10
#define RTC_B_SQWE  0x08
#define RTC_B_DM    0x04  /* 1: binary, 0: BCD */
#define RTC_B_24H   0x02
#define RTC_B_DSE   0x01

/* Register C. */
#define RTC_C_IRQF  0x80
#define RTC_C_PF    0x40
#define RTC_C_AF    0x20
#define RTC_C_UF    0x10

/* Register D. */
#define RTC_D_VRT   0x80

/* CMOS RAM bytes a PC BIOS fills in. */
#define CMOS_SHUTDOWN_STATUS 0x0f
#define CMOS_FLOPPY_TYPES    0x10
#define CMOS_DISK_TYPES      0x12
#define CMOS_EQUIPMENT       0x14
#define CMOS_BASE_MEM_LO     0x15  /* KiB below 1 MiB (640) */
#define CMOS_BASE_MEM_HI     0x16
#define CMOS_EXT_MEM_LO      0x17  /* KiB above 1 MiB, at most 65535 */
#define CMOS_EXT_MEM_HI      0x18
#define CMOS_CHECKSUM_HI     0x2e  /* sum of 0x10..0x2d */
#define CMOS_CHECKSUM_LO     0x2f
#define CMOS_EXT_MEM2_LO     0x30  /* the same as 0x17/0x18 */
#define CMOS_EXT_MEM2_HI     0x31
#define CMOS_MEM_16M_LO      0x34  /* 64 KiB units above 16 MiB, below 4 GiB */
#define CMOS_MEM_16M_HI      0x35
#define CMOS_MEM_4G_LO       0x5b  /* 64 KiB units above 4 GiB (3 bytes) */
#define CMOS_MEM_4G_MID      0x5c
#define CMOS_MEM_4G_HI       0x5d

#define CMOS_SIZE 128

/* rtc_next_event() when nothing the guest enabled is due. */
#define RTC_NO_EVENT UINT64_MAX

#define RTC_NS_PER_SEC 1000000000ULL

/*
 * All the state of the chip.  The fields are public only so that the VMM
 * can embed the struct; change them through the functions below.
 */
struct rtc {
	/* CMOS: registers A, B, C, the alarms and RAM as stored.  The time
	 * registers (0, 2, 4, 6-9, 0x32) are kept here only while the clock
	 * is stopped (SET, or the divider not running): then they are what
	 * the guest reads and writes. */
	uint8_t cmos[CMOS_SIZE];
	uint8_t index;          /* register selected through port 0x70 */
	uint8_t nmi_masked;     /* bit 7 of the last index write */

	/* guest time = host time + offset, with offset_ns in [0, 1 s) */
	int64_t offset_sec;
	uint32_t offset_ns;

	/* host time up to which the flags in register C are up to date */
	uint64_t last_ns;
};

/* Power on: the guest's clock shows the host's time `now_ns`, in 24-hour
 * BCD mode (register A 0x26, B 0x02, as firmware leaves them), and the
 * memory-size bytes describe `ram_below_4g` + `ram_above_4g` bytes. */
void rtc_init(struct rtc *r, uint64_t now_ns, uint64_t ram_below_4g, uint64_t ram_above_4g);

/* Guest port accesses, port 0x70 or 0x71 (others read 0xff, writes
 * ignored). */
uint8_t rtc_read(struct rtc *r, unsigned port, uint64_t now_ns);
void rtc_write(struct rtc *r, unsigned port, uint8_t value, uint64_t now_ns);

/* Bring the interrupt flags up to `now_ns` (the VMM's timer expired). */
void rtc_update(struct rtc *r, uint64_t now_ns);

/* The host time at which rtc_update() may raise the interrupt, or
 * RTC_NO_EVENT.  Never earlier than `now_ns`. */
uint64_t rtc_next_event(const struct rtc *r, uint64_t now_ns);

/* The IRQ 8 line (1: the guest has an enabled interrupt flag pending). */
int rtc_irq_level(const struct rtc *r);

/* The guest's time now, in unix seconds (for tests and diagnostics). */
int64_t rtc_guest_seconds(const struct rtc *r, uint64_t now_ns);

/* Civil date arithmetic, proleptic Gregorian calendar, exposed for the
 * unit tests: days since 1970-01-01 for y-m-d, and back. */
int64_t rtc_days_from_civil(int64_t year, unsigned month, unsigned day);
void rtc_civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day);

#endif
