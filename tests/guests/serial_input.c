/* Input through the emulated 16550: the test runner types on the real
 * serial line, the console server hands it to the VMM, the VMM to the
 * guest's UART. */
// test-send: serial-input-guest: type a line => hello guest\n
// test-expect: serial-input-guest: got 'hello guest'
#include "guest.h"

int main(void)
{
	char line[64];
	unsigned n = 0;
	plan(2);
	gprintf("serial-input-guest: type a line\n");
	for (;;) {
		if (!(inb(0x3f8 + 5) & 1))
			continue;
		char c = (char)inb(0x3f8);
		if (c == '\r' || c == '\n')
			break;
		if (n + 1 < sizeof(line))
			line[n++] = c;
	}
	line[n] = 0;
	gprintf("serial-input-guest: got '%s'\n", line);
	ok(n == 11, "a line of 11 characters arrived (%u)", n);
	ok(line[0] == 'h' && line[10] == 't', "in order");
	return 0;
}
