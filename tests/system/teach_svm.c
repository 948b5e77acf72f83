/* The teaching guest (guests/teach) under mode=svm: started from the shell
 * with `vm start teach mode=svm`, it runs both phases of its workload and reports
 * on its console; with hardware virtualization every invariant must hold:
 * the shared counter exact, no timer interrupt inside a critical section,
 * pushf truthful, each task's private page its own.  init runs the console
 * driver, the shell, the VM (manual: only vm start starts it) and this
 * program, which only says it started. */
// test-root: build/init.elf
// test-module: tests/system/manifests/teach_svm.manifest
// test-module: build/serial.elf
// test-module: build/shell.elf
// test-module: build/vmm.elf
// test-module: build/guests/teach/teach.bin
// test-module: build/guests/teach/teach_pv.bin
// test-exit: none
// test-timeout: 120
//
// test-send: berth> => vm start teach mode=svm\n
//
// test-expect: teach-svm: started
// test-expect: init: starting 'vm-teach' by request \(mem=2 name=teach mode=svm\)
// test-expect: ^vm: started 'teach'
// test-expect: \[teach\] teach: Berth's teaching guest: 2 worker tasks in their own address spaces, timer at 100 Hz
// test-expect: \[teach\] teach: \d+ TSC cycles per timer tick
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
// no phase reported a broken part
// test-reject: BROKEN|updates lost|believed off|pushf showed|ticks came|private page|exception
#include <libipc/libipc.h>

int main(const struct bootinfo *bi)
{
	(void)bi;
	debug_printf("teach-svm: started\n");
	return 0;
}
