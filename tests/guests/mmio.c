/* MMIO of each width through the VMM's instruction decoder, and reads of
 * memory that nothing backs. */
#include "guest.h"

#define DEV ((volatile uint8_t *)0xfeb00000UL)

int main(void)
{
	plan(7);
	*(volatile uint32_t *)(DEV + 0) = 0x11223344;
	ok(*(volatile uint32_t *)(DEV + 0) == 0x11223344, "32-bit store and load");
	*(volatile uint64_t *)(DEV + 8) = 0x8877665544332211UL;
	ok(*(volatile uint64_t *)(DEV + 8) == 0x8877665544332211UL, "64-bit store and load");
	*(volatile uint16_t *)(DEV + 16) = 0xbeef;
	ok(*(volatile uint16_t *)(DEV + 16) == 0xbeef, "16-bit");
	DEV[24] = 0x5a;
	ok(DEV[24] == 0x5a && DEV[25] == 0, "8-bit, and its neighbour untouched");
	uint32_t zx;
	__asm__ volatile("movzbl (%1), %0" : "=r"(zx) : "r"(DEV + 3));
	ok(zx == 0x11, "movzx of a byte");
	__asm__ volatile("movl $0x01020304, 32(%0)" :: "r"(DEV) : "memory");
	ok(*(volatile uint32_t *)(DEV + 32) == 0x01020304, "a store of an immediate");
	ok(*(volatile uint32_t *)0x40000000UL == 0xffffffff, "memory nothing backs reads as all ones");
	return 0;
}
