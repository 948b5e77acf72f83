/* ext2.h: the ext2 file-system core of the fs server.
 *
 * A library over an abstract block device; it keeps no global state, so
 * several mounts may coexist.  The interface is inode-based (an inode
 * number names a file as long as it has links) plus absolute-path helpers
 * for the namespace: lookup, create, mkdir, rmdir, unlink, rename.
 *
 * Every call returns 0 (or a byte count) on success and a negative EXT2_E*
 * code on failure; ext2_last_error() then says in words what went wrong.
 * Operations are not thread-safe: the caller serialises calls per mount.
 *
 * Durability: data and metadata are cached (write-back) until ext2_fsync,
 * ext2_sync, ext2_unmount or cache pressure.  Namespace operations (create,
 * mkdir, rmdir, unlink, rename) are durable when they return.  docs/fs.md
 * describes the write order that keeps a crash repairable by e2fsck -p. */
#ifndef EXT2_H
#define EXT2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Errors: the negated POSIX errno value of the same meaning (Linux numbers). */
#define EXT2_EPERM        (-1)
#define EXT2_ENOENT       (-2)
#define EXT2_EIO          (-5)
#define EXT2_ENOMEM       (-12)
#define EXT2_EBUSY        (-16)
#define EXT2_EEXIST       (-17)
#define EXT2_EXDEV        (-18)
#define EXT2_ENOTDIR      (-20)
#define EXT2_EISDIR       (-21)
#define EXT2_EINVAL       (-22)
#define EXT2_EFBIG        (-27)
#define EXT2_ENOSPC       (-28)
#define EXT2_EROFS        (-30)
#define EXT2_EMLINK       (-31)
#define EXT2_ENAMETOOLONG (-36)
#define EXT2_ENOTEMPTY    (-39)
#define EXT2_ELOOP        (-40)
#define EXT2_ENOTSUP      (-95)
#define EXT2_ECORRUPT     (-117) /* EUCLEAN: the file system is damaged */

/* The block device the library sits on.  Calls return 0 or a negative
 * EXT2_E* code; a failing call fails the operation (EXT2_EIO) cleanly and
 * the caller may retry it. */
struct ext2_blockdev {
	void *ctx;
	uint32_t sector_size; /* 512 */
	uint64_t sectors;     /* capacity */
	int (*read)(void *ctx, uint64_t sector, uint32_t count, void *buf);
	int (*write)(void *ctx, uint64_t sector, uint32_t count, const void *buf);
	int (*flush)(void *ctx); /* everything written before is durable */
};

struct ext2_mount_params {
	struct ext2_blockdev *dev;
	uint32_t cache_blocks;     /* block cache size in blocks; 0 means 64, min 16 */
	bool read_only;
	uint32_t (*now)(void *ctx); /* seconds since 1970, for timestamps */
	void *now_ctx;
	/* optional: notices such as "not cleanly unmounted" (may be NULL) */
	void (*notice)(void *ctx, const char *msg);
	void *notice_ctx;
};

struct ext2_fs;

/* Mounts; on success *out is the file system.  On failure *out is NULL
 * and, if msg is not NULL, up to msg_len bytes of the reason are copied
 * into msg. */
int ext2_mount(const struct ext2_mount_params *p, struct ext2_fs **out,
	       char *msg, size_t msg_len);
/* Writes everything back, marks the file system clean (if it was clean at
 * mount), frees the mount.  On an I/O error the mount stays (retry). */
int ext2_unmount(struct ext2_fs *fs);
/* Like unmount but drops the mount without writing (the device is gone). */
void ext2_abandon(struct ext2_fs *fs);
const char *ext2_last_error(const struct ext2_fs *fs);
bool ext2_is_read_only(const struct ext2_fs *fs);

#define EXT2_ROOT_INO 2

/* File types (the high bits of mode, as POSIX S_IF*). */
#define EXT2_S_IFMT   0170000
#define EXT2_S_IFREG  0100000
#define EXT2_S_IFDIR  0040000
#define EXT2_S_IFLNK  0120000

struct ext2_stat {
	uint32_t ino;
	uint16_t mode;  /* type and permission bits */
	uint16_t links;
	uint32_t uid, gid;
	uint64_t size;
	uint64_t blocks; /* 512-byte units allocated, as st_blocks */
	uint32_t atime, mtime, ctime;
};

/* dirent types, as ext2's file_type byte */
enum { EXT2_DT_UNKNOWN, EXT2_DT_REG, EXT2_DT_DIR, EXT2_DT_CHR, EXT2_DT_BLK,
       EXT2_DT_FIFO, EXT2_DT_SOCK, EXT2_DT_LNK };

#define EXT2_NAME_MAX 255
struct ext2_dirent {
	uint32_t ino;
	uint8_t type;
	uint8_t name_len;
	char name[EXT2_NAME_MAX + 1]; /* NUL-terminated */
};

struct ext2_statfs {
	uint32_t block_size;
	uint64_t blocks, blocks_free, blocks_avail; /* avail: minus reserved */
	uint64_t inodes, inodes_free;
	uint32_t name_max;
};

/* Paths are absolute ("/a/b"); repeated '/' are ignored, "." and ".."
 * are followed as directory entries; symbolic links are not followed. */
int ext2_lookup(struct ext2_fs *fs, const char *path, uint32_t *ino);
int ext2_stat(struct ext2_fs *fs, uint32_t ino, struct ext2_stat *st);

/* open flags */
#define EXT2_O_CREAT 1u
#define EXT2_O_EXCL  2u
#define EXT2_O_TRUNC 4u
/* Looks path up, creating a regular file (permission bits in mode) with
 * O_CREAT; O_EXCL fails with EEXIST if it exists; O_TRUNC empties it.
 * A directory is returned as is (EISDIR only with O_TRUNC). */
int ext2_open(struct ext2_fs *fs, const char *path, unsigned flags,
	      uint16_t mode, uint32_t *ino);

/* Read/write up to len bytes at off; return the byte count (a short read
 * only at end of file) or a negative error.  Holes read as zeros.  Writing
 * a directory is EISDIR. */
int64_t ext2_read(struct ext2_fs *fs, uint32_t ino, uint64_t off, void *buf, size_t len);
int64_t ext2_write(struct ext2_fs *fs, uint32_t ino, uint64_t off, const void *buf, size_t len);
/* Sets a regular file's size; growing leaves a hole. */
int ext2_truncate(struct ext2_fs *fs, uint32_t ino, uint64_t size);

/* Reads the next entry of directory ino at *cookie (start with 0) into
 * *de, skipping empty slots, and advances *cookie.  Returns 1 with an
 * entry, 0 at the end, or a negative error. */
int ext2_readdir(struct ext2_fs *fs, uint32_t ino, uint64_t *cookie, struct ext2_dirent *de);
/* Reads a symbolic link's target (NUL-terminated, truncated to len-1). */
int ext2_readlink(struct ext2_fs *fs, uint32_t ino, char *buf, size_t len);

int ext2_mkdir(struct ext2_fs *fs, const char *path, uint16_t mode);
int ext2_rmdir(struct ext2_fs *fs, const char *path);
/* Removes a name; when the last name of a file goes, so does the file,
 * even if the server still has it open (the server must refuse or defer
 * unlinking open files if it wants POSIX open-unlinked semantics). */
int ext2_unlink(struct ext2_fs *fs, const char *path);
/* POSIX rename: an existing target is replaced (a file by a file, an empty
 * directory by a directory); moving a directory into itself is EINVAL. */
int ext2_rename(struct ext2_fs *fs, const char *from, const char *to);

/* fsync: ino's data and everything it depends on is durable on return.
 * (It writes the whole cache in the ordered way, see docs/fs.md.) */
int ext2_fsync(struct ext2_fs *fs, uint32_t ino);
int ext2_sync(struct ext2_fs *fs);
int ext2_statfs(struct ext2_fs *fs, struct ext2_statfs *st);

#endif
