/* User address spaces: the kernel half of every PML4 is a copy of the
 * kernel's own; the user half is built from PageTable and Frame objects
 * that user space retyped and asked us to map. */
#include <berth/errors.h>
#include <berth/object.h>
#include "vspace.h"
#include "layout.h"
#include "cpu.h"
#include "klib.h"
#include "selfcheck.h"

static uint64_t kernel_pml4;
uint64_t tlb_generation; /* counts unmaps: a VCPU flushes its guest TLB when it moved */

/* Drop the boot identity map; the kernel half stays for every space. */
void vspace_init_kernel(void)
{
	kernel_pml4 = read_cr3() & PTE_ADDR;
	uint64_t *pml4 = P2V(kernel_pml4);
	pml4[0] = 0;
	write_cr3(kernel_pml4);
}

void vspace_init(uint64_t pml4)
{
	uint64_t *dst = P2V(pml4), *src = P2V(kernel_pml4);
	for (int i = 256; i < 512; i++)
		dst[i] = src[i];
}

static unsigned index_at(uint64_t vaddr, int level)
{
	return (vaddr >> (12 + 9 * (level - 1))) & 511;
}

/* The level-1 entry for vaddr, or NULL with *missing_level set to the
 * level of the first absent table (3 = PDPT, 2 = PD, 1 = PT). */
uint64_t *vspace_pte(uint64_t pml4, uint64_t vaddr, int *missing_level)
{
	uint64_t *table = P2V(pml4);
	for (int level = 4; level > 1; level--) {
		uint64_t e = table[index_at(vaddr, level)];
		if (!(e & PTE_P)) {
			*missing_level = level - 1;
			return 0;
		}
		table = P2V(e & PTE_ADDR);
	}
	return &table[index_at(vaddr, 1)];
}

int vspace_map_table(uint64_t pml4, uint64_t vaddr, uint64_t table_pa, uint64_t *level)
{
	int missing = 0;
	if (vspace_pte(pml4, vaddr, &missing))
		return E_MAPPED;
	uint64_t *table = P2V(pml4);
	for (int l = 4; l > missing + 1; l--)
		table = P2V(table[index_at(vaddr, l)] & PTE_ADDR);
	/* intermediate entries allow everything; leaves decide */
	table[index_at(vaddr, missing + 1)] = table_pa | PTE_P | PTE_W | PTE_U;
	*level = (uint64_t)missing;
	return E_OK;
}

int vspace_map_frame(uint64_t pml4, uint64_t vaddr, uint64_t frame, unsigned rights, uint64_t *missing)
{
	int level = 0;
	uint64_t *pte = vspace_pte(pml4, vaddr, &level);
	if (!pte) {
		*missing = (uint64_t)level;
		return E_MISSING_TABLE;
	}
	if (*pte & PTE_P)
		return E_MAPPED;
	*pte = frame | PTE_P | PTE_U | ((rights & RIGHT_WRITE) ? PTE_W : 0) |
	       ((rights & RIGHT_EXEC) ? 0 : PTE_NX);
	return E_OK;
}

/* Physical address behind a user virtual address, if mapped for user. */
int vspace_translate(uint64_t pml4, uint64_t vaddr, uint64_t *paddr)
{
	int level;
	if (vaddr < USER_BASE || vaddr >= USER_TOP)
		return E_BAD_ADDRESS;
	uint64_t *pte = vspace_pte(pml4, vaddr, &level);
	if (!pte || !(*pte & PTE_P) || !(*pte & PTE_U))
		return E_BAD_ADDRESS;
	*paddr = (*pte & PTE_ADDR) | (vaddr & (PAGE_SIZE - 1));
	return E_OK;
}

uint64_t kernel_pml4_paddr(void)
{
	return kernel_pml4;
}

static struct {
	uint64_t pml4;      /* 0: free */
	uint64_t generation;
} asids[ASID_COUNT];

uint64_t asid_space(uint64_t asid)
{
	return asid < ASID_COUNT ? asids[asid].pml4 : 0;
}

int asid_alloc(uint64_t pml4, uint64_t *asid)
{
	for (uint64_t i = 1; i < ASID_COUNT; i++) {
		if (!asids[i].pml4) {
			asids[i].pml4 = pml4;
			asids[i].generation++;
			*asid = i;
			return E_OK;
		}
	}
	return E_LIMIT;
}

uint64_t asid_handle(uint64_t asid)
{
	return asid | (asids[asid].generation << 16);
}

uint64_t handle_pml4(uint64_t handle)
{
	uint64_t asid = handle & 0xffff;
	if (asid == 0 || asid >= ASID_COUNT || asids[asid].generation != handle >> 16)
		return 0;
	return asids[asid].pml4;
}

void vspace_destroy(uint64_t pml4, uint64_t asid)
{
	if (asid < ASID_COUNT && asids[asid].pml4 == pml4)
		asids[asid].pml4 = 0;
	/* never keep running on page tables whose memory is going back */
	if ((read_cr3() & PTE_ADDR) == pml4)
		write_cr3(kernel_pml4);
}

/*
 * The entry through which paddr is mapped at vaddr in the space `handle`
 * names (level 0: a frame's leaf entry; 1..3: the entry pointing at a
 * table of that level), or 0 if it is not mapped there any more: the
 * space is gone, a table on the way was deleted, or the entry now holds
 * something else.  A capability's mapping record is only a hint; this
 * walk is the truth.
 */
uint64_t *vspace_mapping_entry(uint64_t handle, uint64_t vaddr, int level, uint64_t paddr)
{
	uint64_t pml4 = handle_pml4(handle);
	if (!pml4 || level < 0 || level > 3)
		return 0;
	uint64_t *t = P2V(pml4);
	for (int l = 4; l > level + 1; l--) {
		uint64_t e = t[index_at(vaddr, l)];
		if (!(e & PTE_P))
			return 0;
		t = P2V(e & PTE_ADDR);
	}
	uint64_t *entry = &t[index_at(vaddr, level + 1)];
	return (*entry & PTE_P) && (*entry & PTE_ADDR) == paddr ? entry : 0;
}

/* Remove a mapping found by vspace_mapping_entry and flush it. */
static void clear_entry(uint64_t handle, uint64_t *entry, uint64_t vaddr, int level)
{
	uint64_t pml4 = handle_pml4(handle);
	*entry = 0;
	tlb_generation++;
	if ((read_cr3() & PTE_ADDR) != pml4)
		return;
	if (level == 0)
		invlpg(vaddr);
	else
		write_cr3(pml4); /* a whole subtree went: flush everything */
}

int vspace_unmap_frame_handle(uint64_t handle, uint64_t vaddr, uint64_t frame)
{
	uint64_t *entry = vspace_mapping_entry(handle, vaddr, 0, frame);
	if (!entry)
		return E_NOT_MAPPED;
	clear_entry(handle, entry, vaddr, 0);
	return E_OK;
}

/* vaddr_level: the table's address with its level (3, 2 or 1) in the low bits. */
void vspace_unmap_table_handle(uint64_t handle, uint64_t vaddr_level, uint64_t table)
{
	int level = (int)(vaddr_level & 7);
	uint64_t vaddr = vaddr_level & ~0xfffUL;
	uint64_t *entry = vspace_mapping_entry(handle, vaddr, level, table);
	if (entry)
		clear_entry(handle, entry, vaddr, level);
}
