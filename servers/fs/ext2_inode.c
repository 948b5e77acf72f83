/* ext2_inode.c: inodes (decode, encode, create, release) and the block
 * map: twelve direct pointers, then single, double and triple indirect
 * blocks.  Every pointer read from disk is checked to be a data block
 * before it is followed; the walk has a fixed depth, so a damaged
 * indirect block cannot make it loop. */
#include <string.h>
#include "ext2_internal.h"

static int locate(struct ext2_fs *fs, uint32_t ino, uint32_t *blk, uint32_t *off)
{
	if (ino == 0 || ino > fs->inodes_count)
		return ext2_fail(fs, EXT2_ECORRUPT, "inode number %u out of range", ino);
	uint32_t g = (ino - 1) / fs->ipg, idx = (ino - 1) % fs->ipg;
	uint64_t byte = (uint64_t)idx * fs->inode_size;
	*blk = get32(ext2_gd(fs, g), GD_INODE_TABLE) + (uint32_t)(byte / fs->bs);
	*off = (uint32_t)(byte % fs->bs);
	return 0;
}

static bool is_reg(uint16_t mode)
{
	return (mode & EXT2_S_IFMT) == EXT2_S_IFREG;
}

int ext2_iget(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in)
{
	uint32_t blk, off;
	int r = locate(fs, ino, &blk, &off);
	struct ext2_buf *b;
	if (r == 0)
		r = ext2_bget(fs, blk, BUF_INODE, false, &b);
	if (r < 0)
		return r;
	const uint8_t *p = b->data + off;
	memset(in, 0, sizeof *in);
	in->ino = ino;
	in->mode = get16(p, 0);
	in->uid = get16(p, 2) | (uint32_t)get16(p, 120) << 16;
	in->size = get32(p, 4);
	if (is_reg(in->mode))
		in->size |= (uint64_t)get32(p, 108) << 32;
	in->atime = get32(p, 8);
	in->ctime = get32(p, 12);
	in->mtime = get32(p, 16);
	in->dtime = get32(p, 20);
	in->gid = get16(p, 24) | (uint32_t)get16(p, 122) << 16;
	in->links = get16(p, 26);
	in->blocks = get32(p, 28);
	in->flags = get32(p, 32);
	for (int i = 0; i < 15; i++)
		in->block[i] = get32(p, 40 + 4 * i);
	in->file_acl = get32(p, 104);
	ext2_bput(fs, b);
	return 0;
}

int ext2_iput(struct ext2_fs *fs, const struct ext2_inode *in)
{
	uint32_t blk, off;
	int r = locate(fs, in->ino, &blk, &off);
	struct ext2_buf *b;
	if (r == 0)
		r = ext2_bget(fs, blk, BUF_INODE, false, &b);
	if (r < 0)
		return r;
	uint8_t *p = b->data + off;
	if (in->is_new) {
		memset(p, 0, fs->inode_size);
		if (fs->inode_size > 128)
			put16(p, 128, fs->want_extra_isize);
	}
	put16(p, 0, in->mode);
	put16(p, 2, (uint16_t)in->uid);
	put16(p, 120, (uint16_t)(in->uid >> 16));
	put32(p, 4, (uint32_t)in->size);
	if (is_reg(in->mode))
		put32(p, 108, (uint32_t)(in->size >> 32));
	put32(p, 8, in->atime);
	put32(p, 12, in->ctime);
	put32(p, 16, in->mtime);
	put32(p, 20, in->dtime);
	put16(p, 24, (uint16_t)in->gid);
	put16(p, 122, (uint16_t)(in->gid >> 16));
	put16(p, 26, in->links);
	put32(p, 28, in->blocks);
	put32(p, 32, in->flags);
	for (int i = 0; i < 15; i++)
		put32(p, 40 + 4 * i, in->block[i]);
	put32(p, 104, in->file_acl);
	ext2_bdirty(fs, b);
	ext2_bput(fs, b);
	return 0;
}

int ext2_ipin(struct ext2_fs *fs, uint32_t ino, struct ext2_buf **b)
{
	uint32_t blk, off;
	*b = NULL;
	int r = locate(fs, ino, &blk, &off);
	return r < 0 ? r : ext2_bget(fs, blk, BUF_INODE, false, b);
}

void ext2_inew(struct ext2_fs *fs, struct ext2_inode *in, uint32_t ino, uint16_t mode)
{
	memset(in, 0, sizeof *in);
	uint32_t t = ext2_now(fs);
	in->ino = ino;
	in->mode = mode;
	in->atime = in->ctime = in->mtime = t;
	in->links = 1;
	in->is_new = true;
}

/* Whether i_block holds block pointers (not a fast symlink's text or a
 * device number). */
bool ext2_has_blocks(struct ext2_fs *fs, const struct ext2_inode *in)
{
	switch (in->mode & EXT2_S_IFMT) {
	case EXT2_S_IFREG:
	case EXT2_S_IFDIR:
		return true;
	case EXT2_S_IFLNK:
		/* slow when it owns blocks besides its attribute block */
		return in->blocks > (in->file_acl ? fs->bs / 512 : 0);
	default:
		return false;
	}
}

uint64_t ext2_max_lblocks(struct ext2_fs *fs)
{
	uint64_t p = fs->ptrs;
	return EXT2_N_DIRECT + p + p * p + p * p * p;
}

static int check_ptr(struct ext2_fs *fs, struct ext2_inode *in, uint32_t blk)
{
	if (ext2_is_data_block(fs, blk))
		return 0;
	return ext2_fail(fs, EXT2_ECORRUPT, "inode %u: block pointer %u is outside the data area",
			 in->ino, blk);
}

static int new_block(struct ext2_fs *fs, struct ext2_inode *in, uint32_t goal, uint32_t *blk)
{
	int r = ext2_alloc_block(fs, goal, blk);
	if (r < 0)
		return r;
	/* Zeroed in the cache: an indirect block must not point at stale
	 * blocks, and a data block not show a previous file's bytes. */
	struct ext2_buf *b;
	r = ext2_bget(fs, *blk, BUF_DATA, true, &b);
	if (r < 0) {
		ext2_unalloc_block(fs, *blk);
		return r;
	}
	ext2_bput(fs, b);
	in->blocks += fs->bs / 512;
	return 0;
}

int ext2_bmap(struct ext2_fs *fs, struct ext2_inode *in, uint64_t lblk, bool alloc,
	      uint32_t *pblk)
{
	uint64_t p = fs->ptrs;
	uint32_t root, depth;
	uint64_t rel = lblk;
	if (rel < EXT2_N_DIRECT) {
		root = (uint32_t)rel;
		depth = 0;
	} else if ((rel -= EXT2_N_DIRECT) < p) {
		root = EXT2_IND;
		depth = 1;
	} else if ((rel -= p) < p * p) {
		root = EXT2_DIND;
		depth = 2;
	} else if ((rel -= p * p) < p * p * p) {
		root = EXT2_TIND;
		depth = 3;
	} else {
		return ext2_fail(fs, EXT2_EFBIG, "logical block %llu beyond the block map",
				 (unsigned long long)lblk);
	}
	uint32_t goal = fs->first_data_block + (in->ino - 1) / fs->ipg * fs->bpg;
	uint32_t cur = in->block[root];
	if (cur == 0) {
		if (!alloc) {
			*pblk = 0;
			return 0;
		}
		int r = new_block(fs, in, goal, &cur);
		if (r < 0)
			return r;
		in->block[root] = cur;
	} else {
		int r = check_ptr(fs, in, cur);
		if (r < 0)
			return r;
	}
	for (uint32_t level = depth; level > 0; level--) {
		uint64_t span = 1;
		for (uint32_t i = 1; i < level; i++)
			span *= p;
		uint32_t idx = (uint32_t)(rel / span);
		rel %= span;
		struct ext2_buf *b;
		int r = ext2_bget(fs, cur, BUF_DATA, false, &b);
		if (r < 0)
			return r;
		uint32_t next = get32(b->data, 4 * idx);
		if (next == 0 && alloc) {
			r = new_block(fs, in, cur, &next);
			if (r < 0) {
				ext2_bput(fs, b);
				return r;
			}
			put32(b->data, 4 * idx, next);
			ext2_bdirty(fs, b);
		} else if (next) {
			r = check_ptr(fs, in, next);
		}
		ext2_bput(fs, b);
		if (r < 0)
			return r;
		if (next == 0) {
			*pblk = 0;
			return 0;
		}
		cur = next;
	}
	*pblk = cur;
	return 0;
}

static int drop(struct ext2_fs *fs, struct ext2_inode *in, uint32_t blk)
{
	int r = ext2_defer_free_block(fs, blk);
	if (r == 0 && in->blocks >= fs->bs / 512)
		in->blocks -= fs->bs / 512;
	return r;
}

/* Frees what indirect block blk (depth level) maps from relative logical
 * block from on, zeroing each pointer as its block goes.  Sets *empty when
 * nothing is left in blk. */
static int free_tree(struct ext2_fs *fs, struct ext2_inode *in, uint32_t blk, uint32_t level,
		     uint64_t from, bool *empty)
{
	struct ext2_buf *b;
	int r = ext2_bget(fs, blk, BUF_DATA, false, &b);
	if (r < 0)
		return r;
	uint64_t span = 1;
	for (uint32_t i = 1; i < level; i++)
		span *= fs->ptrs;
	*empty = true;
	for (uint32_t i = 0; i < fs->ptrs && r == 0; i++) {
		uint32_t child = get32(b->data, 4 * i);
		if (!child)
			continue;
		uint64_t start = (uint64_t)i * span;
		if (start + span <= from) {
			*empty = false;
			continue;
		}
		if (!ext2_is_data_block(fs, child)) {
			/* A damaged pointer: forget it rather than free metadata. */
			put32(b->data, 4 * i, 0);
			ext2_bdirty(fs, b);
			r = check_ptr(fs, in, child);
			break;
		}
		bool child_empty = true;
		if (level > 1)
			r = free_tree(fs, in, child, level - 1, start >= from ? 0 : from - start,
				      &child_empty);
		if (r == 0 && child_empty) {
			put32(b->data, 4 * i, 0);
			ext2_bdirty(fs, b);
			r = drop(fs, in, child);
		} else {
			*empty = false;
		}
	}
	ext2_bput(fs, b);
	return r;
}

int ext2_free_from(struct ext2_fs *fs, struct ext2_inode *in, uint64_t from)
{
	uint64_t p = fs->ptrs, start = EXT2_N_DIRECT, span = p;
	for (uint32_t i = 0; i < EXT2_N_DIRECT; i++) {
		if (i < from || !in->block[i])
			continue;
		uint32_t blk = in->block[i];
		in->block[i] = 0;
		if (!ext2_is_data_block(fs, blk))
			return check_ptr(fs, in, blk);
		int r = drop(fs, in, blk);
		if (r < 0)
			return r;
	}
	for (uint32_t level = 1; level <= 3; level++, start += span, span *= p) {
		uint32_t root = EXT2_N_DIRECT + level - 1;
		uint32_t blk = in->block[root];
		if (!blk || start + span <= from)
			continue;
		if (!ext2_is_data_block(fs, blk)) {
			in->block[root] = 0;
			return check_ptr(fs, in, blk);
		}
		bool empty;
		int r = free_tree(fs, in, blk, level, from > start ? from - start : 0, &empty);
		if (r < 0)
			return r;
		if (empty) {
			in->block[root] = 0;
			r = drop(fs, in, blk);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* Gives back everything an inode with no links owns: its blocks and its
 * share of an extended-attribute block.  The caller writes the inode and
 * defers the inode number's free. */
int ext2_release_inode(struct ext2_fs *fs, struct ext2_inode *in)
{
	int r = 0;
	if (ext2_has_blocks(fs, in))
		r = ext2_free_from(fs, in, 0);
	if (r < 0)
		return r;
	in->size = 0;
	if (in->file_acl) {
		uint32_t acl = in->file_acl;
		in->file_acl = 0;
		if (!ext2_is_data_block(fs, acl))
			return ext2_fail(fs, EXT2_ECORRUPT, "inode %u: xattr block %u out of range", in->ino, acl);
		struct ext2_buf *b;
		r = ext2_bget(fs, acl, BUF_DATA, false, &b);
		if (r < 0)
			return r;
		uint32_t refs = get32(b->data, 4);
		if (get32(b->data, 0) != EXT2_XATTR_MAGIC || refs == 0) {
			ext2_bput(fs, b);
			return ext2_fail(fs, EXT2_ECORRUPT, "inode %u: bad xattr block %u", in->ino, acl);
		}
		put32(b->data, 4, refs - 1);
		ext2_bdirty(fs, b);
		ext2_bput(fs, b);
		if (refs == 1)
			r = drop(fs, in, acl);
	}
	return r;
}
