/* Checks on an ELF64 executable before the kernel loads it as the root
 * task.  Pure logic: unit-tested on the host (tests/unit/test_elf.c). */
#ifndef ELF_H
#define ELF_H

#include <stddef.h>
#include <stdint.h>

struct elf64_ehdr {
	unsigned char ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

#define PT_LOAD 1
#define PF_X 1
#define PF_W 2
#define PF_R 4

enum elf_error {
	ELF_OK = 0,
	ELF_TOO_SHORT,     /* smaller than its headers say */
	ELF_NOT_ELF,       /* bad magic */
	ELF_WRONG_KIND,    /* not a 64-bit little-endian x86-64 executable */
	ELF_BAD_PHDRS,     /* program headers outside the file or wrong size */
	ELF_BAD_SEGMENT,   /* a segment outside the file or outside user space */
	ELF_BAD_ENTRY,     /* entry point not inside an executable segment */
	ELF_NO_SEGMENTS,
};

/* Check image[0..len) fully: after ELF_OK every PT_LOAD segment lies within
 * the file and within [user_lo, user_hi), and the entry point is inside an
 * executable segment. */
int elf_check(const void *image, size_t len, uint64_t user_lo, uint64_t user_hi);
const char *elf_error_string(int err);

static inline const struct elf64_phdr *elf_phdr(const void *image, int i)
{
	const struct elf64_ehdr *eh = image;
	return (const struct elf64_phdr *)((const char *)image + eh->phoff) + i;
}

#endif
