/* System-call numbers and the register convention: the ABI between the
 * kernel and every user program.  See docs/abi.md. */
#ifndef BERTH_SYSCALL_H
#define BERTH_SYSCALL_H

#include <stdint.h>

/*
 * Convention (SYSCALL instruction):
 *   rax = call number; arguments in rdi, rsi, rdx, r10, r8, r9.
 *   On return rax = error code (enum berth_error), extra results in
 *   rdx, rsi, rdi, r8.  rcx and r11 are clobbered by the CPU; every other
 *   register is preserved.
 */
enum berth_syscall {
	SYS_NULL = 0,             /* (): does nothing; measures entry and exit */
	SYS_YIELD = 1,            /* () */
	SYS_DEBUG_WRITE = 2,      /* (const char *buf, size_t len) */
	SYS_DEBUG_EXIT = 3,       /* (code): stop the machine (test harness) */
	SYS_UNTYPED_RETYPE = 4,   /* (untyped, type, size_bits, offset, dest_slot) */
	SYS_CNODE_COPY = 5,       /* (src_slot, dest_cnode, dest_slot, rights) */
	SYS_TCB_CONFIGURE = 6,    /* (tcb, cspace_cnode, vspace, fault_port) */
	SYS_TCB_SET_REGS = 7,     /* (tcb, rip, rsp, arg) */
	SYS_TCB_SET_PRIORITY = 8, /* (tcb, priority) */
	SYS_TCB_RESUME = 9,       /* (tcb) */
	SYS_TCB_SUSPEND = 10,     /* (tcb) */
	SYS_TCB_INFO = 11,        /* (tcb) -> rdx state|vector<<8|prio<<32, rsi addr, rdi rip, r8 error */
	SYS_PAGE_TABLE_MAP = 12,  /* (page_table, vspace, vaddr) -> rdx level installed */
	SYS_PAGE_MAP = 13,        /* (frame, vspace, vaddr, rights) -> rdx missing level */
	SYS_PAGE_UNMAP = 14,      /* (frame) */
	/* IPC: see <berth/ipc.h> for the register layout */
	SYS_CALL = 15,            /* (port, info, w0..w3) -> reply */
	SYS_REPLY_RECV = 16,      /* (reply, info, w0..w3; r12 reply_slot, r13 port) -> message */
	SYS_SEND = 17,            /* (port, info, w0..w3) */
	SYS_NB_SEND = 18,         /* the same, E_WOULD_BLOCK instead of waiting */
	SYS_RECV = 19,            /* (port; r12 reply_slot) -> message */
	SYS_NB_RECV = 20,         /* the same, E_WOULD_BLOCK instead of waiting */
	SYS_REPLY = 21,           /* (reply, info, w0..w3) */
	SYS_NOTIFY = 22,          /* (port, bits) */
	SYS_CNODE_MINT = 23,      /* (src, dest_cnode, dest_slot, rights, badge) */
	SYS_CNODE_MOVE = 24,      /* (src, dest_cnode, dest_slot) */
	SYS_CNODE_DELETE = 25,    /* (slot) */
	SYS_CNODE_REVOKE = 26,    /* (slot) */
	SYS_TCB_SET_IPC_BUFFER = 27, /* (tcb, frame or 0, vaddr where it is mapped) */
	SYS_PORT_NOSENDERS = 28,  /* (port with RECEIVE, bits) */
	SYS_IRQ_GET = 29,         /* (irq_control, line, dest_cnode, dest_slot) */
	SYS_IRQ_BIND = 30,        /* (irq_handler, port, bits) */
	SYS_IRQ_ACK = 31,         /* (irq_handler) */
	SYS_IOPORT_ISSUE = 32,    /* (ioport_control, first, last, dest_cnode, dest_slot) */
	SYS_IOPORT_IN = 33,       /* (ioport, port, size) -> rdx value */
	SYS_IOPORT_OUT = 34,      /* (ioport, port, size, value) */
	SYS_CAP_IDENTIFY = 35,    /* (slot) -> rdx type, rsi rights, rdi badge or untyped bytes used */
	SYS_VCPU_CONFIGURE = 36,  /* (vcpu, guest_space, exit_port) */
	SYS_VCPU_READ = 37,       /* (vcpu, field) -> rdx value */
	SYS_VCPU_WRITE = 38,      /* (vcpu, field, value) */
	SYS_VCPU_IO_INTERCEPT = 39, /* (vcpu, first, last, intercept, ioport cap when 0) */
	SYS_VCPU_MSR_INTERCEPT = 40, /* (vcpu, msr, intercept) */
	SYS_NOTIFY_AFTER = 41,    /* (port, bits, ticks): post bits that many timer ticks from now; 0 cancels */
	SYS_CAP_RESTRICT = 42,    /* (slot, rights): keep only these rights, in place */
	SYS_FRAME_PHYS = 43,      /* (frame with RIGHT_PHYS) -> rdx physical address */
	SYS_IRQ_SHARE = 44,       /* (irq_handler, dest_cnode, dest_slot): one more handler of its line */
	SYS_KERNEL_COUNTER = 45,  /* (counter) -> rdx its value since boot */
	SYS_TRACE = 46,           /* (trace_control, op, a, b): enum trace_op, docs/trace.md */
	SYS_LOG = 47,             /* (com1_ioport, op, a, b): enum log_op, docs/console.md */
	SYS_SHADOW = 48,          /* (shadow_space, op, a, b, c): enum shadow_op, docs/vmm.md */
	SYS_TCB_REGS = 49,        /* (tcb, op): enum tcb_regs_op, a stopped thread's registers
	                           * through the caller's IPC buffer (struct tcb_regs) */
	SYS_TCB_SET_FLAGS = 50,   /* (tcb, flags): TCB_FLAG_* */
	SYS_GUEST_PROTECT = 51,   /* (guest_space, gpa, pages, allow): write access to guest RAM,
	                           * below -> rdx leaves changed */
	SYS_TCB_SET_FS_BASE = 52, /* (tcb, base): the thread's FS base from now on (0 or a user
	                           * address); SYS_TCB_SET_IPC_BUFFER sets it to the buffer's */
	SYS_COUNT                 /* one past the highest number */
};

/* SYS_KERNEL_COUNTER's counters: events since boot, counted by the
 * kernel so that benchmarks can say what an operation cost in kernel
 * work (docs/abi.md). */
/* SYS_TRACE's operations; the first argument is always a TRACE_CONTROL
 * capability (docs/trace.md). */
enum trace_op {
	TRACE_THREAD = 0, /* (tcb, on): trace the thread's messages (1) or not (0) -> rdx its id */
	TRACE_READ = 1,   /* (): the oldest record, removed from the ring; E_WOULD_BLOCK if none.
	                   * rdx TSC, rsi from | to << 32 (thread ids, 0: the kernel),
	                   * rdi label (48 bits) | kind << 48 | TRACE_FAST << 56,
	                   * r8 records lost since the last read | records left << 32 */
	TRACE_CLEAR = 2,  /* (): forget every record and the lost count */
};
/* SYS_LOG's operations: the kernel's console output (printk and
 * SYS_DEBUG_WRITE) handed to the console driver.  The first argument is
 * an I/O-port capability covering COM1's registers 0x3f8..0x3ff. */
enum log_op {
	LOG_BIND = 0,     /* (port, bits): keep output in the ring and post bits on port when
	                   * some came; port 0: write it to COM1 directly again */
	LOG_READ = 1,     /* (): take up to 24 bytes: rdx count | bytes left << 32, the bytes in
	                   * rsi, rdi, r8 (little-endian); E_WOULD_BLOCK if none */
};
/* SYS_SHADOW's operations on a ShadowSpace (shadow page tables, mapping
 * guest-virtual to host-physical for a VCPU with nested paging off;
 * docs/vmm.md, "Shadow paging").  The first argument is the ShadowSpace
 * capability (WRITE). */
enum shadow_op {
	SHADOW_BIND = 0,  /* (guest_space): the GuestSpace whose memory it may map (0: none);
	                   * empties the shadow tables */
	SHADOW_MAP = 1,   /* (gva, gpa, flags): map the guest-virtual page gva to the host frame
	                   * behind guest-physical gpa in the bound GuestSpace, with SHADOW_*
	                   * flags -> rdx pool pages left; E_LIMIT when the pool is used up */
	SHADOW_UNMAP = 2, /* (gva, level): drop that page's entry (level 0 or 1), or at level 2..4
	                   * the entry over it of that level, all it maps (gva aligned to it) */
	SHADOW_FLUSH = 3, /* (lower): drop every entry, the pool is empty again; lower = 1: only
	                   * the lower half's (guest-virtual below 2^47), the pool unchanged */
	SHADOW_RUN = 4,   /* (vcpu): the VCPU, on a ShadowSpace bound to the same GuestSpace,
	                   * runs on this one from its next entry (E_STATE otherwise) */
};
#define SHADOW_WRITE  0x2u   /* SHADOW_MAP's flags: writable (needs a writable guest page) */
#define SHADOW_USER   0x4u   /* reachable from the guest's CPL 3 */
#define SHADOW_NOEXEC 0x8u   /* no instruction fetch (the guest needs EFER.NXE) */
#define LOG_RING 4096     /* bytes the kernel keeps for the console driver */
/* SYS_TCB_REGS's operations.  The thread must be stopped where its
 * registers are all saved: suspended (SYS_TCB_SUSPEND), faulted with no
 * handler, or waiting for its fault handler's reply; else E_STATE.  The
 * registers travel in the caller's IPC buffer, words 0..17, as struct
 * tcb_regs (no IPC buffer: E_STATE).  A write changes every general
 * register; RIP must be a user address (USER_BASE..USER_TOP), RSP at most
 * USER_TOP (E_BAD_ADDRESS), and of RFLAGS only CF PF AF ZF SF DF OF and
 * TF (which the thread could set itself with popf) are taken: IF stays
 * on, IOPL 0, and CS and SS stay the user selectors.  The
 * thread then resumes with IRETQ, every register as written (even after a
 * SYSCALL, whose return would clobber RCX and R11).  Used by a VMM that
 * runs a guest kernel as an ordinary thread (docs/vmm.md, mode=trap). */
enum tcb_regs_op {
	TCB_REGS_READ = 0,   /* (): the registers into the caller's IPC buffer */
	TCB_REGS_WRITE = 1,  /* (): the registers from the caller's IPC buffer */
};
struct tcb_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
};
#define TCB_REGS_WORDS 18

/* SYS_TCB_SET_FLAGS's flags (a VCPU takes none; unknown bits: E_BAD_ARG).
 * TCB_FLAG_SYSCALLS_FAULT: the thread's SYSCALL instructions do not reach
 * the kernel; each is a fault with vector FAULT_VECTOR_SYSCALL
 * (<berth/ipc.h>) to its fault port, the thread stopped after the
 * instruction with RCX and R11 as SYSCALL left them.  For a thread that
 * runs code which is not a Berth program: a guest kernel run as a thread
 * (mode=trap, patch and pv, docs/vmm.md), whose SYSCALL is its own
 * business or a hypercall, never a call on Berth's kernel. */
#define TCB_FLAG_SYSCALLS_FAULT 0x1u
#define TCB_FLAGS_ALL TCB_FLAG_SYSCALLS_FAULT

/* SYS_PAGE_MAP's rights may add MAP_PIECES for a 2 MiB frame (not device
 * memory), in a GuestSpace or an address space (a VMM's own view of guest
 * RAM it shares with a clone): it is mapped as the 512 entries of the page table at its
 * (2 MiB-aligned) address, which must be there and empty, so that each
 * 4 KiB of it can be write-protected on its own (SYS_GUEST_PROTECT) and a
 * 4 KiB frame mapped at a page of it takes that page's place (copy-on-
 * write).  Unmapping the frame removes the pieces it still has.  A 4 KiB
 * frame mapped with MAP_PIECES is one piece: another 4 KiB frame mapped
 * there later takes its place (a page shared by content, replaced by the
 * VM's own copy when written: docs/lifecycle.md).
 *
 * SYS_GUEST_PROTECT (guest_space with WRITE, gpa, pages, allow): allow = 0
 * takes write access away from every page mapped in [gpa, gpa + pages *
 * 4 KiB), so the guest's next write to one is a nested page fault (dirty
 * tracking, copy-on-write); allow = 1 gives it back where the mapping's
 * frame capability allowed writes, never more.  gpa page-aligned, pages
 * 1..GUEST_PROTECT_MAX_PAGES; a 2 MiB page mapped whole changes only if
 * the range covers it (E_ALIGN otherwise, nothing changed). */
#define MAP_PIECES 0x100u
#define GUEST_PROTECT_MAX_PAGES 32768u

enum trace_kind {
	TRACE_CALL = 1, TRACE_REPLY = 2, TRACE_SEND = 3,
	TRACE_NOTIFY = 4, /* label: the bits posted (interrupts, timers, SYS_NOTIFY) */
	TRACE_VMEXIT = 5, /* a VCPU's exit to its VMM; label: the exit code */
	TRACE_FAULT = 6,  /* a thread's fault to its handler; label: the vector */
};
#define TRACE_FAST 1u     /* moved by a fast path */
#define TRACE_RING 4096   /* records the kernel keeps */

enum kernel_counter {
	KC_IPC_MESSAGES = 0,    /* messages moved from a sender or caller to a receiver, replies included */
	KC_IPC_FASTPATH = 1,    /* of those, the ones the call and reply-receive fast paths moved */
	KC_SPACE_SWITCHES = 2,  /* loads of another address space (CR3) */
	KC_VM_ENTRIES = 3,      /* guest entries (VMRUN) */
	KC_IDLE_TSC = 4,        /* TSC ticks the kernel spent halted with nothing to run */
	KC_IPC_NOTIFICATIONS = 5, /* notifications received (interrupts, timers, SYS_NOTIFY), not in KC_IPC_MESSAGES */
	KC_VMEXIT_HANDOFFS = 6, /* VM exits handed straight to the waiting VMM (ipc_exit_deliver) */
	KC_VMEXIT_RESUMES = 7,  /* replies to a VM exit that ran the VCPU straight after (sched_resume_vcpu) */
	KC_COUNT
};

/* Retype at the untyped's watermark, aligned up to the object's size. */
#define RETYPE_NEXT_FREE (~0UL)

#endif
