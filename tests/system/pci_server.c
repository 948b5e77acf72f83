/* The PCI server (servers/drivers/pci): what it finds on QEMU's i440fx
 * with two virtio-blk disks (modern only) and the default e1000, what a
 * session lets a driver do and refuses, malformed requests, and what
 * happens when the session's last right dies: the device is quiet again
 * (no bus mastering, no decoding, INTx disabled), the frames and
 * interrupt handler handed out are gone, and it can be opened again.
 * This program plays the driver. */
// test-root: build/init.elf
// test-module: tests/system/manifests/pci.manifest
// test-module: build/pci.elf
// test-disk: a 2048 1
// test-disk: b 2048 2
// test-qemu: -drive if=none,id=da,format=raw,file={disk:a} -device virtio-blk-pci,disable-legacy=on,drive=da,addr=4
// test-qemu: -drive if=none,id=db,format=raw,file={disk:b} -device virtio-blk-pci,disable-legacy=on,drive=db,addr=8
// test-expect: pci: 00:04.0 released by 'pci-test'
#include "tap.h"
#include "pci.h"

#define PCI 9
#define MAP_AT 0x40000000UL
#define VIRTIO_VENDOR 0x1af4
#define VIRTIO_BLK_MODERN 0x1042

struct fn {
	uint32_t address, ids, class_rev, subsystem, irq;
	char owner[32];
};

static struct fn fns[64];
static unsigned nfns;

static void list_all(void)
{
	nfns = 0;
	while (nfns < 64 && pci_list(PCI, nfns, &fns[nfns].address, &fns[nfns].ids, &fns[nfns].class_rev,
	                             &fns[nfns].subsystem, &fns[nfns].irq, fns[nfns].owner) == E_OK)
		nfns++;
}

static const struct fn *find(uint32_t address)
{
	for (unsigned i = 0; i < nfns; i++)
		if (fns[i].address == address)
			return &fns[i];
	return 0;
}

/* A raw request: label, words, no caps. */
static long raw_call(uint64_t port, uint32_t label, unsigned words)
{
	struct msg m = { 0 };
	m.info = MSG_INFO(label, words, 0);
	long err = ipc_call(port, &m);
	return err ? err : (long)m.w[0];
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(33);
	list_all();
	const struct fn *host = find(0x00), *isa = find(0x01 << 3), *d4 = find(4 << 3), *d8 = find(8 << 3);
	tap_ok(nfns >= 4, "the PCI server lists %u functions", nfns);
	tap_ok(host && host->ids == 0x12378086 && host->class_rev >> 8 == 0x060000,
	       "00:00.0 is the i440FX host bridge (8086:1237, class 060000)");
	tap_ok(isa && isa->ids == 0x70008086 && isa->class_rev >> 8 == 0x060100,
	       "00:01.0 is the PIIX3 ISA bridge (8086:7000, class 060100)");
	tap_ok(d4 && d4->ids == 0x10421af4 && d4->class_rev >> 8 == 0x010000 && (d4->subsystem & 0xffff) == 0x1af4,
	       "00:04.0 is a modern virtio-blk disk (1af4:1042, class 010000, subsystem %08x)", d4 ? d4->subsystem : 0);
	tap_ok(d8 && d8->ids == 0x10421af4, "00:08.0 is the second one");
	/* QEMU's PIIX3 routes slot S pin P to PIRQ (S - 1 + P - 1) mod 4,
	 * SeaBIOS PIRQ A, B to line 10 and C, D to 11: slots 4 and 8 share
	 * PIRQ D, line 11 */
	uint32_t shared_line = d4 ? d4->irq & 0xff : 0;
	tap_ok(d4 && d8 && (d4->irq >> 8) == 1 && shared_line == 11 && d8->irq == d4->irq,
	       "both use pin INTA, routed to the same line 11 (irq %#x, %#x)", d4 ? d4->irq : 0, d8 ? d8->irq : 0);
	tap_ok(d4 && !d4->owner[0], "nobody owns the disk yet");
	uint32_t cls, addr;
	long r1;
	uint64_t s = 0, s2 = 0;
	tap_eq(pci_list(PCI, nfns, &addr, &addr, &cls, &cls, &cls, fns[0].owner), E_RANGE, "list past the end: E_RANGE");

	/* opening */
	tap_eq(pci_open(PCI, VIRTIO_VENDOR, VIRTIO_BLK_MODERN, 0, "pci-test", &s, &addr), E_OK, "open the first disk");
	tap_eq(addr, 4 << 3, "it is 00:04.0");
	list_all();
	tap_ok(!strcmp(find(4 << 3)->owner, "pci-test"), "list shows its owner");
	tap_eq(pci_open(PCI, VIRTIO_VENDOR, VIRTIO_BLK_MODERN, 0, "thief", &s2, &addr), E_STATE,
	       "a second open of an owned device: E_STATE");
	tap_eq(pci_open(PCI, VIRTIO_VENDOR, VIRTIO_BLK_MODERN, 2, "x", &s2, &addr), E_BAD_ARG,
	       "a third disk that does not exist: E_BAD_ARG");
	tap_eq(pci_open(PCI, 0x8086, 0x1237, 0, "x", &s2, &addr), E_BAD_ARG, "the host bridge is not handed out");

	/* configuration space */
	uint32_t v = 0;
	r1 = pci_config_read(s, 0, 4, &v);
	tap_ok(r1 == E_OK && v == 0x10421af4, "config read through the session: %08x", v);
	r1 = pci_config_read(s, 2, 4, &v);
	long r2 = pci_config_read(s, 256, 1, &v), r3 = pci_config_read(s, 0, 3, &v);
	tap_ok(r1 == E_BAD_ARG && r2 == E_BAD_ARG && r3 == E_BAD_ARG,
	       "misaligned, past 255, size 3: E_BAD_ARG (%ld %ld %ld)", r1, r2, r3);
	uint32_t bar4 = 0, after = 0, line = 0;
	pci_config_read(s, 0x20, 4, &bar4);
	r1 = pci_config_write(s, 0x20, 4, 0xffffffff);
	pci_config_read(s, 0x20, 4, &after);
	tap_ok(r1 == E_NO_RIGHTS && after == bar4, "a BAR write is refused and changes nothing (%ld, %08x)", r1, after);
	r1 = pci_config_write(s, 0x3c, 1, 5);
	r2 = pci_config_write(s, 0x00, 2, 0);
	r3 = pci_config_write(s, 0x30, 4, 0);
	pci_config_read(s, 0x3c, 1, &line);
	tap_ok(r1 == E_NO_RIGHTS && r2 == E_NO_RIGHTS && r3 == E_NO_RIGHTS && line == shared_line,
	       "interrupt line, vendor id, ROM BAR writes: E_NO_RIGHTS (%ld %ld %ld)", r1, r2, r3);
	uint32_t cmd = 0;
	r1 = pci_config_write(s, 0x04, 2, 0x0006 | 0x0008);
	pci_config_read(s, 0x04, 2, &cmd);
	tap_ok(r1 == E_OK && (cmd & 0x0007) == 0x0006 && !(cmd & 0x0008),
	       "command: memory and bus master on, the special-cycle bit kept off (%04x)", cmd);

	/* BARs */
	uint64_t paddr = 0, size = 0;
	uint32_t flags = 0;
	r1 = pci_bar_info(s, 4, &paddr, &size, &flags);
	tap_ok(r1 == E_OK && (flags & 2) && size >= 0x4000 && paddr,
	       "BAR 4: 64-bit memory at %#lx, %lu bytes (flags %u)", paddr, size, flags);
	tap_eq(pci_bar_info(s, 5, &paddr, &size, &flags), E_BAD_ARG, "BAR 5 (the upper half of BAR 4) is none");
	tap_eq(pci_bar_info(s, 6, &paddr, &size, &flags), E_BAD_ARG, "BAR 6 is none");
	uint64_t frame = 0, frame2 = 0;
	r1 = pci_bar_frame(s, 4, 0, &frame);
	r2 = r1 ? r1 : page_map_with_tables(frame, MAP_AT, RIGHT_READ | RIGHT_WRITE);
	/* the virtio common configuration is at the start of BAR 4 on QEMU:
	 * num_queues (offset 0x12) is 1 for a disk with one queue */
	uint16_t queues = r2 ? 0 : *(volatile uint16_t *)(MAP_AT + 0x12);
	tap_ok(!r1 && !r2 && queues >= 1 && queues <= 16, "its first page maps: the device's registers (num_queues %u)",
	       queues);
	tap_eq(pci_bar_frame(s, 4, (uint32_t)(size / 4096), &frame2), E_RANGE, "a page past the BAR: E_RANGE");
	uint64_t irq = 0;
	r1 = pci_irq(s, &irq, &line);
	tap_ok(!r1 && irq && line == shared_line, "its interrupt: a handler for line %u (%ld)", line, r1);

	/* malformed requests */
	tap_eq(raw_call(s, 0x7777, 0), E_BAD_SYSCALL, "an unknown label on a session: E_BAD_SYSCALL");
	tap_eq(raw_call(s, PCI_LIST_LABEL, 1), E_BAD_SYSCALL, "list on a session: E_BAD_SYSCALL");
	tap_eq(raw_call(PCI, PCI_CONFIG_READ_LABEL, 2), E_BAD_SYSCALL, "config_read on the published port: E_BAD_SYSCALL");
	tap_eq(raw_call(s, PCI_CONFIG_READ_LABEL, 3), E_BAD_MSG, "config_read with a word too many: E_BAD_MSG");
	tap_eq(raw_call(PCI, PCI_OPEN_LABEL, 1), E_BAD_MSG, "open with a word: E_BAD_MSG");

	/* the session ends: our only right to it goes */
	sys_cnode_delete(s);
	int released = 0;
	for (int i = 0; i < 100000 && !released; i++) {
		list_all();
		released = !find(4 << 3)->owner[0];
		if (!released)
			sys_yield();
	}
	tap_ok(released && cspace_slot_type(frame) == OBJ_NONE && cspace_slot_type(irq) == OBJ_NONE,
	       "when it is gone the device is free, and our BAR frame and handler are revoked");
	tap_eq(pci_open(PCI, VIRTIO_VENDOR, VIRTIO_BLK_MODERN, 0, "pci-test-2", &s2, &addr), E_OK, "it opens again");
	pci_config_read(s2, 0x04, 2, &cmd);
	tap_ok((cmd & 0x0007) == 0 && (cmd & 0x0400), "and is quiet: no decoding, no bus master, INTx off (%04x)", cmd);
	tap_done();
}
