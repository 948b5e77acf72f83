/* The Linux side of the file-system benchmark (make bench): /init of an
 * initramfs under Debian's stock kernel in the same QEMU as Berth's
 * tests/bench/fs_bench.c, with the same virtio-blk device on the same
 * kind of fresh 64 MiB ext2 image.  It loads the virtio and ext4 modules
 * (Debian's kernel mounts ext2 with its ext4 driver), mounts /dev/vda as
 * ext2 and does the same work, timing each part with RDTSC, which counts
 * guest instructions under -icount shift=0:
 *
 *   linux.fs_write_16m    16 MiB in 64 KiB writes, then fsync
 *   linux.fs_read_16m     read back in 64 KiB reads after dropping the
 *                         page cache (so it comes from the disk, as most
 *                         of Berth's read does)
 *   linux.fs_create_1000  1000 files of 100 bytes in one directory, sync
 *   linux.fs_delete_1000  unlink them, sync
 *
 * Modules come as /lib/modules/NAME.ko in dependency order (the list is
 * tools/bench/linux-fs-bench.sh's); it ends the machine with poweroff. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BIG (16u << 20)
#define CHUNK (64u << 10)
#define SMALL_FILES 1000
#define SMALL_SIZE 100

static const char *const modules[] = {
	"virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci",
	"virtio_blk", "crc16", "mbcache", "jbd2", "crc32c_generic", "ext4",
};

static unsigned char chunk[CHUNK];

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static void fail(const char *what)
{
	printf("linux-fs-bench: %s failed: %s\n", what, strerror(errno));
	fflush(stdout);
	reboot(RB_POWER_OFF);
	exit(1);
}

static void report(const char *name, uint64_t value)
{
	printf("BENCH name=linux.%s value=%llu unit=instructions\n", name, (unsigned long long)value);
	fflush(stdout);
}

static void load_module(const char *name)
{
	char path[128];
	snprintf(path, sizeof(path), "/lib/modules/%s.ko", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || syscall(SYS_finit_module, fd, "", 0) < 0)
		fail(path);
	close(fd);
}

static void drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd < 0 || write(fd, "3\n", 2) != 2)
		fail("drop_caches");
	close(fd);
}

int main(void)
{
	if (mount("proc", "/proc", "proc", 0, 0) < 0 || mount("devtmpfs", "/dev", "devtmpfs", 0, 0) < 0)
		fail("mounting /proc and /dev");
	for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++)
		load_module(modules[i]);
	/* the disk's node appears once the driver probed it */
	struct stat st;
	for (int i = 0; i < 500 && stat("/dev/vda", &st) < 0; i++)
		usleep(10000);
	if (mount("/dev/vda", "/mnt", "ext2", 0, 0) < 0)
		fail("mount -t ext2 /dev/vda");
	if (mkdir("/mnt/bench", 0755) < 0)
		fail("mkdir");

	for (uint32_t i = 0; i < CHUNK; i++)
		chunk[i] = (unsigned char)(i * 7 + i / 253);
	uint64_t t = rdtsc();
	int fd = open("/mnt/bench/big", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		fail("open");
	for (uint32_t done = 0; done < BIG; done += CHUNK)
		if (write(fd, chunk, CHUNK) != (ssize_t)CHUNK)
			fail("write");
	if (fsync(fd) < 0 || close(fd) < 0)
		fail("fsync");
	report("fs_write_16m", rdtsc() - t);

	sync();
	drop_caches();
	t = rdtsc();
	fd = open("/mnt/bench/big", O_RDONLY);
	if (fd < 0)
		fail("open to read");
	uint32_t total = 0;
	ssize_t n;
	while ((n = read(fd, chunk, CHUNK)) > 0)
		total += (uint32_t)n;
	if (n < 0)
		fail("read");
	close(fd);
	uint64_t spent = rdtsc() - t;
	if (total != BIG || chunk[CHUNK - 1] != (unsigned char)((CHUNK - 1) * 7 + (CHUNK - 1) / 253))
		fail("reading back what was written");
	report("fs_read_16m", spent);

	if (mkdir("/mnt/bench/small", 0755) < 0)
		fail("mkdir small");
	memset(chunk, 'x', SMALL_SIZE);
	char name[64];
	t = rdtsc();
	for (int i = 0; i < SMALL_FILES; i++) {
		snprintf(name, sizeof(name), "/mnt/bench/small/file%04d", i);
		fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0 || write(fd, chunk, SMALL_SIZE) != SMALL_SIZE || close(fd) < 0)
			fail("creating a small file");
	}
	sync();
	report("fs_create_1000", rdtsc() - t);
	t = rdtsc();
	for (int i = 0; i < SMALL_FILES; i++) {
		snprintf(name, sizeof(name), "/mnt/bench/small/file%04d", i);
		if (unlink(name) < 0)
			fail("unlink");
	}
	sync();
	report("fs_delete_1000", rdtsc() - t);
	if (umount("/mnt") < 0)
		fail("umount");
	printf("linux-fs-bench: done\n");
	fflush(stdout);
	reboot(RB_POWER_OFF);
	return 0;
}
