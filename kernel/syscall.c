/* System-call dispatch: decode the caller's saved registers, check every
 * argument, write results back into the saved registers, leave. */
#include <berth/errors.h>
#include <berth/syscall.h>
#include "object.h"
#include "layout.h"
#include "vspace.h"
#include "serial.h"
#include "cpu.h"
#include "klib.h"

int sys_page_table_map(struct tcb *t, uint64_t pt, uint64_t vs, uint64_t vaddr, uint64_t *level);
int sys_page_map(struct tcb *t, uint64_t f, uint64_t vs, uint64_t vaddr, uint64_t rights, uint64_t *missing);
int sys_page_unmap(struct tcb *t, uint64_t f);

#define DEBUG_WRITE_MAX 65536
#define DEBUG_EXIT_PORT 0xf4

/* Print user memory without touching it through the user mapping: each
 * page is looked up in the caller's tables, so a bad pointer is an error,
 * not a kernel fault. */
static int debug_write(struct tcb *t, uint64_t buf, uint64_t len)
{
	if (len > DEBUG_WRITE_MAX)
		return E_BAD_ARG;
	if (buf + len < buf || buf + len > USER_TOP)
		return E_BAD_ADDRESS;
	for (uint64_t va = buf; va < buf + len; va++) {
		uint64_t pa;
		if (vspace_translate(t->cr3, va, &pa))
			return E_BAD_ADDRESS;
		serial_putc(*(const char *)P2V(pa));
	}
	return E_OK;
}

_Noreturn void syscall_dispatch(void)
{
	struct tcb *t = current;
	struct context *r = &t->ctx;
	uint64_t out = 0;
	int err;

	switch (r->rax) {
	case SYS_YIELD:
		sched_yield(t);
		err = E_OK;
		break;
	case SYS_DEBUG_WRITE:
		err = debug_write(t, r->rdi, r->rsi);
		break;
	case SYS_DEBUG_EXIT:
		printk("berth: debug exit %lu requested by thread %lu\n", r->rdi & 0x7f, t->id);
		outb(DEBUG_EXIT_PORT, (uint8_t)(r->rdi & 0x7f));
		err = E_STATE; /* no exit device: carry on */
		break;
	case SYS_UNTYPED_RETYPE:
		err = sys_untyped_retype(t, r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9);
		break;
	case SYS_CNODE_COPY:
		err = sys_cnode_copy(t, r->rdi, r->rsi, r->rdx, r->r10);
		break;
	case SYS_TCB_CONFIGURE:
	case SYS_TCB_SET_REGS:
	case SYS_TCB_SET_PRIORITY:
	case SYS_TCB_RESUME:
	case SYS_TCB_SUSPEND:
	case SYS_TCB_INFO:
		err = sys_tcb(t, r->rax, r);
		break;
	case SYS_PAGE_TABLE_MAP:
		err = sys_page_table_map(t, r->rdi, r->rsi, r->rdx, &out);
		r->rdx = out;
		break;
	case SYS_PAGE_MAP:
		err = sys_page_map(t, r->rdi, r->rsi, r->rdx, r->r10, &out);
		r->rdx = out;
		break;
	case SYS_PAGE_UNMAP:
		err = sys_page_unmap(t, r->rdi);
		break;
	default:
		err = E_BAD_SYSCALL;
	}
	r->rax = (uint64_t)err;
	kernel_exit();
}
