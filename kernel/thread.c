/* Thread control blocks: configuration, registers, priority, resume and
 * suspend, and what happens when a thread faults. */
#include <berth/errors.h>
#include <berth/syscall.h>
#include <berth/ipc.h>
#include "object.h"
#include "layout.h"
#include "cpu.h"
#include "klib.h"
#include "selfcheck.h"

static uint64_t next_thread_id = 1;

void tcb_init(struct tcb *t)
{
	t->id = next_thread_id++;
	t->traced = 0;
	t->flags = 0;
	t->state = THREAD_INACTIVE;
	t->ctx.cs = SEL_UCODE;
	t->ctx.ss = SEL_UDATA;
	t->ctx.rflags = 0x202;
	fpu_init_area(t->fpu);
}

static const char *const vector_names[32] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow", "bound range",
	"invalid opcode", "device not available", "double fault", "coprocessor overrun",
	"invalid TSS", "segment not present", "stack fault", "general protection",
	"page fault", "reserved", "x87 FP error", "alignment check", "machine check",
	"SIMD FP error", "virtualization", "control protection",
};

const char *vector_name(uint64_t v)
{
	if (v == FAULT_VECTOR_SYSCALL)
		return "system call";
	return v < 32 && vector_names[v] ? vector_names[v] : "reserved";
}

void thread_make_runnable(struct tcb *t, int front)
{
	t->state = THREAD_RUNNABLE;
	t->ready_since = timer_ticks;
	if (front)
		sched_enqueue_front(t);
	else
		sched_enqueue(t);
}

/* A fault becomes a call on the thread's fault port; with none, the
 * thread stops and the console says why. */
void thread_fault(struct tcb *t, uint64_t vector, uint64_t error, uint64_t addr)
{
	t->fault_vector = vector;
	t->fault_error = error;
	t->fault_addr = addr;
	t->fault_rip = t->ctx.rip;
	t->kmsg[0] = vector;
	t->kmsg[1] = addr;
	t->kmsg[2] = t->ctx.rip;
	t->kmsg[3] = error;
	if (ipc_kernel_call(t, MSG_INFO(LABEL_FAULT, 4, 0), KMSG_FAULT))
		return;
	t->state = THREAD_FAULTED;
	sched_dequeue(t);
	printk("berth: thread %lu stopped: %s (vector %lu) rip=%lx addr=%lx error=%lx\n",
	       t->id, vector_name(vector), vector, t->ctx.rip, addr, error);
}

/* Take t off every queue; it runs again only when resumed. */
void thread_stop(struct tcb *t)
{
	if (t->state == THREAD_RUNNABLE)
		sched_dequeue(t);
	else
		ipc_cancel(t);
	t->ipc_kmsg = 0;
	t->state = THREAD_INACTIVE;
}

static int user_address_ok(uint64_t va)
{
	return va >= USER_BASE && va < USER_TOP;
}

/* Flags a user program may set; IF is always on, IOPL always 0. */
#define USER_RFLAGS_MASK 0xcd5UL   /* CF PF AF ZF SF DF OF */

/*
 * Replacing the capabilities a thread holds (its CNode, address space,
 * fault port, IPC buffer; a VCPU's guest space and exit port).  Deleting
 * the old ones can destroy anything: the last capability to a CNode takes
 * its slots with it, and they may hold the thread's own TCB, the caller's,
 * or the capabilities the new values come from.  So it happens in three
 * steps, as seL4 orders its thread-control call:
 *   1. tcb_caps_swap checks every change and derives every new capability
 *      into a kernel slot while nothing is deleted yet; on an error
 *      nothing has changed;
 *   2. it swaps them in: the old capabilities move to kernel slots;
 *   3. the caller sets plain fields, then calls tcb_caps_release, which
 *      deletes the old capabilities.  After that the caller touches
 *      nothing: its thread, the target thread and every slot it looked
 *      up may be gone.
 * The kernel slots are in the derivation tree like any other, so a
 * revoke during step 3 finds them.
 */
#define TCB_CAP_CHANGES_MAX 4
static struct cap fresh_caps[TCB_CAP_CHANGES_MAX], old_caps[TCB_CAP_CHANGES_MAX];

int tcb_caps_swap(const struct tcb_cap_change *changes, int n)
{
	for (int i = 0; i < n; i++) {
		int err = changes[i].src ? cap_derive_check(changes[i].src, RIGHTS_ALL, 0) : E_OK;
		if (err)
			return err;
	}
	for (int i = 0; i < n; i++)
		if (changes[i].src)
			cap_derive(changes[i].src, &fresh_caps[i], RIGHTS_ALL, 0, 0);
	for (int i = 0; i < n; i++) {
		cap_move(changes[i].slot, &old_caps[i]);
		if (changes[i].src)
			cap_move(&fresh_caps[i], changes[i].slot);
	}
	return E_OK;
}

int tcb_scratch_empty(void)
{
	for (int i = 0; i < TCB_CAP_CHANGES_MAX; i++)
		if (fresh_caps[i].type != OBJ_NONE || old_caps[i].type != OBJ_NONE)
			return 0;
	return 1;
}

void tcb_caps_release(void)
{
	for (int i = 0; i < TCB_CAP_CHANGES_MAX; i++)
		cap_delete(&old_caps[i]);
}

static int tcb_configure(struct tcb *caller, struct tcb *t, uint64_t cnode, uint64_t vspace,
                         uint64_t fault_port)
{
	struct cap *cn = 0, *vs = 0, *fp = 0;
	int err;
	if (cnode && (err = cap_get(caller, cnode, OBJ_CNODE, 0, &cn)))
		return err;
	if (vspace && (err = cap_get(caller, vspace, OBJ_VSPACE, 0, &vs)))
		return err;
	if (fault_port && (err = cap_get(caller, fault_port, OBJ_PORT, RIGHT_SEND, &fp)))
		return err;
	if (fp && (fp->rights & RIGHT_RECEIVE))
		return E_NOT_COPYABLE; /* give a send capability minted from it */
	struct tcb_cap_change ch[3];
	int n = 0;
	if (cn)
		ch[n++] = (struct tcb_cap_change){ &t->cspace_cap, cn };
	if (vs)
		ch[n++] = (struct tcb_cap_change){ &t->vspace_cap, vs };
	ch[n++] = (struct tcb_cap_change){ &t->fault_cap, fp };
	if ((err = tcb_caps_swap(ch, n)))
		return err;
	tcb_caps_release(); /* may destroy t, caller and their CNodes */
	return E_OK;
}

/* FS base is the one register user code cannot set itself (no FSGSBASE):
 * the value comes from here, checked, and the switch loads it. */
static void tcb_set_fs_base(struct tcb *t, uint64_t base)
{
	t->fs_base = base;
	if (t == current)
		wrmsr(MSR_FS_BASE, base);
}

static int tcb_set_ipc_buffer(struct tcb *caller, struct tcb *t, uint64_t frame, uint64_t vaddr)
{
	struct cap *f = 0;
	int err;
	if (frame && (err = cap_get(caller, frame, OBJ_FRAME, RIGHT_WRITE, &f)))
		return err;
	if (f && (f->flags & CAP_DEVICE)) /* the kernel reads messages from it */
		return E_WRONG_TYPE;
	if (frame && ((vaddr & (PAGE_SIZE - 1)) || !user_address_ok(vaddr)))
		return E_BAD_ADDRESS;
	struct tcb_cap_change ch = { &t->ipcbuf_cap, f };
	if ((err = tcb_caps_swap(&ch, 1)))
		return err;
	tcb_set_fs_base(t, frame ? vaddr : 0);
	tcb_caps_release();
	return E_OK;
}

static int tcb_set_priority(struct tcb *caller, struct tcb *t, uint64_t prio, uint64_t max_prio)
{
	if (prio > max_prio || max_prio > caller->max_prio)
		return E_BAD_ARG;
	int queued = t->state == THREAD_RUNNABLE;
	if (queued)
		sched_dequeue(t);
	t->prio = (uint8_t)prio;
	t->max_prio = (uint8_t)max_prio;
	if (queued)
		sched_enqueue(t);
	return E_OK;
}

/* How long t has been ready to run without running, in ticks (at most
 * 2^24 - 1): what tells a thread that is starved from one that runs
 * between two looks and is ready again at each (woken by the same tick
 * as the looker).  0 for the running thread and for one not ready. */
static uint64_t ready_ticks(const struct tcb *t)
{
	if (t->state != THREAD_RUNNABLE || t == current)
		return 0;
	uint64_t n = timer_ticks - t->ready_since;
	return n < 0xffffff ? n : 0xffffff;
}

/* args holds the caller's registers: rdi = TCB cap, rsi, rdx, r10 = args */
int sys_tcb(struct tcb *caller, uint64_t op, struct context *args)
{
	struct cap *c;
	int err = cap_get(caller, args->rdi, OBJ_TCB, RIGHT_WRITE, &c);
	/* a VCPU is a thread too, for scheduling and its state */
	if (err == E_WRONG_TYPE && !cap_get(caller, args->rdi, OBJ_VCPU, RIGHT_WRITE, &c) &&
	    (op == SYS_TCB_SET_PRIORITY || op == SYS_TCB_RESUME || op == SYS_TCB_SUSPEND || op == SYS_TCB_INFO))
		err = E_OK;
	if (err)
		return err;
	struct tcb *t = P2V(c->obj);
	switch (op) {
	case SYS_TCB_CONFIGURE:
		t->traced |= caller->traced; /* a traced task's new threads are traced too */
		return tcb_configure(caller, t, args->rsi, args->rdx, args->r10);
	case SYS_TCB_SET_IPC_BUFFER:
		return tcb_set_ipc_buffer(caller, t, args->rsi, args->rdx);
	case SYS_TCB_SET_REGS:
		if (!user_address_ok(args->rsi) || !user_address_ok(args->rdx))
			return E_BAD_ADDRESS;
		t->ctx.rip = args->rsi;
		t->ctx.rsp = args->rdx;
		t->ctx.rdi = args->r10;
		t->ctx.rflags = 0x202 | (t->ctx.rflags & USER_RFLAGS_MASK);
		return E_OK;
	case SYS_TCB_SET_PRIORITY:
		return tcb_set_priority(caller, t, args->rsi, args->rdx);
	case SYS_TCB_RESUME:
		if (t->is_vcpu ? !vcpu_space_type(t->vspace_cap.type) || t->fault_cap.type != OBJ_PORT
		               : !tcb_vspace_root(t) || t->cspace_cap.type != OBJ_CNODE)
			return E_STATE;
		if (t->state == THREAD_INACTIVE || t->state == THREAD_FAULTED)
			thread_make_runnable(t, 0);
		return E_OK;
	case SYS_TCB_SUSPEND:
		thread_stop(t);
		return E_OK;
	case SYS_TCB_SET_FS_BASE:
		/* a non-canonical base would fault the WRMSR in the kernel */
		if (args->rsi && !user_address_ok(args->rsi))
			return E_BAD_ADDRESS;
		tcb_set_fs_base(t, args->rsi);
		return E_OK;
	case SYS_TCB_SET_FLAGS:
		if (args->rsi & ~(uint64_t)TCB_FLAGS_ALL)
			return E_BAD_ARG;
		t->flags = (uint8_t)args->rsi;
		return E_OK;
	case SYS_TCB_INFO:
		/* the priority too: a supervisor deciding whether a task is
		 * starved or hung must know where its thread really runs */
		args->rdx = t->state | ((t->fault_vector & 0xffffff) << 8) | ((uint64_t)t->prio << 32) |
		            (ready_ticks(t) << 40);
		args->rsi = t->fault_addr;
		args->rdi = t->fault_rip;
		args->r8 = t->fault_error;
		return E_OK;
	default:
		return E_BAD_SYSCALL;
	}
}
