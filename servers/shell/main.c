/* The shell: a command line on the console.  Finds the console through
 * init's name service (slot 8), and looks it up again when the console
 * driver is restarted.
 *
 * Two threads.  The reader owns the console's input: it hands typed
 * bytes to the command line through the shell's own port, or, while
 * `vm console` is attached to a guest, to that guest's VMM, until the
 * escape byte (Ctrl-], as in telnet and virsh) ends the session.  The
 * main thread runs the commands; during `vm console` it waits in the
 * VMM's console_attach call, which returns when the session ends or
 * fails when the VMM dies, so a dead VM is noticed without any input.
 * The `vm` commands are in docs/vmm.md, "Managing VMs from the shell". */
#include <libipc/libipc.h>
#include "console.h"   /* generated from idl/console.idl */
#include "init.h"      /* generated from idl/init.idl */
#include "vmm.h"       /* generated from idl/vmm.idl */
#include "pci.h"       /* generated from idl/pci.idl */
#include "shell.h"

#define INIT_SLOT 8
#define LINE_MAX_LEN 128
#define ESCAPE 0x1d                      /* Ctrl-] */
#define TASK_FLAG_VM 1                   /* init.idl's task_status flags */
#define TASK_RUNNING 1
#define TASK_WAITING 2
#define TICKS_PER_SECOND 100
#define MAX_REASONS 32

static uint64_t console;                 /* the main thread's: output */
static uint64_t console_in;              /* the reader's: input */
static uint64_t typed_port;              /* typed lines reach the main thread here */
static uint64_t main_nap, reader_nap;    /* ports to sleep on, one per thread */

/* The attached guest: session_slot holds a send right to its VMM while
 * session_active is set.  The main thread opens and closes a session;
 * the reader closes it at the escape byte. */
static uint64_t session_slot;
static volatile int session_active;

/* Slots are allocated by both threads (lookups take a slot for the right
 * they return); libipc's allocator is not made for that, so one at a
 * time. */
static volatile int slot_lock;

static void lock(void)
{
	while (__atomic_test_and_set(&slot_lock, __ATOMIC_ACQUIRE))
		sys_yield();
}

static void unlock(void)
{
	__atomic_clear(&slot_lock, __ATOMIC_RELEASE);
}

/* A right from init's name service into a fresh slot, or 0. */
uint64_t lookup(const char *name)
{
	uint64_t slot = 0;
	lock();
	if (init_lookup(INIT_SLOT, name, &slot))
		slot = 0;
	unlock();
	return slot;
}

void drop(uint64_t slot)
{
	if (!slot)
		return;
	lock();
	sys_cnode_delete(slot);
	slot_free(slot);
	unlock();
}

static void nap(uint64_t port, uint64_t ticks)
{
	struct msg m;
	sys_notify_after(port, 1, ticks);
	ipc_recv(port, 0, &m);
}

/* The console driver died: its port is dead, or (once init revoked its
 * memory) our right to it is gone altogether. */
static int console_gone(long err)
{
	return err == E_DEAD_PORT || err == E_NO_REPLY || err == E_BAD_CAP;
}

/* Find the console, waiting for it to be published. */
static void connect(uint64_t *slot)
{
	drop(*slot);
	*slot = 0;
	while (!(*slot = lookup("console")))
		sys_yield();
}

void out(const char *s)
{
	size_t n = strlen(s);
	while (n) {
		uint32_t chunk = n > 256 ? 256 : (uint32_t)n, written;
		long err = console_write(console, (const uint8_t *)s, chunk, &written);
		if (console_gone(err)) {
			connect(&console);
			continue;
		}
		if (err)
			return;
		s += chunk;
		n -= chunk;
	}
}

void outf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	debug_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	out(buf);
}

/* --- the reader thread ------------------------------------------------ */

static uint8_t reader_stack[8192] __attribute__((aligned(16)));

static void to_command_line(const uint8_t *bytes, uint32_t n)
{
	if (!n)
		return;
	struct msg m;
	m.w[0] = n;
	memcpy(&m.w[1], bytes, n);
	m.info = MSG_INFO(SHELL_TYPED, 1 + (n + 7) / 8, 0);
	ipc_send(typed_port, &m);
}

/* A new console driver knows nothing of the line being edited. */
static void console_renewed(void)
{
	struct msg m;
	m.info = MSG_INFO(SHELL_CONSOLE_NEW, 0, 0);
	ipc_send(typed_port, &m);
}

/* Typed bytes for the guest, as fast as its UART takes them.  Input it
 * leaves unread for a second is dropped, as a serial line overruns, so
 * the escape byte typed after it still gets through. */
static void to_guest(const uint8_t *bytes, uint32_t n)
{
	int idle = 0;
	while (n && session_active && idle < TICKS_PER_SECOND) {
		uint32_t taken = 0;
		if (vmm_console_input(session_slot, bytes, n, &taken))
			return; /* the VMM is gone: the main thread hears it too */
		bytes += taken;
		n -= taken;
		idle = taken ? 0 : idle + 1;
		if (n)
			nap(reader_nap, 1);
	}
}

static void reader(uint64_t arg)
{
	(void)arg;
	for (;;) {
		uint8_t buf[256];
		uint32_t got = 0;
		long err = console_read(console_in, sizeof(buf), buf, &got);
		if (console_gone(err)) {
			connect(&console_in);
			console_renewed();
			continue;
		}
		if (err) {
			nap(reader_nap, 1);
			continue;
		}
		uint32_t i = 0;
		if (session_active) {
			while (i < got && buf[i] != ESCAPE)
				i++;
			to_guest(buf, i);
			if (i < got && session_active) {
				session_active = 0;
				vmm_console_detach(session_slot);
			}
			if (i < got)
				i++; /* the escape itself goes nowhere */
		}
		to_command_line(buf + i, got - i);
	}
}

/* One line of input, without its end: edited in a terminal's ways
 * (input.c). */
static void read_line(char *line)
{
	input_read_line(line, LINE_MAX_LEN, typed_port);
}

/* --- ps, kill, mem ---------------------------------------------------- */

static const char *state_name(uint32_t s)
{
	static const char *const names[] = { "stopped", "running", "faulted", "sending",
	                                     "calling", "waiting-reply", "receiving" };
	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static void cmd_ps(void)
{
	outf("%-16s %-14s %8s %8s %10s\n", "TASK", "STATE", "THREADS", "RESTARTS", "MEMORY");
	for (uint32_t i = 0;; i++) {
		char name[33];
		uint32_t state, restarts, threads;
		uint64_t memory;
		if (init_task_info(INIT_SLOT, i, name, &state, &restarts, &threads, &memory))
			break;
		outf("%-16s %-14s %8u %8u %9luK\n", name, threads ? state_name(state) : "dead", threads,
		     restarts, memory >> 10);
	}
}

/* --- lspci ------------------------------------------------------------- */

static const char *pci_kind(uint32_t ids, uint32_t class_rev)
{
	if ((ids & 0xffff) == 0x1af4 && (ids >> 16) == 0x1042)
		return "virtio-blk";
	switch (class_rev >> 16) {
	case 0x0600: return "host-bridge";
	case 0x0601: return "isa-bridge";
	case 0x0604: return "pci-bridge";
	case 0x0101: return "ide";
	case 0x0680: return "bridge";
	case 0x0200: return "ethernet";
	case 0x0300: return "vga";
	case 0x0100: return "scsi";
	default: return "device";
	}
}

/* One line per function: BUS:DEV.FN VENDOR:DEVICE class CCSSPP KIND
 * [irq LINE] [owner NAME] (docs/drivers.md). */
static void cmd_lspci(void)
{
	uint64_t pci = lookup("pci");
	if (!pci) {
		out("lspci: no PCI server\n");
		return;
	}
	for (uint32_t i = 0;; i++) {
		uint32_t addr, ids, class_rev, sub, irq;
		char owner[32];
		if (pci_list(pci, i, &addr, &ids, &class_rev, &sub, &irq, owner))
			break;
		char irq_text[16] = "", owner_text[48] = "";
		if ((irq >> 8) && (irq & 0xff) != 0xff)
			debug_snprintf(irq_text, sizeof(irq_text), " irq %u", irq & 0xff);
		if (owner[0])
			debug_snprintf(owner_text, sizeof(owner_text), " owner %s", owner);
		outf("%02x:%02x.%x %04x:%04x class %06x %s%s%s\n", addr >> 8, (addr >> 3) & 0x1f, addr & 7, ids & 0xffff,
		     ids >> 16, class_rev >> 8, pci_kind(ids, class_rev), irq_text, owner_text);
	}
	drop(pci);
}

/* --- vm ---------------------------------------------------------------- */

/* A VM as init sees it: the task that runs its VMM. */
struct vm_task {
	uint32_t index;
	char task[33];
	char name[33];       /* the VM's: the VMM's name= argument, else the task's name */
	int named;           /* it has name=, so its VMM publishes vm.NAME */
	uint32_t state, end;
	int64_t detail;
	char args[128];
	uint64_t quota;      /* the task's memory, bytes */
};

/* The VM at init's task index at or after *index; 0 past the last. */
static int next_vm(uint32_t *index, struct vm_task *v)
{
	for (;; (*index)++) {
		uint32_t flags, state_unused, restarts, threads;
		uint64_t quota;
		if (init_task_status(INIT_SLOT, *index, v->task, &flags, &v->state, &v->end, &v->detail,
		                     v->args))
			return 0;
		if (!(flags & TASK_FLAG_VM))
			continue;
		v->index = *index;
		char unused[33];
		v->quota = init_task_info(INIT_SLOT, *index, unused, &state_unused, &restarts, &threads, &quota)
		           ? 0 : quota;
		size_t len;
		const char *name = arg_value(v->args, "name=", &len);
		v->named = name && len && len < sizeof(v->name);
		if (v->named) {
			memcpy(v->name, name, len);
			v->name[len] = 0;
		} else {
			strcpy(v->name, v->task);
		}
		(*index)++;
		return 1;
	}
}

/* The VM called name (its own name, or its task's); 0 if none. */
static int find_vm(const char *name, struct vm_task *v)
{
	uint32_t i = 0;
	while (next_vm(&i, v))
		if (!strcmp(v->name, name))
			return 1;
	for (i = 0; next_vm(&i, v);)
		if (!strcmp(v->task, name))
			return 1;
	return 0;
}

/* A send right to the VM's controls (its VMM publishes them as
 * vm.NAME), or 0. */
static uint64_t vm_controls(const struct vm_task *v)
{
	char key[40];
	debug_snprintf(key, sizeof(key), "vm.%s", v->name);
	return lookup(key);
}

/* How the VM's last instance ended, in a few words. */
static void describe_end(const struct vm_task *v, char *buf, size_t size)
{
	switch (v->end) {
	case 1:
		debug_snprintf(buf, size, "stopped");
		break;
	case 2:
		debug_snprintf(buf, size, "killed");
		break;
	case 3:
		debug_snprintf(buf, size, v->detail ? "crashed: its VMM exited with status %ld"
		                                    : "stopped: the guest powered off (status %ld)",
		               (long)v->detail);
		break;
	case 4:
		debug_snprintf(buf, size, "crashed: its VMM faulted (vector %ld)", (long)v->detail);
		break;
	default:
		debug_snprintf(buf, size, "never started");
	}
}

/* vm list's state of a VM that does not run. */
static const char *idle_state(const struct vm_task *v)
{
	if (v->state == TASK_WAITING)
		return "waiting";
	if ((v->end == 3 && v->detail) || v->end == 4)
		return "crashed";
	return "stopped";
}

static void format_uptime(uint64_t ms, char *buf, size_t size)
{
	uint64_t s = ms / 1000;
	if (s < 60)
		debug_snprintf(buf, size, "%lu.%lus", s, ms % 1000 / 100);
	else if (s < 3600)
		debug_snprintf(buf, size, "%lum%02lus", s / 60, s % 60);
	else
		debug_snprintf(buf, size, "%luh%02lum", s / 3600, s / 60 % 60);
}

static uint64_t arg_mib(const char *args)
{
	size_t len;
	const char *v = arg_value(args, "mem=", &len);
	uint64_t mib = 0;
	for (size_t i = 0; v && i < len && v[i] >= '0' && v[i] <= '9'; i++)
		mib = mib * 10 + (uint64_t)(v[i] - '0');
	return mib ? mib : 2; /* the VMM's default */
}

static void vm_list(void)
{
	struct vm_task v;
	uint32_t i = 0;
	int any = 0;
	while (next_vm(&i, &v)) {
		if (!any)
			outf("%-16s %-8s %8s %9s %10s\n", "NAME", "STATE", "MEMORY", "UPTIME", "EXITS");
		any = 1;
		char uptime[16] = "-", exits[24] = "-";
		const char *state = idle_state(&v);
		uint64_t mib = arg_mib(v.args);
		if (v.state == TASK_RUNNING) {
			state = "running";
			uint64_t controls = vm_controls(&v), memory, ms, count;
			uint32_t s;
			char name[33];
			if (controls && !vmm_info(controls, name, &s, &memory, &ms, &count)) {
				state = s == 1 ? "halted" : s == 2 ? "stopped" : "running";
				mib = memory >> 20;
				format_uptime(ms, uptime, sizeof(uptime));
				debug_snprintf(exits, sizeof(exits), "%lu", count);
			}
			drop(controls);
		}
		outf("%-16s %-8s %4lu MiB %9s %10s\n", v.name, state, mib, uptime, exits);
	}
	if (!any)
		out("vm list: the manifest names no virtual machines\n");
}

/* Wait (up to ten seconds) until a VM that init started runs its
 * controls, or has ended; say which. */
static void await_start(const char *cmd, const char *verb, const char *name)
{
	struct vm_task v;
	for (int ticks = 0; ticks < 10 * TICKS_PER_SECOND; ticks += 5) {
		if (!find_vm(name, &v))
			return;
		if (v.state == TASK_WAITING) {
			outf("vm: %s '%s'; it waits for a service it needs\n", verb, v.name);
			return;
		}
		if (v.state != TASK_RUNNING) {
			char why[64];
			describe_end(&v, why, sizeof(why));
			outf("vm %s: '%s' did not start: %s\n", cmd, v.name, why);
			return;
		}
		uint64_t controls = v.named ? vm_controls(&v) : 0;
		if (controls || !v.named) { /* without a name it never publishes */
			drop(controls);
			outf("vm: %s '%s'\n", verb, v.name);
			return;
		}
		nap(main_nap, 5);
	}
	outf("vm: %s '%s' (its VMM has not published vm.%s)\n", verb, name, name);
}

/* Check vm start's options: mem=MiB (within the VM's memory quota),
 * disk=PATH, kernel=PATH, initrd=PATH (files of the file system: the VMM
 * says if one cannot be used) and cmdline=... (the rest of the line).  0,
 * or -1 after saying what is wrong. */
static int check_start_args(const struct vm_task *v, const char *args)
{
	size_t n;
	/* cmdline= ends the words: the rest is the guest's */
	for (const char *p; (p = arg_next(&args, &n));) {
		if (n >= 4 && !strncmp(p, "mem=", 4)) {
			uint64_t mib = 0;
			size_t i = 4;
			for (; i < n && p[i] >= '0' && p[i] <= '9' && mib < (1UL << 40); i++)
				mib = mib * 10 + (uint64_t)(p[i] - '0');
			if (i == 4 || i < n) {
				outf("vm start: mem= takes a size in MiB, not '%.*s'\n", (int)(n - 4), p + 4);
				return -1;
			}
			if (!mib) {
				out("vm start: mem= must be at least 1 MiB\n");
				return -1;
			}
			if (v->quota && mib << 20 >= v->quota) {
				outf("vm start: mem=%lu does not fit in the VM's memory of %lu MiB (its manifest's memory line)\n",
				     mib, v->quota >> 20);
				return -1;
			}
		} else if ((n > 5 && !strncmp(p, "disk=/", 6)) || (n > 7 && !strncmp(p, "kernel=/", 8)) ||
		           (n > 7 && !strncmp(p, "initrd=/", 8))) {
			continue;
		} else {
			outf("vm start: unknown option '%.*s' (mem=MiB, disk=/PATH, kernel=/PATH, initrd=/PATH, "
			     "cmdline=...)\n", (int)n, p);
			return -1;
		}
	}
	return 0;
}

static void vm_start(const char *name, const char *args)
{
	struct vm_task v;
	if (!find_vm(name, &v)) {
		outf("vm start: no VM named '%s' (see vm list)\n", name);
		return;
	}
	if (check_start_args(&v, args))
		return;
	if (strlen(args) > 127) {
		out("vm start: the options are too long (at most 127 bytes)\n");
		return;
	}
	long err = init_start(INIT_SLOT, v.task, args);
	if (err == E_STATE)
		outf("vm start: '%s' is already running\n", v.name);
	else if (err == E_RANGE)
		out("vm start: with these options its arguments would be longer than 127 bytes\n");
	else if (err)
		outf("vm start: init could not start '%s' (error %ld; see the console)\n", v.name, err);
	else
		await_start("start", "started", v.name);
}

static void vm_stop(const char *name)
{
	struct vm_task v;
	if (!find_vm(name, &v)) {
		outf("vm stop: no VM named '%s' (see vm list)\n", name);
		return;
	}
	long err = init_stop(INIT_SLOT, v.task);
	if (err == E_STATE)
		outf("vm stop: '%s' is not running\n", v.name);
	else if (err)
		outf("vm stop: init could not stop '%s' (error %ld)\n", v.name, err);
	else
		outf("vm: stopped '%s'\n", v.name);
}

static void vm_restart(const char *name)
{
	struct vm_task v;
	if (!find_vm(name, &v)) {
		outf("vm restart: no VM named '%s' (see vm list)\n", name);
		return;
	}
	long err = init_restart(INIT_SLOT, v.task);
	if (err == E_STATE)
		outf("vm restart: '%s' is not running (vm start starts it)\n", v.name);
	else if (err)
		outf("vm restart: init could not restart '%s' (error %ld; see the console)\n", v.name, err);
	else
		await_start("restart", "restarted", v.name);
}

/* The VM's controls, or 0 after saying why there are none. */
static uint64_t running_controls(const char *verb, const char *name, struct vm_task *v)
{
	if (!find_vm(name, v)) {
		outf("vm %s: no VM named '%s' (see vm list)\n", verb, name);
		return 0;
	}
	if (v->state != TASK_RUNNING) {
		outf("vm %s: '%s' is not running\n", verb, v->name);
		return 0;
	}
	uint64_t controls = vm_controls(v);
	/* a VMM that is still building its VM publishes its controls soon:
	 * wait for them as vm start does */
	for (int ticks = 0; !controls && v->named && ticks < 10 * TICKS_PER_SECOND; ticks += 5) {
		nap(main_nap, 5);
		if (!find_vm(name, v) || v->state != TASK_RUNNING)
			break;
		controls = vm_controls(v);
	}
	if (!controls)
		outf("vm %s: '%s' has no controls (its VMM has no name= argument, or did not publish them)\n",
		     verb, v->name);
	return controls;
}

static void vm_console(const char *name)
{
	struct vm_task v;
	uint64_t controls = running_controls("console", name, &v);
	if (!controls)
		return;
	lock();
	long err = sys_cnode_move(controls, CAP_ROOT_CNODE, session_slot);
	slot_free(controls);
	unlock();
	if (err) {
		outf("vm console: no slot for the session (error %ld)\n", err);
		return;
	}
	outf("vm: connected to '%s'; Ctrl-] returns to the shell\n", v.name);
	console_set_echo(console, 0); /* the guest echoes what it wants echoed */
	uint32_t how = 0;
	session_active = 1;
	err = vmm_console_attach(session_slot, &how);
	session_active = 0;
	console_set_echo(console, 1);
	lock();
	sys_cnode_delete(session_slot);
	unlock();
	if (!err) {
		outf(how ? "\nvm: another client took the console of '%s'\n" : "\nvm: left the console of '%s'\n",
		     v.name);
		return;
	}
	if (err != E_NO_REPLY && err != E_DEAD_PORT && err != E_BAD_CAP) {
		outf("\nvm console: '%s' refused (error %ld)\n", v.name, err);
		return;
	}
	char why[64] = "its VMM is gone";
	if (find_vm(name, &v)) {
		if (v.state == TASK_RUNNING)
			debug_snprintf(why, sizeof(why), "its VMM ended and was restarted");
		else
			describe_end(&v, why, sizeof(why));
	}
	outf("\nvm: '%s' ended while attached (%s)\n", v.name, why);
}

static void format_ns(uint64_t ns, char *buf, size_t size)
{
	if (ns < 1000000)
		debug_snprintf(buf, size, "%lu.%lu us", ns / 1000, ns % 1000 / 100);
	else if (ns < 10000000000UL)
		debug_snprintf(buf, size, "%lu.%03lu ms", ns / 1000000, ns % 1000000 / 1000);
	else
		debug_snprintf(buf, size, "%lu.%03lu s", ns / 1000000000, ns % 1000000000 / 1000000);
}

static void vm_stats(const char *name)
{
	struct vm_task v;
	uint64_t controls = running_controls("stats", name, &v);
	if (!controls)
		return;
	static struct {
		char reason[17];
		uint32_t code;
		uint64_t count, ns;
	} r[MAX_REASONS];
	unsigned n = 0;
	uint64_t memory, ms, exits, total_ns = 0, counted = 0;
	uint32_t state;
	char vm_name[33];
	long err = vmm_info(controls, vm_name, &state, &memory, &ms, &exits);
	while (!err && n < MAX_REASONS &&
	       !vmm_exit_stats(controls, n, r[n].reason, &r[n].code, &r[n].count, &r[n].ns)) {
		total_ns += r[n].ns;
		counted += r[n].count;
		n++;
	}
	drop(controls);
	if (err) {
		outf("vm stats: '%s' did not answer (error %ld)\n", v.name, err);
		return;
	}
	/* where the time went first */
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && r[j].ns > r[j - 1].ns; j--) {
			__typeof__(r[0]) t = r[j];
			r[j] = r[j - 1];
			r[j - 1] = t;
		}
	char uptime[16], total[24], each[24];
	format_uptime(ms, uptime, sizeof(uptime));
	outf("%s: %lu exits in %s of uptime\n", v.name, exits, uptime);
	outf("%-16s %6s %10s %14s %12s\n", "REASON", "CODE", "COUNT", "VMM TIME", "PER EXIT");
	for (unsigned i = 0; i < n; i++) {
		format_ns(r[i].ns, total, sizeof(total));
		format_ns(r[i].count ? r[i].ns / r[i].count : 0, each, sizeof(each));
		outf("%-16s %#6x %10lu %14s %12s\n", r[i].reason, r[i].code, r[i].count, total, each);
	}
	format_ns(total_ns, total, sizeof(total));
	format_ns(counted ? total_ns / counted : 0, each, sizeof(each));
	outf("%-16s %6s %10lu %14s %12s\n", "total", "", counted, total, each);
}

static const char vm_usage[] =
	"vm list | start NAME [mem=MiB] [disk=/PATH] [cmdline=...] | stop NAME | restart NAME | console NAME | stats NAME"
	" | net NAME | fw NAME [add [POS] RULE | del POS] | forward NAME tcp|udp BERTH_PORT GUEST_PORT";

static void cmd_vm(char *arg)
{
	char *sub = arg, *name;
	while (*arg && *arg != ' ')
		arg++;
	if (*arg)
		*arg++ = 0;
	while (*arg == ' ')
		arg++;
	name = arg;
	while (*arg && *arg != ' ')
		arg++;
	if (*arg)
		*arg++ = 0;
	while (*arg == ' ')
		arg++;
	/* arg: what follows the name (vm start's options) */
	if (!*sub) {
		outf("vm: which command? (%s)\n", vm_usage);
		return;
	}
	int takes_name = !strcmp(sub, "start") || !strcmp(sub, "stop") || !strcmp(sub, "restart") ||
	                 !strcmp(sub, "console") || !strcmp(sub, "stats") || !strcmp(sub, "net") ||
	                 !strcmp(sub, "fw") || !strcmp(sub, "forward");
	int takes_more = !strcmp(sub, "start") || !strcmp(sub, "fw") || !strcmp(sub, "forward");
	if (!takes_name && strcmp(sub, "list")) {
		outf("vm: unknown command '%s' (%s)\n", sub, vm_usage);
		return;
	}
	if (takes_name && !*name) {
		outf("vm %s: which VM? (vm %s NAME%s; see vm list)\n", sub, sub,
		     strcmp(sub, "start") ? "" : " [mem=MiB] [disk=/PATH] [cmdline=...]");
		return;
	}
	if (*arg && !takes_more) {
		outf("vm %s: unexpected '%s'\n", sub, arg);
		return;
	}
	if (!strcmp(sub, "list")) {
		if (*name) {
			outf("vm list: unexpected '%s'\n", name);
			return;
		}
		vm_list();
	} else if (!strcmp(sub, "start")) {
		vm_start(name, arg);
	} else if (!strcmp(sub, "stop")) {
		vm_stop(name);
	} else if (!strcmp(sub, "restart")) {
		vm_restart(name);
	} else if (!strcmp(sub, "console")) {
		vm_console(name);
	} else if (!strcmp(sub, "net")) {
		vm_net(name);
	} else if (!strcmp(sub, "fw")) {
		vm_fw(name, arg);
	} else if (!strcmp(sub, "forward")) {
		vm_forward(name, arg);
	} else {
		vm_stats(name);
	}
}

static void run(char *line)
{
	char *cmd = line, *arg;
	while (*cmd == ' ')
		cmd++;
	arg = cmd;
	while (*arg && *arg != ' ')
		arg++;
	if (*arg)
		*arg++ = 0;
	while (*arg == ' ')
		arg++;
	if (!*cmd)
		return;
	if (!strcmp(cmd, "help")) {
		out("commands:\n"
		    "  help          this list\n"
		    "  ps            tasks, their state, threads and restarts\n"
		    "  kill TASK     destroy a task (its restart policy applies)\n"
		    "  mem           untyped memory: total and free\n"
		    "  echo WORDS    print the words\n"
		    "  lspci         PCI functions: address, ids, class, interrupt, owning driver\n"
		    "  vm list       virtual machines: state, memory, uptime, exits\n"
		    "  vm start NAME [mem=MiB] [disk=/PATH] [kernel=/PATH] [initrd=/PATH] [cmdline=...]\n"
		    "                start a VM that is not running, optionally with other memory,\n"
		    "                disk (a file: the guest's /dev/vda), kernel, initrd or kernel\n"
		    "                command line\n"
		    "  vm stop NAME  stop a VM now, for good (no restart)\n"
		    "  vm restart NAME  stop a VM and start it again\n"
		    "  vm console NAME  the guest's serial console; Ctrl-] returns here\n"
		    "  vm stats NAME VM exits by reason: count and time spent in the VMM\n"
		    "  vm net NAME   the VM's port on the virtual switch: MAC, address, frames, drops\n"
		    "  vm fw NAME [add [POS] RULE | del POS]\n"
		    "                its firewall rules with counters; add one (e.g. out accept tcp\n"
		    "                10.0.2.2/32 80) or delete one\n"
		    "  vm forward NAME tcp|udp BERTH_PORT GUEST_PORT\n"
		    "                connections to BERTH_PORT on Berth's address go to the guest\n");
		out(FILES_HELP);
		out(NET_HELP);
		out(TRACE_HELP);
	} else if (!strcmp(cmd, "ps")) {
		cmd_ps();
	} else if (!strcmp(cmd, "kill")) {
		if (!*arg) {
			out("kill: which task? (see ps)\n");
			return;
		}
		long err = init_kill(INIT_SLOT, arg);
		if (err)
			outf("kill: no running task '%s'\n", arg);
		else
			outf("killed %s\n", arg);
	} else if (!strcmp(cmd, "mem")) {
		uint64_t total, free;
		if (init_mem(INIT_SLOT, &total, &free))
			out("mem: init did not answer\n");
		else
			outf("memory: %lu KiB total, %lu KiB free, %lu KiB used\n", total >> 10, free >> 10,
			     (total - free) >> 10);
	} else if (!strcmp(cmd, "echo")) {
		if (strchr(arg, '>'))
			files_echo_to(arg);
		else
			outf("%s\n", arg);
	} else if (!strcmp(cmd, "lspci")) {
		cmd_lspci();
	} else if (files_command(cmd, arg)) {
		/* a file command: done */
	} else if (net_command(cmd, arg)) {
		/* a network command: done */
	} else if (trace_command(cmd, arg)) {
		/* trace: done */
	} else if (!strcmp(cmd, "vm")) {
		cmd_vm(arg);
	} else {
		outf("%s: unknown command (try help)\n", cmd);
	}
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	char line[LINE_MAX_LEN];
	uint64_t reader_tcb;
	connect(&console);
	console_set_echo(console, 1); /* a shell that died attached left it off */
	session_slot = slot_alloc();
	if (!session_slot || object_alloc(OBJ_PORT, 0, &typed_port) || object_alloc(OBJ_PORT, 0, &main_nap) ||
	    object_alloc(OBJ_PORT, 0, &reader_nap) ||
	    thread_create(reader, 0, reader_stack, sizeof(reader_stack), 100, &reader_tcb)) {
		out("shell: cannot set up its reader thread\n");
		return 1;
	}
	out("Berth shell. Type help for the commands.\n");
	for (;;) {
		read_line(line); /* it shows the prompt */
		run(line);
	}
}
