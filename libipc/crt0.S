/* Program entry: rdi holds the start argument (the boot info for the root
 * task).  Align the stack as the C ABI expects and call main; when main
 * returns the thread suspends itself. */
	.text
	.globl _start
_start:
	and $-16, %rsp
	xor %ebp, %ebp
	mov %rdi, %r12
	call libipc_init
	mov %r12, %rdi
	call main
	mov %eax, %edi
	call program_exit
1:	jmp 1b
