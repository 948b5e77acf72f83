/* System-call numbers and the register convention: the ABI between the
 * kernel and every user program.  See docs/abi.md. */
#ifndef BERTH_SYSCALL_H
#define BERTH_SYSCALL_H

/*
 * Convention (SYSCALL instruction):
 *   rax = call number; arguments in rdi, rsi, rdx, r10, r8, r9.
 *   On return rax = error code (enum berth_error), extra results in
 *   rdx, rsi, rdi, r8.  rcx and r11 are clobbered by the CPU; every other
 *   register is preserved.
 */
enum berth_syscall {
	SYS_YIELD = 1,            /* () */
	SYS_DEBUG_WRITE = 2,      /* (const char *buf, size_t len) */
	SYS_DEBUG_EXIT = 3,       /* (code): stop the machine (test harness) */
	SYS_UNTYPED_RETYPE = 4,   /* (untyped, type, size_bits, offset, dest_slot) */
	SYS_CNODE_COPY = 5,       /* (src_slot, dest_cnode, dest_slot, rights) */
	SYS_TCB_CONFIGURE = 6,    /* (tcb, cspace_cnode, vspace) */
	SYS_TCB_SET_REGS = 7,     /* (tcb, rip, rsp, arg) */
	SYS_TCB_SET_PRIORITY = 8, /* (tcb, priority) */
	SYS_TCB_RESUME = 9,       /* (tcb) */
	SYS_TCB_SUSPEND = 10,     /* (tcb) */
	SYS_TCB_INFO = 11,        /* (tcb) -> rdx state|vector<<8, rsi addr, rdi rip, r8 error */
	SYS_PAGE_TABLE_MAP = 12,  /* (page_table, vspace, vaddr) -> rdx level installed */
	SYS_PAGE_MAP = 13,        /* (frame, vspace, vaddr, rights) -> rdx missing level */
	SYS_PAGE_UNMAP = 14,      /* (frame) */
	SYS_COUNT
};

/* Retype at the untyped's watermark, aligned up to the object's size. */
#define RETYPE_NEXT_FREE (~0UL)

#endif
