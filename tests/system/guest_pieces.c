/* Guest RAM by the 4 KiB page (issue 16's foundation for dirty tracking,
 * copy-on-write and sharing): a 2 MiB frame mapped into a guest space
 * with MAP_PIECES is 512 entries of a page table; SYS_GUEST_PROTECT takes
 * write access away from pages and gives it back, so a guest's write to
 * a protected page is a nested page fault naming it while reads and
 * fetches go on; a 4 KiB frame mapped on a page takes that page's place;
 * unmapping or deleting the large frame removes the pieces it still has
 * and nothing else; a 4 KiB frame mapped as one piece is replaced the
 * same way.  A real guest (32-bit, hand-assembled) does the
 * loads and stores; the test sees the memory through its own mappings. */
#include "tap.h"
#include <libipc/ipc.h>
#include <berth/vcpu.h>
#include "vcpu_setup.h"

#define SCRATCH 0x60000000UL     /* the large frame, for us */
#define PRIVATE 0x60400000UL     /* the 4 KiB frame, for us */
#define OWN_VIEW 0x60800000UL    /* a copy of the large frame as pieces, for us */
#define ONE_PIECE 0x60a00000UL   /* a 4 KiB frame as one piece, for us */
#define BIG (1UL << LARGE_PAGE_BITS)

/* The guest: store EAX at [EBX], exit, load [EBX] into EAX, exit, again. */
static const uint8_t guest_code[] = {
	0x89, 0x03,                   /* 0x1000 mov %eax, (%ebx) */
	0x0f, 0x01, 0xd9,             /* 0x1002 vmmcall */
	0x8b, 0x03,                   /* 0x1005 mov (%ebx), %eax */
	0x0f, 0x01, 0xd9,             /* 0x1007 vmmcall */
	0xeb, 0xf4,                   /* 0x100a jmp 0x1000 */
};
#define STORE_RIP 0x1000
#define LOAD_RIP 0x1005

static uint64_t vcpu, port, reply;
static struct msg m;

/* Resume the guest at rip with ebx and eax, and wait for its next exit. */
static long run_at(uint64_t rip, uint64_t ebx, uint64_t eax)
{
	m.info = MSG_INFO(0, VMEXIT_REPLY_WORDS, 0);
	m.w[VMEXIT_W_RIP] = rip;
	m.w[VMEXIT_W_RAX + VCPU_RAX] = eax;
	m.w[VMEXIT_W_RAX + VCPU_RBX] = ebx;
	m.w[VMEXIT_W_INJECT] = 0;
	return ipc_reply_recv(reply, port, reply, &m);
}

static int exited(uint64_t code) { return m.w[VMEXIT_W_CODE] == code; }

/* The guest stores: 1 when it got through to its VMMCALL. */
static int store(uint64_t gpa, uint32_t v)
{
	return run_at(STORE_RIP, gpa, v) == E_OK && exited(VMEXIT_VMMCALL) && m.w[VMEXIT_W_RIP] == 0x1002;
}

/* The guest loads: 1 and *v when it got through. */
static int load(uint64_t gpa, uint32_t *v)
{
	if (run_at(LOAD_RIP, gpa, 0) != E_OK || !exited(VMEXIT_VMMCALL) || m.w[VMEXIT_W_RIP] != 0x1007)
		return 0;
	*v = (uint32_t)m.w[VMEXIT_W_RAX + VCPU_RAX];
	return 1;
}

/* The last exit was a nested page fault at gpa; write: by a store to a
 * present page (1), or: not present at all (0). */
static int npf_at(uint64_t gpa, int write)
{
	uint64_t want = write ? 3 : 0;
	return exited(VMEXIT_NPF) && m.w[VMEXIT_W_INFO2] == gpa && (m.w[VMEXIT_W_INFO1] & 3) == want;
}

/* SYS_GUEST_PROTECT: the entries it changed, or ~0 on an error. */
static uint64_t protect(uint64_t gs, uint64_t gpa, uint64_t pages, int allow)
{
	uint64_t changed;
	return sys_guest_protect(gs, gpa, pages, allow, &changed) == E_OK ? changed : ~0UL;
}

static volatile uint32_t *ours(uint64_t gpa) { return (volatile uint32_t *)(SCRATCH + gpa); }

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(48);
	uint64_t ut, big, priv, gs, gs_ro = slot_alloc(), pt;
	uint64_t gbig = slot_alloc(), gbig2 = slot_alloc(), gro = slot_alloc(), gpriv = slot_alloc();
	uint64_t send = slot_alloc(), changed = 99, level;
	reply = slot_alloc();
	long err = object_alloc(OBJ_UNTYPED, 23, &ut);
	uint64_t old_pool = alloc_set_pool(ut);
	err = err ? err : object_alloc(OBJ_FRAME, LARGE_PAGE_BITS, &big);
	alloc_set_pool(old_pool);
	err = err ? err : object_alloc(OBJ_FRAME, 0, &priv);
	err = err ? err : object_alloc(OBJ_GUEST_SPACE, 0, &gs);
	err = err ? err : object_alloc(OBJ_VCPU, 0, &vcpu);
	err = err ? err : object_alloc(OBJ_PORT, 0, &port);
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, send, RIGHT_SEND, 1);
	err = err ? err : page_map_with_tables(big, SCRATCH, RIGHT_READ | RIGHT_WRITE);
	err = err ? err : page_map_with_tables(priv, PRIVATE, RIGHT_READ | RIGHT_WRITE);
	err = err ? err : sys_cnode_copy(big, CAP_ROOT_CNODE, gbig, RIGHTS_ALL);
	err = err ? err : sys_cnode_copy(big, CAP_ROOT_CNODE, gbig2, RIGHTS_ALL);
	err = err ? err : sys_cnode_copy(big, CAP_ROOT_CNODE, gro, RIGHT_READ | RIGHT_EXEC);
	err = err ? err : sys_cnode_copy(priv, CAP_ROOT_CNODE, gpriv, RIGHTS_ALL);
	tap_eq(err, E_OK, "a 2 MiB frame, a 4 KiB frame, copies for the guest, a guest space, a VCPU");

	/* --- mapping as pieces ------------------------------------------ */
	unsigned rwx = RIGHT_READ | RIGHT_WRITE | RIGHT_EXEC;
	/* a 4 KiB frame as one piece (a page shared by content): another
	 * takes its place, and the first, unmapped or deleted, takes nothing */
	uint64_t one, two, three;
	volatile uint32_t *piece = (volatile uint32_t *)ONE_PIECE;
	err = object_alloc(OBJ_FRAME, 0, &one);
	err = err ? err : object_alloc(OBJ_FRAME, 0, &two);
	err = err ? err : object_alloc(OBJ_FRAME, 0, &three);
	err = err ? err : page_map_with_tables(one, ONE_PIECE, RIGHT_READ | RIGHT_WRITE | MAP_PIECES);
	if (!err)
		*piece = 0x1111;
	tap_eq(err, E_OK, "a 4 KiB frame maps as one piece");
	tap_ok(sys_page_map(two, CAP_ROOT_VSPACE, ONE_PIECE, RIGHT_READ | RIGHT_WRITE, &level) == E_OK && *piece == 0,
	       "another 4 KiB frame takes its place");
	tap_eq(sys_page_map(three, CAP_ROOT_VSPACE, ONE_PIECE, RIGHT_READ, &level), E_MAPPED,
	       "that one, mapped plainly, no third frame replaces");
	*piece = 0x2222;
	tap_ok(sys_page_unmap(one) == E_NOT_MAPPED && sys_cnode_delete(one) == E_OK && *piece == 0x2222,
	       "the first one, unmapped or deleted, takes nothing with it");
	sys_page_unmap(two);
	/* pieces in our own space too (a VMM's view of guest RAM it shares):
	 * the frame's bytes, then a 4 KiB frame's in one piece's place */
	uint64_t own4k;
	*ours(0x3000) = 0x5eed;
	err = object_alloc(OBJ_FRAME, 0, &own4k);
	err = err ? err : page_map_with_tables(gbig2, OWN_VIEW, RIGHT_READ | RIGHT_WRITE | MAP_PIECES);
	int seen = !err && *(volatile uint32_t *)(OWN_VIEW + 0x3000) == 0x5eed;
	err = err ? err : page_map_with_tables(own4k, OWN_VIEW + 0x3000, RIGHT_READ | RIGHT_WRITE);
	seen = seen && !err && *(volatile uint32_t *)(OWN_VIEW + 0x3000) == 0 &&
	       *(volatile uint32_t *)(OWN_VIEW + 0x2000) == *ours(0x2000);
	err = err ? err : sys_page_unmap(own4k);
	err = err ? err : sys_page_unmap(gbig2);
	tap_ok(!err && seen, "pieces in our own space: the frame shows through, a 4 KiB frame takes a piece's place");
	tap_ok(sys_page_map(gbig, gs, 0, rwx | MAP_PIECES, &level) == E_MISSING_TABLE && level >= 1,
	       "without a page table at its address: E_MISSING_TABLE (level %lu)", level);
	tap_eq(page_map_in(gs, gbig, 0, rwx | MAP_PIECES), E_OK, "with one, it maps at guest-physical 0");
	tap_eq(sys_page_map(gbig, gs, BIG, rwx | MAP_PIECES, &level), E_MAPPED, "a capability maps once");
	tap_eq(sys_page_map(gbig2, gs, 0, rwx | MAP_PIECES, &level), E_MAPPED,
	       "a second frame's pieces on the first are refused");
	tap_eq(sys_page_map(gbig2, gs, 0, rwx, &level), E_MAPPED, "so is a large page where the pieces are");
	tap_eq(object_alloc(OBJ_PAGE_TABLE, 0, &pt), E_OK, "a page table");
	tap_eq(sys_page_table_map(pt, gs, 0), E_MAPPED, "and a page table there");

	memcpy((void *)(SCRATCH + 0x1000), guest_code, sizeof(guest_code));
	err = sys_vcpu_configure(vcpu, gs, send);
	sys_vcpu_write(vcpu, VCPU_CR0, 0x11);
	sys_vcpu_write(vcpu, VCPU_CR4, 0);
	vcpu_flat_segments(vcpu, 0xc9b);
	sys_vcpu_write(vcpu, VCPU_RSP, 0x8000);
	sys_vcpu_write(vcpu, VCPU_RIP, 0x1002);  /* its first exit: the VMMCALL */
	err = err ? err : sys_tcb_set_priority(vcpu, 100, 100);
	err = err ? err : sys_tcb_resume(vcpu);
	err = err ? err : ipc_recv(port, reply, &m);
	tap_ok(!err && exited(VMEXIT_VMMCALL), "the guest runs from the pieces");
	uint32_t v = 0;
	tap_ok(store(0x3000, 0x11) && *ours(0x3000) == 0x11 && load(0x3000, &v) && v == 0x11,
	       "its stores and loads reach the frame");

	/* --- write protection ------------------------------------------- */
	changed = protect(gs, 0, 512, 0);
	tap_ok(changed == 512,
	       "protecting 512 pages changes 512 entries (%lu)", changed);
	changed = protect(gs, 0, 512, 0);
	tap_ok(changed == 0,
	       "protecting them again changes none (%lu)", changed);
	tap_ok(load(0x3000, &v) && v == 0x11, "a protected page is still read (and code still runs)");
	tap_ok(!store(0x5000, 0x55) && npf_at(0x5000, 1) && *ours(0x5000) == 0,
	       "a store to a protected page is a nested page fault at it, present and write, and wrote nothing");
	changed = protect(gs, 0x5000, 1, 1);
	tap_ok(changed == 1,
	       "allowing that one page changes one entry");
	tap_ok(store(0x5000, 0x55) && *ours(0x5000) == 0x55, "the store then goes through");
	tap_ok(!store(0x6000, 0x66) && npf_at(0x6000, 1), "its neighbour is still protected");
	changed = protect(gs, 0, 0x800, 1);
	tap_ok(changed == 511,
	       "allowing 8 MiB from 0 changes the other 511 (%lu)", changed);
	tap_ok(store(0x6000, 0x66) && store(0x1ff000, 0x1f) && *ours(0x1ff000) == 0x1f,
	       "and every page takes stores again");

	/* --- a 4 KiB frame in a piece's place (copy-on-write) -------------- */
	*(volatile uint32_t *)PRIVATE = 0xabcd;
	*ours(0x7000) = 0x7777;
	tap_eq(sys_page_map(gpriv, gs, 0x7000, rwx, &level), E_OK, "a 4 KiB frame maps on a piece");
	v = 0;
	tap_ok(load(0x7000, &v) && v == 0xabcd, "the guest sees the 4 KiB frame there");
	tap_ok(store(0x7000, 0x70) && *(volatile uint32_t *)PRIVATE == 0x70 && *ours(0x7000) == 0x7777,
	       "its stores go to the 4 KiB frame, the large frame keeps its page");
	tap_ok(sys_guest_protect(gs, 0x7000, 1, 0, &changed) == E_OK && changed == 1 && !store(0x7000, 1) &&
	       npf_at(0x7000, 1), "the 4 KiB frame's page can be protected too");
	sys_guest_protect(gs, 0x7000, 1, 1, &changed);

	/* --- a read-only mapping never becomes writable ------------------- */
	tap_eq(page_map_in(gs, gro, BIG, RIGHT_READ | RIGHT_EXEC | MAP_PIECES), E_OK,
	       "a read-only copy maps as pieces at 2 MiB");
	changed = protect(gs, BIG, 512, 1);
	tap_ok(changed == 0,
	       "allowing writes to it changes nothing (%lu)", changed);
	tap_ok(load(BIG + 0x3000, &v) && v == 0x11 && !store(BIG + 0x3000, 5) && npf_at(BIG + 0x3000, 1),
	       "the guest reads the same frame there and cannot write it");

	/* --- a large page is protected whole or not at all ---------------- */
	tap_eq(page_map_in(gs, gbig2, 2 * BIG, rwx), E_OK, "another copy maps as one large page at 4 MiB");
	tap_eq(sys_guest_protect(gs, 2 * BIG + 0x1000, 1, 0, &changed), E_ALIGN,
	       "protecting part of a large page is refused");
	tap_ok(store(2 * BIG + 0x9000, 0x21) && *ours(0x9000) == 0x21, "and changed nothing");
	changed = protect(gs, 0, 1536, 0);
	tap_ok(changed == 513,
	       "6 MiB from 0: 512 pieces and the large page (%lu; the read-only ones were already)", changed);
	tap_ok(!store(2 * BIG + 0x9000, 0x22) && npf_at(2 * BIG + 0x9000, 1), "the large page is protected");
	changed = protect(gs, 0, 1536, 1);
	tap_ok(changed == 513,
	       "and all come back but the read-only ones (%lu)", changed);

	/* --- bad arguments ------------------------------------------------ */
	sys_cnode_copy(gs, CAP_ROOT_CNODE, gs_ro, RIGHT_READ);
	tap_ok(sys_guest_protect(gs, 0, 0, 0, 0) == E_BAD_ARG &&
	       sys_guest_protect(gs, 0, GUEST_PROTECT_MAX_PAGES + 1, 0, 0) == E_BAD_ARG &&
	       sys_guest_protect(gs, 0, 1, 2, 0) == E_BAD_ARG, "no pages, too many, allow not 0 or 1: E_BAD_ARG");
	tap_ok(sys_guest_protect(gs, 0x1234, 1, 0, 0) == E_ALIGN &&
	       sys_guest_protect(gs, GUEST_PHYS_TOP - PAGE_SIZE, 2, 0, 0) == E_BAD_ADDRESS &&
	       sys_guest_protect(gs, ~0UL & ~0xfffUL, 1, 0, 0) == E_BAD_ADDRESS,
	       "an unaligned address: E_ALIGN; past the top of guest memory: E_BAD_ADDRESS");
	tap_ok(sys_guest_protect(CAP_ROOT_VSPACE, 0, 1, 0, 0) == E_WRONG_TYPE &&
	       sys_guest_protect(gs_ro, 0, 1, 0, 0) == E_NO_RIGHTS,
	       "an address space: E_WRONG_TYPE; a guest space without WRITE: E_NO_RIGHTS");
	changed = protect(gs, 64 * BIG, GUEST_PROTECT_MAX_PAGES, 0);
	tap_ok(changed == 0,
	       "a range where nothing is mapped changes nothing");

	/* --- unmap and delete take the pieces, and only them ---------------- */
	tap_eq(sys_page_unmap(gbig), E_OK, "unmap the large frame's pieces");
	/* the code went too: the guest runs from the read-only copy at 2 MiB */
	tap_ok(run_at(BIG + LOAD_RIP, 0x3000, 0) == E_OK && npf_at(0x3000, 0), "its pages are gone from the guest");
	tap_ok(run_at(BIG + LOAD_RIP, 0x7000, 0) == E_OK && exited(VMEXIT_VMMCALL) &&
	       (uint32_t)m.w[VMEXIT_W_RAX + VCPU_RAX] == 0x70, "the 4 KiB frame in a piece's place stays");
	tap_eq(sys_page_map(gbig, gs, 0, rwx | MAP_PIECES, &level), E_MAPPED,
	       "pieces do not map where a 4 KiB frame is");
	tap_ok(sys_page_unmap(gpriv) == E_OK && sys_page_map(gbig, gs, 0, rwx | MAP_PIECES, &level) == E_OK,
	       "with it unmapped, they do again");
	tap_eq(sys_cnode_delete(gro), E_OK, "delete the read-only copy");
	tap_ok(run_at(BIG + LOAD_RIP, 0x3000, 0) == E_OK && npf_at(BIG + LOAD_RIP, 0),
	       "its pieces went with it: fetching there is a nested page fault");
	tap_done();
}
