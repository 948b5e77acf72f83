/* SYS_TCB_REGS: a stopped thread's registers, read and written whole, for
 * a handler that emulates what the thread did (a VMM running a guest
 * kernel deprivileged: trap-and-emulate, docs/vmm.md).  The values go
 * through the caller's IPC buffer, read and written through the kernel's
 * physical map, so no user pointer is followed.
 *
 * References: none is kept.  The TCB and the IPC buffer frame are looked
 * up from the caller's capabilities on each call and used only within it,
 * so delete and revoke of either need nothing here. */
#include <berth/errors.h>
#include <berth/ipc.h>
#include <berth/syscall.h>
#include "object.h"
#include "layout.h"
#include "klib.h"

/* Flags a thread's manager may set: CF PF AF ZF SF DF OF, and TF, which
 * the thread could set itself with popf in ring 3 anyway (a VMM in
 * mode=trap, patch or pv keeps a guest's single-stepping across the
 * faults it emulates).  TF cannot reach the kernel: SYSCALL masks it
 * (SFMASK) and every gate clears it, so it only ever raises a #DB in the
 * thread, which is a fault like any other.  IF is always on and IOPL
 * always 0: the thread must never mask the host's interrupts or reach
 * its I/O ports. */
#define USER_RFLAGS_MASK 0xdd5UL
#define RFLAGS_FIXED 0x202UL

_Static_assert(sizeof(struct tcb_regs) == TCB_REGS_WORDS * sizeof(uint64_t), "struct tcb_regs is 18 words");
_Static_assert(TCB_REGS_WORDS <= MSG_MAX_WORDS, "the registers fit in the IPC buffer's words");

/* Stopped with every register in its context, and staying so until the
 * caller lets it go: suspended, faulted, or inside a fault call (queued
 * or waiting for the reply; only the handler's reply or a suspend moves
 * it on). */
static int regs_stopped(const struct tcb *t)
{
	if (t->state == THREAD_INACTIVE || t->state == THREAD_FAULTED)
		return 1;
	return (t->state == THREAD_BLOCKED_CALL || t->state == THREAD_BLOCKED_REPLY) && t->ipc_kmsg == KMSG_FAULT;
}

static void regs_read(const struct context *c, struct tcb_regs *r)
{
	*r = (struct tcb_regs){
		.rax = c->rax, .rbx = c->rbx, .rcx = c->rcx, .rdx = c->rdx,
		.rsi = c->rsi, .rdi = c->rdi, .rbp = c->rbp, .rsp = c->rsp,
		.r8 = c->r8, .r9 = c->r9, .r10 = c->r10, .r11 = c->r11,
		.r12 = c->r12, .r13 = c->r13, .r14 = c->r14, .r15 = c->r15,
		.rip = c->rip, .rflags = c->rflags,
	};
}

static int regs_write(struct context *c, const struct tcb_regs *r)
{
	if (r->rip < USER_BASE || r->rip >= USER_TOP || r->rsp > USER_TOP)
		return E_BAD_ADDRESS;
	c->rax = r->rax; c->rbx = r->rbx; c->rcx = r->rcx; c->rdx = r->rdx;
	c->rsi = r->rsi; c->rdi = r->rdi; c->rbp = r->rbp; c->rsp = r->rsp;
	c->r8 = r->r8; c->r9 = r->r9; c->r10 = r->r10; c->r11 = r->r11;
	c->r12 = r->r12; c->r13 = r->r13; c->r14 = r->r14; c->r15 = r->r15;
	c->rip = r->rip;
	c->rflags = RFLAGS_FIXED | (r->rflags & USER_RFLAGS_MASK);
	c->cs = SEL_UCODE;
	c->ss = SEL_UDATA;
	/* not a SYSCALL's context any more: IRETQ restores RCX and R11 too */
	c->vector = 0;
	return E_OK;
}

int sys_tcb_regs(struct tcb *caller, struct context *args)
{
	struct cap *c;
	int err = cap_get(caller, args->rdi, OBJ_TCB, RIGHT_WRITE, &c);
	if (err)
		return err;
	if (args->rsi != TCB_REGS_READ && args->rsi != TCB_REGS_WRITE)
		return E_BAD_ARG;
	struct tcb *t = P2V(c->obj);
	if (t == caller || !regs_stopped(t))
		return E_STATE;
	if (caller->ipcbuf_cap.type != OBJ_FRAME)
		return E_STATE;
	struct tcb_regs *buf = (struct tcb_regs *)((struct ipc_buffer *)P2V(caller->ipcbuf_cap.obj))->words;
	if (args->rsi == TCB_REGS_READ) {
		regs_read(&t->ctx, buf);
		return E_OK;
	}
	struct tcb_regs r = *buf; /* one copy, checked and used: the buffer is the caller's to change */
	return regs_write(&t->ctx, &r);
}
