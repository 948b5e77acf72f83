/*
 * mode=pv's page-table updates, validated (pv_mmu.h says how the VMM
 * calls this; pv_abi.h gives the rules a guest sees).  The invariant kept:
 * every present entry of every pinned table is valid (its frame in guest
 * RAM, no reserved bits, a non-leaf entry naming a table pinned at the
 * level below, no leaf mapping a pinned table writable), so whatever the
 * address spaces are built from is the guest's own memory, and the guest
 * can change its tables only through here.  That is what lets the VMM
 * apply a change to every address space at once instead of discovering
 * it by faults, as mode=trap's shadow must.
 *
 * An entry of a table at level L covers guest-virtual bits
 * [12 + 9(L-1), 12 + 9L).  A table's virtual addresses in a root are found
 * by walking up its links; levels strictly decrease downwards, so there
 * are no cycles, and with at most PV_MMU_LINKS links per table at most
 * PV_MMU_LINKS^3 paths lead to one L1.
 */
#include "pv_mmu.h"

#define ENTRIES 512
#define PAGE 4096ULL

static unsigned shift(unsigned level)
{
	return 12 + 9 * (level - 1);
}

static uint64_t *entry_at(struct pv_mmu *m, uint64_t gpa)
{
	return (uint64_t *)(m->ram + gpa);
}

static struct pv_table *table_at(struct pv_mmu *m, uint64_t gpa)
{
	if (gpa >= m->ram_bytes || !m->table_of[gpa / PAGE])
		return 0;
	return &m->table[m->table_of[gpa / PAGE] - 1];
}

int pv_mmu_is_table(const struct pv_mmu *m, uint64_t gpa)
{
	return gpa < m->ram_bytes && m->table_of[gpa / PAGE] != 0;
}

void pv_mmu_init(struct pv_mmu *m, uint8_t *ram, uint64_t ram_bytes, pv_map_fn *map, void *ctx)
{
	*m = (struct pv_mmu){ .ram = ram, .map = map, .ctx = ctx };
	m->ram_bytes = ram_bytes < PV_MMU_PAGES * PAGE ? ram_bytes & ~(PAGE - 1) : PV_MMU_PAGES * PAGE;
}

/* Whether val may be entry index of a table at level. */
static int check_entry(struct pv_mmu *m, unsigned level, unsigned index, uint64_t self, uint64_t val)
{
	if (!(val & PV_PTE_P))
		return PV_OK;
	if (val & PV_PTE_RESERVED)
		return PV_E_RESERVED;
	if (level == 4 && index >= ENTRIES / 2)
		return PV_E_HIGH_HALF;
	uint64_t frame = val & PV_PTE_ADDR;
	if (frame >= m->ram_bytes)
		return PV_E_NOT_RAM;
	if (level == 1) {
		/* self: a table being pinned is not a table yet, but will be */
		if ((val & PV_PTE_W) && (frame == self || table_at(m, frame)))
			return PV_E_WRITABLE_TABLE;
		return PV_OK;
	}
	const struct pv_table *child = table_at(m, frame);
	if (!child || child->level != level - 1)
		return PV_E_LEVEL;
	return PV_OK;
}

/* Count val in (or out of) what it names: a writable mapping of a page,
 * or a link from parent's entry index to a table. */
static int account(struct pv_mmu *m, unsigned parent, unsigned index, uint64_t val)
{
	if (!(val & PV_PTE_P))
		return PV_OK;
	uint64_t frame = val & PV_PTE_ADDR;
	if (m->table[parent].level == 1) {
		if (val & PV_PTE_W)
			m->writable_maps[frame / PAGE]++;
		return PV_OK;
	}
	struct pv_table *child = table_at(m, frame);
	if (child->nlinks == PV_MMU_LINKS)
		return PV_E_LIMIT;
	child->link[child->nlinks++] = (uint16_t)(parent << 9 | index);
	return PV_OK;
}

static void unaccount(struct pv_mmu *m, unsigned parent, unsigned index, uint64_t val)
{
	if (!(val & PV_PTE_P))
		return;
	uint64_t frame = val & PV_PTE_ADDR;
	if (m->table[parent].level == 1) {
		if (val & PV_PTE_W)
			m->writable_maps[frame / PAGE]--;
		return;
	}
	struct pv_table *child = table_at(m, frame);
	uint16_t link = (uint16_t)(parent << 9 | index);
	for (unsigned i = 0; i < child->nlinks; i++)
		if (child->link[i] == link) {
			child->link[i] = child->link[--child->nlinks];
			return;
		}
}

/* Every leaf under the entry val of a table at level, at base va, given
 * to map (as unmapped when unmap is set). */
static void leaves(struct pv_mmu *m, unsigned root, unsigned level, uint64_t va, uint64_t val, int unmap)
{
	if (!(val & PV_PTE_P))
		return;
	if (level == 1) {
		m->map(m->ctx, root, va, unmap ? 0 : val);
		return;
	}
	const uint64_t *child = entry_at(m, val & PV_PTE_ADDR);
	for (unsigned i = 0; i < ENTRIES; i++)
		leaves(m, root, level - 1, va | (uint64_t)i << shift(level - 1), child[i], unmap);
}

/* For each root and address at which table t is seen (va: the address
 * bits of t's entry and of the tables above t so far), the leaves under
 * val, an entry of a table at level. */
static void effects(struct pv_mmu *m, unsigned t, uint64_t va, unsigned level, uint64_t val, int unmap)
{
	const struct pv_table *tab = &m->table[t];
	if (tab->level == 4) {
		leaves(m, tab->root, level, va, val, unmap);
		return;
	}
	for (unsigned i = 0; i < tab->nlinks; i++)
		effects(m, tab->link[i] >> 9, va | (uint64_t)(tab->link[i] & 511) << shift(tab->level + 1u), level, val,
		        unmap);
}

/* Entry index of table t is now (or was) val: every address space it
 * reaches, told. */
static void apply_effects(struct pv_mmu *m, unsigned t, unsigned index, uint64_t val, int unmap)
{
	unsigned level = m->table[t].level;
	effects(m, t, (uint64_t)index << shift(level), level, val, unmap);
}

int pv_mmu_update(struct pv_mmu *m, uint64_t ptr, uint64_t val)
{
	if (ptr & 7)
		return PV_E_INVAL;
	if (ptr >= m->ram_bytes)
		return PV_E_NOT_RAM;
	struct pv_table *tab = table_at(m, ptr);
	if (!tab)
		return PV_E_NOT_TABLE;
	unsigned t = (unsigned)(tab - m->table), index = (unsigned)(ptr % PAGE / 8);
	int err = check_entry(m, tab->level, index, tab->gpa, val);
	if (err)
		return err;
	uint64_t *e = entry_at(m, ptr), old = *e;
	unaccount(m, t, index, old);
	if ((err = account(m, t, index, val))) {
		account(m, t, index, old); /* its link was just freed: it fits again */
		return err;
	}
	apply_effects(m, t, index, old, 1);
	*e = val;
	apply_effects(m, t, index, val, 0);
	m->updates++;
	return PV_OK;
}

int pv_mmu_batch(struct pv_mmu *m, const struct pv_mmu_update *u, uint64_t n, uint64_t *done)
{
	*done = 0;
	if (n > PV_MMU_BATCH_MAX)
		return PV_E_INVAL;
	for (uint64_t i = 0; i < n; i++) {
		int err = pv_mmu_update(m, u[i].ptr, u[i].val);
		if (err)
			return err;
		++*done;
	}
	return PV_OK;
}

int pv_mmu_pin(struct pv_mmu *m, uint64_t gpa, unsigned level)
{
	if ((gpa & (PAGE - 1)) || level < 1 || level > 4)
		return PV_E_INVAL;
	if (gpa >= m->ram_bytes)
		return PV_E_NOT_RAM;
	if (table_at(m, gpa) || m->writable_maps[gpa / PAGE] || m->vmm_writes[gpa / PAGE])
		return PV_E_BUSY;
	if (m->tables == PV_MMU_TABLES || (level == 4 && m->roots == PV_MMU_ROOTS))
		return PV_E_LIMIT;
	const uint64_t *e = entry_at(m, gpa);
	for (unsigned i = 0; i < ENTRIES; i++) {
		int err = check_entry(m, level, i, gpa, e[i]);
		if (err)
			return err;
	}
	unsigned t = m->tables;
	m->table[t] = (struct pv_table){ .gpa = gpa, .level = (uint8_t)level };
	for (unsigned i = 0; i < ENTRIES; i++) {
		int err = account(m, t, i, e[i]);
		if (err) { /* too many links to one table: undo what was counted */
			while (i--)
				unaccount(m, t, i, e[i]);
			return err;
		}
	}
	m->tables++;
	m->table_of[gpa / PAGE] = (uint8_t)(t + 1);
	if (level == 4)
		m->table[t].root = (uint8_t)m->roots++;
	return PV_OK;
}

void pv_mmu_vmm_writes(struct pv_mmu *m, uint64_t gpa)
{
	if (gpa < m->ram_bytes)
		m->vmm_writes[gpa / PAGE] = 1;
}

int pv_mmu_root(const struct pv_mmu *m, uint64_t gpa)
{
	if (gpa & (PAGE - 1))
		return PV_E_INVAL;
	if (!pv_mmu_is_table(m, gpa))
		return PV_E_NOT_TABLE;
	const struct pv_table *tab = &m->table[m->table_of[gpa / PAGE] - 1];
	return tab->level == 4 ? tab->root : PV_E_LEVEL;
}

void pv_mmu_replay(struct pv_mmu *m, unsigned root)
{
	for (unsigned t = 0; t < m->tables; t++)
		if (m->table[t].level == 4 && m->table[t].root == root) {
			const uint64_t *e = entry_at(m, m->table[t].gpa);
			for (unsigned i = 0; i < ENTRIES; i++)
				apply_effects(m, t, i, e[i], 0);
		}
}
