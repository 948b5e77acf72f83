/* The file-system benchmark on Berth (make bench): the fs server over
 * the virtio-blk driver over the PCI server, each in its own address
 * space, on a fresh 64 MiB ext2 image made by the host's mke2fs.  The
 * same work as tools/bench/linux-fs-bench.c does on Linux's ext2 in the
 * same QEMU with the same virtio-blk device; figures are guest
 * instructions under -icount shift=0 (RDTSC counts them), so they repeat.
 *
 * Each phase gives two figures, NAME (the instructions executed: the
 * elapsed count less the kernel's idle time, KC_IDLE_TSC) and
 * NAME_elapsed (with the waits for the disk):
 *
 *   fs_write_16m     write a 16 MiB file in 64 KiB writes, then fsync
 *   fs_read_16m      read it back in 64 KiB reads (the fs server's cache
 *                    is 256 blocks, so nearly all of it comes from the disk)
 *   fs_create_1000   create 1000 files of 100 bytes in one directory, sync
 *   fs_delete_1000   unlink them, sync
 *   fs_read_4k_ipc_messages, fs_read_4k_space_switches: what one 4 KiB of
 *                    that sequential read cost in kernel work: IPC
 *                    messages moved (client to fs server, fs server to
 *                    driver, and their replies) and address-space
 *                    switches, from the kernel's counters.
 *
 * A client of init's manifest (tests/bench/fs_bench.manifest): slot 9 is
 * the fs.  It ends the run through isa-debug-exit. */
#include <libipc/libipc.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fs_files.h"

#define FS 9
#define BIG (16u << 20)
#define CHUNK (64u << 10)
#define SMALL_FILES 1000
#define SMALL_SIZE 100

static uint8_t chunk[CHUNK];

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t counter(unsigned which)
{
	uint64_t v = 0;
	sys_kernel_counter(which, &v);
	return v;
}

static void report(const char *name, uint64_t value, const char *unit)
{
	debug_printf("BENCH name=%s value=%lu unit=%s\n", name, value, unit);
}

/* A phase's two figures: NAME, the instructions the machine executed
 * (elapsed minus the kernel's idle time), and NAME_elapsed, which also
 * counts the waits for the disk: under -icount those last as long as the
 * host takes to do the I/O, so they vary with its load. */
static uint64_t phase_start, phase_idle;

static void phase_begin(void)
{
	phase_idle = counter(KC_IDLE_TSC);
	phase_start = rdtsc();
}

static void phase_end(const char *name)
{
	uint64_t elapsed = rdtsc() - phase_start, idle = counter(KC_IDLE_TSC) - phase_idle;
	char longer[48];
	report(name, elapsed - idle, "instructions");
	snprintf(longer, sizeof(longer), "%s_elapsed", name);
	report(longer, elapsed, "instructions");
}

static _Noreturn void fail(const char *what)
{
	debug_printf("fs_bench: %s failed: errno %d\n", what, errno);
	sys_debug_exit(1);
	for (;;)
		;
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	files_use_fs(FS);
	if (mkdir("/bench", 0755) < 0)
		fail("mkdir /bench");

	/* 16 MiB written */
	for (uint32_t i = 0; i < CHUNK; i++)
		chunk[i] = (uint8_t)(i * 7 + i / 253);
	phase_begin();
	int fd = open("/bench/big", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		fail("open /bench/big");
	for (uint32_t done = 0; done < BIG; done += CHUNK)
		if (write(fd, chunk, CHUNK) != CHUNK)
			fail("write");
	if (fsync(fd) < 0 || close(fd) < 0)
		fail("fsync");
	phase_end("fs_write_16m");

	/* and read back */
	uint64_t msgs = counter(KC_IPC_MESSAGES), switches = counter(KC_SPACE_SWITCHES);
	phase_begin();
	fd = open("/bench/big", O_RDONLY);
	if (fd < 0)
		fail("open to read");
	uint32_t total = 0;
	for (;;) {
		int n = read(fd, chunk, CHUNK);
		if (n < 0)
			fail("read");
		if (n == 0)
			break;
		total += (uint32_t)n;
	}
	close(fd);
	phase_end("fs_read_16m");
	msgs = counter(KC_IPC_MESSAGES) - msgs;
	switches = counter(KC_SPACE_SWITCHES) - switches;
	if (total != BIG || chunk[CHUNK - 1] != (uint8_t)((CHUNK - 1) * 7 + (CHUNK - 1) / 253))
		fail("reading back what was written");
	report("fs_read_4k_ipc_messages", (msgs + BIG / 4096 / 2) / (BIG / 4096), "messages");
	report("fs_read_4k_space_switches", (switches + BIG / 4096 / 2) / (BIG / 4096), "switches");

	/* 1000 small files */
	if (mkdir("/bench/small", 0755) < 0)
		fail("mkdir /bench/small");
	memset(chunk, 'x', SMALL_SIZE);
	char name[64];
	phase_begin();
	for (int i = 0; i < SMALL_FILES; i++) {
		snprintf(name, sizeof(name), "/bench/small/file%04d", i);
		fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0 || write(fd, chunk, SMALL_SIZE) != SMALL_SIZE || close(fd) < 0)
			fail("creating a small file");
	}
	sync();
	phase_end("fs_create_1000");
	phase_begin();
	for (int i = 0; i < SMALL_FILES; i++) {
		snprintf(name, sizeof(name), "/bench/small/file%04d", i);
		if (unlink(name) < 0)
			fail("unlink");
	}
	sync();
	phase_end("fs_delete_1000");
	debug_printf("fs_bench: done\n");
	sys_debug_exit(0x10);
	for (;;)
		;
}
