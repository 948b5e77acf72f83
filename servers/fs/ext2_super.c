/* ext2_super.c: mount (checking the superblock and group descriptors),
 * unmount, statfs, the superblock's state field and the error message. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ext2_internal.h"

int ext2_fail(struct ext2_fs *fs, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(fs->err, sizeof fs->err, fmt, ap);
	va_end(ap);
	/* As Linux's ext2_error: damage found on a mounted file system is
	 * recorded in the superblock, so the next e2fsck -p checks it. */
	if (err == EXT2_ECORRUPT && fs->mounted && !fs->ro &&
	    !(fs->state_at_mount & EXT2_ERROR_FS)) {
		fs->state_at_mount |= EXT2_ERROR_FS;
		put16(fs->sb, SB_STATE, get16(fs->sb, SB_STATE) | EXT2_ERROR_FS);
		fs->sb_dirty = true;
	}
	return err;
}

const char *ext2_last_error(const struct ext2_fs *fs)
{
	return fs->err;
}

bool ext2_is_read_only(const struct ext2_fs *fs)
{
	return fs->ro;
}

uint32_t ext2_now(struct ext2_fs *fs)
{
	return fs->now ? fs->now(fs->now_ctx) : 0;
}

static void say(struct ext2_fs *fs, const char *msg)
{
	if (fs->notice)
		fs->notice(fs->notice_ctx, msg);
}

void ext2_sb_set32(struct ext2_fs *fs, size_t off, uint32_t v)
{
	put32(fs->sb, off, v);
	fs->sb_dirty = true;
}

uint8_t *ext2_gd(struct ext2_fs *fs, uint32_t group)
{
	return fs->gdt + (size_t)group * GD_SIZE;
}

void ext2_gd_dirty(struct ext2_fs *fs, uint32_t group)
{
	fs->gdt_dirty[(size_t)group * GD_SIZE / fs->bs] = true;
}

/* The superblock lives at byte 1024 whatever the block size; it is read
 * and written as the sectors that hold it. */
static int sb_io(struct ext2_fs *fs, bool write)
{
	struct ext2_blockdev *d = fs->dev;
	uint64_t sec = EXT2_SUPER_OFFSET / d->sector_size;
	uint32_t n = 1024 / d->sector_size;
	int r = write ? d->write(d->ctx, sec, n, fs->sb) : d->read(d->ctx, sec, n, fs->sb);
	return r < 0 ? ext2_fail(fs, EXT2_EIO, "superblock %s failed (%d)",
				 write ? "write" : "read", r) : 0;
}

/* Writes the superblock and dirty descriptor blocks (primary copies only,
 * as Linux does; the backups matter only when the primary is lost). */
int ext2_write_super_gdt(struct ext2_fs *fs)
{
	for (uint32_t i = 0; i < fs->gdt_blocks; i++) {
		if (!fs->gdt_dirty[i])
			continue;
		int r = ext2_dev_write(fs, fs->first_data_block + 1 + i, fs->gdt + (size_t)i * fs->bs);
		if (r < 0)
			return r;
		fs->gdt_dirty[i] = false;
	}
	if (fs->sb_dirty) {
		put32(fs->sb, SB_WTIME, ext2_now(fs));
		int r = sb_io(fs, true);
		if (r < 0)
			return r;
		fs->sb_dirty = false;
	}
	return 0;
}

static int check_geometry(struct ext2_fs *fs)
{
	uint8_t *sb = fs->sb;
	struct ext2_blockdev *d = fs->dev;
	if (get16(sb, SB_MAGIC) != EXT2_SUPER_MAGIC)
		return ext2_fail(fs, EXT2_EINVAL, "bad superblock magic %#x (not ext2)", get16(sb, SB_MAGIC));
	uint32_t log = get32(sb, SB_LOG_BLOCK_SIZE);
	if (log > 2)
		return ext2_fail(fs, EXT2_ECORRUPT, "unsupported block size 1024<<%u", log);
	fs->bs = 1024u << log;
	if (fs->bs % d->sector_size)
		return ext2_fail(fs, EXT2_EINVAL, "block size %u is not a multiple of the sector size", fs->bs);
	fs->sec_per_blk = fs->bs / d->sector_size;
	fs->ptrs = fs->bs / 4;
	fs->blocks_count = get32(sb, SB_BLOCKS_COUNT);
	fs->inodes_count = get32(sb, SB_INODES_COUNT);
	fs->first_data_block = get32(sb, SB_FIRST_DATA_BLOCK);
	fs->bpg = get32(sb, SB_BLOCKS_PER_GROUP);
	fs->ipg = get32(sb, SB_INODES_PER_GROUP);
	if (fs->first_data_block != (fs->bs == 1024 ? 1u : 0u))
		return ext2_fail(fs, EXT2_ECORRUPT, "first data block %u impossible for block size %u",
				 fs->first_data_block, fs->bs);
	if (get32(sb, SB_REV_LEVEL) == EXT2_GOOD_OLD_REV) {
		fs->inode_size = EXT2_GOOD_OLD_INODE_SIZE;
		fs->first_ino = EXT2_GOOD_OLD_FIRST_INO;
	} else {
		fs->inode_size = get16(sb, SB_INODE_SIZE);
		fs->first_ino = get32(sb, SB_FIRST_INO);
	}
	if (fs->inode_size < 128 || fs->inode_size > fs->bs || (fs->inode_size & (fs->inode_size - 1)))
		return ext2_fail(fs, EXT2_ECORRUPT, "bad inode size %u", fs->inode_size);
	if (fs->bpg == 0 || fs->bpg > 8 * fs->bs || fs->ipg == 0 || fs->ipg > 8 * fs->bs)
		return ext2_fail(fs, EXT2_ECORRUPT, "bad group size: %u blocks, %u inodes per group",
				 fs->bpg, fs->ipg);
	if (fs->blocks_count <= fs->first_data_block + 1)
		return ext2_fail(fs, EXT2_ECORRUPT, "bad block count %u", fs->blocks_count);
	if ((uint64_t)fs->blocks_count * fs->sec_per_blk > d->sectors)
		return ext2_fail(fs, EXT2_ECORRUPT, "block count %u exceeds the device (%llu sectors)",
				 fs->blocks_count, (unsigned long long)d->sectors);
	fs->ngroups = (fs->blocks_count - fs->first_data_block + fs->bpg - 1) / fs->bpg;
	if ((uint64_t)fs->ngroups * fs->ipg != fs->inodes_count)
		return ext2_fail(fs, EXT2_ECORRUPT, "inode count %u is not %u groups of %u",
				 fs->inodes_count, fs->ngroups, fs->ipg);
	if (fs->first_ino < EXT2_GOOD_OLD_FIRST_INO || fs->first_ino >= fs->inodes_count)
		return ext2_fail(fs, EXT2_ECORRUPT, "bad first inode %u", fs->first_ino);
	fs->itable_blocks = (uint32_t)(((uint64_t)fs->ipg * fs->inode_size + fs->bs - 1) / fs->bs);
	fs->gdt_blocks = (uint32_t)(((uint64_t)fs->ngroups * GD_SIZE + fs->bs - 1) / fs->bs);
	fs->reserved_gdt = get16(sb, SB_RESERVED_GDT);
	if (fs->reserved_gdt > fs->ptrs)
		return ext2_fail(fs, EXT2_ECORRUPT, "bad reserved GDT block count %u", fs->reserved_gdt);
	if (1 + fs->gdt_blocks + fs->reserved_gdt + 2 + fs->itable_blocks > fs->bpg)
		return ext2_fail(fs, EXT2_ECORRUPT, "group metadata does not fit in a group");
	if (get32(sb, SB_R_BLOCKS_COUNT) > fs->blocks_count)
		return ext2_fail(fs, EXT2_ECORRUPT, "reserved block count exceeds block count");
	return 0;
}

/* Each group's bitmaps and inode table must lie inside the group, after
 * its superblock and descriptor copies (ext2 without flex_bg). */
static int check_groups(struct ext2_fs *fs)
{
	uint64_t free_b = 0, free_i = 0;
	for (uint32_t g = 0; g < fs->ngroups; g++) {
		uint8_t *gd = ext2_gd(fs, g);
		uint32_t first = fs->first_data_block + g * fs->bpg;
		uint32_t last = first + fs->bpg - 1;
		if (last >= fs->blocks_count)
			last = fs->blocks_count - 1;
		uint32_t meta_end = first + (ext2_group_has_super(fs, g) ?
			1 + fs->gdt_blocks + fs->reserved_gdt : 0);
		uint32_t bb = get32(gd, GD_BLOCK_BITMAP), ib = get32(gd, GD_INODE_BITMAP);
		uint32_t it = get32(gd, GD_INODE_TABLE);
		if (bb < meta_end || bb > last || ib < meta_end || ib > last || bb == ib ||
		    it < meta_end || (uint64_t)it + fs->itable_blocks - 1 > last ||
		    (bb >= it && bb < it + fs->itable_blocks) ||
		    (ib >= it && ib < it + fs->itable_blocks))
			return ext2_fail(fs, EXT2_ECORRUPT,
					 "group %u descriptor: bitmaps %u/%u or inode table %u outside the group",
					 g, bb, ib, it);
		uint32_t nblocks = last - first + 1;
		if (get16(gd, GD_FREE_BLOCKS) > nblocks || get16(gd, GD_FREE_INODES) > fs->ipg ||
		    get16(gd, GD_USED_DIRS) > fs->ipg)
			return ext2_fail(fs, EXT2_ECORRUPT, "group %u descriptor: impossible counts", g);
		free_b += get16(gd, GD_FREE_BLOCKS);
		free_i += get16(gd, GD_FREE_INODES);
	}
	/* The superblock's totals are a summary; Linux recomputes them too. */
	put32(fs->sb, SB_FREE_BLOCKS, (uint32_t)free_b);
	put32(fs->sb, SB_FREE_INODES, (uint32_t)free_i);
	return 0;
}

static void copy_msg(char *msg, size_t len, const char *s)
{
	if (!msg || !len)
		return;
	size_t n = strlen(s);
	if (n >= len)
		n = len - 1;
	memcpy(msg, s, n);
	msg[n] = 0;
}

void ext2_abandon(struct ext2_fs *fs)
{
	if (!fs)
		return;
	ext2_cache_free(fs);
	free(fs->gdt);
	free(fs->gdt_dirty);
	free(fs->free_blocks);
	free(fs->free_inodes);
	free(fs->bhint);
	free(fs);
}

int ext2_mount(const struct ext2_mount_params *p, struct ext2_fs **out, char *msg, size_t msg_len)
{
	*out = NULL;
	struct ext2_blockdev *d = p->dev;
	if (!d || !d->read || !d->write || !d->flush || d->sector_size < 512 ||
	    d->sector_size > 1024 || (d->sector_size & (d->sector_size - 1))) {
		copy_msg(msg, msg_len, "bad block device parameters");
		return EXT2_EINVAL;
	}
	struct ext2_fs *fs = calloc(1, sizeof *fs);
	if (!fs) {
		copy_msg(msg, msg_len, "out of memory");
		return EXT2_ENOMEM;
	}
	fs->dev = d;
	fs->ro = p->read_only;
	fs->now = p->now;
	fs->now_ctx = p->now_ctx;
	fs->notice = p->notice;
	fs->notice_ctx = p->notice_ctx;
	int r = sb_io(fs, false);
	if (r == 0)
		r = check_geometry(fs);
	if (r < 0)
		goto fail;
	uint32_t incompat = get32(fs->sb, SB_FEATURE_INCOMPAT);
	uint32_t ro_compat = get32(fs->sb, SB_FEATURE_RO_COMPAT);
	if (incompat & ~(uint32_t)EXT2_FEATURE_INCOMPAT_SUPPORTED) {
		r = ext2_fail(fs, EXT2_ENOTSUP, "unsupported incompatible features %#x (journal, extents, 64bit...?): not mounting",
			      incompat & ~(uint32_t)EXT2_FEATURE_INCOMPAT_SUPPORTED);
		goto fail;
	}
	fs->filetype = incompat & EXT2_FEATURE_INCOMPAT_FILETYPE;
	fs->dir_index = get32(fs->sb, SB_FEATURE_COMPAT) & EXT2_FEATURE_COMPAT_DIR_INDEX;
	if ((ro_compat & ~(uint32_t)EXT2_FEATURE_RO_COMPAT_SUPPORTED) && !fs->ro) {
		char m[96];
		snprintf(m, sizeof m, "unsupported read-only-compatible features %#x: mounting read-only",
			 ro_compat & ~(uint32_t)EXT2_FEATURE_RO_COMPAT_SUPPORTED);
		say(fs, m);
		ext2_fail(fs, 0, "%s", m);
		fs->ro = true;
	}
	fs->want_extra_isize = fs->inode_size > 128 ? get16(fs->sb, SB_WANT_EXTRA_ISIZE) : 0;
	if (fs->want_extra_isize < 4 || fs->want_extra_isize > fs->inode_size - 128)
		fs->want_extra_isize = fs->inode_size > 128 ? 32 : 0;
	if (fs->want_extra_isize > fs->inode_size - 128)
		fs->want_extra_isize = (uint16_t)(fs->inode_size - 128);

	fs->gdt = malloc((size_t)fs->gdt_blocks * fs->bs);
	fs->gdt_dirty = calloc(fs->gdt_blocks, sizeof *fs->gdt_dirty);
	fs->bhint = calloc(fs->ngroups, sizeof *fs->bhint);
	if (!fs->gdt || !fs->gdt_dirty || !fs->bhint) {
		r = ext2_fail(fs, EXT2_ENOMEM, "out of memory for descriptors");
		goto fail;
	}
	for (uint32_t i = 0; i < fs->gdt_blocks; i++) {
		r = ext2_dev_read(fs, fs->first_data_block + 1 + i, fs->gdt + (size_t)i * fs->bs);
		if (r < 0)
			goto fail;
	}
	r = check_groups(fs);
	if (r < 0)
		goto fail;
	r = ext2_cache_init(fs, p->cache_blocks ? p->cache_blocks : 64);
	if (r < 0)
		goto fail;

	fs->state_at_mount = get16(fs->sb, SB_STATE);
	if (!(fs->state_at_mount & EXT2_VALID_FS))
		say(fs, "ext2: file system was not cleanly unmounted, running e2fsck is recommended");
	else if (fs->state_at_mount & EXT2_ERROR_FS)
		say(fs, "ext2: file system has errors, running e2fsck is recommended");
	int16_t max_mnt = (int16_t)get16(fs->sb, SB_MAX_MNT_COUNT);
	if (max_mnt > 0 && get16(fs->sb, SB_MNT_COUNT) >= max_mnt)
		say(fs, "ext2: maximal mount count reached, running e2fsck is recommended");
	if (!fs->ro) {
		/* As Linux: the valid bit is off while mounted read-write, so a
		 * crash leaves a file system e2fsck will check. */
		put16(fs->sb, SB_STATE, fs->state_at_mount & (uint16_t)~EXT2_VALID_FS);
		put16(fs->sb, SB_MNT_COUNT, (uint16_t)(get16(fs->sb, SB_MNT_COUNT) + 1));
		put32(fs->sb, SB_MTIME, ext2_now(fs));
		fs->sb_dirty = true;
		r = ext2_write_super_gdt(fs);
		if (r == 0)
			r = ext2_dev_flush(fs);
		if (r < 0)
			goto fail;
	}
	fs->mounted = true;
	*out = fs;
	return 0;
fail:
	copy_msg(msg, msg_len, fs->err);
	ext2_abandon(fs);
	return r;
}

int ext2_sync(struct ext2_fs *fs)
{
	return fs->ro ? 0 : ext2_sync_all(fs);
}

int ext2_fsync(struct ext2_fs *fs, uint32_t ino)
{
	if (ino == 0 || ino > fs->inodes_count)
		return ext2_fail(fs, EXT2_EINVAL, "fsync: bad inode number %u", ino);
	return ext2_sync(fs);
}

int ext2_unmount(struct ext2_fs *fs)
{
	if (!fs->ro) {
		int r = ext2_sync_all(fs);
		if (r < 0)
			return r;
		put16(fs->sb, SB_STATE, fs->state_at_mount);
		fs->sb_dirty = true;
		r = ext2_write_super_gdt(fs);
		if (r == 0)
			r = ext2_dev_flush(fs);
		if (r < 0)
			return r;
	}
	ext2_abandon(fs);
	return 0;
}

int ext2_statfs(struct ext2_fs *fs, struct ext2_statfs *st)
{
	uint32_t free_b = get32(fs->sb, SB_FREE_BLOCKS), r = get32(fs->sb, SB_R_BLOCKS_COUNT);
	st->block_size = fs->bs;
	st->blocks = fs->blocks_count - fs->first_data_block;
	st->blocks_free = free_b;
	st->blocks_avail = free_b > r ? free_b - r : 0;
	st->inodes = fs->inodes_count;
	st->inodes_free = get32(fs->sb, SB_FREE_INODES);
	st->name_max = EXT2_NAME_MAX;
	return 0;
}
