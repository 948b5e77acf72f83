/* An exception inside the kernel prints a full dump and halts cleanly
 * (here through the panic exit), never a silent triple fault.  The kernel
 * faults on purpose before this root task would run. */
// test-cmdline: selftest=kernel_fault
// test-exit: panic
// test-expect: KERNEL EXCEPTION: page fault in kernel mode
// test-expect: vector 14 \(page fault\) error=2
// test-expect: RIP=ffffffff8[0-9a-f]+ CS=0008
// test-expect: CR2=ffff900000000000
// test-expect: RAX=[0-9a-f]{16} RBX=
// test-expect: KERNEL PANIC: unexpected exception 14
#include "tap.h"

int main(const struct bootinfo *bi)
{
	(void)bi;
	debug_printf("not ok 1 - the kernel did not fault before the root task ran\n");
	tap_done();
}
