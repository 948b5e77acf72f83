/* MMIO emulation follows the instruction's own address, as the processor
 * does: an 8-byte store straddling RAM and a device puts each half where
 * it belongs and the load brings both back; a guest page table in
 * unbacked memory or in a device is walked as the processor would (all
 * ones is a reserved-bit #PF, a zero entry a not-present #PF), never
 * emulated as if the data access had hit the page table.  And an
 * emulated access leaves the accessed and dirty bits of the guest's entry
 * as the processor's own access would. */
#include "guest.h"

#define MMIO_TEST 0xfeb00000UL
#define RAM_PAGE  0x160000UL
#define UNBACKED  0x80000000UL   /* guest-physical, above RAM, no device */
#define CODE_A    0x170000UL
#define CODE_B    0x171000UL
#define CODE_C    0x172000UL
#define STUB_VA   (WINDOW_VA + 0x5000)

static volatile unsigned pf_count;
static volatile uint64_t pf_cr2, pf_error, resume;

__attribute__((interrupt)) static void on_pf(struct frame *f, uint64_t error)
{
	uint64_t cr2;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	pf_count++;
	pf_cr2 = cr2;
	pf_error = error;
	f->rip = resume;
}

static uint64_t load(uint64_t va)
{
	uint64_t v = 0x1234;
	__asm__ volatile("lea 1f(%%rip), %%rax; mov %%rax, resume(%%rip)\n\t"
	                 "mov (%1), %0\n"
	                 "1:" : "+r"(v) : "r"(va) : "rax", "memory");
	return v;
}

static void store(uint64_t va, uint64_t v)
{
	__asm__ volatile("lea 1f(%%rip), %%rax; mov %%rax, resume(%%rip)\n\t"
	                 "mov %1, (%0)\n"
	                 "1:" :: "r"(va), "r"(v) : "rax", "memory");
}

/* movl $imm, (%rdi); movl (%rdi), %eax; ret: an MMIO store whose
 * immediate says which copy ran, and the load that reads it back, with
 * no MMIO access from anywhere else between two runs (the VMM keeps the
 * walk of the last instruction it fetched) */
static void put_stub(uint64_t pa, uint32_t imm)
{
	volatile uint8_t *p = (volatile uint8_t *)pa;
	const uint8_t code[] = { 0xc7, 0x07, (uint8_t)imm, (uint8_t)(imm >> 8), (uint8_t)(imm >> 16),
	                         (uint8_t)(imm >> 24), 0x8b, 0x07, 0xc3 };
	for (unsigned i = 0; i < sizeof(code); i++)
		p[i] = code[i];
}

static uint32_t run_stub(uint64_t va)
{
	return ((uint32_t (*)(uint64_t))va)(MMIO_TEST);
}

static uint64_t other_table[512] __attribute__((aligned(4096)));

int main(void)
{
	plan(13);
	idt_set(14, on_pf);
	idt_load();

	/* RAM then the test device, virtually adjacent */
	window_map(WINDOW_VA, RAM_PAGE | PTE_PRESENT_RW);
	window_map(WINDOW_VA + 0x1000, MMIO_TEST | PTE_PRESENT_RW);
	*(volatile uint64_t *)MMIO_TEST = 0;
	store(WINDOW_VA + 0xffc, 0x8877665544332211UL);
	uint32_t ram = *(volatile uint32_t *)(RAM_PAGE + 0xffc), dev = *(volatile uint32_t *)MMIO_TEST;
	ok(pf_count == 0 && ram == 0x44332211 && dev == 0x88776655,
	   "an 8-byte store across RAM and a device splits (RAM %x, device %x)", ram, dev);
	uint64_t v = load(WINDOW_VA + 0xffc);
	ok(v == 0x8877665544332211UL, "the load across them returns both halves (%lx)", v);

	/* the window's page table in unbacked memory: it reads as all ones,
	 * whose reserved bits make a #PF with P and RSVD */
	window_table_at(UNBACKED);
	v = load(WINDOW_VA + 0x10);
	ok(pf_count == 1 && pf_cr2 == WINDOW_VA + 0x10 && (pf_error & 9) == 9,
	   "a load through a page table in unbacked memory is #PF (error %lx, cr2 %lx)", pf_error, pf_cr2);
	ok(v == 0x1234, "and the load wrote nothing to its register (%lx)", v);
	store(WINDOW_VA + 0x10, 5);
	ok(pf_count == 2 && (pf_error & 0xb) == 0xb, "a store through it is #PF with W (error %lx)", pf_error);

	/* the window's page table in the test device, its entries zero */
	for (unsigned i = 0; i < 4; i++)
		*(volatile uint64_t *)(MMIO_TEST + 8 * i) = 0;
	window_table_at(MMIO_TEST);
	v = load(WINDOW_VA + 0x1008);
	ok(pf_count == 3 && pf_cr2 == WINDOW_VA + 0x1008 && pf_error == 0 && v == 0x1234,
	   "a load through a zero entry in a device is a not-present #PF (error %lx)", pf_error);
	store(WINDOW_VA + 0x1008, 0x5555);
	uint64_t entry = *(volatile uint64_t *)(MMIO_TEST + 8);
	ok(pf_count == 4 && pf_error == 2 && entry == 0,
	   "a store there is #PF and leaves the entry alone (entry %lx)", entry);
	/* an entry the guest writes into the device is used, as hardware would */
	*(volatile uint64_t *)(MMIO_TEST + 16) = RAM_PAGE | PTE_PRESENT_RW;
	*(volatile uint64_t *)(RAM_PAGE + 0x40) = 0xfeedUL;
	v = load(WINDOW_VA + 0x2040);
	ok(pf_count == 4 && v == 0xfeed, "a present entry in the device maps RAM (%lx)", v);
	window_table_at(0);

	/* entries with the accessed and dirty bits clear: a store to the
	 * device leaves its entry accessed and dirty, a load accessed only */
	window_map(WINDOW_VA + 0x3000, MMIO_TEST | PTE_PRESENT_RW);
	window_map(WINDOW_VA + 0x4000, MMIO_TEST | PTE_PRESENT_RW);
	store(WINDOW_VA + 0x3010, 7);
	v = load(WINDOW_VA + 0x4010);
	uint64_t stored = window_entry(WINDOW_VA + 0x3000), loaded = window_entry(WINDOW_VA + 0x4000);
	ok(pf_count == 4 && (stored & 0x60) == 0x60, "a store to the device: its entry accessed and dirty (%lx)",
	   stored);
	ok(v == 7 && (loaded & 0x60) == 0x20, "a load from it: accessed, not dirty (%lx; %lx)", loaded, v);

	/* the instruction is fetched through the guest's tables as they are
	 * now: the same virtual address, its code moved to another page by
	 * a new entry and INVLPG (no exit under nested paging), or by a new
	 * page table above it, runs the new code (the VMM keeps the last
	 * fetch's walk only while its entries hold, memory.c) */
	put_stub(CODE_A, 0x11111111);
	put_stub(CODE_B, 0x22222222);
	put_stub(CODE_C, 0x33333333);
	window_map(STUB_VA, CODE_A | PTE_PRESENT_RW);
	uint32_t first = run_stub(STUB_VA), again = run_stub(STUB_VA);
	ok(first == 0x11111111 && again == 0x11111111, "an MMIO store run from a page (%x, again %x)", first, again);
	window_remap(STUB_VA, CODE_B | PTE_PRESENT_RW);
	uint32_t moved = run_stub(STUB_VA);
	ok(moved == 0x22222222, "its page remapped with INVLPG: the new page's code runs (%x)", moved);
	for (unsigned i = 0; i < 512; i++)
		other_table[i] = window_entry(WINDOW_VA + 0x1000UL * i);
	other_table[(STUB_VA - WINDOW_VA) >> 12] = CODE_C | PTE_PRESENT_RW;
	window_table_at((uint64_t)other_table);
	uint32_t other = run_stub(STUB_VA);
	ok(other == 0x33333333, "another page table above it: its page's code runs (%x)", other);
	window_table_at(0);
	return 0;
}
