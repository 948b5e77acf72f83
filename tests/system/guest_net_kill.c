/* Fault containment under a guest's network (issue 13): a Linux guest
 * pings Berth's gateway and, through Berth's NAT and the network driver,
 * QEMU's network once a second (tests/system/data/guest_net_kill_autorun.sh)
 * while this program kills the network driver and then the network server.
 * init restarts each.  The driver's death is the network server's to hide
 * (it attaches again); the server's is seen by the VMM, which takes the
 * guest's link down and attaches again once the switch is back (the
 * guest keeps its address: it is the only VM, the first to attach).  The
 * VMM lives throughout and, at the end, both destinations answer the
 * guest again. */
// test-root: build/init.elf
// test-module: tests/system/manifests/guest_net_kill.manifest
// test-module: build/serial.elf
// test-module: build/rtc.elf
// test-module: build/pci.elf
// test-module: build/virtio_blk.elf
// test-module: build/virtio_net.elf
// test-module: build/fs.elf
// test-module: build/net.elf
// test-module: build/httpd.elf
// test-module: build/vmm.elf
// test-module: cache/linux/guest/bzImage
// test-module: cache/linux/guest/initramfs.cpio.gz
// test-disk-image: a build/tests/data/guest-net-kill.img
// test-qemu: -drive if=none,id=da,format=raw,file={disk:a} -device virtio-blk-pci,disable-legacy=on,drive=da,addr=4
// test-net: user
// test-exit: none
// test-timeout: 400
// test-selfcheck: 256
// test-expect: init: 'net0' was killed; restarting it
// test-expect: init: 'net' was killed; restarting it
// test-expect: vmm: \[linux\] net: the virtual switch went away; the link is down until it is back
// test-expect: vmm: \[linux\] net: the virtual switch is back; the link is up
// test-expect: \[linux\] guest-net-kill: at the end both answer again
// test-expect: vmm: \[linux\] guest powered off
// test-expect: ok 4 - 
#include "tap.h"
#include "init.h"
#include "tasks.h"

#define INIT 8

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(4);
	tap_ok(task_wait_running("linux", 60), "the Linux VM runs");
	clock_nap(2500); /* it boots and pings for a while */
	tap_eq(init_kill(INIT, "net0"), E_OK, "the network driver killed under the guest");
	clock_nap(1500);
	tap_eq(init_kill(INIT, "net"), E_OK, "the network server killed under the guest");
	uint32_t end = 0;
	int64_t detail = -1;
	int ended = task_wait_end("linux", 300, &end, &detail);
	tap_ok(ended && end == 3 && detail == 0, "the VMM lived on; its guest powered off at the end (status 0)");
	return 0;
}
