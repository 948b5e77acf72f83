/* A hostile guest under mode=trap (tests/guests/progs/trap_hostile.c):
 * emulated lidt and lgdt given an unmapped and a high-half address, and a
 * page-table entry with reserved bits, each come back to the guest as a
 * page fault; SYSCALLs with Berth's call numbers (debug write, debug
 * exit: calls that need no capability) come back as #UD, never reaching
 * Berth's kernel; a page-table entry pointing outside guest memory stops the
 * VM with a line, its write never made.  The kernel, the shell and init go
 * on (vm list answers; the self-check runs on the kernel's exits).  An
 * instruction the VMM does not emulate (wrmsr) stops its VM with a line;
 * a VMM given a mode it does not have says so and ends. */
// test-root: build/init.elf
// test-module: tests/system/manifests/trap_hostile.manifest
// test-module: build/serial.elf
// test-module: build/shell.elf
// test-module: build/vmm.elf
// test-module: build/tests/guests/progs/trap_hostile.bin
// test-module: build/tests/guests/progs/trap_unknown.bin
// test-exit: none
// test-timeout: 120
// test-selfcheck: 16
//
// test-send: init: 'vm-hostile' exited with status 2 => vm list\n
//
// test-expect: trap-hostile-test: started
// test-expect: \[hostile\] ok 1 - lidt from an unmapped address: #PF at 40005000
// test-expect: \[hostile\] ok 2 - lgdt from a high-half address: a fault
// test-expect: \[hostile\] ok 3 - a reserved bit in a PTE: #PF at 40000000
// test-expect: \[hostile\] ok 4 - SYSCALL 2 \(Berth's debug write\): #UD at
// test-expect: \[hostile\] ok 5 - SYSCALL 3 \(Berth's debug exit\): #UD at
// test-expect: \[hostile\] ok 6 - the guest goes on after its faults
// test-expect: \[hostile\] trap-hostile: touching guest-physical 256 MiB
// test-expect: vmm: \[hostile\] guest stopped: guest page 40001000 maps guest-physical 10000000, outside its 2 MiB \(no MMIO in mode=trap\)
// test-expect: init: 'vm-hostile' exited with status 2
// test-expect: ^hostile +crashed +2 MiB
// test-expect: \[unknown\] trap-unknown: wrmsr next
// test-expect: vmm: \[unknown\] guest stopped: #GP at rip [0-9a-f]+: cannot emulate the instruction \(bytes 0f 30 
// test-expect: init: 'vm-unknown' exited with status 2
// test-expect: vmm: \[bogus\] unknown mode=bogus \(svm, ([a-z]+, )*pv\)
// test-expect: init: 'vm-bogus' exited with status 3
// test-reject: the write went through|the kernel printed this|debug exit \d+ requested|went on|not ok|berth: (panic|thread \d+ stopped)
#include <libipc/libipc.h>

int main(const struct bootinfo *bi)
{
	(void)bi;
	debug_printf("trap-hostile-test: started\n");
	return 0;
}
