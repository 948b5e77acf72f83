/* A hostile guest under mode=pv (tests/guests/progs/pv_hostile.c): every
 * hypercall of servers/vmm/pv_abi.h forged: mmu_update entries outside
 * guest memory, in a page that is no page table, naming memory outside
 * the guest, with reserved bits, mapping a page table writable, in the
 * hypervisor's upper half; batches of 2^63 updates, at unmapped and
 * upper-half addresses, and one that stops at its bad second update;
 * pins and base pointers of the wrong pages (the shared page among them); unknown hypercalls; trap
 * tables and callbacks out of range; events for bad ports; marks out of
 * range; garbage in the console ring's indices.  Each comes back as its error code (the guest
 * prints TAP), a direct write to a page table is the guest's own page
 * fault, and an iret to the upper half stops the VM with a line, as Xen
 * kills a domain.  A guest not built for pv faults on its first port
 * access and stops; a VM with no pv image is refused.  The kernel, init
 * and the shell carry on: vm list answers, the self-check runs. */
// test-root: build/init.elf
// test-module: tests/system/manifests/pv_hostile.manifest
// test-module: build/serial.elf
// test-module: build/shell.elf
// test-module: build/vmm.elf
// test-module: build/tests/guests/progs/pv_hostile.bin
// test-module: build/tests/guests/progs/trap_hostile.bin
// test-module: build/tests/guests/progs/trap_unknown.bin
// test-exit: none
// test-timeout: 120
// test-selfcheck: 16
//
// test-send: init: 'vm-pvhostile' exited with status 2 => vm list\n
//
// test-expect: pv-hostile-test: started
// test-expect: \[pvhostile\] pv-hostile: started, start info at 10000
// test-expect: \[pvhostile\] ok 1 - an entry address outside guest memory: PV_E_NOT_RAM \(-4\)
// test-expect: \[pvhostile\] ok 2 - an entry in a page that is no page table: PV_E_NOT_TABLE \(-5\)
// test-expect: \[pvhostile\] ok 3 - a value naming guest-physical 256 MiB: PV_E_NOT_RAM \(-4\)
// test-expect: \[pvhostile\] ok 4 - a reserved bit: PV_E_RESERVED \(-6\)
// test-expect: \[pvhostile\] ok 5 - the top-level table mapped writable: PV_E_WRITABLE_TABLE \(-7\)
// test-expect: \[pvhostile\] ok 6 - an upper-half top-level entry: PV_E_HIGH_HALF \(-12\)
// test-expect: \[pvhostile\] ok 7 - a batch of 2\^63 updates: PV_E_INVAL, none done \(-2\)
// test-expect: \[pvhostile\] ok 8 - a batch at an unmapped address: PV_E_FAULT \(-3\)
// test-expect: \[pvhostile\] ok 9 - a batch in the upper half: PV_E_FAULT \(-3\)
// test-expect: \[pvhostile\] ok 10 - a batch at page 0: PV_E_FAULT \(-3\)
// test-expect: \[pvhostile\] ok 11 - a batch stops at its bad second update: 1 done \(1\)
// test-expect: \[pvhostile\] ok 12 - pinning a page mapped writable: PV_E_BUSY \(-9\)
// test-expect: \[pvhostile\] ok 13 - pinning a table again: PV_E_BUSY \(-9\)
// test-expect: \[pvhostile\] ok 14 - an L1 as the base pointer: PV_E_LEVEL \(-8\)
// test-expect: \[pvhostile\] ok 15 - a base pointer outside memory: PV_E_NOT_TABLE \(-5\)
// test-expect: \[pvhostile\] ok 16 - an unknown mmuext operation: PV_E_NOSYS \(-1\)
// test-expect: \[pvhostile\] ok 17 - the shared page mapped read-only \(0\)
// test-expect: \[pvhostile\] ok 18 - pinning the shared page: PV_E_BUSY \(-9\)
// test-expect: \[pvhostile\] ok 19 - the shared page writable again \(0\)
// test-expect: \[pvhostile\] ok 20 - a trap table with a page-fault handler
// test-expect: \[pvhostile\] ok 21 - a direct write to a page table: #PF, cr2 in the shared page
// test-expect: \[pvhostile\] ok 22 - the entry is unchanged
// test-expect: \[pvhostile\] ok 23 - hypercall 99: PV_E_NOSYS \(-1\)
// test-expect: \[pvhostile\] ok 24 - hypercall 2\^63: PV_E_NOSYS \(-1\)
// test-expect: \[pvhostile\] ok 25 - a trap table of 33 entries: PV_E_INVAL \(-2\)
// test-expect: \[pvhostile\] ok 26 - a trap table at an unmapped address: PV_E_FAULT \(-3\)
// test-expect: \[pvhostile\] ok 27 - a trap for vector 40: PV_E_INVAL \(-2\)
// test-expect: \[pvhostile\] ok 28 - an event callback in the upper half: PV_E_INVAL \(-2\)
// test-expect: \[pvhostile\] ok 29 - a timer at 1000 Hz: PV_E_INVAL \(-2\)
// test-expect: \[pvhostile\] ok 30 - an event on port 0: PV_E_BAD_PORT \(-11\)
// test-expect: \[pvhostile\] ok 31 - an event on unbound port 5: PV_E_BAD_PORT \(-11\)
// test-expect: \[pvhostile\] ok 32 - an event on port 2\^40: PV_E_BAD_PORT \(-11\)
// test-expect: \[pvhostile\] ok 33 - the timer bound to port 64: PV_E_BAD_PORT \(-11\)
// test-expect: \[pvhostile\] ok 34 - the timer bound to the console's port: PV_E_BAD_PORT \(-11\)
// test-expect: \[pvhostile\] ok 35 - virtual IRQ 7: PV_E_INVAL \(-2\)
// test-expect: \[pvhostile\] ok 36 - mark 256: PV_E_INVAL \(-2\)
// test-expect: \[pvhostile\] ok 37 - mark 2\^63: PV_E_INVAL \(-2\)
// test-expect: \[pvhostile\] pv-hostile: a line with a forged consumer index still comes out
// test-expect: vmm: \[pvhostile\] console ring: the guest's index \d+ is \d+ bytes past ours in a ring of 2048: dropped
// test-expect: \[pvhostile\] pv-hostile: and after a forged producer index, this one
// test-expect: \[pvhostile\] ok 38 - the guest goes on after every refusal
// test-expect: \[pvhostile\] pv-hostile: iret to the upper half next
// test-expect: vmm: \[pvhostile\] guest stopped: iret to rip ffff800000000000 rsp 80000: outside the low half a guest lives in
// test-expect: vmm: \[pvhostile\] mode=pv: \d+ hypercalls .*, 3\d refused,
// test-expect: init: 'vm-pvhostile' exited with status 2
// test-expect: ^pvhostile +crashed +2 MiB
// test-expect: vmm: \[notpv\] guest stopped: exception 13 at rip [0-9a-f]+ \(error 0, address 0\) and no handler for it
// test-expect: init: 'vm-notpv' exited with status 2
// test-expect: vmm: \[nopvimage\] mode=pv boots a guest built for it: give a module named \*_pv.bin
// test-expect: init: 'vm-nopvimage' exited with status 3
// test-reject: not ok|the iret went on|berth: (panic|thread \d+ stopped)
#include <libipc/libipc.h>

int main(const struct bootinfo *bi)
{
	(void)bi;
	debug_printf("pv-hostile-test: started\n");
	return 0;
}
