/* Host unit tests for servers/vmm/lapic.c: registers, priorities and EOI,
 * the timer in one-shot, periodic and TSC-deadline modes, the APIC base
 * MSR, and what Linux's boot does with them. */
// unit-under-test: servers/vmm/lapic.c
#include <stdint.h>
#include "unit.h"
#include "../../servers/vmm/lapic.h"

#define TSC_HZ 2000000000UL   /* 2 GHz: 2 TSC ticks per ns */
#define TSC0   1000000UL

int main(void)
{
	struct lapic l;
	lapic_init(&l, TSC0, TSC_HZ);

	/* power-on, as firmware leaves it */
	CHECK(lapic_base_read(&l) == (LAPIC_DEFAULT_BASE | 0x900), "APIC base: 0xfee00000, BSP, enabled");
	CHECK(lapic_read(&l, 0x30, 0) == 0x00050014, "version 0x14 with six LVT entries");
	CHECK(lapic_read(&l, 0x20, 0) == 0, "APIC ID 0");
	CHECK(lapic_read(&l, 0x350, 0) == 0x700, "LINT0 is ExtINT, unmasked");
	CHECK(lapic_read(&l, 0x360, 0) == 0x400, "LINT1 is NMI");
	CHECK(lapic_read(&l, 0x320, 0) & (1u << 16), "the timer's LVT is masked");
	CHECK(lapic_extint_open(&l), "the 8259 reaches the CPU through LINT0");
	CHECK(lapic_pending(&l) == -1, "nothing pending");

	/* priorities: a vector waits while its class is not above PPR */
	lapic_accept(&l, 0x41, 0);
	CHECK(lapic_pending(&l) == 0x41, "an accepted vector is pending");
	lapic_write(&l, 0x80, 0x50, 0);
	CHECK(lapic_pending(&l) == -1, "TPR 0x50 holds back 0x41");
	CHECK(lapic_read(&l, 0xa0, 0) == 0x50, "PPR follows TPR");
	lapic_write(&l, 0x80, 0, 0);
	CHECK(lapic_pending(&l) == 0x41, "TPR 0 lets it through");
	lapic_ack(&l, 0x41);
	CHECK(lapic_read(&l, 0x100 + 0x20, 0) == 1u << 1, "in service: ISR bit 0x41");
	CHECK(lapic_read(&l, 0xa0, 0) == 0x40, "PPR is the class in service");
	lapic_accept(&l, 0x45, 0);
	CHECK(lapic_pending(&l) == -1, "a vector of the same class waits for the EOI");
	lapic_accept(&l, 0x61, 0);
	CHECK(lapic_pending(&l) == 0x61, "a higher class preempts");
	lapic_ack(&l, 0x61);
	CHECK(lapic_write(&l, 0xb0, 0, 0) == -1, "EOI of an edge vector: nothing for the I/O APIC");
	CHECK(lapic_read(&l, 0x100 + 0x30, 0) == 0, "EOI ends the highest in service first (0x61)");
	CHECK(lapic_pending(&l) == -1, "0x45 still waits behind 0x41");
	lapic_write(&l, 0xb0, 0, 0);
	CHECK(lapic_pending(&l) == 0x45, "after 0x41's EOI, 0x45 is due");
	lapic_ack(&l, 0x45);
	lapic_write(&l, 0xb0, 0, 0);

	/* level-triggered: its EOI goes on to the I/O APIC */
	lapic_accept(&l, 0x39, 1);
	CHECK(lapic_read(&l, 0x180 + 0x10, 0) == 1u << 25, "TMR records a level-triggered vector");
	lapic_ack(&l, 0x39);
	CHECK(lapic_write(&l, 0xb0, 0, 0) == 0x39, "its EOI is reported for the I/O APIC");

	/* illegal vectors and ESR's write-then-read */
	lapic_accept(&l, 5, 0);
	CHECK(lapic_pending(&l) == -1, "vector 5 is not accepted");
	CHECK(lapic_read(&l, 0x280, 0) == 0, "ESR reads 0 before a write latches it");
	lapic_write(&l, 0x280, 0, 0);
	CHECK(lapic_read(&l, 0x280, 0) == 0x40, "then shows 'received illegal vector'");
	lapic_write(&l, 0x280, 0, 0);
	CHECK(lapic_read(&l, 0x280, 0) == 0, "and the next write clears it");

	/* self-IPI through ICR */
	lapic_write(&l, 0x300, 0x40000 | 0x52, 0);
	CHECK(lapic_pending(&l) == 0x52, "a fixed IPI to self is accepted");
	CHECK(!(lapic_read(&l, 0x300, 0) & (1u << 12)), "ICR never shows 'send pending'");
	lapic_ack(&l, 0x52);
	lapic_write(&l, 0xb0, 0, 0);
	lapic_write(&l, 0x310, 1u << 24, 0);
	lapic_write(&l, 0x300, 0x53, 0);
	CHECK(lapic_pending(&l) == -1, "an IPI to APIC 1 goes nowhere");
	lapic_write(&l, 0x300, 0x500, 0);
	CHECK(lapic_pending(&l) == -1, "INIT is ignored");

	/* one-shot timer, divide by 16: one count per 16 ns at 1 GHz */
	lapic_write(&l, 0x3e0, 0x3, 0);
	lapic_write(&l, 0x320, 0x30, 1000);
	lapic_write(&l, 0x380, 1000, 1000);
	CHECK(lapic_timer_next(&l) == 1000 + 16000, "one-shot: due after 1000 counts of 16 ns");
	CHECK(lapic_read(&l, 0x390, 1000 + 8000) == 500, "current count halfway: 500");
	lapic_timer_update(&l, 1000 + 15999);
	CHECK(lapic_pending(&l) == -1, "not before it is due");
	lapic_timer_update(&l, 1000 + 16000);
	CHECK(lapic_pending(&l) == 0x30, "fires its vector when due");
	CHECK(lapic_timer_next(&l) == LAPIC_NEVER && lapic_read(&l, 0x390, 20000) == 0, "and stops at 0");
	lapic_ack(&l, 0x30);
	lapic_write(&l, 0xb0, 0, 0);
	lapic_write(&l, 0x3e0, 0xb, 20000);
	lapic_write(&l, 0x380, 100, 20000);
	CHECK(lapic_timer_next(&l) == 20100, "divide 0b1011 is by 1");
	lapic_write(&l, 0x380, 0, 20050);
	CHECK(lapic_timer_next(&l) == LAPIC_NEVER, "initial count 0 stops the timer");

	/* periodic: no burst after a late update */
	lapic_write(&l, 0x320, 0x20031, 30000);
	lapic_write(&l, 0x380, 1000, 30000);
	lapic_timer_update(&l, 31000);
	CHECK(lapic_pending(&l) == 0x31, "periodic: the first period fires");
	CHECK(lapic_timer_next(&l) == 32000, "and reloads");
	lapic_ack(&l, 0x31);
	lapic_write(&l, 0xb0, 0, 0);
	lapic_timer_update(&l, 39500);
	CHECK(lapic_pending(&l) == 0x31, "late by seven periods: it fires");
	lapic_ack(&l, 0x31);
	lapic_write(&l, 0xb0, 0, 0);
	CHECK(lapic_timer_next(&l) == 40500 && lapic_pending(&l) == -1,
	      "once, and goes on a period from now (no burst)");
	lapic_write(&l, 0x320, 0x30031, 40000);
	lapic_timer_update(&l, 40600);
	CHECK(lapic_pending(&l) == -1, "a masked timer delivers nothing");

	/* TSC-deadline */
	lapic_write(&l, 0x320, 0x40032, 50000);
	CHECK(lapic_timer_next(&l) == LAPIC_NEVER, "changing the mode disarms the timer");
	lapic_write(&l, 0x380, 5, 50000);
	CHECK(lapic_timer_next(&l) == LAPIC_NEVER && lapic_read(&l, 0x380, 50000) == 0,
	      "TSC-deadline mode ignores the initial count");
	lapic_deadline_write(&l, TSC0 + 2 * 60000, 50000);
	CHECK(lapic_deadline_read(&l) == TSC0 + 120000, "IA32_TSC_DEADLINE reads back");
	CHECK(lapic_timer_next(&l) == 60000, "the deadline in VM time: 60000 ns");
	lapic_timer_update(&l, 60000);
	CHECK(lapic_pending(&l) == 0x32, "fires at the deadline");
	CHECK(lapic_deadline_read(&l) == 0 && lapic_timer_next(&l) == LAPIC_NEVER, "and disarms");
	lapic_ack(&l, 0x32);
	lapic_write(&l, 0xb0, 0, 0);
	lapic_deadline_write(&l, 1, 70000);
	CHECK(lapic_timer_next(&l) == 0, "a deadline in the past is due at once");
	lapic_deadline_write(&l, 0, 70000);
	CHECK(lapic_timer_next(&l) == LAPIC_NEVER, "writing 0 disarms");
	lapic_write(&l, 0x320, 0x10000, 70000);
	lapic_deadline_write(&l, TSC0 + 1000000, 70000);
	CHECK(lapic_deadline_read(&l) == 0, "outside TSC-deadline mode the MSR is ignored");

	/* SVR: software disable masks every LVT and keeps them masked */
	lapic_write(&l, 0xf0, 0xff, 0);
	CHECK(lapic_read(&l, 0x350, 0) & (1u << 16), "software disable masks LINT0");
	lapic_write(&l, 0x350, 0x700, 0);
	CHECK(lapic_read(&l, 0x350, 0) & (1u << 16), "and an LVT cannot be unmasked while disabled");
	lapic_accept(&l, 0x70, 0);
	CHECK(lapic_pending(&l) == -1, "nothing is delivered while software-disabled");
	lapic_write(&l, 0xf0, 0x1ff, 0);
	CHECK(lapic_pending(&l) == 0x70, "enabling again delivers what waited");
	lapic_ack(&l, 0x70);
	lapic_write(&l, 0xb0, 0, 0);
	lapic_write(&l, 0x350, 0x10700, 0);
	CHECK(!lapic_extint_open(&l), "LINT0 masked: the 8259 no longer reaches the CPU");

	/* the base MSR */
	CHECK(lapic_base_write(&l, LAPIC_DEFAULT_BASE | 0xd00) == -1, "setting x2APIC mode is refused");
	CHECK(lapic_base_write(&l, LAPIC_DEFAULT_BASE | 0x900 | 1) == -1, "reserved bits are refused");
	CHECK(lapic_base_write(&l, LAPIC_DEFAULT_BASE) == 0 && !lapic_enabled(&l), "the APIC can be disabled");
	CHECK(lapic_extint_open(&l), "and then the 8259 goes straight to the CPU");
	lapic_accept(&l, 0x40, 0);
	CHECK(lapic_pending(&l) == -1, "a disabled APIC accepts nothing");
	CHECK(lapic_base_write(&l, 0xfed00000UL | 0x800) == 0 && lapic_base_read(&l) == (0xfed00000UL | 0x900),
	      "it can be moved and enabled again (BSP stays set)");

	/* odd accesses */
	lapic_init(&l, TSC0, TSC_HZ);
	CHECK(lapic_read(&l, 0x3f0, 0) == 0 && lapic_read(&l, 0xb0, 0) == 0, "reserved and EOI read 0");
	lapic_write(&l, 0x30, 0, 0);
	CHECK(lapic_read(&l, 0x30, 0) == 0x00050014, "the version is read-only");
	return unit_done();
}
