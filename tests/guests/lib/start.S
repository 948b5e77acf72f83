/* Guest entry: the VMM set up paging, a GDT and the stack.  main's return
 * value goes to the VMM with hypercall 2 (exit). */
	.section .text.start, "ax"
	.globl _start
_start:
	call main
	mov %eax, %ebx
	mov $2, %eax
	vmmcall
1:	hlt
	jmp 1b
