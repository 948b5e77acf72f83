/* Snapshots (issue 16, docs/lifecycle.md): a VM that checks its own
 * memory and an SSE register ten times a second (memcheck) is saved to
 * a file of the fs server while it runs; its VMM is stopped, and the
 * file is restored as another VM, which goes on with the next round and
 * finds its memory and registers as they were.  A copy with one byte
 * flipped and a truncated copy are refused with a clear line, and the
 * VMM that was asked to restore them ends without harm. */
// test-root: build/init.elf
// test-module: tests/system/manifests/snapshot.manifest
// test-module: build/serial.elf
// test-module: build/fs.elf
// test-module: build/tests/data/snapshot.img
// test-module: build/vmm.elf
// test-module: build/tests/guests/progs/memcheck.bin
// test-exit: none
// test-timeout: 240
// test-selfcheck: 256
// test-expect: ^\[mc\] memcheck: round 3 ok
// test-expect: ^vmm: \[mc\] snapshot /snap\.bin: \d+ bytes \(\d+ of 1024 pages in use\), the guest paused \d+ ms
// test-expect: ^vmm: \[mc2\] restored from /snap\.bin: \d+ of 1024 pages
// test-expect: ^\[mc2\] memcheck: round [1-9]\d* ok
// test-expect: ^vmm: \[mc3\] restore /bad\.bin: refused: corrupt: its checksum does not match its contents
// test-expect: ^vmm: \[mc3\] restore /short\.bin: refused: truncated
// test-expect: ^snapshot: done
// test-reject: BAD
// test-reject: \[mc2\] memcheck: round 0 ok
#include <stdio.h>
#include <string.h>
#include "tap.h"
#include "init.h"
#include "vmm.h"
#include "tasks.h"
#include "fs_files.h"

#define INIT 8
#define FS 9

static uint64_t nap_port;

static void nap(unsigned ticks)
{
	struct msg m;
	sys_notify_after(nap_port, 1, ticks);
	ipc_recv(nap_port, 0, &m);
}

/* A copy of /snap.bin: flip is the byte to change (-1: none), keep the
 * bytes to copy (0: all). */
static long copy(const char *to, long flip, long keep)
{
	FILE *in = fopen("/snap.bin", "r"), *out = fopen(to, "w");
	static char buf[4096];
	long at = 0, n;
	if (!in || !out)
		return -1;
	while ((n = (long)fread(buf, 1, sizeof(buf), in)) > 0) {
		if (keep && at + n > keep)
			n = keep - at;
		if (flip >= at && flip < at + n)
			buf[flip - at] ^= 0x20;
		if (n <= 0 || fwrite(buf, 1, (size_t)n, out) != (size_t)n)
			break;
		at += n;
	}
	fclose(in);
	fclose(out);
	return at;
}

/* the task's state once it settles: 1 running, 0 ended */
static int running(const char *name)
{
	uint32_t state = 0, restarts, threads = 0;
	return task_find(name, &state, &restarts, &threads) && threads == 1;
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(11);
	files_use_fs(FS);
	tap_eq(object_alloc(OBJ_PORT, 0, &nap_port), E_OK, "a port to nap on");
	nap(100); /* memcheck runs a few rounds */
	uint64_t controls = 0;
	tap_eq(init_lookup(INIT, "vm.mc", &controls), E_OK, "mc publishes its controls");
	uint64_t bytes = 0, pause_us = 0;
	tap_eq(vmm_snapshot(controls, "snap.bin", &bytes, &pause_us), E_BAD_ARG, "a relative path is refused");
	long err = vmm_snapshot(controls, "/snap.bin", &bytes, &pause_us);
	tap_ok(err == E_OK && bytes > (2UL << 20) && bytes < (5UL << 20),
	       "mc saved to /snap.bin: %lu bytes, the guest paused %lu us (error %ld)", bytes, pause_us, err);
	nap(50);
	tap_eq(init_stop(INIT, "mc"), E_OK, "mc stopped");
	tap_eq(init_start(INIT, "mc2", "restore=/snap.bin"), E_OK, "mc2 started from the snapshot");
	nap(150); /* it runs rounds after the saved one */
	tap_ok(running("mc2"), "mc2 runs on");

	long size = copy("/bad.bin", 5000, 0);
	tap_ok(size == (long)bytes, "a copy with one byte flipped (%ld bytes)", size);
	tap_eq(init_start(INIT, "mc3", "restore=/bad.bin"), E_OK, "mc3 asked to restore it");
	nap(100);
	tap_ok(copy("/short.bin", -1, (long)bytes - 4096) == (long)bytes - 4096 &&
	       init_start(INIT, "mc3", "restore=/short.bin") == E_OK, "and a copy 4 KiB short");
	nap(100);
	tap_ok(!running("mc3") && running("mc2"), "mc3 ended; mc2 was not disturbed");
	debug_printf("snapshot: done\n");
	return 0;
}
