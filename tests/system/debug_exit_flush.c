/* SYS_DEBUG_EXIT ends QEMU at once, so the kernel writes out first what
 * the console driver has not printed yet.  This program runs above the
 * driver: its lines wait in the kernel's log ring until the driver runs,
 * which it would not before the machine ends.  Found by the fault
 * campaign, whose watchdog (above every server) printed why it stopped
 * and ended the machine, and the reason was never seen. */
// test-root: build/init.elf
// test-module: tests/system/manifests/debug_exit_flush.manifest
// test-module: build/serial.elf
// test-timeout: 60
// test-expect: ^debug-exit-flush: line 1 of 100\r?$
// test-expect: ^debug-exit-flush: line 100 of 100\r?$
// test-expect: ^debug-exit-flush: the last words before the exit\r?$
// test-expect: ^berth: debug exit 16 requested by thread \d+\r?$
#include "tap.h"
#include <libipc/libipc.h>

int main(void)
{
	tap_plan(1);
	/* the driver has announced itself: from here the log waits for it */
	clock_nap(50);
	for (int i = 1; i <= 100; i++)
		debug_printf("debug-exit-flush: line %d of 100\n", i);
	debug_printf("debug-exit-flush: the last words before the exit\n");
	tap_ok(1, "100 lines and the last words printed; the exit follows at once");
	tap_done();
}
