/* A pager task serves the page faults of another task by mapping frames.
 * The faulter (progs/faulter.c) runs in its own address space with our
 * port as its fault port: each first touch of a page in its region comes
 * to us as a LABEL_FAULT call, we map a fresh frame there and reply, and
 * it carries on at the faulting instruction.  Then it touches an address
 * we will not serve; we destroy it instead of replying. */
// test-module: build/tests/system/progs/faulter.elf
#include "tap.h"
#include <libipc/ipc.h>
#include "protocol.h"
#include "pager_protocol.h"

#define PEEK_VADDR 0x58000000UL      /* where we map copies of the frames we served */
#define REUSE_VADDR 0x5c000000UL     /* and, at the end, the frames themselves */
#define WAIT_TICKS 20000000000UL     /* upper bound for one message (several seconds) */
#define NOSENDERS_BIT 0x100UL
#define PING_BIT 0x1UL
#define WORDS_PER_PAGE (PAGE_SIZE / sizeof(uint64_t))

/* Receive, but give up after `ticks`: the faulter runs at our priority,
 * so yielding lets it go on until it calls us. */
static long recv_bounded(uint64_t port, uint64_t reply_slot, struct msg *m, uint64_t ticks)
{
	uint64_t end = rdtsc() + ticks;
	for (;;) {
		long err = ipc_nb_recv(port, reply_slot, m);
		if (err != E_WOULD_BLOCK || rdtsc() > end)
			return err;
		sys_yield();
	}
}

static int in_region(uint64_t addr)
{
	return addr >= FAULTER_REGION && addr < FAULTER_REGION + FAULTER_PAGES * PAGE_SIZE;
}

int main(const struct bootinfo *bi)
{
	tap_plan(19);
	struct process child;
	uint64_t port, fault_send = slot_alloc(), reply = slot_alloc(), done_slot = 0;
	long err = bi->module_count >= 1 ? E_OK : E_BAD_ARG;
	err = err ? err : object_alloc(OBJ_PORT, 0, &port);
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, fault_send, RIGHT_SEND, PAGER_FAULT_BADGE);
	err = err ? err : process_spawn((const void *)bi->module[0].vaddr, bi->module[0].size, 100,
	                                fault_send, 0, &child);
	err = err ? err : process_give(&child, port, RIGHT_SEND, PAGER_DONE_BADGE, &done_slot);
	/* from here on the faulter's thread and CNode hold the only send
	 * rights to our port: we ask to hear when the last one goes */
	err = err ? err : sys_cnode_delete(fault_send);
	err = err ? err : sys_port_nosenders(port, NOSENDERS_BIT);
	err = err ? err : process_start(&child);
	tap_ok(err == E_OK && done_slot == FAULTER_DONE_SLOT,
	       "spawn the faulter with our port as its fault port, give it a done right in slot %lu (err %ld)",
	       done_slot, err);

	/* phase 1: serve its faults until it says it is done */
	uint64_t frames[FAULTER_PAGES] = { 0 };
	unsigned faults = 0, bad_badge = 0, bad_vector = 0, bad_error = 0, repeats = 0;
	long map_err = E_OK, reply_err = E_OK, recv_err = E_OK;
	uint64_t stray_addr = 0, last_error = 0;
	struct thread_info first = { .state = 99 };
	struct msg m;
	for (;;) {
		if ((recv_err = recv_bounded(port, reply, &m, WAIT_TICKS)))
			break;
		if (MSG_LABEL(m.info) != LABEL_FAULT)
			break;
		if (faults++ == 0)
			sys_tcb_info(child.tcb, &first);
		bad_badge += m.badge != PAGER_FAULT_BADGE;
		bad_vector += m.w[0] != 14;
		if ((m.w[3] & 0x1f) != 6) { /* user, write, not present */
			bad_error++;
			last_error = m.w[3];
		}
		if (!in_region(m.w[1])) {
			stray_addr = m.w[1] ? m.w[1] : 1;
			break;
		}
		unsigned page = (unsigned)((m.w[1] - FAULTER_REGION) / PAGE_SIZE);
		if (frames[page]) { /* served already: it would fault for ever */
			repeats++;
			break;
		}
		long e = object_alloc(OBJ_FRAME, 0, &frames[page]);
		e = e ? e : page_map_in(child.vspace, frames[page], FAULTER_REGION + page * PAGE_SIZE,
		                        RIGHT_READ | RIGHT_WRITE);
		if (e) {
			map_err = e;
			break;
		}
		struct msg r = { .info = MSG_INFO(0, 0, 0) };
		if ((e = ipc_reply(reply, &r))) {
			reply_err = e;
			break;
		}
	}
	int done = !recv_err && MSG_LABEL(m.info) == LABEL_DONE;
	unsigned served = 0;
	for (unsigned i = 0; i < FAULTER_PAGES; i++)
		served += frames[i] != 0;

	tap_ok(first.state == THREAD_BLOCKED_REPLY && first.fault_vector == 14 &&
	       first.fault_addr == FAULTER_REGION,
	       "while we hold its first fault the faulter waits for our reply (state %u, vector %u, addr %lx)",
	       first.state, first.fault_vector, first.fault_addr);
	tap_ok(bad_badge == 0 && bad_vector == 0 && stray_addr == 0 && faults > 0,
	       "every fault message has the fault right's badge, vector 14 and an address in the region "
	       "(%u bad badges, %u bad vectors, stray address %lx)", bad_badge, bad_vector, stray_addr);
	tap_ok(bad_error == 0 && faults > 0,
	       "every fault's error code says user, write, not present (%u wrong, last %lx)", bad_error,
	       last_error);
	tap_ok(map_err == E_OK && reply_err == E_OK && recv_err == E_OK,
	       "each frame retyped and mapped into its VSpace, each fault answered (map %ld, reply %ld, recv %ld)",
	       map_err, reply_err, recv_err);
	tap_ok(done && faults == FAULTER_PAGES && served == FAULTER_PAGES && repeats == 0,
	       "exactly %d faults, one per page, before it is done (%u faults, %u pages served, %u repeats)",
	       FAULTER_PAGES, faults, served, repeats);

	uint64_t want = 0;
	for (unsigned i = 0; i < FAULTER_PAGES; i++)
		want = faulter_mix(want, faulter_value(i), ~faulter_value(i));
	tap_ok(done && m.badge == PAGER_DONE_BADGE && MSG_WORDS(m.info) == 1,
	       "the done message comes with the done right's badge (label %lx, badge %lx)",
	       MSG_LABEL(m.info), m.badge);
	tap_ok(done && m.w[0] == want, "its checksum of what it read back is right (%lx, want %lx)",
	       m.w[0], want);

	/* the frames are ours: copies mapped here show what it wrote */
	unsigned peek_ok = 0;
	for (unsigned i = 0; i < FAULTER_PAGES; i++) {
		uint64_t copy = slot_alloc();
		uint64_t va = PEEK_VADDR + i * PAGE_SIZE;
		if (!frames[i] || sys_cnode_copy(frames[i], CAP_ROOT_CNODE, copy, RIGHT_READ) ||
		    page_map_with_tables(copy, va, RIGHT_READ))
			continue;
		const volatile uint64_t *p = (const volatile uint64_t *)va;
		peek_ok += p[0] == faulter_value(i) && p[WORDS_PER_PAGE - 1] == ~faulter_value(i);
	}
	tap_eq(peek_ok, FAULTER_PAGES, "our own mappings of the frames we served show what the faulter wrote");

	/* phase 2: tell it to go wild; that fault we do not serve */
	struct msg r = { .info = MSG_INFO(LABEL_WILD, 0, 0) };
	err = done ? ipc_reply(reply, &r) : E_STATE;
	err = err ? err : recv_bounded(port, reply, &m, WAIT_TICKS);
	tap_ok(!err && MSG_LABEL(m.info) == LABEL_FAULT && m.badge == PAGER_FAULT_BADGE && m.w[0] == 14 &&
	       m.w[1] == FAULTER_WILD_ADDR && (m.w[3] & 0x1f) == 4,
	       "the wild read arrives as a fault: vector 14 at %lx, user read not present (err %ld, label %lx, "
	       "vector %lu, addr %lx, error %lx)", FAULTER_WILD_ADDR, err, MSG_LABEL(m.info), m.w[0], m.w[1],
	       m.w[3]);
	struct thread_info wild = { .state = 99 };
	long info_err = sys_tcb_info(child.tcb, &wild);
	tap_ok(!info_err && wild.state == THREAD_BLOCKED_REPLY && wild.fault_addr == FAULTER_WILD_ADDR,
	       "unserved, the faulter waits (state %u, addr %lx)", wild.state, wild.fault_addr);

	process_destroy(&child);
	tap_ok(cspace_slot_type(child.tcb) == OBJ_NONE && cspace_slot_type(child.cnode) == OBJ_NONE &&
	       cspace_slot_type(child.vspace) == OBJ_NONE,
	       "destroy the faulter instead of replying: its TCB, CNode and VSpace slots are empty");
	tap_eq(sys_tcb_info(child.tcb, &wild), E_BAD_CAP, "its thread can no longer be named");
	err = ipc_nb_recv(port, 0, &m);
	tap_ok(!err && MSG_LABEL(m.info) == LABEL_NOTIFY && (m.w[0] & NOSENDERS_BIT),
	       "its fault right and its done right went with it: our port has no senders left "
	       "(err %ld, label %lx, bits %lx)", err, MSG_LABEL(m.info), m.w[0]);
	err = ipc_nb_recv(port, 0, &m);
	tap_eq(err, E_WOULD_BLOCK, "and nothing else is queued on the port");

	/* the reply right for its last fault now answers nobody */
	err = ipc_reply(reply, &(struct msg){ .info = MSG_INFO(0, 0, 0) });
	tap_ok(err == E_NO_REPLY && cspace_slot_type(reply) == OBJ_NONE,
	       "replying to the destroyed faulter says no one is there and frees the slot (err %ld)", err);

	/* the frames outlive the address space they served: their mapping
	 * there died with it, so they map here at once, and still hold what
	 * the faulter wrote */
	unsigned reused = 0;
	long remap_err = E_OK;
	for (unsigned i = 0; i < FAULTER_PAGES; i++) {
		uint64_t va = REUSE_VADDR + i * PAGE_SIZE;
		long e = frames[i] ? page_map_with_tables(frames[i], va, RIGHT_READ | RIGHT_WRITE) : E_BAD_CAP;
		if (e) {
			remap_err = e;
			continue;
		}
		const volatile uint64_t *p = (const volatile uint64_t *)va;
		reused += p[0] == faulter_value(i) && p[WORDS_PER_PAGE - 1] == ~faulter_value(i);
	}
	tap_ok(reused == FAULTER_PAGES && remap_err == E_OK,
	       "the served frames map here without an unmap, contents intact (%u of %d, map %ld)",
	       reused, FAULTER_PAGES, remap_err);

	/* the kernel and we are unharmed */
	uint64_t f, send = slot_alloc();
	err = sys_null();
	err = err ? err : object_alloc(OBJ_FRAME, 0, &f);
	err = err ? err : page_map_with_tables(f, REUSE_VADDR + FAULTER_PAGES * PAGE_SIZE, RIGHT_READ | RIGHT_WRITE);
	tap_eq(err, E_OK, "the kernel still retypes and maps for us");
	err = sys_cnode_mint(port, CAP_ROOT_CNODE, send, RIGHT_SEND, 1);
	err = err ? err : sys_notify(send, PING_BIT);
	err = err ? err : ipc_nb_recv(port, 0, &m);
	tap_ok(!err && MSG_LABEL(m.info) == LABEL_NOTIFY && m.w[0] == PING_BIT,
	       "and our port still carries messages (err %ld, bits %lx)", err, m.w[0]);
	tap_done();
}
