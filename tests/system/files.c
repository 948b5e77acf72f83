/* The file-system server (servers/fs) on an ext2 image made by the
 * host's mke2fs -d (tools/fs_test_image.py), here as a RAM disk from a
 * boot module: every byte of the host's files read back exactly, through
 * the C library (fopen, fread, fseek) and through the stubs; files and
 * directories written, renamed, truncated, removed; a sparse file past
 * 4 GiB; POSIX errors for bad requests and nonsense for inode numbers;
 * and the server killed: init restarts it and clients find it again.
 * init is the root task; this program is the client of its manifest
 * (slot 9: the fs). */
// test-root: build/init.elf
// test-module: tests/system/manifests/files.manifest
// test-module: build/rtc.elf
// test-module: build/fs.elf
// test-module: build/tests/data/files.img
// test-expect: ^fs: ext2 mounted: 4\d\d\d KiB
// test-timeout: 120
#include "tap.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>
#include <dirent.h>
#include <stdlib.h>
#include "fs.h"
#include "init.h"
#include "fs_files.h"

#define INIT 8
#define FS 9
#define BIG 300000
#define E(e) (FS_ERRNO_BASE + FS_##e)

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)((7 * i + i / 251) & 0xff);
}

static char text[4096];

static size_t slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return (size_t)-1;
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = 0;
	fclose(f);
	return n;
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(25);
	uint64_t fs = FS;
	files_use_fs(fs);

	/* the host's files, through the C library */
	tap_ok(slurp("/hello.txt") == 20 && !strcmp(text, "hello from the host\n"), "fopen/fread /hello.txt: '%s'",
	       text);
	int lines = 1;
	size_t n = slurp("/docs/readme.txt");
	for (int i = 1; i <= 100 && lines; i++) {
		char want[40];
		snprintf(want, sizeof(want), "line %d of the readme\n", i);
		lines = strstr(text, want) != 0;
	}
	tap_ok(n == 2192 && lines, "a 100-line file in a subdirectory, every line (%lu bytes)", n);
	tap_ok(slurp("/dir/a/b/deep.txt") == 18 && slurp("/empty") == 0, "three levels down, and an empty file");

	/* big.bin through the stubs, every byte */
	uint32_t ino, kind, got;
	uint64_t size, off = 0;
	long st = fs_open(fs, "/big.bin", 0, 0, &ino, &kind, &size);
	static uint8_t buf[448];
	int same = !st && size == BIG && kind == 1;
	while (same && off < BIG) {
		if (fs_read(fs, ino, off, sizeof(buf), buf, &got) || !got)
			break;
		for (uint32_t i = 0; i < got; i++)
			same &= buf[i] == pattern(off + i);
		off += got;
	}
	tap_ok(same && off == BIG, "big.bin: all %d bytes as the host wrote them (double-indirect blocks)", BIG);
	FILE *f = fopen("/big.bin", "r");
	int seek_ok = f && !fseek(f, 123457, SEEK_SET) && fgetc(f) == pattern(123457) && ftell(f) == 123458 &&
	              !fseek(f, -1, SEEK_END) && fgetc(f) == pattern(BIG - 1) && fgetc(f) == EOF;
	if (f)
		fclose(f);
	tap_ok(seek_ok, "fseek, fgetc and ftell in the middle and at the end");

	/* the root directory */
	uint64_t cookie = 0;
	uint32_t more = 1, child, ck;
	char name[256];
	unsigned seen = 0, entries = 0;
	while (!fs_readdir(fs, 2, &cookie, &more, &child, &ck, name) && more && entries < 100) {
		entries++;
		seen |= !strcmp(name, "hello.txt") << 0 | (!strcmp(name, "docs") && ck == 2) << 1 |
		        !strcmp(name, "big.bin") << 2 | !strcmp(name, "empty") << 3 | !strcmp(name, "lost+found") << 4;
	}
	tap_ok(seen == 0x1f && entries == 8, "readdir / lists ., .., the four host files, dir and lost+found (%u)",
	       entries);

	/* writing, through the C library */
	f = fopen("/new.txt", "w");
	int wrote = f && fprintf(f, "written by Berth: %d\n", 42) > 0 && !fclose(f);
	tap_ok(wrote && slurp("/new.txt") == 21 && !strcmp(text, "written by Berth: 42\n"),
	       "fopen(w), fprintf, fclose, and it reads back");
	f = fopen("/new.txt", "a");
	wrote = f && fputs("and appended\n", f) >= 0 && !fclose(f);
	tap_ok(wrote && !strcmp(text, "written by Berth: 42\n") && slurp("/new.txt") == 34,
	       "append mode adds at the end");
	int fd = open("/new.txt", O_RDWR);
	struct stat sb;
	int ok = fd >= 3 && !fstat(fd, &sb) && sb.st_size == 34 && S_ISREG(sb.st_mode) && write(fd, "W", 1) == 1 &&
	         !fsync(fd) && !close(fd);
	tap_ok(ok && slurp("/new.txt") == 34 && text[0] == 'W', "open/write/fstat/fsync/close on a descriptor");
	errno = 0;
	FILE *missing = fopen("/missing.txt", "r");
	int missing_errno = errno;
	tap_ok(!missing && missing_errno == ENOENT, "a missing file: ENOENT (%d)", missing_errno);
	tap_ok(!stat("/docs", &sb) && S_ISDIR(sb.st_mode) && open("/docs", O_WRONLY) < 0 && errno == EISDIR,
	       "stat of a directory; opening it to write is EISDIR");

	/* the namespace, through the stubs */
	st = fs_mkdir(fs, "/d1", 0755);
	long s2 = st ? st : fs_open(fs, "/d1/f", 1, 0644, &ino, &kind, &size);
	long s3 = fs_mkdir(fs, "/d1", 0755), s4 = fs_rmdir(fs, "/d1");
	tap_ok(!st && !s2 && s3 == E(EEXIST) && s4 == E(ENOTEMPTY),
	       "mkdir, create inside; mkdir again EEXIST, rmdir of a full one ENOTEMPTY (%ld %ld %ld %ld)", st, s2,
	       s3, s4);
	st = fs_rename(fs, "/d1/f", "/d1/g");
	s2 = st ? st : fs_rename(fs, "/d1", "/d2");
	s3 = fs_open(fs, "/d2/g", 0, 0, &ino, &kind, &size);
	s4 = fs_open(fs, "/d1/f", 0, 0, &ino, &kind, &size);
	tap_ok(!st && !s2 && !s3 && s4 == E(ENOENT), "rename a file and its directory (%ld %ld %ld %ld)", st, s2, s3,
	       s4);
	st = fs_unlink(fs, "/d2/g");
	s2 = st ? st : fs_rmdir(fs, "/d2");
	s3 = fs_unlink(fs, "/docs");
	tap_ok(!st && !s2 && s3 == E(EISDIR), "unlink, rmdir; unlink of a directory is EISDIR (%ld %ld %ld)", st, s2,
	       s3);

	/* the namespace, through the C library: opendir/readdir, mkdir,
	 * rename, ftruncate, truncate, rmdir */
	ok = !mkdir("/libc", 0755) && (f = fopen("/libc/one", "w")) && fputs("0123456789", f) >= 0 && !fclose(f) &&
	     !rename("/libc/one", "/libc/two") && !truncate("/libc/two", 4) && !stat("/libc/two", &sb) &&
	     sb.st_size == 4 && (fd = open("/libc/two", O_RDWR)) >= 3 && !ftruncate(fd, 2) && !close(fd) &&
	     !stat("/libc/two", &sb) && sb.st_size == 2 && mkdir("/libc", 0755) < 0 && errno == EEXIST &&
	     rmdir("/libc") < 0 && errno == ENOTEMPTY;
	DIR *d = opendir("/libc");
	struct dirent *de;
	unsigned names = 0, listed = 0;
	while (d && (de = readdir(d)) && listed < 10) {
		listed++;
		names |= (!strcmp(de->d_name, ".") && de->d_type == DT_DIR) << 0 |
		         (!strcmp(de->d_name, "..") && de->d_type == DT_DIR && de->d_ino == 2) << 1 |
		         (!strcmp(de->d_name, "two") && de->d_type == DT_REG) << 2;
	}
	rewinddir(d);
	int again = d && (de = readdir(d)) && !strcmp(de->d_name, ".");
	tap_ok(ok && d && names == 7 && listed == 3 && again && !closedir(d),
	       "mkdir, rename, truncate, ftruncate; opendir/readdir list ., .. and two, rewinddir starts over (%u %u)",
	       names, listed);
	errno = 0;
	DIR *not_dir = opendir("/hello.txt");
	int not_dir_errno = errno;
	errno = 0;
	DIR *absent = opendir("/no/such");
	tap_ok(!not_dir && not_dir_errno == ENOTDIR && !absent && errno == ENOENT && !unlink("/libc/two") &&
	       !rmdir("/libc") && stat("/libc", &sb) < 0 && errno == ENOENT,
	       "opendir of a file ENOTDIR, of nothing ENOENT; unlink and rmdir remove them (%d)", not_dir_errno);

	/* a sparse file past 4 GiB, and truncate */
	uint32_t put = 0, mode, links, mtime;
	uint64_t blocks;
	st = fs_open(fs, "/sparse", 1, 0644, &ino, &kind, &size);
	st = st ? st : fs_write(fs, ino, 5ULL << 30, (const uint8_t *)"end", 3, &put);
	st = st ? st : fs_stat(fs, ino, &mode, &links, &size, &blocks, &mtime);
	tap_ok(!st && put == 3 && size == (5ULL << 30) + 3 && blocks < 64,
	       "a byte past 5 GiB: the size says so, few blocks are used (%lu blocks)", blocks);
	st = fs_read(fs, ino, 1ULL << 32, 16, buf, &got);
	int zeros = !st && got == 16;
	for (uint32_t i = 0; zeros && i < got; i++)
		zeros &= buf[i] == 0;
	tap_ok(zeros, "the hole reads as zeros");
	st = fs_truncate(fs, ino, 100);
	s2 = st ? st : fs_stat(fs, ino, &mode, &links, &size, &blocks, &mtime);
	tap_ok(!st && !s2 && size == 100, "truncated to 100 bytes (%ld)", st);
	st = fs_unlink(fs, "/sparse");
	s2 = fs_stat(fs, ino, &mode, &links, &size, &blocks, &mtime);
	tap_ok(!st && s2 == E(ESTALE), "after unlink its inode number is stale (%ld)", s2);

	/* requests that make no sense */
	st = fs_read(fs, 0, 0, 16, buf, &got);
	s2 = fs_read(fs, 0xfffffff0u, 0, 16, buf, &got);
	s3 = fs_write(fs, 2, 0, (const uint8_t *)"x", 1, &put);
	s4 = fs_open(fs, "relative", 0, 0, &ino, &kind, &size);
	tap_ok(st >= FS_ERRNO_BASE && s2 >= FS_ERRNO_BASE && s3 == E(EISDIR) && s4 >= FS_ERRNO_BASE,
	       "inode 0, an inode past the table, writing a directory, a relative path: errors (%ld %ld %ld %ld)",
	       st, s2, s3, s4);
	st = fs_open(fs, "/x", 0x80, 0, &ino, &kind, &size);
	s2 = fs_read(fs, 12, 0, 100000, buf, &got); /* the reply is at most 448 bytes */
	tap_ok(st == E(EINVAL) && (s2 == 0 ? got <= sizeof(buf) : s2 >= FS_ERRNO_BASE),
	       "unknown open flags EINVAL; a read of 100000 bytes gets at most one message (%ld %ld)", st, s2);
	char why[201];
	tap_ok(!fs_why(fs, why) && why[0], "why: '%s'", why);
	uint32_t bs;
	uint64_t total, bfree, inodes, ifree;
	st = fs_statfs(fs, &bs, &total, &bfree, &inodes, &ifree);
	tap_ok(!st && bs == 1024 && total >= 4000 && total <= 4096 && bfree > 3000 && bfree < total && ifree < inodes && !fs_sync(fs),
	       "statfs: %lu blocks of %u, %lu free; %lu inodes, %lu free; sync", total, bs, bfree, inodes, ifree);

	/* the server killed: init restarts it, and a new lookup finds it */
	st = init_kill(INIT, "fs");
	uint64_t fresh = 0;
	long found = -1;
	for (int i = 0; i < 200 && found; i++) {
		uint64_t t = rdtsc();
		while (rdtsc() - t < 20000000)
			sys_yield();
		found = init_lookup(INIT, "fs", &fresh);
		if (!found && fs_open(fresh, "/hello.txt", 0, 0, &ino, &kind, &size)) {
			sys_cnode_delete(fresh);
			slot_free(fresh);
			found = -1;
		}
	}
	long old = fs_sync(fs);
	tap_ok(!st && !found && size == 20 && old != 0,
	       "killed, restarted by init: the new server answers, the old right is dead (%ld %ld %ld)", st, found,
	       old);
	tap_done();
}
