/* The I/O APIC: redirection entries, edge and level pins, remote IRR.
 * See ioapic.h for how the VMM drives it. */
#include "ioapic.h"

#define REDIR_MASKED     (1UL << 16)
#define REDIR_LEVEL      (1UL << 15)
#define REDIR_REMOTE_IRR (1UL << 14)
#define REDIR_PENDING    (1UL << 12)    /* delivery status: read-only */
#define REDIR_WRITABLE   (0xff000000000000ffUL | (7UL << 8) | (1UL << 11) | (1UL << 13) | REDIR_LEVEL | REDIR_MASKED)

void ioapic_init(struct ioapic *io, unsigned id, ioapic_deliver_fn deliver, void *ctx)
{
	*io = (struct ioapic){ .id = id & 0xf, .deliver = deliver, .ctx = ctx };
	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		io->redir[i] = REDIR_MASKED;
}

static int asserted(const struct ioapic *io, unsigned pin)
{
	return (io->lines >> pin) & 1;
}

/* Send what the pin says.  Fixed and lowest-priority go to our one CPU;
 * ExtINT, NMI, SMI and INIT have nothing to reach here (the 8259 has its
 * own way in, through LINT0). */
static void send(struct ioapic *io, unsigned pin)
{
	uint64_t e = io->redir[pin];
	unsigned mode = (unsigned)(e >> 8) & 7;
	if (e & REDIR_MASKED)
		return;
	if (e & REDIR_LEVEL) {
		if (e & REDIR_REMOTE_IRR)
			return;
		io->redir[pin] |= REDIR_REMOTE_IRR;
	}
	if (mode <= 1 && io->deliver)
		io->deliver(io->ctx, (unsigned)e & 0xff, (e & REDIR_LEVEL) != 0);
}

uint32_t ioapic_read(struct ioapic *io, unsigned offset)
{
	if (offset == 0)
		return io->select;
	if (offset != 0x10)
		return 0;
	unsigned reg = io->select & 0xff;
	if (reg == 0)
		return io->id << 24;
	if (reg == 1)
		return ((IOAPIC_PINS - 1u) << 16) | 0x11; /* version 0x11, the highest entry */
	if (reg == 2)
		return io->id << 24;
	if (reg >= 0x10 && reg < 0x10 + 2 * IOAPIC_PINS) {
		uint64_t e = io->redir[(reg - 0x10) / 2];
		return (reg & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
	}
	return 0;
}

void ioapic_write(struct ioapic *io, unsigned offset, uint32_t value)
{
	if (offset == 0) {
		io->select = value & 0xff;
		return;
	}
	if (offset != 0x10)
		return;
	unsigned reg = io->select & 0xff;
	if (reg == 0) {
		io->id = (value >> 24) & 0xf;
		return;
	}
	if (reg < 0x10 || reg >= 0x10 + 2 * IOAPIC_PINS)
		return;
	unsigned pin = (reg - 0x10) / 2;
	uint64_t e = io->redir[pin];
	uint64_t v = (reg & 1) ? (e & 0xffffffffUL) | ((uint64_t)value << 32)
	                       : (e & 0xffffffff00000000UL) | value;
	uint64_t kept = e & REDIR_REMOTE_IRR;
	if (!(v & REDIR_LEVEL))
		kept = 0;  /* an edge pin has no remote IRR */
	io->redir[pin] = (v & REDIR_WRITABLE) | kept;
	/* unmasking a level line that is still asserted delivers it now */
	if ((io->redir[pin] & REDIR_LEVEL) && asserted(io, pin))
		send(io, pin);
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, int level)
{
	if (pin >= IOAPIC_PINS)
		return;
	int was = asserted(io, pin);
	if (level)
		io->lines |= 1u << pin;
	else
		io->lines &= ~(1u << pin);
	if (!level)
		return;
	if (io->redir[pin] & REDIR_LEVEL)
		send(io, pin);
	else if (!was)
		send(io, pin);
}

void ioapic_eoi(struct ioapic *io, unsigned vector)
{
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t e = io->redir[pin];
		if ((e & 0xff) != vector || !(e & REDIR_LEVEL) || !(e & REDIR_REMOTE_IRR))
			continue;
		io->redir[pin] &= ~REDIR_REMOTE_IRR;
		if (asserted(io, pin))
			send(io, pin);
	}
}
