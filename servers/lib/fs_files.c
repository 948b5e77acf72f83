/* libc_file_ops on idl/fs.idl (fs_files.h).  A read or write larger than
 * one message goes as several; a short read ends at the end of the file. */
#include <errno.h>
#include <libipc/libipc.h>
#include "fs.h"   /* generated from idl/fs.idl */
#include "fs_files.h"

#define IO_MAX 448

static uint64_t fs_port;

int fs_errno(long status)
{
	if (!status)
		return 0;
	if (status <= FS_ERRNO_BASE || status >= FS_ERRNO_BASE + 200)
		return -EIO; /* the server is gone or answered nonsense: retry later */
	int e = (int)(status - FS_ERRNO_BASE);
	switch (e) { /* Linux's numbers to newlib's where they differ */
	case FS_ENAMETOOLONG:
		return -ENAMETOOLONG;
	case FS_ENOTEMPTY:
		return -ENOTEMPTY;
	case FS_ELOOP:
		return -ELOOP;
	case FS_ENOTSUP:
		return -ENOTSUP;
	case FS_ESTALE:
		return -ESTALE;
	case FS_EUCLEAN:
		return -EIO;
	default:
		return e <= 34 ? -e : -EIO;
	}
}

static int file_stat(uint32_t ino, struct libc_file_info *info)
{
	info->ino = ino;
	return fs_errno(fs_stat(fs_port, ino, &info->mode, &info->links, &info->size, &info->blocks, &info->mtime));
}

static int file_open(const char *path, unsigned how, unsigned mode, struct libc_file_info *info)
{
	uint32_t ino, kind;
	uint64_t size;
	int r = fs_errno(fs_open(fs_port, path, how, mode, &ino, &kind, &size));
	return r < 0 ? r : file_stat(ino, info);
}

static long file_read(uint32_t ino, uint64_t offset, void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		uint32_t want = len - done < IO_MAX ? (uint32_t)(len - done) : IO_MAX, got = 0;
		int r = fs_errno(fs_read(fs_port, ino, offset + done, want, (uint8_t *)buf + done, &got));
		if (r < 0)
			return done ? (long)done : r;
		done += got;
		if (got < want)
			break; /* the end of the file */
	}
	return (long)done;
}

static long file_write(uint32_t ino, uint64_t offset, const void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		uint32_t want = len - done < IO_MAX ? (uint32_t)(len - done) : IO_MAX, put = 0;
		int r = fs_errno(fs_write(fs_port, ino, offset + done, (const uint8_t *)buf + done, want, &put));
		if (r < 0)
			return done ? (long)done : r;
		done += put;
		if (put < want)
			break;
	}
	return (long)done;
}

static int file_unlink(const char *path)
{
	return fs_errno(fs_unlink(fs_port, path));
}

static int file_fsync(uint32_t ino)
{
	return fs_errno(fs_fsync(fs_port, ino));
}

static int file_readdir(uint32_t dir_ino, uint64_t *cookie, uint32_t *ino, uint32_t *kind, char name[256])
{
	uint32_t more = 0;
	int r = fs_errno(fs_readdir(fs_port, dir_ino, cookie, &more, ino, kind, name));
	return r < 0 ? r : (int)(more != 0);
}

static int file_mkdir(const char *path, unsigned mode)
{
	return fs_errno(fs_mkdir(fs_port, path, mode));
}

static int file_rmdir(const char *path)
{
	return fs_errno(fs_rmdir(fs_port, path));
}

static int file_rename(const char *from, const char *to)
{
	/* fs.idl carries 200 bytes of each path */
	if (strlen(from) > 200 || strlen(to) > 200)
		return -ENAMETOOLONG;
	return fs_errno(fs_rename(fs_port, from, to));
}

static int file_truncate(uint32_t ino, uint64_t size)
{
	return fs_errno(fs_truncate(fs_port, ino, size));
}

static int file_sync(void)
{
	return fs_errno(fs_sync(fs_port));
}

static const struct libc_file_ops ops = {
	.open = file_open, .stat = file_stat, .read = file_read, .write = file_write,
	.unlink = file_unlink, .fsync = file_fsync, .readdir = file_readdir, .mkdir = file_mkdir,
	.rmdir = file_rmdir, .rename = file_rename, .truncate = file_truncate, .sync = file_sync,
};

void files_use_fs(uint64_t fs_slot)
{
	fs_port = fs_slot;
	libc_files = &ops;
}
