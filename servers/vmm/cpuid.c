/*
 * The CPUID the guest sees (docs/vmm.md): the host's, less what we do not
 * offer, plus a hypervisor leaf.
 * Only what a guest can use is shown: a feature whose CR4 bit the kernel
 * would refuse at VMRUN (LA57, PKE, VMXE, SMXE, CET) or whose MSRs or
 * state we do not provide is hidden.
 *   leaf 1: no VMX, no SMX, no x2APIC; a local APIC in xAPIC mode with
 *           TSC-deadline (lapic.c),
 *           no MCE/MCA (no machine-check MSRs are modelled),
 *           no monitor/mwait, no XSAVE/OSXSAVE/AVX (the
 *           kernel switches FPU state with FXSAVE); the hypervisor bit set;
 *           EBX bits 16-31 (logical CPUs, APIC id) zero
 *   leaf 7: subleaf 0 only, and of it only the features in LEAF7_*
 *           below (no PKU, LA57, CET, AVX2/AVX-512, speculation MSRs);
 *   leaf 0xd (XSAVE): all zero
 *   leaf 0x40000000: "BerthVMMBrth", highest hypervisor leaf 0x40000001
 *   leaf 0x40000001: eax = the VMM's interface version (1)
 *   leaves 0x40000100, 0x40000101: KVM's paravirtual clock interface
 *           (pvclock.h), which is how Linux learns the TSC's rate
 *   leaf 6: ARAT (the local APIC timer never stops)
 *   leaf 0x80000001: no SVM, extended APIC space, MCE, MCA or RDTSCP
 *           (TSC_AUX is not switched); leaf 0x8000000a (SVM features): all zero
 *   leaves past the host's highest, and the other 0x400000xx: all zero
 */
#include "vm.h"

/* Leaf 7, subleaf 0: the features a guest may see.  EBX: FSGSBASE, BMI1,
 * SMEP, BMI2, ERMS, INVPCID, RDSEED, ADX, SMAP, CLFLUSHOPT, CLWB, SHA.
 * ECX: UMIP (not RDPID: it reads TSC_AUX, which nothing switches).  EDX: FSRM. */
#define LEAF7_EBX ((1u << 0) | (1u << 3) | (1u << 7) | (1u << 8) | (1u << 9) | (1u << 10) | \
                   (1u << 18) | (1u << 19) | (1u << 20) | (1u << 23) | (1u << 24) | (1u << 29))
#define LEAF7_ECX (1u << 2)
#define LEAF7_EDX (1u << 4)

static void policy_compute(uint32_t leaf, uint32_t sub, uint64_t *a, uint64_t *b, uint64_t *c, uint64_t *d)
{
	uint32_t ra = 0, rb = 0, rc = 0, rd = 0;
	if (leaf >= 0x40000000 && leaf < 0x40000200) {
		if (leaf == PVCLOCK_CPUID_BASE) {
			ra = PVCLOCK_CPUID_FEATURES;
			rb = 0x4b4d564b; /* "KVMK" */
			rc = 0x564b4d56; /* "VMKV" */
			rd = 0x0000004d; /* "M\0\0\0" */
		} else if (leaf == PVCLOCK_CPUID_FEATURES) {
			ra = PVCLOCK_KVM_FEATURES;
		} else if (leaf == 0x40000000) {
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
			rc &= ~((1u << 5) | (1u << 6) | (1u << 21) | (1u << 3) | (1u << 26) | (1u << 27) | (1u << 28));
			rc |= 1u << 31;
			rd &= ~((1u << 7) | (1u << 14)); /* no MCE, MCA */
			rd |= 1u << 9;                    /* a local APIC (lapic.c) */
			rc |= 1u << 24;                   /* with TSC-deadline mode */
			if (shadow_on())
				rc &= ~(1u << 17);        /* no PCID: shadow.c flushes on every CR3 write */
			rb &= 0x0000ffff; /* one logical CPU, APIC id 0 */
		} else if (leaf == 7) {
			ra = 0;                 /* no subleaves beyond 0 */
			if (sub == 0) {
				rb &= LEAF7_EBX;
				if (shadow_on())
					rb &= ~(1u << 10);   /* no INVPCID either */
				rc &= LEAF7_ECX;
				rd &= LEAF7_EDX;
			} else {
				rb = rc = rd = 0;
			}
		} else if (leaf == 0xd) {
			ra = rb = rc = rd = 0;
		} else if (leaf == 6) {
			ra |= 1u << 2;          /* ARAT: the APIC timer runs in every idle state */
		} else if (leaf == 0x80000001) {
			rc &= ~((1u << 2) | (1u << 3)); /* no SVM, no extended APIC registers */
			rd &= ~((1u << 7) | (1u << 14) | (1u << 27)); /* no MCE, MCA, RDTSCP */
		} else if (leaf == 0x8000000a) {
			ra = rb = rc = rd = 0;
		}
	}
	*a = ra;
	*b = rb;
	*c = rc;
	*d = rd;
}

/* The answers to the leaves that have no subleaves, kept once computed
 * (as KVM keeps the table its VMM sets): the policy depends only on the
 * host and on the paging mode, which is fixed before the guest runs, so
 * a kept answer is the one policy_compute would give again.  A CPUID exit
 * then skips the host's CPUID instructions and the leaf's filtering.
 * Leaves 0..31 and 0x80000000..0x8000001f; those with subleaves (their
 * bits below) are computed every time. */
#define BASIC_SUBLEAF_LEAVES ((1u << 4) | (1u << 7) | (1u << 0xb) | (1u << 0xd) | (1u << 0xf) | \
                              (1u << 0x10) | (1u << 0x12) | (1u << 0x14) | (1u << 0x17) | (1u << 0x18) | \
                              (1u << 0x1b) | (1u << 0x1d) | (1u << 0x1e) | (1u << 0x1f))
#define EXT_SUBLEAF_LEAVES (1u << 0x1d)

static struct cpuid_answer kept[2][32];
static uint32_t known[2];   /* bit i: kept[range][i] holds leaf i's answer */

static __attribute__((noinline)) const struct cpuid_answer *policy_and_keep(uint32_t leaf, uint32_t sub)
{
	static struct cpuid_answer once;   /* a leaf not kept: good until the next call */
	unsigned range = leaf >> 31, index = leaf & 0x7fffffffu;
	uint32_t subleaf_leaves = range ? EXT_SUBLEAF_LEAVES : BASIC_SUBLEAF_LEAVES;
	int keep = index < 32 && !((subleaf_leaves >> index) & 1);
	struct cpuid_answer *r = keep ? &kept[range][index] : &once;
	policy_compute(leaf, keep ? 0 : sub, &r->a, &r->b, &r->c, &r->d);
	if (keep)
		known[range] |= 1u << index;
	return r;
}

const struct cpuid_answer *cpuid_policy(uint32_t leaf, uint32_t sub)
{
	unsigned range = leaf >> 31, index = leaf & 0x7fffffffu;
	if (index < 32 && ((known[range] >> index) & 1))
		return &kept[range][index];
	return policy_and_keep(leaf, sub);
}
