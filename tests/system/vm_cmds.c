/* The shell's vm commands (docs/vmm.md, "Managing VMs from the shell"),
 * typed over the serial line by the test runner, their output checked:
 * list, stats, a console session that shows the output kept while nobody
 * was attached and takes input, Ctrl-] (\x1d) back to the shell, a VM
 * that ends while attached, stop, start with other memory, restart, a
 * crashed VM, and the one-line errors.  init runs the console driver, the
 * shell, four VMMs and this program, which only says it started. */
// test-root: build/init.elf
// test-module: tests/system/manifests/vm_cmds.manifest
// test-module: build/serial.elf
// test-module: build/shell.elf
// test-module: build/vmm.elf
// test-module: build/tests/guests/progs/ticker.bin
// test-module: build/tests/guests/serial_input.bin
// test-module: build/tests/guests/progs/hello.bin
// test-module: build/tests/guests/triple_fault.bin
// test-exit: none
// test-timeout: 180
// test-selfcheck: 16
//
// test-send: berth> => help\n
// test-send: berth> => vm list\n
// test-send: berth> => vm console tick\n
// test-send: connected to 'tick'[^\n]*\n(\[[^\n]*\n)?[\s\S]*?^tick 2\r?$ => \x1d
// test-send: berth> => vm stats tick\n
// test-send: berth> => vm console reader\n
// test-send: ^serial-input-guest: type a line => hello guest\n
// test-send: ended while attached[^\n]*\n[\s\S]*?berth> => vm list\n
// test-send: berth> => vm start reader mem=abc\n
// test-send: berth> => vm start reader mem=0\n
// test-send: berth> => vm start reader frob=1\n
// test-send: berth> => vm start reader mem=64\n
// test-send: berth> => vm start nothing\n
// test-send: berth> => vm start\n
// test-send: berth> => vm frob\n
// test-send: berth> => vm list extra\n
// test-send: berth> => vm stop reader\n
// test-send: berth> => vm console hello\n
// test-send: berth> => vm stats\n
// test-send: berth> => vm start tick\n
// test-send: berth> => vm start reader mem=3\n
// test-send: berth> => vm console reader\n
// test-send: ^serial-input-guest: type a line => hi\x1d
// test-send: berth> => vm restart reader\n
// test-send: berth> => vm list\n
// test-send: berth> => vm console reader\n
// test-send: ^serial-input-guest: type a line => hello guest\n
// test-send: ended while attached[^\n]*\n[\s\S]*?berth> => vm stop tick\n
// test-send: berth> => vm stats tick\n
// test-send: berth> => vm list\n
// test-send: berth> => vm start crash\n
// test-send: berth> => vm start tick\n
// test-send: berth> => vm console tick\n
// test-send: connected to 'tick'[^\n]*\n[\s\S]*?^tick 1\r?$ => \x1decho back at the prompt\n
//
// test-expect: vm-cmds: started
// test-expect: vm console NAME +the guest's serial console; Ctrl-\] returns here
// test-expect: ^NAME +STATE +MEMORY +UPTIME +EXITS
// test-expect: ^tick +(running|halted) +2 MiB +\d+\.\ds +\d+\r?$
// test-expect: ^tick: \d+ exits in \d+\.\ds of uptime
// test-expect: ^hlt +0x78 +\d+ +[\d.]+ [mu]?s +[\d.]+ us
// test-expect: ^ioio +0x7b +\d+
// test-expect: ^total +\d+ +[\d.]+ [mu]?s
// guest output kept while nobody was attached, shown on attach, without [NAME]
// test-expect: vm: connected to 'tick'; Ctrl-\] returns to the shell\r?\n(?:(?!tick )[^\n]*\n)*tick 0\r?$
// test-expect: ^vm: left the console of 'tick'
// test-expect: connected to 'reader'[^\n]*\n[\s\S]*?^serial-input-guest: type a line
// test-expect: ^serial-input-guest: got 'hello guest'
// test-expect: ^vm: 'reader' ended while attached \(stopped: the guest powered off \(status 0\)\)
// test-expect: ^reader +stopped +2 MiB +- +-
// test-expect: ^hello +stopped +2 MiB +- +-
// test-expect: ^crash +crashed +2 MiB +- +-
// test-expect: ^vm start: mem= takes a size in MiB, not 'abc'
// test-expect: ^vm start: mem= must be at least 1 MiB
// test-expect: ^vm start: unknown option 'frob=1' \(mem=MiB, mode=svm\|shadow\|trap\|patch\|pv, disk=/PATH, kernel=/PATH, initrd=/PATH, balloon, cmdline=\.\.\.\)
// test-expect: ^vm start: mem=64 does not fit in the VM's memory of 8 MiB
// test-expect: ^vm start: no VM named 'nothing' \(see vm list\)
// test-expect: ^vm start: missing NAME; usage: vm start NAME \[mem=MiB\] \[mode=svm\|shadow\|trap\|patch\|pv\] \[disk=/PATH\] \[kernel=/PATH\] \[initrd=/PATH\] \[balloon\] \[cmdline=\.\.\.\]\r?$
// test-expect: ^vm: unknown subcommand 'frob'; usage: vm list\|start\|stop
// test-expect: ^vm list: unexpected 'extra'; usage: vm list\r?$
// test-expect: ^vm stop: 'reader' is not running
// test-expect: ^vm console: 'hello' is not running
// test-expect: ^vm stats: missing NAME; usage: vm stats NAME\r?$
// test-expect: ^vm start: 'tick' is already running
// test-expect: init: starting 'vm-reader' by request \(mem=3 name=reader console=buffer\)
// test-expect: ^vm: started 'reader'
// test-expect: ^vm: left the console of 'reader'
// test-expect: init: 'vm-reader' restarted by request
// test-expect: ^vm: restarted 'reader'
// test-expect: ^reader +running +3 MiB
// a fresh guest: the "hi" typed into the old one is gone with it
// test-expect: restarted 'reader'[\s\S]*^serial-input-guest: got 'hello guest'
// test-expect: init: 'vm-tick' stopped by request; not restarting it
// test-expect: ^vm: stopped 'tick'
// test-expect: ^vm stats: 'tick' is not running
// test-expect: ^tick +stopped +2 MiB +- +-
// test-expect: ^(vm start: 'crash' did not start: crashed: its VMM exited with status 2|vm: started 'crash')
// test-expect: ^vm: started 'tick'
// a fresh buffer: the new guest's output from its start
// test-expect: started 'tick'[\s\S]*connected to 'tick'[^\n]*\n(?:(?!tick )[^\n]*\n)*tick 0\r?$
// the bytes after Ctrl-] are the shell's again
// test-expect: ^vm: left the console of 'tick'[\s\S]*^(berth> )?back at the prompt\r?$
// a guest's output never reached the console marked [NAME] (console=buffer)
// test-expect: \A(?![\s\S]*\[(tick|reader|hello|crash)\] )
#include <libipc/libipc.h>

int main(const struct bootinfo *bi)
{
	(void)bi;
	debug_printf("vm-cmds: started\n");
	return 0;
}
