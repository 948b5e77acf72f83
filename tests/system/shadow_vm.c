/* Shadow paging against a hostile guest (tests/guests/progs/shadow_hostile.c,
 * under mode=shadow): its page tables point outside its memory, at the
 * host kernel's physical addresses, at a device, at themselves, hold
 * reserved bits, and finally its CR3 points outside its memory.  Each
 * access gives what the guest's own machine would, and the bad CR3 stops
 * that VM with a clear message (a triple fault); a ticking guest under
 * shadow paging and one under nested paging run on beside it, and the
 * kernel, its self-check and init are unharmed. */
// test-root: build/init.elf
// test-module: tests/system/manifests/shadow_vm.manifest
// test-module: build/serial.elf
// test-module: build/vmm.elf
// test-module: build/tests/guests/progs/shadow_hostile.bin
// test-module: build/tests/guests/progs/ticker.bin
// test-exit: none
// test-timeout: 120
// test-expect: ^vmm: \[s\] shadow paging: nested paging off
// test-expect: ^\[s\] ok 1 - a page past guest RAM is the empty bus
// test-expect: ^\[s\] ok 2 - so is a guest-physical address far above it
// test-expect: ^\[s\] ok 3 - guest-physical 1 MiB is the guest's own code
// test-expect: ^\[s\] ok 4 - a device mapped through the guest's tables is emulated
// test-expect: ^\[s\] ok 5 - a page table that maps itself reads its own entries
// test-expect: ^\[s\] ok 6 - an entry written through the self-map takes effect after INVLPG
// test-expect: ^\[s\] ok 7 - an entry with reserved bits: the guest's #PF with RSVD
// test-expect: ^\[s\] ok 8 - a write to a read-only page
// test-expect: ^\[s\] ok 9 - a missing page
// test-expect: ^\[s\] ok 10 - CR3 reads as the guest loaded it
// test-expect: ^\[s\] ok 11 - the guest is still whole
// test-expect: ^vmm: \[s\] guest stopped: a page fault while delivering a double fault \(a triple fault\)
// test-expect: triple fault[\s\S]*\[t\] tick \d+
// test-expect: triple fault[\s\S]*\[n\] tick \d+
// test-reject: \[s\] not ok|shadow-hostile: still running
// test-expect: shadow-vm: done
#include "tap.h"
#include "tasks.h"
#include "init.h"

#define INIT 8

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(3);
	spin_ticks(6000000000UL);
	uint64_t frame;
	tap_eq(object_alloc(OBJ_FRAME, 0, &frame), E_OK, "the kernel still serves system calls");
	uint32_t restarts = 0, threads = 0;
	int ticker = task_find("vmm-t", 0, &restarts, &threads) && threads == 1 && restarts == 0;
	tap_ok(ticker, "the well-behaved VM under shadow paging runs on, never restarted");
	uint64_t c;
	tap_eq(init_lookup(INIT, "console", &c), E_OK, "init still answers");
	debug_printf("shadow-vm: done\n");
	return 0;
}
