/* One guest disk read, traced from the shell (docs/trace.md's second
 * example; issue 13's "path a student can watch").  The Linux guest's
 * disk is the file /vm/linux.img of the fs server; its /autorun
 * (tests/system/data/trace_guest_disk_autorun.sh) says it is ready, and
 * a few seconds later reads one block it has not read before with
 * O_DIRECT.  The shell traces the VMM, the fs server and the block driver
 * in between, and trace show prints the path: the VCPU's exit to the VMM,
 * the VMM to its disk worker, the worker's call to the fs server, the fs
 * server's call to the block driver, the device's interrupt, the replies
 * back, the VMM's interrupt for the guest and its answer to the exit. */
// test-root: build/init.elf
// test-module: tests/system/manifests/trace_guest_disk.manifest
// test-module: build/serial.elf
// test-module: build/rtc.elf
// test-module: build/pci.elf
// test-module: build/virtio_blk.elf
// test-module: build/fs.elf
// test-module: build/shell.elf
// test-module: build/vmm.elf
// test-module: cache/linux/guest/bzImage
// test-module: cache/linux/guest/initramfs.cpio.gz
// test-disk-image: a build/tests/data/trace-guest-disk.img
// test-qemu: -drive if=none,id=da,format=raw,file={disk:a} -device virtio-blk-pci,disable-legacy=on,drive=da,addr=4
// test-exit: none
// test-timeout: 400
// test-selfcheck: 1000000
// test-send: trace-guest: ready => trace on linux fs blk0\n
// test-send: trace-guest: read => trace off\n
// test-send: berth> => trace show\n
// test-send: berth> => trace show\n
// test-send: berth> => trace show\n
// test-send: berth> => trace on idle\n
// test-send: berth> => trace off\n
// test-send: berth> => echo done\n
// (fs's calls to the driver reach its session's own thread, which init
// cannot name: threadN)
// test-expect: ^tracing linux\r?$
// test-expect: ^tracing fs\r?$
// test-expect: ^tracing blk0\r?$
// test-expect: thread\d+ +-> linux +vmexit +exit npf
// test-expect: linux +-> thread\d+ +notify +bits 0x1\r?$
// test-expect: thread\d+ +-> fs +call +fs\.read_at
// test-expect: fs +-> (blk0|thread\d+) +call +block\.read
// test-expect: kernel +-> blk0 +notify +bits
// test-expect: blk0 +-> fs +reply +block\.read
// test-expect: fs +-> thread\d+ +reply +fs\.read_at
// test-expect: thread\d+ +-> linux +notify +bits 0x4\r?$
// test-expect: linux +-> thread\d+ +reply +0\r?$
// test-expect: exit npf\r?\n[^\n]*linux +-> thread\d+ +notify +bits 0x1\r?\n[\s\S]{0,2000}?-> fs +call +fs\.read_at[\s\S]{0,2000}?fs +-> (blk0|thread\d+) +call +block\.read[\s\S]{0,2000}?kernel +-> blk0 +notify[\s\S]{0,2000}?fs +-> thread\d+ +reply +fs\.read_at\r?\n[^\n]*thread\d+ +-> linux +notify +bits 0x4
// test-expect: ^tracing idle from its next start \(it is not running\)\r?$
// test-expect: ^done\r?$
#include <libipc/libipc.h>

int main(const struct bootinfo *bi)
{
	(void)bi;
	return 0;
}
