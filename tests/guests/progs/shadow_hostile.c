/* A hostile guest for shadow paging (mode=shadow, tests/system/shadow_vm.c):
 * its page tables point outside its memory, at the physical addresses
 * where the host keeps its kernel, at a device, at themselves (writable),
 * hold reserved bits; at the end it loads CR3 with an address outside its
 * memory.  Each access must give what the guest's own machine would (its
 * own memory, the empty bus, the device, a #PF), never anything of the
 * host's; the bad CR3 ends the VM with a triple fault, as it would a
 * real machine. */
#include "guest.h"

#define W WINDOW_VA
#define MMIO_TEST_GPA 0xfeb00000UL

static uint8_t scratch[4096] __attribute__((aligned(4096)));
static volatile unsigned faults;
static volatile uint64_t fault_addr, fault_error;

static void invlpg(uint64_t va)
{
	__asm__ volatile("invlpg (%0)" :: "r"(va) : "memory");
}

/* A page fault: note it, and map the scratch page there so the access
 * can complete when it runs again. */
__attribute__((interrupt)) static void pf(void *frame, uint64_t error)
{
	(void)frame;
	uint64_t cr2;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	faults++;
	fault_addr = cr2;
	fault_error = error;
	window_map(cr2 & ~0xfffUL, (uint64_t)scratch | PTE_PRESENT_RW);
}

int main(void)
{
	idt_set(14, pf);
	idt_load();
	plan(11);
	uint64_t cr0;
	__asm__ volatile("mov %%cr0, %0; or $0x10000, %0; mov %0, %%cr0" : "=r"(cr0));   /* CR0.WP */

	window_map(W, 0x7f000000UL | PTE_PRESENT_RW);    /* past its 2 MiB of RAM: nothing there */
	volatile uint32_t *p = (volatile uint32_t *)W;
	*p = 0x12345678;
	ok(*p == 0xffffffffu, "a page past guest RAM is the empty bus: writes vanish, reads are all ones (%x)", *p);

	window_map(W + 0x1000, 0x4000000000UL | PTE_PRESENT_RW);   /* 256 GiB */
	ok(*(volatile uint32_t *)(W + 0x1000) == 0xffffffffu, "so is a guest-physical address far above it");

	/* where a host keeps its kernel is, for a guest, only its own memory */
	window_map(W + 0x2000, 0x100000UL | PTE_PRESENT_RW);
	ok(*(volatile uint32_t *)(W + 0x2000) == *(volatile uint32_t *)0x100000UL,
	   "guest-physical 1 MiB is the guest's own code, not the host's kernel");

	window_map(W + 0x3000, MMIO_TEST_GPA | PTE_PRESENT_RW);   /* the VMM's test registers */
	*(volatile uint32_t *)(W + 0x3008) = 0x5a5a;
	ok(*(volatile uint32_t *)(W + 0x3008) == 0x5a5a, "a device mapped through the guest's tables is emulated");

	/* the window's page table mapped writable into the window itself */
	uint64_t table = *(volatile uint64_t *)0x4000 & ~0xfffUL;
	window_map(W + 0x4000, table | PTE_PRESENT_RW);
	volatile uint64_t *self = (volatile uint64_t *)(W + 0x4000);
	ok((self[4] & ~0xfffUL) == table, "a page table that maps itself reads its own entries");
	scratch[0] = 0xab;
	self[5] = (uint64_t)scratch | PTE_PRESENT_RW;   /* written through the self-map */
	invlpg(W + 0x5000);
	ok(*(volatile uint8_t *)(W + 0x5000) == 0xab, "an entry written through the self-map takes effect after INVLPG");
	self[6] = 0x000ffffffffff000UL | PTE_PRESENT_RW;   /* bits above the guest's physical width */
	invlpg(W + 0x6000);
	faults = 0;
	(void)*(volatile uint8_t *)(W + 0x6000);
	ok(faults == 1 && fault_addr == W + 0x6000 && (fault_error & 9) == 9,
	   "an entry with reserved bits: the guest's #PF with RSVD (%u, %lx, %lx)", faults, fault_addr, fault_error);

	window_map(W + 0x7000, (uint64_t)scratch | 1);   /* read-only */
	faults = 0;
	*(volatile uint8_t *)(W + 0x7000) = 1;
	ok(faults == 1 && (fault_error & 3) == 3, "a write to a read-only page: #PF present|write (%lx)", fault_error);

	window_map(W + 0x8000, 0);
	faults = 0;
	(void)*(volatile uint8_t *)(W + 0x8000);
	ok(faults == 1 && !(fault_error & 1), "a missing page: #PF not-present (%lx)", fault_error);

	uint64_t cr3;
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	ok(cr3 == (0x1000UL), "CR3 reads as the guest loaded it (%lx), not the shadow's", cr3);
	ok(1, "the guest is still whole; now CR3 at 2 GiB, outside its memory");
	__asm__ volatile("mov %0, %%cr3" :: "r"(0x80000000UL) : "memory");
	gputs("shadow-hostile: still running after the bad CR3\n");
	return 0;
}
