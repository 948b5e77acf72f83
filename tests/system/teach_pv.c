/* The teaching guest (guests/teach) built paravirtualized (teach_pv.bin)
 * under mode=pv: a ring-3 thread, as under mode=trap, that asks the VMM by
 * hypercall for what ring 3 may not do, with its interrupt flag a byte in
 * a page shared with the VMM (servers/vmm/pv_abi.h).  Both phases must
 * hold, pushf must never show IF set after cli (it reads the shared
 * mask), and the VMM's counters must show the cost is small: a few
 * hundred hypercalls where mode=trap takes over ten thousand faults, page
 * tables changed by batches, every timer tick an upcall, the console a
 * ring drained by events, and no shadow to flush. */
// test-root: build/init.elf
// test-module: tests/system/manifests/teach_pv.manifest
// test-module: build/serial.elf
// test-module: build/shell.elf
// test-module: build/vmm.elf
// test-module: build/guests/teach/teach.bin
// test-module: build/guests/teach/teach_pv.bin
// test-exit: none
// test-timeout: 150
// test-selfcheck: 64
//
// test-send: berth> => vm start teach mode=pv\n
// test-send: init: 'vm-teach' exited with status 0 => vm list\n
//
// test-expect: teach-pv: started
// test-expect: init: starting 'vm-teach' by request \(mem=2 name=teach mode=pv\)
// test-expect: guest '[^']*teach_pv.bin' \(\d+ bytes\) in 2 MiB, mode=pv: a paravirtualized guest kernel in ring 3
// test-expect: \[teach\] teach: Berth's teaching guest: 2 worker tasks
// test-expect: \[teach\] teach: built paravirtualized \(mode: pv\)
// the guest single-steps one operation of each phase and counts its own instructions
// test-expect: \[teach\] teach: phase 1 \(cli/sti\): [1-9]\d* guest instructions per operation \(single-stepped\)
// test-expect: \[teach\] teach: phase 2 \(irqsave\): [1-9]\d* guest instructions per operation \(single-stepped\)
// test-expect: \[teach\] teach: phase 1 \(cli/sti\): [1-9]\d* operations in \d+ ticks
// test-expect: \[teach\] teach: phase 1 \(cli/sti\): invariant held
// test-expect: \[teach\] teach: phase 2 \(irqsave\): [1-9]\d* operations in \d+ ticks
// test-expect: \[teach\] teach: phase 2 \(irqsave\): invariant held
// test-expect: \[teach\] teach: \d+ timer ticks in all; result: every invariant held
// test-expect: guest exited with status 0
// each phase between two marks: the VMM's count of hypercalls at each, the phase's own positive
// test-expect: vmm: \[teach\] mark 1: .* hypercalls=\d+\r?$
// test-expect: vmm: \[teach\] mark 2: .* hypercalls=\d+ \(\+[1-9]\d* since mark 1\)
// test-expect: vmm: \[teach\] mark 3: .* hypercalls=\d+ \(\+\d+ since mark 2\)
// test-expect: vmm: \[teach\] mark 4: .* hypercalls=\d+ \(\+[1-9]\d* since mark 3\)
// test-expect: mode=pv: [1-9]\d{1,3} hypercalls \([1-9]\d* mmu_update, [1-9]\d* mmuext, \d+ event_check, [1-9]\d* event_send, [1-9]\d* block, [1-9]\d* iret, \d+ other\), 0 refused, [1-9]\d\d+ page-table updates in [1-9]\d* batches, [1-9]\d* address-space switches, 4 address spaces kept in step, [1-9]\d\d+ upcalls, [1-9]\d* exceptions, [1-9]\d\d+ console bytes in [1-9]\d* events
// test-expect: init: 'vm-teach' exited with status 0
// test-expect: ^teach +stopped
// test-reject: teach: exception|cannot emulate|guest stopped|pushf showed IF|invariant BROKEN|berth: (panic|thread \d+ stopped)
#include <libipc/libipc.h>

int main(const struct bootinfo *bi)
{
	(void)bi;
	debug_printf("teach-pv: started\n");
	return 0;
}
