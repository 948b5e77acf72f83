/* Message tracing through init (init.idl trace, trace_read; docs/trace.md)
 * on one file read: the fs server and the virtio-blk driver are traced,
 * the client (untraced itself) reads a file the fs server has not read
 * yet, and the records read back hold the path client -> fs -> blk0 ->
 * interrupt -> blk0 -> fs -> client in that order with timestamps that
 * never go back; every record has fs or blk0 at one end; with tracing
 * off nothing more is recorded; a bad name is refused.  The client's
 * manifest entry says `trace`; a second instance ("snoop") without it is
 * refused both calls. */
// test-root: build/init.elf
// test-module: tests/system/manifests/trace_fs.manifest
// test-module: build/rtc.elf
// test-module: build/pci.elf
// test-module: build/virtio_blk.elf
// test-module: build/fs.elf
// test-disk-image: a build/tests/data/files.img
// test-qemu: -drive if=none,id=da,format=raw,file={disk:a} -device virtio-blk-pci,disable-legacy=on,drive=da,addr=4
// test-expect: ^fs: ext2 mounted
// test-expect: ^snoop: trace 4, trace_read 4\r?$
// test-timeout: 120
#include "tap.h"
#include <stdio.h>
#include <string.h>
#include "fs.h"
#include "block.h"
#include "init.h"
#include "fs_files.h"

#define INIT 8
#define FS 9
#define MAXREC 512

static uint64_t tsc[MAXREC], label[MAXREC];
static uint32_t from[MAXREC], to[MAXREC];
static uint8_t kind[MAXREC];

/* Every record init has; returns how many (at most MAXREC kept). */
static unsigned read_all(uint32_t *lost)
{
	unsigned n = 0;
	*lost = 0;
	for (;;) {
		uint32_t c, l;
		uint64_t per_ms, t[16], lb[16];
		uint32_t f[16], o[16];
		uint8_t k[16];
		if (init_trace_read(INIT, &c, &l, &per_ms, t, lb, f, o, k) || !c)
			return n;
		*lost += l;
		for (uint32_t i = 0; i < c; i++, n++) {
			if (n >= MAXREC)
				continue;
			tsc[n] = t[i], label[n] = lb[i], from[n] = f[i], to[n] = o[i], kind[n] = k[i];
		}
	}
}

/* Task index + 1, as trace_read names tasks. */
static uint32_t task_number(const char *name)
{
	for (uint32_t i = 0;; i++) {
		char found[33];
		uint32_t s, r, th;
		uint64_t mem;
		if (init_task_info(INIT, i, found, &s, &r, &th, &mem))
			return 0;
		if (!strcmp(found, name))
			return i + 1;
	}
}

static int is(unsigned i, uint32_t f, uint32_t t, unsigned k)
{
	return (f == ~0u ? (from[i] != 0) : from[i] == f) && to[i] == t && (kind[i] & 0x7f) == k;
}

int main(const struct bootinfo *bi)
{
	if (strstr(bi->cmdline, "snoop")) { /* no `trace` in its manifest entry: E_NO_RIGHTS */
		uint32_t c, l;
		uint64_t per_ms, t[16], lb[16];
		uint32_t f[16], o[16];
		uint8_t k[16];
		long e1 = init_trace(INIT, "fs", 1);
		long e2 = init_trace_read(INIT, &c, &l, &per_ms, t, lb, f, o, k);
		debug_printf("snoop: trace %ld, trace_read %ld\n", e1, e2);
		return 0;
	}
	tap_plan(8);
	files_use_fs(FS);
	char text[64];
	uint32_t fs = task_number("fs"), blk = task_number("blk0"), lost;
	tap_ok(fs && blk, "init names fs (%u) and blk0 (%u)", fs, blk);
	tap_eq(init_trace(INIT, "nothing", 1), E_BAD_ARG, "tracing a task that does not exist: E_BAD_ARG");

	long err = init_trace(INIT, "fs", 1);
	err = err ? err : init_trace(INIT, "blk0", 1);
	read_all(&lost); /* whatever came before */
	FILE *f = err ? 0 : fopen("/hello.txt", "r");
	size_t got = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
	if (f)
		fclose(f);
	text[got] = 0;
	unsigned n = read_all(&lost);
	tap_ok(!err && !strcmp(text, "hello from the host\n"), "trace fs and blk0, read a file (err %ld)", err);
	tap_ok(n > 0 && n <= MAXREC && !lost, "%u records, %u lost", n, lost);

	/* the path, as an ordered subsequence */
	uint32_t client = 0;
	unsigned step = 0, at[5] = { 0 };
	for (unsigned i = 0; i < n && i < MAXREC && step < 5; i++) {
		int hit = 0;
		switch (step) {
		case 0: hit = from[i] != fs && from[i] != blk && is(i, ~0u, fs, TRACE_CALL) && (label[i] >> 8) == FS_INTERFACE; break;
		/* the driver takes each client's calls on that session's own
		 * thread, which init cannot name (0x80000000 | its id); the
		 * block interface's label says whose it is */
		case 1: hit = from[i] == fs && (to[i] == blk || (to[i] >> 31)) && (kind[i] & 0x7f) == TRACE_CALL &&
		              (label[i] >> 8) == BLOCK_INTERFACE; break;
		case 2: hit = is(i, 0, blk, TRACE_NOTIFY); break;
		case 3: hit = is(i, blk, fs, TRACE_REPLY); break;
		case 4: hit = is(i, fs, client, TRACE_REPLY); break;
		}
		if (hit) {
			if (!step)
				client = from[i];
			at[step++] = i;
		}
	}
	for (unsigned i = 0; i < n && i < MAXREC; i++)
		printf("# %3u %12lu %08x -> %08x kind %02x label %lx\n", i, (unsigned long)(tsc[i] - tsc[0]),
		       from[i], to[i], kind[i], (unsigned long)label[i]);
	tap_ok(step == 5, "client -> fs call, fs -> blk0 call, interrupt -> blk0, blk0 -> fs reply, fs -> client "
	       "reply, in order (records %u %u %u %u %u)", at[0], at[1], at[2], at[3], at[4]);
	int rising = 1, ends = 1;
	for (unsigned i = 1; i < n && i < MAXREC; i++)
		rising &= tsc[i] >= tsc[i - 1];
	for (unsigned i = 0; i < n && i < MAXREC; i++)
		ends &= from[i] == fs || from[i] == blk || to[i] == fs || to[i] == blk;
	tap_ok(rising, "timestamps never go back");
	tap_ok(ends, "every record has fs or blk0 at one end: untraced pairs do not appear");

	err = init_trace(INIT, "", 0);
	f = err ? 0 : fopen("/hello.txt", "r");
	got = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
	if (f)
		fclose(f);
	n = read_all(&lost);
	tap_ok(!err && got && n == 0, "tracing off: the same read records nothing (%u)", n);
	tap_done();
}
