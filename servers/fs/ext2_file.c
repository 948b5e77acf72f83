/* ext2_file.c: stat, read, write, truncate, readlink.  Holes read as
 * zeros and cost no blocks; a write allocates only the blocks it touches.
 * Data goes through the block cache (write-back; see ext2_cache.c). */
#include <string.h>
#include "ext2_internal.h"

/* The largest file size: the block map's reach, and at most 1 TiB so that
 * i_blocks (512-byte units, 32 bits) cannot overflow. */
static uint64_t max_size(struct ext2_fs *fs)
{
	uint64_t m = ext2_max_lblocks(fs) * fs->bs, cap = (uint64_t)1 << 40;
	return m < cap ? m : cap;
}

static int check_size(struct ext2_fs *fs, const struct ext2_inode *in)
{
	if (in->size > max_size(fs))
		return ext2_fail(fs, EXT2_ECORRUPT, "inode %u: impossible size %llu", in->ino,
				 (unsigned long long)in->size);
	return 0;
}

static int get_live(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in)
{
	int r = ext2_iget(fs, ino, in);
	if (r == 0 && in->links == 0)
		r = ext2_fail(fs, EXT2_ENOENT, "inode %u is not in use", ino);
	return r;
}

int ext2_stat(struct ext2_fs *fs, uint32_t ino, struct ext2_stat *st)
{
	struct ext2_inode in;
	int r = get_live(fs, ino, &in);
	if (r < 0)
		return r;
	st->ino = ino;
	st->mode = in.mode;
	st->links = in.links;
	st->uid = in.uid;
	st->gid = in.gid;
	st->size = in.size;
	st->blocks = in.blocks;
	st->atime = in.atime;
	st->mtime = in.mtime;
	st->ctime = in.ctime;
	return 0;
}

int64_t ext2_read(struct ext2_fs *fs, uint32_t ino, uint64_t off, void *buf, size_t len)
{
	struct ext2_inode in;
	int r = get_live(fs, ino, &in);
	if (r == 0 && (in.mode & EXT2_S_IFMT) == EXT2_S_IFDIR)
		r = ext2_fail(fs, EXT2_EISDIR, "read: inode %u is a directory", ino);
	if (r == 0 && !ext2_has_blocks(fs, &in))
		r = ext2_fail(fs, EXT2_EINVAL, "read: inode %u has no data blocks", ino);
	if (r == 0)
		r = check_size(fs, &in);
	if (r < 0)
		return r;
	if (off >= in.size)
		return 0;
	if (len > in.size - off)
		len = (size_t)(in.size - off);
	uint8_t *out = buf;
	size_t done = 0;
	while (done < len) {
		uint64_t pos = off + done;
		uint32_t in_blk = (uint32_t)(pos % fs->bs);
		size_t n = fs->bs - in_blk;
		if (n > len - done)
			n = len - done;
		uint32_t pblk;
		r = ext2_bmap(fs, &in, pos / fs->bs, false, &pblk);
		if (r < 0)
			return r;
		if (pblk == 0) {
			memset(out + done, 0, n);
		} else {
			struct ext2_buf *b;
			r = ext2_bget(fs, pblk, BUF_DATA, false, &b);
			if (r < 0)
				return r;
			memcpy(out + done, b->data + in_blk, n);
			ext2_bput(fs, b);
		}
		done += n;
	}
	return (int64_t)done;
}

static int writable_file(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in)
{
	if (fs->ro)
		return ext2_fail(fs, EXT2_EROFS, "read-only file system");
	int r = get_live(fs, ino, in);
	if (r < 0)
		return r;
	if ((in->mode & EXT2_S_IFMT) == EXT2_S_IFDIR)
		return ext2_fail(fs, EXT2_EISDIR, "inode %u is a directory", ino);
	if ((in->mode & EXT2_S_IFMT) != EXT2_S_IFREG)
		return ext2_fail(fs, EXT2_EINVAL, "inode %u is not a regular file", ino);
	return check_size(fs, in);
}

/* Files over 2 GiB need the large_file feature; set it on first use. */
static void note_size(struct ext2_fs *fs, uint64_t size)
{
	uint32_t ro = get32(fs->sb, SB_FEATURE_RO_COMPAT);
	if (size > 0x7fffffffu && !(ro & EXT2_FEATURE_RO_COMPAT_LARGE_FILE) &&
	    get32(fs->sb, SB_REV_LEVEL) > EXT2_GOOD_OLD_REV)
		ext2_sb_set32(fs, SB_FEATURE_RO_COMPAT, ro | EXT2_FEATURE_RO_COMPAT_LARGE_FILE);
}

static int64_t write_pinned(struct ext2_fs *fs, uint32_t ino, uint64_t off, const void *buf,
			    size_t len);

/* The inode's block stays pinned while blocks are allocated, so the final
 * iput, which records them, cannot fail on a read. */
int64_t ext2_write(struct ext2_fs *fs, uint32_t ino, uint64_t off, const void *buf, size_t len)
{
	struct ext2_buf *pin;
	int r = ext2_ipin(fs, ino, &pin);
	if (r < 0)
		return r;
	int64_t n = write_pinned(fs, ino, off, buf, len);
	ext2_bput(fs, pin);
	return n;
}

static int64_t write_pinned(struct ext2_fs *fs, uint32_t ino, uint64_t off, const void *buf,
			    size_t len)
{
	struct ext2_inode in;
	int r = writable_file(fs, ino, &in);
	if (r < 0)
		return r;
	if (len == 0)
		return 0;
	if (off >= max_size(fs) || len > max_size(fs) - off)
		return ext2_fail(fs, EXT2_EFBIG, "write beyond the largest file size");
	const uint8_t *src = buf;
	size_t done = 0;
	while (done < len) {
		uint64_t pos = off + done;
		uint32_t in_blk = (uint32_t)(pos % fs->bs);
		size_t n = fs->bs - in_blk;
		if (n > len - done)
			n = len - done;
		uint32_t pblk;
		r = ext2_bmap(fs, &in, pos / fs->bs, true, &pblk);
		struct ext2_buf *b = NULL;
		if (r == 0)
			r = ext2_bget(fs, pblk, BUF_DATA, n == fs->bs, &b);
		if (r < 0)
			break;
		memcpy(b->data + in_blk, src + done, n);
		ext2_bdirty(fs, b);
		ext2_bput(fs, b);
		done += n;
		if (pos + n > in.size)
			in.size = pos + n;
	}
	/* Whatever was allocated is recorded, even when the write stopped
	 * early (no space, I/O error): the inode must name its blocks. */
	if (done)
		in.mtime = in.ctime = ext2_now(fs);
	note_size(fs, in.size);
	int w = ext2_iput(fs, &in);
	if (done)
		return (int64_t)done;
	return r < 0 ? r : w;
}

static int truncate_pinned(struct ext2_fs *fs, uint32_t ino, uint64_t size);

/* Pinned as in ext2_write: the pointers cleared in memory must reach the
 * cache before their blocks may be reused. */
int ext2_truncate(struct ext2_fs *fs, uint32_t ino, uint64_t size)
{
	struct ext2_buf *pin;
	int r = ext2_ipin(fs, ino, &pin);
	if (r < 0)
		return r;
	r = truncate_pinned(fs, ino, size);
	ext2_bput(fs, pin);
	return r;
}

static int truncate_pinned(struct ext2_fs *fs, uint32_t ino, uint64_t size)
{
	struct ext2_inode in;
	int r = writable_file(fs, ino, &in);
	if (r < 0)
		return r;
	if (size > max_size(fs))
		return ext2_fail(fs, EXT2_EFBIG, "truncate beyond the largest file size");
	if (size < in.size) {
		uint64_t keep = (size + fs->bs - 1) / fs->bs;
		r = ext2_free_from(fs, &in, keep);
		/* The kept part of the last block must read as zeros if the
		 * file grows again. */
		uint32_t pblk = 0;
		if (r == 0 && size % fs->bs)
			r = ext2_bmap(fs, &in, size / fs->bs, false, &pblk);
		if (r == 0 && pblk) {
			struct ext2_buf *b;
			r = ext2_bget(fs, pblk, BUF_DATA, false, &b);
			if (r == 0) {
				memset(b->data + size % fs->bs, 0, fs->bs - size % fs->bs);
				ext2_bdirty(fs, b);
				ext2_bput(fs, b);
			}
		}
	}
	if (r == 0)
		in.size = size;
	in.mtime = in.ctime = ext2_now(fs);
	note_size(fs, in.size);
	int w = ext2_iput(fs, &in);
	ext2_frees_ready(fs);
	return r < 0 ? r : w;
}

int ext2_readlink(struct ext2_fs *fs, uint32_t ino, char *buf, size_t len)
{
	struct ext2_inode in;
	int r = get_live(fs, ino, &in);
	if (r < 0)
		return r;
	if ((in.mode & EXT2_S_IFMT) != EXT2_S_IFLNK)
		return ext2_fail(fs, EXT2_EINVAL, "inode %u is not a symbolic link", ino);
	if (len == 0)
		return EXT2_EINVAL;
	uint64_t n = in.size < len - 1 ? in.size : len - 1;
	if (!ext2_has_blocks(fs, &in)) {
		uint8_t raw[60];
		for (int i = 0; i < 15; i++)
			put32(raw, 4 * (size_t)i, in.block[i]);
		if (n > sizeof raw)
			return ext2_fail(fs, EXT2_ECORRUPT, "symlink %u: impossible size", ino);
		memcpy(buf, raw, n);
	} else {
		if (n > fs->bs)
			n = fs->bs;
		int64_t got = ext2_read(fs, ino, 0, buf, (size_t)n);
		if (got < 0)
			return (int)got;
		n = (uint64_t)got;
	}
	buf[n] = 0;
	return (int)n;
}
