/* A guest that makes print hypercalls without pause runs beside
 * a ticker (tests/guests/progs/rate.c): the ticker keeps at least 80% of
 * its timer interrupts while the flood runs, and the flood ends
 * on time. */
// test-root: build/init.elf
// test-module: tests/system/manifests/fair_print.manifest
// test-module: build/serial.elf
// test-module: build/vmm.elf
// test-module: build/tests/guests/progs/rate.bin
// test-module: build/tests/guests/progs/flood_print.bin
// test-exit: none
// test-timeout: 90
// test-selfcheck: 64
// test-expect: fair: done
// test-expect: \[t\] rate: PASS
// test-expect: \[f\] flood: start[\s\S]*\[t\] rate: measuring[\s\S]*\[t\] rate: PASS[\s\S]*\[f\] flood: end
#include "tap.h"
#include "init.h"

#define INIT 8

/* The VMs run meanwhile; the runner checks their lines. */
int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(1);
	spin_ticks(15000000000UL);
	uint64_t c;
	tap_eq(init_lookup(INIT, "console", &c), E_OK, "init still answers");
	debug_printf("fair: done\n");
	return 0;
}
