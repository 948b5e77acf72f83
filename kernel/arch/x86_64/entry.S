/* Kernel entry and exit.  Every entry from user mode saves the full user
 * register set into the current thread's context (struct context) and runs
 * the kernel on the one kernel stack; every exit restores a context with
 * IRETQ.  Interrupts are off throughout the kernel except in the idle loop. */
#include "layout.h"

/* SYS_CALL and SYS_REPLY_RECV (<berth/syscall.h>; kernel/ipc.c checks) */
#define SYSCALL_NR_CALL 15
#define SYSCALL_NR_REPLY_RECV 16

	.text

/* SYSCALL: rcx = user rip, r11 = user rflags, IF already cleared (SFMASK). */
	.globl syscall_entry
syscall_entry:
	mov %rsp, syscall_user_rsp(%rip)
	mov current_context_end(%rip), %rsp
	pushq $SEL_UDATA
	pushq syscall_user_rsp(%rip)
	push %r11
	pushq $SEL_UCODE
	push %rcx
	pushq $0                       /* error */
	pushq $0x100                   /* vector: VECTOR_SYSCALL */
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	lea kernel_stack_top(%rip), %rsp
	/* the IPC fast path's two calls go to it first (kernel/ipc.c), and
	 * from there to syscall_dispatch if it does not apply; none returns */
	cmp $SYSCALL_NR_CALL, %rax
	je 1f
	cmp $SYSCALL_NR_REPLY_RECV, %rax
	je 2f
	call syscall_dispatch
	ud2
1:	call fastpath_call
	ud2
2:	call fastpath_reply_recv
	ud2

/* Exception and interrupt stubs: make every frame look alike (error code
 * slot, vector), then save registers and branch on where we came from. */
.macro trap_noerr vec
	.globl trap_\vec
trap_\vec:
	pushq $0
	pushq $\vec
	jmp trap_common
.endm
.macro trap_err vec
	.globl trap_\vec
trap_\vec:
	pushq $\vec
	jmp trap_common
.endm

trap_noerr 0
trap_noerr 1
trap_noerr 2
trap_noerr 3
trap_noerr 4
trap_noerr 5
trap_noerr 6
trap_noerr 7
trap_err   8
trap_noerr 9
trap_err   10
trap_err   11
trap_err   12
trap_err   13
trap_err   14
trap_noerr 15
trap_noerr 16
trap_err   17
trap_noerr 18
trap_noerr 19
trap_noerr 20
trap_err   21
trap_noerr 22
trap_noerr 23
trap_noerr 24
trap_noerr 25
trap_noerr 26
trap_noerr 27
trap_noerr 28
trap_err   29
trap_err   30
trap_noerr 31
trap_noerr 32
trap_noerr 33
trap_noerr 34
trap_noerr 35
trap_noerr 36
trap_noerr 37
trap_noerr 38
trap_noerr 39
trap_noerr 40
trap_noerr 41
trap_noerr 42
trap_noerr 43
trap_noerr 44
trap_noerr 45
trap_noerr 46
trap_noerr 47
trap_noerr 255

trap_common:
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rdi
	testb $3, 18*8(%rsp)           /* saved CS: did we come from user mode? */
	jz 1f
	lea kernel_stack_top(%rip), %rsp
	call trap_from_user
	ud2
1:	call trap_from_kernel          /* never returns either */
	ud2

/* void context_restore(struct context *c): leave the kernel for good.
 * A context saved by SYSCALL goes back with SYSRET (rcx and r11 are
 * clobbered by the ABI anyway); any other with IRETQ, which restores every
 * register.  RIP is always canonical: user addresses end below USER_TOP.
 * NMI and #DF use IST stacks, so the moment on the user stack before
 * SYSRET is safe. */
	.globl context_restore
context_restore:
	mov %rdi, %rsp
	cmpq $0x100, 15*8(%rsp)        /* vector == VECTOR_SYSCALL? */
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	je 1f                          /* pop and mov leave the flags alone */
	add $16, %rsp
	iretq
1:	mov 16(%rsp), %rcx             /* rip */
	mov 32(%rsp), %r11             /* rflags */
	mov 40(%rsp), %rsp             /* user rsp */
	sysretq

/* void context_restore_message(const struct context *to,
 *                              const struct context *from)
 * The IPC fast path's way out (kernel/sched.c, sched_handoff): into `to`,
 * a context saved by SYSCALL, with its own RBX, RBP, R12-R15, RIP, RFLAGS
 * and RSP, the badge the fast path put in its RDI, and the message:
 * from's info and four words (RSI, RDX, R10, R8, R9) and E_OK in RAX,
 * what transfer() would have written into `to` for context_restore to
 * load.  RCX and R11 are SYSRET's.  Offsets are struct context's
 * (context.h). */
	.globl context_restore_message
context_restore_message:
	mov 0*8(%rdi), %r15
	mov 1*8(%rdi), %r14
	mov 2*8(%rdi), %r13
	mov 3*8(%rdi), %r12
	mov 8*8(%rdi), %rbp
	mov 13*8(%rdi), %rbx
	mov 17*8(%rdi), %rcx           /* rip */
	mov 19*8(%rdi), %r11           /* rflags */
	mov 20*8(%rdi), %rsp           /* user rsp */
	mov 9*8(%rdi), %rdi            /* badge */
	mov 5*8(%rsi), %r10
	mov 7*8(%rsi), %r8
	mov 6*8(%rsi), %r9
	mov 11*8(%rsi), %rdx
	mov 10*8(%rsi), %rsi
	xor %eax, %eax                 /* E_OK */
	sysretq

/* void idle_enter(void): wait for an interrupt on a fresh kernel stack. */
	.globl idle_enter
idle_enter:
	lea kernel_stack_top(%rip), %rsp
1:	sti
	hlt
	cli
	jmp 1b

	.bss
	.align 8
syscall_user_rsp:
	.quad 0
/* The one kernel stack: every entry starts at its top. */
	.align 16
kernel_stack:
	.space KERNEL_STACK_SIZE
	.globl kernel_stack_top
kernel_stack_top:
