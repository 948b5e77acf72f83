#include <stdarg.h>
#include "guest.h"

static void putc_uart(char c)
{
	while (!(inb(0x3f8 + 5) & 0x20))
		;
	outb(0x3f8, (uint8_t)c);
}

void gputs(const char *s)
{
	while (*s)
		putc_uart(*s++);
}

static void put_unsigned(uint64_t v, unsigned base)
{
	char buf[24];
	int n = 0;
	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n--)
		putc_uart(buf[n]);
}

static void vgprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			putc_uart(*fmt);
			continue;
		}
		int is_long = 0;
		while (*++fmt == 'l')
			is_long = 1;
		switch (*fmt) {
		case 'd': {
			int64_t v = is_long ? va_arg(ap, int64_t) : va_arg(ap, int);
			if (v < 0) {
				putc_uart('-');
				v = -v;
			}
			put_unsigned((uint64_t)v, 10);
			break;
		}
		case 'u': put_unsigned(is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10); break;
		case 'x': put_unsigned(is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16); break;
		case 's': gputs(va_arg(ap, const char *)); break;
		case 'c': putc_uart((char)va_arg(ap, int)); break;
		default: putc_uart(*fmt);
		}
	}
}

void gprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vgprintf(fmt, ap);
	va_end(ap);
}

static int tests;

void plan(int n)
{
	gprintf("1..%d\n", n);
}

int ok(int cond, const char *fmt, ...)
{
	va_list ap;
	gprintf("%sok %d - ", cond ? "" : "not ", ++tests);
	va_start(ap, fmt);
	vgprintf(fmt, ap);
	va_end(ap);
	gprintf("\n");
	return cond;
}

static struct {
	uint16_t off_lo, sel;
	uint8_t ist, attr;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed)) idt[256];

void idt_set(unsigned v, void *handler)
{
	uint64_t a = (uint64_t)handler;
	idt[v].off_lo = (uint16_t)a;
	idt[v].sel = 8;
	idt[v].attr = 0x8e;
	idt[v].off_mid = (uint16_t)(a >> 16);
	idt[v].off_hi = (uint32_t)(a >> 32);
}

void idt_load(void)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) p = { sizeof(idt) - 1, (uint64_t)idt };
	__asm__ volatile("lidt %0" :: "m"(p));
}

void timer_start(void *handler)
{
	outb(0x20, 0x11); outb(0x21, 0x20); outb(0x21, 4); outb(0x21, 1);
	outb(0xa0, 0x11); outb(0xa1, 0x28); outb(0xa1, 2); outb(0xa1, 1);
	outb(0x21, 0xfe); outb(0xa1, 0xff);
	idt_set(0x20, handler);
	idt_load();
	outb(0x43, 0x34); outb(0x40, (uint8_t)11932); outb(0x40, (uint8_t)(11932 >> 8));
}
