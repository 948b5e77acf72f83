/*
 * A model of the I/O APIC (82093AA register interface, 24 pins) for the
 * VMM, with one CPU behind it.
 *
 * How the VMM uses it:
 *  - MMIO at IOAPIC_BASE: ioapic_read()/ioapic_write() with the offset
 *    (IOREGSEL at 0, IOWIN at 0x10; 32-bit accesses).
 *  - Lines: ioapic_set_irq(pin, level) whenever a device's line changes;
 *    level is the line asserted or not, whatever the pin's polarity (the
 *    model presents it as the guest programmed it).  An edge-triggered
 *    pin delivers on each rise; a level-triggered one delivers while
 *    asserted, then waits for the EOI of its vector (remote IRR).
 *  - Delivery: the model fills `deliver` with what the pin sends: the
 *    VMM passes it to lapic_accept().  Every destination is the one CPU:
 *    with one local APIC nothing else could take it.
 *  - EOI: when the local APIC ends a level-triggered vector, the VMM calls
 *    ioapic_eoi(vector); a line still asserted delivers again.
 *  Each call that can deliver returns the number of deliveries it made
 *  through the callback (0 or more).
 */
#ifndef IOAPIC_H
#define IOAPIC_H

#include <stdint.h>

#define IOAPIC_BASE  0xfec00000UL
#define IOAPIC_PINS  24

typedef void (*ioapic_deliver_fn)(void *ctx, unsigned vector, int level);

struct ioapic {
	uint32_t id, select;
	uint64_t redir[IOAPIC_PINS];
	uint32_t lines;                 /* asserted pins */
	ioapic_deliver_fn deliver;
	void *ctx;
};

void ioapic_init(struct ioapic *io, unsigned id, ioapic_deliver_fn deliver, void *ctx);
uint32_t ioapic_read(struct ioapic *io, unsigned offset);
void ioapic_write(struct ioapic *io, unsigned offset, uint32_t value);
void ioapic_set_irq(struct ioapic *io, unsigned pin, int level);
void ioapic_eoi(struct ioapic *io, unsigned vector);

#endif
