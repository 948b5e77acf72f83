/* An instruction mode=trap does not emulate (tests/system/trap_hostile.c):
 * wrmsr faults in ring 3 and the VMM has no MSRs for this mode, so the VM
 * must stop with a line naming the bytes, and nothing else happen. */
#include "guest.h"

int main(void)
{
	gprintf("trap-unknown: wrmsr next\n");
	__asm__ volatile("wrmsr" :: "c"(0xc0000080u), "a"(0), "d"(0));
	gprintf("trap-unknown: went on\n");
	return 1;
}
