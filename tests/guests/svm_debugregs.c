/* Debug registers under the VMM: every MOV to DR0-DR3 and DR7 exits (the
 * kernel forces those intercepts, docs/vmm.md flaw 3), the VMM decodes it
 * and the kernel loads the values, so the guest reads back what it wrote;
 * a breakpoint the guest enables on its own code does not reach the host,
 * and DR7's reserved bits read as the hardware fixes them. */
#include "guest.h"

#define SET_DR(n, v) __asm__ volatile("mov %0, %%dr" #n :: "r"((uint64_t)(v)))
#define GET_DR(n, v) __asm__ volatile("mov %%dr" #n ", %0" : "=r"(v))

static void target(void) { __asm__ volatile("nop"); }

int main(void)
{
	uint64_t d0, d1, d2, d3, d7;
	plan(4);
	SET_DR(0, 0x1000);
	SET_DR(1, 0xffffffff80000000UL);
	SET_DR(2, (uint64_t)&target);
	SET_DR(3, 0x12345678);
	GET_DR(0, d0);
	GET_DR(1, d1);
	GET_DR(2, d2);
	GET_DR(3, d3);
	ok(d0 == 0x1000 && d1 == 0xffffffff80000000UL && d2 == (uint64_t)&target && d3 == 0x12345678,
	   "DR0-DR3 read back what the guest wrote (%lx %lx %lx %lx)", d0, d1, d2, d3);
	SET_DR(7, 0x30);   /* DR2: an instruction breakpoint, local and global */
	GET_DR(7, d7);
	ok(d7 == 0x430, "DR7 reads back with bit 10 set (%lx)", d7);
	target();          /* no #DB handler: a fired breakpoint would triple-fault */
	ok(1, "the guest's own breakpoint did not fire under QEMU (the host's either)");
	/* DR5 is DR7 while CR4.DE is clear */
	__asm__ volatile("mov %0, %%dr5" :: "r"((uint64_t)0));
	GET_DR(7, d7);
	ok(d7 == 0x400, "a MOV to DR5 writes DR7 (%lx)", d7);
	return 0;
}
