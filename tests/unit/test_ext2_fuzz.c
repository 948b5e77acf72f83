/* Fuzzing servers/fs/ext2_*.c: random bytes changed in the metadata of a
 * host-made image (superblock, group descriptors, bitmaps, the used part
 * of the inode table, directory and indirect blocks), then mount, walk
 * the whole tree, read every file, try some writes and unmount.  Nothing
 * may crash, hang (an alarm guards) or upset the sanitizers. */
// unit-under-test: servers/fs/ext2_super.c servers/fs/ext2_cache.c servers/fs/ext2_alloc.c servers/fs/ext2_inode.c servers/fs/ext2_dir.c servers/fs/ext2_file.c servers/fs/ext2_path.c
#include "ext2_test.h"
#include <signal.h>
#include "unit.h"

#define SEEDS 800

static char tmp[256], img[300];
static uint32_t meta[4096];
static int nmeta, nfixed; /* meta[0..nfixed): sb, gdt, bitmaps, inode table */
static uint32_t bs;

static void add_meta(uint32_t b)
{
	if (nmeta < (int)(sizeof meta / sizeof *meta))
		meta[nmeta++] = b;
}

/* Every block number debugfs prints for path's data and indirect blocks. */
static void add_blocks_of(const char *path)
{
	char *o = sh_out("debugfs -R 'stat %s' %s 2>/dev/null | sed -n '/^BLOCKS:/,$p' | tail -n +2", path, img);
	for (char *p = o; *p;) {
		if (*p >= '0' && *p <= '9' && (p == o || p[-1] == ':' || p[-1] == ' ' || p[-1] == '-')) {
			char *end;
			unsigned long v = strtoul(p, &end, 10);
			if (p > o && p[-1] == ':')
				add_meta((uint32_t)v);
			p = end;
		} else {
			p++;
		}
	}
	free(o);
}

static uint64_t rng;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static int files_read, entries_seen;

static void walk(struct ext2_fs *fs, uint32_t dir, int depth, char *path, size_t plen)
{
	uint64_t cookie = 0;
	struct ext2_dirent de;
	static uint8_t buf[65536];
	for (int n = 0; n < 400 && ext2_readdir(fs, dir, &cookie, &de) == 1; n++) {
		entries_seen++;
		if (!strcmp(de.name, ".") || !strcmp(de.name, ".."))
			continue;
		size_t l = strlen(de.name);
		if (plen + l + 2 >= 1024)
			continue;
		path[plen] = '/';
		memcpy(path + plen + 1, de.name, l + 1);
		uint32_t ino;
		struct ext2_stat st;
		ext2_lookup(fs, path, &ino);
		if (ext2_stat(fs, de.ino, &st) == 0) {
			if ((st.mode & EXT2_S_IFMT) == EXT2_S_IFDIR && depth < 8)
				walk(fs, de.ino, depth + 1, path, plen + 1 + l);
			else if ((st.mode & EXT2_S_IFMT) == EXT2_S_IFLNK)
				ext2_readlink(fs, de.ino, (char *)buf, 300);
			else
				for (uint64_t off = 0; off < 256 * 1024; off += sizeof buf)
					if (ext2_read(fs, de.ino, off, buf, sizeof buf) <= 0)
						break;
			files_read++;
		}
		path[plen] = 0;
	}
}

static void writes(struct ext2_fs *fs)
{
	uint32_t ino;
	static uint8_t buf[20000];
	if (ext2_open(fs, "/fz", EXT2_O_CREAT, 0644, &ino) == 0) {
		ext2_write(fs, ino, 0, buf, sizeof buf);
		ext2_write(fs, ino, 100000, buf, 100);
		ext2_truncate(fs, ino, 5000);
	}
	ext2_mkdir(fs, "/fzd", 0755);
	ext2_mkdir(fs, "/a/b/fzd", 0755);
	ext2_rename(fs, "/a/f1", "/fzd/f1");
	ext2_rename(fs, "/a/b", "/fzd/b");
	ext2_rename(fs, "/idx/n3", "/idx/n4");
	ext2_unlink(fs, "/a/big");
	ext2_unlink(fs, "/idx/n7");
	ext2_rmdir(fs, "/empty");
	if (ext2_lookup(fs, "/a/mid", &ino) == 0)
		ext2_truncate(fs, ino, 100);
	ext2_open(fs, "/idx/n9", EXT2_O_TRUNC, 0, &ino);
	ext2_sync(fs);
}

static void on_alarm(int sig)
{
	(void)sig;
	printf("not ok - the fuzz run took too long (a hang?)\n");
	_exit(1);
}

static void fuzz_image(uint32_t block_size, int seeds)
{
	bs = block_size;
	nmeta = nfixed = 0;
	files_read = entries_seen = 0;
	snprintf(img, sizeof img, "%s/fuzz%u.img", tmp, bs);
	sh("cd %s && rm -rf src && mkdir -p src/a/b/c src/idx src/empty && head -c 300000 /dev/urandom > src/a/big &&"
	   " head -c 20000 /dev/urandom > src/a/mid && echo hi > src/a/f1 && ln -s a/f1 src/link &&"
	   " for i in $(seq 150); do echo $i > src/idx/n$i; done &&"
	   " mke2fs -q -F -t ext2 -b %u -N 512 -d src %s 4M >/dev/null 2>&1 && e2fsck -fyD %s >/dev/null 2>&1",
	   tmp, bs, img, img);
	struct tdev base;
	tdev_load(&base, img);
	/* the metadata: superblock, descriptors, bitmaps, used inode table */
	uint32_t sb_blk = bs == 1024 ? 1 : 0;
	add_meta(sb_blk);
	add_meta(sb_blk + 1);
	uint8_t *gd = base.mem + (uint64_t)(sb_blk + 1) * bs;
	uint32_t bb = *(uint32_t *)gd, ib = *(uint32_t *)(gd + 4), it = *(uint32_t *)(gd + 8);
	add_meta(bb);
	add_meta(ib);
	for (uint32_t i = 0; i < 400 * 256 / bs; i++) /* the inodes in use */
		add_meta(it + i);
	int before = nfixed = nmeta;
	static const char *const paths[] = { "/", "/a", "/a/b", "/a/b/c", "/idx", "/empty",
					     "/lost+found", "/a/big", "/a/mid" };
	for (unsigned i = 0; i < sizeof paths / sizeof *paths; i++)
		add_blocks_of(paths[i]);
	CHECK(nmeta > before + 6, "%u: found %d directory and indirect blocks to fuzz", bs, nmeta - before);

	int mounted = 0, walked = 0;
	for (int seed = 1; seed <= seeds; seed++) {
		rng = 0x9E3779B97F4A7C15ull * (uint64_t)(seed + bs);
		struct tdev t = base;
		t.mem = malloc(base.bytes);
		memcpy(t.mem, base.mem, base.bytes);
		t.dev.ctx = &t;
		int changes = 1 + (int)(rnd() % 24);
		for (int c = 0; c < changes; c++) {
			/* half the changes hit directory and indirect blocks */
			uint32_t blk = (rnd() & 1) ? meta[nfixed + rnd() % (uint32_t)(nmeta - nfixed)]
						   : meta[rnd() % (uint32_t)nfixed];
			uint32_t off = rnd() % bs;
			if (blk == 0 && off < 1024)
				off += 1024; /* block 0's first KiB is not ext2's */
			if (rnd() & 1)
				t.mem[(uint64_t)blk * bs + off] ^= (uint8_t)(1u << (rnd() % 8));
			else
				t.mem[(uint64_t)blk * bs + off] = (uint8_t)rnd();
		}
		struct ext2_fs *fs;
		char msg[160];
		struct ext2_mount_params p = { .dev = &t.dev, .cache_blocks = 16 + (uint32_t)seed % 32,
					       .now = test_now };
		if (ext2_mount(&p, &fs, msg, sizeof msg) == 0) {
			mounted++;
			char path[1024] = "";
			int before_files = files_read;
			walk(fs, EXT2_ROOT_INO, 0, path, 0);
			walked += files_read > before_files;
			writes(fs);
			walk(fs, EXT2_ROOT_INO, 0, path, 0);
			if (ext2_unmount(fs) < 0)
				ext2_abandon(fs);
		}
		free(t.mem);
	}
	CHECK(1, "%u-byte blocks: %d fuzzed images: %d mounted, %d walked, %d entries, %d files read, no crash or hang",
	      bs, seeds, mounted, walked, entries_seen, files_read);
	tdev_close(&base);
}

int main(void)
{
	signal(SIGALRM, on_alarm);
	alarm(120);
	if (!make_tmpdir(tmp, sizeof tmp, "test_ext2_fuzz"))
		return 1;
	int seeds = getenv("EXT2_FUZZ_SEEDS") ? atoi(getenv("EXT2_FUZZ_SEEDS")) : SEEDS;
	if (seeds > SEEDS)
		alarm(0);
	fuzz_image(1024, seeds);
	fuzz_image(4096, seeds / 2);
	sh("rm -rf %s", tmp);
	return unit_done();
}
