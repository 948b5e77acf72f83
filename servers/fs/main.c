/*
 * The file-system server: the ext2 file system (ext2_*.c) on a block
 * device, served as "fs" through idl/fs.idl.  docs/fs.md describes the
 * format, the cache and the write order.
 *
 * Args: `blk=NAME` (the disk is the block driver published as NAME,
 * idl/block.idl) or `ramdisk` (the first boot module, copied into our
 * memory: what is written is lost with the server); `ro` to mount
 * read-only; `name=NAME` to publish under another name than "fs".
 * Capabilities: slot 8 init; the clock, if the manifest says `needs clock`,
 * through the name service.
 */
#include <stdlib.h>
#include <string.h>
#include <libipc/libipc.h>
#include <libipc/server.h>
#include "fs.h"      /* generated from idl/fs.idl */
#include "init.h"
#include "clock.h"
#include "fs_server.h"

#define INIT_SLOT 8
#define CACHE_BLOCKS 256
#define CLOCK_REFRESH 64   /* operations between two questions to the clock */
#define IO_MAX 448         /* bytes of one read or write: idl/fs.idl */

static struct ext2_fs *fs;
static char why_text[200 + 1];
static uint64_t clock_port;

/* Timestamps: the clock server's seconds, asked again every
 * CLOCK_REFRESH operations (it reads the CMOS chip each time). */
static uint32_t fs_now(void *ctx)
{
	static uint64_t secs;
	static unsigned uses;
	(void)ctx;
	if (clock_port && (uses++ % CLOCK_REFRESH == 0 || !secs))
		clock_now(clock_port, &secs);
	return (uint32_t)secs;
}

static void notice(void *ctx, const char *msg)
{
	(void)ctx;
	debug_printf("fs: %s\n", msg);
}

/* A library result as the interface's status; damage and I/O errors are
 * also said on the console, since they need someone's attention. */
static long status(int r)
{
	if (r >= 0)
		return E_OK;
	debug_snprintf(why_text, sizeof(why_text), "%s", ext2_last_error(fs));
	if (r == EXT2_ECORRUPT || r == EXT2_EIO)
		debug_printf("fs: %s\n", why_text);
	return FS_ERRNO_BASE - r;
}

/* For calls by inode number: a number whose file is gone is stale. */
static long ino_status(int r)
{
	return r == EXT2_ENOENT ? (status(r), FS_ERRNO_BASE + FS_ESTALE) : status(r);
}

static uint32_t kind_of(uint16_t mode)
{
	switch (mode & EXT2_S_IFMT) {
	case EXT2_S_IFDIR:
		return EXT2_DT_DIR;
	case EXT2_S_IFLNK:
		return EXT2_DT_LNK;
	case EXT2_S_IFREG:
		return EXT2_DT_REG;
	default:
		return EXT2_DT_UNKNOWN;
	}
}

static long do_open(void *ctx, uint64_t badge, const char *path, uint32_t flags, uint32_t mode, uint32_t *ino,
                    uint32_t *kind, uint64_t *size)
{
	(void)ctx;
	(void)badge;
	if (flags & ~(uint32_t)(EXT2_O_CREAT | EXT2_O_EXCL | EXT2_O_TRUNC))
		return FS_ERRNO_BASE - EXT2_EINVAL;
	struct ext2_stat st;
	int r = ext2_open(fs, path, flags, (uint16_t)(mode ? mode & 07777 : 0644), ino);
	r = r < 0 ? r : ext2_stat(fs, *ino, &st);
	if (r < 0)
		return status(r);
	*kind = kind_of(st.mode);
	*size = st.size;
	return E_OK;
}

static long do_read(void *ctx, uint64_t badge, uint32_t ino, uint64_t offset, uint32_t count, uint8_t data[448],
                    uint32_t *data_len)
{
	(void)ctx;
	(void)badge;
	int64_t n = ext2_read(fs, ino, offset, data, count < IO_MAX ? count : IO_MAX);
	if (n < 0)
		return ino_status((int)n);
	*data_len = (uint32_t)n;
	return E_OK;
}

static long do_write(void *ctx, uint64_t badge, uint32_t ino, uint64_t offset, const uint8_t *data,
                     uint32_t data_len, uint32_t *written)
{
	(void)ctx;
	(void)badge;
	int64_t n = ext2_write(fs, ino, offset, data, data_len);
	if (n < 0)
		return ino_status((int)n);
	*written = (uint32_t)n;
	return E_OK;
}

static long do_stat(void *ctx, uint64_t badge, uint32_t ino, uint32_t *mode, uint32_t *links, uint64_t *size,
                    uint64_t *blocks, uint32_t *mtime)
{
	(void)ctx;
	(void)badge;
	struct ext2_stat st;
	int r = ext2_stat(fs, ino, &st);
	if (r < 0)
		return ino_status(r);
	*mode = st.mode;
	*links = st.links;
	*size = st.size;
	*blocks = st.blocks;
	*mtime = st.mtime;
	return E_OK;
}

static long do_readdir(void *ctx, uint64_t badge, uint32_t ino, uint64_t *cookie, uint32_t *more, uint32_t *child,
                       uint32_t *kind, char name[255 + 1])
{
	(void)ctx;
	(void)badge;
	static struct ext2_dirent de;
	int r = ext2_readdir(fs, ino, cookie, &de);
	if (r < 0)
		return ino_status(r);
	*more = (uint32_t)r;
	if (r) {
		*child = de.ino;
		*kind = de.type;
		memcpy(name, de.name, (size_t)de.name_len + 1);
	}
	return E_OK;
}

static long do_mkdir(void *ctx, uint64_t badge, const char *path, uint32_t mode)
{
	(void)ctx;
	(void)badge;
	return status(ext2_mkdir(fs, path, (uint16_t)(mode ? mode & 07777 : 0755)));
}

static long do_rmdir(void *ctx, uint64_t badge, const char *path)
{
	(void)ctx;
	(void)badge;
	return status(ext2_rmdir(fs, path));
}

static long do_unlink(void *ctx, uint64_t badge, const char *path)
{
	(void)ctx;
	(void)badge;
	return status(ext2_unlink(fs, path));
}

static long do_rename(void *ctx, uint64_t badge, const char *from, const char *to)
{
	(void)ctx;
	(void)badge;
	return status(ext2_rename(fs, from, to));
}

static long do_truncate(void *ctx, uint64_t badge, uint32_t ino, uint64_t size)
{
	(void)ctx;
	(void)badge;
	return ino_status(ext2_truncate(fs, ino, size));
}

static long do_fsync(void *ctx, uint64_t badge, uint32_t ino)
{
	(void)ctx;
	(void)badge;
	return ino_status(ext2_fsync(fs, ino));
}

static long do_sync(void *ctx, uint64_t badge)
{
	(void)ctx;
	(void)badge;
	return status(ext2_sync(fs));
}

static long do_statfs(void *ctx, uint64_t badge, uint32_t *block_size, uint64_t *blocks, uint64_t *blocks_free,
                      uint64_t *inodes, uint64_t *inodes_free)
{
	(void)ctx;
	(void)badge;
	struct ext2_statfs st;
	int r = ext2_statfs(fs, &st);
	if (r < 0)
		return status(r);
	*block_size = st.block_size;
	*blocks = st.blocks;
	*blocks_free = st.blocks_free;
	*inodes = st.inodes;
	*inodes_free = st.inodes_free;
	return E_OK;
}

static long do_why(void *ctx, uint64_t badge, char text[200 + 1])
{
	(void)ctx;
	(void)badge;
	memcpy(text, why_text, sizeof(why_text));
	return E_OK;
}

/* The reply goes out before the server ends (handle() sees `leaving`). */
static int leaving;

static long do_unmount(void *ctx, uint64_t badge)
{
	(void)ctx;
	(void)badge;
	long st = status(ext2_unmount(fs));
	if (!st) {
		leaving = 1;
		debug_printf("fs: unmounted cleanly\n");
	}
	return st;
}

static long do_buffer_attach(void *ctx, uint64_t badge, const char *client, uint64_t *session, uint32_t *pages)
{
	(void)ctx;
	(void)badge;
	if (!client[0])
		return E_BAD_ARG;
	return buffers_attach(client, session, pages);
}

static long do_buffer_frame(void *ctx, uint64_t badge, uint32_t page, uint64_t *frame)
{
	(void)ctx;
	return buffers_frame(badge, page, frame);
}

static long do_read_at(void *ctx, uint64_t badge, uint32_t ino, uint64_t offset, uint32_t count, uint32_t at,
                       uint32_t *got)
{
	(void)ctx;
	uint8_t *data;
	long err = buffers_data(badge, at, count, &data);
	if (err)
		return err;
	int64_t n = ext2_read(fs, ino, offset, data, count);
	if (n < 0)
		return ino_status((int)n);
	*got = (uint32_t)n;
	return E_OK;
}

static long do_write_at(void *ctx, uint64_t badge, uint32_t ino, uint64_t offset, uint32_t count, uint32_t at,
                        uint32_t *written)
{
	(void)ctx;
	uint8_t *data;
	long err = buffers_data(badge, at, count, &data);
	if (err)
		return err;
	int64_t n = ext2_write(fs, ino, offset, data, count);
	if (n < 0)
		return ino_status((int)n);
	*written = (uint32_t)n;
	return E_OK;
}

static long do_buffer_detach(void *ctx, uint64_t badge)
{
	(void)ctx;
	return buffers_detach(badge);
}

static const struct fs_ops ops = {
	.open = do_open, .read = do_read, .write = do_write, .stat = do_stat, .readdir = do_readdir,
	.mkdir = do_mkdir, .rmdir = do_rmdir, .unlink = do_unlink, .rename = do_rename,
	.truncate = do_truncate, .fsync = do_fsync, .sync = do_sync, .statfs = do_statfs, .why = do_why,
	.unmount = do_unmount, .buffer_attach = do_buffer_attach, .buffer_frame = do_buffer_frame,
	.read_at = do_read_at, .write_at = do_write_at, .buffer_detach = do_buffer_detach,
};

static int handle(struct server *s, const struct msg *req, struct msg *reply)
{
	if (!fs_dispatch(&ops, s->ctx, req, s->recv_slots, reply))
		return SERVER_UNKNOWN;
	if (leaving) {
		ipc_reply(s->reply_slot, reply);
		exit(EXIT_NO_RESTART);
	}
	return SERVER_REPLY;
}

int main(const struct bootinfo *bi)
{
	static struct server srv;
	static struct ext2_blockdev dev;
	char msg[160];
	size_t len;
	const char *blk = arg_value(bi->cmdline, "blk=", &len);
	char name[32];
	long err;
	if (blk && len && len < sizeof(name)) {
		memcpy(name, blk, len);
		name[len] = 0;
		err = blockdev_open(name, &dev);
	} else if (arg_flag(bi->cmdline, "ramdisk")) {
		err = ramdisk_open(bi, &dev);
	} else {
		debug_printf("fs: no block device named (args: blk=NAME or ramdisk)\n");
		return EXIT_NO_RESTART;
	}
	if (err)
		return EXIT_NO_RESTART;
	if (init_lookup(INIT_SLOT, "clock", &clock_port))
		clock_port = 0;
	struct ext2_mount_params p = {
		.dev = &dev, .cache_blocks = CACHE_BLOCKS, .read_only = arg_flag(bi->cmdline, "ro"),
		.now = fs_now, .notice = notice,
	};
	if (ext2_mount(&p, &fs, msg, sizeof(msg))) {
		debug_printf("fs: cannot mount: %s\n", msg);
		return EXIT_NO_RESTART;
	}
	struct ext2_statfs st;
	if (!ext2_statfs(fs, &st))
		debug_printf("fs: ext2 mounted%s: %lu KiB, %lu KiB free, %lu inodes\n", ext2_is_read_only(fs) ? " read-only" : "",
		             st.blocks * st.block_size >> 10, st.blocks_free * st.block_size >> 10, st.inodes);
	char pub[32] = "fs";
	arg_string(bi->cmdline, "name=", pub, sizeof(pub));
	uint64_t port, send = slot_alloc();
	err = object_alloc(OBJ_PORT, 0, &port);
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, send, RIGHT_SEND, 0);
	buffers_init(port);
	if (err || (err = server_init(&srv, port, handle, 0)) || (err = init_publish(INIT_SLOT, pub, send))) {
		debug_printf("fs: cannot publish: %ld\n", err);
		return 1;
	}
	return (int)server_run(&srv);
}
