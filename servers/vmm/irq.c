/* Interrupt lines and the way to the CPU.
 *
 * A PC's interrupt lines reach two controllers at once: the 8259 pair
 * (ISA IRQ n) and the I/O APIC (pin n, except the timer's IRQ 0, which is
 * pin 2: the MADT says so, acpi.h).  The I/O APIC sends to the local
 * APIC; the 8259 reaches the CPU through the local APIC's LINT0 while it
 * is in ExtINT mode or the APIC is off, as firmware leaves it.  A guest
 * uses one of the two (Linux masks the other), so driving both is safe.
 *
 * Devices give their line's level (irq_line) or a pulse (irq_pulse); the
 * 8259 here is edge-triggered, so a rise is what it sees. */
#include "vm.h"

static uint32_t levels;   /* ISA lines now asserted */

static unsigned ioapic_pin(unsigned isa)
{
	return isa == 0 ? 2 : isa;
}

void irq_line(unsigned isa, int level)
{
	uint32_t bit = 1u << isa;
	irq_recheck = 1;
	if (level && !(levels & bit))
		pic_raise(isa);
	levels = level ? levels | bit : levels & ~bit;
	ioapic_set_irq(&vm.ioapic, ioapic_pin(isa), level);
}

void irq_pulse(unsigned isa)
{
	irq_line(isa, 1);
	irq_line(isa, 0);
}

/* The I/O APIC's messages land in the local APIC. */
static void to_lapic(void *ctx, unsigned vector, int level)
{
	(void)ctx;
	lapic_accept(&vm.lapic, vector, level);
}

void irq_init(void)
{
	levels = 0;
	ioapic_init(&vm.ioapic, 1, to_lapic, 0);
	lapic_init(&vm.lapic, clock_tsc0(), clock_tsc_hz());
}

/* The vector to inject next, or -1; *from_pic says whose it is. */
int irq_next(int *from_pic)
{
	int v = lapic_pending(&vm.lapic);
	*from_pic = 0;
	if (v >= 0)
		return v;
	if (!lapic_extint_open(&vm.lapic))
		return -1;
	*from_pic = 1;
	return pic_pending();
}

/* The VMM injected it: the controller moves it to "in service". */
void irq_take(int vector, int from_pic)
{
	if (from_pic)
		pic_ack();
	else
		lapic_ack(&vm.lapic, (unsigned)vector);
}

int irq_due(void)
{
	int from_pic;
	return irq_next(&from_pic) >= 0;
}

/* The ISA lines' levels, for snapshots (snapshot.c). */
uint32_t irq_levels(void)
{
	return levels;
}

void irq_levels_restore(uint32_t saved)
{
	levels = saved;
}
