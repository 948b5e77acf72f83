/* The hypercall interface. */
#include "guest.h"

int main(void)
{
	static const char hello[] = "vmmcall-guest: printed through a hypercall\n";
	plan(3);
	ok(vmmcall(0, 0, 0) == 1, "hypercall 0: interface version 1");
	ok(vmmcall(1, (uint64_t)hello, sizeof(hello) - 1) == 0, "hypercall 1: print");
	ok(vmmcall(99, 1, 2) == (uint64_t)-1, "an unknown hypercall returns -1");
	return 0;
}
