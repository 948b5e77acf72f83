/* Shared by the ext2 unit tests: block devices over a file or a memory
 * image (the latter can record every write and flush, and fail on
 * demand), and helpers to run the host's e2fsprogs. */
#ifndef EXT2_TEST_H
#define EXT2_TEST_H

#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../../servers/fs/ext2.h"

/* --- a device over a memory image, with a write log -------------------- */
struct wlog_entry {
	uint64_t sector;   /* UINT64_MAX marks a flush */
	uint32_t count;
	uint8_t *data;
};

struct tdev {
	struct ext2_blockdev dev;
	int fd;            /* file-backed when >= 0 */
	uint8_t *mem;      /* memory-backed otherwise */
	uint64_t bytes;
	bool record;
	struct wlog_entry *log;
	size_t nlog, caplog;
	long fail_read_after, fail_write_after; /* -1: never */
	long reads, writes, flushes;
};

static inline int tdev_read(void *ctx, uint64_t sector, uint32_t count, void *buf)
{
	struct tdev *t = ctx;
	uint64_t off = sector * 512, len = (uint64_t)count * 512;
	if (off > t->bytes || len > t->bytes - off)
		return EXT2_EIO;
	if (t->fail_read_after >= 0 && t->reads >= t->fail_read_after)
		return EXT2_EIO;
	t->reads++;
	if (t->fd >= 0)
		return pread(t->fd, buf, len, (off_t)off) == (ssize_t)len ? 0 : EXT2_EIO;
	memcpy(buf, t->mem + off, len);
	return 0;
}

static inline void tdev_log(struct tdev *t, uint64_t sector, uint32_t count, const void *buf)
{
	if (t->nlog == t->caplog) {
		t->caplog = t->caplog ? 2 * t->caplog : 256;
		t->log = realloc(t->log, t->caplog * sizeof *t->log);
	}
	struct wlog_entry *e = &t->log[t->nlog++];
	e->sector = sector;
	e->count = count;
	e->data = NULL;
	if (buf) {
		e->data = malloc((size_t)count * 512);
		memcpy(e->data, buf, (size_t)count * 512);
	}
}

static inline int tdev_write(void *ctx, uint64_t sector, uint32_t count, const void *buf)
{
	struct tdev *t = ctx;
	uint64_t off = sector * 512, len = (uint64_t)count * 512;
	if (off > t->bytes || len > t->bytes - off)
		return EXT2_EIO;
	if (t->fail_write_after >= 0 && t->writes >= t->fail_write_after)
		return EXT2_EIO;
	t->writes++;
	if (t->record)
		tdev_log(t, sector, count, buf);
	if (t->fd >= 0)
		return pwrite(t->fd, buf, len, (off_t)off) == (ssize_t)len ? 0 : EXT2_EIO;
	memcpy(t->mem + off, buf, len);
	return 0;
}

static inline int tdev_flush(void *ctx)
{
	struct tdev *t = ctx;
	t->flushes++;
	if (t->record)
		tdev_log(t, UINT64_MAX, 0, NULL);
	if (t->fd >= 0)
		return fdatasync(t->fd) == 0 ? 0 : EXT2_EIO;
	return 0;
}

static inline void tdev_setup(struct tdev *t)
{
	t->dev.ctx = t;
	t->dev.sector_size = 512;
	t->dev.sectors = t->bytes / 512;
	t->dev.read = tdev_read;
	t->dev.write = tdev_write;
	t->dev.flush = tdev_flush;
	t->fail_read_after = t->fail_write_after = -1;
}

/* A device over the image file at path (written in place). */
static inline void tdev_open_file(struct tdev *t, const char *path)
{
	memset(t, 0, sizeof *t);
	t->fd = open(path, O_RDWR);
	struct stat st;
	fstat(t->fd, &st);
	t->bytes = (uint64_t)st.st_size;
	tdev_setup(t);
}

/* A device over a memory copy of the image file at path. */
static inline void tdev_load(struct tdev *t, const char *path)
{
	memset(t, 0, sizeof *t);
	t->fd = -1;
	FILE *f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	t->bytes = (uint64_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	t->mem = malloc(t->bytes);
	if (fread(t->mem, 1, t->bytes, f) != t->bytes)
		abort();
	fclose(f);
	tdev_setup(t);
}

static inline void tdev_close(struct tdev *t)
{
	if (t->fd >= 0)
		close(t->fd);
	free(t->mem);
	for (size_t i = 0; i < t->nlog; i++)
		free(t->log[i].data);
	free(t->log);
	memset(t, 0, sizeof *t);
	t->fd = -1;
}

static inline void save_mem(const uint8_t *mem, uint64_t bytes, const char *path)
{
	FILE *f = fopen(path, "wb");
	if (fwrite(mem, 1, bytes, f) != bytes)
		abort();
	fclose(f);
}

/* --- host commands ---------------------------------------------------- */
static inline int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

/* Host command output into a malloc'd string. */
static inline char *sh_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline char *sh_out(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	size_t cap = 4096, n = 0;
	char *s = malloc(cap);
	for (size_t k; (k = fread(s + n, 1, cap - n - 1, p)) > 0;) {
		n += k;
		if (cap - n < 2)
			s = realloc(s, cap *= 2);
	}
	s[n] = 0;
	pclose(p);
	return s;
}

/* A fresh temporary directory: in /dev/shm when there is one (e2fsck
 * syncs its image, which costs tens of milliseconds on a disk), else /tmp. */
static inline bool make_tmpdir(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "/dev/shm/%s.XXXXXX", name);
	if (access("/dev/shm", W_OK) == 0 && mkdtemp(buf))
		return true;
	snprintf(buf, len, "/tmp/%s.XXXXXX", name);
	return mkdtemp(buf) != NULL;
}

static inline uint32_t test_now(void *ctx)
{
	(void)ctx;
	return 1790000000u;
}

static inline int mount_dev(struct tdev *t, struct ext2_fs **fs, uint32_t cache, char *msg, size_t mlen)
{
	struct ext2_mount_params p = { .dev = &t->dev, .cache_blocks = cache, .now = test_now };
	return ext2_mount(&p, fs, msg, mlen);
}

/* Deterministic file contents: byte i of file seed. */
static inline uint8_t pattern(uint32_t seed, uint64_t i)
{
	uint64_t x = (i / 7 + 1) * 0x9E3779B97F4A7C15ull ^ (uint64_t)seed * 0xBF58476D1CE4E5B9ull;
	x ^= x >> 29;
	return (uint8_t)(x + i);
}

static inline void fill_pattern(uint8_t *buf, size_t n, uint32_t seed, uint64_t base)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = pattern(seed, base + i);
}

#endif
