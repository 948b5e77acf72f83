/* Which way a VM exit and its reply take (docs/vmm.md, "The exit's fast
 * path"): the kernel's counters KC_VMEXIT_HANDOFFS (an exit handed
 * straight to its waiting VMM) and KC_VMEXIT_RESUMES (a reply that ran
 * the VCPU straight after) around a guest's CPUID loop.  The root task is
 * the VMM.  Fast both ways when it waits on the exit port at a priority
 * at least the VCPU's; the general road for an exit that finds it busy,
 * for one to a VMM below the VCPU, and for a reply with a notification
 * waiting on the port.  The registers are right either way, and a reply
 * writes only the words the exit's transfer descriptor names, though an
 * exit may carry more (whole groups).  The thread a fast switch runs
 * stays off the run queues (kernel/sched.c): a thread above the VCPU that
 * is ready at the reply runs first, and one beside it gets its turn when
 * the VCPU's time slice ends.  Every exit is self-checked. */
// test-selfcheck: 1
#include "tap.h"
#include <libipc/ipc.h>
#include <berth/vcpu.h>
#include "vcpu_setup.h"

#define SCRATCH 0x50000000UL
#define CODE_GPA 0x1000UL
#define ROUNDS 50

static const uint8_t guest_code[] = {
	0x0f, 0xa2,   /* 0x1000 cpuid */
	0xeb, 0xfc,   /* 0x1002 jmp 0x1000 */
};

static uint64_t vcpu, port, reply;

/* Above the VCPU: woken by a notification, it notes how many VMRUNs the
 * kernel had made, and waits again. */
static uint64_t above_port;
static volatile uint64_t above_runs, above_saw_entries;
static volatile unsigned above_saw_vcpu_state, above_saw_vcpu_ready;   /* the VCPU's, SYS_TCB_INFO */
static uint8_t above_stack[8192] __attribute__((aligned(16)));
static void above(uint64_t arg)
{
	(void)arg;
	for (;;) {
		struct msg m;
		if (ipc_recv(above_port, 0, &m))
			return;
		uint64_t v = 0;
		sys_kernel_counter(KC_VM_ENTRIES, &v);
		above_saw_entries = v;
		struct thread_info vi = { 0 };
		sys_tcb_info(vcpu, &vi);
		above_saw_vcpu_state = vi.state;
		above_saw_vcpu_ready = vi.ready_ticks;
		above_runs++;
	}
}

/* Beside the VCPU (its priority): it only counts, never blocks. */
static volatile uint64_t beside_spins;
static uint8_t beside_stack[8192] __attribute__((aligned(16)));
static void beside(uint64_t arg)
{
	(void)arg;
	for (;;)
		beside_spins++;
}

static uint64_t counter(unsigned which)
{
	uint64_t v = 0;
	sys_kernel_counter(which, &v);
	return v;
}

/* Answer the CPUID exit in *m (past it, RAX = rax, RBX = rbx) and wait
 * for the next. */
static long answer(struct msg *m, uint64_t rax, uint64_t rbx)
{
	m->info = MSG_INFO(0, VMEXIT_REPLY_WORDS, 0);
	m->w[VMEXIT_W_RIP] += 2;
	m->w[VMEXIT_W_RAX + VCPU_RAX] = rax;
	m->w[VMEXIT_W_RAX + VCPU_RBX] = rbx;
	m->w[VMEXIT_W_INJECT] = 0;
	return ipc_reply_recv(reply, port, reply, m);
}

/* n CPUID exits answered in a row: each must show the RAX (and, when
 * rbx_named, the RBX) that the last answer gave; returns how many did. */
static int rounds(struct msg *m, int n, uint64_t seed, int rbx_named, uint64_t *last_rbx)
{
	int good = 0;
	for (int i = 0; i < n; i++) {
		uint64_t rax = seed + (uint64_t)i, rbx = ~rax;
		if (answer(m, rax, rbx) || m->w[VMEXIT_W_CODE] != VMEXIT_CPUID || m->w[VMEXIT_W_RIP] != CODE_GPA)
			return good;
		uint64_t want_rbx = rbx_named ? rbx : *last_rbx;
		if (m->w[VMEXIT_W_RAX + VCPU_RAX] == rax && m->w[VMEXIT_W_RAX + VCPU_RBX] == want_rbx)
			good++;
		*last_rbx = m->w[VMEXIT_W_RAX + VCPU_RBX];
	}
	return good;
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(18);
	uint64_t gs, frame, copy = slot_alloc(), send = slot_alloc();
	reply = slot_alloc();
	long err = object_alloc(OBJ_GUEST_SPACE, 0, &gs);
	err = err ? err : object_alloc(OBJ_VCPU, 0, &vcpu);
	err = err ? err : object_alloc(OBJ_PORT, 0, &port);
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, send, RIGHT_SEND, 7);
	err = err ? err : page_alloc_map(SCRATCH, RIGHT_READ | RIGHT_WRITE, &frame);
	memcpy((void *)SCRATCH, guest_code, sizeof(guest_code));
	err = err ? err : sys_cnode_copy(frame, CAP_ROOT_CNODE, copy, RIGHTS_ALL);
	err = err ? err : page_map_in(gs, copy, CODE_GPA, RIGHT_READ | RIGHT_WRITE | RIGHT_EXEC);
	err = err ? err : sys_vcpu_configure(vcpu, gs, send);
	sys_vcpu_write(vcpu, VCPU_CR0, 0x11);
	sys_vcpu_write(vcpu, VCPU_CR4, 0);
	vcpu_flat_segments(vcpu, 0xc9b);
	sys_vcpu_write(vcpu, VCPU_RIP, CODE_GPA);
	/* the VMM (we) above the VCPU, as the VMM server is */
	err = err ? err : sys_tcb_set_priority(CAP_ROOT_TCB, 120, 150);
	err = err ? err : sys_tcb_set_priority(vcpu, 90, 90);
	err = err ? err : sys_tcb_resume(vcpu);
	struct msg m;
	err = err ? err : ipc_recv(port, reply, &m);
	tap_ok(!err && m.w[VMEXIT_W_CODE] == VMEXIT_CPUID, "a guest in a CPUID loop, its VCPU at 90, we at 120 "
	       "(err %ld)", err);

	/* 1. we wait on the port each time: both legs fast */
	uint64_t h0 = counter(KC_VMEXIT_HANDOFFS), r0 = counter(KC_VMEXIT_RESUMES), last_rbx = 0;
	int good = rounds(&m, ROUNDS, 1000, 1, &last_rbx);
	uint64_t h = counter(KC_VMEXIT_HANDOFFS) - h0, r = counter(KC_VMEXIT_RESUMES) - r0;
	tap_ok(good == ROUNDS, "%d exits, each with the RAX and RBX the last reply gave (%d)", ROUNDS, good);
	tap_ok(h == ROUNDS, "each exit handed straight to us (%lu of %d)", h, ROUNDS);
	tap_ok(r == ROUNDS, "each reply ran the VCPU straight after (%lu of %d)", r, ROUNDS);

	/* 2. a descriptor naming RAX, RIP, RFLAGS: the exit still carries
	 * the current RBX (its group is carried whole), and the reply's RBX
	 * is not written */
	uint64_t mtd = VMEXIT_MTD_REG(VCPU_RAX) | VMEXIT_MTD_REG(VCPU_RIP) | VMEXIT_MTD_REG(VCPU_RFLAGS);
	err = sys_vcpu_write(vcpu, VCPU_MTD(VMEXIT_CPUID), mtd);
	err = err ? err : answer(&m, 1, 0x5151); /* the descriptor counts from the next exit */
	last_rbx = m.w[VMEXIT_W_RAX + VCPU_RBX];
	h0 = counter(KC_VMEXIT_HANDOFFS);
	r0 = counter(KC_VMEXIT_RESUMES);
	good = rounds(&m, ROUNDS, 2000, 0, &last_rbx);
	h = counter(KC_VMEXIT_HANDOFFS) - h0;
	r = counter(KC_VMEXIT_RESUMES) - r0;
	tap_ok(!err && last_rbx == 0x5151 && good == ROUNDS, "RAX only: RAX taken each time, RBX kept at 0x5151, "
	       "which the exits carry (%d; rbx %lx; err %ld)", good, last_rbx, err);
	tap_ok(h == ROUNDS && r == ROUNDS, "the same fast way (%lu, %lu)", h, r);
	sys_vcpu_write(vcpu, VCPU_MTD(VMEXIT_CPUID), VMEXIT_MTD_ALL);

	/* 3. the exit finds us busy: it waits in the port's queue (general) */
	m.info = MSG_INFO(0, VMEXIT_REPLY_WORDS, 0);
	m.w[VMEXIT_W_RIP] += 2;
	m.w[VMEXIT_W_RAX + VCPU_RAX] = 77;
	m.w[VMEXIT_W_INJECT] = 0;
	h0 = counter(KC_VMEXIT_HANDOFFS);
	r0 = counter(KC_VMEXIT_RESUMES);
	err = ipc_reply(reply, &m);
	uint64_t r_reply = counter(KC_VMEXIT_RESUMES) - r0;
	sys_tcb_set_priority(CAP_ROOT_TCB, 80, 150); /* the VCPU runs, exits, and waits on the port */
	struct thread_info info = { .state = 99 };
	sys_tcb_info(vcpu, &info);
	sys_tcb_set_priority(CAP_ROOT_TCB, 120, 150);
	err = err ? err : ipc_recv(port, reply, &m);
	h = counter(KC_VMEXIT_HANDOFFS) - h0;
	tap_ok(!err && info.state == THREAD_BLOCKED_CALL && m.w[VMEXIT_W_RAX + VCPU_RAX] == 77,
	       "an exit while we were busy waited on the port, and arrived right (state %u, rax %lu)", info.state,
	       m.w[VMEXIT_W_RAX + VCPU_RAX]);
	tap_ok(h == 0 && r_reply == 0, "neither leg fast: a reply without a receive, an exit to no receiver "
	       "(%lu, %lu)", h, r_reply);

	/* 4. we below the VCPU: the exit's leg general, the reply's fast
	 * (the VCPU is then the highest ready) */
	h0 = counter(KC_VMEXIT_HANDOFFS);
	r0 = counter(KC_VMEXIT_RESUMES);
	err = sys_tcb_set_priority(CAP_ROOT_TCB, 80, 150);
	good = rounds(&m, ROUNDS, 3000, 1, &last_rbx);
	h = counter(KC_VMEXIT_HANDOFFS) - h0;
	r = counter(KC_VMEXIT_RESUMES) - r0;
	sys_tcb_set_priority(CAP_ROOT_TCB, 120, 150);
	tap_ok(!err && good == ROUNDS, "below the VCPU, the exits right (%d)", good);
	tap_ok(h == 0, "no exit handed off to a VMM below its VCPU (%lu)", h);
	tap_ok(r == ROUNDS, "each reply still ran the VCPU straight after (%lu)", r);

	/* 5. a notification waits on the port: the reply takes the general
	 * road, and we receive the bits before the next exit */
	r0 = counter(KC_VMEXIT_RESUMES);
	sys_notify(send, 0x4);
	m.info = MSG_INFO(0, VMEXIT_REPLY_WORDS, 0);
	m.w[VMEXIT_W_RIP] += 2;
	m.w[VMEXIT_W_RAX + VCPU_RAX] = 88;
	m.w[VMEXIT_W_INJECT] = 0;
	err = ipc_reply_recv(reply, port, reply, &m);
	r = counter(KC_VMEXIT_RESUMES) - r0;
	tap_ok(!err && MSG_LABEL(m.info) == LABEL_NOTIFY && m.w[0] == 0x4 && r == 0,
	       "with a notification waiting, the reply general and the bits first (label %lx, resumes %lu)",
	       MSG_LABEL(m.info), r);
	err = ipc_recv(port, reply, &m);
	tap_ok(!err && m.w[VMEXIT_W_CODE] == VMEXIT_CPUID && m.w[VMEXIT_W_RAX + VCPU_RAX] == 88,
	       "then the exit, with the reply's RAX (%lu)", m.w[VMEXIT_W_RAX + VCPU_RAX]);

	/* 6. a thread at 100, above the VCPU, made ready while we hold the
	 * exit: the reply leaves through kernel_exit, which runs it before
	 * the VCPU is entered again */
	uint64_t above_tcb, above_send = slot_alloc(), beside_tcb;
	err = object_alloc(OBJ_PORT, 0, &above_port);
	err = err ? err : sys_cnode_mint(above_port, CAP_ROOT_CNODE, above_send, RIGHT_SEND, 1);
	err = err ? err : thread_create(above, 0, above_stack, sizeof(above_stack), 100, &above_tcb);
	sys_tcb_set_priority(CAP_ROOT_TCB, 80, 150); /* it runs to its receive (the VCPU waits on our reply) */
	sys_tcb_set_priority(CAP_ROOT_TCB, 120, 150);
	sys_tcb_info(above_tcb, &info);
	/* held 20 ticks: the VCPU, ready again at the reply, must count its
	 * ready time from then, not from before the exit */
	for (uint64_t t0 = clock_ms(); clock_ms() - t0 < 200;)
		clock_nap(1);
	uint64_t entries = counter(KC_VM_ENTRIES);
	r0 = counter(KC_VMEXIT_RESUMES);
	err = err ? err : sys_notify(above_send, 1);
	err = err ? err : answer(&m, 99, 0);
	r = counter(KC_VMEXIT_RESUMES) - r0;
	tap_ok(!err && info.state == THREAD_BLOCKED_RECV && above_runs == 1 && above_saw_entries == entries &&
	       r == 0 && m.w[VMEXIT_W_RAX + VCPU_RAX] == 99 && above_saw_vcpu_state == THREAD_RUNNABLE &&
	       above_saw_vcpu_ready <= 1,
	       "a thread above the VCPU, ready at the reply, ran before its next entry, not a direct resume; "
	       "the VCPU ready %u ticks (state %u; runs %lu, entries %lu then %lu, resumes %lu, rax %lu, err %ld)",
	       above_saw_vcpu_ready, above_saw_vcpu_state, above_runs, entries, above_saw_entries, r,
	       m.w[VMEXIT_W_RAX + VCPU_RAX], err);
	h0 = counter(KC_VMEXIT_HANDOFFS);
	r0 = counter(KC_VMEXIT_RESUMES);
	good = rounds(&m, ROUNDS, 4000, 1, &last_rbx);
	h = counter(KC_VMEXIT_HANDOFFS) - h0;
	r = counter(KC_VMEXIT_RESUMES) - r0;
	tap_ok(good == ROUNDS && h == ROUNDS && r == ROUNDS, "then both legs fast again (%d, %lu, %lu)", good, h, r);

	/* 7. a thread beside the VCPU (90) that never blocks: the replies
	 * still resume the VCPU at once (it stands in front of its queue),
	 * and the spinner runs when the VCPU's time slice ends */
	err = thread_create(beside, 0, beside_stack, sizeof(beside_stack), 90, &beside_tcb);
	int n = 0;
	good = 0;
	h0 = counter(KC_VMEXIT_HANDOFFS);
	while (!err && n < 20000 && beside_spins == 0) {
		good += rounds(&m, 10, 5000 + (uint64_t)n, 1, &last_rbx);
		n += 10;
	}
	h = counter(KC_VMEXIT_HANDOFFS) - h0;
	tap_ok(!err && beside_spins > 0 && good == n, "a spinner beside the VCPU ran within %d exits, each right "
	       "(%d; spins %lu)", n, good, beside_spins);
	tap_ok(h == (uint64_t)n, "and every exit was still handed straight to us (%lu of %d)", h, n);
	sys_tcb_suspend(beside_tcb);
	tap_eq(sys_tcb_suspend(vcpu), E_OK, "suspend the VCPU");
	tap_done();
}
