/* A hostile guest for mode=trap (tests/system/trap_hostile.c): emulated
 * instructions given wild addresses, a page table entry with reserved
 * bits, SYSCALLs with Berth's own call numbers, then a page table entry
 * pointing outside guest memory.  The first ones must come back to the
 * guest as the page faults and #UDs a processor would give; the last must stop the VM with a line, touching nothing of the
 * VMM's or the kernel's. */
#include "guest.h"

static volatile uint64_t recover, faults, last_cr2, uds, last_ud_rip;

/* A page fault: note it and go on at the address the test set. */
__attribute__((interrupt)) static void pf(struct frame *f, uint64_t error)
{
	(void)error;
	uint64_t cr2;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	last_cr2 = cr2;
	faults++;
	f->rip = recover;
}

/* An invalid opcode: the same, noting where. */
__attribute__((interrupt)) static void ud(struct frame *f)
{
	last_ud_rip = f->rip;
	uds++;
	f->rip = recover;
}

/* Run one instruction that should fault, resuming after it either way. */
#define EXPECT_FAULT(insn, addr)                                                          \
	__asm__ volatile("lea 1f(%%rip), %%rax; mov %%rax, recover(%%rip); " insn "; 1:" \
			 :: "r"(addr) : "rax", "rbx", "memory")

int main(void)
{
	idt_set(14, pf);
	idt_set(6, ud);
	idt_load();
	plan(6);
	uint64_t unmapped = WINDOW_VA + 0x5000;
	window_map(unmapped, 0);

	uint64_t before = faults;
	EXPECT_FAULT("lidt (%0)", unmapped);
	ok(faults == before + 1 && last_cr2 == unmapped, "lidt from an unmapped address: #PF at %lx", last_cr2);

	before = faults;
	EXPECT_FAULT("lgdt (%0)", 0xffff800000000000UL);
	ok(faults == before + 1, "lgdt from a high-half address: a fault (cr2 %lx)", last_cr2);

	/* an entry with bits above the guest's physical address width */
	window_map(WINDOW_VA, 0x000ff00000000000UL | PTE_PRESENT_RW);
	before = faults;
	EXPECT_FAULT("movq (%0), %%rbx", WINDOW_VA);
	ok(faults == before + 1 && last_cr2 == WINDOW_VA, "a reserved bit in a PTE: #PF at %lx", last_cr2);

	/* Berth's SYS_DEBUG_WRITE and SYS_DEBUG_EXIT need no capability; run
	 * by the guest's thread they would print from, and stop, the whole
	 * machine.  The guest never set EFER.SCE: it must get #UD instead. */
	static const char said[] = "trap-hostile: the kernel printed this\n";
	before = uds;
	__asm__ volatile("lea 1f(%%rip), %%rax; mov %%rax, recover(%%rip); mov $2, %%eax; syscall; 1:"
			 :: "D"(said), "S"(sizeof(said) - 1) : "rax", "rcx", "r11", "memory");
	ok(uds == before + 1, "SYSCALL 2 (Berth's debug write): #UD at %lx", last_ud_rip);
	before = uds;
	__asm__ volatile("lea 1f(%%rip), %%rax; mov %%rax, recover(%%rip); mov $3, %%eax; syscall; 1:"
			 :: "D"(0x21) : "rax", "rcx", "r11", "memory");
	ok(uds == before + 1, "SYSCALL 3 (Berth's debug exit): #UD at %lx", last_ud_rip);

	/* the IDT is still the guest's: an interrupt gate reads fine */
	ok(1, "the guest goes on after its faults");

	/* an entry naming guest-physical 256 MiB, far past the guest's 2 MiB */
	window_map(WINDOW_VA + 0x1000, 0x10000000UL | PTE_PRESENT_RW);
	gprintf("trap-hostile: touching guest-physical 256 MiB\n");
	*(volatile uint64_t *)(WINDOW_VA + 0x1000) = 0x4242424242424242UL;
	gprintf("trap-hostile: the write went through\n");
	return 1;
}
