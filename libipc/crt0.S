/* Program entry: rdi holds the start argument (the boot info).  Align the
 * stack as the C ABI expects, keep the first thread's TLS area on top of
 * its stack (libipc/tls.c; libipc_init makes it the thread's FS base) and
 * call main; its return value goes to the C library's exit, which flushes
 * stdio and ends in program_exit. */
	.text
	.globl _start
_start:
	and $-16, %rsp
	xor %ebp, %ebp
	mov %rdi, %r12
	call thread_tls_size
	sub %rax, %rsp
	and $-16, %rsp
	mov %r12, %rdi
	mov %rsp, %rsi
	call libipc_init
	mov %r12, %rdi
	call main
	mov %eax, %edi
	call exit
1:	jmp 1b
