/* Host unit tests for servers/vmm/snapfile.c: a snapshot file written to
 * memory, read back, and refused whole when it is truncated, corrupt, of
 * another version or too big for the VM. */
// unit-under-test: servers/vmm/snapfile.c
#include <stdint.h>
#include <string.h>
#include "unit.h"
#include "../../servers/vmm/snapfile.h"

static uint8_t file[1 << 16];
static uint64_t file_len;
static int fail_writes_after = -1;   /* the nth write fails (-1: none) */

static long mem_write(void *ctx, uint64_t offset, const void *bytes, size_t n)
{
	(void)ctx;
	if (fail_writes_after == 0)
		return -5;
	if (fail_writes_after > 0)
		fail_writes_after--;
	if (offset + n > sizeof(file))
		return -6;
	memcpy(file + offset, bytes, n);
	if (offset + n > file_len)
		file_len = offset + n;
	return 0;
}

static long mem_read(void *ctx, uint64_t offset, void *bytes, size_t n)
{
	uint64_t size = *(uint64_t *)ctx;
	if (offset > size || n > size - offset)
		return -1;
	memcpy(bytes, file + offset, n);
	return 0;
}

static void store32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Fix the header's checksums after a test changed the file on purpose,
 * so that the check under test is the one that refuses it. */
static void reseal(uint64_t size, int sections_too)
{
	if (sections_too)
		store32(file + 36, snap_crc32(0, file + SNAP_HEADER_SIZE, size - SNAP_HEADER_SIZE));
	store32(file + 40, snap_crc32(0, file, 40));
}

static const uint8_t pages[3 * 4096] = { 1, 2, 3 };

static long write_sample(void)
{
	struct snap_writer w;
	file_len = 0;
	memset(file, 0xee, sizeof(file));
	snap_begin(&w, mem_write, 0, 3 * 4096);
	uint8_t regs[40];
	struct snap_buf b = { regs, sizeof(regs), 0, 0 };
	snap_put64(&b, 0x1122334455667788ULL);
	snap_put32(&b, 0xdeadbeef);
	snap_put16(&b, 0x55aa);
	snap_put8(&b, 7);
	snap_putn(&b, "berth", 5);
	snap_section(&w, "VCPU", 3, regs, b.at);
	snap_section_begin(&w, "RAM", 1, sizeof(pages));
	snap_put(&w, pages, 4096);
	snap_put(&w, pages + 4096, 2 * 4096);
	snap_section(&w, "EMPTY", 1, 0, 0);
	return snap_finish(&w);
}

static int check(uint64_t size, uint64_t ram_max, const char **why)
{
	struct snap_reader r;
	*why = "";
	return snap_check(&r, mem_read, &size, size, ram_max, why);
}

static int refused(uint64_t size, uint64_t ram_max, const char *want)
{
	const char *why;
	return check(size, ram_max, &why) == -1 && strstr(why, want) != 0;
}

int main(void)
{
	CHECK(snap_crc32(0, "123456789", 9) == 0xcbf43926u, "CRC-32 of 123456789 is cbf43926 (the standard check)");
	CHECK(snap_crc32(snap_crc32(0, "1234", 4), "56789", 5) == 0xcbf43926u, "CRC-32 continues across pieces");
	{ /* eight bytes at a time (whole words of 1000 bytes) against one byte a call */
		static uint8_t pattern[1000];
		uint32_t one = 0;
		for (unsigned i = 0; i < sizeof(pattern); i++)
			pattern[i] = (uint8_t)(i * 37 + (i >> 3));
		for (unsigned i = 0; i < sizeof(pattern); i++)
			one = snap_crc32(one, pattern + i, 1);
		CHECK(snap_crc32(0, pattern, sizeof(pattern)) == one && snap_crc32(0, pattern + 3, 997) ==
		      snap_crc32(snap_crc32(0, pattern + 3, 500), pattern + 503, 497),
		      "CRC-32 of 1000 bytes at once (unaligned too) equals the CRC fed a byte at a time");
	}

	CHECK(write_sample() == 0, "a file with three sections is written");
	uint64_t size = file_len;
	CHECK(size == 64 + (24 + 24) + (24 + 3 * 4096) + 24, "its size: header, sections padded to 8 (%lu)",
	      (unsigned long)size);
	CHECK(!memcmp(file, "BERTHSNP", 8), "it starts with BERTHSNP");

	struct snap_reader r;
	const char *why = "";
	uint64_t sz = size;
	CHECK(snap_check(&r, mem_read, &sz, size, 1 << 20, &why) == 0, "it checks out (%s)", why);
	CHECK(r.ram_bytes == 3 * 4096 && r.sections == 3, "guest RAM and sections from the header");
	struct snap_section_info s;
	CHECK(snap_next(&r, &s) && !strcmp(s.tag, "VCPU") && s.version == 3 && s.len == 20,
	      "first section: VCPU, version 3, 20 bytes");
	uint8_t regs[20];
	mem_read(&sz, s.offset, regs, sizeof(regs));
	struct snap_buf b = { regs, sizeof(regs), 0, 0 };
	uint64_t a = snap_get64(&b);
	uint32_t c = snap_get32(&b);
	uint16_t d = snap_get16(&b);
	uint8_t e = snap_get8(&b);
	char name[6] = { 0 };
	snap_getn(&b, name, 5);
	CHECK(a == 0x1122334455667788ULL && c == 0xdeadbeef && d == 0x55aa && e == 7 && !strcmp(name, "berth") &&
	      !b.overflow, "its fields read back little-endian");
	snap_get8(&b);
	CHECK(b.overflow, "a read past the section's end is marked, not made");
	CHECK(snap_next(&r, &s) && !strcmp(s.tag, "RAM") && s.len == sizeof(pages) && !memcmp(file + s.offset, pages, 16),
	      "second: RAM, its pages");
	CHECK(snap_next(&r, &s) && !strcmp(s.tag, "EMPTY") && s.len == 0, "third: an empty section");
	CHECK(!snap_next(&r, &s), "and no more");
	CHECK(snap_find(&r, "RAM", &s) && s.len == sizeof(pages), "snap_find finds a section by tag");
	CHECK(!snap_find(&r, "NOPE", &s), "and not one that is missing");

	/* what a reader must refuse, the VM untouched */
	CHECK(refused(size - 1, 0, "truncated"), "one byte short: truncated");
	CHECK(refused(40, 0, "too short"), "40 bytes: too short");
	CHECK(refused(size - 4096, 0, "truncated"), "a page short: truncated");
	file[size] = 0;
	CHECK(refused(size + 8, 0, "longer"), "bytes appended: refused");
	CHECK(refused(size, 8192, "more than this VM"), "more guest RAM than the VM may have: refused");

	file[64 + 24 + 3] ^= 1;
	CHECK(refused(size, 0, "checksum"), "a bit flipped in a section: corrupt");
	file[64 + 24 + 3] ^= 1;
	file[64 + 48 + 24 + 5000] ^= 0x80;
	CHECK(refused(size, 0, "checksum"), "a bit flipped in the RAM: corrupt");
	file[64 + 48 + 24 + 5000] ^= 0x80;
	CHECK(check(size, 0, &why) == 0, "flipped back: fine again");

	file[24] ^= 1;
	CHECK(refused(size, 0, "header is corrupt"), "a bit flipped in the header: corrupt");
	file[24] ^= 1;
	file[0] = 'X';
	CHECK(refused(size, 0, "not a Berth snapshot"), "another magic: not a snapshot");
	file[0] = 'B';

	store32(file + 8, SNAP_VERSION + 1);
	reseal(size, 0);
	CHECK(refused(size, 0, "newer format"), "a newer version: refused by name");
	store32(file + 8, 0);
	reseal(size, 0);
	CHECK(refused(size, 0, "older format"), "an older version: refused by name");
	store32(file + 8, SNAP_VERSION);
	reseal(size, 0);

	/* a section whose length runs past the end, sums fixed up */
	uint8_t saved[8];
	memcpy(saved, file + 64 + 48 + 16, 8);
	memset(file + 64 + 48 + 16, 0xff, 8);
	reseal(size, 1);
	CHECK(refused(size, 0, "longer than the file"), "a section length of 2^64-1: refused");
	memcpy(file + 64 + 48 + 16, saved, 8);
	store32(file + 32, 4);
	reseal(size, 1);
	CHECK(refused(size, 0, "missing"), "one section more than there are: refused");
	store32(file + 32, 2);
	reseal(size, 1);
	CHECK(refused(size, 0, "after the last"), "one section fewer: bytes left over, refused");
	store32(file + 32, 3);
	reseal(size, 1);
	store32(file + 24, 4097);
	reseal(size, 0);
	CHECK(refused(size, 0, "whole number of pages"), "a RAM size that is not whole pages: refused");
	store32(file + 24, 3 * 4096);
	reseal(size, 0);
	CHECK(check(size, 0, &why) == 0, "restored: fine again (%s)", why);

	/* the writer's own mistakes and errors */
	struct snap_writer w;
	file_len = 0;
	snap_begin(&w, mem_write, 0, 4096);
	snap_section_begin(&w, "SHORT", 1, 16);
	snap_put(&w, pages, 8);
	CHECK(snap_finish(&w) != 0, "a section given fewer bytes than declared is an error");
	snap_begin(&w, mem_write, 0, 4096);
	snap_section_begin(&w, "LONG", 1, 4);
	snap_put(&w, pages, 8);
	CHECK(snap_finish(&w) != 0, "and more bytes than declared too");
	fail_writes_after = 1;
	CHECK(write_sample() == -5, "a failed write is reported by snap_finish");
	fail_writes_after = -1;
	uint8_t small[4];
	struct snap_buf sb = { small, sizeof(small), 0, 0 };
	snap_put32(&sb, 1);
	snap_put8(&sb, 2);
	CHECK(sb.overflow && sb.at == 4, "a put past a field buffer is marked and not made");
	return unit_done();
}
