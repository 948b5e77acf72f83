/* MSRs through the VMM, and an exception the VMM injects. */
#include "guest.h"

static volatile unsigned gp_count;
static volatile uint64_t gp_error;

__attribute__((interrupt)) static void gp(void *frame, uint64_t error)
{
	uint64_t *rip = frame;
	gp_count++;
	gp_error = error;
	*rip += 2; /* skip the rdmsr or wrmsr */
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo = 0, hi = 0;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

int main(void)
{
	plan(5);
	idt_set(13, gp);
	idt_load();
	uint64_t efer = rdmsr(0xc0000080);
	ok((efer & 0x500) == 0x500 && !(efer & (1u << 12)), "EFER shows long mode and hides SVME (%lx)", efer);
	wrmsr(0x277, 0x0007040600070406UL ^ 0x100);
	ok(rdmsr(0x277) == (0x0007040600070406UL ^ 0x100), "PAT written and read back");
	ok(gp_count == 0, "no faults so far");
	rdmsr(0x12345678);
	ok(gp_count == 1 && gp_error == 0, "an unknown MSR raises #GP(0), injected by the VMM");
	wrmsr(0x1b, 0xfee00000UL | (1u << 11) | (1u << 10));
	ok(gp_count == 2 && rdmsr(0x1b) == (0xfee00000UL | 0x900),
	   "asking the APIC base for x2APIC mode (not offered) raises #GP; the base is unchanged");
	return 0;
}
