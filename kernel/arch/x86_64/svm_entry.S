/* void svm_vmrun(uint64_t vmcb_pa, uint64_t host_save_pa, struct guest_regs *regs)
 *
 * Load the guest's general registers (VMRUN itself handles RAX, RSP, RIP
 * and RFLAGS through the VMCB), switch the hidden state VMLOAD/VMSAVE
 * cover (FS/GS/TR/LDTR, KernelGsBase, STAR/LSTAR/CSTAR/SFMASK,
 * SYSENTER), run the guest, and store its registers again.  The caller
 * has done CLGI; the host's callee-saved registers survive. */
	.text
	.globl svm_vmrun
svm_vmrun:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	push %rdx                 /* regs */
	push %rsi                 /* host save area */
	push %rdi                 /* vmcb */

	mov %rsi, %rax
	vmsave %rax               /* the host's hidden state */
	mov (%rsp), %rax
	vmload %rax               /* the guest's */

	mov %rdx, %rsi
	mov 0*8(%rsi), %rbx
	mov 1*8(%rsi), %rcx
	mov 2*8(%rsi), %rdx
	mov 4*8(%rsi), %rdi
	mov 5*8(%rsi), %rbp
	mov 6*8(%rsi), %r8
	mov 7*8(%rsi), %r9
	mov 8*8(%rsi), %r10
	mov 9*8(%rsi), %r11
	mov 10*8(%rsi), %r12
	mov 11*8(%rsi), %r13
	mov 12*8(%rsi), %r14
	mov 13*8(%rsi), %r15
	mov 3*8(%rsi), %rsi

	vmrun %rax

	push %rsi                 /* the guest's rsi, while we find regs */
	mov 3*8(%rsp), %rsi       /* regs (pushed rdi, rsi, rdx: it is the third) */
	mov %rbx, 0*8(%rsi)
	mov %rcx, 1*8(%rsi)
	mov %rdx, 2*8(%rsi)
	pop 3*8(%rsi)
	mov %rdi, 4*8(%rsi)
	mov %rbp, 5*8(%rsi)
	mov %r8, 6*8(%rsi)
	mov %r9, 7*8(%rsi)
	mov %r10, 8*8(%rsi)
	mov %r11, 9*8(%rsi)
	mov %r12, 10*8(%rsi)
	mov %r13, 11*8(%rsi)
	mov %r14, 12*8(%rsi)
	mov %r15, 13*8(%rsi)

	mov (%rsp), %rax
	vmsave %rax               /* the guest's hidden state */
	mov 8(%rsp), %rax
	vmload %rax               /* the host's again */
	add $24, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret

/* _Noreturn void vcpu_enter(struct tcb *t): run a VCPU on a fresh kernel
 * stack (kernel_exit's caller's frames are dead). */
	.globl vcpu_enter
vcpu_enter:
	lea kernel_stack_top(%rip), %rsp
	jmp vcpu_run
