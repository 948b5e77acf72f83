/*
 * Guest RAM's backing, by 2 MiB region.  With a borrow line in our
 * manifest entry, every region is a chunk on loan from init (init.idl's
 * mem_borrow): a region the guest gives up (the balloon, balloon.c) goes
 * back to init whole and comes back, zeroed, when the guest wants it or
 * touches it.  Without one, guest RAM comes from our own pool, as frames
 * retyped upwards from it that cannot be given back one by one (the
 * kernel's watermark); no region is ever returned then.
 *
 * A region is one 2 MiB frame, mapped twice: at GUEST_RAM_VA + gpa for us
 * and, through a copy of its capability, at gpa in the guest's space, as
 * 512 pieces of 4 KiB (MAP_PIECES) so that the dirty log (dirty.c) can
 * protect its pages one by one.  A tail that is not a whole 2 MiB is
 * 4 KiB frames and stays backed.
 */
#include "vm.h"
#include "init.h"       /* generated from idl/init.idl */

#define REGIONS (GUEST_RAM_MAX / LARGE_PAGE_SIZE)

struct region {
	uint64_t chunk;     /* the loan's Untyped (borrowing only) */
	uint64_t frame;     /* our capability; the guest's is a copy of it */
	uint64_t copy;
	uint32_t loan;
	uint8_t backed;
};

static struct region regions[REGIONS];
static int borrowing;   /* guest RAM is on loan from init */
static unsigned regions_given_back;

/* Map one frame of guest RAM at gpa, for us and for the guest. */
static long ram_map(uint64_t f, uint64_t gpa, uint64_t *copy, int large)
{
	long err = page_map_with_tables(f, GUEST_RAM_VA + gpa, RIGHT_READ | RIGHT_WRITE);
	err = err ? err : (*copy = slot_alloc()) ? sys_cnode_copy(f, CAP_ROOT_CNODE, *copy, RIGHTS_ALL) : E_SLOT_FULL;
	return err ? err : page_map_in(vm.guest_space, *copy, gpa,
	                               RIGHT_READ | RIGHT_WRITE | RIGHT_EXEC | (large ? MAP_PIECES : 0));
}

/* Region r's frame, its copy and its chunk gone, the loan given back. */
static long region_release(struct region *g)
{
	sys_cnode_revoke(g->chunk);   /* the frame and the guest's copy, mappings and all */
	long err = init_mem_return(INIT_SLOT, g->loan);
	sys_cnode_delete(g->chunk);
	slot_free(g->chunk);
	slot_free(g->frame);
	slot_free(g->copy);
	g->chunk = g->frame = g->copy = 0;
	g->backed = 0;
	return err;
}

/* Back region r with a fresh chunk from init: zeroed memory.  On an
 * error nothing is kept: a retry borrows afresh. */
static long region_borrow(unsigned r)
{
	struct region *g = &regions[r];
	g->chunk = g->frame = g->copy = 0;
	long err = init_mem_borrow(INIT_SLOT, &g->loan, &g->chunk);
	if (err)
		return err;
	err = object_alloc_from(g->chunk, OBJ_FRAME, LARGE_PAGE_BITS, &g->frame);
	err = err ? err : ram_map(g->frame, (uint64_t)r * LARGE_PAGE_SIZE, &g->copy, 1);
	if (err) {
		region_release(g);
		return err;
	}
	g->backed = 1;
	return E_OK;
}

/* Guest RAM from 0 to `bytes`.  From our own pool, all large frames are
 * retyped before any is mapped: the pool hands memory out upwards, each
 * object aligned to its size, so a page table retyped between two of them
 * would cost 2 MiB of padding. */
long memory_setup(uint64_t bytes)
{
	uint64_t n = bytes / LARGE_PAGE_SIZE, gpa;
	if (bytes > GUEST_RAM_MAX)
		return E_RANGE;
	/* the first region says which: init refuses a task without a borrow line */
	long err = n ? region_borrow(0) : E_NO_RIGHTS;
	borrowing = err != E_NO_RIGHTS;
	if (borrowing && err) {
		debug_printf("vmm: %scannot borrow guest memory from init (error %ld)\n", vm_name, err);
		return err;
	}
	for (uint64_t i = 0; i < n; i++) {
		err = borrowing ? E_OK : object_alloc(OBJ_FRAME, LARGE_PAGE_BITS, &regions[i].frame);
		if (err)
			return err;
	}
	for (uint64_t i = borrowing; i < n; i++) {
		err = borrowing ? region_borrow((unsigned)i)
		                : ram_map(regions[i].frame, i * LARGE_PAGE_SIZE, &regions[i].copy, 1);
		if (err) {
			if (borrowing)
				debug_printf("vmm: %sinit lent %lu of the %lu MiB of guest memory (error %ld): is the "
				             "manifest's borrow line big enough?\n", vm_name, 2 * i, bytes >> 20, err);
			return err;
		}
		regions[i].backed = 1;
	}
	uint64_t tail_chunk = 0;
	uint32_t tail_loan;
	if (n * LARGE_PAGE_SIZE < bytes && borrowing && (err = init_mem_borrow(INIT_SLOT, &tail_loan, &tail_chunk)))
		return err;
	for (gpa = n * LARGE_PAGE_SIZE; gpa < bytes; gpa += PAGE_SIZE) {
		uint64_t f, copy;
		err = borrowing ? object_alloc_from(tail_chunk, OBJ_FRAME, PAGE_BITS, &f) : object_alloc(OBJ_FRAME, PAGE_BITS, &f);
		err = err ? err : ram_map(f, gpa, &copy, 0);
		if (err)
			return err;
	}
	if (n * LARGE_PAGE_SIZE < bytes)
		regions[n].backed = 1;
	vm.ram_bytes = bytes;
	return E_OK;
}

int ram_backed(uint64_t gpa)
{
	return gpa < vm.ram_bytes && regions[gpa / LARGE_PAGE_SIZE].backed;
}

/* Guest RAM gpa..gpa+n (inside RAM) backed, taking back what the guest
 * gave: a device or the guest touching it reads zeroes, as after a
 * deflate.  0, or -1 when init will not lend the memory. */
int ram_ready(uint64_t gpa, size_t n)
{
	/* Without loans nothing is given back, and RAM may have been built
	 * without regions[] (mode=trap and patch map their own frames in
	 * trap.c): all of it is backed. */
	if (!borrowing)
		return 0;
	for (uint64_t r = gpa / LARGE_PAGE_SIZE; n && r <= (gpa + n - 1) / LARGE_PAGE_SIZE; r++)
		if (!regions[r].backed && ram_take_back((unsigned)r))
			return -1;
	return 0;
}

int ram_can_give_back(unsigned r)
{
	return borrowing && r < vm.ram_bytes / LARGE_PAGE_SIZE;
}

/* The guest gave region r up: every byte of it (balloon.c).  Its frame
 * and the guest's copy go with the chunk, their mappings with them. */
long ram_give_back(unsigned r)
{
	struct region *g = &regions[r];
	if (!ram_can_give_back(r) || !g->backed)
		return E_STATE;
	regions_given_back++;
	return region_release(g);
}

/* Back region r again, zeroed: the guest took its pages back, or
 * touched one it had given (a guest may, without telling first). */
long ram_take_back(unsigned r)
{
	if (!ram_can_give_back(r) || regions[r].backed)
		return E_STATE;
	long err = region_borrow(r);
	if (!err)
		regions_given_back--;
	return err;
}

unsigned ram_regions_given_back(void)
{
	return regions_given_back;
}
