/* The shell: a command line on the console.  Finds the console through
 * init's name service (slot 8), and looks it up again when the console
 * driver is restarted. */
#include <libipc/libipc.h>
#include "console.h"   /* generated from idl/console.idl */
#include "init.h"      /* generated from idl/init.idl */

#define INIT_SLOT 8
#define LINE_MAX_LEN 128

static uint64_t console;

/* The console driver died: its port is dead, or (once init revoked its
 * memory) our right to it is gone altogether. */
static int console_gone(long err)
{
	return err == E_DEAD_PORT || err == E_NO_REPLY || err == E_BAD_CAP;
}

/* Find the console, waiting for it to be published. */
static void connect(void)
{
	if (console) {
		sys_cnode_delete(console);
		slot_free(console);
		console = 0;
	}
	for (int tries = 0; init_lookup(INIT_SLOT, "console", &console) != E_OK; tries++)
		sys_yield();
}

static void out(const char *s)
{
	size_t n = strlen(s);
	while (n) {
		uint32_t chunk = n > 256 ? 256 : (uint32_t)n, written;
		long err = console_write(console, (const uint8_t *)s, chunk, &written);
		if (console_gone(err)) {
			connect();
			continue;
		}
		if (err)
			return;
		s += chunk;
		n -= chunk;
	}
}

static void outf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void outf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	debug_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	out(buf);
}

/* One line of input, without its end. */
static void read_line(char *line)
{
	size_t n = 0;
	for (;;) {
		uint8_t buf[256];
		uint32_t got = 0;
		long err = console_read(console, sizeof(buf), buf, &got);
		if (console_gone(err)) {
			connect();
			continue;
		}
		for (uint32_t i = 0; i < got; i++) {
			if (buf[i] == '\r' || buf[i] == '\n') {
				line[n] = 0;
				return;
			}
			if ((buf[i] == 8 || buf[i] == 127) && n)
				n--;
			else if (buf[i] >= ' ' && n + 1 < LINE_MAX_LEN)
				line[n++] = (char)buf[i];
		}
	}
}

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
		    "  echo WORDS    print the words\n");
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
		outf("%s\n", arg);
	} else {
		outf("%s: unknown command (try help)\n", cmd);
	}
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	char line[LINE_MAX_LEN];
	connect();
	out("Berth shell. Type help for the commands.\n");
	for (;;) {
		out("berth> ");
		read_line(line);
		run(line);
	}
}
