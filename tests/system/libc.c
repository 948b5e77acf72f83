/* The C library (newlib) on Berth: stdio reaches the console, formatting,
 * the heap on the program's own memory (small and large blocks, realloc,
 * a request too large failing with ENOMEM, memory reused after a free),
 * string and stdlib functions, and what is not there yet (files, clocks)
 * failing with an errno; the program runs on afterwards. */
// test-expect: libc: printf 42 -7 2a reaches the console
// test-expect: libc: puts reaches the console
// test-expect: libc: stderr too
// test-expect: libc: pi is about 3\.14159
// test-expect: libc: still running after the failures
#include "tap.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HEAP_BASE 0x0000200000000000UL /* posix.c */
#define MiB (1UL << 20)

static uint64_t seed = 12345;
static unsigned next_random(void)
{
	seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)(seed >> 33);
}

/* A byte that depends on where it is, so misplaced data shows. */
static uint8_t pattern(uint64_t i, unsigned salt)
{
	return (uint8_t)((i * 2654435761U) >> 13 ^ salt);
}

static void fill(uint8_t *p, size_t n, unsigned salt)
{
	for (size_t i = 0; i < n; i++)
		p[i] = pattern(i, salt);
}

static int check(const uint8_t *p, size_t n, unsigned salt)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != pattern(i, salt))
			return 0;
	return 1;
}

/* Bytes in use over all our Untyped memory, as the kernel counts it. */
static uint64_t untyped_used(const struct bootinfo *bi)
{
	uint64_t sum = 0;
	for (unsigned i = 0; i < bi->untyped_count; i++) {
		unsigned type, rights;
		uint64_t used;
		if (!bi->untyped[i].is_device && !sys_cap_identify(bi->untyped[i].slot, &type, &rights, &used))
			sum += used;
	}
	return sum;
}

static int compare_ints(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static void test_output(void)
{
	const char *line = "libc: printf 42 -7 2a reaches the console\n";
	tap_eq(printf("libc: printf %d %ld %x reaches the console\n", 42, -7L, 42), (long)strlen(line),
	       "printf returns the length of what it wrote");
	tap_ok(puts("libc: puts reaches the console") >= 0, "puts");
	fprintf(stderr, "libc: stderr too\n");
	printf("libc: pi is about %.5f\n", 3.14159265);
	tap_eq(fflush(stdout), 0, "fflush(stdout)");
	tap_ok(isatty(1) && isatty(2) && isatty(0), "0, 1 and 2 are terminals");
	struct stat st;
	tap_ok(fstat(1, &st) == 0 && S_ISCHR(st.st_mode), "stdout is a character device");
	errno = 0;
	tap_ok(lseek(1, 0, SEEK_SET) == -1 && errno == ESPIPE, "lseek on the console: ESPIPE");
	errno = 0;
	tap_ok(write(7, "x", 1) == -1 && errno == EBADF, "write to a descriptor never opened: EBADF");
	char c;
	tap_eq(read(0, &c, 1), 0, "read from stdin without a console: end of input");
	tap_eq(getchar(), EOF, "getchar: EOF");
}

static void test_format(void)
{
	char buf[128];
	int n = snprintf(buf, sizeof(buf), "%d|%u|%x|%X|%o|%ld|%lld|%5d|%-5d|%05d|%+d|%zu|%p", -42, 4000000000U,
	                 0xbeef, 0xbeef, 8, -1234567890123L, 9876543210LL, 12, 12, 12, 7, (size_t)99,
	                 (void *)0x1000);
	const char *want = "-42|4000000000|beef|BEEF|10|-1234567890123|9876543210|   12|12   |00012|+7|99|0x1000";
	tap_ok(n == (int)strlen(want) && !strcmp(buf, want), "snprintf integers: %s", buf);
	snprintf(buf, sizeof(buf), "%s|%.3s|%6s|%-6s|%c|%%", "berth", "newlib", "ab", "cd", 'z');
	tap_ok(!strcmp(buf, "berth|new|    ab|cd    |z|%"), "snprintf strings: %s", buf);
	snprintf(buf, sizeof(buf), "%f|%.2f|%.3f|%e|%g|%g", 1.5, 2.675, -0.125, 1234.5, 0.0001, 1e20);
	tap_ok(!strcmp(buf, "1.500000|2.67|-0.125|1.234500e+03|0.0001|1e+20"), "snprintf floats: %s", buf);
	snprintf(buf, sizeof(buf), "%f", 3.14159);
	tap_ok(!strcmp(buf, "3.141590"), "%%f of 3.14159: %s", buf);
	tap_eq(snprintf(buf, 8, "%s", "truncated output"), 16, "snprintf returns the full length");
	tap_ok(!strcmp(buf, "truncat"), "and truncates with a terminator");
}

static void test_heap(const struct bootinfo *bi)
{
	/* small blocks */
	uint8_t *small = malloc(100);
	tap_ok(small && (uintptr_t)small >= HEAP_BASE, "malloc(100) in the heap region (%p)", (void *)small);
	if (small) {
		fill(small, 100, 1);
		tap_ok(check(small, 100, 1), "a small block keeps what was written");
	} else {
		tap_ok(0, "a small block keeps what was written");
	}
	enum { N = 500 };
	static uint8_t *blocks[N];
	static size_t sizes[N];
	int ok = 1;
	for (int i = 0; i < N; i++) {
		sizes[i] = 1 + next_random() % 600;
		if (!(blocks[i] = malloc(sizes[i])))
			ok = 0;
		else
			fill(blocks[i], sizes[i], (unsigned)i);
	}
	for (int i = 0; i < N; i += 2) /* free every other one, then refill the holes */
		free(blocks[i]);
	for (int i = 0; i < N; i += 2) {
		sizes[i] = 1 + next_random() % 900;
		if (!(blocks[i] = malloc(sizes[i])))
			ok = 0;
		else
			fill(blocks[i], sizes[i], (unsigned)i);
	}
	for (int i = 0; i < N; i++) {
		ok &= blocks[i] && check(blocks[i], sizes[i], (unsigned)i);
		free(blocks[i]);
	}
	tap_ok(ok, "%d small blocks allocated, freed, reallocated, all intact", N);

	uint8_t *r = malloc(10);
	if (r)
		fill(r, 10, 3);
	r = r ? realloc(r, 5000) : 0;
	tap_ok(r && check(r, 10, 3), "realloc of a small block keeps its content");
	free(r);
	free(small);

	/* large blocks: several MiB, every byte written and read back */
	size_t big_size = 8 * MiB;
	uint8_t *big = malloc(big_size);
	tap_ok(big != 0, "malloc of 8 MiB");
	if (big) {
		fill(big, big_size, 7);
		tap_ok(check(big, big_size, 7), "8 MiB written and read back");
		uint8_t *bigger = realloc(big, 12 * MiB);
		tap_ok(bigger && check(bigger, big_size, 7), "realloc to 12 MiB keeps the first 8 MiB");
		if (bigger) {
			fill(bigger, 12 * MiB, 9);
			tap_ok(check(bigger, 12 * MiB, 9), "12 MiB written and read back");
			big = bigger;
		} else {
			tap_ok(0, "12 MiB written and read back");
		}
		free(big);
	} else {
		tap_ok(0, "8 MiB written and read back");
		tap_ok(0, "realloc to 12 MiB keeps the first 8 MiB");
		tap_ok(0, "12 MiB written and read back");
	}

	/* the heap's pages stay with it: a new block where the freed one was
	 * takes no new memory */
	uint64_t used = untyped_used(bi);
	uint8_t *again = malloc(10 * MiB);
	tap_ok(again != 0 && untyped_used(bi) == used, "10 MiB again reuses the freed pages (%lu bytes retyped)",
	       (unsigned long)(untyped_used(bi) - used));
	if (again) {
		fill(again, 10 * MiB, 11);
		tap_ok(check(again, 10 * MiB, 11), "and holds what is written");
		free(again);
	} else {
		tap_ok(0, "and holds what is written");
	}
	/* calloc on those used pages still gives zeros */
	uint64_t *zeros = calloc(MiB / 8, 8);
	ok = zeros != 0;
	for (size_t i = 0; zeros && i < MiB / 8; i++)
		ok &= zeros[i] == 0;
	tap_ok(ok, "calloc of 1 MiB over reused pages is all zeros");
	free(zeros);

	/* 22 MiB of heap pages at most, and their capabilities did not fill
	 * our CNode: the next free slot is still near the first */
	uint64_t slot = slot_alloc();
	tap_ok(slot && slot < bi->first_free_slot + 200, "the heap's frames are not in our CNode (next slot %lu)",
	       (unsigned long)slot);
	slot_free(slot);

	/* too large: more than the machine has (refused before it takes any
	 * memory), more than malloc takes, beyond the heap region */
	used = untyped_used(bi);
	errno = 0;
	void *huge = malloc(1UL << 30);
	tap_ok(huge == 0 && errno == ENOMEM, "malloc(1 GiB) on a 256 MiB machine: NULL, ENOMEM (errno %d)", errno);
	tap_eq((long)(untyped_used(bi) - used), 0, "and it took no memory");
	free(huge);
	errno = 0;
	huge = malloc(1UL << 40);
	tap_ok(huge == 0 && errno == ENOMEM, "malloc(1 TiB): NULL, ENOMEM (errno %d)", errno);
	errno = 0;
	tap_ok(sbrk(1L << 41) == (void *)-1 && errno == ENOMEM, "sbrk beyond the heap region: ENOMEM");

	uint8_t *after = malloc(64 * 1024);
	if (after)
		fill(after, 64 * 1024, 13);
	tap_ok(after && check(after, 64 * 1024, 13), "malloc works after the failures");
	free(after);
}

static void test_strings(void)
{
	uint8_t a[300], b[300];
	memset(a, 0x5a, sizeof(a));
	int ok = 1;
	for (size_t i = 0; i < sizeof(a); i++)
		ok &= a[i] == 0x5a;
	memset(a + 3, 0, 17); /* unaligned start and length */
	for (size_t i = 0; i < sizeof(a); i++)
		ok &= a[i] == (i >= 3 && i < 20 ? 0 : 0x5a);
	tap_ok(ok, "memset");
	fill(a, sizeof(a), 21);
	memset(b, 0, sizeof(b));
	memcpy(b + 1, a + 5, 250);
	tap_ok(check(a, sizeof(a), 21) && !memcmp(b + 1, a + 5, 250) && b[0] == 0 && b[251] == 0, "memcpy");
	tap_ok(strcmp("abc", "abc") == 0 && strcmp("abc", "abd") < 0 && strcmp("b", "abc") > 0 &&
	       strcmp("", "a") < 0, "strcmp");

	char *end;
	errno = 0;
	long v = strtol("  -12345xyz", &end, 10);
	tap_ok(v == -12345 && !strcmp(end, "xyz") && errno == 0, "strtol decimal stops at the first non-digit");
	tap_ok(strtol("0x1f", 0, 0) == 31 && strtol("777", 0, 8) == 511 && strtol("z", 0, 36) == 35,
	       "strtol bases 0 (hex), 8, 36");
	errno = 0;
	tap_ok(strtol("99999999999999999999", 0, 10) == LONG_MAX && errno == ERANGE, "strtol overflow: ERANGE");

	static int nums[1000];
	for (int i = 0; i < 1000; i++)
		nums[i] = (int)(next_random() % 2001) - 1000;
	qsort(nums, 1000, sizeof(nums[0]), compare_ints);
	ok = 1;
	for (int i = 1; i < 1000; i++)
		ok &= nums[i - 1] <= nums[i];
	tap_ok(ok, "qsort of 1000 ints");
}

static void test_missing(void)
{
	errno = 0;
	tap_ok(open("/x", O_RDONLY) == -1 && errno == ENOENT, "open(\"/x\"): -1, ENOENT (no file system yet)");
	errno = 0;
	tap_ok(fopen("/x", "r") == 0 && errno == ENOENT, "fopen: NULL, ENOENT");
	errno = 0;
	tap_ok(unlink("/x") == -1 && errno == ENOENT, "unlink without a file system: ENOENT");
	errno = 0;
	tap_ok(time(0) == (time_t)-1 && errno == ENOSYS, "time: -1, ENOSYS (no clock yet)");
	errno = 0;
	tap_ok(kill(getpid(), SIGTERM) == -1 && errno == EINVAL, "kill: EINVAL");
}

int main(const struct bootinfo *bi)
{
	tap_plan(45);
	test_output();
	test_format();
	test_heap(bi);
	test_strings();
	test_missing();
	printf("libc: still running after the failures\n");
	tap_ok(1, "still running");
	tap_done();
}
