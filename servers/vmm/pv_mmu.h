/*
 * mode=pv's page tables: the validator of the guest's updates and the
 * bookkeeping that lets the VMM keep its address spaces in step (pure C,
 * no system calls; tests/unit/test_pv_mmu.c).
 *
 * The guest's page tables live in its own memory, and it reads them
 * directly, but it writes them only through PV_HC_MMU_UPDATE and
 * PV_HC_MMUEXT (pv_abi.h).  This file knows which guest pages are page
 * tables (pinned, with their level), how many writable leaf entries map
 * each guest page (a pinned table must have none), and, for each table,
 * the entries of the level above that link it (at most PV_MMU_LINKS), so
 * that an update's effect on every address space can be worked out at
 * once: for each (root, guest-virtual page) whose mapping changes, the
 * map callback is called with the new leaf entry (0: unmapped).  Roots
 * are the pinned L4 tables, numbered from 0 in the order they were
 * pinned.
 *
 * How the VMM uses it (pv.c):
 *   pv_mmu_init(m, ram, ram_bytes, map, ctx)   ram: guest RAM, gpa 0 at ram[0]
 *   pv_mmu_vmm_writes(m, gpa)                  each page the VMM writes on its own (the
 *                                              shared info, the console ring): a table
 *                                              there would change behind the validator
 *   pv_mmu_pin(m, gpa, level)                  PV_MMUEXT_PIN_Ln (and the start tables)
 *   pv_mmu_batch(m, updates, n, &done)         PV_HC_MMU_UPDATE, after copying the batch in
 *   pv_mmu_root(m, gpa)                        PV_MMUEXT_NEW_BASEPTR: which root
 *   pv_mmu_replay(m, root)                     call map for every page a root maps
 *                                              (a new address space filled at once)
 * map(ctx, root, va, pte) must make root's address space map va to pte's
 * frame (writable if PV_PTE_W, executable unless PV_PTE_NX), replacing
 * what was there, or unmap it when pte is 0.
 */
#ifndef VMM_PV_MMU_H
#define VMM_PV_MMU_H

#include <stdint.h>
#include "pv_abi.h"

#define PV_MMU_TABLES 64            /* page tables a guest may pin */
#define PV_MMU_ROOTS 8              /* of them, L4s: address spaces */
#define PV_MMU_LINKS 4              /* entries one level up that may name one table */
#define PV_MMU_PAGES 4096           /* guest RAM: at most 16 MiB (mode=trap's limit) */

typedef void pv_map_fn(void *ctx, unsigned root, uint64_t va, uint64_t pte);

struct pv_table {
	uint64_t gpa;
	uint8_t level;                  /* 1..4 */
	uint8_t root;                   /* an L4's root number */
	uint8_t nlinks;
	uint16_t link[PV_MMU_LINKS];    /* parent table index << 9 | entry index */
};

struct pv_mmu {
	uint8_t *ram;
	uint64_t ram_bytes;
	pv_map_fn *map;
	void *ctx;
	struct pv_table table[PV_MMU_TABLES];
	unsigned tables, roots;
	uint8_t table_of[PV_MMU_PAGES];        /* 1 + the table index of a pinned page, else 0 */
	uint16_t writable_maps[PV_MMU_PAGES];  /* present writable leaf entries naming the page */
	uint8_t vmm_writes[PV_MMU_PAGES];      /* pages the VMM itself writes: never a table */
	uint64_t updates;                      /* entries changed by pv_mmu_update */
};

void pv_mmu_init(struct pv_mmu *m, uint8_t *ram, uint64_t ram_bytes, pv_map_fn *map, void *ctx);
int pv_mmu_pin(struct pv_mmu *m, uint64_t gpa, unsigned level);
void pv_mmu_vmm_writes(struct pv_mmu *m, uint64_t gpa);  /* a page of ours (the shared pages) */
int pv_mmu_update(struct pv_mmu *m, uint64_t ptr, uint64_t val);
int pv_mmu_batch(struct pv_mmu *m, const struct pv_mmu_update *u, uint64_t n, uint64_t *done);
int pv_mmu_root(const struct pv_mmu *m, uint64_t gpa);   /* the root number, or a PV_E_* */
void pv_mmu_replay(struct pv_mmu *m, unsigned root);
int pv_mmu_is_table(const struct pv_mmu *m, uint64_t gpa);

#endif
