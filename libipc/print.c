/* debug_printf: formatted output through SYS_DEBUG_WRITE.  Supports
 * %c %s %d %u %x %p %% with an optional '0' flag, width and 'l'. */
#include <libipc/libipc.h>

struct out {
	char *buf;
	size_t size, len;
};

static void emit(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void emit_unsigned(struct out *o, uint64_t v, unsigned base, int width, char pad)
{
	char digits[24];
	int n = 0;
	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (width-- > n)
		emit(o, pad);
	while (n--)
		emit(o, digits[n]);
}

int debug_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			emit(&o, *fmt);
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
			emit(&o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			for (s = s ? s : "(null)"; *s; s++)
				emit(&o, *s);
			break;
		}
		case 'd': {
			int64_t v = is_long ? va_arg(ap, int64_t) : va_arg(ap, int);
			if (v < 0)
				emit(&o, '-');
			emit_unsigned(&o, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, 10, width, pad);
			break;
		}
		case 'u':
			emit_unsigned(&o, is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, width, pad);
			break;
		case 'x':
			emit_unsigned(&o, is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, width, pad);
			break;
		case 'p':
			emit(&o, '0');
			emit(&o, 'x');
			emit_unsigned(&o, (uintptr_t)va_arg(ap, void *), 16, 1, '0');
			break;
		case '%':
			emit(&o, '%');
			break;
		default:
			emit(&o, '%');
			if (!*fmt)
				goto end;
			emit(&o, *fmt);
		}
	}
end:
	if (size)
		buf[o.len < size ? o.len : size - 1] = 0;
	return (int)o.len;
}

int debug_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = debug_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int debug_printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = debug_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sys_debug_write(buf, strlen(buf));
	return n;
}

void debug_puts(const char *s)
{
	sys_debug_write(s, strlen(s));
}
