/* The shell's file commands: ls, cat, cp, mv, rm, mkdir, rmdir, df, sync
 * and echo's redirection, through the file-system server ("fs",
 * idl/fs.idl), looked up for each command so a restarted server is
 * found again.  Paths are absolute; a path without the leading '/' is
 * taken from the root (there is no current directory). */
#include <string.h>
#include <libipc/libipc.h>
#include "fs.h"       /* generated from idl/fs.idl */
#include "fs_files.h"
#include "shell.h"

#define PATH_MAX_LEN 255
#define CHUNK 448          /* one fs read or write */
#define KIND_DIR 2
#define KIND_LINK 7

/* The text of a failure: errno's name, and for damage or I/O errors the
 * server's own words. */
static void say_failure(const char *cmd, const char *path, long st, uint64_t fs)
{
	long e = st - FS_ERRNO_BASE; /* idl/fs.idl's numbering */
	const char *what = e == FS_ENOENT ? "no such file or directory" : e == FS_EEXIST ? "exists already"
	                   : e == FS_ENOTDIR ? "not a directory" : e == FS_EISDIR ? "is a directory"
	                   : e == FS_ENOTEMPTY ? "directory not empty" : e == FS_ENOSPC ? "no space left"
	                   : e == FS_EROFS ? "read-only file system" : e == FS_ENAMETOOLONG ? "name too long"
	                   : e == FS_EINVAL ? "invalid argument" : e == FS_ESTALE ? "stale file handle"
	                   : e == FS_EUCLEAN ? "the file system is damaged" : e == FS_EIO ? "I/O error" : "failed";
	if (st < FS_ERRNO_BASE) {
		outf("%s: %s: the file system server did not answer (error %ld)\n", cmd, path, st);
		return;
	}
	char why[201] = "";
	if ((e == FS_EUCLEAN || e == FS_EIO) && !fs_why(fs, why) && why[0])
		outf("%s: %s: %s: %s\n", cmd, path, what, why);
	else
		outf("%s: %s: %s\n", cmd, path, what);
}

/* path made absolute into buf; 0 if it does not fit */
static const char *absolute(const char *path, char buf[PATH_MAX_LEN + 1])
{
	size_t n = strlen(path);
	if (path[0] == '/') {
		if (n > PATH_MAX_LEN)
			return 0;
		memcpy(buf, path, n + 1);
	} else {
		if (n + 1 > PATH_MAX_LEN)
			return 0;
		buf[0] = '/';
		memcpy(buf + 1, path, n + 1);
	}
	return buf;
}

static void list_entry(uint64_t fs, const char *dir, const char *name, uint32_t kind)
{
	char path[PATH_MAX_LEN + 1];
	uint32_t ino, k, mode, links, mtime;
	uint64_t size = 0, blocks;
	int n = debug_snprintf(path, sizeof(path), "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
	if (n < (int)sizeof(path) && !fs_open(fs, path, 0, 0, &ino, &k, &size))
		fs_stat(fs, ino, &mode, &links, &size, &blocks, &mtime);
	outf("%c %10lu %s\n", kind == KIND_DIR ? 'd' : kind == KIND_LINK ? 'l' : '-', size, name);
}

static void list(uint64_t fs, const char *path)
{
	uint32_t ino, kind, more, child, ckind;
	uint64_t size, cookie = 0;
	long st = fs_open(fs, path, 0, 0, &ino, &kind, &size);
	if (st) {
		say_failure("ls", path, st, fs);
		return;
	}
	if (kind != KIND_DIR) {
		outf("- %10lu %s\n", size, path);
		return;
	}
	char name[256];
	for (;;) {
		st = fs_readdir(fs, ino, &cookie, &more, &child, &ckind, name);
		if (st) {
			say_failure("ls", path, st, fs);
			return;
		}
		if (!more)
			return;
		if (strcmp(name, ".") && strcmp(name, ".."))
			list_entry(fs, path, name, ckind);
	}
}

static void cat(uint64_t fs, const char *path)
{
	uint32_t ino, kind, got;
	uint64_t size, off = 0;
	uint8_t buf[CHUNK + 1];
	long st = fs_open(fs, path, 0, 0, &ino, &kind, &size);
	if (!st && kind == KIND_DIR)
		st = FS_ERRNO_BASE + FS_EISDIR;
	while (!st) {
		st = fs_read(fs, ino, off, CHUNK, buf, &got);
		if (st || !got)
			break;
		buf[got] = 0;
		out((const char *)buf); /* a NUL inside a binary file ends that chunk's output */
		off += got;
	}
	if (st)
		say_failure("cat", path, st, fs);
}

static void copy(uint64_t fs, const char *from, const char *to)
{
	uint32_t src, dst, kind, got, put;
	uint64_t size, off = 0;
	uint8_t buf[CHUNK];
	long st = fs_open(fs, from, 0, 0, &src, &kind, &size);
	if (!st && kind == KIND_DIR)
		st = FS_ERRNO_BASE + FS_EISDIR;
	if (st) {
		say_failure("cp", from, st, fs);
		return;
	}
	st = fs_open(fs, to, FS_OPEN_CREATE | FS_OPEN_TRUNC, 0644, &dst, &kind, &size);
	while (!st) {
		st = fs_read(fs, src, off, CHUNK, buf, &got);
		if (st) {
			say_failure("cp", from, st, fs);
			return;
		}
		if (!got)
			break;
		st = fs_write(fs, dst, off, buf, got, &put);
		if (!st && put != got)
			st = FS_ERRNO_BASE + FS_ENOSPC;
		off += got;
	}
	if (st)
		say_failure("cp", to, st, fs);
}

void files_echo_to(const char *text, const char *file, int append)
{
	char path[PATH_MAX_LEN + 1], data[LINE_TEXT_MAX + 2];
	size_t n = strlen(text);
	if (!file[0] || !absolute(file, path)) {
		outf("echo: '%s' is not a file name (at most %d bytes)\n", file, PATH_MAX_LEN);
		return;
	}
	if (n > LINE_TEXT_MAX) { /* commands.c's echo checked it; this keeps data safe */
		outf("echo: the text is longer than %d bytes\n", LINE_TEXT_MAX);
		return;
	}
	memcpy(data, text, n);
	data[n++] = '\n';
	uint64_t fs = lookup("fs");
	if (!fs) {
		out("echo: no file system (the fs server is not running)\n");
		return;
	}
	uint32_t ino, kind, mode, links, mtime, put = 0;
	uint64_t size, blocks;
	long st = fs_open(fs, path, FS_OPEN_CREATE | (append ? 0 : FS_OPEN_TRUNC), 0644, &ino, &kind, &size);
	st = st ? st : fs_stat(fs, ino, &mode, &links, &size, &blocks, &mtime);
	st = st ? st : fs_write(fs, ino, append ? size : 0, (const uint8_t *)data, (uint32_t)n, &put);
	if (!st && put != n)
		st = FS_ERRNO_BASE + FS_ENOSPC;
	if (st)
		say_failure("echo", path, st, fs);
	drop(fs);
}

/* The file system's port and the command's paths made absolute (paths
 * of n words from argv[1]); 0 after saying why not. */
static uint64_t begin(const char *cmd, char **argv, int n, char p1[PATH_MAX_LEN + 1], char p2[PATH_MAX_LEN + 1])
{
	for (int i = 0; i < n; i++)
		if (!absolute(argv[1 + i], i ? p2 : p1)) {
			outf("%s: %s: name too long (at most %d bytes)\n", cmd, argv[1 + i], PATH_MAX_LEN);
			return 0;
		}
	uint64_t fs = lookup("fs");
	if (!fs)
		outf("%s: no file system (the fs server is not running)\n", cmd);
	return fs;
}

void cmd_ls(int argc, char **argv, const struct words *line)
{
	(void)line;
	char p1[PATH_MAX_LEN + 1], p2[PATH_MAX_LEN + 1];
	char *root[] = { argv[0], "/" };
	uint64_t fs = begin("ls", argc > 1 ? argv : root, 1, p1, p2);
	if (!fs)
		return;
	list(fs, p1);
	drop(fs);
}

void cmd_cat(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)line;
	char p1[PATH_MAX_LEN + 1], p2[PATH_MAX_LEN + 1];
	uint64_t fs = begin("cat", argv, 1, p1, p2);
	if (!fs)
		return;
	cat(fs, p1);
	drop(fs);
}

void cmd_cp(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)line;
	char p1[PATH_MAX_LEN + 1], p2[PATH_MAX_LEN + 1];
	uint64_t fs = begin("cp", argv, 2, p1, p2);
	if (!fs)
		return;
	copy(fs, p1, p2);
	drop(fs);
}

void cmd_mv(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)line;
	char p1[PATH_MAX_LEN + 1], p2[PATH_MAX_LEN + 1];
	uint64_t fs = begin("mv", argv, 2, p1, p2);
	if (!fs)
		return;
	long st = fs_rename(fs, p1, p2);
	if (st)
		say_failure("mv", p1, st, fs);
	drop(fs);
}

/* rm, mkdir, rmdir: one path, one call */
static void one_path(const char *cmd, char **argv, long (*call)(uint64_t fs, const char *path))
{
	char p1[PATH_MAX_LEN + 1], p2[PATH_MAX_LEN + 1];
	uint64_t fs = begin(cmd, argv, 1, p1, p2);
	if (!fs)
		return;
	long st = call(fs, p1);
	if (st)
		say_failure(cmd, p1, st, fs);
	drop(fs);
}

static long do_rm(uint64_t fs, const char *path)
{
	return fs_unlink(fs, path);
}

static long do_mkdir(uint64_t fs, const char *path)
{
	return fs_mkdir(fs, path, 0755);
}

static long do_rmdir(uint64_t fs, const char *path)
{
	return fs_rmdir(fs, path);
}

void cmd_rm(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)line;
	one_path("rm", argv, do_rm);
}

void cmd_mkdir(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)line;
	one_path("mkdir", argv, do_mkdir);
}

void cmd_rmdir(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)line;
	one_path("rmdir", argv, do_rmdir);
}

void cmd_df(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)line;
	char p1[PATH_MAX_LEN + 1], p2[PATH_MAX_LEN + 1];
	uint64_t fs = begin("df", argv, 0, p1, p2);
	if (!fs)
		return;
	uint32_t bs;
	uint64_t blocks, bfree, inodes, ifree;
	long st = fs_statfs(fs, &bs, &blocks, &bfree, &inodes, &ifree);
	if (st)
		say_failure("df", "/", st, fs);
	else
		outf("ext2: %lu KiB, %lu KiB used, %lu KiB free; %lu inodes, %lu free; blocks of %u bytes\n",
		     blocks * bs >> 10, (blocks - bfree) * bs >> 10, bfree * bs >> 10, inodes, ifree, bs);
	drop(fs);
}

void cmd_sync(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)line;
	char p1[PATH_MAX_LEN + 1], p2[PATH_MAX_LEN + 1];
	uint64_t fs = begin("sync", argv, 0, p1, p2);
	if (!fs)
		return;
	long st = fs_sync(fs);
	if (st)
		say_failure("sync", "/", st, fs);
	drop(fs);
}
