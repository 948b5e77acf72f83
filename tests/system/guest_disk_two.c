/* One guest's VMM killed leaves another guest's disk untouched (issue
 * 13): two Linux guests, each with its own disk file on the fs server
 * (/vm/linux.img, /vm/linux2.img), both write and fsync files in rounds
 * (tests/system/data/guest_disk_kill_autorun.sh).  This program kills the
 * second VM's VMM in the middle.  The first guest never notices: no
 * failed round, no stall reported by its VMM, every round intact, its
 * file system clean.  The second guest's file system, cut off mid-write
 * like a machine losing power, is repaired by e2fsck -fp (its journal
 * replayed), and Berth's own file system is clean. */
// test-root: build/init.elf
// test-module: tests/system/manifests/guest_disk_two.manifest
// test-module: build/serial.elf
// test-module: build/rtc.elf
// test-module: build/pci.elf
// test-module: build/virtio_blk.elf
// test-module: build/fs.elf
// test-module: build/vmm.elf
// test-module: cache/linux/guest/bzImage
// test-module: cache/linux/guest/initramfs.cpio.gz
// test-disk-image: a build/tests/data/guest-disk-two.img
// test-qemu: -drive if=none,id=da,format=raw,file={disk:a} -device virtio-blk-pci,disable-legacy=on,drive=da,addr=4
// test-exit: none
// test-timeout: 400
// test-selfcheck: 256
// test-expect: ^\[linux2\] guest-disk: round \d+ synced
// test-expect: init: 'linux2' was killed; its restart policy says no more
// test-expect: ^\[linux\] guest-disk: all \d+ synced rounds still on disk and durable\.txt intact
// test-expect: ^\[linux\] guest-disk: unmounted
// test-expect: ^vmm: \[linux\] guest powered off
// test-expect: ^fs: unmounted cleanly
// test-reject: \[linux\] guest-disk: round \d+ failed
// test-reject: vmm: \[linux\] disk [^:]*: (the file system went away|a (read|write|flush) failed|writes may have been lost)
// test-reject: LOST
// test-disk-fsck: a
// test-disk-file: a /vm/linux.img g
// test-disk-fsck: g
// test-disk-file: a /vm/linux2.img h
// test-disk-preen: h
// test-disk-debugfs: h cat /berth/durable.txt => ^fsynced before anything was killed\r?$
#include "tap.h"
#include "fs.h"
#include "init.h"
#include "tasks.h"

#define INIT 8
#define FS 9

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(4);
	tap_ok(task_wait_running("linux", 60) && task_wait_running("linux2", 60), "both Linux VMs run");
	clock_nap(4500); /* both boot and write for a while (the second boots later: 30 s was too short for it under load) */
	tap_eq(init_kill(INIT, "linux2"), E_OK, "the second VM's VMM killed while both write");
	uint32_t end = 0;
	int64_t detail = -1;
	int ended = task_wait_end("linux", 300, &end, &detail);
	tap_ok(ended && end == 3 && detail == 0, "the first guest finished and powered off (status 0)");
	tap_eq(fs_unmount(FS), E_OK, "Berth's file system unmounts cleanly");
	return 0;
}
