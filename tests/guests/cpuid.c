/* CPUID under Berth's VMM: the policy in docs/vmm.md. */
#include "guest.h"

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

int main(void)
{
	uint32_t r[4];
	plan(6);
	cpuid(0x40000000, r);
	ok(r[0] == 0x40000001 && r[1] == 0x74726542 && r[2] == 0x4d4d5668 && r[3] == 0x68747242,
	   "leaf 0x40000000 names the hypervisor (BerthVMMBrth)");
	cpuid(0x40000001, r);
	ok(r[0] == 1, "the hypervisor interface version is 1");
	cpuid(1, r);
	ok(r[2] & (1u << 31), "leaf 1 sets the hypervisor bit");
	ok(!(r[2] & (1u << 21)) && (r[3] & (1u << 9)) && (r[2] & (1u << 24)),
	   "a local APIC with TSC-deadline, no x2APIC");
	cpuid(0x80000001, r);
	ok(!(r[2] & (1u << 2)), "no SVM for the guest");
	cpuid(0, r);
	ok(r[0] >= 1, "leaf 0 reports a highest leaf (%u)", r[0]);
	return 0;
}
