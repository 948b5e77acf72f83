/* The teaching guest (guests/teach) under mode=trap: no hardware
 * virtualization, the guest kernel a ring-3 thread whose privileged
 * instructions fault to the VMM and are emulated.  It must boot, load its
 * tables, take timer interrupts and switch tasks and address spaces
 * (shadow paging) as under SVM, and phase 1 (cli/sti, which trap) must
 * hold.  Phase 2 must break, as the seed notes say: pushf in ring 3 shows
 * the real IF and popf ignores the IF it is given, without a fault, so the
 * VMM is never told and the guest's critical section is not one. */
// test-root: build/init.elf
// test-module: tests/system/manifests/teach_trap.manifest
// test-module: build/serial.elf
// test-module: build/shell.elf
// test-module: build/vmm.elf
// test-module: build/guests/teach/teach.bin
// test-module: build/guests/teach/teach_pv.bin
// test-exit: none
// test-timeout: 150
// the self-check on every 64th kernel exit: every exit would check a thousand
// capabilities (guest frames and shadow copies) on each of the guest's faults
// test-selfcheck: 64
//
// test-send: berth> => vm start teach mode=frob\n
// test-send: berth> => vm start teach mode=trap\n
//
// test-expect: teach-trap: started
// test-expect: ^vm start: mode= is svm, shadow, trap, patch or pv, not 'frob'
// test-expect: init: starting 'vm-teach' by request \(mem=2 name=teach mode=trap\)
// test-expect: mode=trap: the guest kernel runs in ring 3
// test-expect: \[teach\] teach: Berth's teaching guest: 2 worker tasks
// the guest single-steps one operation of each phase and counts its own instructions
// test-expect: \[teach\] teach: phase 1 \(cli/sti\): [1-9]\d* guest instructions per operation \(single-stepped\)
// test-expect: \[teach\] teach: phase 2 \(irqsave\): [1-9]\d* guest instructions per operation \(single-stepped\)
// test-expect: \[teach\] teach: phase 1 \(cli/sti\): [1-9]\d* operations in \d+ ticks
// test-expect: \[teach\] teach: phase 1 \(cli/sti\): invariant held
// test-expect: \[teach\] teach: phase 1 \(cli/sti\): pushf showed IF set after cli [1-9]\d* times
// test-expect: \[teach\] teach: phase 2 \(irqsave\): [1-9]\d* timer interrupts while interrupts were believed off
// test-expect: \[teach\] teach: phase 2 \(irqsave\): pushf showed IF set after cli [1-9]\d* times
// test-expect: \[teach\] teach: phase 2 \(irqsave\): invariant BROKEN
// test-expect: \[teach\] teach: \d+ timer ticks in all; result: an invariant was BROKEN
// test-expect: guest exited with status 3
// each phase between two marks: the VMM's count of faults at each, the phase's own positive
// test-expect: vmm: \[teach\] mark 1: .* faults=\d+\r?$
// test-expect: vmm: \[teach\] mark 2: .* faults=\d+ \(\+[1-9]\d* since mark 1\)
// test-expect: vmm: \[teach\] mark 3: .* faults=\d+ \(\+\d+ since mark 2\)
// test-expect: vmm: \[teach\] mark 4: .* faults=\d+ \(\+[1-9]\d* since mark 3\)
// test-expect: mode=trap: [1-9]\d* faults, [1-9]\d* emulated, [1-9]\d* interrupts, [1-9]\d* shadow fills, [1-9]\d* shadow flushes, \d+ reflected, 0 pushf/popf emulated
// test-reject: exception|cannot emulate|guest stopped
#include <libipc/libipc.h>

int main(const struct bootinfo *bi)
{
	(void)bi;
	debug_printf("teach-trap: started\n");
	return 0;
}
