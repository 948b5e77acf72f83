/* A snapshot whose file system dies under it (issue 16,
 * docs/lifecycle.md): the Linux guest of linux_snapshot.c (a process
 * checks 8 MiB of its memory and counts rounds) is saved through
 * vmm.idl while a second thread of ours kills the fs server a moment
 * later, in the middle of the writing.  The VMM touches the fs server's
 * shared buffer only through safe_copy's copier, so the save ends with
 * a line saying the file system went away, and nothing else: the VMM
 * and its guest run on, init restarts the fs server, the guest's disk
 * finds it again, and a save made then succeeds.  The VMM's lines are
 * looked for anywhere in a line: the guest's output and the VMM's reach
 * the console apart, and a line of the guest's may be cut by one of them
 * ("[linux] linuvmm: [linux] snapshot ...", seen once under newlib). */
// test-root: build/init.elf
// test-module: tests/system/manifests/linux_snapshot_fsdeath.manifest
// test-module: build/serial.elf
// test-module: build/rtc.elf
// test-module: build/pci.elf
// test-module: build/virtio_blk.elf
// test-module: build/fs.elf
// test-module: build/vmm.elf
// test-module: cache/linux/guest/bzImage
// test-module: cache/linux/guest/initramfs.cpio.gz
// test-disk-image: a build/tests/data/linux-snapshot.img
// test-qemu: -drive if=none,id=da,format=raw,file={disk:a} -device virtio-blk-pci,disable-legacy=on,drive=da,addr=4
// test-exit: none
// test-timeout: 500
// test-selfcheck: 1000000
// test-expect: \[linux\] linux-snapshot: round 3 ok
// test-expect: vmm: \[linux\] snapshot /snap\.bin: writing failed: the file system went away; the file is incomplete: remove it
// test-expect: vmm: \[linux\] snapshot /snap2\.bin: \d+ bytes
// test-expect: ^fsdeath: done
// test-reject: linux-snapshot: round \d+ BAD
// test-reject: init: 'linux' (exited|faulted|was killed)
// test-reject: \[linux\].*(Oops|BUG:|Kernel panic)
#include <string.h>
#include "tap.h"
#include "init.h"
#include "vmm.h"

#define INIT 8

static uint64_t nap_port;
static uint8_t killer_stack[8192] __attribute__((aligned(16)));

static void nap(uint64_t port, unsigned ticks)
{
	struct msg m;
	sys_notify_after(port, 1, ticks);
	ipc_recv(port, 0, &m);
}

/* The second thread: the fs server killed 40 ms after it starts. */
static void killer(uint64_t port)
{
	nap(port, 4);
	long err = init_kill(INIT, "fs");
	debug_printf("fsdeath: fs killed (status %ld)\n", err);
	for (;;)
		nap(port, 100000);
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(6);
	uint64_t controls = 0, killer_port = 0, tcb = 0, bytes = 0, pause_us = 0;
	tap_eq(object_alloc(OBJ_PORT, 0, &nap_port) || object_alloc(OBJ_PORT, 0, &killer_port), E_OK, "ports to nap on");
	/* the guest boots and fills its memory (a Linux kernel, its page cache,
	 * 8 MiB of tmpfs): some 60 MB to save, seconds of writing */
	for (int i = 0; i < 600 && init_lookup(INIT, "vm.linux", &controls); i++)
		nap(nap_port, 10);
	tap_ok(controls != 0, "the Linux VM publishes its controls");
	nap(nap_port, 3000);
	/* at our priority, above the VMM's and the fs server's, so that it
	 * wakes in time while we wait in the snapshot call */
	tap_eq(thread_create(killer, killer_port, killer_stack, sizeof(killer_stack), 130, &tcb), E_OK,
	       "a thread that kills the fs server in 40 ms");
	long err = vmm_snapshot(controls, "/snap.bin", &bytes, &pause_us);
	tap_ok(err == E_STATE, "the snapshot fails with E_STATE (error %ld), the VMM answers", err);
	/* init restarts the fs server; the guest's disk finds it again */
	nap(nap_port, 300);
	err = vmm_snapshot(controls, "/snap2.bin", &bytes, &pause_us);
	tap_ok(err == E_OK && bytes > (16UL << 20), "with the fs server back, a save succeeds: %lu bytes (error %ld)",
	       bytes, err);
	uint32_t state = 0, restarts = 0;
	char name[33];
	int alive = 0;
	for (uint32_t i = 0; i < 32; i++) {
		uint32_t r = 0, threads = 0;
		uint64_t quota = 0;
		if (init_task_info(INIT, i, name, &state, &r, &threads, &quota) == E_OK && !strcmp(name, "linux"))
			alive = threads > 0, restarts = r;
	}
	tap_ok(alive && restarts == 0, "the VMM never ended (restarts %u)", restarts);
	debug_printf("fsdeath: done\n");
	return 0;
}
