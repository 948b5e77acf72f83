/*
 * AMD SVM: guest spaces run by VCPUs.  A VCPU is a thread whose "user
 * mode" is a guest: when the scheduler picks it, kernel_exit enters the
 * guest with VMRUN instead of returning to user code.  Each #VMEXIT the
 * kernel does not handle itself (host interrupts) becomes a call on the
 * VCPU's exit port, made by the kernel on the VCPU's behalf exactly as a
 * fault message is; the VMM's reply carries the registers and an event to
 * inject, and makes the VCPU runnable again.  All policy is in the VMM;
 * the kernel only forces what keeps the host safe.  See docs/vmm.md.
 *
 * A VCPU object (32 KiB): the TCB, the guest registers VMRUN does not
 * keep, the VMCB, the MSR permission map, the I/O permission map, the
 * guest's extended FPU state.
 *
 * State a guest can change that VMRUN and #VMEXIT do not switch is
 * switched here (guest_load, guest_unload): DR0-DR3, XCR0 and the XSAVE
 * components above SSE.  x87 and SSE state is the scheduler's, as for
 * any thread; VMLOAD/VMSAVE in svm_entry.S cover the segment and
 * system-call MSRs.  docs/vmm.md, "The platform's flaws", says why each
 * of these is needed on QEMU 7.2 and what holds on hardware.
 */
#include <berth/errors.h>
#include <berth/ipc.h>
#include <berth/syscall.h>
#include <berth/vcpu.h>
#include "object.h"
#include "layout.h"
#include "vspace.h"
#include "cpu.h"
#include "klib.h"
#include "shadow.h"

struct guest_regs {   /* the order svm_entry.S uses */
	uint64_t rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8_15[8];
};

struct vcpu_state {
	struct guest_regs regs;
	uint64_t tlb_generation;      /* of the last VMRUN */
	uint64_t dr[4];               /* DR0-DR3: VMRUN does not load them */
	uint64_t xcr0;                /* the guest's XCR0 when it last exited */
	/* the guest's CR3 as the VMM sees it (VCPU_CR3): with nested paging
	 * the VMCB's, copied both ways around VMRUN; on a ShadowSpace only
	 * the VMM's to keep, since the VMCB's is the shadow's top table,
	 * which only the kernel sets */
	uint64_t guest_cr3;
	/* the transfer descriptors (VCPU_MTD), and the one of the exit now
	 * waiting for its reply: what the reply writes back */
	uint32_t mtd[VCPU_MTD_SLOTS];
	uint32_t reply_mtd;
};

#define VCPU_STATE_OFFSET 2048
#define VMCB_OFFSET 0x1000
#define MSRPM_OFFSET 0x2000   /* 8 KiB */
#define IOPM_OFFSET 0x4000    /* 12 KiB */
#define XSAVE_OFFSET 0x7000   /* 4 KiB: the guest's XSAVE components above SSE */

/* VMCB offsets (AMD APM vol. 2, appendix B) */
#define C_INTERCEPT_CR 0x000
#define C_INTERCEPT_DR 0x004
#define C_INTERCEPT_EXC 0x008
#define C_INTERCEPT_MISC1 0x00c
#define C_INTERCEPT_MISC2 0x010
#define C_IOPM_BASE 0x040
#define C_MSRPM_BASE 0x048
#define C_TSC_OFFSET 0x050
#define C_ASID 0x058
#define C_TLB_CONTROL 0x05c
#define C_INT_CTL 0x060
#define C_INT_SHADOW 0x068
#define C_EXITCODE 0x070
#define C_EXITINFO1 0x078
#define C_EXITINFO2 0x080
#define C_EXITINTINFO 0x088
#define C_NP_ENABLE 0x090
#define C_EVENTINJ 0x0a8
#define C_N_CR3 0x0b0
#define C_CLEAN 0x0c0
#define S_SEG 0x400
#define S_CPL 0x4cb
#define S_EFER 0x4d0
#define S_CR4 0x548
#define S_CR3 0x550
#define S_CR0 0x558
#define S_DR7 0x560
#define S_DR6 0x568
#define S_RFLAGS 0x570
#define S_RIP 0x578
#define S_RSP 0x5d8
#define S_RAX 0x5f8
#define S_STAR 0x600
#define S_CR2 0x640
#define S_G_PAT 0x668

#define MSR_VM_HSAVE_PA 0xc0010117
#define EFER_SVME (1UL << 12)
#define EFER_NXE (1UL << 11)
/* VMRUN, VMLOAD, VMSAVE, STGI, CLGI and SKINIT keep the guest away from
 * host-physical VMCBs and the global interrupt flag; XSETBV so that on
 * hardware the VMM decides (QEMU 7.2 ignores this intercept: the kernel
 * switches XCR0 anyway) */
#define MISC2_ALWAYS (SVM_MISC2_VMRUN | SVM_MISC2_VMLOAD | SVM_MISC2_VMSAVE | SVM_MISC2_STGI | \
                      SVM_MISC2_CLGI | SVM_MISC2_SKINIT | SVM_MISC2_XSETBV | MISC2_MONITOR_MWAIT)
/* MONITOR/MWAIT: the VMM's CPUID hides them, but QEMU decodes them by the
 * host's CPUID, so without the intercepts a guest could still run them */
#define MISC2_MONITOR_MWAIT (SVM_MISC2_MONITOR | SVM_MISC2_MWAIT | SVM_MISC2_MWAIT_CONDITIONAL)
/* INVD would drop the host's dirty cache lines; INVLPGA names a TLB
 * entry of any ASID, the host's too; QEMU 7.2 takes an LTR of a null
 * selector (hardware: #GP) and then aborts the whole emulator at the
 * first IST interrupt, so LTR always goes to the VMM */
#define MISC1_ALWAYS (SVM_MISC1_INTR | SVM_MISC1_NMI | SVM_MISC1_IOIO | SVM_MISC1_MSR | SVM_MISC1_SHUTDOWN | \
                      SVM_MISC1_INVD | SVM_MISC1_INVLPGA | SVM_MISC1_TR_WRITE)

static int svm_available;
static uint8_t host_save_area[4096] __attribute__((aligned(4096)));   /* VM_HSAVE_PA */
static uint8_t host_vmsave_area[4096] __attribute__((aligned(4096))); /* VMSAVE/VMLOAD of the host */
static uint64_t hw_asid_owner[16];   /* mapping handle last run under each hardware ASID */
static unsigned hw_asids = 1;
static uint64_t svm_exits;   /* every #VMEXIT since boot, counted with svm_count_exits */
int svm_count_exits;         /* `svmcount` on the command line: print the count every 10000 */

extern void svm_vmrun(uint64_t vmcb_pa, uint64_t host_save_pa, struct guest_regs *regs);

/* --- debug registers ------------------------------------------------
 *
 * A guest never writes DR0-DR3 or DR7 itself: those writes always exit
 * (SVM_DR_WRITES_ALWAYS).  QEMU 7.2 turns a MOV to DR7 into breakpoints
 * of the emulator that VMRUN and #VMEXIT do not remove, so a guest's
 * breakpoint would fire in the host (a #DB in the kernel).  The VMM
 * emulates the write into the VCPU's fields; the kernel loads DR0-DR3
 * before VMRUN (the VMCB holds only DR6 and DR7) and puts the host's
 * zeros back after, so neither the host nor another guest sees them.
 * With the host's DR7 disabling every breakpoint, a MOV to DR0-DR3 here
 * only stores the address, in QEMU as on hardware. */
static uint64_t live_dr[4];   /* what DR0-DR3 hold now */
static uint64_t live_dr_any;  /* nonzero when one of them is */

static void set_dr(unsigned n, uint64_t v)
{
	switch (n) {
	case 0: __asm__ volatile("mov %0, %%dr0" :: "r"(v)); break;
	case 1: __asm__ volatile("mov %0, %%dr1" :: "r"(v)); break;
	case 2: __asm__ volatile("mov %0, %%dr2" :: "r"(v)); break;
	default: __asm__ volatile("mov %0, %%dr3" :: "r"(v)); break;
	}
	live_dr[n] = v;
}

/* --- XCR0 and extended FPU state ------------------------------------
 *
 * QEMU 7.2 ignores the XSETBV intercept, so a guest that sets CR4.OSXSAVE
 * (not intercepted either) can load any XCR0 and use AVX, PKRU and the
 * other XSAVE components, which FXSAVE does not switch.  So the kernel
 * switches them: with every component the CPU has enabled in XCR0, XSAVE
 * the guest's into its VCPU after each exit and XRSTOR them before each
 * VMRUN, then set the guest's or the host's XCR0.  x87 and SSE (and
 * MXCSR) stay the scheduler's (FXSAVE); the host's XCR0 is x87|SSE, so no
 * host thread can reach what a guest left in the others. */
static uint64_t xstate_mask;   /* the components above SSE; 0 without XSAVE */

static void xsetbv0(uint64_t v)
{
	__asm__ volatile("xsetbv" :: "c"(0), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return lo | (uint64_t)hi << 32;
}

/* --- QEMU's MSR permission map flaw ---------------------------------
 *
 * QEMU 7.2 finds an MSR's permission bits from all 64 bits of RCX, so
 * RDMSR/WRMSR with RCX bit 32 or 33 set and ECX in 0..0x1fff read a byte
 * 1, 2 or 3 GiB past the map (nothing, so no exit) and then act on ECX:
 * the guest reaches the host's MSRs.  Hardware uses ECX alone.
 * svm_init tries it once; where it works, the kernel keeps the host's
 * value of every MSR in that range that QEMU 7.2 lets a WRMSR change and
 * VMLOAD/VMSAVE do not switch, and puts them back before entering a VCPU
 * other than the one that ran last.  So what one guest writes there
 * reaches no other guest.  The host itself does not use them. */
#define FLAW_MSRS_MAX 200
static uint32_t flaw_msr[FLAW_MSRS_MAX];
static uint64_t flaw_msr_host[FLAW_MSRS_MAX];
static unsigned flaw_msrs;
static uint64_t flaw_last_vcpu;   /* the thread ID of the VCPU that ran last */

static void flaw_guard(uint32_t msr)
{
	if (flaw_msrs == FLAW_MSRS_MAX) {   /* only with over 40 machine-check banks */
		printk("berth: SVM: MSR %x not guarded against QEMU's map flaw\n", msr);
		return;
	}
	flaw_msr[flaw_msrs] = msr;
	flaw_msr_host[flaw_msrs++] = rdmsr(msr);
}

/* QEMU 7.2's helper_wrmsr, the MSRs below 0x2000 it stores (rdmsr never
 * faults there, whatever the MSR) */
static void flaw_guard_all(void)
{
	static const uint16_t fixed[] = {
		0x1b,                      /* APIC_BASE */
		0x17a, 0x17b,              /* MCG_STATUS, MCG_CTL */
		0x1a0,                     /* MISC_ENABLE */
		0x250, 0x258, 0x259,       /* fixed-range MTRRs */
		0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f,
		0x277,                     /* PAT (the guest's is G_PAT; the host's is this) */
		0x2ff,                     /* MTRRdefType */
		0x6e1,                     /* PKRS */
		0xd90,                     /* BNDCFGS */
	};
	for (unsigned i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		flaw_guard(fixed[i]);
	for (uint32_t m = 0x200; m < 0x210; m++)   /* variable-range MTRRs */
		flaw_guard(m);
	unsigned banks = (unsigned)(rdmsr(0x179) & 0xff);   /* MCG_CAP */
	for (uint32_t m = 0x400; m < 0x400 + 4 * banks; m++)   /* MCi_CTL/STATUS/ADDR/MISC */
		flaw_guard(m);
}

static void flaw_restore(void)
{
	for (unsigned i = 0; i < flaw_msrs; i++)
		if (rdmsr(flaw_msr[i]) != flaw_msr_host[i])
			wrmsr(flaw_msr[i], flaw_msr_host[i]);
}

/* A guest of the kernel's own, run once at boot without nested paging in
 * real mode: RDMSR with ECX = 0x10 (the TSC, harmless to read) and RCX
 * bit 32 set, then VMMCALL.  An MSR exit means the map is read as on
 * hardware; reaching the VMMCALL means the flaw. */
static uint8_t probe_vmcb[4096] __attribute__((aligned(4096)));
static uint8_t probe_msrpm[0x2000] __attribute__((aligned(4096)));
static uint8_t probe_iopm[0x3000] __attribute__((aligned(4096)));
static const uint8_t probe_code[16] __attribute__((aligned(16))) = {
	0x0f, 0x32,         /* rdmsr */
	0x0f, 0x01, 0xd9,   /* vmmcall */
	0xf4,               /* hlt */
};

static int msr_map_flawed(void)
{
	uint8_t *p = probe_vmcb;
	memset(probe_msrpm, 0xff, sizeof(probe_msrpm));
	memset(probe_iopm, 0xff, sizeof(probe_iopm));
	*(uint32_t *)(p + C_INTERCEPT_EXC) = 0xffffffff;
	*(uint32_t *)(p + C_INTERCEPT_MISC1) = MISC1_ALWAYS | SVM_MISC1_HLT;
	*(uint32_t *)(p + C_INTERCEPT_MISC2) = MISC2_ALWAYS | SVM_MISC2_VMMCALL;
	*(uint64_t *)(p + C_IOPM_BASE) = KIMG2P(probe_iopm);
	*(uint64_t *)(p + C_MSRPM_BASE) = KIMG2P(probe_msrpm);
	*(uint32_t *)(p + C_ASID) = 1;
	*(p + C_TLB_CONTROL) = 1;
	*(uint64_t *)(p + C_INT_CTL) = 1UL << 24;   /* interrupts stay the host's (off) */
	*(uint64_t *)(p + S_EFER) = EFER_SVME;
	*(uint64_t *)(p + S_CR0) = 0x10;
	*(uint64_t *)(p + S_RFLAGS) = 2;
	*(uint64_t *)(p + S_DR6) = 0xffff0ff0;
	*(uint64_t *)(p + S_DR7) = 0x400;
	for (int s = 0; s < 10; s++) {
		uint8_t *seg = p + S_SEG + 16UL * (unsigned)s;
		*(uint16_t *)(seg + 2) = s == SEG_CS ? 0x9b : s == SEG_TR ? 0x8b : s == SEG_LDTR ? 0x82 : 0x93;
		*(uint32_t *)(seg + 4) = 0xffff;
		*(uint64_t *)(seg + 8) = s == SEG_CS ? KIMG2P(probe_code) : 0;
	}
	struct guest_regs regs = { .rcx = (1UL << 32) | 0x10 };
	__asm__ volatile("clgi");
	svm_vmrun(KIMG2P(probe_vmcb), KIMG2P(host_vmsave_area), &regs);
	__asm__ volatile("stgi");
	/* this ran under ASID 1 without nested paging: flush before a guest uses it */
	hw_asid_owner[1] = ~0UL;
	uint32_t code = *(uint32_t *)(p + C_EXITCODE);
	if (code != VMEXIT_MSR && code != VMEXIT_VMMCALL)
		printk("berth: SVM: the MSR map probe ended with exit %x; guarding as if flawed\n", code);
	return code != VMEXIT_MSR;
}

/* Which XSAVE components to switch (all the CPU has above SSE); nonzero
 * when they do not fit the VCPU's page, and then no guest may run. */
static int xstate_init(void)
{
	if (!(cpuid(1, 0).c & (1u << 26)))   /* no XSAVE: only x87 and SSE, which FXSAVE covers */
		return 0;
	struct cpuid x = cpuid(0xd, 0);
	if (x.c > 0x1000 || x.d) {
		printk("berth: no SVM: the XSAVE state (%u bytes) does not fit a VCPU\n", x.c);
		return 1;
	}
	xstate_mask = x.a & ~3UL;
	return 0;
}

void svm_init(void)
{
	if (!(cpuid(0x80000001, 0).c & (1u << 2)))
		return;
	struct cpuid svm = cpuid(0x8000000a, 0);
	unsigned asids = svm.b > 16 ? 16 : svm.b;
	/* cppcheck cannot see CPUID's asm outputs */
	// cppcheck-suppress knownConditionTrueFalse
	if (asids < 2 || !(svm.d & 1)) /* no ASIDs to give, or no nested paging */
		return;
	if (xstate_init())
		return;
	hw_asids = asids;
	wrmsr(0xc0000080, rdmsr(0xc0000080) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, KIMG2P(host_save_area));
	svm_available = 1;
	printk("berth: AMD SVM with nested paging, %u ASIDs\n", hw_asids);
	if (msr_map_flawed()) {
		flaw_guard_all();
		printk("berth: SVM: RDMSR/WRMSR with RCX bits 32-33 set skip the MSR map (QEMU's flaw): "
		       "%u host MSRs restored between guests\n", flaw_msrs);
	}
}

_Static_assert(VCPU_STATE_OFFSET + sizeof(struct vcpu_state) <= VMCB_OFFSET, "the VCPU's state fits before its VMCB");

static uint8_t *vmcb(struct tcb *t) { return (uint8_t *)t + VMCB_OFFSET; }
static struct vcpu_state *vstate(struct tcb *t) { return (struct vcpu_state *)((uint8_t *)t + VCPU_STATE_OFFSET); }
#define V64(t, off) (*(uint64_t *)(vmcb(t) + (off)))
#define V32(t, off) (*(uint32_t *)(vmcb(t) + (off)))

/* What keeps the host safe whatever the VMM writes: the intercepts no
 * guest may go without.  vcpu_init sets them, and this again after every
 * SYS_VCPU_WRITE, the only way they change (neither VMRUN nor #VMEXIT
 * writes them), so each entry need not set them again. */
static void force_intercepts(struct tcb *t)
{
	V32(t, C_INTERCEPT_MISC1) |= MISC1_ALWAYS;
	V32(t, C_INTERCEPT_MISC2) |= MISC2_ALWAYS;
	V32(t, C_INTERCEPT_DR) |= SVM_DR_WRITES_ALWAYS;
}

/* A fresh VCPU: every I/O port and MSR intercepted, the registers at their
 * reset values (but RIP 0 with CS base 0, not the reset vector); the VMM
 * sets what it wants. */
void vcpu_init(struct tcb *t)
{
	t->is_vcpu = 1;
	memset((uint8_t *)t + MSRPM_OFFSET, 0xff, 0x2000);
	memset((uint8_t *)t + IOPM_OFFSET, 0xff, 0x3000);
	/* no field the VMM can write holds these: set once */
	V64(t, C_IOPM_BASE) = V2P((uint8_t *)t + IOPM_OFFSET);
	V64(t, C_MSRPM_BASE) = V2P((uint8_t *)t + MSRPM_OFFSET);
	/* physical interrupts follow the host's IF, never the guest's, so a
	 * guest with interrupts off cannot keep the host's timer out (only
	 * VCPU_V_IRQ writes this field, and it keeps the bit) */
	V64(t, C_INT_CTL) = 1UL << 24;
	V32(t, C_INTERCEPT_MISC1) = MISC1_ALWAYS | SVM_MISC1_CPUID | SVM_MISC1_HLT;
	V32(t, C_INTERCEPT_MISC2) = MISC2_ALWAYS | SVM_MISC2_VMMCALL;
	V64(t, S_EFER) = EFER_SVME;
	V64(t, S_CR0) = 0x60000010;   /* the reset value: CD, NW, ET */
	V64(t, S_RFLAGS) = 2;
	V64(t, S_G_PAT) = 0x0007040600070406UL;
	V64(t, S_DR6) = 0xffff0ff0;
	V64(t, S_DR7) = 0x400;
	V32(t, C_INTERCEPT_DR) = SVM_DR_WRITES_ALWAYS;
	vstate(t)->xcr0 = 1;   /* x87 only: the reset value */
	for (unsigned i = 0; i < VCPU_MTD_SLOTS; i++)
		vstate(t)->mtd[i] = VMEXIT_MTD_ALL;
	vstate(t)->reply_mtd = VMEXIT_MTD_ALL;
	*(uint32_t *)((uint8_t *)t + XSAVE_OFFSET + 24) = 0x1f80;   /* MXCSR, as fpu_init_area */
	for (int s = 0; s < 10; s++) {
		*(uint32_t *)(vmcb(t) + S_SEG + 16UL * (unsigned)s + 4) = 0xffff;  /* limit */
		*(uint16_t *)(vmcb(t) + S_SEG + 16UL * (unsigned)s + 2) = s == SEG_CS ? 0x9b : s == SEG_TR ? 0x8b
		                                              : s == SEG_LDTR ? 0x82 : 0x93;
	}
}

void vcpu_stopped(struct tcb *t, const char *why)
{
	if (t->state == THREAD_RUNNABLE)
		sched_dequeue(t);
	t->state = THREAD_FAULTED;
	printk("berth: vcpu %lu stopped: %s (guest rip %lx)\n", t->id, why, V64(t, S_RIP));
}

/* What the hardware would refuse, checked here so the VMM learns why.
 * On a ShadowSpace the guest must be in long mode with paging: the
 * shadow tables are 4-level tables, and without paging the guest would
 * address host-physical memory. */
static unsigned check_state(struct tcb *t, int shadow)
{
	uint64_t efer = V64(t, S_EFER), cr0 = V64(t, S_CR0), cr4 = V64(t, S_CR4);
	const uint64_t efer_ok = (1UL << 0) | (1UL << 8) | (1UL << 10) | (1UL << 11) | EFER_SVME |
	                         (1UL << 13) | (1UL << 14) | (1UL << 15);
	const uint64_t cr4_ok = 0x7ffUL | (1UL << 11) | (1UL << 16) | (1UL << 17) | (1UL << 18) |
	                        (1UL << 20) | (1UL << 21);
	if (efer & ~efer_ok)
		return VMRUN_INVALID_EFER;
	if ((cr0 >> 32) || ((cr0 & (1UL << 29)) && !(cr0 & (1UL << 30))))
		return VMRUN_INVALID_CR0;
	if (!shadow && (vstate(t)->guest_cr3 >> 52))
		return VMRUN_INVALID_CR3;
	const uint64_t lm = (1UL << 8) | (1UL << 10);
	if (shadow && ((cr0 & 0x80000001UL) != 0x80000001UL || !(cr4 & (1UL << 5)) || (efer & lm) != lm))
		return VMRUN_INVALID_SHADOW_MODE;
	if (cr4 & ~cr4_ok)
		return VMRUN_INVALID_CR4;
	if ((V64(t, S_DR6) >> 32) || (V64(t, S_DR7) >> 32))
		return VMRUN_INVALID_DR;
	if ((efer & (1UL << 8)) && (cr0 & (1UL << 31)) && !(cr4 & (1UL << 5)))
		return VMRUN_INVALID_LONG_MODE;
	uint16_t cs_attr = *(uint16_t *)(vmcb(t) + S_SEG + 16UL * SEG_CS + 2);
	if ((cs_attr & (1u << 9)) && (cs_attr & (1u << 10)))
		return VMRUN_INVALID_CS;
	uint64_t ev = V64(t, C_EVENTINJ);
	if (ev & EVENT_VALID) {
		unsigned type = (ev >> 8) & 7, vector = ev & 0xff;
		if ((type != EVENT_TYPE_INTR && type != EVENT_TYPE_NMI && type != EVENT_TYPE_EXCEPTION &&
		     type != EVENT_TYPE_SOFT_INT) ||
		    (type == EVENT_TYPE_EXCEPTION && (vector >= 32 || vector == 2)) ||
		    (type == EVENT_TYPE_NMI && vector != 2) || (ev & 0x7ffff000UL))
			return VMRUN_INVALID_EVENT;
	}
	return 0;
}

/* Where each of the exit's register words lives, from the VCPU's start
 * (enum vcpu_field's order, as VMEXIT_MTD_REG names them). */
#define GPR(r) (VCPU_STATE_OFFSET + __builtin_offsetof(struct vcpu_state, regs) + \
                __builtin_offsetof(struct guest_regs, r))
static const uint16_t word_offset[VCPU_RFLAGS + 1] = {
	[VCPU_RAX] = VMCB_OFFSET + S_RAX, [VCPU_RBX] = GPR(rbx), [VCPU_RCX] = GPR(rcx),
	[VCPU_RDX] = GPR(rdx), [VCPU_RSI] = GPR(rsi), [VCPU_RDI] = GPR(rdi), [VCPU_RBP] = GPR(rbp),
	[VCPU_RSP] = VMCB_OFFSET + S_RSP,
	[VCPU_R8] = GPR(r8_15[0]), [VCPU_R9] = GPR(r8_15[1]), [VCPU_R10] = GPR(r8_15[2]),
	[VCPU_R11] = GPR(r8_15[3]), [VCPU_R12] = GPR(r8_15[4]), [VCPU_R13] = GPR(r8_15[5]),
	[VCPU_R14] = GPR(r8_15[6]), [VCPU_R15] = GPR(r8_15[7]),
	[VCPU_RIP] = VMCB_OFFSET + S_RIP, [VCPU_RFLAGS] = VMCB_OFFSET + S_RFLAGS,
};
_Static_assert(VMEXIT_MTD_ALL == (1u << (VCPU_RFLAGS + 1)) - 1, "one descriptor bit per register word");

static uint64_t *word_ptr(struct tcb *t, unsigned i)
{
	return (uint64_t *)((uint8_t *)t + word_offset[i]);
}

/* The descriptor of an exit (VMEXIT_INVALID and codes without a slot
 * carry everything). */
static uint32_t exit_mtd(struct tcb *t, uint64_t code)
{
	uint64_t slot = code == VMEXIT_NPF ? VCPU_MTD_SLOTS - 1 : code;
	return slot < VCPU_MTD_SLOTS ? vstate(t)->mtd[slot] : VMEXIT_MTD_ALL;
}

/* The register words in groups, as the exit message has them: RAX-RDX,
 * RSI-RSP, R8-R15, RIP and RFLAGS.  Moving a whole group costs two
 * instructions a word; picking one named word by bit scan and table
 * (word_ptr) about ten. */
#define MTD_GROUP_ABCD 0x0000fu
#define MTD_GROUP_SIDI 0x000f0u
#define MTD_GROUP_R8   0x0ff00u
_Static_assert(MTD_GROUP_ABCD == (VMEXIT_MTD_REG(VCPU_RDX) << 1) - 1 &&
               MTD_GROUP_SIDI == VMEXIT_MTD_REG(VCPU_RSI) * 0xf && VMEXIT_MTD_REG(VCPU_RSP) == 0x80 &&
               MTD_GROUP_R8 == VMEXIT_MTD_REG(VCPU_R8) * 0xff && VMEXIT_MTD_REG(VCPU_R15) == 0x8000,
               "enum vcpu_field's order");

/* The exit's register words: every group with a word the descriptor
 * names, whole (so an exit carries at least the words named; the others
 * in a group are current too, and the rest of the buffer is stale). */
static void exit_words(struct tcb *t, uint32_t mtd, uint64_t *w)
{
	const struct vcpu_state *v = vstate(t);
	uint64_t *g = w + VMEXIT_W_RAX;
	if (mtd & MTD_GROUP_ABCD) {
		g[VCPU_RAX] = V64(t, S_RAX);
		g[VCPU_RBX] = v->regs.rbx;
		g[VCPU_RCX] = v->regs.rcx;
		g[VCPU_RDX] = v->regs.rdx;
	}
	if (mtd & MTD_GROUP_SIDI) {
		g[VCPU_RSI] = v->regs.rsi;
		g[VCPU_RDI] = v->regs.rdi;
		g[VCPU_RBP] = v->regs.rbp;
		g[VCPU_RSP] = V64(t, S_RSP);
	}
	if (mtd & MTD_GROUP_R8)
		for (int i = 0; i < 8; i++)
			g[VCPU_R8 + i] = v->regs.r8_15[i];
	if (mtd & VMEXIT_MTD_REG(VCPU_RIP))
		g[VCPU_RIP] = V64(t, S_RIP);
	if (mtd & VMEXIT_MTD_REG(VCPU_RFLAGS))
		g[VCPU_RFLAGS] = V64(t, S_RFLAGS);
	if (mtd & VMEXIT_MTD_STATE) {
		w[VMEXIT_W_CR0] = V64(t, S_CR0);
		w[VMEXIT_W_CR3] = v->guest_cr3;
		w[VMEXIT_W_CR4] = V64(t, S_CR4);
		w[VMEXIT_W_EFER] = V64(t, S_EFER);
		w[VMEXIT_W_CS_ATTRIB] = *(uint16_t *)(vmcb(t) + S_SEG + 16UL * SEG_CS + 2);
		w[VMEXIT_W_SS_ATTRIB] = *(uint16_t *)(vmcb(t) + S_SEG + 16UL * SEG_SS + 2);
	}
}

/* Hand the exit to the VMM, and leave the kernel: a kernel-made call on
 * the exit port, with the words the exit's descriptor names.  To a VMM
 * waiting on the port they go straight into its buffer
 * (ipc_exit_receiver, ipc_exit_deliver, which may run the VMM at once);
 * else into the VCPU's kmsg, for the general path to move when the VMM
 * receives. */
static _Noreturn void send_exit(struct tcb *t, uint64_t code, uint64_t info1)
{
	uint32_t mtd = exit_mtd(t, code);
	const uint64_t head[4] = { code, info1, V64(t, C_EXITINFO2), V64(t, C_EXITINTINFO) };
	uint64_t info = MSG_INFO(LABEL_VMEXIT, (mtd & VMEXIT_MTD_STATE) ? VMEXIT_STATE_WORDS : VMEXIT_WORDS, 0);
	vstate(t)->reply_mtd = mtd;
	uint64_t *w;
	struct cap *slot;
	struct tcb *r = ipc_exit_receiver(t, &w, &slot);
	if (r) {
		exit_words(t, mtd, w);
		ipc_exit_deliver(t, r, slot, info, head);
	}
	w = t->kmsg;
	exit_words(t, mtd, w);
	for (int i = 0; i < 4; i++)
		w[i] = head[i];
	if (!ipc_kernel_call(t, info, KMSG_VMEXIT))
		vcpu_stopped(t, "no one receives its exits");
	kernel_exit();
}

/* The reply's words of a group the descriptor names only in part. */
static void reply_pick(struct tcb *t, uint32_t named, const uint64_t *w)
{
	for (; named; named &= named - 1) {
		unsigned i = (unsigned)__builtin_ctz(named);
		*word_ptr(t, i) = w[VMEXIT_W_RAX + i];
	}
}

/* The VMM answered an exit: take the registers its descriptor names and
 * the event it sends. */
int vcpu_apply_reply(struct tcb *t, const struct tcb *vmm)
{
	uint64_t info = vmm->ctx.rsi, n = MSG_WORDS(info);
	if (n == 0)
		return E_OK;
	const struct ipc_buffer *b = vmm->ipcbuf_cap.type == OBJ_FRAME ? P2V(vmm->ipcbuf_cap.obj) : 0;
	if (n != VMEXIT_REPLY_WORDS || MSG_CAPS(info) || !b)
		return E_BAD_MSG;
	const uint64_t *w = b->words;  /* words 4.. are in the buffer; 0..3 are not used */
	const uint64_t *g = w + VMEXIT_W_RAX;
	struct vcpu_state *v = vstate(t);
	uint32_t mtd = v->reply_mtd;
	if ((mtd & MTD_GROUP_ABCD) == MTD_GROUP_ABCD) {
		V64(t, S_RAX) = g[VCPU_RAX];
		v->regs.rbx = g[VCPU_RBX];
		v->regs.rcx = g[VCPU_RCX];
		v->regs.rdx = g[VCPU_RDX];
	} else if (mtd & MTD_GROUP_ABCD) {
		reply_pick(t, mtd & MTD_GROUP_ABCD, w);
	}
	if ((mtd & MTD_GROUP_SIDI) == MTD_GROUP_SIDI) {
		v->regs.rsi = g[VCPU_RSI];
		v->regs.rdi = g[VCPU_RDI];
		v->regs.rbp = g[VCPU_RBP];
		V64(t, S_RSP) = g[VCPU_RSP];
	} else if (mtd & MTD_GROUP_SIDI) {
		reply_pick(t, mtd & MTD_GROUP_SIDI, w);
	}
	if ((mtd & MTD_GROUP_R8) == MTD_GROUP_R8) {
		for (int i = 0; i < 8; i++)
			v->regs.r8_15[i] = g[VCPU_R8 + i];
	} else if (mtd & MTD_GROUP_R8) {
		reply_pick(t, mtd & MTD_GROUP_R8, w);
	}
	if (mtd & VMEXIT_MTD_REG(VCPU_RIP))
		V64(t, S_RIP) = g[VCPU_RIP];
	if (mtd & VMEXIT_MTD_REG(VCPU_RFLAGS))
		V64(t, S_RFLAGS) = (g[VCPU_RFLAGS] & 0x3f7fd7UL) | 2;
	V64(t, C_EVENTINJ) = w[VMEXIT_W_INJECT];
	return E_OK;
}

extern uint64_t tlb_generation;

#ifdef BERTH_BENCH_INKERNEL_CPUID
/* Benchmark-only build (make bench): answer CPUID here, as a hypervisor in
 * the kernel would, to show what the trip to the user-level VMM costs.
 * The values are the host's, unfiltered: not for running real guests. */
static int inkernel_exit(struct tcb *t, uint64_t code)
{
	if (code != VMEXIT_CPUID)
		return 0;
	struct vcpu_state *v = vstate(t);
	struct cpuid r = cpuid((uint32_t)V64(t, S_RAX), (uint32_t)v->regs.rcx);
	V64(t, S_RAX) = r.a;
	v->regs.rbx = r.b;
	v->regs.rcx = r.c;
	v->regs.rdx = r.d;
	V64(t, S_RIP) += 2;
	return 1;
}
#else
static int inkernel_exit(struct tcb *t, uint64_t code)
{
	(void)t;
	(void)code;
	return 0;
}
#endif

/* Before VMRUN: the guest's state that VMRUN does not load. */
static void guest_load(struct tcb *t)
{
	struct vcpu_state *v = vstate(t);
	/* most guests set no breakpoint: then nothing to compare */
	uint64_t any = v->dr[0] | v->dr[1] | v->dr[2] | v->dr[3];
	if (any | live_dr_any)
		for (unsigned n = 0; n < 4; n++)
			if (live_dr[n] != v->dr[n])
				set_dr(n, v->dr[n]);
	live_dr_any = any;
	if (xstate_mask) {
		void *area = (uint8_t *)t + XSAVE_OFFSET;
		xsetbv0(xstate_mask | 3);
		__asm__ volatile("xrstor64 %0" :: "m"(*(const uint8_t (*)[4096])area),
		                 "a"((uint32_t)xstate_mask), "d"((uint32_t)(xstate_mask >> 32)));
		xsetbv0(v->xcr0);
	}
	if (flaw_msrs && flaw_last_vcpu != t->id)
		flaw_restore();
	flaw_last_vcpu = t->id;
}

/* After #VMEXIT: keep the guest's, put the host's back. */
static void guest_unload(struct tcb *t)
{
	struct vcpu_state *v = vstate(t);
	if (xstate_mask) {
		void *area = (uint8_t *)t + XSAVE_OFFSET;
		v->xcr0 = xgetbv0();
		/* every component, whatever the guest's XCR0 now: it may have
		 * used one and then cleared its bit */
		xsetbv0(xstate_mask | 3);
		__asm__ volatile("xsave64 %0" : "=m"(*(uint8_t (*)[4096])area)
		                 : "a"((uint32_t)xstate_mask), "d"((uint32_t)(xstate_mask >> 32)));
		xsetbv0(3);
	}
	if (live_dr_any)   /* the guest cannot have changed them */
		for (unsigned n = 0; n < 4; n++)
			if (live_dr[n])
				set_dr(n, 0);
	live_dr_any = 0;
}

/* Enter the guest; reached from kernel_exit on a fresh kernel stack. */
_Noreturn void vcpu_run(struct tcb *t)
{
	struct vcpu_state *v = vstate(t);
again:;
	/* the guest space is looked up on every entry: revoke may have
	 * deleted it while the VMM held this VCPU's exit */
	int shadow = t->vspace_cap.type == OBJ_SHADOW_SPACE;
	uint64_t handle = 0, shadow_root = shadow ? shadow_vcpu_root(&t->vspace_cap, &handle) : 0;
	unsigned reason = (shadow ? shadow_root != 0 : t->vspace_cap.type == OBJ_GUEST_SPACE)
	                  ? check_state(t, shadow) : VMRUN_INVALID_NO_SPACE;
	if (reason) {
		V64(t, C_EXITINFO2) = 0;
		V64(t, C_EXITINTINFO) = 0;
		send_exit(t, VMEXIT_INVALID, reason);
	}
	/* what keeps the host safe, whatever the VMM or the guest wrote (the
	 * forced intercepts, the I/O and MSR maps and V_INTR_MASKING stay as
	 * vcpu_init and force_intercepts set them) */
	if (!shadow)
		handle = asid_handle(t->vspace_cap.w0);
	unsigned hw = 1 + (unsigned)((t->vspace_cap.w0 + (shadow ? ASID_COUNT : 0)) % (hw_asids - 1));
	V64(t, S_EFER) |= EFER_SVME;
	if (shadow) {
		/* shadow paging (shadow.c): the guest walks the shadow's tables;
		 * what it may not see or change of them exits to the VMM */
		V64(t, C_NP_ENABLE) = 0;
		V64(t, C_N_CR3) = 0;
		V64(t, S_CR3) = shadow_root;
		/* no-execute in the shadow's entries (the GuestSpace's and the
		 * VMM's) needs NXE; EFER is the VMM's to show (MSR exits) */
		V64(t, S_EFER) |= EFER_NXE;
		V32(t, C_INTERCEPT_CR) |= SVM_SHADOW_CR_ALWAYS;
		V32(t, C_INTERCEPT_EXC) |= SVM_SHADOW_EXC_ALWAYS;
		V32(t, C_INTERCEPT_MISC1) |= SVM_MISC1_INVLPG;
	} else {
		V64(t, C_NP_ENABLE) = 1;
		V64(t, C_N_CR3) = t->vspace_cap.obj;
		V64(t, S_CR3) = v->guest_cr3;
	}
	V32(t, C_ASID) = hw;
	V32(t, C_CLEAN) = 0;
	/* flush the guest TLB when this ASID ran another space, or mappings changed */
	int flush = hw_asid_owner[hw] != handle || v->tlb_generation != tlb_generation;
	*(vmcb(t) + C_TLB_CONTROL) = flush ? 1 : 0;
	hw_asid_owner[hw] = handle;
	v->tlb_generation = tlb_generation;

	/* GIF holds interrupts off until VMRUN; the host's IF on means a host
	 * interrupt during the guest is an INTR exit */
	guest_load(t);
	__asm__ volatile("clgi; sti");
	kernel_counters[KC_VM_ENTRIES]++;
	svm_vmrun(V2P(vmcb(t)), KIMG2P(host_vmsave_area), &v->regs);
	__asm__ volatile("cli; stgi");
	guest_unload(t);
	V64(t, C_EVENTINJ) = 0;
	if (!shadow)   /* the guest changes its CR3 itself under nested paging */
		v->guest_cr3 = V64(t, S_CR3);

	uint64_t code = V64(t, C_EXITCODE);
	/* a running figure for long guest runs (tools/fuzz-guests.sh) */
	if (svm_count_exits && ++svm_exits % 10000 == 0)
		printk("berth: svm: %lu exits\n", svm_exits);
	if (inkernel_exit(t, code))
		goto again;
	if (code == VMEXIT_INTR || code == VMEXIT_NMI) {
		/* a host interrupt stopped the guest: take it now (it ends in
		 * kernel_exit, which may pick this VCPU again) */
		__asm__ volatile("sti; nop; cli");
		kernel_exit();
	}
	send_exit(t, (uint32_t)code == (uint32_t)VMEXIT_INVALID ? VMEXIT_INVALID : code,
	          (uint32_t)code == (uint32_t)VMEXIT_INVALID ? VMRUN_INVALID_HW : V64(t, C_EXITINFO1));
}

/* --- the VMM's calls ----------------------------------------------- */

static uint64_t *field_ptr(struct tcb *t, uint64_t f, unsigned *width)
{
	struct vcpu_state *v = vstate(t);
	static const uint16_t state_offsets[] = {
		[VCPU_RIP] = S_RIP, [VCPU_RFLAGS] = S_RFLAGS, [VCPU_CR0] = S_CR0, [VCPU_CR2] = S_CR2,
		[VCPU_CR4] = S_CR4, [VCPU_EFER] = S_EFER, [VCPU_DR6] = S_DR6,
		[VCPU_DR7] = S_DR7,
	};
	*width = 64;
	switch (f) {
	case VCPU_RAX: return &V64(t, S_RAX);
	case VCPU_RSP: return &V64(t, S_RSP);
	case VCPU_RBX: return &v->regs.rbx;
	case VCPU_RCX: return &v->regs.rcx;
	case VCPU_RDX: return &v->regs.rdx;
	case VCPU_RSI: return &v->regs.rsi;
	case VCPU_RDI: return &v->regs.rdi;
	case VCPU_RBP: return &v->regs.rbp;
	case VCPU_CR3: return &v->guest_cr3;   /* never the shadow's top table */
	case VCPU_INTERCEPT_CR: *width = 32; return (uint64_t *)(vmcb(t) + C_INTERCEPT_CR);
	case VCPU_INTERCEPT_DR: *width = 32; return (uint64_t *)(vmcb(t) + C_INTERCEPT_DR);
	case VCPU_INTERCEPT_EXC: *width = 32; return (uint64_t *)(vmcb(t) + C_INTERCEPT_EXC);
	case VCPU_INTERCEPT_MISC1: *width = 32; return (uint64_t *)(vmcb(t) + C_INTERCEPT_MISC1);
	case VCPU_INTERCEPT_MISC2: *width = 32; return (uint64_t *)(vmcb(t) + C_INTERCEPT_MISC2);
	case VCPU_INT_SHADOW: return &V64(t, C_INT_SHADOW);
	case VCPU_TSC_OFFSET: return &V64(t, C_TSC_OFFSET);
	case VCPU_G_PAT: return &V64(t, S_G_PAT);
	case VCPU_DR0: case VCPU_DR1: case VCPU_DR2: case VCPU_DR3: return &v->dr[f - VCPU_DR0];
	case VCPU_EVENT_INJ: return &V64(t, C_EVENTINJ);   /* checked at entry (check_state) */
	}
	/* the scheduler saved it when the caller (the VMM) was switched in */
	if (f >= VCPU_FPU && f < VCPU_FPU + 64)
		return (uint64_t *)(t->fpu + 8 * (f - VCPU_FPU));
	if (f >= VCPU_R8 && f <= VCPU_R15)
		return &v->regs.r8_15[f - VCPU_R8];
	if (f >= VCPU_RIP && f <= VCPU_DR7)
		return &V64(t, state_offsets[f]);
	if (f >= VCPU_STAR && f <= VCPU_SYSENTER_EIP)
		return &V64(t, S_STAR + 8 * (f - VCPU_STAR));
	if (f >= VCPU_SEG && f < VCPU_SEG + 40) {
		unsigned seg = (unsigned)(f - VCPU_SEG) / 4, part = (unsigned)(f - VCPU_SEG) % 4;
		static const unsigned offs[4] = { 0, 2, 4, 8 }, widths[4] = { 16, 16, 32, 64 };
		*width = widths[part];
		return (uint64_t *)(vmcb(t) + S_SEG + 16UL * seg + offs[part]);
	}
	return 0;
}

/* VCPU_MTD(code): a transfer descriptor, apart from the guest's fields */
static uint32_t *mtd_field(struct tcb *t, uint64_t f)
{
	return f >= VCPU_MTD_FIRST && f < VCPU_MTD_FIRST + VCPU_MTD_SLOTS ? &vstate(t)->mtd[f - VCPU_MTD_FIRST] : 0;
}

static uint64_t read_field(const uint64_t *p, unsigned width)
{
	return width == 64 ? *p : width == 32 ? *(const uint32_t *)p : *(const uint16_t *)p;
}

static void write_field(uint64_t *p, unsigned width, uint64_t v)
{
	if (width == 64)
		*p = v;
	else if (width == 32)
		*(uint32_t *)p = (uint32_t)v;
	else
		*(uint16_t *)p = (uint16_t)v;
}

static void set_bits(uint8_t *map, uint64_t first, uint64_t last, unsigned stride, int on)
{
	for (uint64_t i = first; i <= last; i++) {
		uint64_t bit = i * stride;
		if (on)
			map[bit / 8] |= (uint8_t)(1u << (bit % 8));
		else
			map[bit / 8] &= (uint8_t)~(1u << (bit % 8));
	}
}

/* MSRs the VMCB switches (VMLOAD/VMSAVE): safe to give the guest directly */
static int msr_switched(uint64_t msr)
{
	return (msr >= 0xc0000081 && msr <= 0xc0000084) || (msr >= 0xc0000100 && msr <= 0xc0000102) ||
	       (msr >= 0x174 && msr <= 0x176);
}

static int msrpm_bit(uint64_t msr)
{
	if (msr <= 0x1fff)
		return (int)(msr * 2);
	if (msr >= 0xc0000000 && msr <= 0xc0001fff)
		return (int)(0x800UL * 8 + (msr - 0xc0000000) * 2);
	if (msr >= 0xc0010000 && msr <= 0xc0011fff)
		return (int)(0x1000UL * 8 + (msr - 0xc0010000) * 2);
	return -1;
}

int sys_vcpu(struct tcb *caller, uint64_t op, struct context *r)
{
	struct cap *c, *gs, *port, *io;
	int err = cap_get(caller, r->rdi, OBJ_VCPU, RIGHT_WRITE, &c);
	if (err)
		return err;
	if (!svm_available)
		return E_STATE;
	struct tcb *t = P2V(c->obj);
	unsigned width;
	uint64_t *p;
	uint32_t *mtd;
	switch (op) {
	case SYS_VCPU_CONFIGURE:
		/* a GuestSpace runs the guest with nested paging, a ShadowSpace
		 * with shadow paging (shadow.c) */
		err = cap_get(caller, r->rsi, OBJ_GUEST_SPACE, RIGHT_WRITE, &gs);
		if (err == E_WRONG_TYPE)
			err = cap_get(caller, r->rsi, OBJ_SHADOW_SPACE, RIGHT_WRITE, &gs);
		if (err || (err = cap_get(caller, r->rdx, OBJ_PORT, RIGHT_SEND, &port)))
			return err;
		if (port->rights & RIGHT_RECEIVE)
			return E_NOT_COPYABLE;
		if (t->state != THREAD_INACTIVE && t->state != THREAD_FAULTED)
			return E_STATE;
		t->traced |= caller->traced; /* as SYS_TCB_CONFIGURE: a traced VMM's VCPUs too */
	{
		const struct tcb_cap_change ch[2] = { { &t->vspace_cap, gs }, { &t->fault_cap, port } };
		if ((err = tcb_caps_swap(ch, 2)))
			return err;
		tcb_caps_release();
		return E_OK;
	}
	case SYS_VCPU_READ:
		if ((mtd = mtd_field(t, r->rsi))) {
			r->rdx = *mtd;
			return E_OK;
		}
		if (!(p = field_ptr(t, r->rsi, &width)))
			return E_BAD_ARG;
		r->rdx = read_field(p, width);
		return E_OK;
	case SYS_VCPU_WRITE:
		if ((mtd = mtd_field(t, r->rsi))) {
			/* takes effect from the next exit: the one waiting keeps
			 * the descriptor it was sent with (reply_mtd) */
			if (r->rdx & ~(uint64_t)(VMEXIT_MTD_ALL | VMEXIT_MTD_STATE))
				return E_BAD_ARG;
			*mtd = (uint32_t)r->rdx;
			return E_OK;
		}
		if (r->rsi == VCPU_INT_SHADOW) { /* clear it after emulating an instruction */
			V64(t, C_INT_SHADOW) = r->rdx & 1;
			return E_OK;
		}
		if (!(p = field_ptr(t, r->rsi, &width))) {
			if (r->rsi != VCPU_V_IRQ)
				return E_BAD_ARG;
			/* a virtual interrupt the guest takes when it can */
			uint64_t ctl = V64(t, C_INT_CTL) & ~((0xffUL << 32) | (1UL << 8));
			if (r->rdx & (1UL << 8))
				ctl |= (1UL << 8) | (0xfUL << 16) | (1UL << 20) | ((r->rdx & 0xff) << 32);
			ctl |= 1UL << 24;
			V64(t, C_INT_CTL) = ctl;
			return E_OK;
		}
		/* FXRSTOR faults on MXCSR's reserved bits: in the kernel, when
		 * it switches to the VCPU */
		if (r->rsi == VCPU_FPU + 3 && ((uint32_t)r->rdx & ~fpu_mxcsr_mask()))
			return E_BAD_ARG;
		write_field(p, width, r->rdx);
		force_intercepts(t);
		return E_OK;
	case SYS_VCPU_IO_INTERCEPT:
		if (r->rsi > r->rdx || r->rdx > 0xffff)
			return E_BAD_ARG;
		if (!r->r10) { /* passing ports through needs the right to them */
			if ((err = cap_get(caller, r->r8, OBJ_IOPORT, 0, &io)))
				return err;
			if (r->rsi < (io->obj & 0xffff) || r->rdx > (io->obj >> 16))
				return E_RANGE;
		}
		set_bits((uint8_t *)t + IOPM_OFFSET, r->rsi, r->rdx, 1, r->r10 != 0);
		return E_OK;
	case SYS_VCPU_MSR_INTERCEPT: {
		int bit = msrpm_bit(r->rsi);
		if (bit < 0)
			return E_BAD_ARG;
		if (!r->rdx && !msr_switched(r->rsi))
			return E_NO_RIGHTS;
		set_bits((uint8_t *)t + MSRPM_OFFSET, (uint64_t)bit, (uint64_t)bit + 1, 1, r->rdx != 0);
		return E_OK;
	}
	}
	return E_BAD_SYSCALL;
}
