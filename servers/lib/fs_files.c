/* libc_file_ops on idl/fs.idl (fs_files.h).  A read or write larger than
 * one message goes as several; a short read ends at the end of the file. */
#include <errno.h>
#include <libipc/libipc.h>
#include <libipc/ipc.h>
#include "fs.h"   /* generated from idl/fs.idl */
#include "fs_files.h"
#include "init.h"   /* generated from idl/init.idl */

#define IO_MAX 448
#define INIT_SLOT 8

/* The server: the right files_use_fs gave, or, once that server is
 * found gone, the right init's name service gives for "fs" then.  Each
 * server found gone bumps the generation: files opened on it are stale
 * (posix.c), since writes not yet synced may have gone with it. */
static uint64_t fs_port;
static unsigned generation;

static int server_gone(long status)
{
	return ipc_peer_gone(status);
}

/* 0 with a right to the server in fs_port, or -EIO (none published). */
static int server(void)
{
	uint64_t port;
	if (fs_port)
		return 0;
	if (init_lookup(INIT_SLOT, "fs", &port))
		return -EIO;
	fs_port = port;
	return 0;
}

/* A call's status as fs_errno's; a server found gone is dropped, and
 * the next call looks up its successor. */
static int status_of(long status)
{
	if (server_gone(status) && fs_port) {
		sys_cnode_delete(fs_port);
		slot_free(fs_port);
		fs_port = 0;
		generation++;
	}
	return fs_errno(status);
}

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
	int r = server();
	return r ? r : status_of(fs_stat(fs_port, ino, &info->mode, &info->links, &info->size, &info->blocks, &info->mtime));
}

static int file_open(const char *path, unsigned how, unsigned mode, struct libc_file_info *info)
{
	uint32_t ino, kind;
	uint64_t size;
	int r = server();
	r = r ? r : status_of(fs_open(fs_port, path, how, mode, &ino, &kind, &size));
	return r < 0 ? r : file_stat(ino, info);
}

static long file_read(uint32_t ino, uint64_t offset, void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		uint32_t want = len - done < IO_MAX ? (uint32_t)(len - done) : IO_MAX, got = 0;
		int r = server();
		r = r ? r : status_of(fs_read(fs_port, ino, offset + done, want, (uint8_t *)buf + done, &got));
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
		int r = server();
		r = r ? r : status_of(fs_write(fs_port, ino, offset + done, (const uint8_t *)buf + done, want, &put));
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
	int r = server();
	return r ? r : status_of(fs_unlink(fs_port, path));
}

static int file_fsync(uint32_t ino)
{
	int r = server();
	return r ? r : status_of(fs_fsync(fs_port, ino));
}

static int file_readdir(uint32_t dir_ino, uint64_t *cookie, uint32_t *ino, uint32_t *kind, char name[256])
{
	uint32_t more = 0;
	int r = server();
	r = r ? r : status_of(fs_readdir(fs_port, dir_ino, cookie, &more, ino, kind, name));
	return r < 0 ? r : (int)(more != 0);
}

static int file_mkdir(const char *path, unsigned mode)
{
	int r = server();
	return r ? r : status_of(fs_mkdir(fs_port, path, mode));
}

static int file_rmdir(const char *path)
{
	int r = server();
	return r ? r : status_of(fs_rmdir(fs_port, path));
}

static int file_rename(const char *from, const char *to)
{
	/* fs.idl carries 200 bytes of each path */
	if (strlen(from) > 200 || strlen(to) > 200)
		return -ENAMETOOLONG;
	int r = server();
	return r ? r : status_of(fs_rename(fs_port, from, to));
}

static int file_truncate(uint32_t ino, uint64_t size)
{
	int r = server();
	return r ? r : status_of(fs_truncate(fs_port, ino, size));
}

static int file_sync(void)
{
	int r = server();
	return r ? r : status_of(fs_sync(fs_port));
}

static unsigned file_generation(void)
{
	return generation;
}

static const struct libc_file_ops ops = {
	.open = file_open, .stat = file_stat, .read = file_read, .write = file_write,
	.unlink = file_unlink, .fsync = file_fsync, .readdir = file_readdir, .mkdir = file_mkdir,
	.rmdir = file_rmdir, .rename = file_rename, .truncate = file_truncate, .sync = file_sync,
	.generation = file_generation,
};

void files_use_fs(uint64_t fs_slot)
{
	if (fs_port && fs_port != fs_slot)
		generation++;   /* files opened on the other server are stale */
	fs_port = fs_slot;
	libc_files = &ops;
}
