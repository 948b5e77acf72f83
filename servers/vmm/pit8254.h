/*
 * A model of the PC's 8254 programmable interval timer (three counters
 * clocked at 1.193182 MHz) and of the timer bits of system control
 * port B (0x61), for the VMM.
 *
 * This file and pit8254.c are a pure state machine: no I/O, no system
 * calls, no library calls.  They build both for the host (unit tests)
 * and freestanding (the VMM).
 *
 * ---------------------------------------------------------------------
 * How the VMM must use it
 * ---------------------------------------------------------------------
 *
 * Time.  The model has no clock of its own.  Every call takes `now`:
 * nanoseconds since the VM started, as a uint64_t, computed by the VMM
 * from the host TSC (now = (rdtsc() - tsc_at_vm_start) * 10^9 / tsc_hz,
 * done without overflow).  Counters advance by exactly
 * floor(now * 1193182 / 10^9) input clocks, so what the guest reads
 * back is always consistent with the TSC the guest itself reads: this
 * is what lets Linux calibrate its TSC against channel 2.  `now` must
 * not go backwards; if it does, the model acts as if it had not moved.
 *
 * Start-up.  pit_init(&pit, now) once, before the guest runs.  The state
 * is the one a PC BIOS leaves: channel 0 in mode 3 with count 65536
 * (18.2 Hz interrupts, masked at the 8259 until the guest unmasks IRQ 0),
 * channel 1 in mode 2 with count 18 (the old DRAM refresh), channel 2 in
 * mode 3 with count 65536 but its gate low (port 0x61 = 0), so stopped.
 *
 * Ports.  Byte accesses to 0x40, 0x41, 0x42 (counters 0-2), 0x43 (the
 * control word; reads 0xff, as the write-only register floats) and
 * 0x61 (port B) go to pit_io_read(&pit, port, now) and
 * pit_io_write(&pit, port, value, now), with the absolute port number.
 * A wider access is consecutive byte accesses at port, port+1, ...
 * (what a PC's bus does), or may simply be refused; Linux only uses
 * bytes.  Any other port reads 0xff and ignores writes.
 *
 * IRQ 0.  Channel 0's OUT drives IRQ 0, and the 8259 latches its rising
 * edges.  The VMM must:
 *   1. after every pit_io_write() to 0x40-0x43 (a new count or mode can
 *      raise OUT at once), on every timer notification, and at least
 *      whenever it is about to inject interrupts or park a halted VCPU,
 *      call n = pit_update(&pit, now); if n > 0, raise IRQ 0 ONCE
 *      (pic_raise(0)), whatever n is;
 *   2. then call pit_next_irq(&pit, now) and arm its timer for that
 *      absolute time (UINT64_MAX: none is coming; cancel the timer).
 *      The value is exact: at that `now`, pit_update() reports the edge.
 *      A host timer coarser than this (the 100 Hz SYS_NOTIFY_AFTER)
 *      must round up, never down: a notification that arrives early
 *      just finds pit_update() returning 0; re-arm and wait again.
 * Missed edges are never replayed: if the VMM looks only after several
 * periods of a periodic mode have passed, pit_update() returns their
 * number but the guest gets one interrupt.  A real 8259 behaves the
 * same way (IRR is one bit), and Linux keeps time from the TSC
 * clocksource, not by counting ticks, so a burst of stale ticks would
 * only make it run its timer handler back to back for nothing.
 *
 * Port 0x61 (system control port B), as on a PC AT:
 *   bit 0  read/write  channel 2 GATE
 *   bit 1  read/write  speaker data enable (stored; there is no speaker)
 *   bit 2  read/write  parity check disable (stored)
 *   bit 3  read/write  channel check disable (stored)
 *   bit 4  read        refresh toggle: flips on every read, so code
 *                      that waits for it to change never hangs
 *   bit 5  read        channel 2 OUT
 *   bit 6  read        channel check (I/O error) NMI source: always 0
 *   bit 7  read        parity error NMI source: always 0
 *
 * What Linux does with it (x86, no local APIC, no HPET, as Berth's VMM
 * presents the machine):
 *  - TSC calibration (quick_pit_calibrate, pit_calibrate_tsc): channel
 *    2 in mode 0 with the gate set through port 0x61, then either the
 *    MSB read at 0x42 as it counts down, or OUT2 polled at 0x61 bit 5.
 *  - The clock event device: periodic is mode 2 (control word 0x34 and
 *    the LATCH count); one-shot is mode 4 (0x38), each event being a
 *    count written to 0x40 (the interrupt comes count + 2 clocks
 *    later: the load clock, the count, and the end of the one-clock
 *    strobe); shutdown is mode 0 (0x30) with count 0, which by the
 *    chip's rules gives one more interrupt 65537 clocks later.
 *  - The "pit" clocksource (only when nothing better exists) latches
 *    channel 0 in mode 2 with command 0x00 and reads LSB then MSB.
 *
 * Exit cost and Linux's calibration.  The model is exact, but
 * quick_pit_calibrate() also judges how fast the PIT can be read: it
 * wants each MSB value seen more than 5 times and, on its first step,
 * the uncertainty of two reads under about 1/9 of 256 ticks (24 us).
 * With `now` taken from the host TSC, that holds only if one guest
 * port access (exit, VMM, reply) costs at most about 3 us; at 4 us it
 * prints "Fast TSC calibration failed" (tests/unit/test_pit8254.c plays
 * the routine at several costs).  pit_calibrate_tsc(), the fallback,
 * needs at most 10 us per poll of port 0x61 and a steady poll time.
 * A VMM slower than that can only hide its exit time from the guest
 * (the same hidden time in the guest's TSC offset and in `now`).
 *
 * Not modelled: the 8254's behaviour on illegal counts (1 in modes 2
 * and 3 gives no interrupts here; invalid BCD digits are taken at face
 * value, modulo 10000), and any delay between a port access and its
 * effect beyond the chip's documented "next clock".
 */
#ifndef PIT8254_H
#define PIT8254_H

#include <stdint.h>

#define PIT_HZ 1193182u  /* input clock: 14.31818 MHz / 12 */

#define PIT_PORT_COUNTER0 0x40
#define PIT_PORT_COUNTER1 0x41
#define PIT_PORT_COUNTER2 0x42
#define PIT_PORT_CONTROL  0x43
#define PIT_PORT_B        0x61   /* system control port B */

/* Control word (port 0x43). */
#define PIT_CW_SC_SHIFT   6      /* bits 7-6: counter, or 3 = read-back */
#define PIT_CW_RW_SHIFT   4      /* bits 5-4: access */
#define PIT_CW_MODE_SHIFT 1      /* bits 3-1: mode */
#define PIT_CW_BCD        0x01
#define PIT_RW_LATCH      0      /* counter latch command */
#define PIT_RW_LSB        1
#define PIT_RW_MSB        2
#define PIT_RW_LSB_MSB    3

/* Read-back command: 11 COUNT# STATUS# CNT2 CNT1 CNT0 0 (# = active low). */
#define PIT_RB_NO_COUNT   0x20
#define PIT_RB_NO_STATUS  0x10
#define PIT_RB_COUNTER(i) (0x02 << (i))

/* Status byte from the read-back command. */
#define PIT_STATUS_OUT        0x80
#define PIT_STATUS_NULL_COUNT 0x40  /* the last count written is not in the CE yet */

/* Port B. */
#define PIT_PORTB_GATE2    0x01
#define PIT_PORTB_SPEAKER  0x02
#define PIT_PORTB_WRITABLE 0x0f
#define PIT_PORTB_REFRESH  0x10
#define PIT_PORTB_OUT2     0x20

/*
 * One counter.  The fields are public only so that the VMM can embed the
 * struct; change them through the functions below.
 *
 * The counting element (CE) is described, while it runs, by a
 * "position": how many input clocks it has counted since the count n
 * was loaded.  The position at clock tick t is base_pos + (t - base_tick)
 * (or base_pos while GATE holds it), and the CE value and OUT level are
 * functions of the mode, n and the position, so nothing needs to happen
 * as time passes.  Things that do happen at a chosen future clock (the
 * count register loaded into the CE on the next clock, or at the end of
 * a period in modes 2 and 3) are a pending load, applied when time
 * reaches it.
 */
struct pit_channel {
	/* Programming. */
	uint8_t control;        /* control word bits 5-0, for the status byte */
	uint8_t mode;           /* 0..5 (6 and 7 are 2 and 3) */
	uint8_t access;         /* PIT_RW_LSB, _MSB or _LSB_MSB */
	uint8_t bcd;
	uint8_t gate;
	uint16_t cr;            /* count register, as written */
	uint8_t cr_written;     /* a count was written since the control word */
	uint8_t null_count;
	uint8_t write_msb_next; /* LSB/MSB access: the next write is the MSB */
	uint8_t pending_lsb;    /* ... and this is the LSB it completes */
	uint8_t read_msb_next;  /* LSB/MSB access: the next read is the MSB */

	/* Output latch (counter latch and read-back commands). */
	uint8_t count_latched;
	uint8_t status_latched;
	uint16_t latched_count;
	uint8_t latched_status;

	/* The counting element. */
	uint8_t running;        /* 0: CE holds frozen_ce, OUT is stopped_out */
	uint8_t held;           /* running, but GATE low holds the count */
	uint8_t stopped_out;
	uint16_t frozen_ce;     /* register value (BCD if bcd) */
	uint32_t n;             /* count in the CE: 1..65536 (1..10000 BCD) */
	uint64_t base_tick;
	uint64_t base_pos;

	/* A load of CR into the CE, due at load_tick. */
	uint8_t load_pending;
	uint8_t load_low_half;  /* mode 3: start in the low half-cycle */
	uint64_t load_tick;

	/* Rising edges of OUT counted up to and including edges_tick. */
	uint64_t edges_tick;
	uint64_t edges;
};

struct pit8254 {
	struct pit_channel ch[3];
	uint8_t port_b;         /* bits 0-3 of port 0x61 */
	uint8_t refresh;        /* the bit-4 toggle */
	uint64_t tick;          /* input clocks since VM start, as last seen */
};

/* Reset (the state a BIOS leaves, see above) at time `now`. */
void pit_init(struct pit8254 *pit, uint64_t now);

/* Guest byte accesses to ports 0x40-0x43 and 0x61. */
uint8_t pit_io_read(struct pit8254 *pit, unsigned port, uint64_t now);
void pit_io_write(struct pit8254 *pit, unsigned port, uint8_t value, uint64_t now);

/* Rising edges of OUT0 (channel 0, IRQ 0) since the last call.  Raise
 * IRQ 0 once if this is not 0. */
uint64_t pit_update(struct pit8254 *pit, uint64_t now);

/* When pit_update() will next report an edge: an absolute time in ns
 * (at most `now` if it would report one already), or UINT64_MAX if
 * channel 0 will not raise OUT again unless the guest reprograms it. */
uint64_t pit_next_irq(struct pit8254 *pit, uint64_t now);

/* The OUT level of counter 0..2 at `now` (for tests and tracing). */
int pit_out(struct pit8254 *pit, unsigned channel, uint64_t now);

/* Conversions between ns since VM start and input clock ticks: the
 * ticks that have happened by `ns`, and the first ns by which tick
 * `ticks` has happened. */
uint64_t pit_ns_to_ticks(uint64_t ns);
uint64_t pit_ticks_to_ns(uint64_t ticks);

#endif
