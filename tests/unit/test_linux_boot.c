/* Host unit tests for servers/vmm/linux_boot.c: the bzImage checks, the
 * guest memory layout and the zero page of the Linux 64-bit boot
 * protocol.
 *
 * The synthetic images are built field by field at the offsets of
 * boot.rst's setup-header table, with values like those of Debian's
 * 6.1 kernel.  When set-up has downloaded that kernel into cache/
 * (make guest-images), the last tests parse it too; without it they
 * are reported as skipped, never as failed. */
// unit-under-test: servers/vmm/linux_boot.c
#include <glob.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "../../servers/vmm/linux_boot.h"

#define MiB (1024ULL * 1024)

/* --- synthetic images ---------------------------------------------- */

#define IMG_SETUP_SECTS 7
#define IMG_SETUP_BYTES ((IMG_SETUP_SECTS + 1) * 512)
#define IMG_SYSSIZE     0x4000            /* bytes of protected-mode kernel */
#define IMG_LEN         (IMG_SETUP_BYTES + IMG_SYSSIZE)
#define IMG_PREF        (16 * MiB)
#define IMG_INIT_SIZE   (32 * MiB)
#define IMG_CMDLINE_MAX 2047

static uint8_t img[IMG_LEN];

static void put8(size_t off, uint8_t v) { img[off] = v; }
static void put16(size_t off, uint16_t v) { memcpy(img + off, &v, 2); }
static void put32(size_t off, uint32_t v) { memcpy(img + off, &v, 4); }
static void put64(size_t off, uint64_t v) { memcpy(img + off, &v, 8); }
static uint16_t get16(const uint8_t *p, size_t off) { uint16_t v; memcpy(&v, p + off, 2); return v; }
static uint32_t get32(const uint8_t *p, size_t off) { uint32_t v; memcpy(&v, p + off, 4); return v; }
static uint64_t get64(const uint8_t *p, size_t off) { uint64_t v; memcpy(&v, p + off, 8); return v; }

/* A well-formed protocol 2.15 bzImage with a 64-bit entry. */
static void make_image(void)
{
	memset(img, 0x5a, sizeof(img));   /* not zero: a copy that reads too far shows */
	put8(0x1f1, IMG_SETUP_SECTS);
	put32(0x1f4, IMG_SYSSIZE / 16);
	put16(0x1fe, 0xaa55);
	put8(0x200, 0xeb);                /* jmp short */
	put8(0x201, 0x6a);                /* the header ends at 0x202 + 0x6a = 0x26c */
	put32(0x202, 0x53726448);         /* "HdrS" */
	put16(0x206, 0x020f);
	put8(0x210, 0);                   /* type_of_loader */
	put8(0x211, 0x01);                /* loadflags: LOADED_HIGH */
	put32(0x218, 0);                  /* ramdisk_image */
	put32(0x21c, 0);                  /* ramdisk_size */
	put16(0x224, 0);                  /* heap_end_ptr */
	put32(0x228, 0);                  /* cmd_line_ptr */
	put32(0x22c, 0x7fffffff);         /* initrd_addr_max */
	put32(0x230, 2 * MiB);            /* kernel_alignment */
	put8(0x234, 1);                   /* relocatable_kernel */
	put8(0x235, 21);                  /* min_alignment */
	put16(0x236, 0x7f);               /* xloadflags: XLF_KERNEL_64 and more */
	put32(0x238, IMG_CMDLINE_MAX);
	put32(0x248, 0x2cc);              /* payload_offset */
	put32(0x24c, 0x3000);             /* payload_length */
	put64(0x250, 0);                  /* setup_data */
	put64(0x258, IMG_PREF);
	put32(0x260, IMG_INIT_SIZE);
	/* the zero page's room after the header: must not be copied */
	memset(img + 0x26c, 0xee, 0x290 - 0x26c);
}

static int parse(size_t len, struct linux_kernel *k, char *error)
{
	error[0] = 0;
	return linux_parse(img, len, k, error);
}

/* One line, not empty, and mentions what it should. */
static int good_message(const char *error, const char *needle)
{
	return error[0] && !strchr(error, '\n') && strlen(error) < LINUX_ERROR_MAX - 1 &&
		strstr(error, needle);
}

/* Each error path: the image is remade, one thing is changed, the code
 * and the message are checked. */
static void test_parse_errors(void)
{
	struct linux_kernel k;
	char e[LINUX_ERROR_MAX];
	int r;

	make_image();
	r = parse(IMG_LEN, &k, e);
	CHECK(r == LINUX_OK, "a well-formed image parses (%s)", r ? e : "ok");

	r = parse(100, &k, e);
	CHECK(r == LINUX_NOT_LINUX && good_message(e, "not a Linux kernel"),
	      "a 100-byte file is not a Linux kernel: %s", e);
	r = parse(0, &k, e);
	CHECK(r == LINUX_NOT_LINUX, "an empty file is not a Linux kernel");

	make_image();
	put16(0x1fe, 0x1234);
	r = parse(IMG_LEN, &k, e);
	CHECK(r == LINUX_NOT_LINUX && good_message(e, "0xAA55"), "no boot flag: %s", e);

	make_image();
	put32(0x202, 0x7f454c46);   /* an ELF file's first bytes, say */
	r = parse(IMG_LEN, &k, e);
	CHECK(r == LINUX_NOT_LINUX && good_message(e, "HdrS"), "no HdrS: %s", e);

	make_image();
	r = parse(0x207, &k, e);
	CHECK(r == LINUX_TRUNCATED && good_message(e, "truncated"),
	      "cut inside the version field: %s", e);
	r = parse(IMG_SETUP_BYTES - 1, &k, e);
	CHECK(r == LINUX_TRUNCATED && good_message(e, "truncated"),
	      "cut inside the setup code: %s", e);
	r = parse(IMG_LEN - 1, &k, e);
	CHECK(r == LINUX_TRUNCATED && good_message(e, "truncated"),
	      "one byte short of syssize: %s", e);

	make_image();
	put16(0x206, 0x020b);
	r = parse(IMG_LEN, &k, e);
	CHECK(r == LINUX_TOO_OLD && good_message(e, "2.11"), "protocol 2.11: %s", e);
	put16(0x206, 0x0204);
	r = parse(IMG_LEN, &k, e);
	CHECK(r == LINUX_TOO_OLD && good_message(e, "2.04"), "protocol 2.04: %s", e);

	make_image();
	put16(0x236, 0x7e);
	r = parse(IMG_LEN, &k, e);
	CHECK(r == LINUX_NO_64BIT && good_message(e, "64-bit"), "no XLF_KERNEL_64: %s", e);

	make_image();
	put8(0x201, 0x50);          /* header ends at 0x252, before pref_address */
	r = parse(IMG_LEN, &k, e);
	CHECK(r == LINUX_BAD_HEADER && good_message(e, "ends at 0x252"), "short header: %s", e);
	put8(0x201, 0x90);          /* 0x292: past the zero page's room */
	r = parse(IMG_LEN, &k, e);
	CHECK(r == LINUX_BAD_HEADER && good_message(e, "ends at 0x292"), "long header: %s", e);

	make_image();
	put32(0x1f4, 0);
	r = parse(IMG_LEN, &k, e);
	CHECK(r == LINUX_BAD_HEADER && good_message(e, "syssize"), "syssize 0: %s", e);

	make_image();
	put32(0x230, 3 * MiB);
	r = parse(IMG_LEN, &k, e);
	CHECK(r == LINUX_BAD_HEADER && good_message(e, "kernel_alignment"),
	      "alignment not a power of two: %s", e);
	make_image();
	put64(0x258, IMG_PREF + 4096);
	r = parse(IMG_LEN, &k, e);
	CHECK(r == LINUX_BAD_HEADER && good_message(e, "pref_address"),
	      "pref_address not aligned: %s", e);
	make_image();
	put64(0x258, 0x80000);
	put32(0x230, 0x80000);
	r = parse(IMG_LEN, &k, e);
	CHECK(r == LINUX_BAD_HEADER && good_message(e, "1 MiB"), "pref_address below 1 MiB: %s", e);
	make_image();
	put8(0x211, 0);
	r = parse(IMG_LEN, &k, e);
	CHECK(r == LINUX_BAD_HEADER && good_message(e, "bzImage"), "LOADED_HIGH clear: %s", e);

	make_image();
	put32(0x260, IMG_SYSSIZE - 16);
	r = parse(IMG_LEN, &k, e);
	CHECK(r == LINUX_BAD_HEADER && good_message(e, "init_size"),
	      "init_size smaller than the kernel: %s", e);

	make_image();
	put32(0x24c, IMG_SYSSIZE);
	r = parse(IMG_LEN, &k, e);
	CHECK(r == LINUX_BAD_HEADER && good_message(e, "payload"),
	      "payload past the kernel: %s", e);
	put32(0x248, 0xffffffff);   /* offset + length would wrap in 32 bits */
	put32(0x24c, 0x10);
	r = parse(IMG_LEN, &k, e);
	CHECK(r == LINUX_BAD_HEADER, "payload offset that wraps: %s", e);
}

static void test_parse_fields(void)
{
	struct linux_kernel k;
	char e[LINUX_ERROR_MAX];

	make_image();
	CHECK(parse(IMG_LEN, &k, e) == LINUX_OK &&
	      k.version == 0x020f && k.setup_bytes == IMG_SETUP_BYTES &&
	      k.kernel_bytes == IMG_SYSSIZE && k.header_end == 0x26c &&
	      k.pref_address == IMG_PREF && k.init_size == IMG_INIT_SIZE &&
	      k.kernel_alignment == 2 * MiB && k.relocatable == 1 &&
	      k.initrd_addr_max == 0x7fffffff && k.cmdline_max == IMG_CMDLINE_MAX &&
	      (k.xloadflags & 1),
	      "the fields of a well-formed image");

	/* setup_sects 0 means 4 (boot.rst): the kernel starts at 5 * 512 */
	make_image();
	put8(0x1f1, 0);
	CHECK(parse(IMG_LEN, &k, e) == LINUX_OK && k.setup_bytes == 5 * 512 &&
	      k.kernel_bytes == IMG_LEN - 5 * 512,
	      "setup_sects 0 is read as 4");

	/* bytes after syssize (a signature, say) are part of what is loaded */
	make_image();
	put32(0x1f4, (IMG_SYSSIZE - 512) / 16);
	CHECK(parse(IMG_LEN, &k, e) == LINUX_OK && k.kernel_bytes == IMG_SYSSIZE,
	      "bytes after syssize are loaded too");
}

static void test_place(void)
{
	struct linux_kernel k;
	struct linux_layout l;
	char e[LINUX_ERROR_MAX];
	int r;

	make_image();
	parse(IMG_LEN, &k, e);

	r = linux_place(&k, 64 * MiB, 0, 20, &l, e);
	CHECK(r == LINUX_OK && l.kernel_gpa == IMG_PREF && l.entry_gpa == IMG_PREF + 0x200 &&
	      l.kernel_end == IMG_PREF + IMG_INIT_SIZE && l.initrd_gpa == 0 &&
	      l.initrd_bytes == 0 && l.zero_page_gpa == LINUX_ZERO_PAGE_GPA &&
	      l.cmdline_gpa == LINUX_CMDLINE_GPA && l.tables_gpa == 64 * MiB - LINUX_TABLES_BYTES,
	      "kernel without initrd in 64 MiB: at pref_address, entry at +0x200 (%s)",
	      r ? e : "ok");

	/* 16 + 32 MiB of kernel and 64 KiB of tables need 49 MiB */
	r = linux_place(&k, 48 * MiB, 0, 0, &l, e);
	CHECK(r == LINUX_KERNEL_TOO_BIG && good_message(e, "does not fit in 48 MiB") &&
	      strstr(e, "49 MiB"), "kernel does not fit in 48 MiB: %s", e);
	r = linux_place(&k, IMG_PREF + IMG_INIT_SIZE + LINUX_TABLES_BYTES, 0, 0, &l, e);
	CHECK(r == LINUX_OK, "the kernel fits to the byte");

	r = linux_place(&k, 1 * MiB, 0, 0, &l, e);
	CHECK(r == LINUX_BAD_MEMORY && good_message(e, "guest memory"), "1 MiB of memory: %s", e);
	r = linux_place(&k, 4096 * MiB, 0, 0, &l, e);
	CHECK(r == LINUX_BAD_MEMORY, "4 GiB of memory is refused (the MMIO hole)");
	r = linux_place(&k, 64 * MiB + 1, 0, 0, &l, e);
	CHECK(r == LINUX_BAD_MEMORY, "memory that is not whole pages is refused");

	/* the initrd goes as high as it may, page aligned, clear of the kernel */
	r = linux_place(&k, 128 * MiB, 5000, 0, &l, e);
	CHECK(r == LINUX_OK && l.initrd_gpa % 4096 == 0 && l.initrd_bytes == 5000 &&
	      l.initrd_gpa + 5000 <= 128 * MiB - LINUX_TABLES_BYTES &&
	      l.initrd_gpa + 5000 + 4096 > 128 * MiB - LINUX_TABLES_BYTES &&
	      l.initrd_gpa >= l.kernel_end,
	      "initrd placed high below the tables: 0x%llx", (unsigned long long)l.initrd_gpa);

	/* initrd_addr_max below the top of RAM limits it */
	make_image();
	put32(0x22c, 0x37ffffff);
	parse(IMG_LEN, &k, e);
	r = linux_place(&k, 2048 * MiB, 3 * MiB, 0, &l, e);
	CHECK(r == LINUX_OK && l.initrd_gpa == 0x38000000 - 3 * MiB,
	      "initrd ends at initrd_addr_max + 1: 0x%llx", (unsigned long long)l.initrd_gpa);

	/* and one that only fits without the kernel's init_size does not fit */
	make_image();
	parse(IMG_LEN, &k, e);
	r = linux_place(&k, 64 * MiB, 16 * MiB, 0, &l, e);
	CHECK(r == LINUX_INITRD_TOO_BIG && good_message(e, "initrd of 16384 KiB does not fit"),
	      "initrd does not fit: %s", e);
	r = linux_place(&k, 64 * MiB, 64 * MiB - IMG_PREF - IMG_INIT_SIZE - LINUX_TABLES_BYTES,
			0, &l, e);
	CHECK(r == LINUX_OK && l.initrd_gpa == l.kernel_end, "an initrd that fills the gap exactly");
	r = linux_place(&k, 64 * MiB, ~0ULL, 0, &l, e);
	CHECK(r == LINUX_INITRD_TOO_BIG, "an initrd of 2^64-1 bytes does not wrap around");

	/* the command line: the kernel's cmdline_size, without the NUL */
	r = linux_place(&k, 64 * MiB, 0, IMG_CMDLINE_MAX, &l, e);
	CHECK(r == LINUX_OK, "a command line of exactly cmdline_size");
	r = linux_place(&k, 64 * MiB, 0, IMG_CMDLINE_MAX + 1, &l, e);
	CHECK(r == LINUX_CMDLINE_TOO_LONG && good_message(e, "2048 bytes, at most 2047"),
	      "one byte more is too long: %s", e);
	make_image();
	put32(0x238, 1 << 20);      /* the kernel would take more than our page holds */
	parse(IMG_LEN, &k, e);
	r = linux_place(&k, 64 * MiB, 0, LINUX_CMDLINE_AREA, &l, e);
	CHECK(r == LINUX_CMDLINE_TOO_LONG && good_message(e, "at most 4095"),
	      "the command line page bounds a large cmdline_size: %s", e);
}

static void test_zero_page(void)
{
	struct linux_kernel k;
	struct linux_layout l;
	char e[LINUX_ERROR_MAX];
	static uint8_t zp[LINUX_ZERO_PAGE_BYTES];

	make_image();
	parse(IMG_LEN, &k, e);
	linux_place(&k, 128 * MiB, 5000, 10, &l, e);
	memset(zp, 0xcc, sizeof(zp));
	linux_zero_page(img, &k, &l, zp);

	int zero_before = 1, zero_after = 1;
	for (size_t i = 0; i < 0x1f1; i++)
		zero_before &= zp[i] == 0 || i == 0x1e8;   /* e820_entries */
	for (size_t i = 0x26c; i < 0x2d0; i++)
		zero_after &= zp[i] == 0;
	CHECK(zero_before && zp[0x1ef] == 0, "zeros before the header, the sentinel among them");
	CHECK(zero_after, "only the header's own bytes are copied (header_end 0x26c)");

	/* the header as the image has it, except the loader's fields */
	int same = 1;
	for (size_t i = 0x1f1; i < 0x26c; i++) {
		int ours = (i == 0x210 || i == 0x211 || (i >= 0x218 && i < 0x220) ||
			    (i >= 0x224 && i < 0x226) || (i >= 0x228 && i < 0x22c));
		if (!ours)
			same &= zp[i] == img[i];
	}
	CHECK(same, "the setup header is copied from the image");
	CHECK(zp[0x210] == 0xff, "type_of_loader is 0xff (undefined)");
	CHECK(zp[0x211] == (0x01 | 0x80), "loadflags keep LOADED_HIGH and gain CAN_USE_HEAP");
	CHECK(get16(zp, 0x224) != 0, "heap_end_ptr set");
	CHECK(get32(zp, 0x228) == LINUX_CMDLINE_GPA && get32(zp, 0xc8) == 0, "cmd_line_ptr");
	CHECK(get32(zp, 0x218) == l.initrd_gpa && get32(zp, 0x21c) == 5000 &&
	      get32(zp, 0xc0) == 0 && get32(zp, 0xc4) == 0, "ramdisk_image and ramdisk_size");

	struct { uint64_t addr, size; uint32_t type; } want[] = {
		{ 0, 0xa0000, E820_RAM },
		{ 0xa0000, 0x60000, E820_RESERVED },
		{ 0x100000, 128 * MiB - LINUX_TABLES_BYTES - 0x100000, E820_RAM },
		{ 128 * MiB - LINUX_TABLES_BYTES, LINUX_TABLES_BYTES, E820_RESERVED },
	};
	CHECK(zp[0x1e8] == 4, "four E820 entries");
	for (size_t i = 0; i < 4; i++) {
		size_t off = 0x2d0 + 20 * i;
		CHECK(get64(zp, off) == want[i].addr && get64(zp, off + 8) == want[i].size &&
		      get32(zp, off + 16) == want[i].type,
		      "E820 entry %zu: 0x%llx + 0x%llx type %u", i,
		      (unsigned long long)get64(zp, off), (unsigned long long)get64(zp, off + 8),
		      get32(zp, off + 16));
	}
	int zero_rest = 1;
	for (size_t i = 0x2d0 + 20 * 4; i < sizeof(zp); i++)
		zero_rest &= zp[i] == 0;
	CHECK(zero_rest, "the rest of the zero page is zero");

	/* without an initrd the ramdisk fields are zero */
	linux_place(&k, 128 * MiB, 0, 10, &l, e);
	linux_zero_page(img, &k, &l, zp);
	CHECK(get32(zp, 0x218) == 0 && get32(zp, 0x21c) == 0, "no initrd: ramdisk fields 0");
}

/* --- Debian's kernel, when set-up has fetched it --------------------- */

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc(n)) && fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	*len = buf ? (size_t)n : 0;
	fclose(f);
	return buf;
}

static void test_debian_kernel(void)
{
	const char *pattern = "cache/linux/linux-image-*/boot/vmlinuz-*";
	glob_t g;
	size_t len;
	uint8_t *image = NULL;

	if (glob(pattern, 0, NULL, &g) == 0)
		image = read_file(g.gl_pathv[g.gl_pathc - 1], &len);
	if (!image) {
		printf("ok %d - Debian's bzImage # SKIP no readable %s (make guest-images)\n",
		       ++unit_count, pattern);
		if (glob(pattern, 0, NULL, &g) == 0)
			globfree(&g);
		return;
	}
	printf("# %s, %zu bytes\n", g.gl_pathv[g.gl_pathc - 1], len);
	globfree(&g);

	struct linux_kernel k;
	struct linux_layout l;
	char e[LINUX_ERROR_MAX] = "";
	int r = linux_parse(image, len, &k, e);

	CHECK(r == LINUX_OK, "Debian's bzImage parses (%s)", r ? e : "ok");
	printf("# protocol %x, setup %u, kernel %u bytes, pref 0x%llx, init_size 0x%x, align 0x%x\n",
	       k.version, k.setup_bytes, k.kernel_bytes, (unsigned long long)k.pref_address,
	       k.init_size, k.kernel_alignment);
	CHECK(k.version >= 0x020c && (k.xloadflags & 1) && k.relocatable,
	      "protocol 2.12 or later, 64-bit entry, relocatable");
	CHECK(k.kernel_alignment >= 2 * MiB && k.pref_address >= MiB &&
	      k.pref_address % k.kernel_alignment == 0,
	      "2 MiB or coarser alignment, pref_address aligned");
	CHECK(k.init_size > k.kernel_bytes && k.kernel_bytes > 1 * MiB && k.cmdline_max >= 255,
	      "init_size beyond the kernel, a kernel of megabytes, a usable command line");
	/* the kernel version string the header points to (kernel_version + 0x200) */
	uint16_t kv = get16(image, 0x20e) + 0x200;
	CHECK(kv < len - 8 && image[kv] >= '2' && image[kv] <= '9' && image[kv + 1] == '.',
	      "kernel_version points at a version string: %.30s", kv < len - 30 ? (char *)image + kv : "");

	r = linux_place(&k, 256 * MiB, 4 * MiB, 40, &l, e);
	CHECK(r == LINUX_OK && l.initrd_gpa >= l.kernel_end,
	      "fits in 256 MiB with a 4 MiB initrd (%s)", r ? e : "ok");
	if (r == LINUX_OK) {
		static uint8_t zp[LINUX_ZERO_PAGE_BYTES];

		linux_zero_page(image, &k, &l, zp);
		CHECK(memcmp(zp + 0x202, "HdrS", 4) == 0 && zp[0x210] == 0xff,
		      "its zero page carries HdrS and our loader type");
	}
	r = linux_place(&k, 32 * MiB, 0, 0, &l, e);
	CHECK(r == LINUX_KERNEL_TOO_BIG, "does not fit in 32 MiB: %s", e);

	r = linux_parse(image, len / 2, &k, e);
	CHECK(r == LINUX_TRUNCATED, "its first half is a truncated kernel: %s", e);
	free(image);
}

int main(void)
{
	test_parse_errors();
	test_parse_fields();
	test_place();
	test_zero_page();
	test_debian_kernel();
	return unit_done();
}
