/* The C library's speed (make bench, tools/bench/libc-bench.sh): booted as
 * the root task under -icount shift=0, once built with newlib and once with
 * picolibc, it prints instructions per operation for formatting
 * (snprintf, the work of printf without the console) and copying (memcpy
 * of small, medium and large blocks), and for printf through stdout with
 * the console write left out (a hook that takes the bytes and does
 * nothing), so the stream layer counts too.  docs/libc.md says which
 * library these figures chose. */
#include <libipc/libipc.h>
#include <stdio.h>
#include <string.h>

#ifdef __PICOLIBC__
#define LIBC_NAME "picolibc"
#else
#define LIBC_NAME "newlib"
#endif

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static void report(const char *name, uint64_t total, uint64_t n)
{
	debug_printf("BENCH name=libc_%s_%s value=%lu unit=instructions\n", LIBC_NAME, name, (total + n / 2) / n);
}

static char out[256];
static volatile unsigned sink;

/* integers, strings and a pointer: what servers print */
static uint64_t format_ints(unsigned n)
{
	uint64_t t = rdtsc();
	for (unsigned i = 0; i < n; i++)
		sink += (unsigned)snprintf(out, sizeof(out), "fs: block %u of %lu at %#lx: %s (%d)\n", i,
		                           (unsigned long)i * 4096, (unsigned long)i << 12, "read", -(int)i);
	return rdtsc() - t;
}

static uint64_t format_floats(unsigned n)
{
	uint64_t t = rdtsc();
	for (unsigned i = 0; i < n; i++)
		sink += (unsigned)snprintf(out, sizeof(out), "%.3f %g %e", i * 1.25, i / 3.0, i * 1e6);
	return rdtsc() - t;
}

static long quiet_write(const char *buf, size_t len)
{
	sink += (unsigned)buf[0];
	return (long)len;
}

static uint64_t stdout_lines(unsigned n)
{
	uint64_t t = rdtsc();
	for (unsigned i = 0; i < n; i++)
		printf("net: frame %u, %u bytes from %s\n", i, 60 + i % 1400, "10.0.2.2");
	fflush(stdout);
	return rdtsc() - t;
}

static uint8_t src[1 << 20], dst[1 << 20];

static uint64_t copy(size_t size, unsigned n)
{
	uint64_t t = rdtsc();
	for (unsigned i = 0; i < n; i++) {
		/* a different offset each time, so alignment varies as in real use */
		size_t off = (i * 8 + (i & 7)) % 64;
		memcpy(dst + off, src + (i & 63), size);
		sink += dst[off];
	}
	return rdtsc() - t;
}

int main(void)
{
	memset(src, 0x5a, sizeof(src));
	format_ints(10); /* warm: first-use set-up out of the figures */
	report("snprintf_int", format_ints(2000), 2000);
	format_floats(10);
	report("snprintf_float", format_floats(2000), 2000);
	extern long (*libc_console_write)(const char *buf, size_t len);
	long (*console)(const char *, size_t) = libc_console_write;
	libc_console_write = quiet_write;
	stdout_lines(10);
	report("printf_line", stdout_lines(2000), 2000);
	libc_console_write = console;
	copy(16, 10);
	report("memcpy_16", copy(16, 20000), 20000);
	report("memcpy_256", copy(256, 20000), 20000);
	report("memcpy_4k", copy(4096, 5000), 5000);
	report("memcpy_64k", copy(65536, 200), 200);
	report("memcpy_1m", copy((1 << 20) - 64, 20), 20);
	debug_printf("# libc_bench done (%s)\n", LIBC_NAME);
	sys_debug_exit(0x10);
	return 0;
}
