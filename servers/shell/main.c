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
 * A complete line goes to shell_run (commands.c); the commands are in
 * README.md, "Commands". */
#include <libipc/libipc.h>
#include <libipc/lock.h>
#include "console.h"   /* generated from idl/console.idl */
#include "init.h"      /* generated from idl/init.idl */
#include "vmm.h"       /* generated from idl/vmm.idl */
#include "shell.h"

#define LINE_MAX_LEN 128
#define ESCAPE 0x1d                      /* Ctrl-] */
#define TICKS_PER_SECOND 100

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
static struct ipc_lock slot_lock;

static void lock(void)
{
	ipc_lock(&slot_lock);
}

static void unlock(void)
{
	ipc_unlock(&slot_lock);
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

/* The main thread's nap: its port was made before the reader started, so
 * commands need not allocate one (libipc's allocator is not shared
 * safely between the threads). */
void shell_nap(unsigned ticks)
{
	nap(main_nap, ticks);
}

/* --- vm console's session (the reader serves it) ----------------------- */

long console_session_open(uint64_t controls)
{
	lock();
	long err = sys_cnode_move(controls, CAP_ROOT_CNODE, session_slot);
	slot_free(controls);
	unlock();
	return err;
}

long console_session_run(uint32_t *how)
{
	console_set_echo(console, 0); /* the guest echoes what it wants echoed */
	session_active = 1;
	long err = vmm_console_attach(session_slot, how);
	session_active = 0;
	console_set_echo(console, 1);
	lock();
	sys_cnode_delete(session_slot);
	unlock();
	return err;
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	char line[LINE_MAX_LEN];
	uint64_t reader_tcb;
	/* the reader runs where we run, whatever the manifest says (a
	 * thread may not be made above its creator's limit) */
	struct thread_info self = { .priority = 100 };
	sys_tcb_info(CAP_ROOT_TCB, &self);
	connect(&console);
	console_set_echo(console, 1); /* a shell that died attached left it off */
	session_slot = slot_alloc();
	if (!session_slot || object_alloc(OBJ_PORT, 0, &typed_port) || object_alloc(OBJ_PORT, 0, &main_nap) ||
	    object_alloc(OBJ_PORT, 0, &reader_nap) ||
	    thread_create(reader, 0, reader_stack, sizeof(reader_stack), self.priority, &reader_tcb)) {
		out("shell: cannot set up its reader thread\n");
		return 1;
	}
	out("Berth shell. Type help for the commands.\n");
	for (;;) {
		read_line(line); /* it shows the prompt */
		if (shell_run(line) == SHELL_EXIT)
			return 0; /* init sees the exit; the restart policy brings a new shell */
	}
}
