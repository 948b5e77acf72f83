/* A driver that starts while the PCI server cannot hand out its device
 * for a moment must come back once it can.  The fault campaign found
 * this (seed 1, 200 per target, the PCI server's injections 128..134):
 * a virtio-blk driver restarted just after an `exhaust` had filled the
 * PCI server's slots; the PCI server answered its open with
 * E_SLOT_FULL, the driver ended with EXIT_NO_RESTART ("cannot start as
 * configured"), init never started it again, and the fs server above it
 * stopped serving.  Here the client fills every free slot of the PCI
 * server's CNode (as the campaign's `exhaust` does, with the rights
 * `inject pci` gives it) and then starts the driver (`manual` in the
 * manifest, so nothing of an earlier instance is freed meanwhile): its
 * open is refused with E_SLOT_FULL until the client empties the slots.
 * The driver must wait that out a few seconds at a time and end with a
 * status init restarts it after -- not at once (a tight restart loop)
 * and not for good -- and serve once the PCI server can open its device
 * again; the PCI server itself is never restarted. */
// test-root: build/init.elf
// test-module: tests/system/manifests/driver_start_retry.manifest
// test-module: build/pci.elf
// test-module: build/virtio_blk.elf
// test-disk: a 4096 1
// test-qemu: -drive if=none,id=da,format=raw,file={disk:a} -device virtio-blk-pci,disable-legacy=on,drive=da,addr=4
// test-expect: virtio-blk blk0: no device 0 from the PCI server \(9\)
// test-reject: it cannot start as configured
// test-timeout: 120
#include "tap.h"
#include "tasks.h"
#include "block.h"
#include "init.h"
#include "blk_client.h"

#define INIT 8

static struct blk_client c = { .disk = "blk0", .name = "client", .vaddr = 0x40000000 };

/* The PCI server's CNode, from init (inject_cap's kind 2); the other
 * parts it hands out are not needed here. */
static uint64_t pci_cnode(void)
{
	for (uint32_t i = 0;; i++) {
		uint64_t cap, vaddr;
		uint32_t kind, rights;
		if (init_inject_cap(INIT, "pci", i, &cap, &kind, &vaddr, &rights))
			return 0;
		if (kind == 2)
			return cap;
		sys_cnode_delete(cap);
		slot_free(cap);
	}
}

static void nap_ms(uint64_t port, unsigned ms)
{
	struct msg m;
	sys_notify_after(port, 1, ms / 10);
	ipc_recv(port, 0, &m);
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(6);
	uint64_t cnode = pci_cnode(), filler = 0, nap = 0;
	long err = object_alloc(OBJ_PORT, 0, &filler);
	err = err ? err : object_alloc(OBJ_PORT, 0, &nap);
	if (!cnode || err)
		tap_done(); /* the plan's count fails the run */
	/* every free slot of its CNode (the manifest's `slots 11`) */
	unsigned filled = 0;
	for (uint64_t s = 32; s < 2048; s++)
		filled += sys_cnode_mint(filler, cnode, s, RIGHT_SEND, 0) == E_OK;
	tap_ok(filled > 1900, "the PCI server's free slots filled (%u)", filled);

	tap_eq(init_start(INIT, "blk0", ""), E_OK, "init starts the driver");
	uint32_t restarts = 0, state = 0, end = 0;
	int64_t detail = 0;
	for (int i = 0; i < 50; i++)
		nap_ms(nap, 100);
	task_find("blk0", 0, &restarts, 0);
	task_status("blk0", &state, &end, &detail);
	/* 300 naps of one tick each: 1.5 to 3 s a try (a nap ends at the next tick) */
	tap_ok(restarts >= 1 && restarts <= 3 && end == 3 && detail == 1,
	       "refused for 5 s, the driver waited seconds at a time, ended with status 1 and init started it again "
	       "(%u restarts, last end %u, status %ld)", restarts, end, (long)detail);
	uint64_t published = 0;
	tap_ok(init_lookup(INIT, "blk0", &published) != E_OK, "meanwhile blk0 is not published");

	/* the slots free again (our copies of the filler's right go with a
	 * revoke): the driver's next try opens */
	sys_cnode_revoke(filler);
	tap_eq(blk_connect(&c), E_OK, "once the PCI server has slots again, blk0 serves (a client attaches)");
	uint32_t pci_restarts = 1;
	task_find("pci", 0, &pci_restarts, 0);
	tap_eq(pci_restarts, 0, "the PCI server was never restarted");
	tap_done();
}
