/* The shell's lspci, typed over the serial line by the runner: one line
 * per PCI function, with the disk's owner.  init runs the console, the
 * PCI server, a virtio-blk driver and the shell; this program only idles. */
// test-root: build/init.elf
// test-module: tests/system/manifests/pci_lspci.manifest
// test-module: build/serial.elf
// test-module: build/pci.elf
// test-module: build/virtio_blk.elf
// test-module: build/shell.elf
// test-disk: a 2048 1
// test-qemu: -drive if=none,id=da,format=raw,file={disk:a} -device virtio-blk-pci,disable-legacy=on,drive=da,addr=4
// test-exit: none
// test-timeout: 90
// test-send: berth> => lspci\n
// test-expect: ^00:00\.0 8086:1237 class 060000 host-bridge\r?$
// test-expect: ^00:01\.0 8086:7000 class 060100 isa-bridge\r?$
// test-expect: ^00:04\.0 1af4:1042 class 010000 virtio-blk irq 11 owner blk0\r?$
#include "tap.h"
#include <libipc/ipc.h>

int main(const struct bootinfo *bi)
{
	(void)bi;
	struct msg m;
	uint64_t port;
	object_alloc(OBJ_PORT, 0, &port);
	for (;;)
		ipc_recv(port, 0, &m);
}
