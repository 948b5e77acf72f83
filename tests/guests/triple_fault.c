/* A triple fault stops this VM, with the reason, and nothing else. */
// test-guest-end: vmm: guest stopped: shutdown \(a triple fault\)
#include "guest.h"

int main(void)
{
	plan(1);
	ok(1, "about to triple fault");
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) empty = { 0, 0 };
	__asm__ volatile("lidt %0; int3" :: "m"(empty));
	return 1;
}
