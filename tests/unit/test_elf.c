/* Host unit tests for kernel/elf.c: validation of the root task's ELF image
 * against malformed and hostile headers. */
// unit-under-test: kernel/elf.c
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include "unit.h"
#include "elf.h"

#define ULO 0x1000ULL
#define UHI 0x00007fffffffd000ULL
#define IMG_LEN 0x3000
#define PT_NOTE 4
#define PT_GNU_STACK 0x6474e551u

_Static_assert(sizeof(struct elf64_ehdr) == 64, "ELF64 header is 64 bytes");
_Static_assert(sizeof(struct elf64_phdr) == 56, "ELF64 program header is 56 bytes");

static uint64_t storage[0x4000 / 8];        /* 8-byte aligned image buffer */
static unsigned char *const img = (unsigned char *)storage;

struct seg {
	uint32_t type, flags;
	uint64_t offset, vaddr, filesz, memsz;
};

/* Write an ELF64 x86-64 executable header with n program headers at phoff,
 * and fill the rest of the buffer with a pattern. */
static void build_at(uint64_t entry, uint64_t phoff, const struct seg *s, int n)
{
	memset(storage, 0xcc, sizeof(storage));
	struct elf64_ehdr eh;
	memset(&eh, 0, sizeof(eh));
	eh.ident[0] = 0x7f;
	eh.ident[1] = 'E';
	eh.ident[2] = 'L';
	eh.ident[3] = 'F';
	eh.ident[4] = 2;    /* ELFCLASS64 */
	eh.ident[5] = 1;    /* ELFDATA2LSB */
	eh.ident[6] = 1;    /* EV_CURRENT */
	eh.type = 2;        /* ET_EXEC */
	eh.machine = 62;    /* EM_X86_64 */
	eh.version = 1;
	eh.entry = entry;
	eh.phoff = phoff;
	eh.ehsize = sizeof(struct elf64_ehdr);
	eh.phentsize = sizeof(struct elf64_phdr);
	eh.phnum = (uint16_t)n;
	memcpy(img, &eh, sizeof(eh));
	for (int i = 0; i < n; i++) {
		struct elf64_phdr ph;
		memset(&ph, 0, sizeof(ph));
		ph.type = s[i].type;
		ph.flags = s[i].flags;
		ph.offset = s[i].offset;
		ph.vaddr = s[i].vaddr;
		ph.paddr = s[i].vaddr;
		ph.filesz = s[i].filesz;
		ph.memsz = s[i].memsz;
		ph.align = 0x1000;
		memcpy(img + phoff + (uint64_t)i * sizeof(ph), &ph, sizeof(ph));
	}
}

static void build(uint64_t entry, const struct seg *s, int n)
{
	build_at(entry, sizeof(struct elf64_ehdr), s, n);
}

static struct elf64_ehdr *EH(void) { return (struct elf64_ehdr *)storage; }
static struct elf64_phdr *PH(int i) { return (struct elf64_phdr *)(img + EH()->phoff) + i; }

/* The standard image: text (R+X) and data (R+W) segments. */
static const struct seg text = { PT_LOAD, PF_R | PF_X, 0x1000, 0x400000, 0x800, 0x1000 };
static const struct seg data = { PT_LOAD, PF_R | PF_W, 0x2000, 0x600000, 0x100, 0x3000 };
#define ENTRY 0x400100

static void build_std(void)
{
	const struct seg s[] = { text, data };
	build(ENTRY, s, 2);
}

static int check(size_t len) { return elf_check(img, len, ULO, UHI); }

static void test_header(void)
{
	int rc;

	build_std();
	CHECK(check(IMG_LEN) == ELF_OK, "valid two-segment image -> ELF_OK");
	{
		const struct seg s[] = { text };
		build(ENTRY, s, 1);
		CHECK(check(IMG_LEN) == ELF_OK, "valid single text segment -> ELF_OK");
	}

	build_std();
	CHECK(check(0) == ELF_TOO_SHORT, "length 0 -> ELF_TOO_SHORT");
	CHECK(check(4) == ELF_TOO_SHORT, "length 4 (magic only) -> ELF_TOO_SHORT");
	CHECK(check(sizeof(struct elf64_ehdr) - 1) == ELF_TOO_SHORT, "length 63 -> ELF_TOO_SHORT");
	rc = check(sizeof(struct elf64_ehdr));
	CHECK(rc == ELF_BAD_PHDRS, "length 64 with program headers beyond it -> ELF_BAD_PHDRS (got %d)", rc);

	int magic_ok = 1;
	for (int i = 0; i < 4; i++) {
		build_std();
		img[i] ^= 0x20;
		if (check(IMG_LEN) != ELF_NOT_ELF)
			magic_ok = 0;
	}
	CHECK(magic_ok, "any corrupted magic byte -> ELF_NOT_ELF");
	build_std();
	memset(img, 0, 4);
	CHECK(check(IMG_LEN) == ELF_NOT_ELF, "zeroed magic -> ELF_NOT_ELF");

	build_std();
	img[4] = 1;
	CHECK(check(IMG_LEN) == ELF_WRONG_KIND, "ELFCLASS32 -> ELF_WRONG_KIND");
	build_std();
	img[4] = 0;
	CHECK(check(IMG_LEN) == ELF_WRONG_KIND, "ELFCLASSNONE -> ELF_WRONG_KIND");
	build_std();
	img[5] = 2;
	CHECK(check(IMG_LEN) == ELF_WRONG_KIND, "big-endian -> ELF_WRONG_KIND");
	build_std();
	EH()->machine = 3;
	CHECK(check(IMG_LEN) == ELF_WRONG_KIND, "machine EM_386 -> ELF_WRONG_KIND");
	build_std();
	EH()->machine = 183;
	CHECK(check(IMG_LEN) == ELF_WRONG_KIND, "machine EM_AARCH64 -> ELF_WRONG_KIND");
	build_std();
	EH()->type = 3;
	CHECK(check(IMG_LEN) == ELF_WRONG_KIND, "ET_DYN -> ELF_WRONG_KIND");
	build_std();
	EH()->type = 1;
	CHECK(check(IMG_LEN) == ELF_WRONG_KIND, "ET_REL -> ELF_WRONG_KIND");
}

static void test_phdrs(void)
{
	build_std();
	EH()->phentsize = sizeof(struct elf64_phdr) - 1;
	CHECK(check(IMG_LEN) == ELF_BAD_PHDRS, "phentsize 55 -> ELF_BAD_PHDRS");
	build_std();
	EH()->phentsize = 64;
	CHECK(check(IMG_LEN) == ELF_BAD_PHDRS, "phentsize 64 -> ELF_BAD_PHDRS");
	build_std();
	EH()->phentsize = 0;
	CHECK(check(IMG_LEN) == ELF_BAD_PHDRS, "phentsize 0 -> ELF_BAD_PHDRS");

	build_std();
	EH()->phoff = IMG_LEN;
	CHECK(check(IMG_LEN) == ELF_BAD_PHDRS, "phoff at the end of the file -> ELF_BAD_PHDRS");
	EH()->phoff = IMG_LEN + 0x1000;
	CHECK(check(IMG_LEN) == ELF_BAD_PHDRS, "phoff past the end of the file -> ELF_BAD_PHDRS");
	EH()->phoff = 0xfffffffffffffff8ULL;
	CHECK(check(IMG_LEN) == ELF_BAD_PHDRS, "phoff 2^64-8 (phoff+size wraps) -> ELF_BAD_PHDRS");
	EH()->phoff = IMG_LEN - sizeof(struct elf64_phdr);
	CHECK(check(IMG_LEN) == ELF_BAD_PHDRS, "second program header past the end -> ELF_BAD_PHDRS");

	build_std();
	EH()->phnum = 0xffff;
	CHECK(check(IMG_LEN) == ELF_BAD_PHDRS, "phnum 65535 (table past the end) -> ELF_BAD_PHDRS");
	build_std();
	EH()->phnum = (IMG_LEN - 64) / 56 + 1;
	CHECK(check(IMG_LEN) == ELF_BAD_PHDRS, "phnum one more than the file can hold -> ELF_BAD_PHDRS");

	build_std();
	EH()->phoff = 65;
	CHECK(check(IMG_LEN) == ELF_BAD_PHDRS, "misaligned phoff -> ELF_BAD_PHDRS");

	/* Program headers ending exactly at the end of the file. */
	{
		const struct seg s[] = { { PT_LOAD, PF_R | PF_X, 0, 0x400000, 0x100, 0x1000 } };
		build_at(0x400010, 0x100, s, 1);
		size_t exact = 0x100 + sizeof(struct elf64_phdr);
		CHECK(check(exact) == ELF_OK, "program headers ending exactly at the end of the file -> ELF_OK");
		CHECK(check(exact - 1) == ELF_BAD_PHDRS, "... and one byte shorter -> ELF_BAD_PHDRS");
	}
}

static void test_segments(void)
{
	int rc;

	build_std();
	PH(1)->offset = IMG_LEN - 0x80;
	CHECK(check(IMG_LEN) == ELF_BAD_SEGMENT, "segment offset+filesz past the file end -> ELF_BAD_SEGMENT");
	PH(1)->offset = IMG_LEN - 0x100;
	CHECK(check(IMG_LEN) == ELF_OK, "segment data ending exactly at the file end -> ELF_OK");
	PH(1)->offset = 0xffffffffffffff80ULL;
	CHECK(check(IMG_LEN) == ELF_BAD_SEGMENT, "segment offset near 2^64 (offset+filesz wraps) -> ELF_BAD_SEGMENT");
	PH(1)->offset = IMG_LEN + 0x1000;
	PH(1)->filesz = 0;
	CHECK(check(IMG_LEN) == ELF_BAD_SEGMENT, "segment offset past the end with filesz 0 -> ELF_BAD_SEGMENT");

	build_std();
	PH(1)->filesz = 0x100;            /* still inside the file */
	PH(1)->memsz = 0xff;
	CHECK(check(IMG_LEN) == ELF_BAD_SEGMENT, "filesz > memsz (data inside the file) -> ELF_BAD_SEGMENT");
	PH(1)->memsz = 0;
	CHECK(check(IMG_LEN) == ELF_BAD_SEGMENT, "filesz 0x100 with memsz 0 -> ELF_BAD_SEGMENT");
	build_std();
	PH(1)->filesz = 0x100;
	PH(1)->memsz = 0x100;
	CHECK(check(IMG_LEN) == ELF_OK, "filesz == memsz -> ELF_OK");
	PH(1)->filesz = 0;
	PH(1)->memsz = 0x4000;
	CHECK(check(IMG_LEN) == ELF_OK, "bss-only segment (filesz 0) -> ELF_OK");

	build_std();
	PH(1)->vaddr = 0;
	CHECK(check(IMG_LEN) == ELF_BAD_SEGMENT, "segment at vaddr 0 (below user_lo) -> ELF_BAD_SEGMENT");
	PH(1)->vaddr = ULO - 1;
	CHECK(check(IMG_LEN) == ELF_BAD_SEGMENT, "segment at user_lo-1 -> ELF_BAD_SEGMENT");
	PH(1)->vaddr = ULO;
	CHECK(check(IMG_LEN) == ELF_OK, "segment exactly at user_lo -> ELF_OK");

	build_std();
	PH(1)->vaddr = UHI - PH(1)->memsz;
	CHECK(check(IMG_LEN) == ELF_OK, "segment ending exactly at user_hi -> ELF_OK");
	PH(1)->vaddr = UHI - PH(1)->memsz + 1;
	CHECK(check(IMG_LEN) == ELF_BAD_SEGMENT, "segment ending one byte past user_hi -> ELF_BAD_SEGMENT");
	PH(1)->vaddr = UHI;
	PH(1)->memsz = 0x1000;
	CHECK(check(IMG_LEN) == ELF_BAD_SEGMENT, "segment starting at user_hi -> ELF_BAD_SEGMENT");
	PH(1)->vaddr = 0xffff800000000000ULL;
	PH(1)->memsz = 0x1000;
	CHECK(check(IMG_LEN) == ELF_BAD_SEGMENT, "segment in kernel space -> ELF_BAD_SEGMENT");

	build_std();
	PH(1)->memsz = 0xffffffffffc00000ULL + 0x1000;   /* 0x600000 + memsz wraps to 0x201000 */
	CHECK(check(IMG_LEN) == ELF_BAD_SEGMENT, "vaddr+memsz wrapping around 2^64 -> ELF_BAD_SEGMENT");
	build_std();
	PH(1)->vaddr = 0xfffffffffffff000ULL;
	PH(1)->memsz = 0x2000;
	CHECK(check(IMG_LEN) == ELF_BAD_SEGMENT, "vaddr 2^64-4096 with memsz 8 KiB (wraps to 0x1000) -> ELF_BAD_SEGMENT");
	build_std();
	PH(0)->memsz = UINT64_MAX;
	PH(0)->filesz = 0x800;
	CHECK(check(IMG_LEN) == ELF_BAD_SEGMENT, "text memsz 2^64-1 -> ELF_BAD_SEGMENT");

	/* A bad segment after a good one is still found. */
	{
		const struct seg s[] = { text, data, { PT_LOAD, PF_R, 0x2000, 0x0, 0x10, 0x1000 } };
		build(ENTRY, s, 3);
		rc = check(IMG_LEN);
		CHECK(rc == ELF_BAD_SEGMENT, "third segment below user_lo after two good ones -> ELF_BAD_SEGMENT (got %d)", rc);
	}
}

static void test_entry(void)
{
	build_std();
	EH()->entry = 0x500000;
	CHECK(check(IMG_LEN) == ELF_BAD_ENTRY, "entry outside every segment -> ELF_BAD_ENTRY");
	EH()->entry = 0;
	CHECK(check(IMG_LEN) == ELF_BAD_ENTRY, "entry 0 -> ELF_BAD_ENTRY");
	EH()->entry = 0x400000 + 0x1000;
	CHECK(check(IMG_LEN) == ELF_BAD_ENTRY, "entry one past the end of the text segment -> ELF_BAD_ENTRY");
	EH()->entry = 0x400000 + 0x1000 - 1;
	CHECK(check(IMG_LEN) == ELF_OK, "entry at the last byte of the text segment -> ELF_OK");
	EH()->entry = 0x400000;
	CHECK(check(IMG_LEN) == ELF_OK, "entry at the first byte of the text segment -> ELF_OK");
	EH()->entry = 0x400000 - 1;
	CHECK(check(IMG_LEN) == ELF_BAD_ENTRY, "entry one byte before the text segment -> ELF_BAD_ENTRY");
	EH()->entry = 0x400000 + 0x900;    /* in memsz, past filesz (bss of text) */
	CHECK(check(IMG_LEN) == ELF_OK, "entry in the zero-filled tail of the text segment -> ELF_OK");
	EH()->entry = 0x600010;
	CHECK(check(IMG_LEN) == ELF_BAD_ENTRY, "entry in the non-executable data segment -> ELF_BAD_ENTRY");
	EH()->entry = UINT64_MAX;
	CHECK(check(IMG_LEN) == ELF_BAD_ENTRY, "entry 2^64-1 -> ELF_BAD_ENTRY");

	{
		/* The only executable segment is empty: no entry can be inside. */
		const struct seg s[] = { { PT_LOAD, PF_R | PF_X, 0x1000, 0x400000, 0, 0 }, data };
		build(0x400000, s, 2);
		CHECK(check(IMG_LEN) == ELF_BAD_ENTRY, "entry at an empty executable segment -> ELF_BAD_ENTRY");
	}
	{
		/* Entry in the second of two executable segments. */
		const struct seg s[] = { text, { PT_LOAD, PF_X, 0x2000, 0x800000, 0x10, 0x1000 } };
		build(0x800008, s, 2);
		CHECK(check(IMG_LEN) == ELF_OK, "entry in the second executable segment -> ELF_OK");
	}
}

static void test_non_load(void)
{
	build(ENTRY, NULL, 0);
	CHECK(check(IMG_LEN) == ELF_NO_SEGMENTS, "phnum 0 -> ELF_NO_SEGMENTS");
	{
		const struct seg s[] = { { PT_NOTE, PF_R | PF_X, 0x1000, 0x400000, 0x10, 0x1000 },
		                         { PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0 } };
		build(ENTRY, s, 2);
		CHECK(check(IMG_LEN) == ELF_NO_SEGMENTS, "only PT_NOTE and PT_GNU_STACK -> ELF_NO_SEGMENTS");
	}
	{
		/* Garbage in non-LOAD headers: outside the file, in kernel space,
		 * wrapping, filesz > memsz.  All ignored. */
		const struct seg s[] = {
			{ PT_NOTE, PF_R, 0xfffffffffffffff0ULL, 0xffffffff80000000ULL, 0x1000, 0x10 },
			text,
			{ PT_GNU_STACK, PF_R | PF_W, UINT64_MAX, UINT64_MAX, UINT64_MAX, 1 },
			{ 0, 0, IMG_LEN * 4, 0, 0x100000, 0 },   /* PT_NULL */
			data,
		};
		build(ENTRY, s, 5);
		CHECK(check(IMG_LEN) == ELF_OK, "hostile non-LOAD headers are ignored -> ELF_OK");
	}
	{
		/* The entry is only inside an executable PT_NOTE: does not count. */
		const struct seg s[] = { { PT_NOTE, PF_R | PF_X, 0x1000, 0x700000, 0x10, 0x1000 }, data, text };
		build(0x700010, s, 3);
		CHECK(check(IMG_LEN) == ELF_BAD_ENTRY, "entry only inside a non-LOAD executable header -> ELF_BAD_ENTRY");
	}
}

static void test_strings(void)
{
	const int codes[] = { ELF_OK, ELF_TOO_SHORT, ELF_NOT_ELF, ELF_WRONG_KIND, ELF_BAD_PHDRS,
	                      ELF_BAD_SEGMENT, ELF_BAD_ENTRY, ELF_NO_SEGMENTS };
	enum { N = sizeof(codes) / sizeof(codes[0]) };
	const char *s[N];
	int nonempty = 1, distinct = 1;
	for (int i = 0; i < N; i++) {
		s[i] = elf_error_string(codes[i]);
		if (!s[i] || !s[i][0])
			nonempty = 0;
	}
	CHECK(nonempty, "elf_error_string: every code has a non-empty string");
	for (int i = 0; nonempty && i < N; i++)
		for (int j = i + 1; j < N; j++)
			if (strcmp(s[i], s[j]) == 0)
				distinct = 0;
	CHECK(nonempty && distinct, "elf_error_string: the %d strings are distinct", N);

	const int bad[] = { -1, ELF_NO_SEGMENTS + 1, 100, INT_MAX, INT_MIN };
	int handled = 1;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *u = elf_error_string(bad[i]);
		if (!u || !u[0])
			handled = 0;
		for (int j = 0; u && j < N; j++)
			if (s[j] && strcmp(u, s[j]) == 0)
				handled = 0;
	}
	CHECK(handled, "elf_error_string: out-of-range codes (-1, 8, 100, INT_MAX, INT_MIN) give a separate non-empty string");
}

int main(void)
{
	test_header();
	test_phdrs();
	test_segments();
	test_entry();
	test_non_load();
	test_strings();
	return unit_done();
}
