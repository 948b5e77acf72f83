/* The guest `make run` boots: it greets, shows what CPUID says about the
 * machine it is in, and exits. */
#include "guest.h"

int main(void)
{
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x40000000), "c"(0));
	char vendor[13] = { 0 };
	for (int i = 0; i < 4; i++) {
		vendor[i] = (char)(b >> (8 * i));
		vendor[4 + i] = (char)(c >> (8 * i));
		vendor[8 + i] = (char)(d >> (8 * i));
	}
	gprintf("Hello from a guest in 64-bit mode. My hypervisor says it is %s,\n", vendor);
	gprintf("and every CPUID, port access and hypercall I make is a message to my VMM.\n");
	return 0;
}
