/* The shell's task commands: ps, start, stop, restart, kill, mem, exit.
 * All of them are requests to init (idl/init.idl), which starts and
 * supervises every task; the shell only asks and says, in words, what
 * happened and what the task's restart policy will do about it.
 *
 * init and the kernel's idle loop ([idle]) are in ps but are not tasks
 * init supervises: the commands refuse them by name, saying why, before
 * asking init anything. */
#include <string.h>
#include <libipc/libipc.h>
#include "init.h"      /* generated from idl/init.idl */
#include "shell.h"

/* init.idl's ps_entry: kinds, flags, states, how an instance ended */
#define KIND_TASK 0
#define KIND_INIT 1
#define KIND_IDLE 2
#define FLAG_VM 1u
#define FLAG_CALLER 2u
#define FLAG_MANUAL 4u
#define FLAG_CONTROL 8u                  /* this shell may start, stop, restart, kill it */
#define TASK_RUNNING 1
#define TASK_WAITING 2
#define END_STOPPED 1
#define END_KILLED 2
#define END_EXITED 3
#define END_FAULTED 4
#define END_HUNG 5                       /* missed its heartbeats (docs/manifest.md) */
#define POLICY_ALWAYS (-1)

struct row {
	char name[33];
	uint32_t kind, flags, state, thread, end, priority, restarts;
	int64_t detail;
	int32_t policy;
	uint64_t memory, uptime_ms, idle_ms;
};

static int exiting;

int exit_requested(void)
{
	return exiting;
}

static long get_row(uint32_t index, struct row *r)
{
	return init_ps_entry(INIT_SLOT, index, r->name, &r->kind, &r->flags, &r->state, &r->thread, &r->end,
	                     &r->detail, &r->priority, &r->restarts, &r->policy, &r->memory, &r->uptime_ms,
	                     &r->idle_ms);
}

/* The row of the task called name; 0 if there is none. */
static int find_row(const char *name, struct row *r)
{
	for (uint32_t i = 0; !get_row(i, r); i++)
		if (!strcmp(r->name, name))
			return 1;
	return 0;
}

/* This shell's own row (init marks the caller's); 0 if init did not
 * start it. */
static int own_row(struct row *r)
{
	for (uint32_t i = 0; !get_row(i, r); i++)
		if (r->flags & FLAG_CALLER)
			return 1;
	return 0;
}

/* Whether the policy starts the task again after its next death, as
 * init's task_died decides. */
static int policy_restarts(const struct row *r)
{
	return r->policy == POLICY_ALWAYS || (int64_t)r->restarts < r->policy;
}

static void policy_text(const struct row *r, char *buf, size_t size)
{
	if (r->kind != KIND_TASK)
		debug_snprintf(buf, size, "-");
	else if (r->policy == POLICY_ALWAYS)
		debug_snprintf(buf, size, "always");
	else if (r->policy == 0)
		debug_snprintf(buf, size, "never");
	else
		debug_snprintf(buf, size, "up to %d", r->policy);
}

/* What the policy does at the task's next crash, exit or kill, as a
 * clause: "its restart policy (always) starts it again". */
static void policy_clause(const struct row *r, char *buf, size_t size)
{
	char p[16];
	int left = r->policy - (int)r->restarts;
	policy_text(r, p, sizeof(p));
	if (r->policy == POLICY_ALWAYS)
		debug_snprintf(buf, size, "its restart policy (always) starts it again");
	else if (r->policy == 0)
		debug_snprintf(buf, size, "its restart policy (never) leaves it down");
	else if (left > 0)
		debug_snprintf(buf, size, "its restart policy (%s) starts it again, %d more time%s", p, left,
		               left == 1 ? "" : "s");
	else
		debug_snprintf(buf, size, "its restart policy (%s) is used up: it stays down", p);
}

/* ps's STATE */
static void state_text(const struct row *r, char *buf, size_t size)
{
	static const char *const thread_states[] = { "suspended", "running", "faulted", "sending",
	                                             "calling", "waiting-reply", "receiving" };
	if (r->kind == KIND_IDLE) {
		uint64_t pct = r->uptime_ms ? r->idle_ms * 100 / r->uptime_ms : 0;
		/* idle time counts from boot, uptime from init's start */
		debug_snprintf(buf, size, "idle %lu%%", pct > 100 ? 100 : pct);
	} else if (r->state == TASK_RUNNING) {
		debug_snprintf(buf, size, "%s", r->thread < sizeof(thread_states) / sizeof(thread_states[0])
		                                ? thread_states[r->thread] : "?");
	} else if (r->state == TASK_WAITING) {
		debug_snprintf(buf, size, "waiting");
	} else if (r->end == END_STOPPED) {
		debug_snprintf(buf, size, "stopped");
	} else if (r->end == END_KILLED) {
		debug_snprintf(buf, size, "killed");
	} else if (r->end == END_EXITED) {
		debug_snprintf(buf, size, "exited %ld", (long)r->detail);
	} else if (r->end == END_FAULTED) {
		debug_snprintf(buf, size, "crashed");
	} else if (r->end == END_HUNG) {
		debug_snprintf(buf, size, "hung");
	} else if (r->flags & FLAG_MANUAL) {
		debug_snprintf(buf, size, "manual");
	} else {
		debug_snprintf(buf, size, "not started");
	}
}

static void memory_text(uint64_t bytes, char *buf, size_t size)
{
	if (bytes < (1UL << 20))
		debug_snprintf(buf, size, "%luK", bytes >> 10);
	else if (!(bytes & ((1UL << 20) - 1)) || bytes >= (100UL << 20))
		debug_snprintf(buf, size, "%luM", bytes >> 20);
	else
		debug_snprintf(buf, size, "%lu.%luM", bytes >> 20, (bytes & ((1UL << 20) - 1)) * 10 >> 20);
}

void format_uptime(uint64_t ms, char *buf, size_t size)
{
	uint64_t s = ms / 1000;
	if (s < 60)
		debug_snprintf(buf, size, "%lu.%lus", s, ms % 1000 / 100);
	else if (s < 3600)
		debug_snprintf(buf, size, "%lum%02lus", s / 60, s % 60);
	else
		debug_snprintf(buf, size, "%luh%02lum", s / 3600, s / 60 % 60);
}

void cmd_ps(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)argv;
	(void)line;
	outf("%-16s %-14s %4s %8s %9s %8s  %s\n", "TASK", "STATE", "PRIO", "MEMORY", "UPTIME", "RESTARTS", "POLICY");
	struct row r;
	uint32_t i = 0;
	for (; !get_row(i, &r); i++) {
		char state[24], prio[8] = "-", memory[16] = "-", uptime[16] = "-", restarts[12] = "-", policy[16];
		state_text(&r, state, sizeof(state));
		policy_text(&r, policy, sizeof(policy));
		if (r.kind != KIND_IDLE) {
			debug_snprintf(prio, sizeof(prio), "%u", r.priority);
			memory_text(r.memory, memory, sizeof(memory));
		}
		if (r.kind == KIND_TASK)
			debug_snprintf(restarts, sizeof(restarts), "%u", r.restarts);
		if (r.kind != KIND_TASK || r.state == TASK_RUNNING)
			format_uptime(r.uptime_ms, uptime, sizeof(uptime));
		outf("%-16s %-14s %4s %8s %9s %8s  %s\n", r.name, state, prio, memory, uptime, restarts, policy);
	}
	if (!i)
		out("ps: init did not answer\n");
}

/* init and [idle] are not tasks init supervises: say why the command
 * cannot apply to them.  1 if name was one of them. */
static int refuse_special(const char *cmd, const char *name)
{
	if (!strcmp(name, "init")) {
		outf("%s: init is the root task, which starts and supervises every other; it cannot be %s\n", cmd,
		     !strcmp(cmd, "start") ? "started again: it always runs" : !strcmp(cmd, "kill") ? "killed"
		     : !strcmp(cmd, "stop") ? "stopped" : "restarted");
		return 1;
	}
	if (!strcmp(name, "[idle]")) {
		outf("%s: [idle] is the kernel's idle loop, not a task: there is nothing to %s\n", cmd, cmd);
		return 1;
	}
	return 0;
}

/* The task's row, or 0 after saying there is no such task. */
static int known_task(const char *cmd, const char *name, struct row *r)
{
	if (refuse_special(cmd, name))
		return 0;
	if (!find_row(name, r) || r->kind != KIND_TASK) {
		outf("%s: no task '%s' in the manifest (ps lists them)\n", cmd, name);
		return 0;
	}
	if (!(r->flags & FLAG_CONTROL)) {
		outf("%s: refused: this shell's manifest entry does not let it control '%s' (its control line, "
		     "docs/manifest.md)\n", cmd, name);
		return 0;
	}
	return 1;
}

/* "stopped (by stop)", for a task that does not run */
static void down_text(const struct row *r, char *buf, size_t size)
{
	char s[24];
	state_text(r, s, sizeof(s));
	debug_snprintf(buf, size, "%s%s", s,
	               r->state == TASK_WAITING ? ": it waits for a service its manifest needs"
	               : r->end == END_STOPPED ? " by stop" : "");
}

void cmd_start(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)line;
	const char *name = argv[1];
	struct row r;
	if (!known_task("start", name, &r))
		return;
	long err = init_start(INIT_SLOT, name, "");
	if (err == E_STATE) {
		if (r.state == TASK_WAITING)
			outf("start: '%s' already waits for a service its manifest needs; init starts it once that "
			     "is published\n", name);
		else
			outf("start: '%s' is already running (restart %s starts it afresh)\n", name, name);
		return;
	}
	if (err) {
		outf("start: init could not start '%s': %s (init's line on the console says why)\n", name,
		     error_text(err));
		return;
	}
	char clause[96];
	if (!find_row(name, &r)) {
		outf("started '%s'\n", name);
		return;
	}
	policy_clause(&r, clause, sizeof(clause));
	if (r.state == TASK_WAITING)
		outf("'%s' waits for a service its manifest needs; init starts it once that is published\n", name);
	else if (r.state == TASK_RUNNING)
		outf("started '%s' (restarts counted from 0); if it crashes, exits or is killed, %s\n", name, clause);
	else {
		char why[48];
		down_text(&r, why, sizeof(why));
		outf("start: '%s' started and ended at once (%s)\n", name, why);
	}
}

void cmd_stop(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)line;
	const char *name = argv[1];
	struct row r;
	if (!known_task("stop", name, &r))
		return;
	if (r.flags & FLAG_CALLER) {
		outf("stop: '%s' is this shell; exit ends it\n", name);
		return;
	}
	long err = init_stop(INIT_SLOT, name);
	if (err == E_NO_RIGHTS) {
		outf("stop: refused: '%s' publishes a service this shell's manifest needs (the console), and "
		     "without it nothing could start it again; restart %s restarts it\n", name, name);
	} else if (err == E_STATE) {
		char why[64];
		down_text(&r, why, sizeof(why));
		outf("stop: '%s' is not running (%s)\n", name, why);
	} else if (err) {
		outf("stop: init could not stop '%s': %s\n", name, error_text(err));
	} else if (r.state == TASK_WAITING) {
		outf("stopped '%s': it no longer waits to start; init will not start it until start %s\n", name, name);
	} else {
		outf("stopped '%s'; init will not restart it until start %s\n", name, name);
	}
}

void cmd_restart(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)line;
	const char *name = argv[1];
	struct row r;
	if (!known_task("restart", name, &r))
		return;
	if (r.flags & FLAG_CALLER) /* init destroys us inside the call */
		outf("restarting '%s', this shell: a new one starts at once\n", name);
	long err = init_restart(INIT_SLOT, name);
	if (err == E_STATE) {
		char why[64];
		down_text(&r, why, sizeof(why));
		outf("restart: '%s' is not running (%s); start %s starts it\n", name, why, name);
		return;
	}
	if (err) {
		outf("restart: init could not start '%s' again: %s (init's line on the console says why)\n", name,
		     error_text(err));
		return;
	}
	if (find_row(name, &r) && r.state == TASK_WAITING)
		outf("restarted '%s': it waits for a service its manifest needs; init starts it once that is "
		     "published\n", name);
	else
		outf("restarted '%s' (a restart by request: its restart count, %u, and its policy are left "
		     "alone)\n", name, r.restarts);
}

void cmd_kill(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)line;
	const char *name = argv[1];
	struct row r;
	char clause[96];
	if (!known_task("kill", name, &r))
		return;
	if (r.state != TASK_RUNNING) {
		char why[64];
		down_text(&r, why, sizeof(why));
		outf("kill: '%s' is not running (%s)\n", name, why);
		return;
	}
	if (r.flags & FLAG_CALLER) { /* init destroys us inside the call: say it first */
		if (!policy_restarts(&r)) {
			policy_clause(&r, clause, sizeof(clause));
			outf("kill: not killing '%s', this shell: %s, and the console would be left without a "
			     "shell\n", name, clause);
			return;
		}
		outf("killing '%s', this shell; its restart policy starts a new one\n", name);
	}
	long err = init_kill(INIT_SLOT, name);
	if (err == E_BAD_ARG) {
		outf("kill: '%s' is not running\n", name);
		return;
	}
	if (err) {
		outf("kill: init could not kill '%s': %s\n", name, error_text(err));
		return;
	}
	/* init has already applied the policy when it answers */
	char p[16];
	policy_text(&r, p, sizeof(p));
	if (!find_row(name, &r))
		outf("killed '%s'\n", name);
	else if (r.state == TASK_RUNNING && r.policy > 0)
		outf("killed '%s'; its restart policy (%s) started it again: restart %u of %d\n", name, p, r.restarts,
		     r.policy);
	else if (r.state == TASK_RUNNING)
		outf("killed '%s'; its restart policy (%s) started it again: restart %u\n", name, p, r.restarts);
	else if (r.state == TASK_WAITING)
		outf("killed '%s'; its restart policy (%s) restarts it once the services its manifest needs are "
		     "published\n", name, p);
	else if (r.policy > 0)
		outf("killed '%s'; its restart policy (%s) is used up, so it stays down: start %s starts it again\n",
		     name, p, name);
	else
		outf("killed '%s'; its restart policy (%s) leaves it down: start %s starts it again\n", name, p, name);
}

void cmd_mem(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)argv;
	(void)line;
	uint64_t total, free, shared, saved, kept, takes;
	if (init_mem(INIT_SLOT, &total, &free)) {
		out("mem: init did not answer\n");
		return;
	}
	outf("memory: %lu KiB total, %lu KiB free, %lu KiB used\n", total >> 10, free >> 10, (total - free) >> 10);
	/* guest memory that clones share with their parents (vm clone) */
	if (init_mem_sharing(INIT_SLOT, &shared, &saved, &kept, &takes))
		return;
	if (shared)
		outf("shared by VMs: %lu KiB, saving %lu KiB (each VM's private copies are in used)\n", shared >> 10,
		     saved >> 10);
	/* pages shared by content (vm share): kept once by init; each VM
	 * that took one gave its own copy back with its region */
	if (kept)
		outf("pages shared by content: %lu kept once (%lu KiB), taken %lu times by VMs, saving %lu KiB\n", kept,
		     kept * 4, takes, takes > kept ? (takes - kept) * 4 : 0);
}

void cmd_exit(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)argv;
	(void)line;
	struct row r;
	if (!own_row(&r)) {
		out("exit: this shell ends (init did not start it: nothing starts a new one)\n");
		exiting = 1;
		return;
	}
	char p[16];
	policy_text(&r, p, sizeof(p));
	if (!policy_restarts(&r)) {
		outf("exit: not ending: the shell's restart policy (%s%s) would not start a new one, and the console "
		     "would be left without a shell\n", p, r.policy > 0 ? ", used up" : "");
		return;
	}
	outf("exit: this shell ends; init starts a new one (restart policy: %s)\n", p);
	exiting = 1;
}
