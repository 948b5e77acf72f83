/* The shell's line editing, typed over the serial line by the test
 * runner as a terminal sends it, and checked on the screen (the serial
 * log): Backspace and Ctrl-H erase on screen, Ctrl-U kills, arrows, Home,
 * End and Delete edit in the middle, unknown escape sequences are
 * swallowed, Up repeats, Tab completes commands and task names, Ctrl-C
 * cancels, Ctrl-L clears, a 500-character line is refused, a log line
 * from another task lands above the line being typed, which is drawn
 * again, and a command typed just after `kill serial` runs.  init runs
 * the console driver, the shell and this program, which writes that log
 * line three seconds after it starts (servers/shell/README.md "Input",
 * docs/console.md).
 *
 * Each send waits for the previous command's output and the prompt
 * after it, so nothing is typed ahead of the shell. */
// test-root: build/init.elf
// test-module: tests/system/manifests/shell_input.manifest
// test-module: build/serial.elf
// test-module: build/shell.elf
// test-exit: none
// test-timeout: 120
// test-send: berth>  => echo abc
// test-send: shell-input: a log line from another task\r\n\rberth> echo abc\x1b\[K => def\n
// test-send: ^abcdef\r\n\rberth>  => pss
// test-send: \x1b\[Kpss => \x7f
// test-send: \x08\x1b\[K => \n
// test-send: ^serial [^\n]*\n(?:[^\n]*\n)*?\rberth>  => xx
// test-send: \x1b\[Kxx => \x15
// test-send: \x1b\[2D\x1b\[K => echo ok\n
// test-send: ^ok\r\n\rberth>  => echo hi!\x08\n
// test-send: ^hi\r\n\rberth>  => echo HELO
// test-send: \x1b\[Kecho HELO => \x1b[D
// test-send: \x1b\[1D => L
// test-send: \rberth> echo HELLO\x1b\[K\x1b\[1D => \n
// test-send: ^HELLO\r\n\rberth>  => echo wrld\x1bOD\x1bOD\x1bODo\n
// test-send: ^world\r\n\rberth>  => cho home\x1b[He\n
// test-send: ^home\r\n\rberth>  => cho ctrl-a\x01e\x05!\n
// test-send: ^ctrl-a!\r\n\rberth>  => echo delxete\x1b[D\x1b[D\x1b[D\x1b[D\x1b[3~\n
// test-send: ^delete\r\n\rberth>  => echo f5\x1b[15~key\n
// test-send: ^f5key\r\n\rberth>  => echo first\n
// test-send: ^first\r\n\rberth>  => echo second\n
// test-send: ^second\r\n\rberth>  => \x1b[A\x1b[A\n
// test-send: ^first\r\n\rberth>  => ec\x09tabbed\n
// test-send: ^tabbed\r\n\rberth>  => echo s\x09
// test-send: serial +shell\r\n\rberth> echo s\x1b\[K => h\x09\n
// test-send: ^shell ?\r\n\rberth>  => echo cancelled\x03
// test-send: echo cancelled\^C\r\n\rberth>  => echo cl\x0c
// test-send: \x1b\[2J\rberth> echo cl\x1b\[K => ear\n
// test-send: ^clear\r\n\rberth>  => echo aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n
// test-send: line too long: at most 127 characters[^\n]*\n\rberth>  => \x04echo after ctrl-d\n
// test-send: ^after ctrl-d\r\n\rberth>  => kill serial\necho typed after kill\n
// test-expect: Berth shell\. Type help for the commands\.
// test-expect: shell-input: a log line from another task\r\n\rberth> echo abc\x1b\[Kdef\r\n
// test-expect: ^abcdef\r?$
// test-expect: berth> \x1b\[Kpss\x08\x1b\[K\r\n
// test-expect: ^serial +
// test-expect: berth> \x1b\[Kxx\x1b\[2D\x1b\[Kecho ok\r\n
// test-expect: \rberth> echo HELLO\x1b\[K\x1b\[1D\x1b\[1C\r\n
// test-expect: ^ok\r?$
// test-expect: ^hi\r?$
// test-expect: ^HELLO\r?$
// test-expect: ^world\r?$
// test-expect: ^home\r?$
// test-expect: ^ctrl-a!\r?$
// test-expect: ^delete\r?$
// test-expect: ^f5key\r?$
// test-expect: ^first\r?\n[\s\S]*^second\r?\n[\s\S]*^first\r?$
// test-expect: ^tabbed\r?$
// test-expect: ^shell ?\r?$
// test-expect: echo cancelled\^C\r\n
// test-expect: ^clear\r?$
// test-expect: line too long: at most 127 characters
// test-expect: ^after ctrl-d\r?$
// test-expect: ^typed after kill\r?$
// test-reject: berth> [^\r\n]*shell-input
// test-reject: unknown command
// test-reject: ^cancelled\r?$
// test-reject: ^a{50}
// test-reject: ^f5\r?$
#include <libipc/libipc.h>
#include <libipc/ipc.h>

#define TICKS_PER_SECOND 100

int main(const struct bootinfo *bi)
{
	(void)bi;
	uint64_t port;
	struct msg m;
	debug_printf("shell-input: started\n");
	if (object_alloc(OBJ_PORT, 0, &port))
		return 1;
	/* by then the runner has typed "echo abc" and waits for this line */
	sys_notify_after(port, 1, 3 * TICKS_PER_SECOND);
	ipc_recv(port, 0, &m);
	debug_printf("shell-input: a log line from another task\n");
	for (;;) /* stay: an exit would log a line of its own */
		ipc_recv(port, 0, &m);
}
