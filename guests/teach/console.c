/* Output on the 16550 at 0x3f8, polled: the guest has no interrupts to
 * spare for its console, and each character is two port accesses, which
 * under mode=trap are two emulated instructions.  The pv build writes to
 * the VMM's console ring instead (pv.c): no port access at all, and one
 * event per line. */
#include <stdarg.h>
#include "teach.h"

#define COM1 0x3f8
#define LSR_THR_EMPTY 0x20

static void putc_serial(char c)
{
#ifdef TEACH_PV
	pv_console_putc(c);
#else
	while (!(inb(COM1 + 5) & LSR_THR_EMPTY))
		;
	outb(COM1, (uint8_t)c);
#endif
}

static void put_number(uint64_t v, unsigned base)
{
	char digits[24];
	int n = 0;
	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n--)
		putc_serial(digits[n]);
}

/* %d %u %x %s %c, with l for 64 bits: what the report needs */
void print(const char *fmt, ...)
{
	/* a line is printed whole: the timer must not switch to another task
	 * that prints in the middle of it */
	uint64_t flags = irq_save();
#ifdef TEACH_PV
	int ring_was_empty = pv_console_begin();
#endif
	va_list ap;
	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			putc_serial(*fmt);
			continue;
		}
		int wide = 0;
		while (*++fmt == 'l')
			wide = 1;
		switch (*fmt) {
		case 'd': {
			int64_t v = wide ? va_arg(ap, int64_t) : va_arg(ap, int);
			if (v < 0) {
				putc_serial('-');
				v = -v;
			}
			put_number((uint64_t)v, 10);
			break;
		}
		case 'u': put_number(wide ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10); break;
		case 'x': put_number(wide ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16); break;
		case 's': for (const char *s = va_arg(ap, const char *); *s; s++) putc_serial(*s); break;
		case 'c': putc_serial((char)va_arg(ap, int)); break;
		default: putc_serial(*fmt);
		}
	}
	va_end(ap);
#ifdef TEACH_PV
	pv_console_end(ring_was_empty);
#endif
	irq_restore(flags);
}
