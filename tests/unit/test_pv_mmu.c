/* Host unit tests for servers/vmm/pv_mmu.c, mode=pv's validator of the
 * guest's page-table updates: a small guest memory with a two-space
 * layout like guests/teach's built through pins and batches, the map
 * callback recorded per (root, address) and checked against what a walk
 * of the tables gives, and every rule of pv_abi.h broken once, each
 * refused with its error and nothing changed. */
// unit-under-test: servers/vmm/pv_mmu.c
#include <stdint.h>
#include <string.h>
#include "unit.h"
#include "../../servers/vmm/pv_mmu.h"

#define RAM (2u << 20)
#define PG 4096u
#define P PV_PTE_P
#define W PV_PTE_W

static uint8_t ram[RAM] __attribute__((aligned(4096)));
static struct pv_mmu mmu;

/* what the callback was told: root's page va maps pte (0: nothing) */
#define SEEN 4096
static struct { unsigned root; uint64_t va, pte; } seen[SEEN];
static unsigned nseen, calls;

static void map(void *ctx, unsigned root, uint64_t va, uint64_t pte)
{
	(void)ctx;
	calls++;
	for (unsigned i = 0; i < nseen; i++)
		if (seen[i].root == root && seen[i].va == va) {
			seen[i].pte = pte;
			return;
		}
	if (nseen < SEEN)
		seen[nseen++] = (typeof(seen[0])){ root, va, pte };
}

static uint64_t mapped(unsigned root, uint64_t va)
{
	for (unsigned i = 0; i < nseen; i++)
		if (seen[i].root == root && seen[i].va == va)
			return seen[i].pte;
	return 0;
}

static uint64_t entry(uint64_t gpa)
{
	uint64_t e;
	memcpy(&e, ram + gpa, 8);
	return e;
}

static int upd(uint64_t ptr, uint64_t val)
{
	struct pv_mmu_update u = { ptr, val };
	uint64_t done;
	return pv_mmu_batch(&mmu, &u, 1, &done);
}

/* the layout: kernel L1 at 0x10000 mapping 1..511 1:1; space s has
 * PML4 0x20000+s*0x4000, PDPT +0x1000, PD +0x2000, private L1 +0x3000
 * mapping 0x800000 to the page 0x40000+s*0x1000 */
#define KPT 0x10000u
#define PML4(s) (0x20000u + (s) * 0x4000u)
#define PDPT(s) (PML4(s) + 0x1000u)
#define PD(s) (PML4(s) + 0x2000u)
#define PPT(s) (PML4(s) + 0x3000u)
#define PRIV(s) (0x40000u + (s) * 0x1000u)

static int is_table(uint64_t pa)
{
	return pa == KPT || (pa >= PML4(0) && pa < PML4(2));
}

int main(void)
{
	pv_mmu_init(&mmu, ram, RAM, map, 0);

	/* pins of empty tables */
	int err = pv_mmu_pin(&mmu, KPT, 1);
	for (unsigned s = 0; s < 2; s++) {
		err = err ? err : pv_mmu_pin(&mmu, PPT(s), 1);
		err = err ? err : pv_mmu_pin(&mmu, PD(s), 2);
		err = err ? err : pv_mmu_pin(&mmu, PDPT(s), 3);
		err = err ? err : pv_mmu_pin(&mmu, PML4(s), 4);
	}
	CHECK(err == PV_OK, "nine empty tables pinned (got %d)", err);
	CHECK(pv_mmu_root(&mmu, PML4(0)) == 0 && pv_mmu_root(&mmu, PML4(1)) == 1, "the L4s are roots 0 and 1");
	CHECK(pv_mmu_root(&mmu, PD(0)) == PV_E_LEVEL && pv_mmu_root(&mmu, 0x50000) == PV_E_NOT_TABLE,
	      "a PD is no root, nor is a page that is no table");

	/* the kernel's L1 in one batch: tables read-only */
	static struct pv_mmu_update b[PV_MMU_BATCH_MAX];
	for (unsigned i = 1; i < 512; i++)
		b[i - 1] = (struct pv_mmu_update){ KPT + i * 8, (uint64_t)i * PG | P | (is_table(i * PG) ? 0 : W) };
	uint64_t done = 99;
	err = pv_mmu_batch(&mmu, b, 511, &done);
	CHECK(err == PV_OK && done == 511, "a batch of 511 kernel entries applied (err %d, done %lu)", err,
	      (unsigned long)done);
	CHECK(calls == 0, "nothing is mapped yet: the L1 is linked nowhere");

	/* link the spaces */
	for (unsigned s = 0; s < 2; s++) {
		struct pv_mmu_update l[] = {
			{ PML4(s), PDPT(s) | P | W }, { PDPT(s), PD(s) | P | W }, { PD(s), KPT | P | W },
			{ PD(s) + (0x800000 >> 21) * 8, PPT(s) | P | W },
			{ PPT(s) + ((0x800000 >> 12) & 511) * 8, PRIV(s) | P | W },
		};
		err = pv_mmu_batch(&mmu, l, 5, &done);
		CHECK(err == PV_OK && done == 5, "space %u linked (err %d)", s, err);
	}
	CHECK(mapped(0, 0x5000) == (0x5000 | P | W) && mapped(1, 0x5000) == (0x5000 | P | W),
	      "the kernel's page 5 is in both spaces, writable");
	CHECK(mapped(0, KPT) == (KPT | P) && mapped(1, PML4(1)) == (PML4(1) | P), "the tables are mapped read-only");
	CHECK(mapped(0, 0x800000) == (PRIV(0) | P | W) && mapped(1, 0x800000) == (PRIV(1) | P | W),
	      "0x800000 is each space's own page");
	CHECK(mapped(0, 0) == 0, "page 0 stays unmapped");

	/* one change of the shared L1 reaches both spaces at once */
	CHECK(upd(KPT + 7 * 8, 0) == PV_OK && mapped(0, 0x7000) == 0 && mapped(1, 0x7000) == 0,
	      "unmapping a kernel page unmaps it in both spaces");
	CHECK(upd(KPT + 7 * 8, 0x9000 | P) == PV_OK && mapped(0, 0x7000) == (0x9000 | P) &&
	      mapped(1, 0x7000) == (0x9000 | P), "remapping it remaps it in both");

	/* unlinking a subtree unmaps all it held, in that space only */
	CHECK(upd(PD(1) + (0x800000 >> 21) * 8, 0) == PV_OK && mapped(1, 0x800000) == 0 &&
	      mapped(0, 0x800000) == (PRIV(0) | P | W), "unlinking space 1's private L1 unmaps only its page");
	CHECK(upd(PD(1) + (0x800000 >> 21) * 8, PPT(1) | P | W) == PV_OK && mapped(1, 0x800000) == (PRIV(1) | P | W),
	      "linking it again maps it again");

	/* every rule broken once: refused, the entry unchanged */
	uint64_t before = entry(KPT + 8);
	unsigned calls_before = calls;
	CHECK(upd(RAM + 8, P) == PV_E_NOT_RAM, "an entry address outside guest RAM: PV_E_NOT_RAM");
	CHECK(upd(0x50000, 0x1000 | P) == PV_E_NOT_TABLE, "an entry in a page that is no table: PV_E_NOT_TABLE");
	CHECK(upd(KPT + 9, 0x1000 | P) == PV_E_INVAL, "an unaligned entry address: PV_E_INVAL");
	CHECK(upd(KPT + 8, (uint64_t)RAM | P) == PV_E_NOT_RAM, "a frame outside guest RAM: PV_E_NOT_RAM");
	CHECK(upd(KPT + 8, 1ULL << 40 | P) == PV_E_NOT_RAM, "a frame far outside: PV_E_NOT_RAM");
	CHECK(upd(KPT + 8, 0x1000 | P | 1ULL << 52) == PV_E_RESERVED, "bit 52: PV_E_RESERVED");
	CHECK(upd(KPT + 8, 0x1000 | P | PV_PTE_PS) == PV_E_RESERVED, "PS: PV_E_RESERVED");
	CHECK(upd(KPT + 8, PD(0) | P | W) == PV_E_WRITABLE_TABLE, "a table mapped writable: PV_E_WRITABLE_TABLE");
	CHECK(upd(KPT + 8, KPT | P | W) == PV_E_WRITABLE_TABLE, "an L1 mapping itself writable: PV_E_WRITABLE_TABLE");
	CHECK(upd(PD(0) + 8, 0x50000 | P | W) == PV_E_LEVEL, "a PD entry naming a page that is no table: PV_E_LEVEL");
	CHECK(upd(PD(0) + 8, PD(1) | P | W) == PV_E_LEVEL, "a PD entry naming a PD: PV_E_LEVEL");
	CHECK(upd(PML4(0) + 256 * 8, PDPT(0) | P) == PV_E_HIGH_HALF, "an upper-half L4 entry: PV_E_HIGH_HALF");
	CHECK(entry(KPT + 8) == before && calls == calls_before, "nothing changed, nothing was mapped");
	CHECK(upd(KPT + 8, 0x1000ULL << 40) == PV_OK, "a non-present entry may hold anything");
	CHECK(upd(KPT + 8, before) == PV_OK && mapped(0, 0x1000) == before, "and is put back");

	/* a batch stops at its first bad update */
	struct pv_mmu_update bad[3] = { { KPT + 20 * 8, 0x14000 | P }, { KPT + 21 * 8, PD(0) | P | W },
	                                { KPT + 22 * 8, 0 } };
	err = pv_mmu_batch(&mmu, bad, 3, &done);
	CHECK(err == PV_E_WRITABLE_TABLE && done == 1 && entry(KPT + 22 * 8) != 0,
	      "a batch stops at its first refusal: 1 done, the third not reached");
	CHECK(pv_mmu_batch(&mmu, bad, 1ULL << 63, &done) == PV_E_INVAL && done == 0, "a count of 2^63: PV_E_INVAL");
	CHECK(pv_mmu_batch(&mmu, bad, PV_MMU_BATCH_MAX + 1, &done) == PV_E_INVAL, "one over the maximum: PV_E_INVAL");

	/* pins */
	CHECK(pv_mmu_pin(&mmu, 0x5000, 1) == PV_E_BUSY, "pinning a page mapped writable: PV_E_BUSY");
	CHECK(pv_mmu_pin(&mmu, KPT, 1) == PV_E_BUSY, "pinning a table twice: PV_E_BUSY");
	CHECK(pv_mmu_pin(&mmu, 0x5001, 1) == PV_E_INVAL && pv_mmu_pin(&mmu, 0x9000, 5) == PV_E_INVAL,
	      "an unaligned page or a level 5: PV_E_INVAL");
	CHECK(pv_mmu_pin(&mmu, RAM, 1) == PV_E_NOT_RAM, "a page outside RAM: PV_E_NOT_RAM");
	/* page 0x9000: read-only everywhere first, then a bad entry in it, then pinned */
	CHECK(pv_mmu_pin(&mmu, 0x9000, 1) == PV_E_BUSY, "page 9 is mapped writable: not yet");
	CHECK(upd(KPT + 9 * 8, 0x9000 | P) == PV_OK, "page 9 mapped read-only");
	uint64_t bad_entry = (uint64_t)RAM | P;
	memcpy(ram + 0x9000 + 16, &bad_entry, 8);
	CHECK(pv_mmu_pin(&mmu, 0x9000, 1) == PV_E_NOT_RAM && !pv_mmu_is_table(&mmu, 0x9000),
	      "a page holding an entry outside RAM is not pinned");
	uint64_t self = 0x9000 | P | W;
	memcpy(ram + 0x9000 + 16, &self, 8);
	CHECK(pv_mmu_pin(&mmu, 0x9000, 1) == PV_E_WRITABLE_TABLE, "nor one mapping itself writable");
	self = 0x9000 | P;
	memcpy(ram + 0x9000 + 16, &self, 8);
	CHECK(pv_mmu_pin(&mmu, 0x9000, 1) == PV_OK, "mapping itself read-only, it is pinned");
	CHECK(upd(KPT + 9 * 8, 0x9000 | P | W) == PV_E_WRITABLE_TABLE, "and may no longer be mapped writable");

	/* a page the VMM writes (the shared info) is never a table, even read-only */
	CHECK(upd(KPT + 0x11 * 8, 0x11000 | P) == PV_OK, "page 0x11000 mapped read-only");
	pv_mmu_vmm_writes(&mmu, 0x11000);
	CHECK(pv_mmu_pin(&mmu, 0x11000, 1) == PV_E_BUSY, "pinning a page the VMM writes: PV_E_BUSY");

	/* links: one table named by at most PV_MMU_LINKS entries */
	int last = PV_OK;
	unsigned n = 0;
	for (; n < PV_MMU_LINKS + 1 && last == PV_OK; n++)
		last = upd(PD(0) + (100 + n) * 8, KPT | P);
	CHECK(last == PV_E_LIMIT && n == PV_MMU_LINKS - 1, "the kernel L1 linked %u more times, then PV_E_LIMIT", n - 1);
	CHECK(entry(PD(0) + (100 + n - 1) * 8) == 0, "the refused link is not written");
	CHECK(mapped(0, (100ULL << 21) | 0x5000) == (0x5000 | P | W), "an added link maps the L1's pages there too");

	/* replay: a new address space gets everything its root maps */
	nseen = 0;
	pv_mmu_replay(&mmu, 1);
	CHECK(mapped(1, 0x5000) == (0x5000 | P | W) && mapped(1, 0x800000) == (PRIV(1) | P | W) && mapped(0, 0x5000) == 0,
	      "replaying root 1 maps its pages and none of root 0's");
	return unit_done();
}
