/* The shell's trace command (docs/trace.md): the kernel's record of the
 * messages to and from chosen tasks, read through init (idl/init.idl's
 * trace and trace_read; init holds the trace capability).
 *
 *   trace on NAME...     trace these tasks' messages
 *   trace off [NAME...]  stop (every task when no name is given)
 *   trace show           print the records and take them out of the ring:
 *                        time since the first (us), delta to the previous,
 *                        from -> to, kind, label
 * (the table at the end; commands.c checks the words) */
#include <string.h>
#include <berth/syscall.h>
#include <berth/vcpu.h>
#include <libipc/libipc.h>
#include "init.h"      /* generated from idl/init.idl; the others for their names */
#include "console.h"
#include "clock.h"
#include "vmm.h"
#include "pci.h"
#include "block.h"
#include "fs.h"
#include "netif.h"
#include "socket.h"
#include "vswitch.h"
#include "shell.h"

#define MAX_TASKS 64
#define SHOW_MAX 1024    /* records one show reads before it prints */

static char task_names[MAX_TASKS][33];

/* Interface and method names, from the tables idlc writes into each
 * interface's header (label = interface << 8 | method, 1-based). */
#define IFC(U, M) { U##_INTERFACE, U##_INTERFACE_NAME, M, U##_METHOD_COUNT }
static const char *const init_m[] = { INIT_METHOD_NAMES }, *const console_m[] = { CONSOLE_METHOD_NAMES },
	*const clock_m[] = { CLOCK_METHOD_NAMES }, *const vmm_m[] = { VMM_METHOD_NAMES },
	*const pci_m[] = { PCI_METHOD_NAMES }, *const block_m[] = { BLOCK_METHOD_NAMES },
	*const fs_m[] = { FS_METHOD_NAMES }, *const netif_m[] = { NETIF_METHOD_NAMES },
	*const socket_m[] = { SOCKET_METHOD_NAMES }, *const vswitch_m[] = { VSWITCH_METHOD_NAMES };
static const struct {
	unsigned number;
	const char *name;
	const char *const *methods;
	unsigned count;
} interfaces[] = {
	IFC(INIT, init_m), IFC(CONSOLE, console_m), IFC(CLOCK, clock_m), IFC(VMM, vmm_m), IFC(PCI, pci_m),
	IFC(BLOCK, block_m), IFC(FS, fs_m), IFC(NETIF, netif_m), IFC(SOCKET, socket_m), IFC(VSWITCH, vswitch_m),
};

static void label_text(unsigned kind, uint64_t label, char *buf, size_t size)
{
	if (kind == TRACE_NOTIFY) {
		debug_snprintf(buf, size, "bits %#lx", label);
		return;
	}
	if (kind == TRACE_FAULT) {
		debug_snprintf(buf, size, "vector %lu", label);
		return;
	}
	if (kind == TRACE_VMEXIT) {
		static const struct {
			uint64_t code;
			const char *name;
		} exits[] = {
			{ VMEXIT_NPF, "npf" }, { VMEXIT_IOIO, "io" }, { VMEXIT_HLT, "hlt" }, { VMEXIT_CPUID, "cpuid" },
			{ VMEXIT_MSR, "msr" }, { VMEXIT_INTR, "intr" }, { VMEXIT_VINTR, "vintr" }, { VMEXIT_NMI, "nmi" },
			{ VMEXIT_VMMCALL, "vmmcall" }, { VMEXIT_SHUTDOWN, "shutdown" }, { VMEXIT_XSETBV, "xsetbv" },
		};
		for (unsigned i = 0; i < sizeof(exits) / sizeof(exits[0]); i++)
			if (exits[i].code == label) {
				debug_snprintf(buf, size, "exit %s", exits[i].name);
				return;
			}
		if (label >= VMEXIT_EXCEPTION(0) && label < VMEXIT_EXCEPTION(32))
			debug_snprintf(buf, size, "exit exception %lu", label - VMEXIT_EXCEPTION(0));
		else
			debug_snprintf(buf, size, "exit %#lx", label);
		return;
	}
	unsigned number = (unsigned)(label >> 8), method = (unsigned)(label & 0xff);
	for (unsigned i = 0; i < sizeof(interfaces) / sizeof(interfaces[0]); i++) {
		if (interfaces[i].number != number)
			continue;
		if (method >= 1 && method <= interfaces[i].count)
			debug_snprintf(buf, size, "%s.%s", interfaces[i].name, interfaces[i].methods[method - 1]);
		else
			debug_snprintf(buf, size, "%s.%u", interfaces[i].name, method);
		return;
	}
	debug_snprintf(buf, size, "%#lx", label);
}

static const char *who(uint32_t w, char *buf, size_t size)
{
	if (!w)
		return "kernel";
	if (w == 0x7fffffffu)
		return "init";
	if (w & 0x80000000u) {
		debug_snprintf(buf, size, "thread%u", w & 0x7fffffffu);
		return buf;
	}
	if (w <= MAX_TASKS && task_names[w - 1][0])
		return task_names[w - 1];
	debug_snprintf(buf, size, "task%u", w - 1);
	return buf;
}

/* tenths of a microsecond as "us.t" */
static void us_text(uint64_t tsc, uint64_t per_ms, char *buf, size_t size)
{
	uint64_t tenths = per_ms ? tsc * 10000 / per_ms : 0;
	debug_snprintf(buf, size, "%lu.%lu", tenths / 10, tenths % 10);
}

static void trace_show(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)argv;
	(void)line;
	static const char *const kinds[] = { "?", "call", "reply", "send", "notify", "vmexit", "fault" };
	for (uint32_t i = 0; i < MAX_TASKS; i++) {
		uint32_t state, restarts, threads;
		uint64_t memory;
		if (init_task_info(INIT_SLOT, i, task_names[i], &state, &restarts, &threads, &memory))
			break;
	}
	/* Read what the ring holds before printing any of it: a traced shell
	 * makes records as it prints, and they wait for the next show. */
	static struct {
		uint64_t tsc, label;
		uint32_t from, to;
		uint8_t kind;
	} rec[SHOW_MAX];
	unsigned n = 0;
	uint32_t lost_total = 0;
	uint64_t per_ms = 0;
	uint32_t count = 0;
	while (n + 16 <= SHOW_MAX) {
		uint32_t lost, from[16], to[16];
		uint64_t tsc[16], label[16];
		uint8_t kind[16];
		long err = init_trace_read(INIT_SLOT, &count, &lost, &per_ms, tsc, label, from, to, kind);
		if (err) {
			outf("trace: init refused to read (error %ld%s)\n", err,
			     err == E_NO_RIGHTS ? ": the shell's manifest entry lacks 'trace'" : "");
			return;
		}
		lost_total += lost;
		for (uint32_t i = 0; i < count; i++, n++) {
			rec[n].tsc = tsc[i];
			rec[n].label = label[i];
			rec[n].from = from[i];
			rec[n].to = to[i];
			rec[n].kind = kind[i];
		}
		if (count < 16)
			break;
	}
	if (n)
		outf("%10s %9s  %-10s    %-10s %-7s %s\n", "time/us", "delta/us", "from", "to", "kind", "label");
	for (unsigned i = 0; i < n; i++) {
		char t[24], d[24], f[24], o[24], l[40];
		unsigned k = rec[i].kind & 0x7f;
		us_text(rec[i].tsc - rec[0].tsc, per_ms, t, sizeof(t));
		us_text(rec[i].tsc - rec[i ? i - 1 : 0].tsc, per_ms, d, sizeof(d));
		label_text(k, rec[i].label, l, sizeof(l));
		/* a notification posted while no thread waited on the port */
		const char *to = k == TRACE_NOTIFY && !rec[i].to && rec[i].from ? "(port)" : who(rec[i].to, o, sizeof(o));
		outf("%10s %9s  %-10s -> %-10s %-7s %s%s\n", t, d, who(rec[i].from, f, sizeof(f)), to,
		     k < 7 ? kinds[k] : "?", l, rec[i].kind & 0x80 ? " (fast)" : "");
	}
	if (!n)
		out("trace: no records\n");
	else if (count == 16)
		out("trace: more records wait in the kernel: trace show again\n");
	if (lost_total)
		outf("trace: %u older records were overwritten before they were read\n", lost_total);
}

static int task_running(const char *name)
{
	char n[33], args[128];
	uint32_t flags, state, end;
	int64_t detail;
	for (uint32_t i = 0; !init_task_status(INIT_SLOT, i, n, &flags, &state, &end, &detail, args); i++)
		if (!strcmp(n, name))
			return state == 1; /* init.idl's task_status: 1 running */
	return 0;
}

/* trace on NAME... and trace off [NAME...] */
static void trace_set(int argc, char **argv, const struct words *line)
{
	(void)line;
	int on = !strcmp(argv[0], "on");
	if (argc == 1) { /* trace off: every task */
		if (init_trace(INIT_SLOT, "", 0))
			out("trace off: init refused (is 'trace' in the shell's manifest entry?)\n");
		else
			out("tracing no task\n");
		return;
	}
	for (int i = 1; i < argc; i++) {
		const char *name = argv[i];
		long err = init_trace(INIT_SLOT, name, (uint32_t)on);
		if (err == E_NO_RIGHTS) {
			out("trace: not allowed (the shell's manifest entry lacks 'trace')\n");
			return;
		} else if (err) {
			outf("trace: no task '%s' (%s)\n", name,
			     !strcmp(name, "init") || !strcmp(name, "[idle]") ? "init and [idle] are not traced"
			                                                     : "ps lists them");
		} else {
			int running = task_running(name);
			outf("%s %s%s\n", on ? "tracing" : "not tracing", name,
			     running ? "" : " from its next start (it is not running)");
		}
	}
}

const struct command trace_commands[] = {
	{ "on", "NAME...", 1, -1, 0, "record the messages to and from these tasks (docs/trace.md)",
	  "From now on the kernel records every message to or from the tasks' threads (a task\n"
	  "that is not running, from its next start), in a ring of 4096 records.\n", trace_set, 0 },
	{ "off", "[NAME...]", 0, -1, 0, "stop recording (every task when no name is given)", 0, trace_set, 0 },
	{ "show", "", 0, 0, 0, "the records, oldest first: time, delta, from -> to, kind, label",
	  "Prints the records and takes them out of the ring: the time since the first (us),\n"
	  "the time since the previous, who sent to whom (kernel: an interrupt or a timer),\n"
	  "the kind (call, reply, send, notify, vmexit, fault) and the method or event.\n",
	  trace_show, 0 },
	{ 0, 0, 0, 0, 0, 0, 0, 0, 0 },
};
