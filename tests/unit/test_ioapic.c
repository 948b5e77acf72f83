/* Host unit tests for servers/vmm/ioapic.c: registers, edge and level
 * pins, masking, remote IRR and EOI, and Linux's way of programming it. */
// unit-under-test: servers/vmm/ioapic.c
#include <stdint.h>
#include "unit.h"
#include "../../servers/vmm/ioapic.h"

static unsigned got[16], ngot;
static int got_level[16];

static void deliver(void *ctx, unsigned vector, int level)
{
	(void)ctx;
	if (ngot < 16) {
		got_level[ngot] = level;
		got[ngot++] = vector;
	}
}

static void redir(struct ioapic *io, unsigned pin, uint32_t lo, uint32_t hi)
{
	ioapic_write(io, 0, 0x10 + 2 * pin + 1);
	ioapic_write(io, 0x10, hi);
	ioapic_write(io, 0, 0x10 + 2 * pin);
	ioapic_write(io, 0x10, lo);
}

static uint32_t reg(struct ioapic *io, unsigned r)
{
	ioapic_write(io, 0, r);
	return ioapic_read(io, 0x10);
}

int main(void)
{
	struct ioapic io;
	ioapic_init(&io, 1, deliver, 0);
	CHECK(reg(&io, 0) == 1u << 24, "ID register reads the ID (1)");
	CHECK(reg(&io, 1) == 0x00170011, "version 0x11, 24 entries");
	CHECK(reg(&io, 0x10) == 0x10000, "entries start masked");
	CHECK(ioapic_read(&io, 0) == 0x10, "IOREGSEL reads back");

	/* an edge pin: one delivery per rise */
	redir(&io, 2, 0x30, 0);
	CHECK(reg(&io, 0x14) == 0x30 && reg(&io, 0x15) == 0, "an entry reads back");
	ioapic_set_irq(&io, 2, 1);
	CHECK(ngot == 1 && got[0] == 0x30 && !got_level[0], "a rising edge delivers its vector");
	ioapic_set_irq(&io, 2, 1);
	CHECK(ngot == 1, "a line held high does not deliver again");
	ioapic_set_irq(&io, 2, 0);
	ioapic_set_irq(&io, 2, 1);
	CHECK(ngot == 2, "the next rise delivers again");
	ioapic_set_irq(&io, 2, 0);

	/* masked edges are lost */
	redir(&io, 4, 0x10034, 0);
	ioapic_set_irq(&io, 4, 1);
	ioapic_set_irq(&io, 4, 0);
	redir(&io, 4, 0x34, 0);
	CHECK(ngot == 2, "an edge while masked is lost");

	/* a level pin: remote IRR until EOI */
	ngot = 0;
	redir(&io, 9, 0xa039, 0); /* level, active low, vector 0x39 */
	ioapic_set_irq(&io, 9, 1);
	CHECK(ngot == 1 && got[0] == 0x39 && got_level[0], "a level line delivers, marked level");
	CHECK(reg(&io, 0x22) & (1u << 14), "remote IRR is set");
	ioapic_set_irq(&io, 9, 1);
	CHECK(ngot == 1, "no second delivery before the EOI");
	ioapic_eoi(&io, 0x39);
	CHECK(ngot == 2, "after the EOI a line still asserted delivers again");
	ioapic_set_irq(&io, 9, 0);
	ioapic_eoi(&io, 0x39);
	CHECK(ngot == 2 && !(reg(&io, 0x22) & (1u << 14)), "after the EOI of a dropped line: nothing, IRR clear");
	ioapic_eoi(&io, 0x77);
	CHECK(ngot == 2, "an EOI for another vector changes nothing");

	/* masking a level line; unmasking an asserted one delivers */
	redir(&io, 9, 0x1a039, 0);
	ioapic_set_irq(&io, 9, 1);
	CHECK(ngot == 2, "a masked level line waits");
	redir(&io, 9, 0xa039, 0);
	CHECK(ngot == 3, "unmasking it while asserted delivers");
	CHECK(reg(&io, 0x22) & (1u << 14), "with remote IRR set");
	redir(&io, 9, 0xa039, 0);
	CHECK(ngot == 3, "rewriting the entry does not deliver twice (remote IRR)");

	/* read-only bits */
	redir(&io, 5, 0x5035 | (1u << 12) | (1u << 14), 0);
	CHECK(!(reg(&io, 0x1a) & ((1u << 12) | (1u << 14))), "delivery status and remote IRR are read-only");

	/* ExtINT and NMI entries have no way to our CPU here */
	ngot = 0;
	redir(&io, 6, 0x700, 0);
	ioapic_set_irq(&io, 6, 1);
	CHECK(ngot == 0, "an ExtINT entry sends nothing");
	redir(&io, 7, 0x140, 0xff000000);
	ioapic_set_irq(&io, 7, 1);
	CHECK(ngot == 1 && got[0] == 0x40, "lowest priority with any destination reaches the one CPU");

	ioapic_set_irq(&io, 24, 1);
	CHECK(ngot == 1, "a pin past the last is ignored");
	ioapic_write(&io, 0, 0x10 + 2 * 24);
	ioapic_write(&io, 0x10, 0x55);
	CHECK(ioapic_read(&io, 0x10) == 0, "a register past the last reads 0 and ignores writes");
	return unit_done();
}
