/* Debug output straight to the kernel's serial line (SYS_DEBUG_WRITE),
 * apart from stdio and the console hooks.  Formatting is newlib's integer
 * variant (vsniprintf): everything printf knows but floating point, no
 * heap, no locks, so it serves any thread at any time; stdio's printf has
 * floating point.  picolibc's vsnprintf is that already (a string stream
 * takes no lock and no heap). */
#include <libipc/libipc.h>
#include <stdio.h>

int debug_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
#ifdef __PICOLIBC__
	return vsnprintf(buf, size, fmt, ap);
#else
	return vsniprintf(buf, size, fmt, ap);
#endif
}

int debug_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = debug_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* At most 511 bytes of output per call. */
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
