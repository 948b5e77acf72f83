/* String I/O and the print hypercall as the processor and the interface
 * define them: the 0x67 prefix makes INS/OUTS count with ECX and address
 * with ESI/EDI; a page fault in the middle of a REP string is a #PF with
 * CR2 and with RCX/RDI telling how far the string got; an element that
 * straddles two pages reads and writes both pages, wherever they are in
 * guest memory; a print buffer crossing two such pages prints right. */
// test-expect: cross-page print: 0123456789abcdef!
#include "guest.h"

#define PAGE_A 0x150000UL          /* RAM pages, far apart */
#define PAGE_B 0x170000UL
#define PAGE_C 0x180000UL
#define VA_FIRST  WINDOW_VA         /* -> PAGE_A */
#define VA_SECOND (WINDOW_VA + 0x1000) /* -> PAGE_B: adjacent virtually, not physically */
#define VA_MISSING (WINDOW_VA + 0x3000) /* not present, after VA_THIRD */
#define VA_THIRD  (WINDOW_VA + 0x2000) /* -> PAGE_C */

static volatile unsigned pf_count;
static volatile uint64_t pf_cr2, pf_error, resume;

__attribute__((interrupt)) static void on_pf(struct frame *f, uint64_t error)
{
	uint64_t cr2;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	pf_count++;
	pf_cr2 = cr2;
	pf_error = error;
	f->rip = resume;     /* skip the faulting instruction */
}

int main(void)
{
	plan(11);
	idt_set(14, on_pf);
	idt_load();
	window_map(VA_FIRST, PAGE_A | PTE_PRESENT_RW);
	window_map(VA_SECOND, PAGE_B | PTE_PRESENT_RW);
	window_map(VA_THIRD, PAGE_C | PTE_PRESENT_RW);

	/* addr32 rep outsb (67 f3 6e) with RCX = 0x100000001: ECX is 1 */
	static const uint8_t src[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	outl(0x514, 0);
	uint32_t sum0 = inl(0x514);
	uint64_t rcx = 0x100000001UL, rsi = (uint64_t)src;
	__asm__ volatile(".byte 0x67, 0xf3, 0x6e" : "+c"(rcx), "+S"(rsi) : "d"(0x514) : "memory");
	uint32_t sum = inl(0x514) - sum0;
	ok(sum == 1, "addr32 rep outsb with RCX = 0x100000001 sends one byte (sum %u)", sum);
	ok((uint32_t)rcx == 0 && rsi == (uint64_t)src + 1, "ECX counted to 0, ESI moved one byte (rcx %lx)", rcx);

	/* rep insb from the counter port, 16 bytes starting 8 before a
	 * missing page: 8 land, then #PF at the missing page */
	uint64_t rdi = VA_MISSING - 8;
	rcx = 16;
	uint32_t first = inl(0x518);
	__asm__ volatile("lea 1f(%%rip), %%rax; mov %%rax, resume(%%rip)\n\t"
	                 "rep insb\n"
	                 "1:" : "+c"(rcx), "+D"(rdi) : "d"(0x518) : "rax", "memory");
	ok(pf_count == 1 && pf_cr2 == VA_MISSING && pf_error == 2,
	   "a fault in the middle of rep insb is #PF, CR2 %lx, error %lx", pf_cr2, pf_error);
	ok(rcx == 8 && rdi == VA_MISSING, "RCX and RDI tell how far it got (rcx %lu, rdi %lx)", rcx, rdi);
	const volatile uint8_t *landed = (const volatile uint8_t *)(PAGE_C + 0x1000 - 8);
	int in_order = 1;
	for (int i = 0; i < 8; i++)
		in_order &= landed[i] == (uint8_t)(first + 1 + i);
	ok(in_order, "the 8 bytes before the fault arrived in order");

	/* rep outsb reading across into the missing page: #PF, error 0 */
	rsi = VA_MISSING - 4;
	rcx = 8;
	__asm__ volatile("lea 1f(%%rip), %%rax; mov %%rax, resume(%%rip)\n\t"
	                 "rep outsb\n"
	                 "1:" : "+c"(rcx), "+S"(rsi) : "d"(0x80) : "rax", "memory");
	ok(pf_count == 2 && pf_cr2 == VA_MISSING && pf_error == 0 && rcx == 4,
	   "rep outsb faults reading the missing page (error %lx, rcx %lu)", pf_error, rcx);

	/* a 4-byte element across two pages that are not adjacent physically */
	volatile uint8_t *a = (volatile uint8_t *)PAGE_A, *b = (volatile uint8_t *)PAGE_B;
	a[0xffe] = 0x11; a[0xfff] = 0x22; b[0] = 0x33; b[1] = 0x44;
	rsi = VA_FIRST + 0xffe;
	__asm__ volatile("outsl" : "+S"(rsi) : "d"(0x510) : "memory");
	uint32_t got = inl(0x510);
	ok(got == 0x44332211, "outsl across two distant pages sends both halves (%x)", got);
	outl(0x510, 0xddccbbaa);
	rdi = VA_FIRST + 0xffe;
	__asm__ volatile("insl" : "+D"(rdi) : "d"(0x510) : "memory");
	ok(a[0xffe] == 0xaa && a[0xfff] == 0xbb && b[0] == 0xcc && b[1] == 0xdd,
	   "insl across two distant pages writes both halves");

	/* rep outsb over the same boundary, one byte at a time */
	outl(0x514, 0);
	sum0 = inl(0x514);
	rsi = VA_FIRST + 0xffe;
	rcx = 4;
	__asm__ volatile("rep outsb" : "+c"(rcx), "+S"(rsi) : "d"(0x514) : "memory");
	sum = inl(0x514) - sum0;
	ok(sum == 0xaa + 0xbb + 0xcc + 0xdd, "rep outsb across the boundary reads the right bytes (sum %x)", sum);

	/* the print hypercall with its buffer across the same two pages */
	static const char text[] = "cross-page print: 0123456789abcdef!\n";
	uint64_t at = VA_SECOND - 20;
	for (unsigned i = 0; i < sizeof(text) - 1; i++)
		*(volatile char *)(i < 20 ? PAGE_A + 0x1000 - 20 + i : PAGE_B + i - 20) = text[i];
	ok(vmmcall(1, at, sizeof(text) - 1) == 0, "the print hypercall takes a buffer across two pages");

	/* a string with DF set runs downwards and stops at RCX = 0 */
	outl(0x514, 0);
	sum0 = inl(0x514);
	rsi = (uint64_t)&src[15];
	rcx = 3;
	__asm__ volatile("std; rep outsb; cld" : "+c"(rcx), "+S"(rsi) : "d"(0x514) : "memory");
	sum = inl(0x514) - sum0;
	ok(sum == 16 + 15 + 14 && rsi == (uint64_t)&src[12], "rep outsb with DF runs downwards (sum %u)", sum);
	return 0;
}
