/* A hostile balloon driver (tests/guests/progs/balloon_hostile.c): the
 * guest's TAP must all pass, and from outside (vmm.idl's balloon, init's
 * mem) the region it gave must have gone back to init while it was in
 * the balloon, its bad page numbers must be counted, and when the VM ends
 * every loan must come back to init.  The kernel and init go on. */
// test-root: build/init.elf
// test-module: tests/system/manifests/balloon_hostile.manifest
// test-module: build/serial.elf
// test-module: build/vmm.elf
// test-module: build/tests/guests/progs/balloon_hostile.bin
// test-exit: none
// test-timeout: 120
// test-selfcheck: 16
// test-expect: \[bh\] ok 12 -
// test-expect: ^ok 4 - init still answers
// test-expect: vmm: \[bh\] virtqueue: buffer outside guest memory
// test-expect: vmm: \[bh\] virtqueue: descriptor chain longer than the queue
// test-expect: vmm: \[bh\] virtio-balloon: a device-writable buffer in a page list
// test-reject: \[bh\] not ok|berth: (panic|thread \d+ stopped)|vmm: \[bh\] guest stopped
#include "tap.h"
#include "init.h"
#include "vmm.h"

#define INIT 8

static uint64_t nap_port;

static void nap(unsigned ticks)
{
	struct msg m;
	sys_notify_after(nap_port, 1, ticks);
	ipc_recv(nap_port, 0, &m);
}

static uint64_t mem_free(void)
{
	uint64_t total, free = 0;
	init_mem(INIT, &total, &free);
	return free;
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(4);
	object_alloc(OBJ_PORT, 0, &nap_port);
	uint64_t vm = 0;
	for (unsigned i = 0; i < 300 && init_lookup(INIT, "vm.bh", &vm); i++)
		nap(5);
	uint32_t target = 0, actual = 0, returned = 0, most = 0;
	uint64_t refused = 0, count = 0, free_during = mem_free();
	/* the guest keeps region 1 in the balloon for 3 s.  The count of
	 * refused page numbers only grows: the largest answer is kept, never
	 * what the last call (which fails as the VMM ends) left */
	for (unsigned i = 0; i < 600 && !vmm_balloon(vm, 0, 0, &target, &actual, &returned, &count); i++) {
		if (returned > most) {
			most = returned;
			free_during = mem_free();
		}
		refused = count > refused ? count : refused;
		nap(5);
	}
	/* the VMM has ended (its port is dead): its loans are back */
	nap(20);
	uint64_t free_after = mem_free();
	tap_ok(most == 2, "the whole region the guest gave went back to init (%u MiB)", most);
	tap_ok(refused == 2, "the two page numbers beyond its memory were counted (%lu)", refused);
	tap_ok(free_after >= free_during + (8UL << 20) - (2UL << 20),
	       "when the VM ended, its loans came back (free %lu MiB, %lu while it ran)", free_after >> 20,
	       free_during >> 20);
	uint64_t c;
	tap_eq(init_lookup(INIT, "console", &c), E_OK, "init still answers");
	return 0;
}
