/* The shell's vm commands (docs/vmm.md, "Managing VMs from the shell"):
 * a VM is a task of the manifest whose image is the VMM; init starts,
 * stops and restarts it (idl/init.idl), and its VMM publishes its
 * controls as vm.NAME (idl/vmm.idl: info, exit statistics, the guest's
 * console).  vm net, fw and forward are in vmnet.c. */
#include <string.h>
#include <libipc/libipc.h>
#include "init.h"      /* generated from idl/init.idl */
#include "vmm.h"       /* generated from idl/vmm.idl */
#include "fs.h"        /* generated from idl/fs.idl */
#include "shell.h"

#define TASK_FLAG_VM 1                   /* init.idl's task_status flags */
#define TASK_RUNNING 1
#define TASK_WAITING 2
#define TICKS_PER_SECOND 100
#define MAX_REASONS 32
#define START_ARGS_MAX 127               /* init.idl's start: string<127> */

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
		if (v->detail == EXIT_MOVED)
			debug_snprintf(buf, size, "moved: it migrated to another machine");
		else
			debug_snprintf(buf, size, v->detail ? "crashed: its VMM exited with status %ld"
			                                    : "stopped: the guest powered off (status %ld)",
			               (long)v->detail);
		break;
	case 4:
		debug_snprintf(buf, size, "crashed: its VMM faulted (vector %ld)", (long)v->detail);
		break;
	case 5:
		debug_snprintf(buf, size, "hung: its VMM missed %ld heartbeats", (long)v->detail);
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
	if (v->end == 3 && v->detail == EXIT_MOVED)
		return "moved";
	if ((v->end == 3 && v->detail) || v->end == 4)
		return "crashed";
	return "stopped";
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

static void vm_list(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)argv;
	(void)line;
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

/* Wait (up to seconds) until a VM that init started runs its
 * controls, or has ended; say which. */
static void await_start_for(const char *cmd, const char *verb, const char *name, int seconds)
{
	struct vm_task v;
	for (int ticks = 0; ticks < seconds * TICKS_PER_SECOND; ticks += 5) {
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
		shell_nap(5);
	}
	outf("vm: %s '%s' (its VMM has not published vm.%s)\n", verb, name, name);
}

static void await_start(const char *cmd, const char *verb, const char *name)
{
	await_start_for(cmd, verb, name, 10);
}

/* Check vm start's options, the words opt[0..n): mem=MiB (within the
 * VM's memory quota), disk=PATH, kernel=PATH, initrd=PATH (files of the
 * file system: the VMM says if one cannot be used) and cmdline=..., which
 * takes the words after it too (the guest's kernel command line).  0, or
 * -1 after saying what is wrong. */
static int check_start_args(const struct vm_task *v, char **opt, int n)
{
	for (int k = 0; k < n; k++) {
		const char *p = opt[k];
		if (!strncmp(p, "cmdline=", 8))
			return 0; /* the rest is the guest's */
		if (!strncmp(p, "mem=", 4)) {
			uint64_t mib = 0;
			size_t i = 4;
			for (; p[i] >= '0' && p[i] <= '9' && mib < (1UL << 40); i++)
				mib = mib * 10 + (uint64_t)(p[i] - '0');
			if (i == 4 || p[i]) {
				outf("vm start: mem= takes a size in MiB, not '%s'\n", p + 4);
				return -1;
			}
			if (!mib) {
				out("vm start: mem= must be at least 1 MiB\n");
				return -1;
			}
			if (v->quota && mib << 20 >= v->quota) {
				outf("vm start: mem=%lu does not fit in the VM's memory of %lu MiB (its manifest's memory and borrow lines)\n",
				     mib, v->quota >> 20);
				return -1;
			}
		} else if (!strncmp(p, "mode=", 5)) {
			/* the VMM's modes (docs/vmm.md, "Modes") */
			if (strcmp(p + 5, "svm") && strcmp(p + 5, "shadow") && strcmp(p + 5, "trap") && strcmp(p + 5, "patch") &&
			    strcmp(p + 5, "pv")) {
				outf("vm start: mode= is svm, shadow, trap, patch or pv, not '%s'\n", p + 5);
				return -1;
			}
		} else if (!strncmp(p, "disk=/", 6) || !strncmp(p, "kernel=/", 8) || !strncmp(p, "initrd=/", 8) ||
		           !strcmp(p, "balloon")) {
			continue;
		} else {
			outf("vm start: unknown option '%s' (mem=MiB, mode=svm|shadow|trap|patch|pv, disk=/PATH, kernel=/PATH, "
			     "initrd=/PATH, balloon, cmdline=...)\n", p);
			return -1;
		}
	}
	return 0;
}

static void vm_start(int argc, char **argv, const struct words *line)
{
	(void)line;
	const char *name = argv[1];
	struct vm_task v;
	char args[START_ARGS_MAX + 1];
	if (!find_vm(name, &v)) {
		outf("vm start: no VM named '%s' (see vm list)\n", name);
		return;
	}
	if (check_start_args(&v, argv + 2, argc - 2))
		return;
	/* the words again, cmdline= and what follows it last, as init wants */
	if (words_join(argv + 2, argc - 2, args, sizeof(args)) < 0) {
		outf("vm start: the options are too long (at most %d bytes)\n", START_ARGS_MAX);
		return;
	}
	long err = init_start(INIT_SLOT, v.task, args);
	if (err == E_STATE)
		outf("vm start: '%s' is already running\n", v.name);
	else if (err == E_RANGE)
		outf("vm start: with these options its arguments would be longer than %d bytes\n", START_ARGS_MAX);
	else if (err)
		outf("vm start: init could not start '%s' (%s; see the console)\n", v.name, error_text(err));
	else
		await_start("start", "started", v.name);
}

static void vm_stop(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)line;
	const char *name = argv[1];
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

static void vm_restart(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)line;
	const char *name = argv[1];
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
		shell_nap(5);
		if (!find_vm(name, v) || v->state != TASK_RUNNING)
			break;
		controls = vm_controls(v);
	}
	if (!controls)
		outf("vm %s: '%s' has no controls (its VMM has no name= argument, or did not publish them)\n",
		     verb, v->name);
	return controls;
}

static void vm_console(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)line;
	const char *name = argv[1];
	struct vm_task v;
	uint64_t controls = running_controls("console", name, &v);
	if (!controls)
		return;
	long err = console_session_open(controls);
	if (err) {
		outf("vm console: no slot for the session (error %ld)\n", err);
		return;
	}
	outf("vm: connected to '%s'; Ctrl-] returns to the shell\n", v.name);
	uint32_t how = 0;
	err = console_session_run(&how);
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

static void vm_snapshot(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)line;
	const char *name = argv[1], *file = argv[2];
	if (file[0] != '/' || strlen(file) > 200) {
		outf("vm snapshot: FILE must be an absolute path of at most 200 characters, not '%s'\n", file);
		return;
	}
	struct vm_task v;
	uint64_t controls = running_controls("snapshot", name, &v);
	if (!controls)
		return;
	uint64_t bytes = 0, pause_us = 0;
	long err = vmm_snapshot(controls, file, &bytes, &pause_us);
	drop(controls);
	if (err)
		outf("vm snapshot: '%s' could not be saved to %s: %s (its VMM's line on the console says why)\n", v.name,
		     file, error_text(err));
	else
		outf("vm: saved '%s' to %s: %lu KiB; the guest paused %lu.%03lu s\n", v.name, file, bytes >> 10,
		     pause_us / 1000000, pause_us / 1000 % 1000);
}

static void vm_balloon(int argc, char **argv, const struct words *line)
{
	(void)line;
	uint32_t mib = 0, target, actual, returned;
	uint64_t refused;
	if (argc == 3 && !word_u32(argv[2], &mib)) {
		outf("vm balloon: MiB must be a number, not '%s'\n", argv[2]);
		return;
	}
	struct vm_task v;
	uint64_t controls = running_controls("balloon", argv[1], &v);
	if (!controls)
		return;
	long err = vmm_balloon(controls, argc == 3, mib, &target, &actual, &returned, &refused);
	drop(controls);
	if (err == E_STATE)
		outf("vm balloon: '%s' has no balloon (start it with the balloon option)\n", v.name);
	else if (err == E_RANGE)
		outf("vm balloon: '%s' has less than %u MiB of memory\n", v.name, mib);
	else if (err)
		outf("vm balloon: '%s': %s\n", v.name, error_text(err));
	else
		outf("vm: '%s' balloon: %u MiB asked for, %u MiB given by the guest, %u MiB back with Berth%s\n", v.name,
		     target, actual, returned, refused ? " (the guest named pages that are not its memory)" : "");
}

/* vm dirty NAME [stop]: the dirty log (docs/lifecycle.md) */
/* vm share NAME: pages alike kept once (zero pages, and pages init keeps) */
static void vm_share(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)line;
	struct vm_task v;
	uint64_t controls = running_controls("share", argv[1], &v);
	if (!controls)
		return;
	uint32_t regions = 0;
	uint64_t zeros = 0, alike = 0, copied = 0, us = 0;
	long err = vmm_share(controls, &regions, &zeros, &alike, &copied, &us);
	drop(controls);
	if (err == E_STATE)
		outf("vm share: '%s' cannot share its pages now (mode=svm only, not while its dirty log runs)\n", v.name);
	else if (err)
		outf("vm share: '%s': %s\n", v.name, error_text(err));
	else
		outf("vm: '%s' gave %u regions (%u KiB) back to Berth: %lu zero pages shared, %lu pages on pages kept by "
		     "content, %lu pages copied; the guest stopped %lu.%03lu ms\n", v.name, regions, regions * 2048, zeros,
		     alike, copied, us / 1000, us % 1000);
}

static void vm_dirty(int argc, char **argv, const struct words *line)
{
	(void)line;
	if (argc == 3 && strcmp(argv[2], "stop")) {
		outf("vm dirty: the only word after NAME is stop, not '%s'\n", argv[2]);
		return;
	}
	struct vm_task v;
	uint64_t controls = running_controls("dirty", argv[1], &v);
	if (!controls)
		return;
	uint64_t pages = 0, faults = 0, us = 0;
	long err;
	if (argc == 3) {
		err = vmm_dirty(controls, 2, &pages, &faults, &us);
		if (!err)
			outf("vm: '%s' dirty log stopped\n", v.name);
	} else if ((err = vmm_dirty(controls, 1, &pages, &faults, &us)) == E_STATE) {
		err = vmm_dirty(controls, 0, &pages, &faults, &us);
		if (!err)
			outf("vm: '%s' dirty log started: every page clean; vm dirty %s again to see what was written\n",
			     v.name, v.name);
	} else if (!err) {
		outf("vm: '%s' wrote %lu pages (%lu KiB) in %lu.%03lu s, %lu write faults; the log starts again\n",
		     v.name, pages, pages * 4, us / 1000000, us / 1000 % 1000, faults);
	}
	drop(controls);
	if (err == E_STATE)
		outf("vm dirty: '%s' has no dirty log%s\n", v.name,
		     argc == 3 ? " running" : " (mode=svm only: nested paging protects the pages)");
	else if (err)
		outf("vm dirty: '%s': %s\n", v.name, error_text(err));
}

/* vm migrate NAME HOST:PORT (docs/lifecycle.md) */
static void vm_migrate(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)line;
	struct vm_task v;
	uint64_t controls = running_controls("migrate", argv[1], &v);
	if (!controls)
		return;
	uint64_t rounds = 0, pages = 0, total_ms = 0, down_ms = 0;
	outf("vm: moving '%s' to %s; the guest runs while its memory goes\n", v.name, argv[2]);
	long err = vmm_migrate(controls, argv[2], &rounds, &pages, &total_ms, &down_ms);
	drop(controls);
	if (err == E_BAD_ARG)
		outf("vm migrate: '%s' is not an address and port (A.B.C.D:PORT)\n", argv[2]);
	else if (err)
		outf("vm migrate: '%s' did not move (its VMM's line on the console says why): it runs on here\n", v.name);
	else
		outf("vm: '%s' moved to %s: %lu rounds, %lu pages (%lu MiB), %lu.%03lu s, the guest stopped %lu ms\n",
		     v.name, argv[2], rounds, pages, pages >> 8, total_ms / 1000, total_ms % 1000, down_ms);
}

/* vm receive NAME PORT: NAME's VMM waits for a migration on PORT */
static void vm_receive(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)line;
	uint32_t port;
	if (!word_u32(argv[2], &port) || !port || port > 65535) {
		outf("vm receive: PORT must be a number from 1 to 65535, not '%s'\n", argv[2]);
		return;
	}
	struct vm_task v;
	if (!find_vm(argv[1], &v)) {
		outf("vm receive: no VM named '%s' in the manifest (see vm list)\n", argv[1]);
		return;
	}
	char args[32];
	debug_snprintf(args, sizeof(args), "incoming=%u", port);
	long err = init_start(INIT_SLOT, v.task, args);
	if (err == E_STATE)
		outf("vm receive: '%s' is running: vm stop %s first, or receive into another VM\n", v.name, v.name);
	else if (err)
		outf("vm receive: init could not start '%s' (error %ld; see the console)\n", v.name, err);
	else
		outf("vm: '%s' waits for a migration on port %u (vm migrate on the other machine)\n", v.name, port);
}

/* The name= a snapshot's VMM had: its CONF section, the first one
 * (docs/lifecycle.md): at byte 64 its header, at 88 the arguments. */
static int snapshot_vm_name(const char *file, char *name, size_t size)
{
	uint64_t fs = lookup("fs");
	uint32_t ino, kind, got = 0;
	uint64_t fsize;
	static uint8_t head[448];   /* fs_read's whole reply; 88 + 128 are read */
	long err = fs ? fs_open(fs, file, 0, 0, &ino, &kind, &fsize) : E_STATE;
	err = err ? err : fs_read(fs, ino, 0, 88 + 128, head, &got);
	drop(fs);
	if (err || got < 88 || memcmp(head, "BERTHSNP", 8) || memcmp(head + 64, "CONF", 5))
		return -1;
	uint64_t len = 0;
	for (int i = 7; i >= 0; i--)
		len = len << 8 | head[80 + i];
	if (len > got - 88)
		return -1;
	char args[129];
	memcpy(args, head + 88, len);
	args[len] = 0;
	size_t n;
	const char *v = arg_value(args, "name=", &n);
	if (!v || !n || n >= size)
		return -1;
	memcpy(name, v, n);
	name[n] = 0;
	return 0;
}

static void vm_restore(int argc, char **argv, const struct words *line)
{
	(void)line;
	const char *file = argv[1];
	char from[33];
	if (argc == 3 || (argc == 4 && strcmp(argv[2], "as"))) {
		out("vm restore: usage: vm restore FILE [as NAME]\n");
		return;
	}
	if (file[0] != '/' || strlen(file) > 120) {
		outf("vm restore: FILE must be an absolute path of at most 120 characters, not '%s'\n", file);
		return;
	}
	const char *name = argc == 4 ? argv[3] : 0;
	if (!name) {
		if (snapshot_vm_name(file, from, sizeof(from))) {
			outf("vm restore: %s is not a snapshot this shell can read the VM's name from; say which VM: "
			     "vm restore %s as NAME\n", file, file);
			return;
		}
		name = from;
	}
	struct vm_task v;
	if (!find_vm(name, &v)) {
		outf("vm restore: no VM named '%s' in the manifest (see vm list): a snapshot starts in a VM of the manifest\n",
		     name);
		return;
	}
	char args[128];
	debug_snprintf(args, sizeof(args), "restore=%s", file);
	long err = init_start(INIT_SLOT, v.task, args);
	if (err == E_STATE)
		outf("vm restore: '%s' is running: vm stop %s first, or restore as another VM\n", v.name, v.name);
	else if (err)
		outf("vm restore: init could not start '%s' (error %ld; see the console)\n", v.name, err);
	else
		await_start_for("restore", "restored", v.name, 120); /* it reads and checks the whole file first */
}

/* vm clone NAME NEWNAME: NEWNAME's VMM starts as a copy of running NAME */
static void vm_clone(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)line;
	struct vm_task parent, v;
	if (!find_vm(argv[1], &parent) || parent.state != TASK_RUNNING) {
		outf("vm clone: no VM named '%s' is running (see vm list)\n", argv[1]);
		return;
	}
	if (!find_vm(argv[2], &v)) {
		outf("vm clone: no VM named '%s' in the manifest (see vm list): a clone starts in a VM of the manifest\n",
		     argv[2]);
		return;
	}
	if (!strcmp(parent.name, v.name)) {
		out("vm clone: a VM cannot be its own clone\n");
		return;
	}
	char args[64];
	debug_snprintf(args, sizeof(args), "clone=%s", parent.name);
	long err = init_start(INIT_SLOT, v.task, args);
	if (err == E_STATE)
		outf("vm clone: '%s' is running: vm stop %s first, or clone into another VM\n", v.name, v.name);
	else if (err)
		outf("vm clone: init could not start '%s' (error %ld; see the console)\n", v.name, err);
	else
		await_start_for("clone", "cloned", v.name, 60);
}

static void vm_stats(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)line;
	const char *name = argv[1];
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
	uint64_t shared_pages = 0, private_pages = 0, zero_pages = 0, zero_regions = 0, stored_pages = 0;
	long err = vmm_info(controls, vm_name, &state, &memory, &ms, &exits);
	int sharing = !err &&
	              !vmm_sharing(controls, &shared_pages, &private_pages, &zero_pages, &zero_regions, &stored_pages) &&
	              (shared_pages || private_pages || zero_pages || stored_pages);
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
	if (sharing)
		outf("memory shared with clones or a parent: %lu pages (%lu KiB); zero pages on the zero frame: %lu (%lu "
		     "regions); on pages kept by content: %lu; copied: %lu pages (%lu KiB)\n", shared_pages,
		     shared_pages * 4, zero_pages, zero_regions, stored_pages, private_pages, private_pages * 4);
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

const struct command vm_commands[] = {
	{ "list", "", 0, 0, 0, "virtual machines: state, memory, uptime, exits", 0, vm_list, 0 },
	{ "start", "NAME [mem=MiB] [mode=svm|shadow|trap|patch|pv] [disk=/PATH] [kernel=/PATH] [initrd=/PATH] [balloon] [cmdline=...]", 1, -1,
	  CMD_DASH_WORDS,
	  "start a VM that is not running, maybe with other memory, disk or kernel",
	  "Starts the VM with its manifest's arguments, changed by the options: mem= its memory in\n"
	  "MiB (within the manifest's memory or borrow line), mode= how it is virtualized (svm:\n"
	  "the hardware with nested paging, the default; shadow: the hardware with shadow page\n"
	  "tables; trap: trap-and-emulate in ring 3; patch: the same with popf and pushf patched;\n"
	  "pv: a guest built paravirtualized, from the manifest's *_pv.bin module), disk= the file\n"
	  "of the file system that is the guest's /dev/vda, kernel= and initrd= its Linux kernel\n"
	  "and initramfs, balloon a virtio-balloon (vm balloon; needs the manifest's borrow line),\n"
	  "cmdline= the guest kernel's command line: cmdline= takes every word after it (quote it\n"
	  "to keep several spaces).  Its restart policy counts from 0; the options hold for its\n"
	  "restarts.\n",
	  vm_start, 0 },
	{ "stop", "NAME", 1, 1, 0, "stop a VM now, for good (no restart until vm start)", 0, vm_stop, 0 },
	{ "restart", "NAME", 1, 1, 0, "stop a VM and start it again, with the same options", 0, vm_restart, 0 },
	{ "console", "NAME", 1, 1, 0, "the guest's serial console; Ctrl-] returns here",
	  "Connects the terminal to the guest's serial port: what you type goes to the guest,\n"
	  "what it prints comes here.  Ctrl-] (as in telnet and virsh) returns to the shell;\n"
	  "the guest runs on.  Output the guest printed before is kept in a buffer and shown.\n",
	  vm_console, 0 },
	{ "stats", "NAME", 1, 1, 0, "VM exits by reason: count and time spent in the VMM", 0, vm_stats, 0 },
	{ "snapshot", "NAME FILE", 2, 2, 0, "save a running VM to a file (docs/lifecycle.md)",
	  "Saves the VM's processor, devices and memory to FILE on Berth's file system.  The\n"
	  "guest pauses while it is written and then runs on.  Its disk is not in the snapshot:\n"
	  "the disk's file goes on changing.\n", vm_snapshot, 0 },
	{ "restore", "FILE [as NAME]", 1, 3, 0, "start a VM from a snapshot, where it was",
	  "Starts the VM the snapshot was taken of (or NAME, a VM of the manifest that is not\n"
	  "running) from FILE: the guest goes on where it was, with the snapshot's memory and\n"
	  "devices; its time has moved on by as long as the snapshot waited.\n", vm_restore, 0 },
	{ "clone", "NAME NEWNAME", 2, 2, 0, "start NEWNAME as a copy of running NAME, sharing its memory",
	  "NEWNAME (a VM of the manifest that is not running) starts where NAME is now: the\n"
	  "same processor state, devices and memory.  The memory is shared: each page is copied\n"
	  "when either VM first writes it (vm stats shows how many, mem what sharing saves).\n"
	  "A VM with a disk, a network card or a balloon, or not mode=svm, cannot be cloned\n"
	  "(docs/lifecycle.md).\n", vm_clone, 0 },
	{ "share", "NAME", 1, 1, 0, "share the VM's pages alike with other VMs' and its own",
	  "Reads the VM's memory page by page.  Zero pages go on one shared frame of zeroes;\n"
	  "a page whose bytes init keeps, or has seen in this or another VM, goes on init's\n"
	  "one read-only copy.  Each 2 MiB of which 384 of 512 pages are so shared has its\n"
	  "other pages copied and goes back to Berth (see mem).  A write to a shared page\n"
	  "copies it.  Pages first seen are only remembered: run it on each VM, then again\n"
	  "on the first.  The guest stops while it runs.  mode=svm only (docs/lifecycle.md).\n",
	  vm_share, 0 },
	{ "balloon", "NAME [MiB]", 1, 2, 0, "how much memory the guest gives back; ask for MiB",
	  "A VM started with the balloon option has a virtio-balloon device.  With MiB, the\n"
	  "guest is asked to give up that much of its memory (0: take it all back); its driver\n"
	  "does it in the background, so ask again to see how far it got.  Memory goes back to\n"
	  "Berth (see mem) in whole 2 MiB pieces of the guest's memory (docs/lifecycle.md).\n",
	  vm_balloon, 0 },
	{ "migrate", "NAME HOST:PORT", 2, 2, 0, "move a running VM to another Berth (live migration)",
	  "Moves the VM to the Berth at HOST:PORT, where vm receive NAME PORT waits for it.\n"
	  "Its memory goes while the guest runs, in rounds of the pages written since the last;\n"
	  "then the guest stops for the rest and its devices and processor, and goes on there.\n"
	  "If anything fails on the way, the VM runs on here (docs/lifecycle.md).\n", vm_migrate, 0 },
	{ "receive", "NAME PORT", 2, 2, 0, "start a VM that waits for a migration on PORT",
	  "Starts the VM's VMM without a guest: it listens on PORT for vm migrate from another\n"
	  "Berth, builds the VM the other one describes, and runs it once all of it came.\n",
	  vm_receive, 0 },
	{ "dirty", "NAME [stop]", 1, 2, 0, "pages of guest memory written since the last look",
	  "The first time, starts the VM's dirty log: every page of its memory clean and\n"
	  "write-protected, so the guest's first write to one is a VM exit that marks it.  Each\n"
	  "time after, how many pages were written since (by the guest, or possibly by its\n"
	  "devices), and the log starts again.  stop ends it.  Live migration's pre-copy rounds\n"
	  "use the same log (docs/lifecycle.md).  mode=svm only.\n", vm_dirty, 0 },
	{ "net", "NAME", 1, 1, 0, "the VM's port on the virtual switch: MAC, address, frames, drops", 0, vm_net, 0 },
	{ "fw", "NAME [add [POS] RULE... | del POS]", 1, -1, 0, "its firewall rules with counters; add or delete one",
	  "Without more words, the rules of the VM's port with their counters.  add inserts a\n"
	  "rule at POS (else last): DIR ACTION PROTO ADDR/PREFIX [PORT|LO-HI], for example\n"
	  "vm fw linux add out accept tcp 10.0.2.2/32 80.  del POS deletes rule POS.\n", vm_fw, 0 },
	{ "forward", "NAME tcp|udp BERTH_PORT GUEST_PORT", 4, 4, 0,
	  "connections to BERTH_PORT on Berth's address go to the guest",
	  "A NAT forward from Berth's address to the guest's; GUEST_PORT 0 removes it.\n", vm_forward, 0 },
	{ 0, 0, 0, 0, 0, 0, 0, 0, 0 },
};
