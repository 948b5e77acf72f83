/* Checks on an ELF64 executable before the kernel loads it as the root
 * task.  Pure logic: unit-tested on the host (tests/unit/test_elf.c). */
#ifndef ELF_H
#define ELF_H

#include <stddef.h>
#include <stdint.h>
#include <berth/elf.h>

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

#endif
