/* The guest's entry points: the boot entry, the timer interrupt (which is
 * also where tasks are switched) and the exception stubs.  The VMM starts
 * us in 64-bit mode at 0x100000 with its own page tables and GDT, which
 * cpu_init and paging_init replace with ours.  In the pv build the timer
 * entry is the event callback, which the VMM enters with the same frame. */
#ifdef TEACH_PV
#include "pv_abi.h"
#endif
	.section .text.start, "ax"
	.globl _start
_start:
	lea boot_stack_top(%rip), %rsp
#ifdef TEACH_PV
	mov %rsi, %rdi          /* the VMM's start info (pv_abi.h) */
	call pv_start
#endif
	call main
	/* main does not return: it ends the run with the exit hypercall */
#ifdef TEACH_PV
1:	jmp 1b
#else
1:	hlt
	jmp 1b
#endif

/* The timer (IRQ 0, vector 0x20).  Save every general register on the
 * interrupted task's stack; timer_tick keeps that stack pointer in the
 * task and returns the one to resume (maybe another task's, in another
 * address space).  The interrupt frame the CPU pushed stays under the
 * saved registers, so iretq resumes whichever task the stack belongs to. */
	.text
	.globl timer_entry
timer_entry:
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
	call timer_tick
	mov %rax, %rsp
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
#ifdef TEACH_PV
	/* iretq to ring 0 is not ours to do: PV_HC_IRET, with the three
	 * registers SYSCALL would destroy kept on the stack under the frame */
	push %r11
	push %rcx
	push %rax
	mov $PV_HC_IRET, %eax
	syscall
#else
	iretq
#endif

/* #DB (vector 1): the single-step trap RFLAGS.TF raises after each
 * instruction while main.c's count_op runs.  Count it and go on; the
 * gate cleared TF, so the handler itself is not counted, and the return
 * puts TF back.  incq changes the flags, which the return restores. */
	.globl debug_entry
debug_entry:
	incq guest_steps(%rip)
#ifdef TEACH_PV
	push %r11
	push %rcx
	push %rax
	mov $PV_HC_IRET, %eax
	syscall
#else
	iretq
#endif

/* Exceptions: none is expected (but #DB while counting, above), so each stub only says which vector it
 * was (with a 0 for the vectors that push no error code) and stops. */
.macro exc vector, has_error
exc_\vector:
	.if \has_error == 0
	push $0
	.endif
	mov $\vector, %edi
	mov (%rsp), %rsi        /* the error code */
	mov 8(%rsp), %rdx       /* the faulting RIP */
	jmp exception
.endm

	exc 0, 0
	exc 1, 0
	exc 2, 0
	exc 3, 0
	exc 4, 0
	exc 5, 0
	exc 6, 0
	exc 7, 0
	exc 8, 1
	exc 9, 0
	exc 10, 1
	exc 11, 1
	exc 12, 1
	exc 13, 1
	exc 14, 1
	exc 15, 0
	exc 16, 0
	exc 17, 1
	exc 18, 0
	exc 19, 0
	exc 20, 0
	exc 21, 1
	exc 22, 0
	exc 23, 0
	exc 24, 0
	exc 25, 0
	exc 26, 0
	exc 27, 0
	exc 28, 0
	exc 29, 1
	exc 30, 1
	exc 31, 0

	.section .rodata
	.globl exception_stubs
	.balign 8
exception_stubs:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad exc_\v
	.endr

	.bss
	.balign 16
	.space 16384
boot_stack_top:
	.section .note.GNU-stack, "", @progbits
