/* A Linux guest's disk served by Berth's own servers (issue 13): the VMM
 * offers a virtio-blk device whose sectors are the file /vm/linux.img of
 * the fs server, which keeps it on a virtio-blk disk through the block
 * driver and the PCI server.  The guest's /init mounts the disk and runs
 * its /autorun (tests/system/data/guest_disk_autorun.sh): files written,
 * synced, read back after dropping its caches, the disk unmounted, the VM
 * powered off.  Then this program unmounts Berth's file system, and after
 * QEMU ends the host checks both file systems: Berth's ext2 and, taken out
 * of it by debugfs, the guest's ext4, each clean under e2fsck -fn and
 * holding what the guest wrote. */
// test-root: build/init.elf
// test-module: tests/system/manifests/guest_disk.manifest
// test-module: build/serial.elf
// test-module: build/rtc.elf
// test-module: build/pci.elf
// test-module: build/virtio_blk.elf
// test-module: build/fs.elf
// test-module: build/vmm.elf
// test-module: cache/linux/guest/bzImage
// test-module: cache/linux/guest/initramfs.cpio.gz
// test-disk-image: a build/tests/data/guest-disk.img
// test-qemu: -drive if=none,id=da,format=raw,file={disk:a} -device virtio-blk-pci,disable-legacy=on,drive=da,addr=4
// test-exit: none
// test-timeout: 400
// test-selfcheck: 256
// test-expect: ^vmm: \[linux\] disk /vm/linux\.img: 32768 KiB as virtio-blk at 00:02\.0
// test-expect: ^\[linux\] berth-guest: /dev/vda mounted on /mnt
// test-expect: ^\[linux\] guest-disk: synced
// test-expect: ^\[linux\] guest-disk: md5 8ebd16ef832dfdffe574f1ca88bcb7e7
// test-expect: ^\[linux\] guest-disk: md5 after drop 8ebd16ef832dfdffe574f1ca88bcb7e7
// test-expect: ^\[linux\] guest-disk: interrupts ERR:0 MIS:0\s*$
// test-expect: ^\[linux\] guest-disk: the disk's interrupts are counted
// test-reject: \[linux\].*(spurious|nobody cared|Disabling IRQ|lost interrupt|timed out)
// test-expect: ^\[linux\] guest-disk: unmounted
// test-expect: ^vmm: \[linux\] guest powered off
// test-expect: ^fs: unmounted cleanly
// test-disk-fsck: a
// test-disk-file: a /vm/linux.img g
// test-disk-fsck: g
// test-disk-debugfs: g cat /berth/hello.txt => ^written by Linux through Berth's VMM, fs server and block driver\r?$
// test-disk-debugfs: g stat /berth/pattern.bin => Size: 4194304\b
// test-disk-debugfs: g cat /berth/dir8/file.txt => ^file in directory 8\r?$
// test-disk-debugfs: g cat /README.txt => ^This is a Linux guest's disk under Berth
#include "tap.h"
#include "fs.h"
#include "init.h"
#include "tasks.h"

#define INIT 8
#define FS 9

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(3);
	uint32_t state = 0, end = 0;
	int64_t detail = -1;
	int ran = 0;
	/* the guest boots, writes, powers off: minutes under the emulator */
	for (unsigned t = 0; t < 3600; t++) {
		if (!task_status("linux", &state, &end, &detail))
			break;
		if (state == 1)
			ran = 1;
		if (ran && state == 0)
			break;
		clock_nap(10);
	}
	tap_ok(ran, "the Linux VM ran");
	tap_ok(ran && state == 0 && end == 3 && detail == 0, "its guest powered off: the VMM exited with status 0");
	tap_eq(fs_unmount(FS), E_OK, "Berth's file system unmounts cleanly after the guest's writes");
	return 0;
}
