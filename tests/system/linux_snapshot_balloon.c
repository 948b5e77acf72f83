/* A Linux guest with a balloon saved and restored (issue 16,
 * docs/lifecycle.md "Snapshots"): as linux_snapshot.c, but the guest
 * first gives 24 MiB to its balloon, some of it whole 2 MiB regions that
 * go back to Berth.  The snapshot keeps the balloon's device and which
 * pages it holds; the restored VM (linux2) has the same balloon, gives
 * the same whole regions back to Berth, and its process goes on with the
 * same bytes.  Deflated there, the guest takes every page back.  (The
 * guest's lines start after the shell's redrawn prompt, so the patterns
 * are not anchored.) */
// test-root: build/init.elf
// test-module: tests/system/manifests/linux_snapshot_balloon.manifest
// test-module: build/serial.elf
// test-module: build/rtc.elf
// test-module: build/pci.elf
// test-module: build/virtio_blk.elf
// test-module: build/fs.elf
// test-module: build/shell.elf
// test-module: build/vmm.elf
// test-module: cache/linux/guest/bzImage
// test-module: cache/linux/guest/initramfs.cpio.gz
// test-disk-image: a build/tests/data/linux-snapshot.img
// test-qemu: -drive if=none,id=da,format=raw,file={disk:a} -device virtio-blk-pci,disable-legacy=on,drive=da,addr=4
// test-exit: none
// test-timeout: 600
// test-selfcheck: 1000000
// test-send: \[linux\] linux-snapshot: round 3 ok => vm balloon linux 24\n
// test-send: \[linux\] linux-snapshot: round 6 ok => vm balloon linux\n
// test-send: vm: 'linux' balloon: 24 MiB asked for, 24 MiB given => vm snapshot linux /snap.bin\n
// test-send: vm: saved 'linux' => vm stop linux\n
// test-send: vm: stopped 'linux' => vm restore /snap.bin as linux2\n
// test-send: \[linux2\] linux-snapshot: round 9 ok => vm balloon linux2\n
// test-send: vm: 'linux2' balloon: 24 MiB asked for, 24 MiB given => vm balloon linux2 0\n
// test-send: \[linux2\] linux-snapshot: round 13 ok => vm balloon linux2\n
// test-send: vm: 'linux2' balloon: 0 MiB asked for, 0 MiB given => echo done\n
// test-expect: \[linux\] linux-snapshot: ready
// test-expect: vm: 'linux' balloon: 24 MiB asked for, 24 MiB given by the guest, ([1-9]\d*) MiB back with Berth[\s\S]*vm: 'linux2' balloon: 24 MiB asked for, 24 MiB given by the guest, \1 MiB back with Berth
// test-expect: vm: saved 'linux' to /snap\.bin: \d+ KiB; the guest paused
// test-expect: vmm: \[linux2\] restored from /snap\.bin
// test-expect: \[linux2\] linux-snapshot: round 13 ok
// test-expect: vm: 'linux2' balloon: 0 MiB asked for, 0 MiB given by the guest, 0 MiB back with Berth
// test-expect: ^done\r?$
// test-reject: linux-snapshot: round \d+ BAD
// test-reject: \[linux2\] linux-snapshot: (ready|round [0-5] ok)
// test-reject: \[linux2?\].*(Oops|BUG:|Kernel panic|soft lockup|hard LOCKUP|self-detected stall|rcu_sched detected stall)
#include <libipc/libipc.h>

int main(const struct bootinfo *bi)
{
	(void)bi;
	return 0;
}
