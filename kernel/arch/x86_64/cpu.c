/* GDT, TSS, IDT, the SYSCALL MSRs and the FPU. */
#include <stdint.h>
#include "cpu.h"
#include "layout.h"
#include "context.h"

struct idt_gate {
	uint16_t offset_low, selector;
	uint8_t ist, type_attr;
	uint16_t offset_mid;
	uint32_t offset_high, reserved;
} __attribute__((packed));

static uint64_t gdt[8] __attribute__((aligned(16)));
struct tss cpu_tss __attribute__((aligned(16)));
static struct idt_gate idt[256] __attribute__((aligned(16)));
static uint8_t double_fault_stack[4096] __attribute__((aligned(16)));
static uint8_t nmi_stack[4096] __attribute__((aligned(16)));

uintptr_t current_context_end;

extern void syscall_entry(void);
#define X(n) extern void trap_##n(void);
X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13)
X(14) X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23) X(24) X(25)
X(26) X(27) X(28) X(29) X(30) X(31) X(32) X(33) X(34) X(35) X(36) X(37)
X(38) X(39) X(40) X(41) X(42) X(43) X(44) X(45) X(46) X(47) X(255)
#undef X

static void (*const trap_stubs[48])(void) = {
	trap_0, trap_1, trap_2, trap_3, trap_4, trap_5, trap_6, trap_7,
	trap_8, trap_9, trap_10, trap_11, trap_12, trap_13, trap_14, trap_15,
	trap_16, trap_17, trap_18, trap_19, trap_20, trap_21, trap_22, trap_23,
	trap_24, trap_25, trap_26, trap_27, trap_28, trap_29, trap_30, trap_31,
	trap_32, trap_33, trap_34, trap_35, trap_36, trap_37, trap_38, trap_39,
	trap_40, trap_41, trap_42, trap_43, trap_44, trap_45, trap_46, trap_47,
};

static void idt_set(int vec, void (*stub)(void), int ist)
{
	uintptr_t a = (uintptr_t)stub;
	idt[vec] = (struct idt_gate){
		.offset_low = (uint16_t)a,
		.selector = SEL_KCODE,
		.ist = (uint8_t)ist,
		.type_attr = 0x8e, /* present, DPL 0, interrupt gate: user INT n is #GP */
		.offset_mid = (uint16_t)(a >> 16),
		.offset_high = (uint32_t)(a >> 32),
	};
}

static void gdt_init(void)
{
	uintptr_t t = (uintptr_t)&cpu_tss;
	gdt[0] = 0;
	gdt[1] = 0x00209a0000000000; /* kernel code, 64-bit */
	gdt[2] = 0x0000920000000000; /* kernel data */
	gdt[3] = 0;                  /* 32-bit user code: unused */
	gdt[4] = 0x0000f20000000000; /* user data, DPL 3 */
	gdt[5] = 0x0020fa0000000000; /* user code, 64-bit, DPL 3 */
	gdt[6] = (sizeof(cpu_tss) - 1) | ((t & 0xffffff) << 16) | (0x89UL << 40) |
	         (((t >> 24) & 0xff) << 56);
	gdt[7] = t >> 32;

	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) ptr = {
		sizeof(gdt) - 1, (uintptr_t)gdt
	};
	__asm__ volatile("lgdt %0" :: "m"(ptr));
	__asm__ volatile(
		"pushq %0\n"
		"lea 1f(%%rip), %%rax\n"
		"pushq %%rax\n"
		"lretq\n"
		"1:\n"
		"mov %1, %%ds\n mov %1, %%es\n mov %1, %%ss\n"
		:: "i"(SEL_KCODE), "r"((uint16_t)SEL_KDATA) : "rax", "memory");
	cpu_tss.ist[0] = (uintptr_t)double_fault_stack + sizeof(double_fault_stack);
	cpu_tss.ist[1] = (uintptr_t)nmi_stack + sizeof(nmi_stack);
	cpu_tss.iomap_base = sizeof(cpu_tss); /* no I/O bitmap: user port I/O faults */
	__asm__ volatile("ltr %w0" :: "r"(SEL_TSS));
}

static void idt_init(void)
{
	for (int v = 0; v < 48; v++)
		idt_set(v, trap_stubs[v], v == 8 ? 1 : v == 2 ? 2 : 0);
	idt_set(255, trap_255, 0);
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) ptr = {
		sizeof(idt) - 1, (uintptr_t)idt
	};
	__asm__ volatile("lidt %0" :: "m"(ptr));
}

#define MSR_EFER   0xc0000080
#define MSR_STAR   0xc0000081
#define MSR_LSTAR  0xc0000082
#define MSR_SFMASK 0xc0000084

static void syscall_init(void)
{
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | 1 /* SCE */ | (1 << 11) /* NXE */);
	/* SYSCALL loads CS = 0x08, SS = 0x10; SYSRET uses 0x18 + 16 / + 8 */
	wrmsr(MSR_STAR, ((uint64_t)0x18 << 48) | ((uint64_t)SEL_KCODE << 32));
	wrmsr(MSR_LSTAR, (uintptr_t)syscall_entry);
	/* clear IF, TF, DF, AC, NT on entry */
	wrmsr(MSR_SFMASK, (1 << 9) | (1 << 8) | (1 << 10) | (1 << 18) | (1 << 14));
}

static void fpu_enable(void)
{
	uint64_t cr0, cr4;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	cr0 &= ~(1UL << 2);          /* EM off */
	cr0 |= (1UL << 1) | (1UL << 5); /* MP, NE */
	cr0 &= ~(1UL << 3);          /* TS off: state is switched eagerly */
	__asm__ volatile("mov %0, %%cr0" :: "r"(cr0));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 |= (1UL << 9) | (1UL << 10); /* OSFXSR, OSXMMEXCPT */
	/* With XSAVE, OSXSAVE too: not for the host's own use (its XCR0 stays
	 * x87|SSE, so FXSAVE still covers every register it can touch), but
	 * so that svm.c can switch a guest's XCR0 and extended state, which
	 * a guest can change without an exit on QEMU 7.2 (docs/vmm.md). */
	int xsave = (cpuid(1, 0).c & (1u << 26)) != 0;
	if (xsave)
		cr4 |= 1UL << 18;
	__asm__ volatile("mov %0, %%cr4" :: "r"(cr4));
	if (xsave)
		__asm__ volatile("xsetbv" :: "c"(0), "a"(3), "d"(0));
	__asm__ volatile("fninit");
}

/* Supervisor-mode execution and access prevention: the kernel never
 * runs user code and never touches user memory through user mappings
 * (it translates and goes through its own map, e.g. debug_write), so a
 * stray kernel access to a user page faults instead of being exploited.
 * PGE and PSE too, which change nothing for the kernel (it sets no
 * global bits; long mode ignores PSE).  Why here: with these four bits
 * equal to a Linux guest's, QEMU's emulation of VMRUN and #VMEXIT skips
 * one full TLB and jump-cache flush each way (docs/vmm.md, "Counting
 * the switches"). */
static void paging_protections_enable(void)
{
	uint32_t leaf7_ebx = cpuid(0, 0).a >= 7 ? cpuid(7, 0).b : 0;
	uint64_t cr4;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 |= (1UL << 4) | (1UL << 7);  /* PSE, PGE */
	if (leaf7_ebx & (1u << 7))
		cr4 |= 1UL << 20;             /* SMEP */
	if (leaf7_ebx & (1u << 20))
		cr4 |= 1UL << 21;             /* SMAP */
	__asm__ volatile("mov %0, %%cr4" :: "r"(cr4) : "memory");
}

void cpu_init(void)
{
	gdt_init();
	idt_init();
	syscall_init();
	fpu_enable();
	paging_protections_enable();
}

/* The MXCSR bits this CPU lets FXRSTOR load (FXSAVE's MXCSR_MASK; 0
 * there means the default, without DAZ). */
uint32_t fpu_mxcsr_mask(void)
{
	static uint32_t mask;
	if (!mask) {
		static uint8_t area[512] __attribute__((aligned(16)));
		__asm__ volatile("fxsave64 %0" : "=m"(area));
		mask = *(uint32_t *)(area + 28);
		if (!mask)
			mask = 0xffbf;
	}
	return mask;
}

/* A clean FXSAVE image: x87 control word and MXCSR at their reset values. */
void fpu_init_area(void *area)
{
	uint8_t *a = area;
	for (int i = 0; i < 512; i++)
		a[i] = 0;
	*(uint16_t *)(a + 0) = 0x37f;
	*(uint32_t *)(a + 24) = 0x1f80;
}
