/* Two VMs run at once, each under its own VMM, and both make progress;
 * killing one VMM stops only its guest, and init restarts it (and with it
 * the VM) as the manifest says. */
// test-root: build/init.elf
// test-module: tests/system/manifests/two_vms.manifest
// test-module: build/serial.elf
// test-module: build/vmm.elf
// test-module: build/tests/guests/progs/ticker.bin
// test-exit: none
// test-timeout: 240
// test-expect: ^\[a\] tick 5
// test-expect: ^\[b\] tick 5
// test-expect: init: 'vmm-a' was killed; restarting it
// test-expect: was killed; restarting it[\s\S]*\[b\] tick \d+[\s\S]*\[a\] tick 3
// test-expect: two-vms: done
#include "tap.h"
#include "init.h"
#include "tasks.h"

#define INIT 8

/* running with its one thread; its state and restarts */
static int task(const char *name, uint32_t *state, uint32_t *restarts)
{
	uint32_t threads = 0;
	return task_find(name, state, restarts, &threads) && threads == 1;
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	uint32_t state, ra, rb;
	tap_plan(4);
	spin_ticks(4000000000UL); /* both tick a while (we are below them) */
	tap_ok(task("vmm-a", &state, &ra) && task("vmm-b", &state, &rb) && ra == 0 && rb == 0,
	       "both VMMs are running");
	tap_eq(init_kill(INIT, "vmm-a"), E_OK, "kill the first VMM");
	spin_ticks(4000000000UL);
	int a = task("vmm-a", &state, &ra), b = task("vmm-b", &state, &rb);
	tap_ok(a && ra == 1, "init restarted it (restarts %u)", ra);
	tap_ok(b && rb == 0, "the other VMM was never touched (restarts %u)", rb);
	debug_printf("two-vms: done\n");
	return 0;
}
