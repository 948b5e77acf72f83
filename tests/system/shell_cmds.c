/* The shell's commands, typed over the serial line by the test runner,
 * with their output checked: help, ps with init and the kernel's idle
 * loop, the task commands (start, stop, restart, kill) on a clock server
 * whose policy allows one restart and on a task that waits for a service,
 * the refusals (init, [idle], the console the shell needs, this shell),
 * words and quotes, usage lines for wrong words, and exit (and kill) of
 * the shell with the new shell init starts.  init runs the console driver, the shell, the two
 * clock tasks and this program, which only says it started. */
// test-root: build/init.elf
// test-module: tests/system/manifests/shell.manifest
// test-module: build/serial.elf
// test-module: build/shell.elf
// test-module: build/rtc.elf
// test-exit: none
// test-timeout: 120
// test-send: berth> => help\n
// test-send: berth> => help ps\n
// test-send: berth> => help start\n
// test-send: berth> => help vm start\n
// test-send: berth> => help frob\n
// test-send: berth> => echo hello from the test\n
// test-send: berth> => ps\n
// test-send: berth> => mem\n
// test-send: berth> => frobnicate\n
// test-send: berth> => kill\n
// test-send: berth> => kill -9 serial\n
// test-send: berth> => kill serial extra\n
// test-send: berth> => kill nothing\n
// test-send: berth> => kill init\n
// test-send: berth> => kill [idle]\n
// test-send: berth> => ps extra\n
// test-send: berth> => echo 'two  spaces' "and \"quotes\"" a\ b\n
// test-send: berth> => echo 'unclosed\n
// test-send: berth> => ps > /ps.txt\n
// test-send: berth> => vm\n
// test-send: berth> => vm frob\n
// test-send: berth> => stop serial\n
// test-send: berth> => stop shell\n
// test-send: berth> => stop rtc\n
// test-send: berth> => ps\n
// test-send: berth> => kill rtc\n
// test-send: berth> => restart rtc\n
// test-send: berth> => start rtc\n
// test-send: berth> => start rtc\n
// test-send: berth> => restart rtc\n
// test-send: berth> => kill rtc\n
// test-send: berth> => kill rtc\n
// test-send: berth> => ps\n
// test-send: berth> => start waiter\n
// test-send: berth> => stop waiter\n
// test-send: berth> => start waiter\n
// test-send: berth> => start\n
// test-send: berth> => restart a b\n
// test-send: berth> => kill serial\n
// test-send: killed 'serial'[^\n]*\n[\s\S]*?berth> => echo still here\n
// test-send: berth> => exit now\n
// test-send: berth> => exit\n
// test-send: this shell ends[\s\S]*Berth shell\. Type help[^\n]*\n[\s\S]*?berth> => ps\n
// test-send: RESTARTS +POLICY[\s\S]*?berth> => kill shell\n
// test-send: was killed; restarting it[\s\S]*Berth shell\. Type help[^\n]*\n[\s\S]*?berth> => echo done\n
// test-expect: Berth shell\. Type help for the commands\.
// test-expect: ^  kill NAME +destroy a task as if it had crashed \(its restart policy decides\)
// test-expect: ^  exit +end this shell; init starts a new one
// test-expect: ^  vm start NAME \[mem=MiB\]
// test-expect: ^  UPTIME +since this instance started
// test-expect: ^  TASK +its name in the manifest; init is the root task; \[idle\] is the kernel's
// test-expect: ^usage: start NAME\r?$
// test-expect: restart policy \(the manifest's restart line, ps's POLICY\)
// test-expect: ^usage: vm start NAME \[mem=MiB\] \[mode=svm\|shadow\|trap\|patch\|pv\] \[disk=/PATH\]
// test-expect: ^help: no command 'frob' \(help lists them\)
// test-expect: ^hello from the test\r?$
// test-expect: ^TASK +STATE +PRIO +MEMORY +UPTIME +RESTARTS +POLICY\r?$
// test-expect: ^\[idle\] +idle \d+% +- +- +[\d.]+s +- +-\r?$
// test-expect: ^init +running +100 +\d+(\.\d)?[KM] +[\d.]+s +- +-\r?$
// test-expect: ^serial +(receiving|running) +150 +64K +[\d.]+s +0 +always\r?$
// test-expect: ^shell +waiting-reply +100 +256K +[\d.]+s +0 +always\r?$
// test-expect: ^rtc +(receiving|running) +140 +64K +[\d.]+s +0 +up to 1\r?$
// test-expect: ^waiter +waiting +90 +64K +- +0 +never\r?$
// test-expect: ^memory: \d+ KiB total, \d+ KiB free, \d+ KiB used
// test-expect: frobnicate: unknown command \(try help\)
// test-expect: ^kill: missing NAME; usage: kill NAME\r?$
// test-expect: ^kill: unknown option '-9' \(kill takes none\); usage: kill NAME\r?$
// test-expect: ^kill: unexpected 'extra'; usage: kill NAME\r?$
// test-expect: ^kill: no task 'nothing' in the manifest \(ps lists them\)
// test-expect: ^kill: init is the root task, which starts and supervises every other; it cannot be killed\r?$
// test-expect: ^kill: \[idle\] is the kernel's idle loop, not a task: there is nothing to kill
// test-expect: ^ps: unexpected 'extra'; usage: ps\r?$
// test-expect: ^two  spaces and "quotes" a b\r?$
// test-expect: ^shell: a ' quote is not closed
// test-expect: ^ps: its output cannot go to a file \(only echo writes files with > and >>\)
// test-expect: ^vm: missing a subcommand; usage: vm list\|start\|stop\|restart\|console\|stats\|snapshot\|restore\|clone\|share\|balloon\|migrate\|receive\|dirty\|net\|fw\|forward \.\.\. \(help vm\)
// test-expect: ^vm: unknown subcommand 'frob'; usage: vm list\|start
// test-expect: ^stop: refused: 'serial' publishes a service this shell's manifest needs \(the console\)
// test-expect: ^stop: 'shell' is this shell; exit ends it
// test-expect: init: 'rtc' stopped by request; not restarting it
// test-expect: ^stopped 'rtc'; init will not restart it until start rtc\r?$
// test-expect: ^rtc +stopped +140 +64K +- +0 +up to 1\r?$
// test-expect: ^kill: 'rtc' is not running \(stopped by stop\)
// test-expect: ^restart: 'rtc' is not running \(stopped by stop\); start rtc starts it
// test-expect: init: starting 'rtc' by request
// test-expect: ^started 'rtc' \(restarts counted from 0\); if it crashes, exits or is killed, its restart policy \(up to 1\) starts it again, 1 more time\r?$
// test-expect: ^start: 'rtc' is already running \(restart rtc starts it afresh\)
// test-expect: init: 'rtc' restarted by request
// test-expect: ^restarted 'rtc' \(a restart by request: its restart count, 0, and its policy are left alone\)
// test-expect: ^killed 'rtc'; its restart policy \(up to 1\) started it again: restart 1 of 1\r?$
// test-expect: init: 'rtc' was killed; its restart policy says no more
// test-expect: ^killed 'rtc'; its restart policy \(up to 1\) is used up, so it stays down: start rtc starts it again
// test-expect: ^rtc +killed +140 +64K +- +1 +up to 1\r?$
// test-expect: ^start: 'waiter' already waits for a service its manifest needs
// test-expect: ^stopped 'waiter': it no longer waits to start; init will not start it until start waiter
// test-expect: ^'waiter' waits for a service its manifest needs; init starts it once that is published
// test-expect: ^start: missing NAME; usage: start NAME\r?$
// test-expect: ^restart: unexpected 'b'; usage: restart NAME\r?$
// test-expect: init: 'serial' was killed; restarting it
// test-expect: ^killed 'serial'; its restart policy \(always\) started it again: restart 1\r?$
// test-expect: ^still here\r?$
// test-expect: ^exit: unexpected 'now'; usage: exit\r?$
// test-expect: ^exit: this shell ends; init starts a new one \(restart policy: always\)
// test-expect: init: 'shell' exited with status 0; restarting it
// test-expect: this shell ends[\s\S]*Berth shell\. Type help for the commands\.
// test-expect: ^shell +waiting-reply +100 +256K +[\d.]+s +1 +always\r?$
// test-expect: ^serial +(receiving|running) +150 +64K +[\d.]+s +1 +always\r?$
// test-expect: ^killing 'shell', this shell; its restart policy starts a new one\r?$
// test-expect: init: 'shell' was killed; restarting it
// test-expect: ^done\r?$
// test-expect: shell-cmds: started
#include <libipc/libipc.h>

int main(const struct bootinfo *bi)
{
	(void)bi;
	debug_printf("shell-cmds: started\n");
	return 0;
}
