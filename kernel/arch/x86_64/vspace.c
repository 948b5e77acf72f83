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
#include "shadow.h"

static uint64_t kernel_pml4;
uint64_t tlb_generation; /* counts unmaps: a VCPU flushes its guest TLB when it moved */
uint64_t vspace_generation; /* counts every change to any space's entries (selfcheck.c) */

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
	vspace_generation++;
	for (int i = 256; i < 512; i++)
		dst[i] = src[i];
}

static unsigned index_at(uint64_t vaddr, int level)
{
	return (vaddr >> (12 + 9 * (level - 1))) & 511;
}

/* The entry for vaddr in the table of `level` (1: a page table's entry,
 * 2: a page directory's, 3: a PDPT's), or NULL with *missing set to the
 * level of the first absent table, or to 0 when a large page (a page
 * directory entry with PS) is in the way of a lower level. */
static uint64_t *entry_at(uint64_t pml4, uint64_t vaddr, int level, int *missing)
{
	uint64_t *table = P2V(pml4);
	for (int l = 4; l > level; l--) {
		uint64_t e = table[index_at(vaddr, l)];
		if (!(e & PTE_P)) {
			*missing = l - 1;
			return 0;
		}
		if (e & PTE_PS) {
			*missing = 0;
			return 0;
		}
		table = P2V(e & PTE_ADDR);
	}
	return &table[index_at(vaddr, level)];
}

/* The level-1 entry for vaddr, or NULL with *missing_level set to the
 * level of the first absent table (3 = PDPT, 2 = PD, 1 = PT), or to 0
 * when a large page maps vaddr. */
uint64_t *vspace_pte(uint64_t pml4, uint64_t vaddr, int *missing_level)
{
	return entry_at(pml4, vaddr, 1, missing_level);
}

int vspace_map_table(uint64_t pml4, uint64_t vaddr, uint64_t table_pa, uint64_t *level)
{
	int missing = 0;
	if (vspace_pte(pml4, vaddr, &missing) || missing == 0)
		return E_MAPPED;
	uint64_t *table = P2V(pml4);
	for (int l = 4; l > missing + 1; l--)
		table = P2V(table[index_at(vaddr, l)] & PTE_ADDR);
	/* intermediate entries allow everything; leaves decide */
	table[index_at(vaddr, missing + 1)] = table_pa | PTE_P | PTE_W | PTE_U;
	vspace_generation++;
	*level = (uint64_t)missing;
	return E_OK;
}

/* A 4 KiB frame goes in a page table's entry; a 2 MiB one in a page
 * directory's entry, as a large page, where no page table may be, or with
 * MAP_AS_PIECES in the 512 entries of the page table at vaddr, all of which
 * must be empty.  A 4 KiB frame may take the place of a piece: *took_piece
 * says so, and the caller flushes what the piece was (vspace_flush).  With
 * MAP_REPLACEABLE a 4 KiB frame is itself such a piece. */
int vspace_map_frame(uint64_t pml4, uint64_t vaddr, uint64_t frame, unsigned rights, unsigned how,
                     uint64_t *missing, int *took_piece)
{
	*took_piece = 0;
	int large = (how & MAP_LARGE) != 0, pieces = (how & MAP_AS_PIECES) != 0;
	int level = 0;
	uint64_t *pte = entry_at(pml4, vaddr, large ? 2 : 1, &level);
	if (!pte && level == 0)
		return E_MAPPED;
	if (!pte) {
		*missing = (uint64_t)level;
		return E_MISSING_TABLE;
	}
	vspace_generation++;
	uint64_t flags = PTE_P | PTE_U | ((rights & RIGHT_WRITE) ? PTE_W | PTE_AVL_WRITABLE : 0) |
	                 ((rights & RIGHT_EXEC) ? 0 : PTE_NX) | ((how & MAP_UNCACHED) ? PTE_PCD | PTE_PWT : 0);
	if (pieces) {
		for (int i = 0; i < 512; i++)
			if (pte[i] & PTE_P)
				return E_MAPPED;
		for (int i = 0; i < 512; i++)
			pte[i] = (frame + (uint64_t)i * PAGE_SIZE) | flags | PTE_AVL_PIECE;
		return E_OK;
	}
	if ((*pte & PTE_P) && (large || !(*pte & PTE_AVL_PIECE)))
		return E_MAPPED;
	*took_piece = (*pte & PTE_P) != 0;
	*pte = frame | flags | (large ? PTE_PS : 0) | ((how & MAP_REPLACEABLE) ? PTE_AVL_PIECE : 0);
	return E_OK;
}

/* Physical address behind a user virtual address, if mapped for user
 * and not device memory. */
int vspace_translate(uint64_t pml4, uint64_t vaddr, uint64_t *paddr)
{
	int level = -1;
	if (vaddr < USER_BASE || vaddr >= USER_TOP)
		return E_BAD_ADDRESS;
	uint64_t *pte = vspace_pte(pml4, vaddr, &level), offset_mask = PAGE_SIZE - 1;
	if (!pte && level == 0) { /* a large page */
		pte = entry_at(pml4, vaddr, 2, &level);
		offset_mask = LARGE_PAGE_SIZE - 1;
	}
	/* device memory (uncached) is not for the kernel to read: a register
	 * read can have side effects */
	if (!pte || !(*pte & PTE_P) || !(*pte & PTE_U) || (*pte & PTE_PCD))
		return E_BAD_ADDRESS;
	*paddr = (*pte & PTE_ADDR & ~offset_mask) | (vaddr & offset_mask);
	return E_OK;
}

/* The page-table entry that maps vaddr in any space (a 4 KiB page's, or
 * a 2 MiB page's with *size set to match), or 0 when nothing does. */
uint64_t vspace_leaf(uint64_t pml4, uint64_t vaddr, uint64_t *size)
{
	int level = -1;
	uint64_t *pte = vspace_pte(pml4, vaddr, &level);
	*size = PAGE_SIZE;
	if (!pte && level == 0) {
		pte = entry_at(pml4, vaddr, 2, &level);
		*size = LARGE_PAGE_SIZE;
	}
	return pte && (*pte & PTE_P) ? *pte : 0;
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
	vspace_generation++;
	if (asid < ASID_COUNT && asids[asid].pml4 == pml4) {
		uint64_t handle = asid_handle(asid);
		asids[asid].pml4 = 0;
		/* shadow tables copied from a dying GuestSpace go with it */
		shadow_guest_changed(handle);
	}
	/* never keep running on page tables whose memory is going back */
	if ((read_cr3() & PTE_ADDR) == pml4)
		write_cr3(kernel_pml4);
}

/* A page-table entry that is a piece of the 2 MiB frame at frame. */
static int piece_of(uint64_t e, uint64_t frame)
{
	return (e & PTE_AVL_PIECE) && (e & PTE_ADDR) - frame < LARGE_PAGE_SIZE;
}

/* A 2 MiB frame mapped as pieces at vaddr is still mapped there while
 * one of its pieces is: the page table's first entry, or 0. */
static uint64_t *pieces_entry(uint64_t pml4, uint64_t vaddr, uint64_t frame)
{
	int missing;
	uint64_t *table = entry_at(pml4, vaddr, 1, &missing);
	if (!table || (vaddr & (LARGE_PAGE_SIZE - 1)))
		return 0;
	for (int i = 0; i < 512; i++)
		if (piece_of(table[i], frame))
			return table;
	return 0;
}

/*
 * The entry through which paddr is mapped at vaddr in the space `handle`
 * names (level 0: a 4 KiB frame's leaf entry; 1..3: the entry pointing at
 * a table of that level; LEVEL_LARGE_FRAME: a 2 MiB frame's page-directory
 * entry; LEVEL_PIECES: the first entry of the page table holding a 2 MiB
 * frame's pieces), or 0 if it is not mapped there any more: the space is
 * gone, a table on the way was deleted, or the entry now holds something
 * else.  A capability's mapping record is only a hint; this walk is the
 * truth.
 */
uint64_t *vspace_mapping_entry(uint64_t handle, uint64_t vaddr, int level, uint64_t paddr)
{
	uint64_t pml4 = handle_pml4(handle);
	int large = level == LEVEL_LARGE_FRAME, missing;
	if (pml4 && level == LEVEL_PIECES)
		return pieces_entry(pml4, vaddr, paddr);
	if (large)
		level = 1;
	if (!pml4 || level < 0 || level > 3)
		return 0;
	uint64_t *entry = entry_at(pml4, vaddr, level + 1, &missing);
	if (!entry || !(*entry & PTE_P) || (*entry & PTE_ADDR) != paddr)
		return 0;
	/* in a page directory, a large page and a page table differ by PS */
	if (level == 1 && !(*entry & PTE_PS) != !large)
		return 0;
	return entry;
}

/* After an entry of the space `handle` names changed or went: every TLB
 * and shadow that may hold what it was forgets it (level 0: one page at
 * vaddr; more: a whole subtree). */
void vspace_flush(uint64_t handle, uint64_t vaddr, int level)
{
	uint64_t pml4 = handle_pml4(handle);
	tlb_generation++;
	vspace_generation++;
	/* a guest frame's shadow entries go with its mapping (shadow.c) */
	shadow_guest_changed(handle);
	if ((read_cr3() & PTE_ADDR) != pml4)
		return;
	if (level == 0)
		invlpg(vaddr);
	else
		write_cr3(pml4); /* a whole subtree went: flush everything */
}

/* Remove a mapping found by vspace_mapping_entry and flush it. */
static void clear_entry(uint64_t handle, uint64_t *entry, uint64_t vaddr, int level)
{
	*entry = 0;
	vspace_flush(handle, vaddr, level);
}

/* level: 0, LEVEL_LARGE_FRAME or LEVEL_PIECES, as the frame was mapped.
 * A frame's pieces go, not the 4 KiB frames that took some places. */
int vspace_unmap_frame_handle(uint64_t handle, uint64_t vaddr, uint64_t frame, int level)
{
	uint64_t *entry = vspace_mapping_entry(handle, vaddr, level, frame);
	if (!entry)
		return E_NOT_MAPPED;
	if (level != LEVEL_PIECES) {
		clear_entry(handle, entry, vaddr, 0);
		return E_OK;
	}
	for (int i = 0; i < 512; i++)
		if (piece_of(entry[i], frame))
			entry[i] = 0;
	vspace_flush(handle, vaddr, 1);
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

/*
 * SYS_GUEST_PROTECT: take write access away from every leaf mapping a
 * page of [vaddr, end) (allow = 0), or give it back where the mapping's
 * capability allowed writes (allow = 1).  A 2 MiB leaf changes only when
 * the range covers it whole: only one at either end of the range can
 * stick out, and then nothing changes (E_ALIGN).  *changed: leaves
 * changed.
 */
static int sticks_out(uint64_t pml4, uint64_t addr, uint64_t vaddr, uint64_t end)
{
	int missing = -1;
	uint64_t base = addr & ~(LARGE_PAGE_SIZE - 1);
	return !entry_at(pml4, addr, 1, &missing) && missing == 0 && (base < vaddr || end - base < LARGE_PAGE_SIZE);
}

int vspace_write_protect(uint64_t handle, uint64_t vaddr, uint64_t pages, int allow, uint64_t *changed)
{
	uint64_t pml4 = handle_pml4(handle), start = vaddr, end = vaddr + pages * PAGE_SIZE;
	*changed = 0;
	if (sticks_out(pml4, vaddr, vaddr, end) || sticks_out(pml4, end - PAGE_SIZE, vaddr, end))
		return E_ALIGN;
	for (uint64_t next; vaddr < end; vaddr = next) {
		int missing = -1;
		uint64_t *leaf = entry_at(pml4, vaddr, 1, &missing), span = PAGE_SIZE;
		if (!leaf && missing == 0) {
			leaf = entry_at(pml4, vaddr, 2, &missing);
			span = LARGE_PAGE_SIZE;
		} else if (!leaf) {
			/* no table: nothing mapped up to the end of what it would cover */
			span = 1UL << (12 + 9 * missing);
		}
		if (leaf && (*leaf & PTE_P)) {
			uint64_t e = *leaf;
			if (!allow && (e & PTE_W))
				*leaf = e & ~PTE_W;
			else if (allow && !(e & PTE_W) && (e & PTE_AVL_WRITABLE))
				*leaf = e | PTE_W;
			*changed += *leaf != e;
		}
		next = (vaddr & ~(span - 1)) + span;
		if (next <= vaddr)
			break; /* the top of the address space */
	}
	if (*changed)
		vspace_flush(handle, start, 1);
	return E_OK;
}
