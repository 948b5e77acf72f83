/* Kernel object lifetime (docs/kernel-objects.md): the reproducers of
 * issue 8, each of which crashed or subverted the kernel before.
 *  1. a blocked sender whose IPC buffer is taken away before its message
 *     moves gets an error; nothing faults in the kernel;
 *  2. a thread whose address space is revoked while it is runnable faults
 *     on its next user access instead of running on freed page tables;
 *  3. page tables whose address space was deleted come back empty when
 *     mapped again, so nothing they used to reach is visible;
 *  4. a VCPU whose guest space is revoked under its VMM is not entered
 *     again: the VMM gets VMEXIT_INVALID (no guest space);
 *  5. a thread that replaces its own CNode survives or dies cleanly: (a)
 *     when that destroys its own TCB, the kernel writes nothing into the
 *     freed memory; (b) when it survives, the address space it asked for
 *     comes from the slot it named, not from freed memory.
 * (6, the derivation depth, is tests/system/lifetime_depth.c.)
 * The self-check kernel make test boots checks every invariant after
 * each kernel exit on top of what the assertions here say. */
#include "tap.h"
#include <libipc/ipc.h>
#include <berth/vcpu.h>
#include "vcpu_setup.h"

#define SCRATCH 0x50000000UL
#define PRIO 100   /* the root task's own */

static uint8_t stacks[4][8192] __attribute__((aligned(16)));
static volatile long result[4] = { -1, -1, -1, -1 };
static volatile uint64_t progress;

static uint64_t untyped(unsigned bits)
{
	uint64_t u;
	return object_alloc(OBJ_UNTYPED, bits, &u) ? 0 : u;
}

static uint64_t retype(uint64_t u, unsigned type, unsigned bits, uint64_t offset)
{
	uint64_t slot = slot_alloc();
	return sys_untyped_retype(u, type, bits, offset, CAP_ROOT_CNODE, slot) ? 0 : slot;
}

static uint64_t untyped_used(uint64_t u)
{
	unsigned type, rights;
	uint64_t used = ~0UL;
	sys_cap_identify(u, &type, &rights, &used);
	return used;
}

/* Start fn(arg) in a thread of our address space on the given CNode,
 * not yet resumed; returns the TCB slot. */
static uint64_t bare_thread(void (*fn)(uint64_t), uint64_t arg, int stack, uint64_t cnode, uint64_t tcb)
{
	if (!tcb && object_alloc(OBJ_TCB, 0, &tcb))
		return 0;
	uintptr_t top = (uintptr_t)stacks[stack] + sizeof(stacks[stack]) - 8;
	if (sys_tcb_configure(tcb, cnode, CAP_ROOT_VSPACE, 0) || sys_tcb_set_priority(tcb, PRIO, PRIO) ||
	    sys_tcb_set_regs(tcb, (uint64_t)fn, top, arg))
		return 0;
	return tcb;
}

/* --- 1: the IPC buffer of a blocked sender ------------------------- */

static void long_sender(uint64_t port)
{
	struct msg m = { .info = MSG_INFO(1, 6, 0), .w = { 1, 2, 3, 4, 5, 6 } };
	result[0] = ipc_send(port, &m);
}

static void cap_caller(uint64_t port)
{
	uint64_t give = CAP_ROOT_VSPACE;
	ipc_set_send_caps(&give, 1);
	struct msg m = { .info = MSG_INFO(1, 0, 1) };
	result[1] = ipc_call(port, &m);
}

static void ipc_buffer_taken_away(void)
{
	uint64_t port, t1, t2;
	struct msg m;
	object_alloc(OBJ_PORT, 0, &port);
	thread_create(long_sender, port, stacks[0], sizeof(stacks[0]), PRIO + 10, &t1);
	tap_eq(sys_tcb_set_ipc_buffer(t1, 0, 0), E_OK, "1: a blocked sender's IPC buffer is taken away");
	tap_eq(ipc_nb_recv(port, 0, &m), E_WOULD_BLOCK, "1: receiving finds no message it could move");
	tap_eq(result[0], E_BAD_MSG, "1: the sender of 6 words learns its message was bad");

	uint64_t reply = slot_alloc(), recv_into = slot_alloc();
	thread_create(cap_caller, port, stacks[1], sizeof(stacks[1]), PRIO + 10, &t2);
	tap_eq(sys_tcb_set_ipc_buffer(t2, 0, 0), E_OK, "1: a blocked caller's IPC buffer is taken away");
	ipc_set_recv_slots(&recv_into, 1);
	tap_eq(ipc_nb_recv(port, reply, &m), E_WOULD_BLOCK, "1: receiving a call with a capability finds none");
	ipc_set_recv_slots(0, 0);
	tap_eq(result[1], E_BAD_MSG, "1: the caller sending a capability learns its message was bad");
	tap_ok(cspace_slot_type(recv_into) == OBJ_NONE && cspace_slot_type(reply) == OBJ_NONE,
	       "1: nothing arrived in the receiver's slots");
}

/* --- 2: a runnable thread's address space revoked ------------------- */

/* mov $SYS_YIELD, %eax; syscall; jmp back to the mov */
static const uint8_t yield_loop[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xf7 };

static void address_space_revoked(void)
{
	uint64_t u = untyped(12), frame, code = slot_alloc(), t;
	uint64_t vs = retype(u, OBJ_VSPACE, 0, 0);
	long err = page_alloc_map(SCRATCH, RIGHT_READ | RIGHT_WRITE, &frame);
	memcpy((void *)SCRATCH, yield_loop, sizeof(yield_loop));
	err = err ? err : sys_cnode_copy(frame, CAP_ROOT_CNODE, code, RIGHTS_ALL);
	err = err ? err : page_map_in(vs, code, 0x400000, RIGHT_READ | RIGHT_EXEC);
	err = err ? err : object_alloc(OBJ_TCB, 0, &t);
	err = err ? err : sys_tcb_configure(t, CAP_ROOT_CNODE, vs, 0);
	err = err ? err : sys_tcb_set_priority(t, PRIO, PRIO);
	err = err ? err : sys_tcb_set_regs(t, 0x400000, 0x401000, 0);
	err = err ? err : sys_tcb_resume(t);
	sys_yield();
	struct thread_info info = { .state = 99 };
	sys_tcb_info(t, &info);
	tap_ok(!err && vs && info.state == THREAD_RUNNABLE, "2: a thread runs in its own space, yielding (err %ld)", err);

	tap_eq(sys_cnode_revoke(u), E_OK, "2: the Untyped under its address space is revoked while it is runnable");
	uint64_t reuse = retype(u, OBJ_FRAME, 0, 0);
	tap_ok(reuse != 0, "2: the page-table memory is handed out again as a frame");
	sys_yield();
	sys_tcb_info(t, &info);
	tap_ok(info.state == THREAD_FAULTED && info.fault_vector == 14,
	       "2: the thread took a page fault on its next user access (state %u vector %u)", info.state,
	       info.fault_vector);
	tap_eq(sys_tcb_resume(t), E_STATE, "2: a thread without an address space cannot be resumed");
}

/* --- 3: page tables of a deleted address space ---------------------- */

#define FAR 0x500000000000UL
#define FARTHER 0x600000000000UL

static void page_tables_outlive_their_space(void)
{
	uint64_t u = untyped(16), level;
	uint64_t vs = retype(u, OBJ_VSPACE, 0, RETYPE_NEXT_FREE);
	uint64_t top = retype(u, OBJ_PAGE_TABLE, 0, RETYPE_NEXT_FREE);
	uint64_t mid = retype(u, OBJ_PAGE_TABLE, 0, RETYPE_NEXT_FREE);
	uint64_t low = retype(u, OBJ_PAGE_TABLE, 0, RETYPE_NEXT_FREE);
	uint64_t frame = retype(u, OBJ_FRAME, 0, RETYPE_NEXT_FREE), view = slot_alloc();
	long err = sys_page_table_map(top, vs, FAR) || sys_page_table_map(mid, vs, FAR) ||
	           sys_page_table_map(low, vs, FAR) || sys_page_map(frame, vs, FAR, RIGHT_READ, &level);
	/* a marker in the frame, written through a copy mapped here */
	err = err ? err : sys_cnode_copy(frame, CAP_ROOT_CNODE, view, RIGHTS_ALL);
	err = err ? err : page_map_with_tables(view, SCRATCH + 0x10000, RIGHT_READ | RIGHT_WRITE);
	memcpy((void *)(SCRATCH + 0x10000), "MARKER", 6);
	err = err ? err : sys_cnode_delete(view);
	tap_ok(!err && frame, "3: a space with three levels of tables and a frame, all on one Untyped");

	tap_eq(sys_cnode_delete(vs), E_OK, "3: the space is deleted; its tables and frame live on");
	tap_eq(sys_page_table_map(top, CAP_ROOT_VSPACE, FAR), E_OK, "3: its top table maps again, into our space");
	tap_eq(sys_debug_write((const char *)FAR, 6), E_BAD_ADDRESS,
	       "3: nothing it used to reach is mapped through it");
	tap_eq(sys_page_table_map(mid, CAP_ROOT_VSPACE, FARTHER), E_OK,
	       "3: its middle table maps again where a top table belongs");
	uint64_t probe;
	object_alloc(OBJ_FRAME, 0, &probe);
	level = 0;
	err = sys_page_map(probe, CAP_ROOT_VSPACE, FARTHER, RIGHT_READ, &level);
	tap_ok(err == E_MISSING_TABLE && level == 2,
	       "3: it came back empty: a frame under it needs a new table below (err %ld, missing level %lu)", err,
	       level);
	tap_eq(page_map_with_tables(frame, SCRATCH + 0x20000, RIGHT_READ), E_OK,
	       "3: the frame counts as unmapped and maps again elsewhere");
	tap_ok(!memcmp((void *)(SCRATCH + 0x20000), "MARKER", 6), "3: ... with its own content");
	tap_eq(sys_cnode_revoke(u), E_OK, "3: revoking the Untyped takes all of it down");
	tap_eq(sys_debug_write((const char *)(SCRATCH + 0x20000), 6), E_BAD_ADDRESS,
	       "3: the frame is unmapped with it");
}

/* --- 4: a VCPU's guest space revoked under its VMM ------------------- */

static uint64_t vcpu;

static void flat_protected_mode(void)
{
	sys_vcpu_write(vcpu, VCPU_CR0, 0x11);
	vcpu_flat_segments(vcpu, 0xc9b);
	sys_vcpu_write(vcpu, VCPU_RIP, 0x1000);
}

/* vmmcall; jmp back to it */
static const uint8_t vmmcall_loop[] = { 0x0f, 0x01, 0xd9, 0xeb, 0xfb };

static void guest_space_revoked(void)
{
	uint64_t u = untyped(12), port, send = slot_alloc(), reply = slot_alloc(), frame, copy = slot_alloc();
	uint64_t gs = retype(u, OBJ_GUEST_SPACE, 0, 0);
	long err = object_alloc(OBJ_VCPU, 0, &vcpu);
	err = err ? err : object_alloc(OBJ_PORT, 0, &port);
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, send, RIGHT_SEND, 4);
	err = err ? err : page_alloc_map(SCRATCH + 0x30000, RIGHT_READ | RIGHT_WRITE, &frame);
	memcpy((void *)(SCRATCH + 0x30000), vmmcall_loop, sizeof(vmmcall_loop));
	err = err ? err : sys_cnode_copy(frame, CAP_ROOT_CNODE, copy, RIGHTS_ALL);
	err = err ? err : page_map_in(gs, copy, 0x1000, RIGHT_READ | RIGHT_WRITE | RIGHT_EXEC);
	err = err ? err : sys_vcpu_configure(vcpu, gs, send);
	flat_protected_mode();
	err = err ? err : sys_tcb_set_priority(vcpu, PRIO, PRIO);
	err = err ? err : sys_tcb_resume(vcpu);
	struct msg m;
	err = err ? err : ipc_recv(port, reply, &m);
	tap_ok(!err && m.w[VMEXIT_W_CODE] == VMEXIT_VMMCALL, "4: the guest's first VMMCALL reaches us (err %ld)", err);

	tap_eq(sys_cnode_revoke(u), E_OK, "4: the guest space's Untyped is revoked while we hold the exit");
	m.info = MSG_INFO(0, VMEXIT_REPLY_WORDS, 0);
	m.w[VMEXIT_W_RIP] += 3;
	m.w[VMEXIT_W_INJECT] = 0;
	err = ipc_reply_recv(reply, port, reply, &m);
	tap_ok(!err && (uint32_t)m.w[VMEXIT_W_CODE] == (uint32_t)VMEXIT_INVALID &&
	       m.w[VMEXIT_W_INFO1] == VMRUN_INVALID_NO_SPACE,
	       "4: the VCPU is not entered again: VMEXIT_INVALID, no guest space (code %lx reason %lu)",
	       m.w[VMEXIT_W_CODE], m.w[VMEXIT_W_INFO1]);
	tap_eq(sys_cnode_delete(vcpu), E_OK, "4: the VCPU is deleted while it waits for our reply");
	tap_eq(ipc_reply(reply, &m), E_NO_REPLY, "4: its reply right reports the VCPU gone");
}

/* --- 5: a thread replacing its own CNode --------------------------- */

/* In the CNode it starts with: slot 1 its TCB, slot 2 another CNode, and
 * in slot `vspace` (if not 0) an address space. */
static void replace_own_cnode(uint64_t vspace)
{
	result[2] = sys_tcb_configure(1, 2, vspace, 0);
	unsigned type, rights;
	uint64_t badge;
	result[3] = sys_cap_identify(1, &type, &rights, &badge);
	for (;;) {
		progress++;
		sys_yield();
	}
}

static void own_cnode_destroyed(void)
{
	/* (a) the thread's only TCB capability is in the CNode it replaces */
	uint64_t u = untyped(14), other;
	uint64_t a = retype(u, OBJ_CNODE, 4, 0), t = retype(u, OBJ_TCB, 0, 0x800);
	object_alloc(OBJ_CNODE, 4, &other);
	t = bare_thread(replace_own_cnode, 0, 2, a, t);
	/* above it until its capability is gone: a timer tick between the
	 * resume and the delete would otherwise run it too early */
	long err = t ? sys_tcb_set_priority(CAP_ROOT_TCB, PRIO + 1, 150) : E_BAD_CAP;
	err = err ? err : sys_cnode_copy(other, a, 2, RIGHTS_ALL);
	err = err ? err : sys_tcb_resume(t);
	err = err ? err : sys_cnode_move(t, a, 1);
	err = err ? err : sys_cnode_delete(a);
	uint64_t used = untyped_used(u);
	err = err ? err : sys_tcb_set_priority(CAP_ROOT_TCB, PRIO, 150);   /* it may run from here */
	tap_ok(!err && u && used == 0x1000, "5a: a thread whose TCB capability is only in its own CNode");
	sys_yield();
	tap_ok(result[2] == -1 && progress == 0, "5a: replacing its CNode destroyed it mid-call; it never returned");
	tap_eq(untyped_used(u), 0, "5a: the CNode and the thread went back to their Untyped");
	/* the kernel kept no pointer into the freed TCB: memory handed out
	 * there stays as retype left it while the capability tree changes */
	uint64_t frame = retype(u, OBJ_FRAME, 0, 0);
	err = frame ? page_map_with_tables(frame, SCRATCH + 0x40000, RIGHT_READ) : E_BAD_CAP;
	for (int i = 0; i < 4; i++) {
		uint64_t s = slot_alloc();
		sys_cnode_copy(other, CAP_ROOT_CNODE, s, RIGHTS_ALL);
		sys_cnode_delete(s);
	}
	int zero = 1;
	for (int i = 0; i < 4096; i++)
		zero &= ((volatile uint8_t *)(SCRATCH + 0x40000))[i] == 0;
	tap_ok(!err && zero, "5a: a frame made on the thread's old memory holds nothing the kernel wrote");

	/* (b) it survives: the address space comes from the slot it named */
	uint64_t a2, b2, t2;
	progress = 0;
	err = object_alloc(OBJ_CNODE, 4, &a2);
	err = err ? err : object_alloc(OBJ_CNODE, 4, &b2);
	t2 = err ? 0 : bare_thread(replace_own_cnode, 3, 3, a2, 0);
	err = t2 ? sys_cnode_copy(t2, a2, 1, RIGHTS_ALL) : E_BAD_CAP;
	err = err ? err : sys_cnode_copy(b2, a2, 2, RIGHTS_ALL);
	err = err ? err : sys_cnode_copy(CAP_ROOT_VSPACE, a2, 3, RIGHTS_ALL);
	err = err ? err : sys_tcb_resume(t2);
	err = err ? err : sys_cnode_delete(a2);
	tap_eq(err, E_OK, "5b: a thread holding the CNode it replaces as its only reference to it");
	for (int i = 0; i < 5; i++)
		sys_yield();
	struct thread_info info = { .state = 99 };
	sys_tcb_info(t2, &info);
	tap_eq(result[2], E_OK, "5b: replacing its CNode and address space succeeds");
	tap_eq(result[3], E_BAD_CAP, "5b: its CNode is the new, empty one");
	tap_ok(progress >= 3 && info.state == THREAD_RUNNABLE,
	       "5b: it runs on in the address space it named (%lu rounds, state %u)", (unsigned long)progress,
	       info.state);
	sys_tcb_suspend(t2);
}

/* The command line word only=N runs scenario N alone (to show each one
 * on its own against another kernel); the plan then covers just it. */
int main(const struct bootinfo *bi)
{
	static void (*const scenario[])(void) = { ipc_buffer_taken_away, address_space_revoked,
	                                          page_tables_outlive_their_space, guest_space_revoked,
	                                          own_cnode_destroyed };
	static const int checks[] = { 7, 5, 10, 5, 8 };
	const char *only = strstr(bi->cmdline, "only=");
	int n = only ? only[5] - '0' : 0;
	if (n >= 1 && n <= 5) {
		tap_plan(checks[n - 1] + 1);
		scenario[n - 1]();
	} else {
		tap_plan(36);
		for (int i = 0; i < 5; i++)
			scenario[i]();
	}
	tap_ok(1, "the kernel is still here");
	tap_done();
}
