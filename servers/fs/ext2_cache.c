/* ext2_cache.c: the block cache and the ordered write-back.
 *
 * Blocks are cached whole, pinned while a caller uses them, and written
 * back only by ext2_sync_all, which writes in three steps separated by
 * device flushes (docs/fs.md explains why):
 *   1. data, directory, indirect, xattr and bitmap blocks, descriptors
 *      and superblock: everything that is pointed to, and allocations;
 *   2. inode table blocks: the pointers;
 *   3. the deferred frees, applied to the bitmaps and written.
 * Evicting a dirty block runs a whole sync first, so the order holds
 * under cache pressure too.  Within a step, neighbouring blocks go to the
 * device as one request, in block order; a sequential read of data reads
 * the next blocks ahead in one request. */
#include <stdlib.h>
#include <string.h>
#include "ext2_internal.h"

/* n blocks from blk on, in one device request */
static int dev_read_run(struct ext2_fs *fs, uint32_t blk, uint32_t n, void *buf)
{
	if (blk >= fs->blocks_count || n > fs->blocks_count - blk)
		return ext2_fail(fs, EXT2_ECORRUPT, "block %u beyond the file system", blk + n - 1);
	int r = fs->dev->read(fs->dev->ctx, (uint64_t)blk * fs->sec_per_blk, n * fs->sec_per_blk, buf);
	return r < 0 ? ext2_fail(fs, EXT2_EIO, "read of blocks %u..%u failed (%d)", blk, blk + n - 1, r) : 0;
}

static int dev_write_run(struct ext2_fs *fs, uint32_t blk, uint32_t n, const void *buf)
{
	int r = fs->dev->write(fs->dev->ctx, (uint64_t)blk * fs->sec_per_blk, n * fs->sec_per_blk, buf);
	return r < 0 ? ext2_fail(fs, EXT2_EIO, "write of blocks %u..%u failed (%d)", blk, blk + n - 1, r) : 0;
}

int ext2_dev_read(struct ext2_fs *fs, uint32_t blk, void *buf)
{
	return dev_read_run(fs, blk, 1, buf);
}

int ext2_dev_write(struct ext2_fs *fs, uint32_t blk, const void *buf)
{
	return dev_write_run(fs, blk, 1, buf);
}

int ext2_dev_flush(struct ext2_fs *fs)
{
	int r = fs->dev->flush(fs->dev->ctx);
	return r < 0 ? ext2_fail(fs, EXT2_EIO, "device flush failed (%d)", r) : 0;
}

int ext2_cache_init(struct ext2_fs *fs, uint32_t nbufs)
{
	if (nbufs < 16)
		nbufs = 16;
	fs->bufs = calloc(nbufs, sizeof *fs->bufs);
	if (!fs->bufs)
		return ext2_fail(fs, EXT2_ENOMEM, "out of memory for the block cache");
	fs->nbufs = nbufs;
	fs->order = malloc(nbufs * sizeof *fs->order);
	fs->run = malloc(EXT2_RUN_BYTES);
	if (!fs->order || !fs->run)
		return ext2_fail(fs, EXT2_ENOMEM, "out of memory for the block cache");
	fs->nhash = nbufs * 2;
	fs->hash = malloc(fs->nhash * sizeof *fs->hash);
	if (!fs->hash)
		return ext2_fail(fs, EXT2_ENOMEM, "out of memory for the block cache");
	for (uint32_t i = 0; i < fs->nhash; i++)
		fs->hash[i] = -1;
	for (uint32_t i = 0; i < nbufs; i++) {
		fs->bufs[i].next = -1;
		fs->bufs[i].data = malloc(fs->bs);
		if (!fs->bufs[i].data)
			return ext2_fail(fs, EXT2_ENOMEM, "out of memory for the block cache");
	}
	return 0;
}

void ext2_cache_free(struct ext2_fs *fs)
{
	if (!fs->bufs)
		return;
	for (uint32_t i = 0; i < fs->nbufs; i++)
		free(fs->bufs[i].data);
	free(fs->bufs);
	free(fs->hash);
	free(fs->order);
	free(fs->run);
	fs->bufs = NULL;
	fs->hash = NULL;
	fs->order = NULL;
	fs->run = NULL;
}

static int write_buf(struct ext2_fs *fs, struct ext2_buf *b)
{
	int r = ext2_dev_write(fs, b->blk, b->data);
	if (r == 0) {
		b->dirty = false;
		fs->ndirty--;
	}
	return r;
}

/* An unpinned buffer to reuse: invalid, else the least recently used
 * clean one.  NULL when every unpinned buffer is dirty (or all pinned). */
static struct ext2_buf *victim(struct ext2_fs *fs, bool allow_dirty)
{
	struct ext2_buf *best = NULL;
	for (uint32_t i = 0; i < fs->nbufs; i++) {
		struct ext2_buf *b = &fs->bufs[i];
		if (b->pins)
			continue;
		if (!b->valid)
			return b;
		if (b->dirty && !allow_dirty)
			continue;
		if (!best || b->used < best->used)
			best = b;
	}
	return best;
}

static int32_t *chain(struct ext2_fs *fs, uint32_t blk)
{
	return &fs->hash[(blk * 2654435761u) % fs->nhash];
}

static void unhash(struct ext2_fs *fs, struct ext2_buf *b)
{
	int32_t self = (int32_t)(b - fs->bufs);
	for (int32_t *p = chain(fs, b->blk); *p >= 0; p = &fs->bufs[*p].next) {
		if (*p == self) {
			*p = b->next;
			break;
		}
	}
	b->next = -1;
}

static bool cached(struct ext2_fs *fs, uint32_t blk)
{
	for (int32_t i = *chain(fs, blk); i >= 0; i = fs->bufs[i].next)
		if (fs->bufs[i].valid && fs->bufs[i].blk == blk)
			return true;
	return false;
}

static void install(struct ext2_fs *fs, struct ext2_buf *b)
{
	b->valid = true;
	b->next = *chain(fs, b->blk);
	*chain(fs, b->blk) = (int32_t)(b - fs->bufs);
	b->used = ++fs->clock;
}

/* b, a data block just after the last one read from the disk, and the
 * blocks after it that are not cached, into clean buffers, in one
 * request.  It stops at the end of b's block group: the next group
 * starts with the superblock and descriptor copies, which are written
 * without the cache.  The blocks stay unpinned and marked ahead: the
 * first request for one decides its kind.  On a file system mke2fs made,
 * a group's bitmaps and inode table come before its data, so read-ahead
 * from data meets only data (indirect and directory blocks are data
 * too); but the descriptors may place them anywhere, and then a bitmap
 * read ahead must not be refused as "used both as metadata and data". */
static int read_ahead(struct ext2_fs *fs, struct ext2_buf *b)
{
	struct ext2_buf *more[EXT2_READ_AHEAD];
	uint32_t n = 1, max = EXT2_RUN_BYTES / fs->bs;
	if (max > EXT2_READ_AHEAD)
		max = EXT2_READ_AHEAD;
	b->pins = 1; /* not a victim for its own read-ahead */
	while (n < max && b->blk + n < fs->blocks_count && (b->blk + n - fs->first_data_block) % fs->bpg &&
	       !cached(fs, b->blk + n)) {
		struct ext2_buf *v = victim(fs, false);
		if (!v)
			break;
		if (v->valid)
			unhash(fs, v);
		v->valid = false;
		v->pins = 1;
		more[n++] = v;
	}
	int r = dev_read_run(fs, b->blk, n, fs->run);
	b->pins = 0;
	if (r == 0)
		memcpy(b->data, fs->run, fs->bs);
	for (uint32_t i = 1; i < n; i++) {
		struct ext2_buf *v = more[i];
		v->pins = 0;
		if (r < 0)
			continue; /* left invalid */
		v->blk = b->blk + i;
		v->kind = BUF_DATA;
		v->ahead = true;
		v->dirty = false;
		memcpy(v->data, fs->run + (size_t)i * fs->bs, fs->bs);
		install(fs, v);
	}
	if (r == 0)
		fs->last_miss = b->blk + n - 1;
	return r;
}

int ext2_bget(struct ext2_fs *fs, uint32_t blk, enum buf_kind kind, bool fresh,
	      struct ext2_buf **out)
{
	if (blk >= fs->blocks_count || blk < fs->first_data_block)
		return ext2_fail(fs, EXT2_ECORRUPT, "block %u outside the file system", blk);
	for (int32_t i = *chain(fs, blk); i >= 0; i = fs->bufs[i].next) {
		struct ext2_buf *b = &fs->bufs[i];
		if (b->valid && b->blk == blk) {
			if (b->ahead) {
				b->kind = (uint8_t)kind; /* read ahead as data, asked for as this */
				b->ahead = false;
			}
			if (b->kind != kind)
				return ext2_fail(fs, EXT2_ECORRUPT, "block %u used both as metadata and data", blk);
			b->pins++;
			b->used = ++fs->clock;
			if (fresh) {
				memset(b->data, 0, fs->bs);
				ext2_bdirty(fs, b);
			}
			*out = b;
			return 0;
		}
	}
	struct ext2_buf *b = victim(fs, false);
	if (!b && !fs->syncing) {
		int r = ext2_sync_all(fs);
		if (r < 0)
			return r;
		b = victim(fs, false);
	}
	if (!b && fs->syncing) {
		/* Only step 3 (freeing bits in bitmaps) reads blocks while
		 * syncing; its writes may go in any order. */
		b = victim(fs, true);
		if (b && b->dirty) {
			int r = write_buf(fs, b);
			if (r < 0)
				return r;
		}
	}
	if (!b)
		return ext2_fail(fs, EXT2_ENOMEM, "block cache too small (all %u blocks pinned)", fs->nbufs);
	if (b->valid)
		unhash(fs, b);
	b->valid = false;
	b->ahead = false;
	b->blk = blk;
	b->kind = (uint8_t)kind;
	if (fresh) {
		memset(b->data, 0, fs->bs);
	} else if (kind == BUF_DATA && !fs->syncing && blk == fs->last_miss + 1) {
		int r = read_ahead(fs, b);
		if (r < 0)
			return r;
	} else {
		int r = ext2_dev_read(fs, blk, b->data);
		if (r < 0)
			return r;
		fs->last_miss = kind == BUF_DATA ? blk : fs->last_miss;
	}
	install(fs, b);
	b->pins = 1;
	if (fresh)
		ext2_bdirty(fs, b);
	*out = b;
	return 0;
}

void ext2_bput(struct ext2_fs *fs, struct ext2_buf *b)
{
	(void)fs;
	if (b && b->pins)
		b->pins--;
}

void ext2_bdirty(struct ext2_fs *fs, struct ext2_buf *b)
{
	if (!b->dirty) {
		b->dirty = true;
		fs->ndirty++;
	}
}

static int by_block(const void *a, const void *b)
{
	uint32_t x = (*(struct ext2_buf *const *)a)->blk, y = (*(struct ext2_buf *const *)b)->blk;
	return x < y ? -1 : x > y;
}

/* Every dirty block of these kinds, in block order, neighbours in one
 * request each (up to EXT2_RUN_BYTES). */
static int write_kind(struct ext2_fs *fs, enum buf_kind k1, enum buf_kind k2, bool *wrote)
{
	uint32_t n = 0, max = EXT2_RUN_BYTES / fs->bs;
	for (uint32_t i = 0; i < fs->nbufs; i++) {
		struct ext2_buf *b = &fs->bufs[i];
		if (b->valid && b->dirty && (b->kind == k1 || b->kind == k2))
			fs->order[n++] = b;
	}
	qsort(fs->order, n, sizeof *fs->order, by_block);
	for (uint32_t i = 0; i < n;) {
		uint32_t len = 1;
		while (i + len < n && len < max && fs->order[i + len]->blk == fs->order[i]->blk + len)
			len++;
		int r;
		if (len == 1)
			r = write_buf(fs, fs->order[i]);
		else {
			for (uint32_t k = 0; k < len; k++)
				memcpy(fs->run + (size_t)k * fs->bs, fs->order[i + k]->data, fs->bs);
			r = dev_write_run(fs, fs->order[i]->blk, len, fs->run);
			for (uint32_t k = 0; r == 0 && k < len; k++) {
				fs->order[i + k]->dirty = false;
				fs->ndirty--;
			}
		}
		if (r < 0)
			return r;
		*wrote = true;
		i += len;
	}
	return 0;
}

static bool super_dirty(struct ext2_fs *fs)
{
	if (fs->sb_dirty)
		return true;
	for (uint32_t i = 0; i < fs->gdt_blocks; i++)
		if (fs->gdt_dirty[i])
			return true;
	return false;
}

static int sync_steps(struct ext2_fs *fs)
{
	bool wrote = false;
	/* 1: what will be pointed to, and the allocations */
	int r = write_kind(fs, BUF_DATA, BUF_BITMAP, &wrote);
	if (r == 0 && super_dirty(fs)) {
		wrote = true;
		r = ext2_write_super_gdt(fs);
	}
	if (r == 0 && wrote)
		r = ext2_dev_flush(fs);
	if (r < 0)
		return r;
	/* 2: the inodes pointing at it */
	wrote = false;
	r = write_kind(fs, BUF_INODE, BUF_INODE, &wrote);
	if (r == 0 && wrote)
		r = ext2_dev_flush(fs);
	if (r < 0)
		return r;
	/* 3: what nothing on disk points to any more may be reused */
	if (!fs->ready_blocks && !fs->ready_inodes)
		return 0;
	r = ext2_apply_frees(fs);
	wrote = false;
	if (r == 0)
		r = write_kind(fs, BUF_BITMAP, BUF_BITMAP, &wrote);
	if (r == 0 && super_dirty(fs)) {
		wrote = true;
		r = ext2_write_super_gdt(fs);
	}
	if (r == 0 && wrote)
		r = ext2_dev_flush(fs);
	return r;
}

int ext2_sync_all(struct ext2_fs *fs)
{
	if (fs->ro || fs->syncing)
		return 0;
	fs->syncing = true;
	int r = sync_steps(fs);
	fs->syncing = false;
	return r;
}
