/* Host unit tests for servers/fs/ext2_*.c against the host's e2fsprogs:
 * reading host-made images byte for byte (block sizes 1024, 2048, 4096,
 * indexed directories, sparse and double-indirect files), a write
 * workload judged by e2fsck -fn and debugfs, a > 4 GiB sparse file,
 * ENOSPC, feature and state handling, I/O failures and retries, and
 * hand-made corruptions. */
// unit-under-test: servers/fs/ext2_super.c servers/fs/ext2_cache.c servers/fs/ext2_alloc.c servers/fs/ext2_inode.c servers/fs/ext2_dir.c servers/fs/ext2_file.c servers/fs/ext2_path.c
#include "ext2_test.h"
#include <dirent.h>
#include "unit.h"

static char tmp[256];
static char src[300];

/* --- the host tree ----------------------------------------------------- */
static void host_file(const char *rel, uint64_t size, uint32_t seed)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", src, rel);
	FILE *f = fopen(p, "wb");
	uint8_t buf[4096];
	for (uint64_t off = 0; off < size; off += sizeof buf) {
		size_t n = size - off < sizeof buf ? (size_t)(size - off) : sizeof buf;
		fill_pattern(buf, n, seed, off);
		fwrite(buf, 1, n, f);
	}
	fclose(f);
}

static void make_tree(void)
{
	snprintf(src, sizeof src, "%s/src", tmp);
	sh("mkdir -p %s/a/b/c/d %s/empty %s/big", src, src, src);
	static const uint64_t sizes[] = { 0, 1, 511, 1023, 1024, 1025, 4095, 4096, 4097,
					  12 * 1024, 12 * 1024 + 1, 13 * 1024, 70000,
					  300 * 1024, 1100 * 1024, 5 * 1024 * 1024 + 123 };
	for (unsigned i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		char rel[64];
		snprintf(rel, sizeof rel, "%s/f%u", i % 3 == 0 ? "a" : i % 3 == 1 ? "a/b/c" : ".", i);
		host_file(rel, sizes[i], i + 1);
	}
	host_file("a/b/c/d/deep", 3000, 99);
	for (int i = 0; i < 300; i++) {
		char rel[64];
		snprintf(rel, sizeof rel, "big/entry-with-a-longish-name-%03d", i);
		host_file(rel, (uint64_t)i * 13, 1000 + (uint32_t)i);
	}
	/* a sparse file: data at 0, 1 MiB, 9 MiB, size 20 MiB */
	sh("truncate -s 20M %s/sparse && printf head | dd of=%s/sparse conv=notrunc status=none &&"
	   " printf middle | dd of=%s/sparse bs=1 seek=1048576 conv=notrunc status=none &&"
	   " printf tail | dd of=%s/sparse bs=1 seek=9437184 conv=notrunc status=none", src, src, src, src);
	sh("ln -s a/b/c/d/deep %s/link && ln -s %0200d %s/longlink", src, 0, src);
}

/* --- compare the image's tree with the host tree --------------------------- */
static int compare_errors;

static void compare_file(struct ext2_fs *fs, uint32_t ino, const char *hpath)
{
	FILE *f = fopen(hpath, "rb");
	if (!f) {
		compare_errors++;
		return;
	}
	struct ext2_stat st;
	ext2_stat(fs, ino, &st);
	fseek(f, 0, SEEK_END);
	long hsize = ftell(f);
	fseek(f, 0, SEEK_SET);
	if ((long)st.size != hsize) {
		printf("# %s: size %llu, host %ld\n", hpath, (unsigned long long)st.size, hsize);
		compare_errors++;
	}
	static uint8_t a[65536], b[65536];
	uint64_t off = 0;
	for (;;) {
		size_t hn = fread(a, 1, sizeof a, f);
		int64_t n = ext2_read(fs, ino, off, b, sizeof b);
		if (n != (int64_t)hn || memcmp(a, b, hn)) {
			printf("# %s: contents differ at %llu (%lld vs %zu): %s\n", hpath,
			       (unsigned long long)off, (long long)n, hn, ext2_last_error(fs));
			compare_errors++;
			break;
		}
		if (hn == 0)
			break;
		off += hn;
	}
	fclose(f);
}

static void compare_dir(struct ext2_fs *fs, uint32_t dino, const char *hpath, int depth)
{
	uint64_t cookie = 0;
	struct ext2_dirent de;
	int n = 0, r;
	while ((r = ext2_readdir(fs, dino, &cookie, &de)) == 1) {
		if (!strcmp(de.name, ".") || !strcmp(de.name, "..") || !strcmp(de.name, "lost+found"))
			continue;
		n++;
		char hp[1024];
		snprintf(hp, sizeof hp, "%s/%s", hpath, de.name);
		struct stat hs;
		if (lstat(hp, &hs)) {
			printf("# %s: not on the host\n", hp);
			compare_errors++;
			continue;
		}
		struct ext2_stat st;
		if (ext2_stat(fs, de.ino, &st) < 0 || (st.mode & 0170000) != (hs.st_mode & 0170000)) {
			printf("# %s: type differs\n", hp);
			compare_errors++;
			continue;
		}
		if (S_ISDIR(hs.st_mode) && depth < 16) {
			if (de.type != EXT2_DT_DIR)
				compare_errors++;
			compare_dir(fs, de.ino, hp, depth + 1);
		} else if (S_ISREG(hs.st_mode)) {
			compare_file(fs, de.ino, hp);
		} else if (S_ISLNK(hs.st_mode)) {
			char a[512] = { 0 }, b[512];
			if (readlink(hp, a, sizeof a - 1) < 0 || ext2_readlink(fs, de.ino, b, sizeof b) < 0 ||
			    strcmp(a, b)) {
				printf("# %s: link differs\n", hp);
				compare_errors++;
			}
		}
	}
	if (r < 0) {
		printf("# readdir %s: %s\n", hpath, ext2_last_error(fs));
		compare_errors++;
	}
	int hn = 0;
	DIR *d = opendir(hpath);
	for (struct dirent *e; (e = readdir(d));)
		hn += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	if (n != hn) {
		printf("# %s: %d entries, host %d\n", hpath, n, hn);
		compare_errors++;
	}
}

static void test_read_host_images(void)
{
	static const unsigned bss[] = { 1024, 2048, 4096 };
	for (unsigned i = 0; i < 3; i++) {
		char img[300];
		snprintf(img, sizeof img, "%s/read%u.img", tmp, bss[i]);
		/* e2fsck -D indexes the directories (dir_index htrees) */
		CHECK(sh("mke2fs -q -F -t ext2 -b %u -N 2048 -d %s %s 24M >/dev/null 2>&1 && e2fsck -fyD %s >/dev/null 2>&1;"
			 " e2fsck -fn %s >/dev/null 2>&1", bss[i], src, img, img, img) == 0,
		      "mke2fs -d makes the %u-byte-block image", bss[i]);
		struct tdev t;
		tdev_open_file(&t, img);
		struct ext2_fs *fs;
		char msg[160];
		int r = mount_dev(&t, &fs, 32, msg, sizeof msg);
		CHECK(r == 0, "mount %u-byte blocks (%s)", bss[i], r ? msg : "ok");
		if (r) {
			tdev_close(&t);
			continue;
		}
		uint32_t ino;
		CHECK(ext2_lookup(fs, "/big", &ino) == 0, "lookup /big");
		struct ext2_stat st;
		CHECK(ext2_stat(fs, ino, &st) == 0 && st.size > bss[i], "/big spans blocks");
		compare_errors = 0;
		compare_dir(fs, EXT2_ROOT_INO, src, 0);
		CHECK(compare_errors == 0, "every byte, name and type of the %u-byte image matches the host",
		      bss[i]);
		CHECK(ext2_lookup(fs, "/sparse", &ino) == 0 && ext2_stat(fs, ino, &st) == 0 &&
		      st.size == 20u << 20 && st.blocks < 64, "the sparse file has %llu sectors for 20 MiB",
		      (unsigned long long)st.blocks);
		CHECK(ext2_lookup(fs, "/a/b/../b/./c//d/deep", &ino) == 0, "lookup with . .. and //");
		CHECK(ext2_lookup(fs, "/a/nothing", &ino) == EXT2_ENOENT, "missing name is ENOENT");
		CHECK(ext2_lookup(fs, "/a/f0/x", &ino) == EXT2_ENOTDIR, "file as directory is ENOTDIR");
		CHECK(ext2_unmount(fs) == 0, "unmount");
		tdev_close(&t);
		CHECK(sh("e2fsck -fn %s >/dev/null 2>&1", img) == 0, "e2fsck -fn clean after a read-only use");
	}
}


/* Writes size bytes of pattern seed to path, in uneven pieces. */
static int write_file(struct ext2_fs *fs, const char *path, uint64_t size, uint32_t seed)
{
	uint32_t ino;
	int r = ext2_open(fs, path, EXT2_O_CREAT | EXT2_O_TRUNC, 0644, &ino);
	if (r < 0)
		return r;
	static uint8_t buf[70000];
	for (uint64_t off = 0; off < size;) {
		size_t n = (size_t)(off % 3 ? 70000 - off % 1000 : 777);
		if (n > size - off)
			n = (size_t)(size - off);
		fill_pattern(buf, n, seed, off);
		int64_t w = ext2_write(fs, ino, off, buf, n);
		if (w <= 0)
			return w < 0 ? (int)w : EXT2_EIO;
		off += (uint64_t)w;
	}
	return 0;
}

/* Whether path holds exactly size bytes of pattern seed. */
static bool file_is(struct ext2_fs *fs, const char *path, uint64_t size, uint32_t seed)
{
	uint32_t ino;
	struct ext2_stat st;
	if (ext2_lookup(fs, path, &ino) < 0 || ext2_stat(fs, ino, &st) < 0 || st.size != size)
		return false;
	static uint8_t a[65536], b[65536];
	for (uint64_t off = 0; off < size; off += sizeof a) {
		size_t n = size - off < sizeof a ? (size_t)(size - off) : sizeof a;
		fill_pattern(a, n, seed, off);
		if (ext2_read(fs, ino, off, b, n) != (int64_t)n || memcmp(a, b, n))
			return false;
	}
	return true;
}

/* Whether debugfs on the host reads the same bytes. */
static bool host_file_is(const char *img, const char *path, uint64_t size, uint32_t seed)
{
	char out[512];
	snprintf(out, sizeof out, "%s/dump", tmp);
	if (sh("debugfs -R 'dump %s %s' %s >/dev/null 2>&1", path, out, img))
		return false;
	FILE *f = fopen(out, "rb");
	if (!f)
		return false;
	static uint8_t a[65536], b[65536];
	bool ok = true;
	uint64_t off = 0;
	for (size_t n; ok && (n = fread(b, 1, sizeof b, f)) > 0; off += n) {
		fill_pattern(a, n, seed, off);
		ok = memcmp(a, b, n) == 0;
	}
	fclose(f);
	return ok && off == size;
}

#define GiB (1024ull * 1024 * 1024)

static void test_write_workload(unsigned bs, unsigned bpg)
{
	char img[300];
	snprintf(img, sizeof img, "%s/write%u.img", tmp, bs);
	sh("mke2fs -q -F -t ext2 -b %u -g %u -N 4096 -d %s %s 40M >/dev/null 2>&1 && e2fsck -fyD %s >/dev/null 2>&1",
	   bs, bpg, src, img, img);
	char *groups = sh_out("dumpe2fs %s 2>/dev/null | grep -c '^Group'", img);
	printf("# %u-byte blocks, %s groups\n", bs, strtok(groups, "\n"));
	free(groups);
	CHECK(sh("debugfs -R 'stat /big' %s 2>/dev/null | grep -q 'Flags: 0x1000'", img) == 0,
	      "/big is an indexed directory on the host image");
	struct tdev t;
	tdev_open_file(&t, img);
	struct ext2_fs *fs;
	char msg[160];
	int r = mount_dev(&t, &fs, 64, msg, sizeof msg);
	CHECK(r == 0, "mount %u for writing", bs);
	if (r)
		return;
	int errs = 0;
	errs += ext2_mkdir(fs, "/w", 0755) != 0;
	for (int d = 0; d < 6; d++) {
		char p[64];
		snprintf(p, sizeof p, "/w/sub%d", d);
		errs += ext2_mkdir(fs, p, 0755) != 0;
		for (int f = 0; f < 8; f++) {
			snprintf(p, sizeof p, "/w/sub%d/file%d", d, f);
			errs += write_file(fs, p, (uint64_t)(d * 8 + f) * 9973, (uint32_t)(d * 8 + f)) != 0;
		}
	}
	CHECK(errs == 0, "made 7 directories and 48 files (%s)", ext2_last_error(fs));
	CHECK(ext2_mkdir(fs, "/w", 0755) == EXT2_EEXIST, "mkdir of an existing name is EEXIST");
	uint32_t ino;
	CHECK(ext2_open(fs, "/w/sub0/file1", EXT2_O_CREAT | EXT2_O_EXCL, 0644, &ino) == EXT2_EEXIST,
	      "O_EXCL on an existing file is EEXIST");
	CHECK(ext2_open(fs, "/w/sub0", EXT2_O_CREAT | EXT2_O_TRUNC, 0644, &ino) == EXT2_EISDIR,
	      "O_TRUNC on a directory is EISDIR");
	CHECK(ext2_write(fs, EXT2_ROOT_INO, 0, "x", 1) == EXT2_EISDIR, "writing a directory is EISDIR");

	/* a > 4 GiB sparse file reaching into triple-indirect blocks */
	r = ext2_open(fs, "/w/huge", EXT2_O_CREAT, 0644, &ino);
	static uint8_t buf[8192], zero[8192];
	fill_pattern(buf, 3000, 77, 0);
	CHECK(r == 0 && ext2_write(fs, ino, 4 * GiB - 1000, buf, 3000) == 3000 &&
	      ext2_write(fs, ino, 5 * GiB + 123, "HELLO", 5) == 5, "write across 4 GiB and at 5 GiB");
	struct ext2_stat st;
	ext2_stat(fs, ino, &st);
	CHECK(st.size == 5 * GiB + 128 && st.blocks <= 64, "the huge file: size %llu, %llu sectors",
	      (unsigned long long)st.size, (unsigned long long)st.blocks);
	uint8_t back[8192];
	CHECK(ext2_read(fs, ino, 4 * GiB - 1000, back, 3000) == 3000 && !memcmp(back, buf, 3000),
	      "read back across 4 GiB");
	CHECK(ext2_read(fs, ino, 3 * GiB, back, 8192) == 8192 && !memcmp(back, zero, 8192),
	      "a hole reads as zeros");
	CHECK(ext2_read(fs, ino, 5 * GiB + 120, back, 100) == 8 && !memcmp(back + 3, "HELLO", 5),
	      "the end of the huge file");

	/* overwrite inside a host-made file; truncate down, then up */
	CHECK(ext2_lookup(fs, "/a/f12", &ino) == 0, "lookup /a/f12");
	fill_pattern(buf, 5000, 4242, 0);
	CHECK(ext2_write(fs, ino, 30000, buf, 5000) == 5000, "overwrite 5000 bytes at 30000");
	CHECK(ext2_read(fs, ino, 29999, back, 5002) == 5002 && !memcmp(back + 1, buf, 5000) &&
	      back[0] == pattern(13, 29999) && back[5001] == pattern(13, 35000), "the overwrite reads back");
	CHECK(ext2_lookup(fs, "/f14", &ino) == 0 && ext2_truncate(fs, ino, 5000) == 0 &&
	      ext2_truncate(fs, ino, 100000) == 0, "truncate 1100K to 5000 then to 100000");
	CHECK(ext2_read(fs, ino, 4000, back, 8192) == 8192 && back[999] == pattern(15, 4999) && back[0] == pattern(15, 4000) &&
	      !memcmp(back + 1000, zero, 7192), "the truncated tail reads as zeros");
	CHECK(ext2_lookup(fs, "/a/f15", &ino) == 0 && ext2_truncate(fs, ino, 0) == 0 &&
	      ext2_stat(fs, ino, &st) == 0 && st.blocks == 0, "truncate 5 MiB to 0 frees every block");

	/* renames */
	CHECK(ext2_rename(fs, "/w/sub0/file1", "/w/sub0/renamed") == 0, "rename in a directory");
	CHECK(ext2_rename(fs, "/w/sub0/file2", "/w/sub1/moved") == 0, "rename across directories");
	CHECK(ext2_rename(fs, "/w/sub0/file3", "/w/sub1/file4") == 0, "rename replacing a file");
	CHECK(ext2_rename(fs, "/w/sub2", "/a/sub2moved") == 0, "rename a directory across parents");
	CHECK(ext2_rename(fs, "/a", "/a/sub2moved/x") == EXT2_EINVAL, "a directory cannot move into itself");
	CHECK(ext2_rename(fs, "/w/sub3", "/empty") == 0, "rename a directory over an empty one");
	CHECK(ext2_rename(fs, "/w/sub4", "/a") == EXT2_ENOTEMPTY, "not over a non-empty one");
	CHECK(ext2_rename(fs, "/w/sub4/file0", "/w/sub5") == EXT2_EISDIR, "a file not over a directory");
	CHECK(ext2_rename(fs, "/w/sub4", "/w/sub4/file0") == EXT2_ENOTDIR, "a directory not over a file");
	CHECK(ext2_rename(fs, "/w/sub4/file5", "/w/sub4/file5") == 0, "rename onto itself is a no-op");
	CHECK(ext2_mkdir(fs, "/w/r1", 0755) == 0 && ext2_rename(fs, "/w/r1", "/w/r2") == 0 &&
	      ext2_rename(fs, "/w/r2", "/w/r2-a-name-longer-than-its-slot") == 0 &&
	      ext2_lookup(fs, "/w/r2-a-name-longer-than-its-slot/..", &ino) == 0,
	      "rename a directory in its slot, and to a longer name");
	/* unlinks, rmdirs, the indexed directory */
	CHECK(ext2_unlink(fs, "/w/sub4/file6") == 0 && ext2_unlink(fs, "/big/entry-with-a-longish-name-100") == 0,
	      "unlink, also in the indexed directory");
	CHECK(write_file(fs, "/big/a-new-entry", 12345, 555) == 0, "create in the indexed directory");
	char target[300];
	CHECK(ext2_lookup(fs, "/longlink", &ino) == 0 && ext2_readlink(fs, ino, target, sizeof target) == 200 &&
	      ext2_unlink(fs, "/link") == 0 && ext2_unlink(fs, "/longlink") == 0,
	      "unlink a fast and a slow symbolic link");
	CHECK(ext2_unlink(fs, "/w/sub4") == EXT2_EISDIR, "unlink of a directory is EISDIR");
	CHECK(ext2_rmdir(fs, "/w/sub4") == EXT2_ENOTEMPTY, "rmdir of a non-empty directory");
	CHECK(ext2_rmdir(fs, "/w/sub4/file0") == EXT2_ENOTDIR, "rmdir of a file");
	CHECK(ext2_mkdir(fs, "/w/gone", 0700) == 0 && ext2_rmdir(fs, "/w/gone") == 0, "mkdir then rmdir");
	CHECK(ext2_rmdir(fs, "/a/b/c/d/..") == EXT2_EINVAL, "rmdir of .. is EINVAL");
	for (int f = 0; f < 8; f++) {
		char p[64];
		snprintf(p, sizeof p, "/w/sub5/file%d", f);
		ext2_unlink(fs, p);
	}
	CHECK(ext2_rmdir(fs, "/w/sub5") == 0, "empty a directory and rmdir it");
	CHECK(ext2_lookup(fs, "/w/sub5", &ino) == EXT2_ENOENT, "it is gone");
	char longname[300];
	memset(longname, 'n', sizeof longname);
	longname[0] = '/';
	longname[299] = 0;
	CHECK(ext2_mkdir(fs, longname, 0700) == EXT2_ENAMETOOLONG, "a 298-byte name is ENAMETOOLONG");

	struct ext2_statfs sf;
	ext2_statfs(fs, &sf);
	CHECK(ext2_unmount(fs) == 0, "unmount after writing");
	tdev_close(&t);
	char *fsck = sh_out("e2fsck -fn %s 2>&1; echo rc=$?", img);
	CHECK(strstr(fsck, "rc=0") != NULL, "e2fsck -fn is clean after the workload (%u-byte blocks)", bs);
	if (!strstr(fsck, "rc=0"))
		printf("# %s", fsck);
	free(fsck);
	char *dump = sh_out("dumpe2fs -h %s 2>/dev/null | grep -E '^(Free blocks|Free inodes|Filesystem state|Mount count)'", img);
	char want[200];
	snprintf(want, sizeof want, "Free blocks:              %llu", (unsigned long long)sf.blocks_free);
	CHECK(strstr(dump, want) && strstr(dump, "clean") && strstr(dump, "Mount count:              1"),
	      "statfs agrees with dumpe2fs; clean; mounted once");
	free(dump);
	CHECK(host_file_is(img, "/w/sub0/renamed", 9973, 1) && host_file_is(img, "/w/sub1/file4", 3 * 9973, 3) &&
	      host_file_is(img, "/w/sub1/moved", 2 * 9973, 2) && host_file_is(img, "/a/sub2moved/file7", 23 * 9973, 23) &&
	      host_file_is(img, "/big/a-new-entry", 12345, 555) && host_file_is(img, "/w/sub4/file7", 39 * 9973, 39),
	      "debugfs reads what was written");
	char *ls = sh_out("debugfs -R 'ls -l /w/sub1' %s 2>/dev/null", img);
	CHECK(strstr(ls, " moved") && strstr(ls, " file4") && strstr(ls, " 29919 "), "debugfs ls -l /w/sub1 lists the moves");
	free(ls);
	ls = sh_out("debugfs -R 'stat /w/huge' %s 2>/dev/null", img);
	CHECK(strstr(ls, "Size: 5368709248"), "debugfs sees the huge file's size");
	free(ls);
	ls = sh_out("debugfs -R 'stat /big' %s 2>/dev/null", img);
	CHECK(strstr(ls, "Flags: 0x0\n") != NULL, "the changed directory lost its index flag");
	free(ls);

	/* and Berth reads it all back after a remount */
	tdev_open_file(&t, img);
	r = mount_dev(&t, &fs, 16, msg, sizeof msg);
	CHECK(r == 0 && file_is(fs, "/w/sub1/file4", 3 * 9973, 3) && file_is(fs, "/a/sub2moved/file0", 16 * 9973, 16) &&
	      file_is(fs, "/big/a-new-entry", 12345, 555) && file_is(fs, "/a/f0", 0, 1),
	      "remount (16-block cache) reads the files back");
	uint32_t a, b;
	CHECK(ext2_lookup(fs, "/a/sub2moved/..", &a) == 0 && ext2_lookup(fs, "/a", &b) == 0 && a == b,
	      "the moved directory's .. names its new parent");
	ext2_unmount(fs);
	tdev_close(&t);
}

static const char *notice_seen;
static char notice_buf[200];
static void on_notice(void *ctx, const char *m)
{
	(void)ctx;
	snprintf(notice_buf, sizeof notice_buf, "%s", m);
	notice_seen = notice_buf;
}

static int mount_noticed(struct tdev *t, struct ext2_fs **fs, char *msg, size_t len)
{
	struct ext2_mount_params p = { .dev = &t->dev, .cache_blocks = 32, .now = test_now,
				       .notice = on_notice };
	notice_seen = NULL;
	return ext2_mount(&p, fs, msg, len);
}

static void test_features_and_state(void)
{
	char img[300], msg[160];
	snprintf(img, sizeof img, "%s/feat.img", tmp);
	struct tdev t;
	struct ext2_fs *fs;
	sh("mke2fs -q -F -t ext2 -b 1024 %s 4M >/dev/null 2>&1 && debugfs -w -R 'feature extent' %s >/dev/null 2>&1", img, img);
	tdev_open_file(&t, img);
	int r = mount_dev(&t, &fs, 32, msg, sizeof msg);
	CHECK(r == EXT2_ENOTSUP && strstr(msg, "incompatible"), "an unknown INCOMPAT feature refuses the mount: %s", msg);
	tdev_close(&t);

	sh("mke2fs -q -F -t ext2 -b 1024 %s 4M >/dev/null 2>&1 && debugfs -w -R 'feature huge_file' %s >/dev/null 2>&1", img, img);
	tdev_open_file(&t, img);
	r = mount_noticed(&t, &fs, msg, sizeof msg);
	CHECK(r == 0 && ext2_is_read_only(fs) && notice_seen && strstr(notice_seen, "read-only"),
	      "an unknown RO_COMPAT feature mounts read-only and says so");
	if (r == 0) {
		uint32_t ino;
		CHECK(ext2_mkdir(fs, "/x", 0755) == EXT2_EROFS && ext2_open(fs, "/y", EXT2_O_CREAT, 0644, &ino) == EXT2_EROFS &&
		      ext2_lookup(fs, "/lost+found", &ino) == 0 && ext2_write(fs, ino, 0, "x", 1) == EXT2_EROFS,
		      "changes are EROFS, lookups work");
		ext2_unmount(fs);
		CHECK(t.writes == 0, "a read-only mount never writes (%ld writes)", t.writes);
	}
	tdev_close(&t);

	sh("mke2fs -q -F -t ext2 -b 1024 %s 4M >/dev/null 2>&1", img);
	tdev_open_file(&t, img);
	r = mount_noticed(&t, &fs, msg, sizeof msg);
	CHECK(r == 0 && !notice_seen, "a clean file system mounts without a notice");
	CHECK(sh("dumpe2fs -h %s 2>/dev/null | grep -q 'state:  *not clean'", img) == 0,
	      "while mounted read-write the state is not clean");
	CHECK(write_file(fs, "/f", 5000, 1) == 0 && ext2_sync(fs) == 0, "write and sync");
	ext2_abandon(fs); /* a crash */
	tdev_close(&t);
	tdev_open_file(&t, img);
	r = mount_noticed(&t, &fs, msg, sizeof msg);
	CHECK(r == 0 && notice_seen && strstr(notice_seen, "not cleanly"), "after a crash it mounts and says so: %s",
	      notice_seen ? notice_seen : "-");
	CHECK(r == 0 && file_is(fs, "/f", 5000, 1), "the synced file survived");
	if (r == 0)
		ext2_unmount(fs);
	tdev_close(&t);
	CHECK(sh("dumpe2fs -h %s 2>/dev/null | grep -q 'state:  *not clean'", img) == 0,
	      "unmount keeps the not-clean state it found (as Linux)");
	CHECK(sh("e2fsck -fp %s >/dev/null 2>&1", img) <= 1 && sh("e2fsck -fn %s >/dev/null 2>&1", img) == 0,
	      "e2fsck -p finds nothing to fix but the state");
}

static void test_enospc(void)
{
	char img[300], msg[160];
	snprintf(img, sizeof img, "%s/full.img", tmp);
	sh("mke2fs -q -F -t ext2 -b 1024 -N 64 %s 1M >/dev/null 2>&1", img);
	struct tdev t;
	struct ext2_fs *fs;
	tdev_open_file(&t, img);
	CHECK(mount_dev(&t, &fs, 32, msg, sizeof msg) == 0, "mount a 1 MiB file system");
	uint32_t ino;
	static uint8_t buf[4096];
	ext2_open(fs, "/big", EXT2_O_CREAT, 0644, &ino);
	uint64_t off = 0;
	int64_t w;
	while ((w = ext2_write(fs, ino, off, buf, sizeof buf)) == (int64_t)sizeof buf)
		off += sizeof buf;
	CHECK(w >= 0 || w == EXT2_ENOSPC, "writing until full stops short or with ENOSPC (%lld)", (long long)w);
	if (w > 0)
		off += (uint64_t)w;
	CHECK(ext2_write(fs, ino, off, buf, sizeof buf) == EXT2_ENOSPC && strstr(ext2_last_error(fs), "no free blocks"),
	      "then ENOSPC: %s", ext2_last_error(fs));
	int n = 0, r;
	char p[64];
	for (;; n++) {
		snprintf(p, sizeof p, "/e%d", n);
		if ((r = ext2_open(fs, p, EXT2_O_CREAT, 0644, &ino)) < 0)
			break;
	}
	CHECK(r == EXT2_ENOSPC, "empty files until no inode is left (%d made)", n);
	CHECK(ext2_mkdir(fs, "/d", 0755) == EXT2_ENOSPC, "mkdir on a full disk is ENOSPC");
	struct ext2_statfs sf;
	ext2_statfs(fs, &sf);
	CHECK(sf.inodes_free == 0 && sf.blocks_free < 4, "statfs shows it full");
	CHECK(ext2_unlink(fs, "/big") == 0 && ext2_unlink(fs, "/e0") == 0, "unlink frees space");
	CHECK(write_file(fs, "/again", 100000, 5) == 0 && ext2_mkdir(fs, "/d", 0755) == 0, "and it can be used again");
	CHECK(ext2_unmount(fs) == 0, "unmount the full disk");
	tdev_close(&t);
	CHECK(sh("e2fsck -fn %s >/dev/null 2>&1", img) == 0, "e2fsck -fn is clean after ENOSPC");
}

/* A workload under a device that starts failing after n writes (or
 * reads); then the device recovers, ext2_sync retries, and the disk must
 * be clean. */
static int io_workload(struct ext2_fs *fs)
{
	int bad = 0;
	bad |= ext2_mkdir(fs, "/io", 0755) < 0;
	bad |= write_file(fs, "/io/a", 50000, 1) < 0;
	bad |= write_file(fs, "/f3", 3333, 2) < 0;
	bad |= ext2_rename(fs, "/io/a", "/io/b") < 0;
	bad |= ext2_unlink(fs, "/f0") < 0;
	bad |= ext2_rmdir(fs, "/empty") < 0;
	bad |= ext2_mkdir(fs, "/io/sub", 0755) < 0;
	bad |= ext2_rename(fs, "/io/sub", "/a/sub") < 0;
	uint32_t ino;
	if (ext2_lookup(fs, "/a/f12", &ino) == 0)
		bad |= ext2_truncate(fs, ino, 1000) < 0;
	bad |= ext2_sync(fs) < 0;
	return bad;
}

static void test_io_errors(void)
{
	char img[300], work[300], msg[160];
	snprintf(img, sizeof img, "%s/io.img", tmp);
	snprintf(work, sizeof work, "%s/io-run.img", tmp);
	sh("mke2fs -q -F -t ext2 -b 1024 -N 512 -d %s %s 16M >/dev/null 2>&1", src, img);
	struct tdev t;
	struct ext2_fs *fs;
	tdev_load(&t, img);
	if (mount_dev(&t, &fs, 16, msg, sizeof msg)) {
		CHECK(0, "mount for the I/O error test: %s", msg);
		tdev_close(&t);
		return;
	}
	long base = t.writes;
	io_workload(fs);
	long total = t.writes - base, reads = t.reads;
	ext2_unmount(fs);
	tdev_close(&t);
	int runs = 0, clean = 0, failed_ops = 0;
	for (long n = 0; n < total; n += total / 40 + 1) {
		for (int kind = 0; kind < 2; kind++) {
			tdev_load(&t, img);
			if (mount_dev(&t, &fs, 16, msg, sizeof msg))
				continue;
			if (kind == 0)
				t.fail_write_after = t.writes + n;
			else
				t.fail_read_after = t.reads + n * reads / total;
			failed_ops += io_workload(fs);
			t.fail_write_after = t.fail_read_after = -1;
			int r = ext2_unmount(fs);
			if (r < 0)
				ext2_abandon(fs);
			save_mem(t.mem, t.bytes, work);
			tdev_close(&t);
			runs++;
			bool ok = r == 0 && sh("e2fsck -fn %s >/dev/null 2>&1", work) == 0;
			clean += ok;
			if (!ok && getenv("EXT2_DEBUG")) {
				printf("# kind %d n %ld unmount %d\n", kind, n, r);
				sh("e2fsck -fn %s | sed 's/^/# /'", work);
			}
		}
	}
	CHECK(failed_ops > 0 && clean == runs, "I/O errors: %d runs, %d clean after the device recovered", runs, clean);
}

/* --- corruptions ---------------------------------------------------------- */
static char corrupt_img[300];

static void poke(uint64_t off, const void *bytes, size_t n)
{
	int fd = open(corrupt_img, O_RDWR);
	if (pwrite(fd, bytes, n, (off_t)off) != (ssize_t)n)
		abort();
	close(fd);
}

static void poke32(uint64_t off, uint32_t v)
{
	poke(off, &v, 4);
}

static uint32_t block_of(const char *path, uint32_t lblk)
{
	char *o = sh_out("debugfs -R 'bmap %s %u' %s 2>/dev/null", path, lblk, corrupt_img);
	uint32_t b = (uint32_t)strtoul(o, NULL, 10);
	free(o);
	return b;
}

static void fresh_corrupt(const char *debugfs_cmd)
{
	sh("mke2fs -q -F -t ext2 -b 1024 -N 128 %s 4M >/dev/null 2>&1 && mkdir -p %s/small/a/b/c &&"
	   " head -c 300000 /dev/urandom > %s/small/a/f && echo hi > %s/small/a/g", corrupt_img, tmp, tmp, tmp);
	sh("mke2fs -q -F -t ext2 -b 1024 -N 128 -d %s/small %s 4M >/dev/null 2>&1", tmp, corrupt_img);
	if (debugfs_cmd)
		sh("debugfs -w -R '%s' %s >/dev/null 2>&1", debugfs_cmd, corrupt_img);
}

static int try_mount(struct tdev *t, struct ext2_fs **fs, char *msg)
{
	tdev_load(t, corrupt_img);
	return mount_dev(t, fs, 16, msg, 160);
}

static void expect_mount_fails(const char *what, const char *words)
{
	struct tdev t;
	struct ext2_fs *fs;
	char msg[160];
	int r = try_mount(&t, &fs, msg);
	CHECK(r < 0 && strstr(msg, words), "%s: mount fails: %s", what, msg);
	if (r == 0)
		ext2_unmount(fs);
	tdev_close(&t);
}

/* Mounts, runs op, which must fail with err and a message containing words. */
static void expect_op_fails(const char *what, int (*op)(struct ext2_fs *), int err, const char *words)
{
	struct tdev t;
	struct ext2_fs *fs;
	char msg[160];
	int r = try_mount(&t, &fs, msg);
	if (r == 0) {
		r = op(fs);
		CHECK(r == err && strstr(ext2_last_error(fs), words), "%s: %d, %s", what, r, ext2_last_error(fs));
		ext2_unmount(fs);
		if (err == EXT2_ECORRUPT)
			CHECK(t.mem[1024 + 58] & 2, "... and the superblock now says the file system has errors");
	} else {
		CHECK(0, "%s: mount failed: %s", what, msg);
	}
	tdev_close(&t);
}

static int op_readdir_a(struct ext2_fs *fs)
{
	uint32_t ino;
	uint64_t c = 0;
	struct ext2_dirent de;
	int r = ext2_lookup(fs, "/a", &ino);
	while (r == 0 && (r = ext2_readdir(fs, ino, &c, &de)) == 1)
		r = 0;
	return r;
}

static int op_read_f(struct ext2_fs *fs)
{
	uint32_t ino;
	static uint8_t buf[300000];
	int r = ext2_lookup(fs, "/a/f", &ino);
	int64_t n = r ? r : ext2_read(fs, ino, 0, buf, sizeof buf);
	return n < 0 ? (int)n : 0;
}

static int op_create_in_c(struct ext2_fs *fs)
{
	return ext2_rename(fs, "/a/g", "/a/b/c/g");
}

static int op_truncate_f(struct ext2_fs *fs)
{
	uint32_t ino;
	int r = ext2_lookup(fs, "/a/f", &ino);
	return r ? r : ext2_truncate(fs, ino, 0);
}

static int op_walk_self(struct ext2_fs *fs)
{
	uint32_t ino;
	int r = ext2_lookup(fs, "/a/b/c/self/self/self/self", &ino);
	if (r == 0)
		r = ext2_rmdir(fs, "/a/b/c");
	return r;
}

static void test_corruptions(void)
{
	snprintf(corrupt_img, sizeof corrupt_img, "%s/corrupt.img", tmp);
	fresh_corrupt(NULL);
	poke(1024 + 56, "\x12\x34", 2);
	expect_mount_fails("bad magic", "magic");
	fresh_corrupt(NULL);
	poke32(1024 + 24, 9);
	expect_mount_fails("bad block size", "block size");
	fresh_corrupt("ssv inodes_count 12345");
	expect_mount_fails("bad inode count", "inode count");
	fresh_corrupt("ssv blocks_count 99999999");
	expect_mount_fails("block count beyond the device", "exceeds the device");
	fresh_corrupt("ssv blocks_per_group 0");
	expect_mount_fails("zero blocks per group", "group size");
	fresh_corrupt("set_bg 0 inode_table 5000000");
	expect_mount_fails("inode table outside its group", "group 0");
	fresh_corrupt("set_bg 0 free_blocks_count 60000");
	expect_mount_fails("impossible group counts", "impossible counts");

	fresh_corrupt(NULL);
	uint32_t b = block_of("/a", 0);
	poke((uint64_t)b * 1024 + 12 + 4, "\x03\x00", 2);
	expect_op_fails("a directory entry with rec_len 3", op_readdir_a, EXT2_ECORRUPT, "bad entry");
	fresh_corrupt(NULL);
	b = block_of("/a", 0);
	poke32((uint64_t)b * 1024 + 24, 0x7fffff);
	expect_op_fails("an entry naming inode 0x7fffff", op_readdir_a, EXT2_ECORRUPT, "bad entry");
	fresh_corrupt(NULL);
	b = block_of("/a", 0);
	poke((uint64_t)b * 1024 + 12 + 4, "\x00\x10", 2);
	expect_op_fails("rec_len past the block", op_readdir_a, EXT2_ECORRUPT, "bad entry");
	fresh_corrupt("sif /a size 12345");
	expect_op_fails("a directory of impossible size", op_readdir_a, EXT2_ECORRUPT, "impossible size");
	fresh_corrupt("sif /a/f size 0x7fffffffffffff");
	expect_op_fails("a file of impossible size", op_read_f, EXT2_ECORRUPT, "impossible size");
	fresh_corrupt("sif /a/f block[3] 99999999");
	expect_op_fails("a block pointer out of range", op_read_f, EXT2_ECORRUPT, "outside the data area");
	fresh_corrupt("sif /a/f block[4] 5");
	expect_op_fails("a block pointer into the inode table", op_read_f, EXT2_ECORRUPT, "outside the data area");
	fresh_corrupt(NULL);
	b = block_of("/a/f", 12); /* the first block mapped by the indirect block */
	char *o = sh_out("debugfs -R 'stat /a/f' %s 2>/dev/null | grep -o '(IND):[0-9]*'", corrupt_img);
	uint32_t ind = (uint32_t)strtoul(strchr(o, ':') + 1, NULL, 10);
	free(o);
	poke32((uint64_t)ind * 1024 + 8, ind); /* the indirect block names itself */
	poke32((uint64_t)ind * 1024 + 12, 3);  /* and a descriptor block */
	expect_op_fails("an indirect block naming itself and metadata", op_read_f, EXT2_ECORRUPT, "outside the data area");
	expect_op_fails("... and truncating it", op_truncate_f, EXT2_ECORRUPT, "");
	/* ".." of c names c itself: moving a file into c must not loop */
	fresh_corrupt(NULL);
	b = block_of("/a/b/c", 0);
	o = sh_out("debugfs -R 'stat /a/b/c' %s 2>/dev/null | head -1", corrupt_img);
	uint32_t cino = (uint32_t)strtoul(o + 7, NULL, 10);
	free(o);
	poke32((uint64_t)b * 1024 + 12, cino);
	struct tdev t;
	struct ext2_fs *fs;
	char msg[160];
	if (try_mount(&t, &fs, msg) == 0) {
		int r = ext2_rename(fs, "/a/b", "/a/b/c/x");
		CHECK(r == EXT2_ECORRUPT || r == EXT2_EINVAL, "a '..' cycle: rename into it fails: %s", ext2_last_error(fs));
		ext2_unmount(fs);
	}
	tdev_close(&t);
	fresh_corrupt("ln /a/b/c /a/b/c/self");
	expect_op_fails("a directory containing itself", op_walk_self, EXT2_ENOTEMPTY, "not empty");
	(void)op_create_in_c;
}

/* Two files sharing one extended-attribute block (refcount 2), one with
 * its own: unlinking drops the count, and frees the block at zero. */
static void test_xattr(void)
{
	char img[300], msg[160];
	snprintf(img, sizeof img, "%s/xattr.img", tmp);
	sh("cd %s && head -c 600 /dev/zero | tr '\\0' v > val && mke2fs -q -F -t ext2 -b 1024 %s 4M >/dev/null 2>&1 &&"
	   " for f in f1 f2 f3; do debugfs -w -R \"write val $f\" %s && debugfs -w -R \"ea_set -f val $f user.big\" %s; done"
	   " >/dev/null 2>&1", tmp, img, img, img);
	char *o = sh_out("debugfs -R 'stat f1' %s 2>/dev/null | grep -o 'File ACL: [0-9]*'", img);
	uint32_t acl = (uint32_t)strtoul(o + 10, NULL, 10);
	free(o);
	o = sh_out("debugfs -R 'stat f2' %s 2>/dev/null | grep -o 'File ACL: [0-9]*'", img);
	uint32_t acl2 = (uint32_t)strtoul(o + 10, NULL, 10);
	free(o);
	/* share f1's block with f2 */
	sh("debugfs -w -R 'sif f2 file_acl %u' %s >/dev/null 2>&1 && debugfs -w -R 'freeb %u' %s >/dev/null 2>&1 &&"
	   " printf '\\002' | dd of=%s bs=1 seek=%u conv=notrunc status=none; e2fsck -fy %s >/dev/null 2>&1",
	   acl, img, acl2, img, img, acl * 1024 + 4, img);
	CHECK(acl && sh("e2fsck -fn %s >/dev/null 2>&1", img) == 0, "an image with a shared xattr block (%u)", acl);
	struct tdev t;
	struct ext2_fs *fs;
	tdev_open_file(&t, img);
	CHECK(mount_dev(&t, &fs, 16, msg, sizeof msg) == 0 && ext2_unlink(fs, "/f1") == 0 && ext2_unlink(fs, "/f3") == 0 &&
	      ext2_unmount(fs) == 0, "unlink one sharer and the owner of a private block");
	tdev_close(&t);
	CHECK(sh("e2fsck -fn %s >/dev/null 2>&1", img) == 0 &&
	      sh("debugfs -R 'testb %u' %s 2>&1 | grep -q 'marked in use'", acl, img) == 0,
	      "e2fsck is clean and the shared block is still in use");
	tdev_open_file(&t, img);
	CHECK(mount_dev(&t, &fs, 16, msg, sizeof msg) == 0 && ext2_unlink(fs, "/f2") == 0 && ext2_unmount(fs) == 0,
	      "unlink the last sharer");
	tdev_close(&t);
	CHECK(sh("e2fsck -fn %s >/dev/null 2>&1", img) == 0 &&
	      sh("debugfs -R 'testb %u' %s 2>&1 | grep -q 'not in use'", acl, img) == 0,
	      "e2fsck is clean and the block is free");
}

int main(void)
{
	if (!make_tmpdir(tmp, sizeof tmp, "test_ext2"))
		return 1;
	make_tree();
	test_read_host_images();
	test_write_workload(1024, 8192);
	test_write_workload(2048, 2048);
	test_write_workload(4096, 1024);
	test_features_and_state();
	test_enospc();
	test_io_errors();
	test_corruptions();
	test_xattr();
	sh("rm -rf %s", tmp);
	return unit_done();
}
