/* Driving a VM's guest from a test program: vm_drive.h. */
#include <stdarg.h>
#include <string.h>
#include <libipc/libipc.h>
#include "vmm.h"   /* generated from idl/vmm.idl */
#include "vm_drive.h"

void vm_nap(unsigned ticks)
{
	static uint64_t port;
	struct msg m;
	if (!port && object_alloc(OBJ_PORT, 0, &port))
		port = 0;
	if (!port)
		return;
	sys_notify_after(port, 1, ticks);
	ipc_recv(port, 0, &m);
}

/* The VMM takes what its UART has room for; the rest a tick later. */
void vm_type(uint64_t vm, const char *line)
{
	uint32_t taken;
	for (size_t at = 0, n = strlen(line); at < n; at += taken, vm_nap(1))
		if (vmm_console_input(vm, (const uint8_t *)line + at, (uint32_t)(n - at), &taken))
			return;
}

int vm_check(const char *who, int cond, const char *fmt, ...)
{
	char line[200];
	va_list ap;
	va_start(ap, fmt);
	debug_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	debug_printf("\n%s: %s - %s\n", who, cond ? "ok" : "FAIL", line);
	return cond;
}
