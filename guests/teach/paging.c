/* The guest's page tables: one address space per task.  Every space maps
 * the kernel (the first 2 MiB of guest memory, 1:1, with 4 KiB pages so a
 * VMM walking them sees the common case) through one shared page table,
 * and maps the task's own page at PRIVATE_VA: the same virtual address
 * names a different physical page in each space, which is what an
 * address space is for, and each private page is also reachable through
 * the 1:1 map (a page mapped twice). */
#include "teach.h"

/* In the pv build each write to a table is an (entry, value) pair for
 * mmu_queue (pv.c), which the VMM checks and applies; the table itself
 * is read-only to us.  SET writes one entry in either build. */
#ifdef TEACH_PV
#define SET(t, i, v) mmu_queue((uint64_t)&(t)[i], (v))
#else
#define SET(t, i, v) ((t)[i] = (v))
#endif

#define PTE_P 1UL
#define PTE_W 2UL
#define PAGE 4096UL
#define MAX_SPACES NTASKS

typedef uint64_t table[512] __attribute__((aligned(4096)));

static table kernel_pt;   /* 0..2 MiB, shared by every space */
static table pml4s[MAX_SPACES], pdpts[MAX_SPACES], pds[MAX_SPACES], private_pts[MAX_SPACES];
static unsigned spaces;

#ifdef TEACH_PV
/* A page table, ours or the VMM's start tables: a pv guest may map one
 * only read-only (the VMM refuses a writable mapping of a table). */
static int own_table(uint64_t pa)
{
	if (pa == (uint64_t)kernel_pt)
		return 1;
	for (unsigned s = 0; s < MAX_SPACES; s++)
		if (pa == (uint64_t)pml4s[s] || pa == (uint64_t)pdpts[s] || pa == (uint64_t)pds[s] ||
		    pa == (uint64_t)private_pts[s])
			return 1;
	return 0;
}

static int is_table(uint64_t pa)
{
	uint64_t start_end = pv_info->boot_l1 + ((pv_info->ram_bytes + (2UL << 20) - 1) >> 21) * PAGE;
	return (pa >= pv_info->boot_pml4 && pa < start_end) || own_table(pa);
}

/* Before the VMM takes a page as a table, nothing may map it writable:
 * the start tables map all of RAM writable but themselves, so first make
 * our tables read-only there (one batch), then pin them, empty. */
static void pv_tables(void)
{
	for (uint64_t pa = PAGE; pa < 512 * PAGE; pa += PAGE)
		if (own_table(pa))
			mmu_queue(pv_info->boot_l1 + (pa / PAGE) * 8, pa | PTE_P);
	mmu_flush();
	pv_pin(kernel_pt, 1);
	for (unsigned s = 0; s < MAX_SPACES; s++) {
		pv_pin(private_pts[s], 1);
		pv_pin(pds[s], 2);
		pv_pin(pdpts[s], 3);
		pv_pin(pml4s[s], 4);
	}
}
#else
static int is_table(uint64_t pa)
{
	(void)pa;
	return 0; /* our tables are ordinary memory to us */
}
#endif

void paging_init(void)
{
#ifdef TEACH_PV
	pv_tables();
#endif
	/* page 0 stays unmapped, so a null pointer faults */
	for (uint64_t i = 1; i < 512; i++)
		SET(kernel_pt, i, (i * PAGE) | PTE_P | (is_table(i * PAGE) ? 0 : PTE_W));
#ifdef TEACH_PV
	mmu_flush();
#endif
}

/* A new space: the kernel, and private_page (a page of the kernel's own
 * memory, page-aligned) at PRIVATE_VA.  Returns its CR3. */
uint64_t space_create(void *private_page)
{
	unsigned s = spaces++;
	SET(pml4s[s], 0, (uint64_t)pdpts[s] | PTE_P | PTE_W);
	SET(pdpts[s], 0, (uint64_t)pds[s] | PTE_P | PTE_W);
	SET(pds[s], 0, (uint64_t)kernel_pt | PTE_P | PTE_W);
	if (private_page) {
		SET(pds[s], PRIVATE_VA >> 21, (uint64_t)private_pts[s] | PTE_P | PTE_W);
		SET(private_pts[s], (PRIVATE_VA >> 12) & 511, (uint64_t)private_page | PTE_P | PTE_W);
	}
#ifdef TEACH_PV
	mmu_flush();
#endif
	return (uint64_t)pml4s[s];
}
