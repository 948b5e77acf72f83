/* The shell's commands: a line split into words (words.c), the command
 * table, the checks every command gets (the number of its words, no
 * options, no > FILE unless it writes files), help, and the small
 * commands that belong to no group (echo, lspci).
 *
 * A command is one row of the table below; a command with subcommands
 * (vm, trace) points to a table of its own, and the same checks apply at
 * each level, so `vm start` without a name and `kill -9 serial` get the
 * same kind of one-line usage.  help prints the table, so a new command
 * is documented where it is added. */
#include <string.h>
#include <libipc/libipc.h>
#include "pci.h"       /* generated from idl/pci.idl */
#include "shell.h"

static void cmd_help(int argc, char **argv, const struct words *line);
static void cmd_echo(int argc, char **argv, const struct words *line);
static void cmd_lspci(int argc, char **argv, const struct words *line);

static const struct command commands[] = {
	{ "help", "[COMMAND [SUBCOMMAND]]", 0, 2, 0, "this list, or one command's details",
	  "Without a name, every command with a line on what it does; with one, its usage and\n"
	  "what it does.  A line is split into words at spaces and tabs; '...' and \"...\" quote\n"
	  "words that hold spaces, and \\ makes the next character an ordinary one.  A command\n"
	  "given the wrong number of words, or a word starting with - (no command has options),\n"
	  "answers with its usage and does nothing.\n", cmd_help, 0 },
	{ "ps", "", 0, 0, 0, "every task: state, priority, memory, uptime, restarts, policy", PS_DETAILS, cmd_ps, 0 },
	{ "start", "NAME", 1, 1, 0, "start a task of the manifest that is not running",
	  "Starts the task as its manifest describes it, with the manifest's arguments, and\n"
	  "counts its restarts from 0 again.  A task whose manifest needs a service nobody\n"
	  "publishes yet waits, and init starts it once the service appears.  From then on its\n"
	  "restart policy (the manifest's restart line, ps's POLICY) decides what happens when\n"
	  "it crashes, exits or is killed: always, init starts it again every time; up to N,\n"
	  "the first N times; never, it stays down.  stop is the only way to keep a task with\n"
	  "a policy down.  VMs start this way too (vm start takes options).\n", cmd_start, 0 },
	{ "stop", "NAME", 1, 1, 0, "stop a task for good: no restart until start NAME",
	  "Destroys the task (or, if it waits for a service, forgets that it should start) and\n"
	  "does not start it again, whatever its restart policy says, until start NAME.  Its\n"
	  "clients see its ports die.  Refused for init, for [idle], for this shell (exit ends\n"
	  "it) and for a task that publishes a service this shell's manifest needs (the\n"
	  "console): without it nothing could start it again.\n", cmd_stop, 0 },
	{ "restart", "NAME", 1, 1, 0, "stop a running task and start it again at once",
	  "Destroys the running task and starts a fresh instance with the same arguments, as a\n"
	  "crash would, except that it does not count as one: its restart count and policy are\n"
	  "left alone.  The new instance publishes its services again; their clients find it.\n",
	  cmd_restart, 0 },
	{ "kill", "NAME", 1, 1, 0, "destroy a task as if it had crashed (its restart policy decides)",
	  "Destroys the running task the way a fault would: init notices, and the task's\n"
	  "restart policy decides whether it comes back (always: at once; up to N: while it has\n"
	  "restarts left; never: it stays down until start NAME).  kill says which happened.\n"
	  "There are no signals: -9 and other options are refused.  init and [idle] cannot be\n"
	  "killed.\n", cmd_kill, 0 },
	{ "mem", "", 0, 0, 0, "memory: total, free and used (init's Untyped memory)", 0, cmd_mem, 0 },
	{ "exit", "", 0, 0, 0, "end this shell; init starts a new one (its restart policy)",
	  "Ends the shell's task.  init sees it exit and, as the shell's restart policy says\n"
	  "(always in boot.manifest), starts a new shell on the console, which greets you\n"
	  "afresh: nothing of this one's state is kept.  If the policy would not start a new\n"
	  "shell, exit refuses: the console would be left without one.\n", cmd_exit, 0 },
	{ "echo", "[WORDS...] [> FILE | >> FILE]", 0, -1, CMD_DASH_WORDS | CMD_REDIRECT,
	  "print the words, or write them to a file (>> appends)",
	  "Prints its words separated by single spaces.  With > FILE it writes them, and a\n"
	  "newline, to that file of the file system instead (creating or emptying it); >> FILE\n"
	  "appends.  At most 127 bytes of text.\n", cmd_echo, 0 },
	{ "lspci", "", 0, 0, 0, "PCI functions: address, ids, class, interrupt, owning driver",
	  "One line per function: BUS:DEV.FN VENDOR:DEVICE class CCSSPP KIND [irq LINE]\n"
	  "[owner NAME] (docs/drivers.md).\n", cmd_lspci, 0 },
	{ "ls", "[PATH]", 0, 1, 0, "a directory's entries (type, size, name), or one file", 0, cmd_ls, 0 },
	{ "cat", "FILE", 1, 1, 0, "print a file", 0, cmd_cat, 0 },
	{ "cp", "FROM TO", 2, 2, 0, "copy a file", 0, cmd_cp, 0 },
	{ "mv", "FROM TO", 2, 2, 0, "rename a file or directory", 0, cmd_mv, 0 },
	{ "rm", "FILE", 1, 1, 0, "remove a file", 0, cmd_rm, 0 },
	{ "mkdir", "DIR", 1, 1, 0, "make a directory", 0, cmd_mkdir, 0 },
	{ "rmdir", "DIR", 1, 1, 0, "remove an empty directory", 0, cmd_rmdir, 0 },
	{ "df", "", 0, 0, 0, "the file system's size, free blocks and inodes", 0, cmd_df, 0 },
	{ "sync", "", 0, 0, 0, "write everything the file system holds back to the disk", 0, cmd_sync, 0 },
	{ "ifconfig", "", 0, 0, 0, "the network interface: address, netmask, gateway, MAC, counters", 0, cmd_ifconfig,
	  0 },
	{ "ping", "A.B.C.D [COUNT]", 1, 2, 0, "ICMP echo requests (4 unless COUNT), one a second", 0, cmd_ping, 0 },
	{ "trace", "SUBCOMMAND ...", 1, -1, 0, "the kernel's record of chosen tasks' messages",
	  "The kernel records every message to or from the traced tasks; show prints the\n"
	  "records (docs/trace.md).\n", 0, trace_commands },
	{ "vm", "SUBCOMMAND ...", 1, -1, 0, "virtual machines: list, start, stop, console, stats, network",
	  "Each VM is a task of the manifest whose image is the VMM (docs/vmm.md, \"Managing VMs\n"
	  "from the shell\").\n", 0, vm_commands },
	{ 0, 0, 0, 0, 0, 0, 0, 0, 0 },
};

const char *error_text(long err)
{
	static const char *const text[] = {
		"no error", "unknown system call", "no such capability", "wrong kind of object",
		"not allowed", "bad argument", "out of range or out of memory", "misaligned",
		"overlap", "slot full", "already mapped", "not mapped", "a page table is missing",
		"bad address", "not in a state that allows it", "not copyable", "reply already used",
		"the server is gone", "no reply: the server died", "would block", "bad message",
		"no receive slots", "a kernel table is full",
	};
	return err >= 0 && err < (long)(sizeof(text) / sizeof(text[0])) ? text[err] : "unknown error";
}

static const struct command *find(const struct command *table, const char *name)
{
	for (const struct command *c = table; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return 0;
}

const char *shell_command_name(unsigned i)
{
	return i < sizeof(commands) / sizeof(commands[0]) - 1 ? commands[i].name : 0;
}

const char *shell_subcommand_name(const char *name, unsigned i)
{
	const struct command *c = find(commands, name);
	if (!c || !c->subs)
		return 0;
	for (unsigned k = 0; c->subs[k].name; k++)
		if (k == i)
			return c->subs[k].name;
	return 0;
}

/* "list|start|stop" for a command's subcommands. */
static void sub_names(const struct command *c, char *buf, size_t size)
{
	size_t n = 0;
	buf[0] = 0;
	for (const struct command *s = c->subs; s->name && n + 1 < size; s++)
		n += (size_t)debug_snprintf(buf + n, size - n, "%s%s", s == c->subs ? "" : "|", s->name);
}

static void usage_text(const struct command *c, const char *path, char *buf, size_t size)
{
	if (c->subs) {
		char names[128];
		sub_names(c, names, sizeof(names));
		debug_snprintf(buf, size, "%s %s ... (help %s)", path, names, path);
	} else {
		debug_snprintf(buf, size, "%s%s%s", path, c->usage[0] ? " " : "", c->usage);
	}
}

void usage_error(const struct command *c, const char *path, const char *fmt, ...)
{
	char what[160], usage[200];
	va_list ap;
	va_start(ap, fmt);
	debug_vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	usage_text(c, path, usage, sizeof(usage));
	outf("%s: %s; usage: %s\n", path, what, usage);
}

/* Check the words after c's name (argv[1..argc)) and run it; path names
 * it so far ("vm" for vm's subcommands). */
static void dispatch(const struct command *c, const char *path, int argc, char **argv, const struct words *line)
{
	char full[48];
	debug_snprintf(full, sizeof(full), "%s%s%s", path, path[0] ? " " : "", c->name);
	int given = argc - 1;
	if (line->redirect && !(c->flags & CMD_REDIRECT) && !c->subs) {
		outf("%s: its output cannot go to a file (only echo writes files with > and >>)\n", full);
		return;
	}
	if (given < c->min) {
		if (c->subs)
			usage_error(c, full, "missing a subcommand");
		else if (!given)
			usage_error(c, full, "missing %.*s", (int)strcspn(c->usage, " "), c->usage);
		else
			usage_error(c, full, "too few arguments");
		return;
	}
	if (c->subs) {
		const struct command *s = find(c->subs, argv[1]);
		if (!s) {
			usage_error(c, full, argv[1][0] == '-' ? "unknown option '%s'" : "unknown subcommand '%s'", argv[1]);
			return;
		}
		dispatch(s, full, argc - 1, argv + 1, line);
		return;
	}
	/* an option first: kill -9 serial is refused for the -9 */
	if (!(c->flags & CMD_DASH_WORDS))
		for (int i = 1; i < argc; i++)
			if (argv[i][0] == '-' && argv[i][1]) {
				usage_error(c, full, "unknown option '%s' (%s takes none)", argv[i], full);
				return;
			}
	if (c->max >= 0 && given > c->max) {
		usage_error(c, full, "unexpected '%s'", argv[c->max + 1]);
		return;
	}
	c->run(argc, argv, line);
}

int shell_run(char *text)
{
	struct words line;
	const char *error;
	if (words_split(text, &line, &error)) {
		outf("shell: %s\n", error);
		return 0;
	}
	if (!line.argc) {
		if (line.redirect)
			out("shell: > and >> need a command (echo WORDS > FILE)\n");
		return 0;
	}
	const struct command *c = find(commands, line.argv[0]);
	if (!c) {
		outf("%s: unknown command (try help)\n", line.argv[0]);
		return 0;
	}
	dispatch(c, "", line.argc, line.argv, &line);
	return exit_requested() ? SHELL_EXIT : 0;
}

/* --- help ---------------------------------------------------------------- */

/* "  NAME USAGE   summary", the summary in a column of its own or, after
 * a long usage, on the next line. */
static void help_line(const char *path, const struct command *c)
{
	char left[96];
	debug_snprintf(left, sizeof(left), "%s%s%s%s%s", path, path[0] ? " " : "", c->name, c->usage[0] ? " " : "",
	               c->subs ? "" : c->usage);
	if (strlen(left) <= 24)
		outf("  %-24s %s\n", left, c->summary);
	else
		outf("  %s\n  %-24s %s\n", left, "", c->summary);
}

static void help_all(void)
{
	out("Commands (help NAME for details; words split at blanks, '...' and \"...\" quote):\n");
	for (const struct command *c = commands; c->name; c++) {
		if (!c->subs) {
			help_line("", c);
			continue;
		}
		for (const struct command *s = c->subs; s->name; s++)
			help_line(c->name, s);
	}
}

static void help_one(const struct command *c, const char *path)
{
	char usage[200];
	usage_text(c, path, usage, sizeof(usage));
	outf("usage: %s\n", usage);
	outf("%s.\n", c->summary);
	if (c->details)
		out(c->details);
	if (c->subs) {
		for (const struct command *s = c->subs; s->name; s++)
			help_line(path, s);
		outf("help %s SUBCOMMAND says more about each.\n", path);
	}
}

static void cmd_help(int argc, char **argv, const struct words *line)
{
	(void)line;
	if (argc == 1) {
		help_all();
		return;
	}
	const struct command *c = find(commands, argv[1]);
	if (!c) {
		outf("help: no command '%s' (help lists them)\n", argv[1]);
		return;
	}
	if (argc == 2) {
		help_one(c, c->name);
		return;
	}
	const struct command *s = c->subs ? find(c->subs, argv[2]) : 0;
	if (!s) {
		outf(c->subs ? "help: %s has no subcommand '%s' (help %s lists them)\n"
		             : "help: %s has no subcommands ('%s'?; help %s says what it takes)\n",
		     c->name, argv[2], c->name);
		return;
	}
	char path[48];
	debug_snprintf(path, sizeof(path), "%s %s", c->name, s->name);
	help_one(s, path);
}

/* --- echo, lspci --------------------------------------------------------- */

static void cmd_echo(int argc, char **argv, const struct words *line)
{
	char text[LINE_TEXT_MAX + 1];
	if (words_join(argv + 1, argc - 1, text, sizeof(text)) < 0) {
		outf("echo: the text is longer than %d bytes\n", LINE_TEXT_MAX);
		return;
	}
	if (line->redirect)
		files_echo_to(text, line->redirect, line->append);
	else
		outf("%s\n", text);
}

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
static void cmd_lspci(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)argv;
	(void)line;
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
