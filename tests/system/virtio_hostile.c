/* A hostile driver against the VMM's virtio-blk device (issue 13): the
 * guest tests/guests/progs/virtio_hostile.c first uses the device
 * correctly (reads, a write read back, an out-of-range read, a flush),
 * then breaks every rule of the virtqueue it can (a queue size that is
 * not a power of two, rings and buffers outside its memory, descriptor
 * loops, lengths that wrap, an avail index that jumps, 200 rounds of
 * random descriptors), and after each reset checks the device works
 * again.  The guest's TAP is this test's; the VMM must say what broke the
 * device and must not die.  This program only idles beside it. */
// test-root: build/init.elf
// test-module: tests/system/manifests/virtio_hostile.manifest
// test-module: build/serial.elf
// test-module: build/fs.elf
// test-module: build/tests/data/virtio-hostile.img
// test-module: build/vmm.elf
// test-module: build/tests/guests/progs/virtio_hostile.bin
// test-exit: none
// test-timeout: 180
// test-expect: ^vmm: disk /disk\.img: 64 KiB as virtio-blk at 00:02\.0
// test-expect: ^vmm: disk /disk\.img: the guest's driver broke the device \(virtqueue: [^)]*\); it needs a reset
// test-expect: ^vmm: guest exited with status 0
#include <libipc/libipc.h>

int main(const struct bootinfo *bi)
{
	(void)bi;
	return 0;
}
