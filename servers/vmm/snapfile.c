/* The snapshot file's container: header, sections, checksums (snapfile.h). */
#include <string.h>
#include <berth/errors.h>
#include "snapfile.h"

static const char magic[8] = { 'B', 'E', 'R', 'T', 'H', 'S', 'N', 'P' };
static const uint8_t zeros[8];

/* CRC-32 (IEEE 802.3, reflected, as zlib and cksum -a crc32b compute it),
 * eight bytes at a time ("slicing by 8": table[k][b] is the CRC of byte b
 * followed by k zero bytes, so the eight lookups of a word are
 * independent) from tables made on first use.  Byte by byte it cost a
 * snapshot of 68 MiB about 8 instructions a byte. */
uint32_t snap_crc32(uint32_t crc, const void *bytes, size_t n)
{
	static uint32_t table[8][256];
	static int made;
	if (!made) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[0][i] = c;
		}
		for (uint32_t i = 0; i < 256; i++)
			for (int t = 1; t < 8; t++)
				table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
		made = 1;
	}
	const uint8_t *p = bytes;
	crc = ~crc;
	for (; n >= 8; n -= 8, p += 8) {
		uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
		crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^
		      table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^ table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
	}
	while (n--)
		crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void le_store(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t le_load(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* --- writing --------------------------------------------------------- */

static void emit(struct snap_writer *w, const void *bytes, size_t n)
{
	if (w->error || !n)
		return;
	long err = w->write(w->ctx, w->offset, bytes, n);
	if (err) {
		w->error = err;
		return;
	}
	w->crc = snap_crc32(w->crc, bytes, n);
	w->offset += n;
}

void snap_begin(struct snap_writer *w, snap_write_fn write, void *ctx, uint64_t ram_bytes)
{
	memset(w, 0, sizeof(*w));
	w->write = write;
	w->ctx = ctx;
	w->ram_bytes = ram_bytes;
	w->offset = SNAP_HEADER_SIZE;   /* the header comes last, when the sums are known */
}

static void close_section(struct snap_writer *w)
{
	if (w->section_left && !w->error)
		w->error = E_BAD_ARG;       /* fewer bytes than declared */
	emit(w, zeros, w->section_pad);
	w->section_pad = 0;
	w->section_left = 0;
}

void snap_section_begin(struct snap_writer *w, const char *tag, uint32_t version, uint64_t len)
{
	close_section(w);
	uint8_t h[SNAP_SECTION_HEADER] = { 0 };
	size_t t = strlen(tag);
	memcpy(h, tag, t < SNAP_TAG_LEN ? t : SNAP_TAG_LEN);
	le_store(h + 8, version, 4);
	le_store(h + 16, len, 8);
	emit(w, h, sizeof(h));
	w->section_left = len;
	w->section_pad = (unsigned)((8 - len % 8) % 8);
	w->sections++;
}

void snap_put(struct snap_writer *w, const void *bytes, size_t n)
{
	if (n > w->section_left) {
		if (!w->error)
			w->error = E_BAD_ARG;   /* more bytes than declared */
		return;
	}
	emit(w, bytes, n);
	w->section_left -= n;
}

void snap_section(struct snap_writer *w, const char *tag, uint32_t version, const void *bytes, size_t n)
{
	snap_section_begin(w, tag, version, n);
	snap_put(w, bytes, n);
}

long snap_finish(struct snap_writer *w)
{
	close_section(w);
	if (w->error)
		return w->error;
	uint8_t h[SNAP_HEADER_SIZE] = { 0 };
	memcpy(h, magic, sizeof(magic));
	le_store(h + 8, SNAP_VERSION, 4);
	le_store(h + 12, SNAP_HEADER_SIZE, 4);
	le_store(h + 16, w->offset, 8);
	le_store(h + 24, w->ram_bytes, 8);
	le_store(h + 32, w->sections, 4);
	le_store(h + 36, w->crc, 4);
	le_store(h + 40, snap_crc32(0, h, 40), 4);
	return w->write(w->ctx, 0, h, sizeof(h));
}

/* --- reading --------------------------------------------------------- */

int snap_check(struct snap_reader *r, snap_read_fn read, void *ctx, uint64_t size, uint64_t ram_max,
               const char **why)
{
	memset(r, 0, sizeof(*r));
	r->read = read;
	r->ctx = ctx;
	uint8_t h[SNAP_HEADER_SIZE];
	if (size < SNAP_HEADER_SIZE || read(ctx, 0, h, sizeof(h))) {
		*why = "too short to be a snapshot (truncated?)";
		return -1;
	}
	if (memcmp(h, magic, sizeof(magic))) {
		*why = "not a Berth snapshot (its first bytes are not BERTHSNP)";
		return -1;
	}
	if (le_load(h + 40, 4) != snap_crc32(0, h, 40)) {
		*why = "its header is corrupt (checksum)";
		return -1;
	}
	if (le_load(h + 8, 4) != SNAP_VERSION) {
		*why = le_load(h + 8, 4) > SNAP_VERSION ? "a newer format version than this VMM reads"
		                                       : "an older format version this VMM no longer reads";
		return -1;
	}
	for (unsigned i = 44; i < SNAP_HEADER_SIZE; i++)
		if (h[i]) {
			*why = "its header's reserved bytes are not zero";
			return -1;
		}
	uint64_t declared = le_load(h + 16, 8);
	if (le_load(h + 12, 4) != SNAP_HEADER_SIZE) {
		*why = "its header has the wrong size";
		return -1;
	}
	if (declared > size) {
		*why = "truncated: shorter than its header says";
		return -1;
	}
	if (declared < size) {
		*why = "longer than its header says (bytes appended?)";
		return -1;
	}
	r->size = size;
	r->ram_bytes = le_load(h + 24, 8);
	r->sections = (uint32_t)le_load(h + 32, 4);
	if (!r->ram_bytes || r->ram_bytes % 4096) {
		*why = "its guest RAM size is not a whole number of pages";
		return -1;
	}
	if (ram_max && r->ram_bytes > ram_max) {
		*why = "its guest RAM is more than this VM may have";
		return -1;
	}
	/* every section's frame, and the checksum of all of them */
	uint32_t crc = 0;
	uint64_t at = SNAP_HEADER_SIZE;
	static uint8_t chunk[4096];
	for (uint32_t s = 0; s < r->sections; s++) {
		uint8_t sh[SNAP_SECTION_HEADER];
		if (size - at < SNAP_SECTION_HEADER || read(ctx, at, sh, sizeof(sh))) {
			*why = "truncated: a section is missing";
			return -1;
		}
		uint64_t len = le_load(sh + 16, 8);
		if (le_load(sh + 12, 4) || !sh[0]) {
			*why = "a section's header is malformed";
			return -1;
		}
		uint64_t room = size - at - SNAP_SECTION_HEADER;
		if (len > room || (len + 7) / 8 * 8 > room) {
			*why = "a section is longer than the file (truncated?)";
			return -1;
		}
		crc = snap_crc32(crc, sh, sizeof(sh));
		at += SNAP_SECTION_HEADER;
		for (uint64_t left = (len + 7) / 8 * 8; left;) {
			size_t n = left < sizeof(chunk) ? (size_t)left : sizeof(chunk);
			if (read(ctx, at, chunk, n)) {
				*why = "a read of the file failed";
				return -1;
			}
			crc = snap_crc32(crc, chunk, n);
			at += n;
			left -= n;
		}
	}
	if (at != size) {
		*why = "bytes after the last section";
		return -1;
	}
	if (crc != le_load(h + 36, 4)) {
		*why = "corrupt: its checksum does not match its contents";
		return -1;
	}
	r->next = SNAP_HEADER_SIZE;
	return 0;
}

int snap_next(struct snap_reader *r, struct snap_section_info *s)
{
	if (r->seen == r->sections)
		return 0;
	uint8_t sh[SNAP_SECTION_HEADER];
	if (r->read(r->ctx, r->next, sh, sizeof(sh)))
		return 0;
	memset(s, 0, sizeof(*s));
	memcpy(s->tag, sh, SNAP_TAG_LEN);
	s->version = (uint32_t)le_load(sh + 8, 4);
	s->len = le_load(sh + 16, 8);
	s->offset = r->next + SNAP_SECTION_HEADER;
	r->next = s->offset + (s->len + 7) / 8 * 8;
	r->seen++;
	return 1;
}

int snap_find(struct snap_reader *r, const char *tag, struct snap_section_info *s)
{
	r->next = SNAP_HEADER_SIZE;
	r->seen = 0;
	while (snap_next(r, s))
		if (!strncmp(s->tag, tag, SNAP_TAG_LEN))
			return 1;
	return 0;
}

/* --- fields ---------------------------------------------------------- */

static uint8_t *room(struct snap_buf *b, size_t n)
{
	if (b->overflow || n > b->len - b->at) {
		b->overflow = 1;
		return 0;
	}
	uint8_t *p = b->p + b->at;
	b->at += n;
	return p;
}

static void put_le(struct snap_buf *b, uint64_t v, unsigned n)
{
	uint8_t *p = room(b, n);
	if (p)
		le_store(p, v, n);
}

static uint64_t get_le(struct snap_buf *b, unsigned n)
{
	const uint8_t *p = room(b, n);
	return p ? le_load(p, n) : 0;
}

void snap_put8(struct snap_buf *b, uint8_t v) { put_le(b, v, 1); }
void snap_put16(struct snap_buf *b, uint16_t v) { put_le(b, v, 2); }
void snap_put32(struct snap_buf *b, uint32_t v) { put_le(b, v, 4); }
void snap_put64(struct snap_buf *b, uint64_t v) { put_le(b, v, 8); }
uint8_t snap_get8(struct snap_buf *b) { return (uint8_t)get_le(b, 1); }
uint16_t snap_get16(struct snap_buf *b) { return (uint16_t)get_le(b, 2); }
uint32_t snap_get32(struct snap_buf *b) { return (uint32_t)get_le(b, 4); }
uint64_t snap_get64(struct snap_buf *b) { return get_le(b, 8); }

void snap_putn(struct snap_buf *b, const void *bytes, size_t n)
{
	uint8_t *p = room(b, n);
	if (p)
		memcpy(p, bytes, n);
}

void snap_getn(struct snap_buf *b, void *bytes, size_t n)
{
	const uint8_t *p = room(b, n);
	if (p)
		memcpy(bytes, p, n);
	else
		memset(bytes, 0, n);
}
