/* The teaching guest (guests/teach) under mode=patch: as mode=trap, with
 * the guest's pushf and popf replaced by int3 before its code first runs
 * (servers/vmm/patch.c), so that they fault too and are emulated with the
 * guest's IF.  Both phases must hold: the counter exact, no interrupt in a
 * critical section, pushf truthful. */
// test-root: build/init.elf
// test-module: tests/system/manifests/teach_patch.manifest
// test-module: build/serial.elf
// test-module: build/shell.elf
// test-module: build/vmm.elf
// test-module: build/guests/teach/teach.bin
// test-module: build/guests/teach/teach_pv.bin
// test-exit: none
// test-timeout: 150
// the self-check on every 64th kernel exit, as teach_trap.c
// test-selfcheck: 64
//
// test-send: berth> => vm start teach mode=patch\n
//
// test-expect: teach-patch: started
// test-expect: init: starting 'vm-teach' by request \(mem=2 name=teach mode=patch\)
// test-expect: mode=patch: the guest kernel runs in ring 3
// the guest single-steps one operation of each phase and counts its own instructions
// test-expect: \[teach\] teach: phase 1 \(cli/sti\): [1-9]\d* guest instructions per operation \(single-stepped\)
// test-expect: \[teach\] teach: phase 2 \(irqsave\): [1-9]\d* guest instructions per operation \(single-stepped\)
// test-expect: \[teach\] teach: phase 1 \(cli/sti\): [1-9]\d* operations in \d+ ticks
// test-expect: \[teach\] teach: phase 1 \(cli/sti\): invariant held
// test-expect: \[teach\] teach: phase 2 \(irqsave\): [1-9]\d* operations in \d+ ticks
// test-expect: \[teach\] teach: phase 2 \(irqsave\): invariant held
// test-expect: \[teach\] teach: \d+ timer ticks in all; result: every invariant held
// test-expect: guest exited with status 0
// each phase between two marks: the VMM's count of faults at each, the phase's own positive
// test-expect: vmm: \[teach\] mark 1: .* faults=\d+\r?$
// test-expect: vmm: \[teach\] mark 2: .* faults=\d+ \(\+[1-9]\d* since mark 1\)
// test-expect: vmm: \[teach\] mark 3: .* faults=\d+ \(\+\d+ since mark 2\)
// test-expect: vmm: \[teach\] mark 4: .* faults=\d+ \(\+[1-9]\d* since mark 3\)
// test-expect: mode=patch: [1-9]\d* faults, [1-9]\d* emulated, [1-9]\d* interrupts, [1-9]\d* shadow fills, [1-9]\d* shadow flushes, \d+ reflected, [1-9]\d* pushf/popf emulated, [1-9]\d* instructions patched
// test-reject: BROKEN|updates lost|believed off|pushf showed|ticks came|private page|exception|cannot emulate|guest stopped
#include <libipc/libipc.h>

int main(const struct bootinfo *bi)
{
	(void)bi;
	debug_printf("teach-patch: started\n");
	return 0;
}
