/* System-call dispatch: decode the caller's saved registers, check every
 * argument, write results back into the saved registers, leave. */
#include <berth/errors.h>
#include <berth/ipc.h>
#include <berth/syscall.h>
#include "object.h"
#include "layout.h"
#include "vspace.h"
#include "serial.h"
#include "cpu.h"
#include "klib.h"
#include "shadow.h"

int sys_mapping(struct tcb *t, uint64_t op, struct context *r);

#define DEBUG_WRITE_MAX 65536
#define DEBUG_EXIT_PORT 0xf4
int debug_exit_enabled; /* `debugexit` on the command line (main.c) */

/* Print user memory without touching it through the user mapping: each
 * page is looked up in the caller's tables, so a bad pointer is an error,
 * not a kernel fault. */
static int debug_write(struct tcb *t, uint64_t buf, uint64_t len)
{
	if (len > DEBUG_WRITE_MAX)
		return E_BAD_ARG;
	if (buf + len < buf || buf + len > USER_TOP)
		return E_BAD_ADDRESS;
	uint64_t root = tcb_vspace_root(t);
	if (!root)
		return E_BAD_ADDRESS;
	/* check every page first, so a bad buffer prints nothing */
	for (uint64_t va = buf & ~(PAGE_SIZE - 1); va < buf + len; va += PAGE_SIZE) {
		uint64_t pa;
		if (vspace_translate(root, va, &pa))
			return E_BAD_ADDRESS;
	}
	for (uint64_t va = buf; va < buf + len;) {
		uint64_t pa, n = PAGE_SIZE - (va & (PAGE_SIZE - 1));
		vspace_translate(root, va, &pa);
		if (n > buf + len - va)
			n = buf + len - va;
		for (const char *p = P2V(pa), *end = p + n; p < end; p++)
			log_putc(*p);
		va += n;
	}
	return E_OK;
}

uint64_t kernel_counters[KC_COUNT];

static int dispatch(struct tcb *t, struct context *r)
{
	uint64_t op = r->rax;
	switch (op) {
	case SYS_NULL:
		return E_OK;
	case SYS_YIELD:
		sched_yield(t);
		return E_OK;
	case SYS_DEBUG_WRITE:
		return debug_write(t, r->rdi, r->rsi);
	case SYS_DEBUG_EXIT:
		/* any thread may call it, so only a test boot, whose harness
		 * ends QEMU this way, writes the port */
		if (!debug_exit_enabled)
			return E_NO_RIGHTS;
		printk("berth: debug exit %lu requested by thread %lu\n", r->rdi & 0x7f, t->id);
		/* QEMU ends at the write: what the console driver has yet to
		 * print (the caller's last words among it) goes out first */
		log_flush();
		outb(DEBUG_EXIT_PORT, (uint8_t)(r->rdi & 0x7f));
		return E_STATE; /* no exit device: carry on */
	case SYS_UNTYPED_RETYPE:
		return sys_untyped_retype(t, r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9);
	case SYS_CNODE_COPY:
	case SYS_CNODE_MINT:
	case SYS_CNODE_MOVE:
	case SYS_CNODE_DELETE:
	case SYS_CNODE_REVOKE:
	case SYS_CAP_IDENTIFY:
	case SYS_CAP_RESTRICT:
		return sys_cnode(t, op, r);
	case SYS_TCB_CONFIGURE:
	case SYS_TCB_SET_REGS:
	case SYS_TCB_SET_PRIORITY:
	case SYS_TCB_RESUME:
	case SYS_TCB_SUSPEND:
	case SYS_TCB_INFO:
	case SYS_TCB_SET_IPC_BUFFER:
	case SYS_TCB_SET_FLAGS:
	case SYS_TCB_SET_FS_BASE:
		return sys_tcb(t, op, r);
	case SYS_TCB_REGS:
		return sys_tcb_regs(t, r);
	case SYS_PAGE_TABLE_MAP:
	case SYS_PAGE_MAP:
	case SYS_PAGE_UNMAP:
	case SYS_FRAME_PHYS:
	case SYS_GUEST_PROTECT:
		return sys_mapping(t, op, r);
	case SYS_CALL:
	case SYS_REPLY_RECV:
	case SYS_SEND:
	case SYS_NB_SEND:
	case SYS_RECV:
	case SYS_NB_RECV:
	case SYS_REPLY:
	case SYS_NOTIFY:
	case SYS_PORT_NOSENDERS:
		return sys_ipc(t, op, r);
	case SYS_IRQ_GET:
	case SYS_IRQ_BIND:
	case SYS_IRQ_ACK:
	case SYS_IRQ_SHARE:
		return sys_irq(t, op, r);
	case SYS_IOPORT_ISSUE:
	case SYS_IOPORT_IN:
	case SYS_IOPORT_OUT:
		return sys_ioport(t, op, r);
	case SYS_VCPU_CONFIGURE:
	case SYS_VCPU_READ:
	case SYS_VCPU_WRITE:
	case SYS_VCPU_IO_INTERCEPT:
	case SYS_VCPU_MSR_INTERCEPT:
		return sys_vcpu(t, op, r);
	case SYS_NOTIFY_AFTER:
		return sys_notify_after(t, r);
	case SYS_KERNEL_COUNTER:
		if (r->rdi >= KC_COUNT)
			return E_BAD_ARG;
		r->rdx = kernel_counters[r->rdi];
		if (r->rdi == KC_IPC_MESSAGES) /* the fast path counts its own once */
			r->rdx += kernel_counters[KC_IPC_FASTPATH];
		return E_OK;
	case SYS_TRACE:
		return sys_trace(t, r);
	case SYS_LOG:
		return sys_log(t, r);
	case SYS_SHADOW:
		return sys_shadow(t, r);
	}
	return E_BAD_SYSCALL;
}

/* Every system call but those the IPC fast path takes (entry.S sends
 * SYS_CALL and SYS_REPLY_RECV to it first), and those it leaves alone
 * (it calls this before it has changed anything). */
_Noreturn void syscall_dispatch(void)
{
	struct tcb *t = current;
	struct context *r = &t->ctx;
	if (t->flags & TCB_FLAG_SYSCALLS_FAULT) {
		/* not a Berth program's call: its handler decides what it means */
		thread_fault(t, FAULT_VECTOR_SYSCALL, r->rax, 0);
		kernel_exit();
	}
	int err = dispatch(t, r);
	/* a thread that blocked gets its result when it is woken; one that
	 * the call destroyed (current is cleared then) gets nothing */
	if (current == t && (t->state == THREAD_RUNNABLE || t->state == THREAD_INACTIVE))
		r->rax = (uint64_t)err;
	kernel_exit();
}
