/*
 * linux-bench: the Linux side of Berth's benchmark.
 *
 * Built with the host's `gcc -static -O2` and run as /init in an initramfs
 * under QEMU (tools/bench/linux-bench.sh).  It times three operations,
 * prints one "BENCH name=linux.X value=N unit=instructions" line for each on the
 * console, and stops QEMU through the isa-debug-exit device.
 *
 * Every figure is an average of RDTSC deltas taken inside the guest.  QEMU
 * runs with -icount shift=0, where the guest's time stamp counter advances by
 * exactly one per executed guest instruction: a "cycle" here is a guest
 * instruction, wall-clock time and host load do not enter, and a run gives
 * the same figure every time (or very nearly: timer interrupts land wherever
 * the virtual clock puts them).  Caveats of counting instructions: a trap,
 * SYSCALL or IRET counts as about one, and every iteration of a REP-prefixed
 * string instruction counts as one (so Linux clearing a 4 KiB page with
 * REP STOSB costs 4096).
 *
 * TCG executes in order, so no fence is placed around RDTSC.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define PIPE_WARMUP	1000
#define PIPE_ITERS	20000
#define GETPPID_WARMUP	1000
#define GETPPID_ITERS	20000
#define FAULT_WARMUP	256	/* pages */
#define FAULT_PAGES	4096	/* pages: 16 MiB of a 256 MiB guest */

#define PAGE		4096

/* isa-debug-exit on QEMU's command line; writing V exits with (V << 1) | 1. */
#define DEBUG_EXIT_PORT	0xf4

/*
 * The "memory" clobber keeps the compiler from moving the timed store (or
 * the loops' system calls) across the read.
 */
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t avg(uint64_t total, uint64_t n)
{
	return (total + n / 2) / n;
}

static void die(const char *what)
{
	printf("linux-bench: %s failed: %s\n", what, strerror(errno));
}

static void bench(const char *name, uint64_t value)
{
	printf("BENCH name=linux.%s value=%llu unit=instructions\n", name,
	       (unsigned long long)value);
	fflush(stdout);
}

/*
 * Rounds of a 1-byte message A -> B -> A over two pipes.  B (the child)
 * echoes until its pipe closes.  On one CPU each round is: A writes and
 * wakes B, A blocks reading, switch to B, B reads and writes back and
 * wakes A, B blocks reading, switch to A, A reads.  Only A's clock is read;
 * the counter is global, so B's instructions are in the delta.
 */
static int round_trips(int to_b, int from_b, int n)
{
	char c = 'x';

	for (int i = 0; i < n; i++) {
		if (write(to_b, &c, 1) != 1 || read(from_b, &c, 1) != 1)
			return -1;
	}
	return 0;
}

static int bench_pipe(void)
{
	int ab[2], ba[2];

	if (pipe(ab) != 0 || pipe(ba) != 0) {
		die("pipe");
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		die("fork");
		return -1;
	}
	if (pid == 0) {
		char c;

		close(ab[1]);
		close(ba[0]);
		while (read(ab[0], &c, 1) == 1) {
			if (write(ba[1], &c, 1) != 1)
				break;
		}
		_exit(0);
	}
	close(ab[0]);
	close(ba[1]);

	if (round_trips(ab[1], ba[0], PIPE_WARMUP) != 0) {
		die("pipe warm-up");
		return -1;
	}
	uint64_t t0 = rdtsc();
	int r = round_trips(ab[1], ba[0], PIPE_ITERS);
	uint64_t t1 = rdtsc();
	if (r != 0) {
		die("pipe round trip");
		return -1;
	}
	close(ab[1]);			/* B sees end of file and exits */
	close(ba[0]);
	waitpid(pid, NULL, 0);
	bench("pipe_pingpong", avg(t1 - t0, PIPE_ITERS));
	return 0;
}

/* syscall(), not getppid(): no libc wrapper may answer from a cache. */
static void bench_getppid(void)
{
	for (int i = 0; i < GETPPID_WARMUP; i++)
		syscall(SYS_getppid);
	uint64_t t0 = rdtsc();
	for (int i = 0; i < GETPPID_ITERS; i++)
		syscall(SYS_getppid);
	uint64_t t1 = rdtsc();
	bench("getppid", avg(t1 - t0, GETPPID_ITERS));
}

/*
 * First touch of fresh anonymous pages: each timed store takes a page fault
 * that allocates and zeroes a page and maps it, then returns to the store.
 * Transparent huge pages are turned off for the region, or one fault would
 * map 2 MiB and the next 511 stores would take none.
 */
static int bench_page_fault(void)
{
	size_t len = (size_t)(FAULT_WARMUP + FAULT_PAGES) * PAGE;
	volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		die("mmap");
		return -1;
	}
	if (madvise((void *)p, len, MADV_NOHUGEPAGE) != 0)
		die("madvise(MADV_NOHUGEPAGE)");	/* not fatal */

	for (size_t i = 0; i < FAULT_WARMUP; i++)
		p[i * PAGE] = 1;

	uint64_t total = 0;
	for (size_t i = FAULT_WARMUP; i < FAULT_WARMUP + FAULT_PAGES; i++) {
		uint64_t t0 = rdtsc();
		p[i * PAGE] = 1;
		uint64_t t1 = rdtsc();
		total += t1 - t0;
	}
	munmap((void *)p, len);
	bench("page_fault", avg(total, FAULT_PAGES));
	return 0;
}

/* What the bare timer costs: two back-to-back reads, as in bench_page_fault. */
static uint64_t rdtsc_overhead(void)
{
	uint64_t t0 = rdtsc();
	uint64_t t1 = rdtsc();

	return t1 - t0;
}

static void stop_qemu(void)
{
	fflush(stdout);
	if (ioperm(DEBUG_EXIT_PORT, 4, 1) == 0)
		outb(0, DEBUG_EXIT_PORT);	/* QEMU exits with status 1 */
	else
		die("ioperm");
	/* No debug-exit device (or no permission): power off instead. */
	sync();
	reboot(RB_POWER_OFF);
	die("reboot");
	/* Returning from init panics; with panic=-1 and -no-reboot QEMU exits. */
}

int main(void)
{
	struct utsname u;
	int failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (uname(&u) != 0)
		strcpy(u.release, "?"), strcpy(u.version, "?");
	printf("# linux: %s (%s) pipe_iters=%d getppid_iters=%d "
	       "fault_pages=%d warmup=%d/%d/%d rdtsc_overhead=%llu\n",
	       u.release, u.version, PIPE_ITERS, GETPPID_ITERS, FAULT_PAGES,
	       PIPE_WARMUP, GETPPID_WARMUP, FAULT_WARMUP,
	       (unsigned long long)rdtsc_overhead());

	bench_getppid();
	failed |= bench_pipe();
	failed |= bench_page_fault();
	if (failed)
		printf("linux-bench: a benchmark failed\n");
	stop_qemu();
	return 1;
}
