/* SYS_DEBUG_EXIT stops the machine, and any thread may make it: so the
 * kernel takes it only in a test boot, whose command line has the word
 * debugexit (tools/qemu.sh --test puts it there).  This boot's command
 * line takes it back (nodebugexit): the call must be refused and the
 * machine go on, which the runner sees and then stops QEMU itself. */
// test-cmdline: nodebugexit
// test-exit: none
// test-timeout: 60
// test-expect: ^ok 1 - SYS_DEBUG_EXIT without debugexit on the command line: E_NO_RIGHTS
// test-expect: ^ok 2 - the machine goes on after it
// test-reject: berth: debug exit
#include "tap.h"

int main(void)
{
	tap_plan(2);
	long err = sys_debug_exit(0);
	tap_eq(err, E_NO_RIGHTS, "SYS_DEBUG_EXIT without debugexit on the command line: E_NO_RIGHTS");
	sys_yield();
	tap_ok(1, "the machine goes on after it");
	for (;;)
		clock_nap(100);
}
