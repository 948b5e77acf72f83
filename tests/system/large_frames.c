/* 2 MiB frames: retyped with size_bits 21, mapped by one page-directory
 * entry in an address space or a guest space, never where a page table
 * is (nor a page table where one is), unmapped on unmap, delete and
 * revoke, and read by the kernel through the large mapping (the line it
 * prints from there must appear, not just the call succeed). */
// test-expect: ^# the kernel reads a buffer in a large page\r?$
#include "tap.h"

#define SCRATCH 0x40000000UL  /* 1 GiB: 2 MiB aligned, nothing of ours near */
#define BIG (1UL << LARGE_PAGE_BITS)

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(28);
	uint64_t ut, big, other, small, pt, copy = slot_alloc(), gs, s = slot_alloc();
	tap_eq(object_alloc(OBJ_UNTYPED, 23, &ut), E_OK, "an 8 MiB untyped");
	uint64_t old_pool = alloc_set_pool(ut);
	tap_eq(sys_untyped_retype(ut, OBJ_FRAME, 13, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, s), E_BAD_ARG,
	       "a frame of 13 bits is refused");
	tap_eq(object_alloc(OBJ_FRAME, LARGE_PAGE_BITS, &big), E_OK, "a 2 MiB frame");
	tap_eq(sys_untyped_retype(ut, OBJ_FRAME, LARGE_PAGE_BITS, 3 * BIG + 0x1000, CAP_ROOT_CNODE, s),
	       E_ALIGN, "a 2 MiB frame off its 2 MiB alignment is refused");
	alloc_set_pool(old_pool);

	tap_eq(page_map_with_tables(big, SCRATCH + 0x1000, RIGHT_READ | RIGHT_WRITE), E_ALIGN,
	       "a 2 MiB frame at an address that is not 2 MiB aligned is refused");
	tap_eq(page_map_with_tables(big, SCRATCH, RIGHT_READ | RIGHT_WRITE), E_OK, "it maps at 1 GiB");
	volatile uint64_t *p = (volatile uint64_t *)SCRATCH;
	int zero = 1;
	for (uint64_t i = 0; i < BIG / 8; i += 509)
		zero &= p[i] == 0;
	p[0] = 0x1111;
	p[BIG / 8 - 1] = 0x2222;
	tap_ok(zero && p[0] == 0x1111 && p[BIG / 8 - 1] == 0x2222, "all of it is zeroed and writable");
	tap_eq(page_map_with_tables(big, SCRATCH + 2 * BIG, RIGHT_READ), E_MAPPED,
	       "the same capability does not map twice");

	tap_eq(object_alloc(OBJ_FRAME, 0, &small), E_OK, "a 4 KiB frame");
	tap_eq(sys_page_map(small, CAP_ROOT_VSPACE, SCRATCH + 0x5000, RIGHT_READ, &(uint64_t){0}), E_MAPPED,
	       "a 4 KiB frame inside the large page is refused");
	tap_eq(object_alloc(OBJ_PAGE_TABLE, 0, &pt), E_OK, "a page table");
	tap_eq(sys_page_table_map(pt, CAP_ROOT_VSPACE, SCRATCH), E_MAPPED,
	       "a page table where the large page is is refused");
	tap_eq(object_alloc(OBJ_FRAME, LARGE_PAGE_BITS, &other), E_OK, "a second 2 MiB frame");
	tap_eq(sys_page_map(other, CAP_ROOT_VSPACE, SCRATCH, RIGHT_READ, &(uint64_t){0}), E_MAPPED,
	       "a second large frame on the first is refused");

	static const char msg[] = "# the kernel reads a buffer in a large page\n";
	memcpy((void *)(SCRATCH + BIG - 64), msg, sizeof(msg) - 1);
	tap_eq(sys_debug_write((const char *)(SCRATCH + BIG - 64), sizeof(msg) - 1), E_OK,
	       "the kernel translates addresses in a large page");

	/* a copy shares the memory */
	tap_eq(sys_cnode_copy(big, CAP_ROOT_CNODE, copy, RIGHTS_ALL), E_OK, "a copy of the capability");
	tap_eq(sys_page_map(copy, CAP_ROOT_VSPACE, SCRATCH + BIG, RIGHT_READ, &(uint64_t){0}), E_OK,
	       "the copy maps at the next 2 MiB");
	tap_ok(p[BIG / 8] == 0x1111 && p[2 * BIG / 8 - 1] == 0x2222, "both views show the same memory");

	/* delete and unmap take the mapping away; a page table may go there then */
	sys_cnode_delete(copy);
	tap_eq(page_map_with_tables(small, SCRATCH + BIG + 0x5000, RIGHT_READ), E_OK,
	       "after the copy is deleted, a 4 KiB frame maps where it was");
	tap_eq(sys_page_map(other, CAP_ROOT_VSPACE, SCRATCH + BIG, RIGHT_READ, &(uint64_t){0}), E_MAPPED,
	       "and a large frame there is refused (a page table is in the way)");
	tap_eq(sys_page_unmap(big), E_OK, "unmap");
	tap_eq(sys_page_table_map(pt, CAP_ROOT_VSPACE, SCRATCH), E_OK, "a page table maps where it was");

	tap_eq(sys_page_map(other, CAP_ROOT_VSPACE, 0x00007fffffe00000UL, RIGHT_READ, &(uint64_t){0}),
	       E_BAD_ADDRESS, "a large page holding the never-mapped top page is refused");

	/* guest spaces take them as large nested pages */
	tap_eq(object_alloc(OBJ_GUEST_SPACE, 0, &gs), E_OK, "a guest space");
	tap_eq(page_map_in(gs, other, BIG, RIGHT_READ | RIGHT_WRITE | RIGHT_EXEC), E_OK,
	       "a 2 MiB frame maps at guest-physical 2 MiB");
	tap_eq(sys_page_unmap(other), E_OK, "and unmaps from it");

	/* revoking the untyped takes the frame and its mapping */
	tap_eq(page_map_with_tables(big, SCRATCH + 4 * BIG, RIGHT_READ), E_OK, "the first frame maps again");
	sys_cnode_revoke(ut);
	alloc_set_pool(ut);
	uint64_t again;
	tap_eq(object_alloc(OBJ_FRAME, LARGE_PAGE_BITS, &again), E_OK,
	       "after a revoke the untyped's memory is free again");
	alloc_set_pool(old_pool);
	tap_done();
}
