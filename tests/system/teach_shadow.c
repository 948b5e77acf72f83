/* The teaching guest (guests/teach) under mode=shadow: started from the
 * shell with `vm start teach mode=shadow`, it runs with the hardware's
 * virtualization but nested paging off, so its three address spaces live
 * in the VMM's shadow page tables: each first touch of a page is a shadow
 * fault the VMM fills, each of its CR3 writes on a task switch a flush.
 * cli, sti, pushf and popf stay in the hardware, so every invariant must
 * hold as under mode=svm, and the VMM's end-of-run line must show the
 * fills and the CR3 writes.  init runs the console driver, the shell, the
 * VM (manual: only vm start starts it) and this program, which only says it
 * started. */
// test-root: build/init.elf
// test-module: tests/system/manifests/teach_shadow.manifest
// test-module: build/serial.elf
// test-module: build/shell.elf
// test-module: build/vmm.elf
// test-module: build/guests/teach/teach.bin
// test-exit: none
// test-timeout: 150
// the self-check on every 64th kernel exit, as teach_trap.c: every exit
// would check every capability on each of the guest's shadow faults
// test-selfcheck: 64
//
// test-send: berth> => vm start teach mode=shadow\n
//
// test-expect: teach-shadow: started
// test-expect: init: starting 'vm-teach' by request \(mem=2 name=teach mode=shadow\)
// test-expect: vmm: \[teach\] shadow paging: nested paging off, 1 shadow of \d+ KiB
// test-expect: ^vm: started 'teach'
// test-expect: \[teach\] teach: Berth's teaching guest: 2 worker tasks in their own address spaces, timer at 100 Hz
// the guest single-steps one operation of each phase and counts its own instructions
// test-expect: \[teach\] teach: phase 1 \(cli/sti\): [1-9]\d* guest instructions per operation \(single-stepped\)
// test-expect: \[teach\] teach: phase 2 \(irqsave\): [1-9]\d* guest instructions per operation \(single-stepped\)
// test-expect: \[teach\] teach: phase 1 \(cli/sti\): [1-9]\d* operations in \d+ ticks, \d+ TSC cycles per operation
// test-expect: \[teach\] teach: phase 1 \(cli/sti\): invariant held
// test-expect: \[teach\] teach: phase 2 \(irqsave\): [1-9]\d* operations in \d+ ticks, \d+ TSC cycles per operation
// test-expect: \[teach\] teach: phase 2 \(irqsave\): invariant held
// test-expect: \[teach\] teach: \d+ timer ticks in all; result: every invariant held
// test-expect: guest exited with status 0
// each phase between two marks: the VMM's count of exits at each, the phase's own positive
// test-expect: vmm: \[teach\] mark 1: .* exits=\d+\r?$
// test-expect: vmm: \[teach\] mark 2: .* exits=\d+ \(\+[1-9]\d* since mark 1\)
// test-expect: vmm: \[teach\] mark 3: .* exits=\d+ \(\+\d+ since mark 2\)
// test-expect: vmm: \[teach\] mark 4: .* exits=\d+ \(\+[1-9]\d* since mark 3\)
// test-expect: vmm: \[teach\] shadow paging: [1-9]\d* faults filled, 0 reflected, 0 MMIO, [1-9]\d* flushes, \d+ of the lower half only \([1-9]\d* CR3 writes
// no phase reported a broken part; no guest page fault reached the guest
// test-reject: BROKEN|updates lost|believed off|pushf showed|ticks came|private page|exception|cannot emulate|guest stopped
#include <libipc/libipc.h>

int main(const struct bootinfo *bi)
{
	(void)bi;
	debug_printf("teach-shadow: started\n");
	return 0;
}
