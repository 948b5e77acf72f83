/* A hostile guest: random port I/O, MSR accesses, MMIO at random
 * addresses and hypercalls with random arguments, thousands of times.
 * Its #GP handler skips what faults; whatever else it breaks in itself is
 * its own VMM's problem.  The serial port is spared so the log stays
 * readable. */
#include "guest.h"

static uint64_t rng = 0x243f6a8885a308d3UL;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

__attribute__((interrupt)) static void gp(void *frame, uint64_t error)
{
	(void)error;
	*(uint64_t *)frame += 2; /* rdmsr and wrmsr are two bytes */
}

int main(void)
{
	idt_set(13, gp);
	idt_load();
	gprintf("hostile: starting\n");
	for (unsigned i = 0; i < 4000; i++) {
		uint64_t r = next(), v = next();
		uint16_t port = (uint16_t)(r >> 16);
		switch (r % 5) {
		case 0:
			if (port < 0x3f8 || port > 0x3ff)
				outb(port, (uint8_t)v);
			break;
		case 1:
			if (port < 0x3f8 || port > 0x3ff)
				(void)inl(port);
			break;
		case 2: {
			uint32_t lo, hi, msr = (uint32_t)v;
			if (msr == 0xc0000080 || msr == 0x277)
				break; /* keep long mode: we want to go on */
			__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
			__asm__ volatile("wrmsr" :: "c"(msr), "a"(lo ^ (uint32_t)r), "d"(hi));
			break;
		}
		case 3: { /* somewhere between 1 GiB and 4 GiB: no RAM there */
			volatile uint32_t *p = (volatile uint32_t *)(0x40000000UL + (v % 0xc0000000UL & ~3UL));
			if (r & 0x100)
				*p = (uint32_t)r;
			else
				(void)*p;
			break;
		}
		default: {
			uint64_t call = v % 8;
			if (call != 1 && call != 2) /* not print (garbage on the console) or exit */
				vmmcall(call, next(), next() % 512);
		}
		}
	}
	gprintf("hostile: done with 4000 attempts\n");
	return 0;
}
