/*
 * The CPUID the guest sees (docs/vmm.md): the host's, less what we do not
 * offer, plus a hypervisor leaf.
 *   leaf 1: no VMX, no x2APIC, no APIC (the guest uses the 8259), no
 *           monitor/mwait, TSC-deadline off, no XSAVE/OSXSAVE/AVX (the
 *           kernel switches FPU state with FXSAVE); the hypervisor bit set;
 *           EBX bits 16-31 (logical CPUs, APIC id) zero
 *   leaf 7: no AVX2 or AVX-512; leaf 0xd (XSAVE): all zero
 *   leaf 0x40000000: "BerthVMMBrth", highest hypervisor leaf 0x40000001
 *   leaf 0x40000001: eax = the VMM's interface version (1)
 *   leaf 0x80000001: no SVM; leaf 0x8000000a (SVM features): all zero
 *   leaves past the host's highest, and 0x40000002..: all zero
 */
#include "vm.h"

void cpuid_policy(uint32_t leaf, uint32_t sub, uint64_t *a, uint64_t *b, uint64_t *c, uint64_t *d)
{
	uint32_t ra = 0, rb = 0, rc = 0, rd = 0;
	if (leaf >= 0x40000000 && leaf < 0x40000100) {
		if (leaf == 0x40000000) {
			ra = 0x40000001;
			rb = 0x74726542; /* "Bert" */
			rc = 0x4d4d5668; /* "hVMM" */
			rd = 0x68747242; /* "Brth" */
		} else if (leaf == 0x40000001) {
			ra = 1;
		}
	} else {
		uint32_t max;
		__asm__ volatile("cpuid" : "=a"(max), "=b"(rb), "=c"(rc), "=d"(rd) : "a"(leaf & 0x80000000), "c"(0));
		if (leaf <= max)
			__asm__ volatile("cpuid" : "=a"(ra), "=b"(rb), "=c"(rc), "=d"(rd) : "a"(leaf), "c"(sub));
		else
			ra = rb = rc = rd = 0;
		if (leaf == 1) {
			rc &= ~((1u << 5) | (1u << 21) | (1u << 3) | (1u << 24) | (1u << 26) | (1u << 27) | (1u << 28));
			rc |= 1u << 31;
			rd &= ~(1u << 9);
			rb &= 0x0000ffff; /* one logical CPU, APIC id 0 */
		} else if (leaf == 7) {
			rb &= ~((1u << 5) | (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) | (1u << 31));
		} else if (leaf == 0xd) {
			ra = rb = rc = rd = 0;
		} else if (leaf == 0x80000001) {
			rc &= ~(1u << 2);
		} else if (leaf == 0x8000000a) {
			ra = rb = rc = rd = 0;
		}
	}
	*a = ra;
	*b = rb;
	*c = rc;
	*d = rd;
}
