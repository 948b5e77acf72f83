/* Loading a Linux bzImage through the x86 64-bit boot protocol
 * (Linux's Documentation/arch/x86/boot.rst and zero-page.rst).
 *
 * Pure logic on byte buffers, with no system calls, so that the host unit
 * tests (tests/unit/test_linux_boot.c) compile it as it is.  The VMM
 * calls the three steps in order:
 *
 *   linux_parse       check the image's setup header, learn its fields
 *   linux_place       decide where the kernel, the command line, the
 *                     initrd and the zero page go in guest memory
 *   linux_zero_page   build struct boot_params for the kernel
 *
 * and then copies the protected-mode kernel (the image from
 * setup_bytes on) to kernel_gpa, the initrd to initrd_gpa, the command
 * line to cmdline_gpa and the zero page to zero_page_gpa, and enters the
 * kernel at entry_gpa in 64-bit mode with RSI = zero_page_gpa and the
 * guest's memory mapped 1:1.
 *
 * Every failure fills a one-line message (no trailing newline) that says
 * what is wrong with numbers a user can act on. */
#ifndef LINUX_BOOT_H
#define LINUX_BOOT_H

#include <stddef.h>
#include <stdint.h>

enum linux_boot_error {
	LINUX_OK = 0,
	LINUX_NOT_LINUX,       /* no 0xAA55 boot flag or no "HdrS" signature */
	LINUX_TRUNCATED,       /* the file ends before what its header describes */
	LINUX_TOO_OLD,         /* boot protocol before 2.12: no xloadflags */
	LINUX_NO_64BIT,        /* xloadflags lacks XLF_KERNEL_64: no 64-bit entry */
	LINUX_BAD_HEADER,      /* fields that contradict each other */
	LINUX_BAD_MEMORY,      /* a guest memory size the layout cannot describe */
	LINUX_KERNEL_TOO_BIG,  /* the kernel does not fit in the guest's memory */
	LINUX_INITRD_TOO_BIG,  /* the initrd does not fit beside the kernel */
	LINUX_CMDLINE_TOO_LONG,
};

#define LINUX_ERROR_MAX 160

/* What linux_parse learned from the image. */
struct linux_kernel {
	uint16_t version;          /* boot protocol, 0x020c for 2.12 */
	uint32_t setup_bytes;      /* boot sector and real-mode setup: (setup_sects + 1) * 512 */
	uint32_t kernel_bytes;     /* the protected-mode kernel: the rest of the file */
	uint32_t header_end;       /* the setup header ends here (offset in the file) */
	uint8_t loadflags;
	uint16_t xloadflags;
	uint8_t relocatable;
	uint32_t kernel_alignment;
	uint64_t pref_address;     /* where the kernel wants to be loaded */
	uint32_t init_size;        /* bytes it needs from there on while it starts */
	uint32_t initrd_addr_max;  /* the highest address an initrd byte may have */
	uint32_t cmdline_max;      /* the longest command line, without its NUL */
};

/* Where linux_place put things: guest-physical addresses. */
struct linux_layout {
	uint64_t mem_bytes;        /* the guest's RAM, all of it below 4 GiB */
	uint64_t kernel_gpa;       /* the protected-mode kernel is copied here */
	uint64_t kernel_end;       /* kernel_gpa + init_size: the kernel's own from here down */
	uint64_t entry_gpa;        /* startup_64: kernel_gpa + 0x200 */
	uint64_t zero_page_gpa;
	uint64_t cmdline_gpa;
	uint64_t initrd_gpa;       /* 0 when there is no initrd */
	uint64_t initrd_bytes;
	uint64_t tables_gpa;       /* reserved for tables the VMM may add (ACPI, MP) */
};

/* The guest memory map (fixed addresses; see linux_boot.c for why). */
#define LINUX_ZERO_PAGE_GPA  0x10000UL
#define LINUX_CMDLINE_GPA    0x11000UL
#define LINUX_CMDLINE_AREA   0x1000UL    /* the command line and its NUL */
#define LINUX_LOW_RAM_END    0xa0000UL   /* 640 KiB */
#define LINUX_HIGH_RAM_START 0x100000UL  /* 1 MiB */
#define LINUX_TABLES_BYTES   0x10000UL   /* 64 KiB at the top of RAM */
#define LINUX_MEM_MIN        0x200000UL  /* 2 MiB */
#define LINUX_MEM_MAX        0xc0000000UL  /* 3 GiB: the rest below 4 GiB is for MMIO */

#define LINUX_ZERO_PAGE_BYTES 4096

/* E820 types (zero-page.rst) */
#define E820_RAM      1
#define E820_RESERVED 2

int linux_parse(const uint8_t *image, size_t len, struct linux_kernel *k,
		char error[LINUX_ERROR_MAX]);

int linux_place(const struct linux_kernel *k, uint64_t mem_bytes, uint64_t initrd_bytes,
		size_t cmdline_len, struct linux_layout *l, char error[LINUX_ERROR_MAX]);

/* Builds the zero page in zp from the image's setup header (image must
 * be the buffer linux_parse accepted).  Cannot fail. */
void linux_zero_page(const uint8_t *image, const struct linux_kernel *k,
		     const struct linux_layout *l, uint8_t zp[LINUX_ZERO_PAGE_BYTES]);

#endif
