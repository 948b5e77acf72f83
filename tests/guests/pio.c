/* Port I/O of every size, and string I/O with and without REP. */
#include "guest.h"

int main(void)
{
	plan(8);
	outl(0x510, 0xdeadbeef);
	ok(inl(0x510) == 0xdeadbeef, "a 32-bit register written and read back");
	outw(0x510, 0x1234);
	ok(inw(0x510) == 0x1234 && inl(0x510) == 0x1234, "16-bit access");
	outb(0x510, 0x7f);
	ok(inb(0x510) == 0x7f, "8-bit access");
	ok(inb(0x700) == 0xff && inw(0x700) == 0xffff && inl(0x700) == 0xffffffff, "an empty port reads all ones");

	static const uint8_t bytes[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	const void *src = bytes;
	uint64_t count = 10;
	__asm__ volatile("cld; rep outsb" : "+S"(src), "+c"(count) : "d"(0x514) : "memory");
	ok(inl(0x514) == 55 && count == 0 && src == bytes + 10, "rep outsb: 10 bytes summed, rsi and rcx moved");
	static uint16_t words[6];
	void *dst = words;
	count = 6;
	__asm__ volatile("cld; rep insw" : "+D"(dst), "+c"(count) : "d"(0x518) : "memory");
	ok(words[0] == 0 && words[5] == 5 && dst == words + 6, "rep insw: six counts read in order");
	uint32_t one;
	dst = &one;
	__asm__ volatile("insl" : "+D"(dst) : "d"(0x518) : "memory");
	ok(one == 6 && dst == &one + 1, "a single insl");
	src = bytes + 9;
	count = 3;
	__asm__ volatile("std; rep outsb; cld" : "+S"(src), "+c"(count) : "d"(0x514) : "memory");
	ok(inl(0x514) == 55 + 10 + 9 + 8, "rep outsb backwards (DF set)");
	return 0;
}
