/*
 * A system-call fuzzer aimed at object lifetime (docs/kernel-objects.md,
 * docs/reliability.md).  Several threads make random calls with
 * capabilities that look right: objects retyped from an epoch's Untyped
 * into a pool of slots, copied, minted, moved, deleted, revoked, mapped,
 * configured into threads and VCPUs, sent in messages, while other
 * threads use them.  Victim threads and VCPUs block on the pool's ports,
 * take faults and exits, and are destroyed under their callers.
 *
 * Each epoch ends by revoking its Untyped, then checks:
 *  - leaks: the Untyped is entirely free again;
 *  - poison: the previous epoch's Untyped, made into frames and filled
 *    with a pattern before this epoch began, still holds only the
 *    pattern: nothing the kernel freed was written to afterwards;
 *  - life: a round trip to a server thread still works.
 * Every result must be a defined error code.  The calls counted are the
 * fuzzing calls; the SYS_CAP_IDENTIFY lookups that aim them at slots of
 * the right type are reported apart.  The self-check kernel make
 * test boots checks every invariant after each exit on top.
 *
 * The command line sets the run: fuzz_seed=S fuzz_calls=N (make fuzz
 * runs many seeds; make test one short run).
 */
// test-cmdline: fuzz_seed=1 fuzz_calls=40000
// test-timeout: 240
#include "tap.h"
#include <libipc/ipc.h>
#include <berth/vcpu.h>
#include "vcpu_setup.h"

#define WORKERS 3
#define POOL 32
#define EPOCH_BITS 19                  /* each epoch's Untyped: 512 KiB */
#define EPOCH_FRAMES (1 << (EPOCH_BITS - 12))
#define CALLS_PER_EPOCH 4000
#define PRIO 100
#define VICTIMS 8
#define FUZZ_VA 0x600000000000UL       /* where pool frames and tables map */
#define POISON_VA 0x610000000000UL     /* the previous epoch's memory, poisoned */
#define POISON 0x5aa5c33c96695aa5UL
#define GUEST_CODE_GPA 0x1000UL

static uint64_t pool[POOL];
static uint64_t guest_code;            /* a frame: vmmcall; jmp back */
static uint64_t probe_port;
static uint8_t worker_stack[WORKERS][16384] __attribute__((aligned(16)));
static uint8_t victim_stack[VICTIMS][4096] __attribute__((aligned(16)));
static uint8_t probe_stack[8192] __attribute__((aligned(16)));
static volatile uint32_t victim_stacks_used;
static volatile int running, stop, parked[WORKERS];
static uint64_t worker_tcb[WORKERS];
static volatile uint64_t calls, bad_errors, epoch_untyped;
static volatile uint64_t lookups, victims_started, vcpus_started;  /* lookups are not counted as calls */
static uint64_t fuzz_seed;
static uint64_t errors[E_COUNT + 1];

static uint64_t next_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dUL;
}

static uint64_t below(uint64_t *s, uint64_t n)
{
	return next_rand(s) % n;
}

static uint64_t any_slot(uint64_t *s)
{
	return pool[below(s, POOL)];
}

/* A slot number as a plausible caller would pass it: usually one of the
 * pool's, sometimes 0 or a small index (which names something else in a
 * CNode that is not ours). */
static uint64_t some_cptr(uint64_t *s)
{
	uint64_t r = below(s, 16);
	return r == 0 ? 0 : r == 1 ? below(s, 64) : any_slot(s);
}

static void count(long err)
{
	__atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED);
	if (err < 0 || err >= E_COUNT) {
		__atomic_fetch_add(&bad_errors, 1, __ATOMIC_RELAXED);
		err = E_COUNT;
	}
	__atomic_fetch_add(&errors[err], 1, __ATOMIC_RELAXED);
}

/* A victim's call: with TCB_FLAG_SYSCALLS_FAULT set on it (case 14 below)
 * its SYSCALL is a fault that the pool's ports may answer by resuming it,
 * RAX still the call's number, which is then no result of the kernel's. */
static volatile uint64_t redirected;

static void count_victim(long err, long call)
{
	if (err == call)
		__atomic_fetch_add(&redirected, 1, __ATOMIC_RELAXED);
	else
		count(err);
}

/*
 * What the fuzzing threads believe each pool slot holds.  They note the
 * effect of their own successful calls; revokes, transfers and
 * destruction make it stale, so every REFRESH_EVERY calls one thread
 * looks at every slot again (SYS_CAP_IDENTIFY, counted as lookups, not
 * calls).  Stale beliefs only make more calls fail, as a confused caller's
 * would.
 */
#define REFRESH_EVERY 256
static volatile uint8_t believed[POOL];
static volatile uint64_t refreshed_at;

static void note(uint64_t slot, unsigned type)
{
	if (slot >= pool[0] && slot < pool[0] + POOL)
		believed[slot - pool[0]] = (uint8_t)type;
}

static unsigned belief(uint64_t slot)
{
	return slot >= pool[0] && slot < pool[0] + POOL ? believed[slot - pool[0]] : OBJ_NONE;
}

static void refresh(void)
{
	uint64_t now = calls;
	if (now - refreshed_at < REFRESH_EVERY)
		return;
	refreshed_at = now;
	for (int i = 0; i < POOL; i++) {
		unsigned t = OBJ_NONE, rights;
		uint64_t badge;
		sys_cap_identify(pool[i], &t, &rights, &badge);
		believed[i] = (uint8_t)t;
	}
	__atomic_fetch_add(&lookups, POOL, __ATOMIC_RELAXED);
}

/* A pool slot believed to hold a `type` capability (OBJ_NONE: an empty
 * slot), as a caller that knows its objects would pass; else any. */
static uint64_t slot_of(uint64_t *s, unsigned type)
{
	uint64_t some = any_slot(s);
	for (int tries = 0; tries < 12; tries++) {
		uint64_t slot = any_slot(s);
		if (belief(slot) == type)
			return slot;
		if (belief(slot) != OBJ_NONE)
			some = slot;
	}
	return some;  /* a capability of another type, the commonest mistake */
}

static uint64_t some_vaddr(uint64_t *s, int guest)
{
	static const uint64_t stride[] = { 0, 1UL << 12, 1UL << 21, 1UL << 30 };
	uint64_t base = guest ? 0 : FUZZ_VA;
	return base + stride[below(s, 4)] * below(s, 3) + (guest ? GUEST_CODE_GPA : 0);
}

static const unsigned retype_types[] = { OBJ_CNODE, OBJ_TCB, OBJ_VSPACE, OBJ_PAGE_TABLE, OBJ_PAGE_TABLE,
	                                 OBJ_FRAME, OBJ_FRAME, OBJ_PORT, OBJ_PORT, OBJ_GUEST_SPACE, OBJ_VCPU,
	                                 OBJ_UNTYPED, OBJ_SHADOW_SPACE };

/* --- victims: threads that block on the pool's ports ----------------- */

#define VICTIM_IPCBUF_VA (FUZZ_VA - 64 * PAGE_SIZE)  /* + k pages: victim k's IPC buffer */
static volatile uint64_t victim_tcb[VICTIMS];
static uint64_t victim_buffer_view[VICTIMS];  /* our copies of their buffers' frames, mapped */

/* Victim k: calls, sends (long messages too, through its IPC buffer),
 * receives and replies on the pool's ports, and now and then changes its
 * own CNode, address space, fault port or IPC buffer, or deletes and
 * revokes what it finds, so that a call destroys what it is using. */
static void victim(uint64_t arg)
{
	uint64_t s = arg | 1, me = victim_tcb[arg & (VICTIMS - 1)];
	for (;;) {
		struct msg m = { .info = MSG_INFO(below(&s, 8), below(&s, 9), 0), .w = { s, 1, 2, 3, 4, 5, 6, 7 } };
		switch (below(&s, 12)) {
		case 0:
			sys_yield();
			break;
		case 1: case 2:
			ipc_call(slot_of(&s, OBJ_PORT), &m);
			break;
		case 3:
			ipc_send(slot_of(&s, OBJ_PORT), &m);
			break;
		case 4: case 5:
			ipc_recv(slot_of(&s, OBJ_PORT), slot_of(&s, OBJ_NONE), &m);
			break;
		case 6:
			ipc_reply(slot_of(&s, OBJ_REPLY), &m);
			break;
		case 7:
			sys_notify(slot_of(&s, OBJ_PORT), next_rand(&s));
			break;
		case 8:
			count_victim(sys_tcb_configure(me, below(&s, 2) ? slot_of(&s, OBJ_CNODE) : 0,
			                               below(&s, 4) ? 0 : slot_of(&s, OBJ_VSPACE), slot_of(&s, OBJ_PORT)),
			             SYS_TCB_CONFIGURE);
			break;
		case 9:
			count_victim(sys_tcb_set_ipc_buffer(me, below(&s, 2) ? slot_of(&s, OBJ_FRAME) : 0, some_vaddr(&s, 0)),
			             SYS_TCB_SET_IPC_BUFFER);
			break;
		default:
			if (below(&s, 2))
				count_victim(sys_cnode_delete(any_slot(&s)), SYS_CNODE_DELETE);
			else
				count_victim(sys_cnode_revoke(any_slot(&s)), SYS_CNODE_REVOKE);
		}
	}
}

/* A thread retyped into the pool, running `victim` on our address space
 * and CNode (or whatever the fuzz gives it later), with an IPC buffer
 * from the pool. */
static void spawn_victim(uint64_t *s)
{
	uint32_t used = victim_stacks_used;
	int k = 0;
	while (k < VICTIMS && (used & (1u << k)))
		k++;
	if (k == VICTIMS)
		return;
	uint64_t t = slot_of(s, OBJ_NONE), buf = slot_of(s, OBJ_NONE), view = victim_buffer_view[k];
	uint64_t buf_va = VICTIM_IPCBUF_VA + (uint64_t)k * PAGE_SIZE;
	long err = sys_untyped_retype(epoch_untyped, OBJ_TCB, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, t);
	count(err);
	if (err)
		return;
	note(t, OBJ_TCB);
	__atomic_fetch_or(&victim_stacks_used, 1u << k, __ATOMIC_RELAXED);
	victim_tcb[k] = t;
	/* the buffer's frame is ours until it is mapped and set up (another
	 * thread could unmap a pool capability under our write); then the
	 * pool gets a copy to play with */
	err = sys_untyped_retype(epoch_untyped, OBJ_FRAME, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, view);
	count(err);
	if (!err && !page_map_with_tables(view, buf_va, RIGHT_READ | RIGHT_WRITE)) {
		((struct ipc_buffer *)buf_va)->self = buf_va;
		count(sys_tcb_set_ipc_buffer(t, view, buf_va));
		if (!sys_cnode_copy(view, CAP_ROOT_CNODE, buf, RIGHTS_ALL))
			note(buf, OBJ_FRAME);
	}
	count(sys_tcb_configure(t, below(s, 4) ? CAP_ROOT_CNODE : some_cptr(s), CAP_ROOT_VSPACE,
	                        below(s, 2) ? some_cptr(s) : 0));
	count(sys_tcb_set_priority(t, PRIO - below(s, 2), PRIO));
	count(sys_tcb_set_regs(t, (uint64_t)victim, (uint64_t)victim_stack[k] + sizeof(victim_stack[k]) - 8,
	                       (next_rand(s) << 8) | (uint64_t)k));
	long started = sys_tcb_resume(t);
	count(started);
	if (!started)
		__atomic_fetch_add(&victims_started, 1, __ATOMIC_RELAXED);
}

/* Map frame at vaddr in space, with page tables retyped from `from` into
 * the pool as they are missing. */
static void map_with_tables(uint64_t *s, uint64_t frame, uint64_t space, uint64_t vaddr, unsigned rights,
                            uint64_t from)
{
	uint64_t level;
	for (int i = 0; i < 4; i++) {
		long err = sys_page_map(frame, space, vaddr, rights, &level);
		count(err);
		if (err != E_MISSING_TABLE)
			return;
		uint64_t pt = slot_of(s, OBJ_NONE);
		err = sys_untyped_retype(from, OBJ_PAGE_TABLE, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, pt);
		count(err);
		if (!err)
			note(pt, OBJ_PAGE_TABLE);
		count(sys_page_table_map(pt, space, vaddr));
	}
}

/* A thread running a yield loop in an address space of its own, whose
 * tables and code mapping come from a child Untyped in the pool: revoking
 * that child takes the space away under a thread that is still runnable. */
static uint64_t yield_code;            /* a frame: mov $SYS_YIELD, %eax; syscall; jmp back */

static void spawn_space_victim(uint64_t *s)
{
	uint64_t child = slot_of(s, OBJ_NONE), vs = slot_of(s, OBJ_NONE), code = slot_of(s, OBJ_NONE);
	uint64_t t = slot_of(s, OBJ_NONE);
	long err = sys_untyped_retype(epoch_untyped, OBJ_UNTYPED, 16, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, child);
	count(err);
	if (err)
		return;
	note(child, OBJ_UNTYPED);
	err = sys_untyped_retype(child, OBJ_VSPACE, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, vs);
	err = err ? err : sys_cnode_copy(yield_code, CAP_ROOT_CNODE, code, RIGHTS_ALL);
	count(err);
	if (err)
		return;
	note(vs, OBJ_VSPACE);
	note(code, OBJ_FRAME);
	map_with_tables(s, code, vs, 0x400000, RIGHT_READ | RIGHT_EXEC, child);
	err = sys_untyped_retype(epoch_untyped, OBJ_TCB, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, t);
	count(err);
	if (err)
		return;
	note(t, OBJ_TCB);
	count(sys_tcb_configure(t, CAP_ROOT_CNODE, vs, below(s, 2) ? slot_of(s, OBJ_PORT) : 0));
	count(sys_tcb_set_priority(t, PRIO, PRIO));
	count(sys_tcb_set_regs(t, 0x400000, 0x401000, 0));
	err = sys_tcb_resume(t);
	count(err);
	if (!err)
		__atomic_fetch_add(&victims_started, 1, __ATOMIC_RELAXED);
}

/* --- VCPUs among the victims ------------------------------------------ */

static void guest_mode(uint64_t vcpu)
{
	count(sys_vcpu_write(vcpu, VCPU_CR0, 0x11));
	vcpu_flat_segments(vcpu, 0xc9b);
	count(sys_vcpu_write(vcpu, VCPU_RIP, GUEST_CODE_GPA));
}

/* A guest space with the guest code mapped, a VCPU, an exit port: all in
 * the pool, from the epoch's Untyped, the VCPU started. */
static void spawn_vcpu(uint64_t *s)
{
	uint64_t gs = slot_of(s, OBJ_NONE), vcpu = slot_of(s, OBJ_NONE), port = slot_of(s, OBJ_NONE);
	uint64_t send = slot_of(s, OBJ_NONE), code = slot_of(s, OBJ_NONE);
	uint64_t u = epoch_untyped;
	long err = sys_untyped_retype(u, OBJ_GUEST_SPACE, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, gs);
	err = err ? err : sys_untyped_retype(u, OBJ_VCPU, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, vcpu);
	err = err ? err : sys_untyped_retype(u, OBJ_PORT, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, port);
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, send, RIGHT_SEND, next_rand(s));
	err = err ? err : sys_cnode_copy(guest_code, CAP_ROOT_CNODE, code, RIGHTS_ALL);
	count(err);
	if (err)
		return;
	note(gs, OBJ_GUEST_SPACE);
	note(vcpu, OBJ_VCPU);
	note(port, OBJ_PORT);
	note(send, OBJ_PORT);
	note(code, OBJ_FRAME);
	map_with_tables(s, code, gs, GUEST_CODE_GPA, RIGHT_READ | RIGHT_WRITE | RIGHT_EXEC, u);
	count(sys_vcpu_configure(vcpu, gs, send));
	guest_mode(vcpu);
	count(sys_tcb_set_priority(vcpu, PRIO - below(s, 2), PRIO));
	err = sys_tcb_resume(vcpu);
	count(err);
	if (!err)
		__atomic_fetch_add(&vcpus_started, 1, __ATOMIC_RELAXED);
}

/* --- one random call --------------------------------------------------- */

static uint64_t a_space(uint64_t *s)
{
	unsigned r = (unsigned)below(s, 8);
	return r < 4 ? slot_of(s, OBJ_VSPACE) : r < 7 ? slot_of(s, OBJ_GUEST_SPACE) : CAP_ROOT_VSPACE;
}

static void one_call(uint64_t *s)
{
	uint64_t c = some_cptr(s), level;
	struct msg m = { .info = MSG_INFO(below(s, 4), below(s, 7), 0) };
	switch (below(s, 38)) {
	case 0: case 1: case 2: case 32: case 33: case 34: {
		unsigned type = retype_types[below(s, sizeof(retype_types) / sizeof(retype_types[0]))];
		unsigned bits = type == OBJ_CNODE ? 1 + (unsigned)below(s, 6) : type == OBJ_UNTYPED ? 12 + (unsigned)below(s, 3)
		              : type == OBJ_SHADOW_SPACE ? SHADOW_MIN_BITS - 1 + (unsigned)below(s, 2) : 0;
		uint64_t offset = below(s, 4) ? RETYPE_NEXT_FREE : below(s, 1u << EPOCH_BITS) & ~0xfffUL;
		uint64_t from = below(s, 6) ? epoch_untyped : slot_of(s, OBJ_UNTYPED), to = slot_of(s, OBJ_NONE);
		long err = sys_untyped_retype(from, type, bits, offset, CAP_ROOT_CNODE, to);
		count(err);
		if (!err)
			note(to, type);
		break;
	}
	case 3: case 4: case 5: case 6: {
		uint64_t from = any_slot(s), to = slot_of(s, OBJ_NONE);
		unsigned rights = (unsigned)below(s, RIGHTS_ALL + 1), op = (unsigned)below(s, 4);
		long err = op == 0 ? sys_cnode_move(from, CAP_ROOT_CNODE, to)
		         : op == 1 ? sys_cnode_mint(from, CAP_ROOT_CNODE, to, rights, next_rand(s))
		                   : sys_cnode_copy(from, CAP_ROOT_CNODE, to, rights);
		count(err);
		if (!err)
			note(to, belief(from));
		if (!err && op == 0)
			note(from, OBJ_NONE);
		break;
	}
	case 7: case 8: {
		uint64_t slot = any_slot(s);
		count(sys_cnode_delete(slot));
		note(slot, OBJ_NONE);
		break;
	}
	case 9:
		count(sys_cnode_revoke(any_slot(s)));
		refreshed_at = 0;  /* anything may be gone */
		break;
	case 10: /* into another CNode of the pool */
		count(sys_cnode_copy(any_slot(s), slot_of(s, OBJ_CNODE), 1 + below(s, 63), RIGHTS_ALL));
		break;
	case 11: {
		unsigned r = (unsigned)below(s, 4);
		count(sys_tcb_configure(slot_of(s, OBJ_TCB), r & 1 ? slot_of(s, OBJ_CNODE) : r ? CAP_ROOT_CNODE : 0,
		                        r & 2 ? slot_of(s, OBJ_VSPACE) : CAP_ROOT_VSPACE,
		                        below(s, 2) ? slot_of(s, OBJ_PORT) : c));
		break;
	}
	case 12:
		count(sys_tcb_set_ipc_buffer(slot_of(s, OBJ_TCB), below(s, 4) ? slot_of(s, OBJ_FRAME) : 0,
		                             some_vaddr(s, 0)));
		break;
	case 13:
		count(below(s, 2) ? sys_tcb_resume(slot_of(s, below(s, 2) ? OBJ_TCB : OBJ_VCPU))
		                  : sys_tcb_suspend(slot_of(s, below(s, 2) ? OBJ_TCB : OBJ_VCPU)));
		break;
	case 14: {
		struct thread_info info;
		uint64_t t = slot_of(s, below(s, 2) ? OBJ_TCB : OBJ_VCPU);
		count(below(s, 2) ? sys_tcb_info(t, &info) : sys_tcb_set_priority(t, PRIO - below(s, 3), PRIO));
		/* a victim whose SYSCALLs become faults, or a bad flag */
		if (!below(s, 4))
			count(sys_tcb_set_flags(t, below(s, 2) ? TCB_FLAG_SYSCALLS_FAULT : next_rand(s) & 3));
		/* SYS_TCB_REGS: a stopped victim's registers, read back and
		 * written with a random RIP and RSP (user or not) and RFLAGS */
		struct tcb_regs regs;
		if (!below(s, 3) && !sys_tcb_regs_read(t, &regs)) {
			regs.rip = below(s, 2) ? regs.rip : next_rand(s);
			regs.rsp = below(s, 2) ? regs.rsp : next_rand(s);
			regs.rflags = next_rand(s);
			count(sys_tcb_regs_write(t, &regs));
		}
		break;
	}
	case 15: case 16: {
		uint64_t space = a_space(s);
		count(sys_page_table_map(slot_of(s, OBJ_PAGE_TABLE), space, some_vaddr(s, space != CAP_ROOT_VSPACE && below(s, 2))));
		break;
	}
	case 17: case 18: {
		uint64_t space = a_space(s);
		count(sys_page_map(slot_of(s, OBJ_FRAME), space, some_vaddr(s, space != CAP_ROOT_VSPACE && below(s, 2)),
		                   RIGHT_READ | (below(s, 2) ? RIGHT_WRITE : 0), &level));
		break;
	}
	case 19:
		count(sys_page_unmap(slot_of(s, OBJ_FRAME)));
		break;
	case 20:
		count(ipc_nb_send(slot_of(s, OBJ_PORT), &m));
		break;
	case 21: {
		uint64_t give[2] = { any_slot(s), c };
		ipc_set_send_caps(give, 2);
		m.info = MSG_INFO(below(s, 4), below(s, 3), 1 + below(s, 2));
		count(ipc_nb_send(slot_of(s, OBJ_PORT), &m));
		ipc_set_send_caps(0, 0);
		break;
	}
	case 22: case 23: {
		uint64_t into[2] = { slot_of(s, OBJ_NONE), slot_of(s, OBJ_NONE) };
		ipc_set_recv_slots(into, 2);
		count(ipc_nb_recv(slot_of(s, OBJ_PORT), slot_of(s, OBJ_NONE), &m));
		ipc_set_recv_slots(0, 0);
		break;
	}
	case 24: case 25: /* answer whatever we hold a reply right for: a call, a fault, an exit */
		m.info = MSG_INFO(0, below(s, 2) ? VMEXIT_REPLY_WORDS : below(s, 4), 0);
		for (int i = 0; i < MSG_MAX_WORDS; i++)
			m.w[i] = below(s, 4) ? 0 : next_rand(s);
		m.w[VMEXIT_W_RIP] = GUEST_CODE_GPA + below(s, 8);
		count(ipc_reply(slot_of(s, OBJ_REPLY), &m));
		break;
	case 26: {
		uint64_t port = slot_of(s, OBJ_PORT);
		count(below(s, 2) ? sys_notify(port, next_rand(s)) : sys_notify_after(port, next_rand(s), below(s, 5)));
		break;
	}
	case 27:
		count(sys_vcpu_configure(slot_of(s, OBJ_VCPU), slot_of(s, OBJ_GUEST_SPACE), slot_of(s, OBJ_PORT)));
		break;
	case 28: {
		uint64_t v;
		unsigned f = (unsigned)below(s, VCPU_FIELD_COUNT + 2);
		uint64_t vcpu = slot_of(s, OBJ_VCPU);
		count(below(s, 2) ? sys_vcpu_read(vcpu, f, &v) : sys_vcpu_write(vcpu, f, below(s, 2) ? 0 : next_rand(s)));
		break;
	}
	case 29:
		count(sys_port_nosenders(slot_of(s, OBJ_PORT), next_rand(s)));
		break;
	case 30: case 31: {
		unsigned which = (unsigned)below(s, 3);
		if (which == 0)
			spawn_victim(s);
		else if (which == 1)
			spawn_space_victim(s);
		else
			spawn_vcpu(s);
		break;
	}
	case 36: { /* shadow paging: bind, map, unmap, flush, and a VCPU run on one */
		uint64_t sh = slot_of(s, OBJ_SHADOW_SPACE);
		switch (below(s, 7)) {
		case 0: count(sys_shadow_bind(sh, below(s, 4) ? slot_of(s, OBJ_GUEST_SPACE) : 0)); break;
		case 1: count(sys_shadow_map(sh, some_vaddr(s, below(s, 2)), some_vaddr(s, 1),
		                             (unsigned)below(s, 16), 0)); break;
		case 2: count(sys_shadow_unmap(sh, some_vaddr(s, below(s, 2)))); break;
		case 3: count(sys_shadow_flush(sh)); break;
		case 4: count(sys_shadow_unmap_level(sh, some_vaddr(s, below(s, 2)), (unsigned)below(s, 6))); break;
		case 5: count(sys_shadow_run(sh, slot_of(s, OBJ_VCPU))); break;
		default: count(sys_vcpu_configure(slot_of(s, OBJ_VCPU), sh, slot_of(s, OBJ_PORT))); break;
		}
		break;
	}
	case 37: /* an unknown operation */
		count(berth_syscall(SYS_SHADOW, slot_of(s, OBJ_SHADOW_SPACE), 4 + below(s, 3), 0, 0, 0, 0).err);
		break;
	case 35: { /* our own CNode and VSpace into the pool, to be used and deleted */
		static const uint64_t roots[] = { CAP_ROOT_CNODE, CAP_ROOT_VSPACE };
		unsigned which = (unsigned)below(s, 2);
		uint64_t to = slot_of(s, OBJ_NONE);
		long err = sys_cnode_copy(roots[which], CAP_ROOT_CNODE, to, RIGHTS_ALL);
		count(err);
		if (!err)
			note(to, which ? OBJ_VSPACE : OBJ_CNODE);
	}
	}
	refresh();
}

static void worker(uint64_t id)
{
	uint64_t s = fuzz_seed * 0x9e3779b97f4a7c15UL + id + 1;
	for (;;) {
		parked[id] = 1;
		while (!running) {
			if (stop)
				return;
			sys_yield();
		}
		parked[id] = 0;
		s ^= epoch_untyped * 0x100000001b3UL;
		while (running)
			one_call(&s);
	}
}

static void probe_server(uint64_t arg)
{
	(void)arg;
	uint64_t reply = slot_alloc();
	struct msg m;
	long err = ipc_recv(probe_port, reply, &m);
	for (;;) {
		if (err)
			err = ipc_recv(probe_port, reply, &m);
		m.info = MSG_INFO(0, 1, 0);
		m.w[0] += 1;
		err = ipc_reply_recv(reply, probe_port, reply, &m);
	}
}

/* --- epochs ------------------------------------------------------------ */

/* Wait until every worker finished its call; one that faulted instead
 * is a bug of the fuzzer's own (it must never touch what the fuzz can
 * take away), reported rather than waited for. */
static int workers_parked(void)
{
	for (int w = 0; w < WORKERS; w++) {
		while (!parked[w]) {
			struct thread_info info = { .state = THREAD_RUNNABLE };
			sys_tcb_info(worker_tcb[w], &info);
			if (info.state == THREAD_FAULTED)
				return 0;
			sys_yield();
		}
	}
	return 1;
}

static uint64_t poison_slots[EPOCH_FRAMES];

static int poison_intact(void)
{
	const volatile uint64_t *p = (const uint64_t *)POISON_VA;
	for (uint64_t i = 0; i < (1UL << EPOCH_BITS) / 8; i++)
		if (p[i] != POISON)
			return 0;
	return 1;
}

/* The Untyped's memory as frames full of the pattern at POISON_VA. */
static long poison(uint64_t u)
{
	for (int i = 0; i < EPOCH_FRAMES; i++) {
		uint64_t f = poison_slots[i];
		long err = sys_untyped_retype(u, OBJ_FRAME, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, f);
		err = err ? err : page_map_with_tables(f, POISON_VA + (uint64_t)i * PAGE_SIZE, RIGHT_READ | RIGHT_WRITE);
		if (err)
			return err;
	}
	uint64_t *p = (uint64_t *)POISON_VA;
	for (uint64_t i = 0; i < (1UL << EPOCH_BITS) / 8; i++)
		p[i] = POISON;
	return E_OK;
}

static uint64_t cmdline_number(const struct bootinfo *bi, const char *key, uint64_t dflt)
{
	const char *p = strstr(bi->cmdline, key);
	if (!p)
		return dflt;
	uint64_t n = 0;
	for (p += strlen(key); *p >= '0' && *p <= '9'; p++)
		n = n * 10 + (uint64_t)(*p - '0');
	return n;
}

int main(const struct bootinfo *bi)
{
	uint64_t seed = fuzz_seed = cmdline_number(bi, "fuzz_seed=", 1), target = cmdline_number(bi, "fuzz_calls=", 40000);
	uint64_t epochs = (target + CALLS_PER_EPOCH - 1) / CALLS_PER_EPOCH;
	tap_plan((int)(3 * epochs + 3));
	debug_printf("# fuzz: seed %lu, %lu calls in %lu epochs, %d threads\n", seed, target, epochs, WORKERS + 1);

	uint64_t u[2];
	long err = object_alloc(OBJ_UNTYPED, EPOCH_BITS, &u[0]);
	err = err ? err : object_alloc(OBJ_UNTYPED, EPOCH_BITS, &u[1]);
	err = err ? err : page_alloc_map(FUZZ_VA - PAGE_SIZE, RIGHT_READ | RIGHT_WRITE, &guest_code);
	static const uint8_t vmmcall_loop[] = { 0x0f, 0x01, 0xd9, 0xeb, 0xfb };
	memcpy((void *)(FUZZ_VA - PAGE_SIZE), vmmcall_loop, sizeof(vmmcall_loop));
	static const uint8_t yield_loop[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xf7 };
	err = err ? err : page_alloc_map(FUZZ_VA - 2 * PAGE_SIZE, RIGHT_READ | RIGHT_WRITE, &yield_code);
	if (!err)
		memcpy((void *)(FUZZ_VA - 2 * PAGE_SIZE), yield_loop, sizeof(yield_loop));
	/* A copy of our own CNode in the pool lets the fuzz write into our
	 * slots 1..63 (case 10): keep everything we use above them. */
	while (slot_alloc() < 64)
		;
	for (int i = 0; i < POOL; i++) {
		pool[i] = slot_alloc();
		if (pool[i] != pool[0] + (uint64_t)i)
			err = E_STATE;  /* note() needs the pool in one run of slots */
	}
	for (int i = 0; i < EPOCH_FRAMES; i++)
		poison_slots[i] = slot_alloc();
	for (int i = 0; i < VICTIMS; i++)
		victim_buffer_view[i] = slot_alloc();
	err = err ? err : object_alloc(OBJ_PORT, 0, &probe_port);
	uint64_t tcb;
	err = err ? err : thread_create(probe_server, 0, probe_stack, sizeof(probe_stack), PRIO + 1, &tcb);
	for (uint64_t w = 0; w < WORKERS && !err; w++)
		err = thread_create(worker, w, worker_stack[w], sizeof(worker_stack[w]), PRIO, &worker_tcb[w]);
	tap_eq(err, E_OK, "two epoch Untypeds, a probe server, %d worker threads", WORKERS);

	uint64_t s = seed * 0x9e3779b97f4a7c15UL + 1;
	int poisoned = -1;  /* which of u[] holds the pattern */
	for (uint64_t e = 0; e < epochs; e++) {
		int cur = (int)(e & 1);
		epoch_untyped = u[cur];
		victim_stacks_used = 0;
		uint64_t start = calls, end = start + CALLS_PER_EPOCH;
		running = 1;
		while (calls < end)
			one_call(&s);
		running = 0;
		if (!workers_parked()) {
			tap_ok(0, "epoch %lu: a fuzzing thread faulted (the fuzzer's own bug)", e);
			tap_done();
		}
		/* everything of the epoch goes */
		sys_cnode_revoke(u[cur]);
		for (int i = 0; i < POOL; i++) {
			sys_cnode_delete(pool[i]);
			believed[i] = OBJ_NONE;
		}
		unsigned type, rights;
		uint64_t used = ~0UL;
		sys_cap_identify(u[cur], &type, &rights, &used);
		tap_ok(used == 0, "epoch %lu (%lu calls): its Untyped is entirely free again (%lu bytes in use)", e,
		       calls - start, used);
		if (poisoned >= 0) {
			tap_ok(poison_intact(), "epoch %lu: freed memory the kernel gave back was not written since", e);
			sys_cnode_revoke(u[poisoned]);
		} else {
			tap_ok(1, "epoch %lu: (no poisoned memory yet)", e);
		}
		err = poison(u[cur]);
		poisoned = err ? -1 : cur;
		struct msg m = { .info = MSG_INFO(1, 1, 0), .w = { e } };
		err = err ? err : ipc_call(probe_port, &m);
		tap_ok(!err && m.w[0] == e + 1, "epoch %lu: memory poisoned, a round trip to a server works (err %ld)",
		       e, err);
	}
	stop = 1;
	workers_parked();
	tap_ok(bad_errors == 0, "every call returned a defined error code (%lu did not)", bad_errors);
	debug_printf("# fuzz: %lu calls (and %lu capability lookups to aim them), %lu victim threads and %lu VCPUs "
	             "started; results:", calls, lookups, victims_started, vcpus_started);
	for (int i = 0; i <= E_COUNT; i++)
		if (errors[i])
			debug_printf(" e%d=%lu", i, errors[i]);
	if (redirected)
		debug_printf(" (and %lu calls of victims whose SYSCALLs had become faults)", redirected);
	debug_printf("\n");
	tap_ok(calls >= target, "fuzz: seed %lu done, %lu calls, the kernel is still here", seed, calls);
	tap_done();
}
