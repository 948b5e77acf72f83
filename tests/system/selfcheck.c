/* The self-check of the test kernel (kernel/selfcheck.c) is really run
 * and stops the machine on a broken invariant: with selftest=selfcheck
 * the kernel puts a capability two levels below its parent on the
 * derivation list before its first exit, and the self-check must panic
 * naming that before this root task runs. */
// test-cmdline: selftest=selfcheck
// test-exit: panic
// test-expect: KERNEL PANIC: selfcheck: a depth out of order on the derivation list
#include "tap.h"

int main(const struct bootinfo *bi)
{
	(void)bi;
	debug_printf("not ok 1 - the self-check let a broken derivation list through\n");
	tap_done();
}
