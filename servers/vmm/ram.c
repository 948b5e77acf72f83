/*
 * Guest RAM's backing, by 2 MiB region.  With a borrow line in our
 * manifest entry, every region is a chunk on loan from init (init.idl's
 * mem_borrow): a region the guest gives up (the balloon, balloon.c) goes
 * back to init whole and comes back, zeroed, when the guest wants it or
 * touches it.  Without one, guest RAM comes from our own pool, as frames
 * retyped upwards from it that cannot be given back one by one (the
 * kernel's watermark); no region is ever returned then.
 *
 * A region is one 2 MiB frame (on loan: init lends it as a frame,
 * mem_borrow_frame), mapped twice: at GUEST_RAM_VA + gpa for us and,
 * through a copy of its capability, at gpa in the guest's space, both as
 * 512 pieces of 4 KiB (MAP_PIECES), so that the dirty log (dirty.c) can
 * protect its pages one by one and a page can be made private.  A tail
 * that is not a whole 2 MiB is 4 KiB frames and stays backed.
 *
 * Copy-on-write (vm clone, clone.c).  A region whose frame another VM
 * maps too is shared: the parent gave the clone read-only copies of its
 * frames, and neither may write one again.  The guest's write to a page
 * of it is a nested page fault (the parent protected its pages, the
 * clone's copies cannot write); ram_unshare then gives the page a 4 KiB
 * frame of our own, a copy of the shared page, which takes the piece's
 * place in both views (the kernel replaces a piece by a frame mapped on
 * it).  Our own writes into guest RAM (device models) unshare first
 * (memory.c).  The private frames come from Untyped chunks borrowed for
 * them (mem_borrow); a page stays private until the VMM ends.
 */
#include <stdlib.h>
#include "vm.h"
#include "init.h"       /* generated from idl/init.idl */

#define REGIONS (GUEST_RAM_MAX / LARGE_PAGE_SIZE)
#define PAGES_PER_REGION (LARGE_PAGE_SIZE / PAGE_SIZE)

struct region {
	uint64_t frame;     /* our capability; the guest's is a copy of it */
	uint64_t copy;
	uint64_t ro;        /* a read-only copy, for clones (clone.c) */
	uint32_t loan;
	uint8_t backed;
	uint8_t shared;     /* another VM maps the frame too, or it is the zero frame: copy-on-write */
	uint8_t zero;       /* the frame is our zero frame's copy (ram_share_content); no loan of its own */
	uint16_t private;   /* shared: pages made ours */
	uint16_t stored;    /* zero: pages on init's kept pages */
	uint32_t *own;      /* shared: per page, our private frame's slot and its guest copy's, or 0 */
	uint64_t *kept;     /* zero: bit i: own[2i], own[2i+1] are init's kept page, read-only */
};

static struct region regions[REGIONS];
static int borrowing;   /* guest RAM is on loan from init */
static unsigned regions_given_back;

/* A 2 MiB frame of zeroes, borrowed on first use and never written:
 * regions given back by vm share are mapped on it (ram_share_content). */
static struct {
	uint64_t frame;
	uint32_t loan;
} zero;

static struct {
	uint64_t chunk;        /* the Untyped private frames come from now */
	unsigned left;         /* frames still to come from it */
	uint64_t pages;        /* pages made private */
	uint64_t chunks;       /* chunks borrowed for them */
	uint64_t lock;         /* a port holding one token: the lock (ram_unshare) */
} cow;

/* Map one frame of guest RAM at gpa, for us and for the guest.  rights:
 * RIGHT_READ | RIGHT_WRITE, or RIGHT_READ for a clone's shared frame. */
static long ram_map(uint64_t f, uint64_t gpa, uint64_t *copy, int large, unsigned rights)
{
	unsigned pieces = large ? MAP_PIECES : 0;
	long err = page_map_with_tables(f, GUEST_RAM_VA + gpa, rights | pieces);
	err = err ? err : (*copy = slot_alloc()) ? sys_cnode_copy(f, CAP_ROOT_CNODE, *copy, RIGHTS_ALL) : E_SLOT_FULL;
	return err ? err : page_map_in(vm.guest_space, *copy, gpa, rights | RIGHT_EXEC | pieces);
}

static void cap_drop(uint64_t *slot)
{
	if (*slot) {
		sys_cnode_delete(*slot);
		slot_free(*slot);
	}
	*slot = 0;
}

/* Counts regions released: what memory.c keeps of guest RAM's mappings
 * (the last fetch's walk) holds only while it does not change. */
uint64_t ram_epoch;

/* Region r's frame and its copies gone (their mappings with them), the
 * loan given back.  A clone's copies of a shared frame stay: init keeps
 * the loan until the clone is done with it too. */
static long region_release(struct region *g)
{
	ram_epoch++;
	cap_drop(&g->frame);
	cap_drop(&g->copy);
	cap_drop(&g->ro);
	if (g->own) {
		for (unsigned i = 0; i < 2 * PAGES_PER_REGION; i++) {
			uint64_t s = g->own[i];
			cap_drop(&s);
		}
		free(g->own);
		g->own = 0;
	}
	free(g->kept);
	g->kept = 0;
	g->stored = 0;
	long err = g->loan != ~0u ? init_mem_return(INIT_SLOT, g->loan) : E_OK;
	g->loan = ~0u;
	g->backed = g->shared = g->zero = 0;
	g->private = 0;
	return err;
}

/* Back region r with a fresh frame from init: zeroed memory.  On an
 * error nothing is kept: a retry borrows afresh. */
static long region_borrow(unsigned r)
{
	struct region *g = &regions[r];
	g->frame = g->copy = g->ro = 0;
	long err = init_mem_borrow_frame(INIT_SLOT, &g->loan, &g->frame);
	if (err) {
		g->frame = 0;
		g->loan = ~0u;
		return err;
	}
	err = ram_map(g->frame, (uint64_t)r * LARGE_PAGE_SIZE, &g->copy, 1, RIGHT_READ | RIGHT_WRITE);
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
		                : ram_map(regions[i].frame, i * LARGE_PAGE_SIZE, &regions[i].copy, 1, RIGHT_READ | RIGHT_WRITE);
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
		err = err ? err : ram_map(f, gpa, &copy, 0, RIGHT_READ | RIGHT_WRITE);
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

/* --- copy-on-write ------------------------------------------------------ */

/* The lock: a port holding one notification.  The main thread unshares
 * on a fault or a device model's write, a device's worker thread on its
 * own writes; both copy through the same page. */
static long lock_make(void)
{
	if (cow.lock)
		return E_OK;
	long err = object_alloc(OBJ_PORT, 0, &cow.lock);
	return err ? err : sys_notify(cow.lock, 1);
}

static void lock(void)
{
	struct msg m;
	ipc_recv(cow.lock, 0, &m);
}

static void unlock(void)
{
	sys_notify(cow.lock, 1);
}

/* A 4 KiB frame for a private page, from the chunk borrowed for them. */
static long private_frame(uint64_t *f)
{
	if (!cow.left) {
		uint32_t loan;
		uint64_t chunk = 0;
		long err = init_mem_borrow(INIT_SLOT, &loan, &chunk);
		if (err)
			return err;
		cow.chunk = chunk;     /* kept until we end: its frames are never freed one by one */
		cow.left = PAGES_PER_REGION;
		cow.chunks++;
	}
	long err = object_alloc_from(cow.chunk, OBJ_FRAME, PAGE_BITS, f);
	if (!err)
		cow.left--;
	return err;
}

static int page_kept(const struct region *g, unsigned i)
{
	return g->kept && (__atomic_load_n(&g->kept[i / 64], __ATOMIC_ACQUIRE) >> (i % 64) & 1);
}

/* Page i of region g, at `page`, on one of init's kept pages (read-only,
 * mapped as one piece in both views): a private frame with its bytes
 * takes its place in our view, then in the guest's, and our copies of the
 * kept page go (init counts us as holding it until we end).  With the
 * lock held; everything that can fail is taken first. */
static long kept_unshare(struct region *g, uint64_t page, unsigned i)
{
	static uint8_t bytes[PAGE_SIZE];
	uint32_t *own = &g->own[2 * i];
	uint64_t f = 0, copy = slot_alloc();
	long err = copy ? private_frame(&f) : E_SLOT_FULL;
	err = err ? err : sys_cnode_copy(f, CAP_ROOT_CNODE, copy, RIGHTS_ALL);
	if (!err) {
		memcpy(bytes, (const void *)(GUEST_RAM_VA + page), PAGE_SIZE);
		err = page_map_with_tables(f, GUEST_RAM_VA + page, RIGHT_READ | RIGHT_WRITE);
	}
	if (err) {
		cap_drop(&copy);
		cap_drop(&f);
		return err;
	}
	memcpy((void *)(GUEST_RAM_VA + page), bytes, PAGE_SIZE);
	if ((err = page_map_in(vm.guest_space, copy, page, RIGHT_READ | RIGHT_WRITE | RIGHT_EXEC)))
		return err;   /* not expected: the table is there; the guest keeps the kept page */
	uint64_t old_view = own[0], old_guest = own[1];
	own[0] = (uint32_t)f;
	__atomic_store_n(&own[1], (uint32_t)copy, __ATOMIC_RELEASE);
	__atomic_and_fetch(&g->kept[i / 64], ~(1UL << (i % 64)), __ATOMIC_RELEASE);
	cap_drop(&old_view);   /* replaced in both views: their deletion unmaps nothing */
	cap_drop(&old_guest);
	g->stored--;
	g->private++;
	cow.pages++;
	return E_OK;
}

/* The page at `page` of shared region g ours alone: a frame of our own
 * with the shared page's bytes, in our view first, then the guest's.
 * With the lock held. */
static long page_unshare(struct region *g, uint64_t page)
{
	static uint8_t bytes[PAGE_SIZE];
	unsigned i = (unsigned)(page % LARGE_PAGE_SIZE / PAGE_SIZE);
	uint32_t *own = &g->own[2 * i];
	long err = E_OK;
	if (page_kept(g, i))
		return kept_unshare(g, page, i);
	if (!own[0]) {
		uint64_t f;
		memcpy(bytes, (const void *)(GUEST_RAM_VA + page), PAGE_SIZE);
		if ((err = private_frame(&f)))
			return err;
		/* it takes the piece's place in our view: the bytes go back in */
		if ((err = page_map_with_tables(f, GUEST_RAM_VA + page, RIGHT_READ | RIGHT_WRITE))) {
			cap_drop(&f);
			return err;
		}
		memcpy((void *)(GUEST_RAM_VA + page), bytes, PAGE_SIZE);
		own[0] = (uint32_t)f;
		cow.pages++;
		g->private++;
	}
	if (!own[1]) { /* the guest's mapping, once more if it failed before */
		uint64_t copy = slot_alloc();
		err = copy ? sys_cnode_copy(own[0], CAP_ROOT_CNODE, copy, RIGHTS_ALL) : E_SLOT_FULL;
		err = err ? err : page_map_in(vm.guest_space, copy, page, RIGHT_READ | RIGHT_WRITE | RIGHT_EXEC);
		if (err)
			cap_drop(&copy);
		else
			__atomic_store_n(&own[1], (uint32_t)copy, __ATOMIC_RELEASE);
	}
	return err;
}

/* Ours alone and writable: a private frame mapped for the guest. */
static int page_private(const struct region *g, uint64_t gpa)
{
	unsigned i = (unsigned)(gpa % LARGE_PAGE_SIZE / PAGE_SIZE);
	return __atomic_load_n(&g->own[2 * i + 1], __ATOMIC_ACQUIRE) != 0 && !page_kept(g, i);
}

/* Every page of gpa..gpa+n (inside RAM) that is shared made ours alone,
 * before a device model writes it: 0, or -1 if init would lend nothing
 * for the copies. */
int ram_unshare(uint64_t gpa, size_t n)
{
	for (uint64_t page = gpa & ~(PAGE_SIZE - 1); n && page < gpa + n; page += PAGE_SIZE) {
		struct region *g = &regions[page / LARGE_PAGE_SIZE];
		if (!g->shared || page_private(g, page))
			continue;
		lock();
		long err = page_unshare(g, page);
		unlock();
		if (err) {
			debug_printf("vmm: %sa page shared with a clone could not be copied (error %ld)\n", vm_name, err);
			return -1;
		}
	}
	return 0;
}

/* The guest wrote to gpa and faulted: 1 if that was copy-on-write's (the
 * page is made private, or was already and only sharing protected it),
 * 0 if it is none of ours, -1 if the page could not be copied. */
int ram_write_fault(uint64_t gpa)
{
	if (gpa >= vm.ram_bytes || !regions[gpa / LARGE_PAGE_SIZE].shared)
		return 0;
	uint64_t page = gpa & ~(PAGE_SIZE - 1);
	if (page_private(&regions[page / LARGE_PAGE_SIZE], page))
		return sys_guest_protect(vm.guest_space, page, 1, 1, 0) ? -1 : 1;
	return ram_unshare(page, PAGE_SIZE) ? -1 : 1;
}

/* The page's bytes are not the shared frame's: private, or on a kept page. */
int ram_page_private(uint64_t gpa)
{
	const struct region *g = &regions[gpa / LARGE_PAGE_SIZE];
	unsigned i = (unsigned)(gpa % LARGE_PAGE_SIZE / PAGE_SIZE);
	return gpa < vm.ram_bytes && g->shared && __atomic_load_n(&g->own[2 * i + 1], __ATOMIC_ACQUIRE) != 0;
}

int ram_sharing(void)
{
	for (uint64_t r = 0; r < vm.ram_bytes / LARGE_PAGE_SIZE; r++)
		if (regions[r].shared)
			return 1;
	return 0;
}

void ram_sharing_stats(uint64_t *shared_pages, uint64_t *private_pages, uint64_t *zero_pages,
                       uint64_t *zero_regions, uint64_t *stored_pages)
{
	*shared_pages = *zero_pages = *zero_regions = *stored_pages = 0;
	for (uint64_t r = 0; r < vm.ram_bytes / LARGE_PAGE_SIZE; r++) {
		const struct region *g = &regions[r];
		if (!g->shared || !g->backed)
			continue;
		*(g->zero ? zero_pages : shared_pages) += PAGES_PER_REGION - g->private - g->stored;
		*zero_regions += g->zero;
		*stored_pages += g->stored;
	}
	*private_pages = cow.pages;
}

/* --- clones (clone.c) ----------------------------------------------------- */

/* The parent, its VCPU stopped: every backed region shared from now on,
 * its pages write-protected for the guest (the pages already private
 * too: a write to one only takes the protection off again). */
long ram_share_begin(void)
{
	if (!borrowing)
		return E_NO_RIGHTS;
	if (vm.ram_bytes % LARGE_PAGE_SIZE)
		return E_ALIGN;
	long err = lock_make();
	for (uint64_t r = 0; !err && r < vm.ram_bytes / LARGE_PAGE_SIZE; r++) {
		struct region *g = &regions[r];
		if (!g->backed)
			continue;
		if (!g->own && !(g->own = calloc(2 * PAGES_PER_REGION, sizeof(uint32_t))))
			return E_LIMIT;
		g->shared = 1;
		err = sys_guest_protect(vm.guest_space, r * LARGE_PAGE_SIZE, PAGES_PER_REGION, 0, 0);
	}
	return err;
}

/* Region r's frame, read-only, for the clone named child, which init
 * then counts as holding its loan.  E_STATE: r is not backed (the clone
 * leaves it so: zero when touched). */
long ram_share_region(unsigned r, const char *child, uint64_t *ro, uint32_t *loan)
{
	if (r >= vm.ram_bytes / LARGE_PAGE_SIZE)
		return E_RANGE;
	struct region *g = &regions[r];
	if (!g->backed || !g->shared)
		return E_STATE;
	long err = E_OK;
	if (!g->ro) {
		g->ro = slot_alloc();
		err = g->ro ? sys_cnode_copy(g->frame, CAP_ROOT_CNODE, g->ro, RIGHT_READ | RIGHT_EXEC) : E_SLOT_FULL;
		if (err) {
			cap_drop(&g->ro);
			return err;
		}
	}
	uint32_t l = g->zero ? zero.loan : g->loan;   /* on the zero frame: its loan */
	if ((err = init_mem_share(INIT_SLOT, l, child)))
		return err;
	*ro = g->ro;
	*loan = l;
	return E_OK;
}

/* A clone's RAM: `bytes` of it, every region to come from the parent
 * (ram_adopt); a region it does not give is backed afresh when touched. */
long memory_setup_shared(uint64_t bytes)
{
	if (bytes > GUEST_RAM_MAX || !bytes || bytes % LARGE_PAGE_SIZE)
		return E_RANGE;
	borrowing = 1;
	for (uint64_t r = 0; r < bytes / LARGE_PAGE_SIZE; r++)
		regions[r].loan = ~0u;
	vm.ram_bytes = bytes;
	return lock_make();
}

/* The parent's frame for region r (read-only, its loan's), mapped for us
 * and the guest: shared from the start. */
long ram_adopt(unsigned r, uint64_t frame, uint32_t loan)
{
	struct region *g = &regions[r];
	if (r >= vm.ram_bytes / LARGE_PAGE_SIZE || g->backed)
		return E_STATE;
	if (!(g->own = calloc(2 * PAGES_PER_REGION, sizeof(uint32_t))))
		return E_LIMIT;
	g->frame = frame;
	g->loan = loan;
	long err = ram_map(frame, (uint64_t)r * LARGE_PAGE_SIZE, &g->copy, 1, RIGHT_READ);
	if (err) {
		region_release(g);
		return err;
	}
	g->shared = g->backed = 1;
	return E_OK;
}

/* --- pages shared by content (share.c) ------------------------------------ */

static int page_is_zero(uint64_t gpa)
{
	const uint64_t *q = (const uint64_t *)(GUEST_RAM_VA + gpa);
	for (unsigned k = 0; k < PAGE_SIZE / 8; k++)
		if (q[k])
			return 0;
	return 1;
}

enum { PAGE_OWN, PAGE_ZERO, PAGE_ALIKE };

/* Undo what ram_share_content took before any mapping changed. */
static void share_undo(uint32_t *own, uint64_t *view, uint64_t *guest)
{
	for (unsigned i = 0; own && i < 2 * PAGES_PER_REGION; i++) {
		uint64_t s = own[i];
		cap_drop(&s);
	}
	free(own);
	cap_drop(view);
	cap_drop(guest);
}

/* Each page of region g (at base): all zero, alike (init keeps its bytes
 * or has seen them at another place, in this VM or another) or its own.
 * Asking makes init remember where it saw each page. */
static long region_classify(const struct region *g, uint64_t base, uint8_t *kind, unsigned *z, unsigned *a)
{
	*z = *a = 0;
	for (unsigned i = 0; i < PAGES_PER_REGION; i++) {
		uint32_t stored = 0, seen = 0;
		long err;
		if (page_is_zero(base + (uint64_t)i * PAGE_SIZE))
			kind[i] = PAGE_ZERO;
		else if ((err = init_mem_page_find(INIT_SLOT, g->loan, i, &stored, &seen)))
			return err;
		else
			kind[i] = stored || seen ? PAGE_ALIKE : PAGE_OWN;
		*z += kind[i] == PAGE_ZERO;
		*a += kind[i] == PAGE_ALIKE;
	}
	return E_OK;
}

static int region_scannable(unsigned r)
{
	const struct region *g = &regions[r];
	return borrowing && r < vm.ram_bytes / LARGE_PAGE_SIZE && g->backed && !g->shared;
}

/* Region r's pages shown to init, which remembers where it saw each: a
 * scan's first pass, so that of two pages alike in one VM the first finds
 * the second too. */
long ram_share_note(unsigned r)
{
	static uint8_t kind[PAGES_PER_REGION];
	unsigned z, a;
	return region_scannable(r) ? region_classify(&regions[r], (uint64_t)r * LARGE_PAGE_SIZE, kind, &z, &a) : E_OK;
}

/*
 * Region r given back to init if at least `min` of its pages need no
 * memory of their own: pages all zero, and pages whose bytes init keeps
 * or has seen at another place (mem_page_find: init hashes the page
 * itself and compares in full).  Then the zero frame is mapped read-only
 * as its pieces; each page alike goes on init's kept page
 * (mem_page_take), read-only, as one piece; each other page is copied
 * into a private frame; and the region's own frame goes back to init.
 * The VCPU waits on us and no device request is in flight (share.c), so
 * nothing writes the region meanwhile.  Everything that can fail is
 * taken before any mapping changes.  1 if it was done (with *zero_pages,
 * *alike and *copied counted), 0 if not worth it (or not possible: RAM
 * from our pool, a region shared with a clone or already remapped), or
 * an error.
 */
long ram_share_content(unsigned r, unsigned min, unsigned *zero_pages, unsigned *alike, unsigned *copied)
{
	struct region *g = &regions[r];
	uint64_t base = (uint64_t)r * LARGE_PAGE_SIZE;
	*zero_pages = *alike = *copied = 0;
	if (!region_scannable(r))
		return 0;
	static uint8_t kind[PAGES_PER_REGION];
	unsigned z, a;
	long err = region_classify(g, base, kind, &z, &a);
	if (err)
		return err;
	if (z + a < min)
		return 0;
	if (!zero.frame && (err = init_mem_borrow_frame(INIT_SLOT, &zero.loan, &zero.frame))) {
		zero.frame = 0;
		return err;
	}
	/* what can fail first: the private frames and init's kept pages with
	 * their guest copies, the zero frame's two copies, the bytes to copy */
	unsigned own_pages = PAGES_PER_REGION - z - a;
	uint32_t *own = calloc(2 * PAGES_PER_REGION, sizeof(uint32_t));
	uint64_t *kept = calloc(PAGES_PER_REGION / 64, sizeof(uint64_t));
	uint8_t *bytes = malloc((size_t)own_pages * PAGE_SIZE + 1);
	uint64_t view = slot_alloc(), guest = slot_alloc();
	err = own && kept && bytes && view && guest ? E_OK : E_LIMIT;
	err = err ? err : sys_cnode_copy(zero.frame, CAP_ROOT_CNODE, view, RIGHT_READ | RIGHT_EXEC);
	err = err ? err : sys_cnode_copy(zero.frame, CAP_ROOT_CNODE, guest, RIGHT_READ | RIGHT_EXEC);
	for (unsigned i = 0, k = 0; !err && i < PAGES_PER_REGION; i++) {
		if (kind[i] == PAGE_ZERO)
			continue;
		uint64_t f = 0, copy = slot_alloc();
		if (!copy)
			err = E_SLOT_FULL;
		else if (kind[i] == PAGE_ALIKE)
			err = init_mem_page_take(INIT_SLOT, g->loan, i, &f);
		else
			err = private_frame(&f);
		err = err ? err : sys_cnode_copy(f, CAP_ROOT_CNODE, copy, RIGHTS_ALL);
		own[2 * i] = (uint32_t)f;
		own[2 * i + 1] = (uint32_t)copy;
		if (kind[i] == PAGE_ALIKE)
			kept[i / 64] |= 1UL << (i % 64);
		else
			memcpy(bytes + (size_t)k++ * PAGE_SIZE, (const void *)(GUEST_RAM_VA + base + (uint64_t)i * PAGE_SIZE),
			       PAGE_SIZE);
	}
	if (err) {
		share_undo(own, &view, &guest);
		free(kept);
		free(bytes);
		return err;
	}
	/* the switch: the region's frame out, the zero frame in, each other
	 * page on it as a 4 KiB frame in a piece's place */
	sys_cnode_delete(g->copy);           /* the guest's mapping */
	sys_page_unmap(g->frame);             /* ours */
	err = page_map_with_tables(view, GUEST_RAM_VA + base, RIGHT_READ | MAP_PIECES);
	err = err ? err : page_map_in(vm.guest_space, guest, base, RIGHT_READ | RIGHT_EXEC | MAP_PIECES);
	for (unsigned i = 0, k = 0; !err && i < PAGES_PER_REGION; i++) {
		uint64_t gpa = base + (uint64_t)i * PAGE_SIZE;
		if (kind[i] == PAGE_ZERO)
			continue;
		if (kind[i] == PAGE_ALIKE) {
			err = page_map_with_tables(own[2 * i], GUEST_RAM_VA + gpa, RIGHT_READ | MAP_PIECES);
			err = err ? err : page_map_in(vm.guest_space, own[2 * i + 1], gpa, RIGHT_READ | RIGHT_EXEC | MAP_PIECES);
			continue;
		}
		err = page_map_with_tables(own[2 * i], GUEST_RAM_VA + gpa, RIGHT_READ | RIGHT_WRITE);
		if (!err)
			memcpy((void *)(GUEST_RAM_VA + gpa), bytes + (size_t)k++ * PAGE_SIZE, PAGE_SIZE);
		err = err ? err : page_map_in(vm.guest_space, own[2 * i + 1], gpa, RIGHT_READ | RIGHT_WRITE | RIGHT_EXEC);
	}
	free(bytes);
	if (err) {   /* not expected: every table is there; the guest cannot go on */
		debug_printf("vmm: %sshare: region %u could not be remapped (error %ld)\n", vm_name, r, err);
		return err;
	}
	slot_free(g->copy);
	cap_drop(&g->frame);
	cap_drop(&g->ro);
	init_mem_return(INIT_SLOT, g->loan);
	g->frame = view;
	g->copy = guest;
	g->loan = ~0u;
	g->own = own;
	g->kept = kept;
	g->private = (uint16_t)own_pages;
	g->stored = (uint16_t)a;
	cow.pages += own_pages;
	g->shared = g->zero = 1;
	*zero_pages = z;
	*alike = a;
	*copied = own_pages;
	return 1;
}
