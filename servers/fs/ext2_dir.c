/* ext2_dir.c: directories as linked lists of entries in blocks (inode,
 * rec_len, name_len, file_type, name).  Indexed (dir_index) directories
 * are read linearly: their index blocks look like one empty entry.  A
 * change to an indexed directory first clears EXT2_INDEX_FL, as a kernel
 * without htree support must.  Every entry is checked before use. */
#include <string.h>
#include "ext2_internal.h"

#define DIRENT_HEADER 8

static uint32_t rec_size(uint32_t name_len)
{
	return (DIRENT_HEADER + name_len + 3) & ~3u;
}

uint8_t ext2_mode_to_dt(uint16_t mode)
{
	switch (mode & EXT2_S_IFMT) {
	case EXT2_S_IFREG: return EXT2_DT_REG;
	case EXT2_S_IFDIR: return EXT2_DT_DIR;
	case EXT2_S_IFLNK: return EXT2_DT_LNK;
	case 0020000: return EXT2_DT_CHR;
	case 0060000: return EXT2_DT_BLK;
	case 0010000: return EXT2_DT_FIFO;
	case 0140000: return EXT2_DT_SOCK;
	default: return EXT2_DT_UNKNOWN;
	}
}

/* The directory's block count, after checking its size is possible. */
static int dir_blocks(struct ext2_fs *fs, struct ext2_inode *dir, uint32_t *n)
{
	if ((dir->mode & EXT2_S_IFMT) != EXT2_S_IFDIR)
		return ext2_fail(fs, EXT2_ENOTDIR, "inode %u is not a directory", dir->ino);
	/* A directory has no holes, so its blocks (counted in i_blocks with
	 * the indirect ones) cover its size. */
	uint64_t have = (uint64_t)dir->blocks / (fs->bs / 512);
	if (dir->size % fs->bs || dir->size / fs->bs > have || dir->size / fs->bs > ext2_max_lblocks(fs))
		return ext2_fail(fs, EXT2_ECORRUPT, "directory %u: impossible size %llu (%u sectors)",
				 dir->ino, (unsigned long long)dir->size, dir->blocks);
	*n = (uint32_t)(dir->size / fs->bs);
	return 0;
}

static int get_dir_block(struct ext2_fs *fs, struct ext2_inode *dir, uint32_t lblk,
			 struct ext2_buf **b)
{
	uint32_t pblk;
	*b = NULL;
	int r = ext2_bmap(fs, dir, lblk, false, &pblk);
	if (r < 0 || pblk == 0)
		return r;
	return ext2_bget(fs, pblk, BUF_DATA, false, b);
}

/* Checks the entry at off; returns its rec_len or a negative error. */
static int entry_at(struct ext2_fs *fs, struct ext2_inode *dir, uint32_t lblk,
		    const uint8_t *blk, uint32_t off)
{
	if (off + DIRENT_HEADER > fs->bs)
		goto bad;
	uint32_t rec = get16(blk, off + 4), nlen = blk[off + 6], ino = get32(blk, off);
	if (rec < 12 || rec % 4 || off + rec > fs->bs || (ino && rec < rec_size(nlen)) ||
	    ino > fs->inodes_count)
		goto bad;
	if (ino && nlen == 0)
		goto bad;
	return (int)rec;
bad:
	return ext2_fail(fs, EXT2_ECORRUPT, "directory %u block %u: bad entry at offset %u",
			 dir->ino, lblk, off);
}

static uint8_t entry_type(struct ext2_fs *fs, const uint8_t *e)
{
	return fs->filetype ? e[7] : EXT2_DT_UNKNOWN;
}

static bool name_is(const uint8_t *e, const char *name, size_t len)
{
	return get32(e, 0) && e[6] == len && memcmp(e + 8, name, len) == 0;
}

/* Finds name: the block (pinned; the caller puts it) and offset of its
 * entry and of the entry before it in the block (or UINT32_MAX). */
static int find(struct ext2_fs *fs, struct ext2_inode *dir, const char *name, size_t len,
		struct ext2_buf **out, uint32_t *off_out, uint32_t *prev_out)
{
	uint32_t n;
	int r = dir_blocks(fs, dir, &n);
	if (r < 0)
		return r;
	for (uint32_t lblk = 0; lblk < n; lblk++) {
		struct ext2_buf *b;
		r = get_dir_block(fs, dir, lblk, &b);
		if (r < 0)
			return r;
		if (!b)
			continue;
		uint32_t prev = UINT32_MAX;
		for (uint32_t off = 0; off < fs->bs;) {
			int rec = entry_at(fs, dir, lblk, b->data, off);
			if (rec < 0) {
				ext2_bput(fs, b);
				return rec;
			}
			if (name_is(b->data + off, name, len)) {
				*out = b;
				*off_out = off;
				*prev_out = prev;
				return 0;
			}
			prev = off;
			off += (uint32_t)rec;
		}
		ext2_bput(fs, b);
	}
	return EXT2_ENOENT;
}

int ext2_dir_find(struct ext2_fs *fs, struct ext2_inode *dir, const char *name, size_t len,
		  uint32_t *ino, uint8_t *type)
{
	struct ext2_buf *b;
	uint32_t off, prev;
	int r = find(fs, dir, name, len, &b, &off, &prev);
	if (r < 0)
		return r;
	*ino = get32(b->data, off);
	if (type)
		*type = entry_type(fs, b->data + off);
	ext2_bput(fs, b);
	return 0;
}

int ext2_dir_pin(struct ext2_fs *fs, struct ext2_inode *dir, const char *name, size_t len,
		 struct ext2_buf **b)
{
	uint32_t off, prev;
	*b = NULL;
	return find(fs, dir, name, len, b, &off, &prev);
}

/* The index would go stale once entries move: drop it, and make that
 * durable before the first block changes so a crash never pairs an
 * index flag with a rewritten root block. */
static int drop_index(struct ext2_fs *fs, struct ext2_inode *dir)
{
	if (!(dir->flags & EXT2_INDEX_FL))
		return 0;
	dir->flags &= ~(uint32_t)EXT2_INDEX_FL;
	int r = ext2_iput(fs, dir);
	return r < 0 ? r : ext2_sync_all(fs);
}

static void fill(struct ext2_fs *fs, uint8_t *e, uint32_t ino, uint32_t rec, const char *name,
		 size_t len, uint8_t type)
{
	put32(e, 0, ino);
	put16(e, 4, (uint16_t)rec);
	e[6] = (uint8_t)len;
	e[7] = fs->filetype ? type : 0;
	memcpy(e + 8, name, len);
}

int ext2_dir_add(struct ext2_fs *fs, struct ext2_inode *dir, const char *name, size_t len,
		 uint32_t ino, uint8_t type)
{
	uint32_t n, need = rec_size((uint32_t)len);
	int r = dir_blocks(fs, dir, &n);
	if (r == 0)
		r = drop_index(fs, dir);
	if (r < 0)
		return r;
	for (uint32_t lblk = 0; lblk < n; lblk++) {
		struct ext2_buf *b;
		r = get_dir_block(fs, dir, lblk, &b);
		if (r < 0)
			return r;
		if (!b)
			continue;
		for (uint32_t off = 0; off < fs->bs;) {
			int rec = entry_at(fs, dir, lblk, b->data, off);
			if (rec < 0) {
				ext2_bput(fs, b);
				return rec;
			}
			uint8_t *e = b->data + off;
			uint32_t used = get32(e, 0) ? rec_size(e[6]) : 0;
			if ((uint32_t)rec - used >= need) {
				if (used) {
					put16(e, 4, (uint16_t)used);
					fill(fs, e + used, ino, (uint32_t)rec - used, name, len, type);
				} else {
					fill(fs, e, ino, (uint32_t)rec, name, len, type);
				}
				ext2_bdirty(fs, b);
				ext2_bput(fs, b);
				return 0;
			}
			off += (uint32_t)rec;
		}
		ext2_bput(fs, b);
	}
	/* No room: a new block at the end (zeroed by the allocation). */
	uint32_t pblk;
	r = ext2_bmap(fs, dir, n, true, &pblk);
	if (r < 0)
		return r;
	struct ext2_buf *b;
	r = ext2_bget(fs, pblk, BUF_DATA, false, &b);
	if (r < 0)
		return r;
	fill(fs, b->data, ino, fs->bs, name, len, type);
	ext2_bdirty(fs, b);
	ext2_bput(fs, b);
	dir->size += fs->bs;
	return 0;
}

int ext2_dir_remove(struct ext2_fs *fs, struct ext2_inode *dir, const char *name, size_t len)
{
	int r = drop_index(fs, dir);
	struct ext2_buf *b;
	uint32_t off, prev;
	if (r == 0)
		r = find(fs, dir, name, len, &b, &off, &prev);
	if (r < 0)
		return r;
	if (prev == UINT32_MAX) {
		put32(b->data, off, 0); /* first in its block: an empty entry */
	} else {
		uint8_t *p = b->data + prev;
		put16(p, 4, (uint16_t)(get16(p, 4) + get16(b->data, off + 4)));
	}
	ext2_bdirty(fs, b);
	ext2_bput(fs, b);
	return 0;
}

int ext2_dir_set(struct ext2_fs *fs, struct ext2_inode *dir, const char *name, size_t len,
		 uint32_t ino, uint8_t type)
{
	int r = drop_index(fs, dir);
	struct ext2_buf *b;
	uint32_t off, prev;
	if (r == 0)
		r = find(fs, dir, name, len, &b, &off, &prev);
	if (r < 0)
		return r;
	put32(b->data, off, ino);
	if (fs->filetype)
		b->data[off + 7] = type;
	ext2_bdirty(fs, b);
	ext2_bput(fs, b);
	return 0;
}

/* Renames an entry in its slot when the new name fits there: one block
 * write, so the rename is atomic on disk.  1 when done, 0 when there is
 * no room (the caller adds and removes instead). */
int ext2_dir_rename_entry(struct ext2_fs *fs, struct ext2_inode *dir, const char *name,
			  size_t len, const char *to, size_t to_len)
{
	int r = drop_index(fs, dir);
	struct ext2_buf *b;
	uint32_t off, prev;
	if (r == 0)
		r = find(fs, dir, name, len, &b, &off, &prev);
	if (r < 0)
		return r;
	uint8_t *e = b->data + off;
	if (get16(e, 4) < rec_size((uint32_t)to_len)) {
		ext2_bput(fs, b);
		return 0;
	}
	e[6] = (uint8_t)to_len;
	memcpy(e + 8, to, to_len);
	ext2_bdirty(fs, b);
	ext2_bput(fs, b);
	return 1;
}

/* 1 when only "." and ".." (or empty slots) remain, 0 if not. */
int ext2_dir_is_empty(struct ext2_fs *fs, struct ext2_inode *dir)
{
	uint32_t n;
	int r = dir_blocks(fs, dir, &n);
	if (r < 0)
		return r;
	for (uint32_t lblk = 0; lblk < n; lblk++) {
		struct ext2_buf *b;
		r = get_dir_block(fs, dir, lblk, &b);
		if (r < 0)
			return r;
		if (!b)
			continue;
		for (uint32_t off = 0; off < fs->bs;) {
			int rec = entry_at(fs, dir, lblk, b->data, off);
			if (rec < 0) {
				ext2_bput(fs, b);
				return rec;
			}
			const uint8_t *e = b->data + off;
			if (get32(e, 0) && !name_is(e, ".", 1) && !name_is(e, "..", 2)) {
				ext2_bput(fs, b);
				return 0;
			}
			off += (uint32_t)rec;
		}
		ext2_bput(fs, b);
	}
	return 1;
}

int ext2_dir_init(struct ext2_fs *fs, struct ext2_inode *dir, uint32_t parent)
{
	uint32_t pblk;
	int r = ext2_bmap(fs, dir, 0, true, &pblk);
	if (r < 0)
		return r;
	struct ext2_buf *b;
	r = ext2_bget(fs, pblk, BUF_DATA, false, &b);
	if (r < 0)
		return r;
	fill(fs, b->data, dir->ino, 12, ".", 1, EXT2_DT_DIR);
	fill(fs, b->data + 12, parent, fs->bs - 12, "..", 2, EXT2_DT_DIR);
	ext2_bdirty(fs, b);
	ext2_bput(fs, b);
	dir->size = fs->bs;
	return 0;
}

int ext2_dir_set_dotdot(struct ext2_fs *fs, struct ext2_inode *dir, uint32_t parent)
{
	return ext2_dir_set(fs, dir, "..", 2, parent, EXT2_DT_DIR);
}

int ext2_readdir(struct ext2_fs *fs, uint32_t ino, uint64_t *cookie, struct ext2_dirent *de)
{
	struct ext2_inode dir;
	uint32_t n;
	int r = ext2_iget(fs, ino, &dir);
	if (r == 0)
		r = dir_blocks(fs, &dir, &n);
	if (r < 0)
		return r;
	while (*cookie < (uint64_t)n * fs->bs) {
		uint32_t lblk = (uint32_t)(*cookie / fs->bs), want = (uint32_t)(*cookie % fs->bs);
		struct ext2_buf *b;
		r = get_dir_block(fs, &dir, lblk, &b);
		if (r < 0)
			return r;
		if (!b) {
			*cookie = (uint64_t)(lblk + 1) * fs->bs;
			continue;
		}
		for (uint32_t off = 0; off < fs->bs;) {
			int rec = entry_at(fs, &dir, lblk, b->data, off);
			if (rec < 0) {
				ext2_bput(fs, b);
				return rec;
			}
			const uint8_t *e = b->data + off;
			off += (uint32_t)rec;
			if (off - (uint32_t)rec < want || !get32(e, 0))
				continue;
			de->ino = get32(e, 0);
			de->type = entry_type(fs, e);
			de->name_len = e[6];
			memcpy(de->name, e + 8, e[6]);
			de->name[e[6]] = 0;
			*cookie = (uint64_t)lblk * fs->bs + off;
			ext2_bput(fs, b);
			return 1;
		}
		ext2_bput(fs, b);
		*cookie = (uint64_t)(lblk + 1) * fs->bs;
	}
	return 0;
}
