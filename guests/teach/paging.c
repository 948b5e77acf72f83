/* The guest's page tables: one address space per task.  Every space maps
 * the kernel (the first 2 MiB of guest memory, 1:1, with 4 KiB pages so a
 * VMM walking them sees the common case) through one shared page table,
 * and maps the task's own page at PRIVATE_VA: the same virtual address
 * names a different physical page in each space, which is what an
 * address space is for, and each private page is also reachable through
 * the 1:1 map (a page mapped twice). */
#include "teach.h"

#define PTE_P 1UL
#define PTE_W 2UL
#define PAGE 4096UL
#define MAX_SPACES NTASKS

typedef uint64_t table[512] __attribute__((aligned(4096)));

static table kernel_pt;   /* 0..2 MiB, shared by every space */
static table pml4s[MAX_SPACES], pdpts[MAX_SPACES], pds[MAX_SPACES], private_pts[MAX_SPACES];
static unsigned spaces;

void paging_init(void)
{
	/* page 0 stays unmapped, so a null pointer faults */
	for (uint64_t i = 1; i < 512; i++)
		kernel_pt[i] = (i * PAGE) | PTE_P | PTE_W;
}

/* A new space: the kernel, and private_page (a page of the kernel's own
 * memory, page-aligned) at PRIVATE_VA.  Returns its CR3. */
uint64_t space_create(void *private_page)
{
	unsigned s = spaces++;
	pml4s[s][0] = (uint64_t)pdpts[s] | PTE_P | PTE_W;
	pdpts[s][0] = (uint64_t)pds[s] | PTE_P | PTE_W;
	pds[s][0] = (uint64_t)kernel_pt | PTE_P | PTE_W;
	if (private_page) {
		pds[s][PRIVATE_VA >> 21] = (uint64_t)private_pts[s] | PTE_P | PTE_W;
		private_pts[s][(PRIVATE_VA >> 12) & 511] = (uint64_t)private_page | PTE_P | PTE_W;
	}
	return (uint64_t)pml4s[s];
}
