/* ext2_path.c: path walk and the namespace operations (open/create,
 * mkdir, rmdir, unlink, rename).
 *
 * Each namespace operation is durable on return and changes the disk in
 * stages with a sync between them, so that a crash between any two
 * writes leaves a state e2fsck -p repairs (docs/fs.md):
 *   create/mkdir: the entry is written before the new inode;
 *   unlink/rmdir: the inode's link count drops first, then the entry
 *   goes, then blocks and inode are freed;
 *   rename: the new entry is written before the old one goes. */
#include <string.h>
#include "ext2_internal.h"

#define EXT2_LINK_MAX 32000

/* The next component of *p (skipping '/'); 0 at the end. */
static size_t next_name(const char **p, const char **name)
{
	while (**p == '/')
		(*p)++;
	*name = *p;
	while (**p && **p != '/')
		(*p)++;
	return (size_t)(*p - *name);
}

static int lookup_in(struct ext2_fs *fs, uint32_t dir_ino, const char *name, size_t len,
		     uint32_t *ino)
{
	struct ext2_inode dir;
	int r = ext2_iget(fs, dir_ino, &dir);
	if (r < 0)
		return r;
	if ((dir.mode & EXT2_S_IFMT) != EXT2_S_IFDIR)
		return ext2_fail(fs, EXT2_ENOTDIR, "inode %u is not a directory", dir_ino);
	r = ext2_dir_find(fs, &dir, name, len, ino, NULL);
	if (r == EXT2_ENOENT)
		return ext2_fail(fs, EXT2_ENOENT, "'%.*s' not found", (int)len, name);
	if (r == 0 && *ino == 0)
		return ext2_fail(fs, EXT2_ECORRUPT, "entry '%.*s' names inode 0", (int)len, name);
	return r;
}

static int walk_from(struct ext2_fs *fs, const char *p, const char *end, uint32_t *ino)
{
	uint32_t cur = EXT2_ROOT_INO;
	for (;;) {
		const char *name;
		size_t len = next_name(&p, &name);
		if (len == 0 || name >= end)
			break;
		if (len > EXT2_NAME_MAX)
			return ext2_fail(fs, EXT2_ENAMETOOLONG, "name too long");
		if (len == 1 && name[0] == '.')
			continue;
		int r = lookup_in(fs, cur, name, len, &cur);
		if (r < 0)
			return r;
	}
	*ino = cur;
	return 0;
}

int ext2_walk(struct ext2_fs *fs, const char *path, uint32_t *ino)
{
	if (!path || path[0] != '/')
		return ext2_fail(fs, EXT2_EINVAL, "path is not absolute");
	return walk_from(fs, path, path + strlen(path), ino);
}

/* The directory holding path's last component, and that component. */
int ext2_walk_parent(struct ext2_fs *fs, const char *path, uint32_t *parent,
		     const char **name, size_t *len)
{
	if (!path || path[0] != '/')
		return ext2_fail(fs, EXT2_EINVAL, "path is not absolute");
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	size_t s = n;
	while (s > 0 && path[s - 1] != '/')
		s--;
	*name = path + s;
	*len = n - s;
	if (*len == 0 || (*len == 1 && path[s] == '.') || (*len == 2 && !memcmp(path + s, "..", 2)))
		return ext2_fail(fs, EXT2_EINVAL, "'%s' does not end in a name", path);
	if (*len > EXT2_NAME_MAX)
		return ext2_fail(fs, EXT2_ENAMETOOLONG, "name too long");
	int r = walk_from(fs, path, path + s, parent);
	if (r < 0)
		return r;
	struct ext2_inode dir;
	r = ext2_iget(fs, *parent, &dir);
	if (r == 0 && (dir.mode & EXT2_S_IFMT) != EXT2_S_IFDIR)
		r = ext2_fail(fs, EXT2_ENOTDIR, "parent of '%s' is not a directory", path);
	return r;
}

int ext2_lookup(struct ext2_fs *fs, const char *path, uint32_t *ino)
{
	return ext2_walk(fs, path, ino);
}

static bool is_dir(const struct ext2_inode *in)
{
	return (in->mode & EXT2_S_IFMT) == EXT2_S_IFDIR;
}

static int writable(struct ext2_fs *fs)
{
	return fs->ro ? ext2_fail(fs, EXT2_EROFS, "read-only file system") : 0;
}

/* The end of every namespace operation: its frees may now be applied,
 * and it is made durable. */
static int finish(struct ext2_fs *fs, int r)
{
	ext2_frees_ready(fs);
	int s = ext2_sync_all(fs);
	return r < 0 ? r : s;
}

static void touch(struct ext2_fs *fs, struct ext2_inode *in)
{
	in->mtime = in->ctime = ext2_now(fs);
}

static int make_node_pinned(struct ext2_fs *fs, struct ext2_inode *pp, const char *name,
			    size_t len, uint16_t mode, uint32_t ino);

/* Adds a new inode of mode under parent as name; *ino is its number. */
static int make_node(struct ext2_fs *fs, uint32_t parent_ino, const char *name, size_t len,
		     uint16_t mode, uint32_t *ino)
{
	struct ext2_inode parent;
	bool dir = (mode & EXT2_S_IFMT) == EXT2_S_IFDIR;
	int r = ext2_iget(fs, parent_ino, &parent);
	if (r < 0)
		return r;
	if (parent.links == 0)
		return ext2_fail(fs, EXT2_ENOENT, "parent directory was removed");
	if (dir && parent.links >= EXT2_LINK_MAX)
		return ext2_fail(fs, EXT2_EMLINK, "too many links to the parent directory");
	r = ext2_alloc_inode(fs, parent_ino, dir, ino);
	if (r < 0)
		return r;
	/* Both inode blocks stay in the cache until the end, so that once
	 * the entry is in, writing the inodes cannot fail. */
	struct ext2_buf *pin_new, *pin_parent;
	r = ext2_ipin(fs, *ino, &pin_new);
	if (r == 0)
		r = ext2_ipin(fs, parent_ino, &pin_parent);
	if (r < 0) {
		ext2_bput(fs, pin_new);
		ext2_unalloc_inode(fs, *ino, dir);
		return r;
	}
	r = make_node_pinned(fs, &parent, name, len, mode, *ino);
	ext2_bput(fs, pin_new);
	ext2_bput(fs, pin_parent);
	return r;
}

static int make_node_pinned(struct ext2_fs *fs, struct ext2_inode *pp, const char *name,
			    size_t len, uint16_t mode, uint32_t ino)
{
	struct ext2_inode in, parent = *pp;
	bool dir = (mode & EXT2_S_IFMT) == EXT2_S_IFDIR;
	uint32_t parent_ino = parent.ino;
	int r;
	ext2_inew(fs, &in, ino, mode);
	in.uid = parent.uid;
	in.gid = parent.gid;
	if (dir) {
		in.links = 2;
		r = ext2_dir_init(fs, &in, parent_ino);
		if (r < 0) {
			ext2_unalloc_inode(fs, ino, true);
			return r;
		}
	}
	/* The entry first: until the inode is written it names an unused
	 * inode, which e2fsck -p simply drops. */
	r = ext2_dir_add(fs, &parent, name, len, ino, ext2_mode_to_dt(mode));
	if (r < 0) {
		if (dir && in.block[0])
			ext2_unalloc_block(fs, in.block[0]);
		ext2_unalloc_inode(fs, ino, dir);
		ext2_iput(fs, &parent); /* it may have lost its index flag */
		return r;
	}
	r = ext2_iput(fs, &in);
	if (dir)
		parent.links++;
	touch(fs, &parent);
	int w = ext2_iput(fs, &parent);
	return r < 0 ? r : w;
}

int ext2_open(struct ext2_fs *fs, const char *path, unsigned flags, uint16_t mode, uint32_t *ino)
{
	uint32_t parent;
	const char *name;
	size_t len;
	if (!(flags & EXT2_O_CREAT)) {
		int r = ext2_walk(fs, path, ino);
		if (r < 0 || !(flags & EXT2_O_TRUNC))
			return r;
		return ext2_truncate(fs, *ino, 0);
	}
	int r = ext2_walk_parent(fs, path, &parent, &name, &len);
	if (r < 0)
		return r;
	r = lookup_in(fs, parent, name, len, ino);
	if (r == 0) {
		if (flags & EXT2_O_EXCL)
			return ext2_fail(fs, EXT2_EEXIST, "'%s' exists", path);
		return (flags & EXT2_O_TRUNC) ? ext2_truncate(fs, *ino, 0) : 0;
	}
	if (r != EXT2_ENOENT)
		return r;
	if ((r = writable(fs)) < 0)
		return r;
	r = make_node(fs, parent, name, len, (uint16_t)(EXT2_S_IFREG | (mode & 07777)), ino);
	return finish(fs, r);
}

int ext2_mkdir(struct ext2_fs *fs, const char *path, uint16_t mode)
{
	uint32_t parent, ino;
	const char *name;
	size_t len;
	int r = writable(fs);
	if (r == 0)
		r = ext2_walk_parent(fs, path, &parent, &name, &len);
	if (r < 0)
		return r;
	r = lookup_in(fs, parent, name, len, &ino);
	if (r == 0)
		return ext2_fail(fs, EXT2_EEXIST, "'%s' exists", path);
	if (r != EXT2_ENOENT)
		return r;
	r = make_node(fs, parent, name, len, (uint16_t)(EXT2_S_IFDIR | (mode & 07777)), &ino);
	return finish(fs, r);
}

/* A sync between two stages of an operation.  If the device fails, the
 * operation still completes in memory (so the cache stays consistent and
 * a later sync writes it) and reports the error; only the stage order on
 * disk is lost for that one operation. */
static void stage_sync(struct ext2_fs *fs, int *err)
{
	int r = ext2_sync_all(fs);
	if (r < 0 && *err == 0)
		*err = r;
}

/* Drops one link of ino (a file or, with its parent's link for "..", an
 * empty directory), durably, before any entry naming it goes: an entry
 * naming a deleted inode is repaired by e2fsck -p, an unnamed inode with
 * data is not. */
static int drop_link(struct ext2_fs *fs, uint32_t ino, uint32_t parent_ino, int *err)
{
	struct ext2_inode in, parent;
	int r = ext2_iget(fs, ino, &in);
	if (r < 0)
		return r;
	if (is_dir(&in)) {
		in.links = 0;
		r = ext2_iget(fs, parent_ino, &parent);
		if (r < 0)
			return r;
		if (parent.links > 2)
			parent.links--;
		touch(fs, &parent);
		r = ext2_iput(fs, &parent);
		if (r < 0)
			return r;
	} else if (in.links) {
		in.links--;
	}
	in.ctime = ext2_now(fs);
	if (in.links == 0)
		in.dtime = in.ctime ? in.ctime : 1;
	r = ext2_iput(fs, &in);
	if (r == 0)
		stage_sync(fs, err);
	return r;
}

/* Undoes drop_link when the entry could not be removed after all. */
static void restore_link(struct ext2_fs *fs, uint32_t ino, uint32_t parent_ino)
{
	struct ext2_inode in, parent;
	if (ext2_iget(fs, ino, &in) < 0)
		return;
	if (is_dir(&in)) {
		in.links = 2;
		if (ext2_iget(fs, parent_ino, &parent) == 0) {
			parent.links++;
			ext2_iput(fs, &parent);
		}
	} else {
		in.links++;
	}
	in.dtime = 0;
	ext2_iput(fs, &in);
}

/* After its last entry is gone: gives back ino's blocks and number. */
static int reap(struct ext2_fs *fs, uint32_t ino)
{
	struct ext2_inode in;
	int r = ext2_iget(fs, ino, &in);
	if (r < 0 || in.links)
		return r;
	r = ext2_release_inode(fs, &in);
	int w = ext2_iput(fs, &in);
	int d = ext2_defer_free_inode(fs, ino, is_dir(&in));
	return r < 0 ? r : w < 0 ? w : d;
}

static int remove_entry(struct ext2_fs *fs, uint32_t parent_ino, const char *name, size_t len)
{
	struct ext2_inode parent;
	int r = ext2_iget(fs, parent_ino, &parent);
	if (r == 0)
		r = ext2_dir_remove(fs, &parent, name, len);
	if (r < 0)
		return r;
	touch(fs, &parent);
	return ext2_iput(fs, &parent);
}

static int unlink_common(struct ext2_fs *fs, const char *path, bool want_dir)
{
	uint32_t parent, ino;
	const char *name;
	size_t len;
	struct ext2_inode in;
	int r = writable(fs);
	if (r == 0)
		r = ext2_walk_parent(fs, path, &parent, &name, &len);
	if (r == 0)
		r = lookup_in(fs, parent, name, len, &ino);
	if (r == 0)
		r = ext2_iget(fs, ino, &in);
	if (r < 0)
		return r;
	if (want_dir) {
		if (!is_dir(&in))
			return ext2_fail(fs, EXT2_ENOTDIR, "'%s' is not a directory", path);
		if (ino == EXT2_ROOT_INO || ino == parent)
			return ext2_fail(fs, EXT2_EBUSY, "cannot remove '%s'", path);
		r = ext2_dir_is_empty(fs, &in);
		if (r < 0)
			return r;
		if (r == 0)
			return ext2_fail(fs, EXT2_ENOTEMPTY, "'%s' is not empty", path);
	} else if (is_dir(&in)) {
		return ext2_fail(fs, EXT2_EISDIR, "'%s' is a directory", path);
	}
	/* Pinned: once the link count drops, the entry's removal (or the
	 * undo) must not fail on a read. */
	struct ext2_buf *pins[3] = { 0 };
	struct ext2_inode pdir;
	r = ext2_ipin(fs, ino, &pins[0]);
	if (r == 0)
		r = ext2_ipin(fs, parent, &pins[1]);
	if (r == 0)
		r = ext2_iget(fs, parent, &pdir);
	if (r == 0)
		r = ext2_dir_pin(fs, &pdir, name, len, &pins[2]);
	int err = 0;
	if (r == 0)
		r = drop_link(fs, ino, parent, &err);
	if (r == 0) {
		r = remove_entry(fs, parent, name, len);
		if (r < 0)
			restore_link(fs, ino, parent);
	}
	if (r == 0)
		r = reap(fs, ino);
	for (int i = 0; i < 3; i++)
		ext2_bput(fs, pins[i]);
	r = finish(fs, r);
	return r < 0 ? r : err;
}

int ext2_unlink(struct ext2_fs *fs, const char *path)
{
	return unlink_common(fs, path, false);
}

int ext2_rmdir(struct ext2_fs *fs, const char *path)
{
	return unlink_common(fs, path, true);
}

/* Whether directory anc is dir or one of its ancestors (walking ".."). */
static int is_ancestor(struct ext2_fs *fs, uint32_t anc, uint32_t dir)
{
	for (uint32_t steps = 0; steps < 65536; steps++) {
		if (dir == anc)
			return 1;
		if (dir == EXT2_ROOT_INO)
			return 0;
		int r = lookup_in(fs, dir, "..", 2, &dir);
		if (r < 0)
			return r;
	}
	return ext2_fail(fs, EXT2_ECORRUPT, "'..' chain does not reach the root");
}

static int rename_pinned(struct ext2_fs *fs, uint32_t sp, const char *sname, size_t slen,
			 uint32_t dp, const char *dname, size_t dlen, uint32_t src, uint32_t dst,
			 bool dir, uint16_t mode);

int ext2_rename(struct ext2_fs *fs, const char *from, const char *to)
{
	uint32_t sp, dp, src, dst = 0;
	const char *sname, *dname;
	size_t slen, dlen;
	struct ext2_inode s, d, dparent;
	int r = writable(fs);
	if (r == 0)
		r = ext2_walk_parent(fs, from, &sp, &sname, &slen);
	if (r == 0)
		r = ext2_walk_parent(fs, to, &dp, &dname, &dlen);
	if (r == 0)
		r = lookup_in(fs, sp, sname, slen, &src);
	if (r == 0)
		r = ext2_iget(fs, src, &s);
	if (r < 0)
		return r;
	bool dir = is_dir(&s);
	r = lookup_in(fs, dp, dname, dlen, &dst);
	if (r == 0) {
		if (dst == src)
			return 0;
		r = ext2_iget(fs, dst, &d);
		if (r < 0)
			return r;
		if (dir && !is_dir(&d))
			return ext2_fail(fs, EXT2_ENOTDIR, "'%s' is not a directory", to);
		if (!dir && is_dir(&d))
			return ext2_fail(fs, EXT2_EISDIR, "'%s' is a directory", to);
		if (dir && (r = ext2_dir_is_empty(fs, &d)) <= 0)
			return r < 0 ? r : ext2_fail(fs, EXT2_ENOTEMPTY, "'%s' is not empty", to);
	} else if (r == EXT2_ENOENT) {
		dst = 0;
	} else {
		return r;
	}
	if (dir) {
		if (src == EXT2_ROOT_INO)
			return ext2_fail(fs, EXT2_EBUSY, "cannot move the root");
		r = is_ancestor(fs, src, dp);
		if (r < 0)
			return r;
		if (r)
			return ext2_fail(fs, EXT2_EINVAL, "cannot move '%s' into itself", from);
		r = ext2_iget(fs, dp, &dparent);
		if (r < 0)
			return r;
		if (sp != dp && !dst && dparent.links >= EXT2_LINK_MAX)
			return ext2_fail(fs, EXT2_EMLINK, "too many links to '%s''s parent", to);
	}
	struct ext2_buf *pins[5] = { 0 };
	struct ext2_inode sdir;
	r = ext2_ipin(fs, src, &pins[0]);
	if (r == 0)
		r = ext2_ipin(fs, sp, &pins[1]);
	if (r == 0)
		r = ext2_ipin(fs, dp, &pins[2]);
	if (r == 0 && dst)
		r = ext2_ipin(fs, dst, &pins[3]);
	if (r == 0)
		r = ext2_iget(fs, sp, &sdir);
	if (r == 0)
		r = ext2_dir_pin(fs, &sdir, sname, slen, &pins[4]);
	if (r == 0)
		r = rename_pinned(fs, sp, sname, slen, dp, dname, dlen, src, dst, dir, s.mode);
	for (int i = 0; i < 5; i++)
		ext2_bput(fs, pins[i]);
	return r;
}

/* Renames with every inode block involved, and the source entry's
 * block, pinned: after the first change, the rest cannot fail on a read
 * (only a moved directory's ".." block may still be read). */
static int rename_pinned(struct ext2_fs *fs, uint32_t sp, const char *sname, size_t slen,
			 uint32_t dp, const char *dname, size_t dlen, uint32_t src, uint32_t dst,
			 bool dir, uint16_t mode)
{
	struct ext2_inode s, dparent;
	int r;
	/* Within one directory, a new name that fits the old slot is one
	 * block write: atomic, no window even for a directory. */
	if (sp == dp && !dst) {
		r = ext2_iget(fs, dp, &dparent);
		if (r == 0)
			r = ext2_dir_rename_entry(fs, &dparent, sname, slen, dname, dlen);
		if (r == 1) {
			touch(fs, &dparent);
			r = ext2_iput(fs, &dparent);
			if (r == 0)
				r = ext2_iget(fs, src, &s);
			if (r == 0) {
				s.ctime = ext2_now(fs);
				r = ext2_iput(fs, &s);
			}
			return finish(fs, r);
		}
		if (r < 0)
			return finish(fs, r);
	}
	/* 1: a replaced target loses its link first (as unlink does). */
	int err = 0;
	if (dst && (r = drop_link(fs, dst, dp, &err)) < 0)
		return finish(fs, r);
	/* 2: the new name, durable before the old one goes. */
	r = ext2_iget(fs, dp, &dparent);
	if (r == 0)
		r = dst ? ext2_dir_set(fs, &dparent, dname, dlen, src, ext2_mode_to_dt(mode))
			: ext2_dir_add(fs, &dparent, dname, dlen, src, ext2_mode_to_dt(mode));
	if (r == 0) {
		if (dir && sp != dp)
			dparent.links++; /* src's ".." */
		touch(fs, &dparent);
		r = ext2_iput(fs, &dparent);
	}
	/* A file with two names is repaired by e2fsck -p; a directory with
	 * two is not, and neither is one with none, so for a directory the
	 * two entry blocks go in the same step (docs/fs.md: the window). */
	if (r < 0 && dst)
		restore_link(fs, dst, dp);
	if (r == 0 && !dir)
		stage_sync(fs, &err);
	/* 3: the old name goes; a moved directory's ".." follows it. */
	if (r == 0)
		r = remove_entry(fs, sp, sname, slen);
	if (r == 0 && dir && sp != dp) {
		struct ext2_inode sparent;
		r = ext2_iget(fs, src, &s);
		if (r == 0)
			r = ext2_dir_set_dotdot(fs, &s, dp);
		if (r == 0)
			r = ext2_iput(fs, &s);
		if (r == 0)
			r = ext2_iget(fs, sp, &sparent);
		if (r == 0) {
			if (sparent.links > 2)
				sparent.links--;
			r = ext2_iput(fs, &sparent);
		}
	}
	if (r == 0) {
		r = ext2_iget(fs, src, &s);
		if (r == 0) {
			s.ctime = ext2_now(fs);
			r = ext2_iput(fs, &s);
		}
	}
	if (r == 0 && dst)
		r = reap(fs, dst);
	r = finish(fs, r);
	return r < 0 ? r : err;
}
