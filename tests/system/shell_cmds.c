/* The shell's commands, typed over the serial line by the test runner,
 * with their output checked.  init runs the console driver, the shell and
 * this program, which only says it started. */
// test-root: build/init.elf
// test-module: tests/system/manifests/shell.manifest
// test-module: build/serial.elf
// test-module: build/shell.elf
// test-exit: none
// test-timeout: 90
// test-send: berth> => help\n
// test-send: berth> => echo hello from the test\n
// test-send: berth> => ps\n
// test-send: berth> => mem\n
// test-send: berth> => frobnicate\n
// test-send: berth> => kill\n
// test-send: berth> => kill nothing\n
// test-send: berth> => kill serial\n
// test-send: berth> => echo still here\n
// test-send: berth> => ps\n
// test-expect: Berth shell\. Type help for the commands\.
// test-expect: kill TASK +destroy a task
// test-expect: ^hello from the test\r?$
// test-expect: ^serial +(receiving|running) +1 +0 +64K
// test-expect: ^shell +(receiving|running|waiting-reply|calling) +1 +0
// test-expect: ^memory: \d+ KiB total, \d+ KiB free, \d+ KiB used
// test-expect: frobnicate: unknown command \(try help\)
// test-expect: kill: which task\? \(see ps\)
// test-expect: kill: no running task 'nothing'
// test-expect: init: 'serial' was killed; restarting it
// test-expect: ^killed serial
// test-expect: ^still here\r?$
// test-expect: ^serial +(receiving|running) +1 +1 +64K
// test-expect: shell-cmds: started
#include <libipc/libipc.h>

int main(const struct bootinfo *bi)
{
	(void)bi;
	debug_printf("shell-cmds: started\n");
	return 0;
}
