/* Self-modifying code under mode=patch (tests/system/patch_smc.c): code
 * written at run time into a page, run, written over and run again, and
 * code that rewrites its own next instruction into a popf.  Every popf and
 * pushf among them must be patched before it runs, so each sees and sets
 * the guest's IF: the VMM write-protects a scanned page and scans it again
 * after a write. */
#include "guest.h"

#define IF 0x200UL
#define ROUNDS 20

static uint8_t code[4096] __attribute__((aligned(4096)));

/* push rdi; popfq; xor eax, eax; ret: set the flags to the argument */
static const uint8_t set_flags[] = { 0x57, 0x9d, 0x31, 0xc0, 0xc3 };
/* pushfq; pop rax; ret: the flags */
static const uint8_t get_flags[] = { 0x9c, 0x58, 0xc3 };
/* push rdi; mov byte [rip+0], 0x9d (the next instruction becomes popfq);
 * nop; xor eax, eax; ret */
static const uint8_t rewrite_self[] = { 0x57, 0xc6, 0x05, 0, 0, 0, 0, 0x9d, 0x90, 0x31, 0xc0, 0xc3 };

typedef uint64_t (*fn)(uint64_t);

static void put(const uint8_t *bytes, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		((volatile uint8_t *)code)[i] = bytes[i];
}

static uint64_t flags_here(void)
{
	uint64_t f;
	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return f;
}

int main(void)
{
	plan(4);
	outb(0x21, 0xff); /* every interrupt line masked: sti here only sets IF */
	outb(0xa1, 0xff);
	unsigned set_wrong = 0, get_wrong = 0, self_wrong = 0, self_get_wrong = 0;
	for (int round = 0; round < ROUNDS; round++) {
		put(set_flags, sizeof(set_flags));
		__asm__ volatile("sti");
		((fn)(uintptr_t)code)(flags_here() & ~IF); /* a popf written at run time: off */
		if (flags_here() & IF)
			set_wrong++;
		put(get_flags, sizeof(get_flags));          /* written over: scanned again before it runs */
		if (((fn)(uintptr_t)code)(0) & IF)
			get_wrong++;
		__asm__ volatile("sti");
		if (!(((fn)(uintptr_t)code)(0) & IF))
			get_wrong++;
		put(rewrite_self, sizeof(rewrite_self));
		((fn)(uintptr_t)code)(flags_here() & ~IF); /* the popf it writes into itself: off */
		if (flags_here() & IF)
			self_wrong++;
		if (code[8] != 0x9d && code[8] != 0xcc) /* it did rewrite itself (the patcher may show its int3) */
			self_get_wrong++;
		__asm__ volatile("sti");
	}
	__asm__ volatile("cli");
	ok(!set_wrong, "a popf written at run time turned interrupts off (%u of %u rounds wrong)", set_wrong, ROUNDS);
	ok(!get_wrong, "a pushf written over it read the guest's IF (%u of %u calls wrong)", get_wrong, 2 * ROUNDS);
	ok(!self_wrong, "code that rewrote its next instruction into popf turned interrupts off (%u wrong)", self_wrong);
	ok(!self_get_wrong, "that code did rewrite itself (%u wrong)", self_get_wrong);
	return 0;
}
