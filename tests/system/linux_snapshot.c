/* A Linux guest saved and restored from the shell (issue 16,
 * docs/lifecycle.md): a process in it checks 8 MiB of its memory and
 * counts rounds; `vm snapshot` saves the running VM to a file on Berth's
 * disk, `vm stop` ends it, and `vm restore ... as linux2` starts the file
 * in another VM, where the same process goes on with the next rounds and
 * finds the same bytes.  The guest's disk is the same file all along.
 * (The guest's lines start after the shell's redrawn prompt, so the
 * patterns are not anchored.) */
// test-root: build/init.elf
// test-module: tests/system/manifests/linux_snapshot.manifest
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
// test-timeout: 500
// test-selfcheck: 1000000
// test-send: \[linux\] linux-snapshot: round 3 ok => vm snapshot linux /snap.bin\n
// test-send: vm: saved 'linux' => vm stop linux\n
// test-send: vm: stopped 'linux' => vm restore /snap.bin as linux2\n
// test-send: \[linux2\] linux-snapshot: round 8 ok => echo done\n
// test-expect: \[linux\] linux-snapshot: ready
// test-expect: vmm: \[linux\] snapshot /snap\.bin: \d+ bytes \(\d+ of 28672 pages in use\), the guest paused \d+ ms
// test-expect: vm: saved 'linux' to /snap\.bin: \d+ KiB; the guest paused
// test-expect: vmm: \[linux2\] restored from /snap\.bin
// test-expect: \[linux2\] linux-snapshot: round [4-9] ok
// test-expect: \[linux2\] linux-snapshot: round 8 ok
// test-expect: ^done\r?$
// test-reject: linux-snapshot: round \d+ BAD
// test-reject: \[linux2\] linux-snapshot: (ready|round [0-3] ok)
// test-reject: \[linux2?\].*(Oops|BUG:|Kernel panic|soft lockup|hard LOCKUP|self-detected stall|rcu_sched detected stall)
#include <libipc/libipc.h>

int main(const struct bootinfo *bi)
{
	(void)bi;
	return 0;
}
