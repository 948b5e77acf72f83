/* A nested page fault while the processor delivers an event (here the
 * IDT is in unbacked memory, so delivering a #GP reads it from nowhere)
 * is not the instruction's own access: the VMM must not emulate the MOV
 * that raised the #GP as an MMIO load from the IDT and carry on.  A real
 * machine reading an IDT of all ones ends in a triple fault; the VMM
 * stops the VM and says why. */
// test-guest-end: vmm: guest stopped: an event's delivery touched memory that is not RAM
#include "guest.h"

int main(void)
{
	plan(1);
	ok(1, "about to take a #GP with the IDT in unbacked memory");
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr = { 4095, 0x80000000UL };
	__asm__ volatile("lidt %0" :: "m"(idtr));
	uint64_t v = 0;
	/* a non-canonical address: #GP */
	__asm__ volatile("mov (%1), %0" : "=r"(v) : "r"(0x8000000000000000UL) : "memory");
	/* reached only if the MOV was emulated: a test beyond the plan */
	ok(0, "the MOV was emulated as a load from the IDT (%lx)", v);
	return 0;
}
