#include "elf.h"

static int range_ok(uint64_t off, uint64_t size, uint64_t limit)
{
	return off <= limit && size <= limit - off;
}

int elf_check(const void *image, size_t len, uint64_t user_lo, uint64_t user_hi)
{
	const struct elf64_ehdr *eh = image;
	if (len < sizeof(*eh))
		return ELF_TOO_SHORT;
	if (eh->ident[0] != 0x7f || eh->ident[1] != 'E' || eh->ident[2] != 'L' || eh->ident[3] != 'F')
		return ELF_NOT_ELF;
	if (eh->ident[4] != 2 /* 64-bit */ || eh->ident[5] != 1 /* LE */ ||
	    eh->type != ELF_TYPE_EXEC || eh->machine != ELF_MACHINE_X86_64)
		return ELF_WRONG_KIND;
	if (eh->phentsize != sizeof(struct elf64_phdr) ||
	    !range_ok(eh->phoff, (uint64_t)eh->phnum * sizeof(struct elf64_phdr), len) ||
	    eh->phoff % 8)
		return ELF_BAD_PHDRS;

	int loads = 0, entry_ok = 0;
	for (int i = 0; i < eh->phnum; i++) {
		const struct elf64_phdr *ph = elf_phdr(image, i);
		if (ph->type != PT_LOAD)
			continue;
		loads++;
		if (ph->filesz > ph->memsz || !range_ok(ph->offset, ph->filesz, len) ||
		    ph->vaddr < user_lo || !range_ok(ph->vaddr, ph->memsz, user_hi))
			return ELF_BAD_SEGMENT;
		if ((ph->flags & PF_X) && eh->entry >= ph->vaddr && eh->entry - ph->vaddr < ph->memsz)
			entry_ok = 1;
	}
	if (!loads)
		return ELF_NO_SEGMENTS;
	return entry_ok ? ELF_OK : ELF_BAD_ENTRY;
}

const char *elf_error_string(int err)
{
	static const char *const names[] = {
		"ok", "file too short", "not an ELF file",
		"not a 64-bit little-endian x86-64 executable",
		"bad program headers", "segment outside the file or user space",
		"entry point not in an executable segment", "no loadable segment",
	};
	if (err < 0 || err >= (int)(sizeof(names) / sizeof(names[0])))
		return "unknown error";
	return names[err];
}
