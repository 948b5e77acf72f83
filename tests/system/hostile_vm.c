/* A hostile guest (random port I/O, MSR accesses, MMIO at random
 * addresses, hypercalls with random arguments) runs beside a well-behaved
 * one: the kernel and the other VM keep running. */
// test-root: build/init.elf
// test-module: tests/system/manifests/hostile_vm.manifest
// test-module: build/serial.elf
// test-module: build/vmm.elf
// test-module: build/tests/guests/progs/hostile.bin
// test-module: build/tests/guests/progs/ticker.bin
// test-exit: none
// test-timeout: 120
// test-expect: ^\[h\] hostile: starting
// test-expect: (\[h\] hostile: done with 4000 attempts|vmm: guest stopped)
// test-expect: (hostile: done|vmm: guest stopped)[\s\S]*\[t\] tick \d+
// test-expect: hostile-vm: done
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
	tap_ok(ticker, "the well-behaved VM's VMM runs on, never restarted");
	uint64_t c;
	tap_eq(init_lookup(INIT, "console", &c), E_OK, "init still answers");
	debug_printf("hostile-vm: done\n");
	return 0;
}
