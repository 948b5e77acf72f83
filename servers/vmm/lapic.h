/*
 * A model of the local APIC (xAPIC mode, one CPU) for the VMM.
 *
 * How the VMM uses it:
 *  - MMIO: the page at the APIC base (LAPIC_DEFAULT_BASE unless the guest
 *    moves it) goes to lapic_read()/lapic_write() with its offset; only
 *    aligned 32-bit accesses mean anything (the SDM's rule): other reads
 *    give the bytes of the register they fall in, other writes are
 *    ignored.
 *  - MSRs: IA32_APIC_BASE (0x1b) through lapic_base_read/write (a write
 *    setting the x2APIC bit or reserved bits fails: the VMM injects #GP),
 *    IA32_TSC_DEADLINE (0x6e0) through lapic_deadline_read/write.
 *  - Interrupts in: lapic_accept(vector, level) for a fixed interrupt from
 *    the I/O APIC (or an IPI to self).  Out: lapic_pending() is the vector
 *    to inject or -1; lapic_ack(vector) when the VMM injects it.  A write
 *    to EOI may return a level-triggered vector: the VMM tells the I/O
 *    APIC (ioapic_eoi).
 *  - The 8259: it reaches the CPU through LINT0 as ExtINT.
 *    lapic_extint_open() says whether it does now: when the APIC is
 *    disabled in IA32_APIC_BASE, or LVT LINT0 is unmasked in ExtINT mode
 *    (as firmware leaves it; Linux masks it once it uses the I/O APIC).
 *  - Time: every call that depends on time takes now_ns, nanoseconds of
 *    the VM's clock; the TSC relates to it as lapic_init was told
 *    (tsc = tsc0 + ns * tsc_hz / 1e9).  The timer counts at
 *    LAPIC_TIMER_HZ before the divide.  lapic_timer_next() says when the
 *    timer next needs lapic_timer_update() (CLOCK_NEVER if not armed);
 *    the VMM may call it late: a periodic timer then fires once and goes
 *    on from now, never in a burst.
 */
#ifndef LAPIC_H
#define LAPIC_H

#include <stdint.h>

#define LAPIC_DEFAULT_BASE 0xfee00000UL
#define LAPIC_TIMER_HZ     1000000000UL   /* 1 GHz bus clock: one count per ns at divide 1 */
#define LAPIC_NEVER        UINT64_MAX

#define MSR_APIC_BASE    0x1b
#define MSR_TSC_DEADLINE 0x6e0

enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_COUNT };

struct lapic {
	uint64_t base_msr;                 /* IA32_APIC_BASE */
	uint32_t id, tpr, ldr, dfr, svr;
	uint32_t esr, esr_pending;         /* ESR reads what the last write latched */
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[LVT_COUNT];
	uint32_t irr[8], isr[8], tmr[8];
	uint32_t timer_initial, timer_divide;  /* DCR as written */
	uint64_t timer_start_ns;           /* one-shot/periodic: when the count was loaded */
	uint64_t timer_due_ns;             /* its next expiry, LAPIC_NEVER when not counting */
	uint64_t tsc_deadline;             /* IA32_TSC_DEADLINE, 0 disarmed */
	uint64_t tsc0, tsc_hz;             /* the TSC at VM time 0, and its rate */
};

void lapic_init(struct lapic *l, uint64_t tsc0, uint64_t tsc_hz);
uint32_t lapic_read(struct lapic *l, unsigned offset, uint64_t now_ns);
/* Returns a vector whose level-triggered interrupt ended (an EOI the
 * I/O APIC must see), or -1. */
int lapic_write(struct lapic *l, unsigned offset, uint32_t value, uint64_t now_ns);
uint64_t lapic_base_read(const struct lapic *l);
int lapic_base_write(struct lapic *l, uint64_t value);  /* -1: #GP */
uint64_t lapic_deadline_read(const struct lapic *l);
void lapic_deadline_write(struct lapic *l, uint64_t tsc, uint64_t now_ns);

void lapic_accept(struct lapic *l, unsigned vector, int level);
int lapic_pending(const struct lapic *l);
void lapic_ack(struct lapic *l, unsigned vector);
int lapic_extint_open(const struct lapic *l);
int lapic_enabled(const struct lapic *l);   /* globally, in IA32_APIC_BASE */

uint64_t lapic_timer_next(const struct lapic *l);
void lapic_timer_update(struct lapic *l, uint64_t now_ns);

#endif
