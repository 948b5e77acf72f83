#include "tap.h"

static int test_number;
static const char *line_start = "";

void tap_own_lines(void)
{
	line_start = "\n";
}

void tap_plan(int n)
{
	debug_printf("1..%d\n", n);
}

static int report(int cond, const char *detail, const char *fmt, va_list ap)
{
	char name[200];
	debug_vsnprintf(name, sizeof(name), fmt, ap);
	debug_printf("%s%sok %d - %s\n", line_start, cond ? "" : "not ", ++test_number, name);
	if (!cond && detail)
		debug_printf("# %s\n", detail);
	return cond;
}

int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(cond, 0, fmt, ap);
	va_end(ap);
	return cond;
}

int tap_eq(long got, long want, const char *fmt, ...)
{
	char detail[80];
	debug_snprintf(detail, sizeof(detail), "got %ld (0x%lx), want %ld (0x%lx)", got, got, want, want);
	va_list ap;
	va_start(ap, fmt);
	report(got == want, detail, fmt, ap);
	va_end(ap);
	return got == want;
}

_Noreturn void tap_done(void)
{
	sys_debug_exit(0x10);
	debug_printf("# debug exit failed: no isa-debug-exit device\n");
	for (;;)
		sys_tcb_suspend(CAP_ROOT_TCB);
}
