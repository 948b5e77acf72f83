/* Multiboot entry: QEMU's -kernel starts us in 32-bit protected mode with
 * paging off.  Build boot page tables, enter long mode, jump to the higher
 * half and call kmain(magic, multiboot_info_phys). */
#include "layout.h"

#define MB_MAGIC 0x1badb002
/* page-align modules, memory map, load addresses in the header (the file is
 * a flat image, so no ELF parsing by the loader is needed) */
#define MB_FLAGS ((1 << 0) | (1 << 1) | (1 << 16))

	.section .multiboot, "a"
	.align 4
mb_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)
	.long mb_header              /* header_addr (physical) */
	.long kernel_phys_start      /* load_addr */
	.long kernel_load_end_phys   /* load_end_addr */
	.long kernel_phys_end        /* bss_end_addr */
	.long boot_entry32           /* entry_addr */

	.section .boot.text, "ax"
	.code32
	.globl boot_entry32
boot_entry32:
	cli
	mov %eax, %edi               /* multiboot magic -> kmain arg 0 */
	mov %ebx, %esi               /* multiboot info  -> kmain arg 1 */
	mov $boot_stack_top, %esp

	/* PAE + PGE, then the top-level table */
	mov %cr4, %eax
	or $((1 << 5) | (1 << 7)), %eax
	mov %eax, %cr4
	mov $boot_pml4, %eax
	mov %eax, %cr3

	/* EFER.LME | NXE */
	mov $0xc0000080, %ecx
	rdmsr
	or $((1 << 8) | (1 << 11)), %eax
	wrmsr

	/* paging, write-protect even in ring 0, protected mode */
	mov %cr0, %eax
	or $((1 << 31) | (1 << 16) | 1), %eax
	mov %eax, %cr0

	lgdt boot_gdt_ptr
	ljmp $0x08, $boot_entry64

	.code64
boot_entry64:
	movabs $higher_half, %rax
	jmp *%rax

	.section .boot.data, "aw"
	.align 4096
/* PML4[0] (identity, dropped once in C) and PML4[256] (the physical map)
 * share one PDPT mapping 0..4 GiB with 2 MiB pages; PML4[511] maps the
 * kernel image at -2 GiB. */
boot_pml4:
	.quad boot_pdpt_low + 0x3
	.fill 255, 8, 0
	.quad boot_pdpt_low + 0x3
	.fill 254, 8, 0
	.quad boot_pdpt_high + 0x3
boot_pdpt_low:
	.quad boot_pd + 0x0000 + 0x3
	.quad boot_pd + 0x1000 + 0x3
	.quad boot_pd + 0x2000 + 0x3
	.quad boot_pd + 0x3000 + 0x3
	.fill 508, 8, 0
boot_pdpt_high:
	.fill 510, 8, 0
	.quad boot_pd + 0x0000 + 0x3
	.quad boot_pd + 0x1000 + 0x3
/* 2048 large pages: present, writable, PS; the top GiB (MMIO) uncached */
boot_pd:
	.set i, 0
	.rept 1536
	.quad (i << 21) + 0x83
	.set i, i + 1
	.endr
	.rept 512
	.quad (i << 21) + 0x9b
	.set i, i + 1
	.endr
boot_gdt:
	.quad 0
	.quad 0x00209a0000000000     /* 64-bit code */
	.quad 0x0000920000000000     /* data */
boot_gdt_ptr:
	.word boot_gdt_ptr - boot_gdt - 1
	.long boot_gdt
	.align 16
	.fill 1024, 1, 0
boot_stack_top:

	.text
	.code64
higher_half:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	lea kernel_stack_top(%rip), %rsp
	xor %ebp, %ebp
	call kmain
1:	cli
	hlt
	jmp 1b
