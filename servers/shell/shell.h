/* What the shell's parts share.
 *
 *   main.c      start-up, the console (out, outf), the name service
 *               (lookup, drop), the input and the loop, and the guest
 *               console session the reader thread serves
 *   commands.c  a line's words (words.c), the command table, the usage
 *               checks, help, echo, lspci
 *   tasks.c     ps, start, stop, restart, kill, mem, exit
 *   vm.c        the vm commands; vmnet.c: vm net, fw, forward
 *   files.c     the file commands; net.c: ifconfig, ping; trace.c: trace
 *
 * The commands are in README.md ("Commands"). */
#ifndef SHELL_H
#define SHELL_H

#include <stddef.h>
#include <stdint.h>
#include "words.h"

#define INIT_SLOT 8

/* idl/fs.idl's open flags; the longest echo text */
#define FS_OPEN_CREATE 1u
#define FS_OPEN_TRUNC 4u
#define LINE_TEXT_MAX 127

/* main.c */
void out(const char *s);
void outf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t lookup(const char *name);   /* a right from init's name service, or 0 */
void drop(uint64_t slot);
void shell_nap(unsigned ticks);      /* the main thread sleeps so many 10 ms ticks */
/* vm console's session with a guest: open takes the send right to the
 * VM's controls (consumed either way; 0 or an error); run connects the
 * console to the guest, the reader thread passing typed bytes to it until
 * Ctrl-], and returns when the session ends, with vmm.idl's
 * console_attach result (how: 0 left with Ctrl-], 1 another client took
 * the console). */
long console_session_open(uint64_t controls);
long console_session_run(uint32_t *how);

/* --- the command table (commands.c) ------------------------------------ */

/* One command, or one subcommand of a command like vm.  The dispatcher
 * checks the number of words after the name against min and max, and
 * refuses a word starting with '-' (no command has options) unless
 * CMD_DASH_WORDS; only CMD_REDIRECT commands may have > FILE.  Then
 * run gets the words from the command's own name on: argv[0] is "kill"
 * for kill NAME, "start" for vm start NAME. */
struct command {
	const char *name;
	const char *usage;       /* what follows the name, e.g. "NAME" or "[PATH]" */
	int min, max;            /* words after the name; max -1: any number */
	unsigned flags;
	const char *summary;     /* help's one line */
	const char *details;     /* help NAME's paragraph, or 0 */
	void (*run)(int argc, char **argv, const struct words *line);
	const struct command *subs;  /* instead of run: subcommands, ending with an empty one */
};
#define CMD_DASH_WORDS 1u    /* words may start with '-' (echo's text) */
#define CMD_REDIRECT 2u      /* > FILE and >> FILE are its own (echo) */

/* Run one line of input: split it, check it, run it.  SHELL_EXIT if it
 * was exit and the shell should end. */
#define SHELL_EXIT 1
int shell_run(char *line);

/* The command names, for Tab completion: the i-th (0..) command, 0 past
 * the last; and the i-th subcommand of the command called name (vm's
 * list, start, ...), 0 past the last or if it has none. */
const char *shell_command_name(unsigned i);
const char *shell_subcommand_name(const char *name, unsigned i);

/* Say what is wrong with a command's words and its usage, on one line:
 * "kill: unknown option '-9'; usage: kill NAME".  path: "kill" or
 * "vm start". */
void usage_error(const struct command *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A decimal number filling the word: 1 and *v, or 0 (vmnet.c). */
int word_u32(const char *s, uint32_t *v);

/* A Berth error code in a few words (include/berth/errors.h). */
const char *error_text(long err);

/* --- the commands, by file --------------------------------------------- */

/* tasks.c */
void cmd_ps(int argc, char **argv, const struct words *line);
void cmd_start(int argc, char **argv, const struct words *line);
void cmd_stop(int argc, char **argv, const struct words *line);
void cmd_restart(int argc, char **argv, const struct words *line);
void cmd_kill(int argc, char **argv, const struct words *line);
void cmd_mem(int argc, char **argv, const struct words *line);
void cmd_exit(int argc, char **argv, const struct words *line);
int exit_requested(void);   /* exit ran and said the shell ends */
void format_uptime(uint64_t ms, char *buf, size_t size);  /* 4.2s, 3m07s, 2h05m */
#define PS_DETAILS \
	"One row per task: the kernel's idle loop, init, then the manifest's servers and VMs\n" \
	"in its order.  Columns:\n" \
	"  TASK      its name in the manifest; init is the root task; [idle] is the kernel's\n" \
	"            idle loop, not a task: the CPU halts there when no thread can run\n" \
	"  STATE     a running task's main thread: running (or ready to), receiving (waiting\n" \
	"            for a request or an event), calling, waiting-reply, sending, faulted,\n" \
	"            suspended; a task that does not run: waiting (for a service its manifest\n" \
	"            needs), stopped (by stop), killed, exited N, crashed (a fault), manual\n" \
	"            (its manifest entry says so: it starts only when asked) or not started\n" \
	"            (it could not be: the console says why); [idle]: the share of the time\n" \
	"            since boot the CPU was idle\n" \
	"  PRIO      its scheduling priority, 0..255, higher first ([idle]: below them all)\n" \
	"  MEMORY    a task's memory quota, the manifest's memory line, and the guest memory\n" \
	"            it may borrow (its borrow line); init: the memory its\n" \
	"            own objects take; [idle]: - (the kernel's own memory is not counted)\n" \
	"  UPTIME    since this instance started (init and [idle]: since init started)\n" \
	"  RESTARTS  how often its restart policy started it again after a crash, kill or\n" \
	"            exit; start resets it, restart does not count\n" \
	"  POLICY    its manifest's restart line: always, never or up to N; init and [idle]\n" \
	"            are never restarted (if init dies, the system stops)\n"

/* vm.c */
extern const struct command vm_commands[];

/* vmnet.c: a VM's port on the network server's switch */
void vm_fw(int argc, char **argv, const struct words *line);
void vm_net(int argc, char **argv, const struct words *line);
void vm_forward(int argc, char **argv, const struct words *line);

/* files.c */
void cmd_ls(int argc, char **argv, const struct words *line);
void cmd_cat(int argc, char **argv, const struct words *line);
void cmd_cp(int argc, char **argv, const struct words *line);
void cmd_mv(int argc, char **argv, const struct words *line);
void cmd_rm(int argc, char **argv, const struct words *line);
void cmd_mkdir(int argc, char **argv, const struct words *line);
void cmd_rmdir(int argc, char **argv, const struct words *line);
void cmd_df(int argc, char **argv, const struct words *line);
void cmd_sync(int argc, char **argv, const struct words *line);
/* echo's text into a file (echo WORDS > FILE, >> appends) */
void files_echo_to(const char *text, const char *file, int append);

/* net.c */
void cmd_ifconfig(int argc, char **argv, const struct words *line);
void cmd_ping(int argc, char **argv, const struct words *line);

/* trace.c */
extern const struct command trace_commands[];

/* --- input (input.c, lineedit.c; README.md "Input") -------------------- */

/* The reader thread's messages to the main thread, on the shell's port. */
#define SHELL_TYPED 0x7f10               /* w0 count (at most 256), w1.. the bytes */
#define SHELL_CONSOLE_NEW 0x7f11         /* the console driver was restarted */

/* One edited line into line (size bytes, its end not included), from
 * the bytes the reader sends to typed_port. */
void input_read_line(char *line, size_t size, uint64_t typed_port);

#endif
