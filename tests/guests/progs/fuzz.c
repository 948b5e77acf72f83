/* A hostile-guest fuzzer (tests/system/guest_fuzz.c, tools/fuzz-guests.sh):
 * random bytes, with a share of instructions that exit or touch
 * privileged state, run in ring 0 under random page tables with random
 * registers, over and over.  Every exception and interrupt comes back to
 * the harness on a stack of its own (IST 1), which reloads its own
 * tables, GDT, IDT and task register and starts the next run.  What the
 * random code breaks beyond repair (a triple fault, an endless loop with
 * interrupts off) ends or stalls only this VM: init restarts it, and the
 * test driver kills it now and then to get a fresh seed.
 *
 * Memory (the VMM's mem=4): this image from 0x100000; the fuzz region at
 * 2 MiB holds the random code page and the random tables.  Under the
 * random tables the first 2 MiB are mapped 1:1 read-only, except the
 * block holding the harness's stacks and GDT, so random code cannot
 * overwrite the harness (unless it clears CR0.WP first: then the harness
 * may die, and with it only this VM). */
#include "guest.h"

#define FUZZ 0x200000UL
#define CODE (FUZZ)
#define PML4 (FUZZ + 0x1000)
#define PDPT (FUZZ + 0x2000)
#define PD (FUZZ + 0x3000)
#define PT0 (FUZZ + 0x4000)   /* the first 2 MiB, 4 KiB pages */
#define PT1 (FUZZ + 0x5000)   /* the fuzz region, 4 KiB pages */
#define PROGRESS_EVERY 500

struct rw_block {   /* the only harness memory random code may write */
	uint8_t ist[4096];
	uint8_t stack[8192];
	uint64_t gdt[8];
	uint32_t tss[26];
	uint8_t pad[4096 - 8 * 8 - 26 * 4];
	/* the harness's own tables, 0-4 MiB in 2 MiB pages: rebuilt by every
	 * recovery before it loads them, so what random code wrote there
	 * does not matter */
	uint64_t pml4[512], pdpt[512], pd[512];
} __attribute__((aligned(4096)));
static struct rw_block rw;
static uint64_t idt[512] __attribute__((aligned(4096)));

static uint64_t rng;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

uint64_t fuzz_cr0, fuzz_cr3, fuzz_cr4, fuzz_regs[17], fuzz_code;
struct { uint16_t limit; uint64_t base; } __attribute__((packed)) fuzz_gdtr, fuzz_idtr;
static unsigned long runs, by_irq;

void fuzz_next(unsigned vector);
extern char exc_stub[], irq_stub[];
/* fuzz_enter: CR3 = the random tables, registers from fuzz_regs (RFLAGS
 * through the harness's stack, then RSP and RAX), then jump to the
 * random code.  The harness never touches memory through a random
 * pointer: an access to unbacked memory by an instruction the VMM cannot
 * emulate would stop the VM at the harness's fault. */
void fuzz_enter(void);

__asm__(
	"	.text\n"
	"	.globl fuzz_enter, exc_stub, irq_stub\n"
	"fuzz_enter:\n"
	"	mov $" "0x201000" ", %rax\n"
	"	mov %rax, %cr3\n"
	"	lea fuzz_regs(%rip), %rax\n"
	"	mov 8(%rax), %rbx\n"
	"	mov 16(%rax), %rcx\n"
	"	mov 24(%rax), %rdx\n"
	"	mov 32(%rax), %rsi\n"
	"	mov 40(%rax), %rdi\n"
	"	mov 48(%rax), %rbp\n"
	"	mov 64(%rax), %r8\n"
	"	mov 72(%rax), %r9\n"
	"	mov 80(%rax), %r10\n"
	"	mov 88(%rax), %r11\n"
	"	mov 96(%rax), %r12\n"
	"	mov 104(%rax), %r13\n"
	"	mov 112(%rax), %r14\n"
	"	mov 120(%rax), %r15\n"
	"	pushq 128(%rax)\n"       /* RFLAGS, through the harness's stack */
	"	popfq\n"
	"	mov 56(%rax), %rsp\n"
	"	mov (%rax), %rax\n"
	"	jmp *fuzz_code(%rip)\n"
	/* %r15d: 32 for the timer, 0 for everything else */
	"irq_stub:\n"
	"	mov $0x20, %al\n"
	"	out %al, $0x20\n"
	"	mov $32, %r15d\n"
	"	jmp 1f\n"
	"exc_stub:\n"
	"	mov $0, %r15d\n"
	"1:	cli\n"
	"	cld\n"
	/* CR0 and CR4 first (SMEP, SMAP or WP left by the random code), then
	 * the four entries of the harness's tables, then those tables */
	"	mov fuzz_cr0(%rip), %rax\n"
	"	mov %rax, %cr0\n"
	"	mov fuzz_cr4(%rip), %rax\n"
	"	mov %rax, %cr4\n"
	"	lea rw+0x5000(%rip), %rax\n"
	"	or $3, %rax\n"
	"	mov %rax, rw+0x4000(%rip)\n"
	"	lea rw+0x6000(%rip), %rax\n"
	"	or $3, %rax\n"
	"	mov %rax, rw+0x5000(%rip)\n"
	"	movq $0x83, rw+0x6000(%rip)\n"
	"	movq $0x200083, rw+0x6008(%rip)\n"
	"	lea rw+0x4000(%rip), %rax\n"
	"	mov %rax, %cr3\n"
	"	lgdt fuzz_gdtr(%rip)\n"
	"	lidt fuzz_idtr(%rip)\n"
	"	lea rw+4096+8192(%rip), %rsp\n"
	"	pushq $8\n"
	"	lea 2f(%rip), %rax\n"
	"	push %rax\n"
	"	lretq\n"
	"2:	mov $16, %eax\n"
	"	mov %eax, %ds\n"
	"	mov %eax, %es\n"
	"	mov %eax, %ss\n"
	"	mov %eax, %fs\n"
	"	mov %eax, %gs\n"
	"	andb $0xfd, rw+4096+8192+24+5(%rip)\n"   /* the TSS is not busy */
	"	mov $0x18, %eax\n"
	"	ltr %ax\n"
	"	mov %r15d, %edi\n"
	"	call fuzz_next\n"
	"	ud2\n");

/* Instructions worth more than their share of random bytes: the ones that
 * exit, touch privileged state or a flaw of the platform.  A byte 0xAA
 * in a template is replaced by a random byte. */
static const uint8_t templates[][12] = {
	{ 2, 0x0f, 0x32 },                       /* rdmsr */
	{ 2, 0x0f, 0x30 },                       /* wrmsr */
	{ 11, 0x48, 0xb9, 0xAA, 0xAA, 0, 0, 1, 0, 0, 0, 0x0f }, /* movabs $0x1_0000_xxxx,%rcx; then 0f ... */
	{ 11, 0x48, 0xb9, 0xAA, 0x01, 0, 0, 2, 0, 0, 0, 0x0f },
	{ 2, 0x0f, 0xa2 },                       /* cpuid */
	{ 3, 0x0f, 0x01, 0xd9 },                 /* vmmcall */
	{ 2, 0xe6, 0xAA },                       /* out %al, $imm */
	{ 2, 0xe4, 0xAA },                       /* in $imm, %al */
	{ 1, 0xef },                             /* out %eax, %dx */
	{ 1, 0xed },                             /* in %dx, %eax */
	{ 3, 0x0f, 0x23, 0xAA },                 /* mov %reg, %drN (and the aliases) */
	{ 3, 0x0f, 0x21, 0xAA },                 /* mov %drN, %reg */
	{ 3, 0x0f, 0x20, 0xAA },                 /* mov %crN, %reg */
	{ 3, 0x0f, 0x01, 0xd1 },                 /* xsetbv */
	{ 3, 0x0f, 0x01, 0xd0 },                 /* xgetbv */
	{ 4, 0xc5, 0xfd, 0x76, 0xc0 },           /* vpcmpeqd %ymm0,%ymm0,%ymm0 */
	{ 3, 0x0f, 0x01, 0xef },                 /* wrpkru */
	/* The SVM instructions, INVLPGA, MONITOR, LGDT, LIDT and MOVs to
	 * control registers come from random bytes only: as templates they
	 * ended most VMs within a few hundred exits (the VMM stops a guest on
	 * an exit it does not handle; tests/system/svm_state.c covers them).
	 * So do HLT (which waits for the next tick) and REP string I/O
	 * (which with a random RCX keeps the VMM busy for minutes). */
	{ 1, 0x6e },                             /* outsb */
	{ 1, 0x6d },                             /* insl */
	{ 2, 0x0f, 0x09 },                       /* wbinvd */
	{ 2, 0x0f, 0x08 },                       /* invd */
	{ 3, 0x0f, 0x01, 0xf9 },                 /* rdtscp */
	{ 2, 0x89, 0xAA },                       /* a store through a random register */
	{ 2, 0x8b, 0xAA },                       /* a load */
	{ 2, 0xcd, 0xAA },                       /* int $n */
	{ 2, 0x48, 0xcf },                       /* iretq */
	{ 3, 0x48, 0x0f, 0x07 },                 /* sysretq */
	{ 2, 0x0f, 0x05 },                       /* syscall */
	{ 1, 0x9d },                             /* popf */
	{ 1, 0xfb },                             /* sti */
};

static void fill_code(void)
{
	uint8_t *p = (uint8_t *)CODE;
	unsigned n = 0;
	while (n < 4096 - 16) {
		uint64_t r = next();
		if (r & 1) {
			p[n++] = (uint8_t)(r >> 8);
			continue;
		}
		const uint8_t *t = templates[(r >> 8) % (sizeof(templates) / sizeof(templates[0]))];
		for (unsigned i = 1; i <= t[0]; i++)
			p[n++] = t[i] == 0xAA ? (uint8_t)next() : t[i];
	}
	while (n < 4096)
		p[n++] = (uint8_t)next();
}

/* Random entries everywhere but the path to the harness (PML4[0],
 * PDPT[0], PD[0] and PD[1]). */
static uint64_t random_entry(void)
{
	/* mostly the fuzz region itself (so a walk goes on through random
	 * tables), now and then anywhere below 8 GiB: RAM, devices, nothing.
	 * (Not too often: the VMM stops a guest whose access to unbacked
	 * memory it cannot decode, and a new VM costs far more than a run.) */
	uint64_t r = next(), addr = FUZZ + (next() & 0x1ff000);
	if ((r & 31) == 0)
		addr = next() & 0x1fffff000UL;
	return addr | (r >> 8 & 0x1e7) | 1 | (r & 0x8000 ? 1UL << 63 : 0);
}

static void fill_tables(void)
{
	uint64_t *pml4 = (uint64_t *)PML4, *pdpt = (uint64_t *)PDPT, *pd = (uint64_t *)PD;
	for (unsigned i = 0; i < 512; i++) {
		pml4[i] = next() & 4 ? random_entry() : 0;
		pdpt[i] = next() & 4 ? random_entry() : 0;
		pd[i] = next() & 4 ? random_entry() : 0;
	}
	pml4[0] = PDPT | 3;
	pdpt[0] = PD | 3;
	pd[0] = PT0 | 3;
	pd[1] = PT1 | 3;
}

/* PT0: the first 2 MiB read-only but for the harness's writable block.
 * PT1: the fuzz region writable but for the tables themselves, so random
 * code can change where it runs only through CR3 (or by clearing CR0.WP). */
static void build_fixed_tables(void)
{
	uint64_t *pt = (uint64_t *)PT0, rw_first = (uint64_t)&rw, rw_last = rw_first + sizeof(rw);
	for (uint64_t i = 0; i < 512; i++) {
		uint64_t a = i << 12;
		pt[i] = a | 1 | (a >= rw_first && a < rw_last ? 2 : 0);
	}
	pt = (uint64_t *)PT1;
	for (uint64_t i = 0; i < 512; i++) {
		uint64_t a = FUZZ + (i << 12);
		pt[i] = a | 1 | (a > PT1 || a == CODE ? 2 : 0);
	}
}

static uint64_t random_value(void)
{
	uint64_t r = next();
	switch (r % 8) {
	case 0: return next() & 0xffff;                               /* a port, a small count */
	case 1: return (next() & 0x1fff) | (next() & 3) << 32;        /* an MSR, maybe through the flaw */
	case 2: return 0xc0000000 | (next() & 0x1ff);                 /* an MSR of the second range */
	case 3: return FUZZ + (next() & 0x1fffff);                    /* inside the fuzz region */
	case 4: return next() & (next() & 3 ? 0x3fffffUL : 0x1ffffffffUL);   /* RAM; or devices, nothing */
	case 5: return 0xffffffff80000000UL | (next() & 0xffffff);    /* where a host kernel lives */
	case 6: return 0;
	default: return next();
	}
}

/* A new code page and new tables every RUNS_PER_PAGE runs; in between
 * each run starts at a random offset of the same page with fresh
 * registers, which is much cheaper than refilling 20 KiB. */
#define RUNS_PER_PAGE 16

static void run_one(void)
{
	if (runs % RUNS_PER_PAGE == 0) {
		fill_code();
		fill_tables();
	}
	fuzz_code = CODE + (runs % RUNS_PER_PAGE ? next() % 4000 : 0);
	for (unsigned i = 0; i < 16; i++)
		fuzz_regs[i] = random_value();
	/* RSP: mostly a stack in the fuzz region, so that exceptions can be
	 * delivered without IST */
	if (next() % 8)
		fuzz_regs[7] = FUZZ + 0x100000 + (next() & 0xff000) - 64;
	/* RFLAGS: interrupts on (so a loop ends at the next tick), the
	 * arithmetic flags, DF and AC at random (TF would trap in the
	 * harness; the random code sets it with POPF) */
	uint64_t r = next();
	fuzz_regs[16] = 2 | (1u << 9) | (r & 0xcd5) | (r & (1u << 18));
	fuzz_enter();
}

void fuzz_next(unsigned vector)
{
	runs++;
	by_irq += vector == 32;
	if (runs % PROGRESS_EVERY == 0)
		gprintf("fuzz: %lu runs, %lu ended by the timer\n", runs, by_irq);
	run_one();
}

__attribute__((interrupt)) static void tick(void *frame)
{
	(void)frame;
}

int main(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	rng = ((uint64_t)hi << 32 | lo) * 0x9e3779b97f4a7c15UL | 1;
	gprintf("fuzz: seed %lx\n", rng);
	__asm__ volatile("mov %%cr0, %0; mov %%cr3, %1; mov %%cr4, %2"
	                 : "=r"(fuzz_cr0), "=r"(fuzz_cr3), "=r"(fuzz_cr4));
	/* a GDT with a TSS whose IST 1 is the harness's own stack */
	rw.gdt[1] = 0x00af9b000000ffffUL;
	rw.gdt[2] = 0x00cf93000000ffffUL;
	uint64_t tss = (uint64_t)rw.tss;
	rw.gdt[3] = (sizeof(rw.tss) - 1) | (tss & 0xffffff) << 16 | 0x89UL << 40 | ((tss >> 24) & 0xff) << 56;
	rw.gdt[4] = tss >> 32;
	uint64_t ist = (uint64_t)rw.ist + sizeof(rw.ist);
	rw.tss[9] = (uint32_t)ist;        /* IST1 at byte 36 */
	rw.tss[10] = (uint32_t)(ist >> 32);
	fuzz_gdtr.limit = sizeof(rw.gdt) - 1;
	fuzz_gdtr.base = (uint64_t)rw.gdt;
	for (unsigned v = 0; v < 256; v++) {
		uint64_t h = (uint64_t)(v >= 32 && v < 48 ? irq_stub : exc_stub);
		/* no IST: QEMU 7.2 aborts the whole emulator ("invalid tss") when
		 * an IST gate is taken with a null task register, which random
		 * code can load (docs/reliability.md); the fuzzer must not stop
		 * on that known, open finding every few seconds */
		idt[2 * v] = (h & 0xffff) | 8UL << 16 | 0x8eUL << 40 | ((h >> 16) & 0xffff) << 48;
		idt[2 * v + 1] = h >> 32;
	}
	fuzz_idtr.limit = sizeof(idt) - 1;
	fuzz_idtr.base = (uint64_t)idt;
	build_fixed_tables();
	timer_start(tick);
	/* the harness's GDT, IDT and task register, as after every run */
	__asm__ volatile("lgdt %0; lidt %1; mov $0x18, %%eax; ltr %%ax" :: "m"(fuzz_gdtr), "m"(fuzz_idtr) : "rax");
	gprintf("fuzz: starting\n");
	run_one();
	return 0;
}
