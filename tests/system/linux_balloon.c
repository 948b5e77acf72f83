/* Ballooning a Linux guest (issue 16, docs/lifecycle.md "Memory"): its
 * 112 MiB are on loan from init (of which its kernel leaves about 64 MiB
 * to use); asked to give up 24 MiB, Linux's stock
 * virtio_balloon driver does, the whole 2 MiB regions among its pages go
 * back to init and `mem`'s free memory rises by as much; the guest sees
 * its memory shrink.  Asked for 0, it takes every page back, init lends
 * the regions again, and the guest fills 20 MB of its memory (its /tmp holds half of it) with a file
 * whose checksum comes out right.  The guest's commands are typed into
 * its serial port (vmm.idl console_input); its answers are checked on
 * the console.  Its awk prints words glued from halves ("sm""all"), so
 * the echo of the typed line never matches. */
// test-root: build/init.elf
// test-module: tests/system/manifests/linux_balloon.manifest
// test-module: build/serial.elf
// test-module: build/rtc.elf
// test-module: build/vmm.elf
// test-module: cache/linux/guest/bzImage
// test-module: cache/linux/guest/initramfs.cpio.gz
// test-exit: none
// test-timeout: 400
// test-selfcheck: 1000000
// test-expect: balloon-test: ok - the VM has a balloon
// test-expect: balloon-test: ok - asked for 24 MiB
// test-expect: balloon-test: ok - the guest's driver gave 24 MiB
// test-expect: balloon-test: ok - \d+ MiB of it went back to Berth in whole 2 MiB regions; free memory rose by \d+ MiB
// test-expect: balloon-test: ok - asked for 0: every page back
// test-expect: balloon-test: ok - the driver took every page back, init lent every region again
// test-expect: balloon-test: ok - free memory is what it was before
// test-expect: balloon-test: done
// test-expect: \[linux\] balloon-guest: small[\s\S]*\[linux\] balloon-guest: big[\s\S]*\[linux\] 10e4462c9d0b08e7f0b304c4fbfeafa3
// test-reject: balloon-test: FAIL|\[linux\].*(Oops|BUG:|Kernel panic|Out of memory|soft lockup)|vmm: \[linux\] (guest stopped|balloon: init refused)
#include <string.h>
#include <libipc/libipc.h>
#include "init.h"
#include "vmm.h"
#include "vm_drive.h"

static const char WHO[] = "balloon-test";   /* what each result line starts with */

#define INIT 8
#define SECONDS 100   /* ticks */

struct balloon {
	uint32_t target, actual, returned;
	uint64_t refused;
};

static long ask(uint64_t vm, int set, uint32_t mib, struct balloon *b)
{
	return vmm_balloon(vm, (uint32_t)set, mib, &b->target, &b->actual, &b->returned, &b->refused);
}

/* Until the driver holds `mib` (and what went back has settled), or 120 s. */
static uint64_t wait_for(uint64_t vm, uint32_t mib, struct balloon *b)
{
	uint64_t waited = 0;
	while (!ask(vm, 0, 0, b) && b->actual != mib && waited < 120 * SECONDS) {
		vm_nap(SECONDS / 10);
		waited += SECONDS / 10;
	}
	return waited;
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
	uint64_t vm = 0;
	for (unsigned i = 0; i < 600 && init_lookup(INIT, "vm.linux", &vm); i++)
		vm_nap(SECONDS / 10);
	struct balloon b;
	if (!vm_check(WHO, ask(vm, 0, 0, &b) == E_OK, "the VM has a balloon"))
		return 1;
	uint64_t free0 = mem_free();
	/* the driver loads early in /init and inflates at once */
	vm_check(WHO, ask(vm, 1, 24, &b) == E_OK, "asked for 24 MiB");
	uint64_t waited = wait_for(vm, 24, &b);
	vm_check(WHO, b.actual == 24, "the guest's driver gave 24 MiB (%u, after %lu ms)", b.actual, waited * 10);
	uint64_t free1 = mem_free();
	/* how many regions Linux's allocator leaves whole varies (6 to 10 MiB of 24 here) */
	vm_check(WHO, b.returned >= 2 && free1 == free0 + ((uint64_t)b.returned << 20),
	       "%u MiB of it went back to Berth in whole 2 MiB regions; free memory rose by %lu MiB", b.returned,
	       (free1 - free0) >> 20);
	vm_nap(10 * SECONDS); /* its shell starts after the driver */
	vm_type(vm, "echo balloon-guest: $(awk '/MemTotal/ { print ($2 < 50000) ? \"sm\"\"all\" : \"b\"\"ig\" }' /proc/meminfo)\n");
	vm_nap(2 * SECONDS);

	vm_check(WHO, ask(vm, 1, 0, &b) == E_OK, "asked for 0: every page back");
	waited = wait_for(vm, 0, &b);
	uint64_t free2 = mem_free();
	vm_check(WHO, b.actual == 0 && b.returned == 0, "the driver took every page back, init lent every region again (%lu ms)",
	       waited * 10);
	vm_check(WHO, free2 == free0, "free memory is what it was before (%lu MiB, was %lu)", free2 >> 20, free0 >> 20);
	vm_type(vm, "echo balloon-guest: $(awk '/MemTotal/ { print ($2 < 50000) ? \"sm\"\"all\" : \"b\"\"ig\" }' /proc/meminfo)\n");
	vm_type(vm, "head -c 20000000 /dev/zero > /tmp/big && md5sum /tmp/big; rm -f /tmp/big\n");
	vm_nap(20 * SECONDS);
	debug_printf("balloon-test: done\n");
	return 0;
}
