/* The file system on a real (emulated) disk: the fs server over the
 * virtio-blk driver over the PCI server, each in its own address space.
 * The disk is a copy of the host-made image (tools/fs_test_image.py).
 * The client reads a host file exactly, writes many files and
 * directories and a sparse file past 4 GiB, kills the block driver in the
 * middle (init restarts it; the fs server attaches again and the
 * workload goes on), then kills the fs server itself with writes not yet
 * synced (init restarts it, it mounts the disk again, and everything
 * fsync had returned for is there), and unmounts.  After QEMU ends the
 * host's e2fsck -fp must repair whatever the kill left without asking
 * (e2fsck -fn then clean) and debugfs must show what was written: the
 * host's e2fsprogs judge every byte. */
// test-root: build/init.elf
// test-module: tests/system/manifests/fs_disk.manifest
// test-module: build/rtc.elf
// test-module: build/pci.elf
// test-module: build/virtio_blk.elf
// test-module: build/fs.elf
// test-disk-image: a build/tests/data/files.img
// test-qemu: -drive if=none,id=da,format=raw,file={disk:a} -device virtio-blk-pci,disable-legacy=on,drive=da,addr=4
// test-expect: ^fs: ext2 mounted: 4\d\d\d KiB
// test-expect: ^fs: unmounted cleanly
// test-disk-preen: a
// test-expect: ^fs: ext2: file system was not cleanly unmounted
// test-disk-debugfs: a cat /berth/dir7/file3.txt => ^file 3 of directory 7: written by Berth\r?$
// test-disk-debugfs: a ls -l /berth => dir0[\s\S]*dir9
// test-disk-debugfs: a stat /berth/sparse => Size: 5368709123
// test-disk-debugfs: a cat /berth/after-restart.txt => ^written after the driver came back\r?$
// test-disk-debugfs: a cat /hello.txt => ^hello from the host\r?$
// test-disk-debugfs: a cat /berth/durable.txt => ^fsynced before the fs server was killed\r?$
// test-disk-debugfs: a cat /berth/after-fs-restart.txt => ^written by the restarted fs server\r?$
// test-timeout: 240
// test-selfcheck: 16
#include "tap.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include "fs.h"
#include "init.h"
#include "fs_files.h"

#define INIT 8
#define FS 9
#define DIRS 10
#define FILES 6

static char text[512];

static int put(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");
	return f && fputs(content, f) >= 0 && !fclose(f);
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(10);
	uint64_t fs = FS;
	files_use_fs(fs);
	FILE *f = fopen("/hello.txt", "r");
	size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
	text[n] = 0;
	if (f)
		fclose(f);
	tap_ok(n == 20 && !strcmp(text, "hello from the host\n"), "a host file read from the virtio disk");

	long st = fs_mkdir(fs, "/berth", 0755);
	int made = !st;
	for (int d = 0; d < DIRS && made; d++) {
		char path[64];
		snprintf(path, sizeof(path), "/berth/dir%d", d);
		made = !fs_mkdir(fs, path, 0755);
		for (int k = 0; k < FILES && made; k++) {
			char content[80];
			snprintf(path, sizeof(path), "/berth/dir%d/file%d.txt", d, k);
			snprintf(content, sizeof(content), "file %d of directory %d: written by Berth\n", k, d);
			made = put(path, content);
		}
	}
	tap_ok(made, "%d directories of %d files written (%ld)", DIRS, FILES, st);

	uint32_t ino, kind, put_n = 0, mode, links, mtime;
	uint64_t size, blocks;
	st = fs_open(fs, "/berth/sparse", 1, 0644, &ino, &kind, &size);
	st = st ? st : fs_write(fs, ino, 5ULL << 30, (const uint8_t *)"end", 3, &put_n);
	st = st ? st : fs_fsync(fs, ino);
	st = st ? st : fs_stat(fs, ino, &mode, &links, &size, &blocks, &mtime);
	tap_ok(!st && size == (5ULL << 30) + 3, "a sparse file past 5 GiB, fsynced (%ld)", st);

	/* the block driver killed: the fs server attaches to the new one */
	st = init_kill(INIT, "blk0");
	int ok = !st && put("/berth/after-restart.txt", "written after the driver came back\n");
	f = fopen("/berth/dir7/file3.txt", "r");
	n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
	text[n] = 0;
	if (f)
		fclose(f);
	tap_ok(ok && !strcmp(text, "file 3 of directory 7: written by Berth\n"),
	       "the block driver killed: writes and reads go on through the restarted one (%ld)", st);
	tap_eq(fs_sync(fs), E_OK, "sync");

	/* the fs server killed with writes not synced: what fsync returned
	 * for survives the restart */
	int fd_ok = put("/berth/durable.txt", "fsynced before the fs server was killed\n");
	st = fd_ok ? fs_open(fs, "/berth/durable.txt", 0, 0, &ino, &kind, &size) : -1;
	st = st ? st : fs_fsync(fs, ino);
	for (int k = 0; k < 5 && !st; k++) {
		char path[64];
		snprintf(path, sizeof(path), "/berth/unsynced%d.txt", k);
		put(path, "written, never synced\n");
	}
	int held = open("/berth/durable.txt", O_RDONLY);   /* across the kill */
	long killed = init_kill(INIT, "fs");
	uint64_t fresh = 0;
	long found = -1;
	for (int i = 0; i < 300 && found; i++) {
		spin_ticks(20000000UL);
		found = init_lookup(INIT, "fs", &fresh);
		if (!found && fs_open(fresh, "/berth/durable.txt", 0, 0, &ino, &kind, &size)) {
			sys_cnode_delete(fresh);
			slot_free(fresh);
			found = -1;
		}
	}
	if (!found)
		fs = fresh;   /* for the raw calls below; the C library finds it itself */
	char c;
	int r1 = (int)read(held, &c, 1), e1 = errno;
	int r2 = (int)read(held, &c, 1), e2 = errno;
	tap_ok(held >= 0 && r1 == -1 && e1 == EIO && r2 == -1 && e2 == ESTALE && !close(held),
	       "a file opened before: EIO where the library finds the server gone, then ESTALE (%d %d, %d %d)", r1,
	       e1, r2, e2);
	f = found ? 0 : fopen("/berth/durable.txt", "r");
	n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
	text[n] = 0;
	if (f)
		fclose(f);
	tap_ok(!st && !killed && !found && !strcmp(text, "fsynced before the fs server was killed\n"),
	       "the fs server killed: restarted, it mounts again and the fsynced file is intact, the C library "
	       "looking it up again itself (%ld %ld %ld)", st,
	       killed, found);
	tap_ok(put("/berth/after-fs-restart.txt", "written by the restarted fs server\n"),
	       "and it takes new writes");
	uint32_t bs;
	uint64_t total, bfree, inodes, ifree;
	st = fs_statfs(fs, &bs, &total, &bfree, &inodes, &ifree);
	tap_ok(!st && inodes - ifree >= 11 + 12 + DIRS * FILES, "statfs counts the new inodes (%lu used)",
	       inodes - ifree);
	tap_eq(fs_unmount(fs), E_OK, "unmount: everything written back, marked clean");
	tap_done();
}
