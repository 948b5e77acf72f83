/*
 * A paravirtual clock in KVM's format (pvclock.c), so that a Linux guest
 * learns the TSC's rate from the VMM instead of measuring it.
 *
 * Why: Linux on an AMD-vendor CPU takes the processor's rate from a quick
 * calibration against the 8254, which needs port reads a few microseconds
 * apart; under QEMU's emulated SVM every exit costs tens of microseconds,
 * so that calibration always fails (docs/vmm.md, "The TSC's rate").  A
 * hypervisor that knows the rate tells it through a paravirtual clock;
 * Linux trusts KVM's (kvmclock) for calibrate_cpu and calibrate_tsc, so the
 * VMM offers that interface, documented by Linux in
 * Documentation/virt/kvm/x86/{cpuid,msr}.rst.  It is an interface, not a
 * claim to be KVM: Berth's own signature stays at CPUID 0x40000000 and
 * KVM's sits at 0x40000100, where Linux looks for it next (as KVM itself
 * puts it when it shows Hyper-V's interface first).
 *
 * How the VMM uses it (exits.c, cpuid.c):
 *  - CPUID 0x40000100: the signature "KVMKVMKVM\0\0\0", highest leaf
 *    0x40000101; 0x40000101: eax = PVCLOCK_KVM_FEATURES, the rest 0.
 *  - WRMSR MSR_KVM_SYSTEM_TIME_NEW (value = guest-physical address | 1 to
 *    enable): the VMM writes a time record there with pvclock_time_info();
 *    the TSC is steady and the VCPU single, so it never needs rewriting.
 *  - WRMSR MSR_KVM_WALL_CLOCK_NEW (value = guest-physical address): the VMM
 *    writes the date at which the clock read zero with pvclock_wall_clock().
 *  - Both MSRs read back what was written; a reset clears them.
 */
#ifndef VMM_PVCLOCK_H
#define VMM_PVCLOCK_H

#include <stdint.h>

#define PVCLOCK_CPUID_BASE      0x40000100u
#define PVCLOCK_CPUID_FEATURES  0x40000101u
#define MSR_KVM_WALL_CLOCK_NEW  0x4b564d00u
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01u

/* The features shown: NOP_IO_DELAY (bit 1: port 0x80 delays are not
 * needed, which saves an exit each), CLOCKSOURCE2 (bit 3: the MSRs
 * above), CLOCKSOURCE_STABLE_BIT (bit 24: the record's stable flag means
 * what it says).  Nothing else: no async page faults, steal time, PV EOI
 * or PV spinlocks, whose MSRs the VMM does not answer. */
#define PVCLOCK_KVM_FEATURES ((1u << 1) | (1u << 3) | (1u << 24))

#define PVCLOCK_TIME_INFO_SIZE  32
#define PVCLOCK_WALL_CLOCK_SIZE 12
#define PVCLOCK_FLAG_TSC_STABLE 0x01

/* ns = ((cycles shifted left by shift, or right if negative) * mul) >> 32 */
struct pvclock_scale {
	uint32_t mul;
	int8_t shift;
};

struct pvclock {
	uint64_t system_time_msr, wall_clock_msr;
	uint32_t version;           /* of the time record: even, +2 per write */
};

void pvclock_init(struct pvclock *pc);
struct pvclock_scale pvclock_scale(uint64_t tsc_hz);
uint64_t pvclock_scale_delta(struct pvclock_scale s, uint64_t cycles);
/* The 32-byte record: at TSC value tsc the clock read system_ns. */
void pvclock_time_info(uint8_t out[PVCLOCK_TIME_INFO_SIZE], uint32_t version, uint64_t tsc,
                       uint64_t system_ns, struct pvclock_scale s, uint8_t flags);
/* The 12-byte record: the date (ns since 1970) at which the clock read 0. */
void pvclock_wall_clock(uint8_t out[PVCLOCK_WALL_CLOCK_SIZE], uint32_t version, uint64_t unix_ns_at_zero);

#endif
