/* Crash points for servers/fs/ext2_*.c: every write the library sends
 * during a workload (with fsyncs and namespace operations) is recorded;
 * for every prefix of that sequence, and for random subsets of the writes
 * between two flushes (a disk may reorder those), the image is rebuilt,
 * e2fsck -p must repair it (exit status <= 1, then e2fsck -n clean), and
 * every file whose fsync (or creating operation) had returned must read
 * back exactly. */
// unit-under-test: servers/fs/ext2_super.c servers/fs/ext2_cache.c servers/fs/ext2_alloc.c servers/fs/ext2_inode.c servers/fs/ext2_dir.c servers/fs/ext2_file.c servers/fs/ext2_path.c
#include "ext2_test.h"
#include "unit.h"

static char tmp[256], base_img[300], work_img[300];
static struct tdev t;
static struct ext2_fs *fs;

/* A file that must hold size bytes of pattern seed whenever the crash
 * falls at a log position in [from, until]. */
struct expect {
	char path[64];
	uint32_t size, seed;
	size_t from, until;
};
static struct expect exps[128];
static int nexps;
/* log ranges of cross-directory directory renames (docs/fs.md: window) */
static size_t dir_rename_from[8], dir_rename_until[8];
static int ndir_renames;

static void durable(const char *path, uint32_t size, uint32_t seed)
{
	struct expect *e = &exps[nexps++];
	snprintf(e->path, sizeof e->path, "%s", path);
	e->size = size;
	e->seed = seed;
	e->from = t.nlog;
	e->until = SIZE_MAX;
}

/* An operation on path starts: its old contents are no longer promised. */
static void touch(const char *path)
{
	for (int i = 0; i < nexps; i++)
		if (!strcmp(exps[i].path, path) && exps[i].until == SIZE_MAX)
			exps[i].until = t.nlog;
}

static int bad_ops;

static void put_file(const char *path, uint32_t size, uint32_t seed, bool sync)
{
	touch(path);
	uint32_t ino;
	static uint8_t buf[40000];
	int r = ext2_open(fs, path, EXT2_O_CREAT | EXT2_O_TRUNC, 0644, &ino);
	for (uint32_t off = 0; r == 0 && off < size;) {
		uint32_t n = size - off < 7000 ? size - off : 7000;
		fill_pattern(buf, n, seed, off);
		r = ext2_write(fs, ino, off, buf, n) == n ? 0 : -1;
		off += n;
	}
	if (r == 0 && sync)
		r = ext2_fsync(fs, ino);
	if (r) {
		printf("# %s: %s\n", path, ext2_last_error(fs));
		bad_ops++;
	}
	if (sync)
		durable(path, size, seed);
}

static void op(int r, const char *what)
{
	if (r < 0) {
		printf("# %s: %d %s\n", what, r, ext2_last_error(fs));
		bad_ops++;
	}
}

static void rename_file(const char *from, const char *to, uint32_t size, uint32_t seed)
{
	touch(from);
	touch(to);
	op(ext2_rename(fs, from, to), "rename");
	durable(to, size, seed);
}

static void workload(void)
{
	put_file("/w1", 3000, 1, true);
	op(ext2_mkdir(fs, "/d", 0755), "mkdir /d");
	put_file("/d/f2", 20000, 2, true);
	put_file("/d/nosync", 5000, 3, false);
	rename_file("/w1", "/d/w1", 3000, 1);
	touch("/d/f2");
	op(ext2_unlink(fs, "/d/f2"), "unlink");
	put_file("/tmpf", 9000, 4, true);
	rename_file("/tmpf", "/d/f3", 9000, 4);
	uint32_t ino;
	touch("/old/big");
	if (ext2_lookup(fs, "/old/big", &ino) == 0) {
		op(ext2_truncate(fs, ino, 2000), "truncate");
		op(ext2_fsync(fs, ino), "fsync");
		durable("/old/big", 2000, 7);
	}
	op(ext2_mkdir(fs, "/d/sub", 0755), "mkdir /d/sub");
	put_file("/d/sub/x", 1500, 5, true);
	touch("/d/sub/x");
	dir_rename_from[ndir_renames] = t.nlog;
	op(ext2_rename(fs, "/d/sub", "/sub2"), "rename dir");
	dir_rename_until[ndir_renames++] = t.nlog;
	durable("/sub2/x", 1500, 5);
	/* a directory renamed within its parent: one block write */
	op(ext2_mkdir(fs, "/d/r1", 0755), "mkdir /d/r1");
	put_file("/d/r1/y", 800, 10, true);
	touch("/d/r1/y");
	op(ext2_rename(fs, "/d/r1", "/d/r2"), "rename dir in place");
	durable("/d/r2/y", 800, 10);
	rename_file("/d/f3", "/d/f3-now-with-a-longer-name", 9000, 4);
	op(ext2_mkdir(fs, "/e", 0755), "mkdir /e");
	op(ext2_rmdir(fs, "/e"), "rmdir /e");
	touch("/idx/n5");
	op(ext2_unlink(fs, "/idx/n5"), "unlink in an indexed dir");
	put_file("/idx/new", 4000, 6, true);
	put_file("/d/w1", 6000, 8, true); /* rewrite in place */
	touch("/old/small");
	op(ext2_unlink(fs, "/old/small"), "unlink old");
	/* a sparse file reaching double-indirect blocks */
	op(ext2_open(fs, "/sp", EXT2_O_CREAT, 0644, &ino), "create /sp");
	op(ext2_write(fs, ino, 300000, "sparse", 6) == 6 ? 0 : -1, "sparse write");
	op(ext2_fsync(fs, ino), "fsync /sp");
	put_file("/last", 100, 9, true);
	op(ext2_unmount(fs), "unmount");
	fs = NULL;
}

/* Writes log entries [0, n) onto a copy of the base image; with a mask,
 * entries from..n-1 are applied only where the mask says so. */
static uint8_t *base_mem;
static uint64_t base_bytes;

static void build(size_t n, size_t sub_from, const bool *mask)
{
	uint8_t *m = malloc(base_bytes);
	memcpy(m, base_mem, base_bytes);
	for (size_t i = 0; i < n; i++) {
		struct wlog_entry *e = &t.log[i];
		if (e->sector == UINT64_MAX || (mask && i >= sub_from && !mask[i - sub_from]))
			continue;
		memcpy(m + e->sector * 512, e->data, (size_t)e->count * 512);
	}
	save_mem(m, base_bytes, work_img);
	free(m);
}

static int points, fsck_fail, content_fail, window_fail;

static bool in_dir_rename(size_t a, size_t b)
{
	for (int i = 0; i < ndir_renames; i++)
		if (b > dir_rename_from[i] && a < dir_rename_until[i])
			return true;
	return false;
}

/* Checks the image in work_img as a crash that kept everything before
 * log position lo and some of what is in [lo, hi). */
static void judge(size_t lo, size_t hi, const char *what)
{
	points++;
	char *out = sh_out("e2fsck -fp %s 2>&1; echo rc=$?", work_img);
	char *rc = strstr(out, "rc=");
	int status = rc ? atoi(rc + 3) : 255;
	if (status > 1 || sh("e2fsck -fn %s >/dev/null 2>&1", work_img)) {
		if (in_dir_rename(lo, hi) && (strstr(out, "is a link to directory") ||
					       strstr(out, "Unconnected directory") ||
					       strstr(out, "'..' in /sub2"))) {
			window_fail++;
		} else {
			fsck_fail++;
			if (fsck_fail <= 3)
				printf("# %s: e2fsck -p: %s", what, out);
		}
		free(out);
		return;
	}
	free(out);
	struct tdev d;
	tdev_load(&d, work_img);
	struct ext2_mount_params p = { .dev = &d.dev, .cache_blocks = 32, .now = test_now, .read_only = true };
	struct ext2_fs *f;
	char msg[160];
	if (ext2_mount(&p, &f, msg, sizeof msg)) {
		content_fail++;
		printf("# %s: mount: %s\n", what, msg);
		tdev_close(&d);
		return;
	}
	for (int i = 0; i < nexps; i++) {
		struct expect *e = &exps[i];
		if (e->from > lo || e->until < hi)
			continue;
		uint32_t ino;
		struct ext2_stat st;
		static uint8_t a[80000], b[80000];
		bool ok = ext2_lookup(f, e->path, &ino) == 0 && ext2_stat(f, ino, &st) == 0 && st.size == e->size &&
			  ext2_read(f, ino, 0, b, e->size) == e->size;
		fill_pattern(a, e->size, e->seed, 0);
		if (!ok || memcmp(a, b, e->size)) {
			content_fail++;
			if (content_fail <= 5)
				printf("# %s: %s lost (%s)\n", what, e->path, ext2_last_error(f));
		}
	}
	ext2_unmount(f);
	tdev_close(&d);
}

static void run_config(unsigned bs, unsigned bpg, const char *size)
{
	nexps = ndir_renames = bad_ops = 0;
	points = fsck_fail = content_fail = window_fail = 0;
	sh("mke2fs -q -F -t ext2 -b %u -g %u -N 512 -d %s/src %s %s >/dev/null 2>&1 && e2fsck -fyD %s >/dev/null 2>&1",
	   bs, bpg, tmp, base_img, size, base_img);
	CHECK(sh("debugfs -R 'stat /idx' %s 2>/dev/null | grep -q 'Flags: 0x1000'", base_img) == 0,
	      "%u: the base image has an indexed directory", bs);
	tdev_load(&t, base_img);
	base_mem = malloc(t.bytes);
	memcpy(base_mem, t.mem, t.bytes);
	base_bytes = t.bytes;
	t.record = true;
	char msg[160];
	CHECK(mount_dev(&t, &fs, 16, msg, sizeof msg) == 0, "%u: mount with a 16-block cache", bs);
	/* /old/big gets known contents first: its truncation is checked */
	put_file("/old/big", 70000, 7, true);
	workload();
	CHECK(bad_ops == 0, "%u: the workload ran without errors", bs);
	size_t nlog = t.nlog, nflush = 0;
	for (size_t i = 0; i < nlog; i++)
		nflush += t.log[i].sector == UINT64_MAX;
	printf("# %u-byte blocks, group of %u: %zu writes, %zu flushes recorded\n", bs, bpg, nlog - nflush, nflush);

	/* every prefix */
	for (size_t k = 0; k <= nlog; k++) {
		if (k && t.log[k - 1].sector == UINT64_MAX)
			continue; /* same image as the prefix before the flush */
		char what[64];
		snprintf(what, sizeof what, "prefix %zu", k);
		build(k, 0, NULL);
		judge(k, k, what);
	}
	int prefix_points = points;
	/* reordering: random subsets of the writes between two flushes */
	srand(bs);
	size_t start = 0;
	for (size_t i = 0; i <= nlog; i++) {
		if (i < nlog && t.log[i].sector != UINT64_MAX)
			continue;
		size_t n = i - start;
		if (n >= 2) {
			bool *mask = calloc(n, sizeof *mask);
			for (int trial = 0; trial < 3; trial++) {
				for (size_t j = 0; j < n; j++)
					mask[j] = rand() & 1;
				char what[64];
				snprintf(what, sizeof what, "subset of [%zu,%zu) #%d", start, i, trial);
				build(i, start, mask);
				judge(start, i, what);
			}
			free(mask);
		}
		start = i + 1;
	}
	printf("# crash points: %d prefixes + %d reordered subsets; e2fsck -p failures %d, lost fsynced data %d,"
	       " failures inside a directory move (known window) %d\n", prefix_points, points - prefix_points,
	       fsck_fail, content_fail, window_fail);
	CHECK(fsck_fail == 0, "%u: e2fsck -p repairs every crash point (%d points)", bs, points);
	CHECK(content_fail == 0, "%u: every fsynced file keeps its contents", bs);
	/* Known ext2 limit, not hidden: moving a directory to another parent
	 * changes two directory blocks, and a crash between them leaves a
	 * directory with two names or none; e2fsck -p stops on both
	 * (docs/fs.md).  These points are counted, and reported, apart. */
	if (window_fail)
		printf("# KNOWN: %d crash points inside the directory move need a manual e2fsck\n", window_fail);
	tdev_close(&t);
	free(base_mem);
}

int main(void)
{
	if (!make_tmpdir(tmp, sizeof tmp, "test_ext2_crash"))
		return 1;
	snprintf(base_img, sizeof base_img, "%s/base.img", tmp);
	snprintf(work_img, sizeof work_img, "%s/work.img", tmp);
	sh("mkdir -p %s/src/old %s/src/idx && head -c 70000 /dev/urandom > %s/src/old/big &&"
	   " echo small > %s/src/old/small", tmp, tmp, tmp, tmp);
	sh("cd %s/src/idx && for i in $(seq 0 399); do echo $i > n$i; done", tmp);
	run_config(1024, 8192, "2M");
	run_config(4096, 256, "3M"); /* three groups */
	sh("rm -rf %s", tmp);
	return unit_done();
}
