/* Print hypercalls without pause (tests/system/fair_print.c). */
#include "flood.h"

static void print_forever(void)
{
	static const char line[] = "flood flood flood flood flood\n";
	for (;;)
		vmmcall(1, (uint64_t)line, sizeof(line) - 1);
}

int main(void)
{
	flood_run(print_forever);
	return 0;
}
