/* A snapshot file: the container that holds a VM's state (docs/lifecycle.md).
 *
 *   header (64 bytes, little-endian)
 *     0  "BERTHSNP"
 *     8  u32 format version (SNAP_VERSION)
 *    12  u32 header size (64)
 *    16  u64 file size
 *    24  u64 guest RAM, bytes
 *    32  u32 sections
 *    36  u32 CRC-32 of bytes 64..file size (the sections)
 *    40  u32 CRC-32 of header bytes 0..39
 *    44  20 bytes of zero
 *   sections, one after another, each 8-byte aligned
 *     0  tag, 8 bytes ("UART", zero-padded)
 *     8  u32 the section's own version
 *    12  u32 zero
 *    16  u64 data length
 *    24  data, then zeros up to a multiple of 8
 *
 * Pure code: the bytes go through callbacks, so the VMM streams a file
 * on the fs server and the host unit test (tests/unit/test_snapfile.c)
 * uses memory.  A reader checks the whole file (sizes, version, both
 * checksums, every section's length) before anyone applies a byte of it:
 * a truncated or corrupt file is refused and the running VM untouched. */
#ifndef VMM_SNAPFILE_H
#define VMM_SNAPFILE_H

#include <stddef.h>
#include <stdint.h>

#define SNAP_VERSION 1
#define SNAP_HEADER_SIZE 64
#define SNAP_SECTION_HEADER 24
#define SNAP_TAG_LEN 8

/* Write n bytes at offset; 0 or a negative error. */
typedef long (*snap_write_fn)(void *ctx, uint64_t offset, const void *bytes, size_t n);
/* Read n bytes at offset; 0 or a negative error (reading past the end is one). */
typedef long (*snap_read_fn)(void *ctx, uint64_t offset, void *bytes, size_t n);

uint32_t snap_crc32(uint32_t crc, const void *bytes, size_t n);   /* start with 0 */

struct snap_writer {
	snap_write_fn write;
	void *ctx;
	uint64_t offset;            /* where the next byte goes */
	uint64_t ram_bytes;
	uint32_t crc, sections;
	uint64_t section_left;      /* bytes of the open section still to come */
	unsigned section_pad;
	long error;                 /* the first error; everything after is skipped */
};

/* Start a file: the header's place is kept (written by snap_finish). */
void snap_begin(struct snap_writer *w, snap_write_fn write, void *ctx, uint64_t ram_bytes);
/* Open a section of exactly len bytes, given by snap_put calls. */
void snap_section_begin(struct snap_writer *w, const char *tag, uint32_t version, uint64_t len);
void snap_put(struct snap_writer *w, const void *bytes, size_t n);
/* A whole small section at once. */
void snap_section(struct snap_writer *w, const char *tag, uint32_t version, const void *bytes, size_t n);
/* Write the header; 0, or the first error (E_BAD_ARG if a section got
 * more or fewer bytes than it declared). */
long snap_finish(struct snap_writer *w);

struct snap_reader {
	snap_read_fn read;
	void *ctx;
	uint64_t size, ram_bytes;
	uint32_t sections;
	uint64_t next;              /* the next section header's offset */
	uint32_t seen;
};

struct snap_section_info {
	char tag[SNAP_TAG_LEN + 1];
	uint32_t version;
	uint64_t offset, len;       /* of its data in the file */
};

/* Check the file of size bytes: 0, or -1 with *why saying what is wrong
 * in words (truncated, not a snapshot, another version, corrupt, ...).
 * ram_max: the most guest RAM this VMM could give it (0: no limit). */
int snap_check(struct snap_reader *r, snap_read_fn read, void *ctx, uint64_t size, uint64_t ram_max,
               const char **why);
/* After snap_check: the next section (1), or 0 after the last. */
int snap_next(struct snap_reader *r, struct snap_section_info *s);
/* The section called tag (1), or 0. */
int snap_find(struct snap_reader *r, const char *tag, struct snap_section_info *s);

/* Little-endian field packing for sections: a cursor over a buffer. */
struct snap_buf {
	uint8_t *p;
	size_t len, at;
	int overflow;               /* a put or get went past len */
};
void snap_put8(struct snap_buf *b, uint8_t v);
void snap_put16(struct snap_buf *b, uint16_t v);
void snap_put32(struct snap_buf *b, uint32_t v);
void snap_put64(struct snap_buf *b, uint64_t v);
void snap_putn(struct snap_buf *b, const void *bytes, size_t n);
uint8_t snap_get8(struct snap_buf *b);
uint16_t snap_get16(struct snap_buf *b);
uint32_t snap_get32(struct snap_buf *b);
uint64_t snap_get64(struct snap_buf *b);
void snap_getn(struct snap_buf *b, void *bytes, size_t n);

#endif
