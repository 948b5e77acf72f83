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

/* Split "A B" into two words; 0 if there are not exactly two. */
static int two_words(char *arg, char **a, char **b)
{
	*a = arg;
	char *sp = strchr(arg, ' ');
	if (!*arg || !sp)
		return 0;
	*sp++ = 0;
	while (*sp == ' ')
		sp++;
	*b = sp;
	return *sp && !strchr(sp, ' ');
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

static void cmd_ls(uint64_t fs, const char *path)
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

static void cmd_cat(uint64_t fs, const char *path)
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

static void cmd_cp(uint64_t fs, const char *from, const char *to)
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

void files_echo_to(char *arg)
{
	char *gt = strchr(arg, '>'), *file = gt + 1;
	int append = *file == '>';
	if (append)
		file++;
	while (*file == ' ')
		file++;
	char *end = gt;
	while (end > arg && end[-1] == ' ')
		end--;
	*end = 0;
	char path[PATH_MAX_LEN + 1], text[LINE_TEXT_MAX + 2];
	if (!*file || strchr(file, ' ') || !absolute(file, path)) {
		out("echo: which file? (echo WORDS > FILE)\n");
		return;
	}
	size_t n = strlen(arg);
	if (n > LINE_TEXT_MAX)
		n = LINE_TEXT_MAX;
	memcpy(text, arg, n);
	text[n++] = '\n';
	uint64_t fs = lookup("fs");
	if (!fs) {
		out("echo: no file system (the fs server is not running)\n");
		return;
	}
	uint32_t ino, kind, mode, links, mtime, put = 0;
	uint64_t size, blocks;
	long st = fs_open(fs, path, FS_OPEN_CREATE | (append ? 0 : FS_OPEN_TRUNC), 0644, &ino, &kind, &size);
	st = st ? st : fs_stat(fs, ino, &mode, &links, &size, &blocks, &mtime);
	st = st ? st : fs_write(fs, ino, append ? size : 0, (const uint8_t *)text, (uint32_t)n, &put);
	if (!st && put != n)
		st = FS_ERRNO_BASE + FS_ENOSPC;
	if (st)
		say_failure("echo", path, st, fs);
	drop(fs);
}

int files_command(const char *cmd, char *arg)
{
	static const char *const names[] = { "ls", "cat", "cp", "mv", "rm", "mkdir", "rmdir", "df", "sync" };
	unsigned which = 0;
	while (which < sizeof(names) / sizeof(names[0]) && strcmp(cmd, names[which]))
		which++;
	if (which == sizeof(names) / sizeof(names[0]))
		return 0;
	char p1[PATH_MAX_LEN + 1], p2[PATH_MAX_LEN + 1], *a = 0, *b = 0;
	int takes = which == 0 ? -1 : which == 2 || which == 3 ? 2 : which >= 7 ? 0 : 1;
	if (takes == 2 && (!two_words(arg, &a, &b) || !absolute(a, p1) || !absolute(b, p2))) {
		outf("%s: give two paths: %s FROM TO\n", cmd, cmd);
		return 1;
	}
	if (takes == 1 && (!*arg || strchr(arg, ' ') || !absolute(arg, p1))) {
		outf("%s: give one path: %s PATH\n", cmd, cmd);
		return 1;
	}
	if (takes == 0 && *arg) {
		outf("%s: takes no arguments\n", cmd);
		return 1;
	}
	if (takes == -1 && (strchr(arg, ' ') || !absolute(*arg ? arg : "/", p1))) {
		out("ls: give at most one path\n");
		return 1;
	}
	uint64_t fs = lookup("fs");
	if (!fs) {
		outf("%s: no file system (the fs server is not running)\n", cmd);
		return 1;
	}
	long st = 0;
	switch (which) {
	case 0:
		cmd_ls(fs, p1);
		break;
	case 1:
		cmd_cat(fs, p1);
		break;
	case 2:
		cmd_cp(fs, p1, p2);
		break;
	case 3:
		if ((st = fs_rename(fs, p1, p2)))
			say_failure("mv", p1, st, fs);
		break;
	case 4:
		if ((st = fs_unlink(fs, p1)))
			say_failure("rm", p1, st, fs);
		break;
	case 5:
		if ((st = fs_mkdir(fs, p1, 0755)))
			say_failure("mkdir", p1, st, fs);
		break;
	case 6:
		if ((st = fs_rmdir(fs, p1)))
			say_failure("rmdir", p1, st, fs);
		break;
	case 7: {
		uint32_t bs;
		uint64_t blocks, bfree, inodes, ifree;
		if ((st = fs_statfs(fs, &bs, &blocks, &bfree, &inodes, &ifree)))
			say_failure("df", "/", st, fs);
		else
			outf("ext2: %lu KiB, %lu KiB used, %lu KiB free; %lu inodes, %lu free; blocks of %u bytes\n",
			     blocks * bs >> 10, (blocks - bfree) * bs >> 10, bfree * bs >> 10, inodes, ifree, bs);
		break;
	}
	default:
		if ((st = fs_sync(fs)))
			say_failure("sync", "/", st, fs);
	}
	drop(fs);
	return 1;
}
