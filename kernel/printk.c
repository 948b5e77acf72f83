/* printk: a small printf onto the kernel's serial channel.  Supports
 * %c %s %d %u %x %p %% with an optional '0' flag, width and 'l'. */
#include "klib.h"
#include "serial.h"
#include "object.h"
#include "cpu.h"

static void put_unsigned(uint64_t v, unsigned base, int width, char pad)
{
	char buf[24];
	int n = 0;
	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (width-- > n)
		log_putc(pad);
	while (n--)
		log_putc(buf[n]);
}

void vprintk(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			log_putc(*fmt);
			continue;
		}
		char pad = ' ';
		int width = 0, is_long = 0;
		if (*++fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l')
			is_long = 1, fmt++;
		switch (*fmt) {
		case 'c':
			log_putc((char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			for (s = s ? s : "(null)"; *s; s++)
				log_putc(*s);
			break;
		}
		case 'd': {
			int64_t v = is_long ? va_arg(ap, int64_t) : va_arg(ap, int);
			if (v < 0) {
				log_putc('-');
				put_unsigned((uint64_t)0 - (uint64_t)v, 10, width, pad);
			} else {
				put_unsigned((uint64_t)v, 10, width, pad);
			}
			break;
		}
		case 'u':
			put_unsigned(is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, width, pad);
			break;
		case 'x':
			put_unsigned(is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, width, pad);
			break;
		case 'p':
			log_putc('0');
			log_putc('x');
			put_unsigned((uintptr_t)va_arg(ap, void *), 16, 16, '0');
			break;
		case '%':
			log_putc('%');
			break;
		default:
			log_putc('%');
			log_putc(*fmt);
			if (!*fmt)
				return;
		}
	}
}

void printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

/* Ends QEMU through isa-debug-exit when it is present (tests), then halts. */
#define DEBUG_EXIT_PORT 0xf4
#define DEBUG_EXIT_PANIC 0x7f

_Noreturn void panic(const char *fmt, ...)
{
	va_list ap;
	log_direct(); /* what waits for the console driver first, then nothing waits */
	printk("\nKERNEL PANIC: ");
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	printk("\nSystem halted.\n");
	outb(DEBUG_EXIT_PORT, DEBUG_EXIT_PANIC);
	halt_forever();
}
