/* ext2_alloc.c: block and inode allocation through the group bitmaps,
 * the group descriptors' counts and the superblock's totals.
 *
 * Policy: a block goes to the first free one at or after a goal (the
 * inode's group, or next to its previous block); an inode goes to its
 * parent directory's group, or the next group with a free inode.
 * Frees are deferred (ext2_defer_free_*): the bits are cleared by the
 * third step of a sync, once no on-disk inode or entry refers to them,
 * so a block or inode is never reused while the disk still names it. */
#include <stdlib.h>
#include "ext2_internal.h"

static bool is_power_of(uint32_t n, uint32_t b)
{
	while (n > 1 && n % b == 0)
		n /= b;
	return n == 1;
}

bool ext2_group_has_super(struct ext2_fs *fs, uint32_t g)
{
	if (!(get32(fs->sb, SB_FEATURE_RO_COMPAT) & EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER))
		return true;
	return g <= 1 || is_power_of(g, 3) || is_power_of(g, 5) || is_power_of(g, 7);
}

/* A block a file may own: inside the file system and not group metadata
 * (superblock and descriptor copies, reserved GDT, bitmaps, inode table). */
bool ext2_is_data_block(struct ext2_fs *fs, uint32_t blk)
{
	if (blk < fs->first_data_block || blk >= fs->blocks_count)
		return false;
	uint32_t g = (blk - fs->first_data_block) / fs->bpg;
	uint32_t first = fs->first_data_block + g * fs->bpg;
	if (ext2_group_has_super(fs, g) && blk < first + 1 + fs->gdt_blocks + fs->reserved_gdt)
		return false;
	uint8_t *gd = ext2_gd(fs, g);
	uint32_t it = get32(gd, GD_INODE_TABLE);
	return blk != get32(gd, GD_BLOCK_BITMAP) && blk != get32(gd, GD_INODE_BITMAP) &&
	       !(blk >= it && blk < it + fs->itable_blocks);
}

static void add16(struct ext2_fs *fs, uint32_t g, size_t off, int d)
{
	uint8_t *gd = ext2_gd(fs, g);
	put16(gd, off, (uint16_t)(get16(gd, off) + d));
	ext2_gd_dirty(fs, g);
}

static void add_sb(struct ext2_fs *fs, size_t off, int d)
{
	ext2_sb_set32(fs, off, get32(fs->sb, off) + (uint32_t)d);
}

int ext2_alloc_block(struct ext2_fs *fs, uint32_t goal, uint32_t *blk)
{
	if (goal < fs->first_data_block || goal >= fs->blocks_count)
		goal = fs->first_data_block;
	uint32_t g0 = (goal - fs->first_data_block) / fs->bpg;
	for (uint32_t n = 0; n <= fs->ngroups; n++) {
		uint32_t g = (g0 + n) % fs->ngroups;
		uint8_t *gd = ext2_gd(fs, g);
		if (get16(gd, GD_FREE_BLOCKS) == 0)
			continue;
		uint32_t first = fs->first_data_block + g * fs->bpg;
		uint32_t count = fs->blocks_count - first < fs->bpg ? fs->blocks_count - first : fs->bpg;
		uint32_t start = (n == 0 && goal > first) ? goal - first : 0;
		bool from_hint = start <= fs->bhint[g];
		if (from_hint)
			start = fs->bhint[g];
		struct ext2_buf *b;
		int r = ext2_bget(fs, get32(gd, GD_BLOCK_BITMAP), BUF_BITMAP, false, &b);
		if (r < 0)
			return r;
		for (uint32_t i = start; i < count; i++) {
			if (i % 8 == 0 && b->data[i / 8] == 0xff && i + 8 <= count) {
				i += 7; /* a full byte */
				continue;
			}
			if (b->data[i / 8] & (1u << (i % 8)))
				continue;
			if (!ext2_is_data_block(fs, first + i))
				continue; /* a damaged bitmap must not hand out metadata */
			if (from_hint)
				fs->bhint[g] = i + 1;
			b->data[i / 8] |= (uint8_t)(1u << (i % 8));
			ext2_bdirty(fs, b);
			ext2_bput(fs, b);
			add16(fs, g, GD_FREE_BLOCKS, -1);
			add_sb(fs, SB_FREE_BLOCKS, -1);
			*blk = first + i;
			return 0;
		}
		if (from_hint)
			fs->bhint[g] = count;
		ext2_bput(fs, b);
	}
	/* Frees waiting for a sync may be all that is left. */
	if (fs->ready_blocks && !fs->syncing) {
		int r = ext2_sync_all(fs);
		if (r < 0)
			return r;
		if (!fs->ready_blocks)
			return ext2_alloc_block(fs, goal, blk);
	}
	return ext2_fail(fs, EXT2_ENOSPC, "no free blocks");
}

int ext2_alloc_inode(struct ext2_fs *fs, uint32_t parent, bool dir, uint32_t *ino)
{
	uint32_t g0 = parent ? (parent - 1) / fs->ipg : 0;
	if (g0 >= fs->ngroups)
		g0 = 0;
	for (uint32_t n = 0; n < fs->ngroups; n++) {
		uint32_t g = (g0 + n) % fs->ngroups;
		uint8_t *gd = ext2_gd(fs, g);
		if (get16(gd, GD_FREE_INODES) == 0)
			continue;
		struct ext2_buf *b;
		int r = ext2_bget(fs, get32(gd, GD_INODE_BITMAP), BUF_BITMAP, false, &b);
		if (r < 0)
			return r;
		for (uint32_t i = 0; i < fs->ipg; i++) {
			uint32_t num = g * fs->ipg + i + 1;
			if (num < fs->first_ino || (b->data[i / 8] & (1u << (i % 8))))
				continue;
			b->data[i / 8] |= (uint8_t)(1u << (i % 8));
			ext2_bdirty(fs, b);
			ext2_bput(fs, b);
			add16(fs, g, GD_FREE_INODES, -1);
			if (dir)
				add16(fs, g, GD_USED_DIRS, 1);
			add_sb(fs, SB_FREE_INODES, -1);
			*ino = num;
			return 0;
		}
		ext2_bput(fs, b);
	}
	if (fs->ready_inodes && !fs->syncing) {
		int r = ext2_sync_all(fs);
		if (r < 0)
			return r;
		if (!fs->ready_inodes)
			return ext2_alloc_inode(fs, parent, dir, ino);
	}
	return ext2_fail(fs, EXT2_ENOSPC, "no free inodes");
}

static int clear_bit(struct ext2_fs *fs, uint32_t bitmap, uint32_t bit, const char *what,
		     uint32_t num)
{
	struct ext2_buf *b;
	int r = ext2_bget(fs, bitmap, BUF_BITMAP, false, &b);
	if (r < 0)
		return r;
	bool was = b->data[bit / 8] & (1u << (bit % 8));
	b->data[bit / 8] &= (uint8_t)~(1u << (bit % 8));
	if (was)
		ext2_bdirty(fs, b);
	ext2_bput(fs, b);
	if (!was)
		return ext2_fail(fs, EXT2_ECORRUPT, "freeing %s %u that was already free", what, num);
	return 1;
}

static int free_block_now(struct ext2_fs *fs, uint32_t blk)
{
	uint32_t g = (blk - fs->first_data_block) / fs->bpg;
	int r = clear_bit(fs, get32(ext2_gd(fs, g), GD_BLOCK_BITMAP),
			  blk - fs->first_data_block - g * fs->bpg, "block", blk);
	if (r == 1) {
		uint32_t idx = blk - fs->first_data_block - g * fs->bpg;
		if (idx < fs->bhint[g])
			fs->bhint[g] = idx;
		add16(fs, g, GD_FREE_BLOCKS, 1);
		add_sb(fs, SB_FREE_BLOCKS, 1);
	}
	return r;
}

static int free_inode_now(struct ext2_fs *fs, uint32_t ino, bool dir)
{
	uint32_t g = (ino - 1) / fs->ipg;
	int r = clear_bit(fs, get32(ext2_gd(fs, g), GD_INODE_BITMAP), (ino - 1) % fs->ipg,
			  "inode", ino);
	if (r == 1) {
		add16(fs, g, GD_FREE_INODES, 1);
		if (dir && get16(ext2_gd(fs, g), GD_USED_DIRS))
			add16(fs, g, GD_USED_DIRS, -1);
		add_sb(fs, SB_FREE_INODES, 1);
	}
	return r;
}

void ext2_unalloc_block(struct ext2_fs *fs, uint32_t blk)
{
	free_block_now(fs, blk);
}

void ext2_unalloc_inode(struct ext2_fs *fs, uint32_t ino, bool dir)
{
	free_inode_now(fs, ino, dir);
}

static int push(struct ext2_fs *fs, uint32_t **arr, uint32_t *n, uint32_t *cap, uint32_t v)
{
	if (*n == *cap) {
		uint32_t nc = *cap ? *cap * 2 : 64;
		uint32_t *a = realloc(*arr, nc * sizeof *a);
		if (!a)
			return ext2_fail(fs, EXT2_ENOMEM, "out of memory for the free list");
		*arr = a;
		*cap = nc;
	}
	(*arr)[(*n)++] = v;
	return 0;
}

int ext2_defer_free_block(struct ext2_fs *fs, uint32_t blk)
{
	if (!ext2_is_data_block(fs, blk))
		return ext2_fail(fs, EXT2_ECORRUPT, "freeing block %u that is metadata or out of range", blk);
	return push(fs, &fs->free_blocks, &fs->nfree_blocks, &fs->cap_free_blocks, blk);
}

int ext2_defer_free_inode(struct ext2_fs *fs, uint32_t ino, bool dir)
{
	return push(fs, &fs->free_inodes, &fs->nfree_inodes, &fs->cap_free_inodes,
		    ino | (dir ? 1u << 31 : 0));
}

void ext2_frees_ready(struct ext2_fs *fs)
{
	fs->ready_blocks = fs->nfree_blocks;
	fs->ready_inodes = fs->nfree_inodes;
}

static void drop_front(uint32_t *a, uint32_t *n, uint32_t *ready, uint32_t k)
{
	for (uint32_t i = k; i < *n; i++)
		a[i - k] = a[i];
	*n -= k;
	*ready -= k;
}

/* Step 3 of a sync: the ready frees.  One that fails on a corrupt bitmap
 * is dropped (the message stays in fs->err); one that fails on I/O stays
 * queued for the next sync. */
int ext2_apply_frees(struct ext2_fs *fs)
{
	uint32_t done = 0;
	int r = 0;
	for (; done < fs->ready_blocks; done++) {
		r = free_block_now(fs, fs->free_blocks[done]);
		if (r == EXT2_EIO || r == EXT2_ENOMEM)
			break;
		r = 0;
	}
	drop_front(fs->free_blocks, &fs->nfree_blocks, &fs->ready_blocks, done);
	if (r < 0)
		return r;
	for (done = 0; done < fs->ready_inodes; done++) {
		uint32_t v = fs->free_inodes[done];
		r = free_inode_now(fs, v & ~(1u << 31), v >> 31);
		if (r == EXT2_EIO || r == EXT2_ENOMEM)
			break;
		r = 0;
	}
	drop_front(fs->free_inodes, &fs->nfree_inodes, &fs->ready_inodes, done);
	return r < 0 ? r : 0;
}
