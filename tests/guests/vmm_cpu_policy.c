/* What the VMM emulates of the processor, checked as hardware behaves:
 * CPUID shows only features the guest can turn on (no PKU, no LA57, and
 * every CR4 feature it shows can be set); EFER writes that only clear
 * LMA are ignored and a change of LME with paging on is #GP; a PAT with
 * a reserved memory type is #GP; the SVM instructions, INVLPGA and
 * MONITOR/MWAIT raise #UD; single-stepping over an emulated CPUID or OUT
 * traps right after it. */
#include "guest.h"

static volatile unsigned ud_count, gp_count, db_count;
static volatile uint64_t db_rip;

__attribute__((interrupt)) static void on_ud(struct frame *f)
{
	ud_count++;
	f->rip += 3;      /* every instruction tried below is 3 bytes long */
}

__attribute__((interrupt)) static void on_gp(struct frame *f, uint64_t error)
{
	(void)error;
	gp_count++;
	f->rip += 2;      /* RDMSR and WRMSR */
}

__attribute__((interrupt)) static void on_db(struct frame *f)
{
	db_count++;
	db_rip = f->rip;
	f->rflags &= ~0x100UL;  /* one step is enough */
}

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static uint64_t read_cr4(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static void write_cr4(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr4" :: "r"(v));
}

int main(void)
{
	plan(15);
	idt_set(6, on_ud);
	idt_set(13, on_gp);
	idt_set(1, on_db);
	idt_load();

	uint32_t r[4];
	cpuid(7, 0, r);
	ok(!(r[2] & (1u << 3)) && !(r[2] & (1u << 4)), "CPUID.7: no PKU, no OSPKE (ecx %x)", r[2]);
	ok(!(r[2] & (1u << 16)), "CPUID.7: no LA57");
	/* every CR4 feature shown can be turned on and off; a refused CR4
	 * would stop the VM here and leave the plan short */
	struct { unsigned leaf, reg, bit, cr4; const char *name; } feats[] = {
		{ 7, 1, 0, 16, "FSGSBASE" }, { 7, 1, 7, 20, "SMEP" }, { 7, 1, 20, 21, "SMAP" },
		{ 7, 2, 2, 11, "UMIP" }, { 1, 2, 17, 17, "PCIDE" },
	};
	unsigned shown = 0;
	for (unsigned i = 0; i < sizeof(feats) / sizeof(feats[0]); i++) {
		cpuid(feats[i].leaf, 0, r);
		if (!(r[feats[i].reg] & (1u << feats[i].bit)))
			continue;
		uint64_t cr4 = read_cr4();
		write_cr4(cr4 | (1UL << feats[i].cr4));
		write_cr4(cr4);
		shown++;
		gprintf("# %s shown and usable\n", feats[i].name);
	}
	__asm__ volatile("out %%al, $0x80" :: "a"(0)); /* an exit, to enter the guest with that CR4 */
	ok(1, "each of the %u CR4 features CPUID shows could be turned on", shown);

	uint64_t efer = rdmsr(0xc0000080);
	wrmsr(0xc0000080, efer & ~(1UL << 10));
	ok(gp_count == 0 && rdmsr(0xc0000080) == efer, "EFER: a write clearing only LMA is ignored (%lx)",
	   rdmsr(0xc0000080));
	wrmsr(0xc0000080, efer & ~(1UL << 8));
	ok(gp_count == 1 && rdmsr(0xc0000080) == efer, "EFER: clearing LME with paging on is #GP");
	wrmsr(0xc0000080, efer | (1UL << 12));
	ok(gp_count == 2, "EFER: setting SVME, which CPUID hides, is #GP");

	uint64_t pat = rdmsr(0x277);
	wrmsr(0x277, (pat & ~0xffUL) | 2);
	ok(gp_count == 3 && rdmsr(0x277) == pat, "PAT: memory type 2 (reserved) is #GP");
	wrmsr(0x277, (pat & ~0xff00UL) | (8UL << 8));
	ok(gp_count == 4 && rdmsr(0x277) == pat, "PAT: memory type 8 is #GP");
	wrmsr(0x277, 0x0007040600070406UL);
	ok(gp_count == 4 && rdmsr(0x277) == 0x0007040600070406UL, "PAT: the reset value is accepted");

	/* VMRUN, VMLOAD, VMSAVE, STGI, CLGI, SKINIT, INVLPGA: 0f 01 d8, da..df */
	__asm__ volatile(".byte 0x0f,0x01,0xd8" :: "a"(0x10000UL) : "memory");
	__asm__ volatile(".byte 0x0f,0x01,0xda" :: "a"(0x10000UL) : "memory");
	__asm__ volatile(".byte 0x0f,0x01,0xdb" :: "a"(0x10000UL) : "memory");
	__asm__ volatile(".byte 0x0f,0x01,0xdc" ::: "memory");
	__asm__ volatile(".byte 0x0f,0x01,0xdd" ::: "memory");
	__asm__ volatile(".byte 0x0f,0x01,0xde" :: "a"(0x10000UL) : "memory");
	ok(ud_count == 6, "VMRUN, VMLOAD, VMSAVE, STGI, CLGI, SKINIT raise #UD (%u)", ud_count);
	__asm__ volatile(".byte 0x0f,0x01,0xdf" :: "a"(0x1000UL), "c"(1) : "memory");
	ok(ud_count == 7, "INVLPGA raises #UD");
	/* MONITOR (0f 01 c8) and MWAIT (0f 01 c9): CPUID hides them */
	__asm__ volatile(".byte 0x0f,0x01,0xc8" :: "a"(0x1000UL), "c"(0), "d"(0) : "memory");
	__asm__ volatile(".byte 0x0f,0x01,0xc9" :: "a"(0), "c"(0) : "memory");
	cpuid(1, 0, r);
	ok(ud_count == 9 && !(r[2] & (1u << 3)), "MONITOR and MWAIT raise #UD, and CPUID hides them");

	/* single-step: POPF sets TF, the next instruction (emulated) traps
	 * right after itself */
	uint64_t want;
	__asm__ volatile("lea 1f(%%rip), %0\n\t"
	                 "pushfq; orq $0x100, (%%rsp); popfq\n\t"
	                 "cpuid\n"
	                 "1: nop"
	                 : "=&r"(want) : "a"(0), "c"(0) : "rbx", "rdx", "memory");
	ok(db_count == 1 && db_rip == want, "TF: #DB right after an emulated CPUID (rip %lx, want %lx)", db_rip, want);
	__asm__ volatile("lea 1f(%%rip), %0\n\t"
	                 "pushfq; orq $0x100, (%%rsp); popfq\n\t"
	                 "outb %%al, $0x80\n"
	                 "1: nop"
	                 : "=&r"(want) : "a"(0) : "memory");
	ok(db_count == 2 && db_rip == want, "TF: #DB right after an emulated OUT (rip %lx, want %lx)", db_rip, want);
	uint64_t dr6;
	__asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
	ok(dr6 & (1UL << 14), "DR6.BS says single step (%lx)", dr6);
	return 0;
}
