/* Fault containment under a guest's disk (issue 13): while a Linux guest
 * writes and fsyncs files on its disk (/vm/linux.img of the fs server;
 * tests/system/data/guest_disk_kill_autorun.sh), this program kills the
 * block driver and then the fs server itself.  init restarts each.  The
 * driver's death is hidden by the fs server (it attaches again and
 * retries); the fs server's death is seen by the VMM, which waits for it
 * to come back and sends its requests again, so the guest sees a disk
 * that stalled, and an error at its next flush if writes it had been
 * acknowledged died with the server.  The VMM survives, the guest powers
 * off normally, and every file whose fsync succeeded is read back intact
 * from the device, inside the guest and by the host's debugfs. */
// test-root: build/init.elf
// test-module: tests/system/manifests/guest_disk_kill.manifest
// test-module: build/serial.elf
// test-module: build/rtc.elf
// test-module: build/pci.elf
// test-module: build/virtio_blk.elf
// test-module: build/fs.elf
// test-module: build/vmm.elf
// test-module: cache/linux/guest/bzImage
// test-module: cache/linux/guest/initramfs.cpio.gz
// test-disk-image: a build/tests/data/guest-disk-kill.img
// test-qemu: -drive if=none,id=da,format=raw,file={disk:a} -device virtio-blk-pci,disable-legacy=on,drive=da,addr=4
// test-exit: none
// test-timeout: 400
// test-selfcheck: 256
// test-expect: ^\[linux\] guest-disk: durable synced
// test-expect: init: 'blk0' was killed; restarting it
// test-expect: init: 'fs' was killed; restarting it
// test-expect: ^vmm: \[linux\] disk /vm/linux\.img: the file system went away; waiting for it
// test-expect: ^vmm: \[linux\] disk /vm/linux\.img: the file system is back
// test-expect: ^\[linux\] guest-disk: all \d+ synced rounds still on disk and durable\.txt intact
// test-expect: ^vmm: \[linux\] guest powered off
// test-expect: ^fs: unmounted cleanly
// test-disk-preen: a
// test-disk-file: a /vm/linux.img g
// test-disk-preen: g
// test-disk-debugfs: g cat /berth/durable.txt => ^fsynced before anything was killed\r?$
#include "tap.h"
#include "fs.h"
#include "init.h"
#include "tasks.h"

#define INIT 8
#define FS 9

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(6);
	tap_ok(task_wait_running("linux", 60), "the Linux VM runs");
	/* the guest boots in about 10 s and then writes for a minute (by
	 * its uptime): the block driver dies in the middle, the fs server
	 * a little later */
	clock_nap(2500);
	tap_eq(init_kill(INIT, "blk0"), E_OK, "the block driver killed while the guest writes");
	tap_ok(task_wait_running("blk0", 30), "init started it again");
	clock_nap(1000);
	tap_eq(init_kill(INIT, "fs"), E_OK, "the fs server killed while the guest writes");
	uint32_t end = 0;
	int64_t detail = -1;
	int ended = task_wait_end("linux", 300, &end, &detail);
	tap_ok(ended && end == 3 && detail == 0, "the VMM lived on; its guest powered off (status 0)");
	/* our right to the fs server died with it: look it up again */
	uint64_t fs = 0;
	long err = init_lookup(INIT, "fs", &fs);
	tap_eq(err ? err : fs_unmount(fs), E_OK, "the restarted fs server unmounts Berth's file system cleanly");
	return 0;
}
