/* The shell's input: one line at a time, edited as in a terminal
 * (lineedit.c), drawn by the console driver (console.edit_line, its
 * screen.c), so that other output never mangles it (docs/console.md).
 *
 * The reader thread (main.c) hands typed bytes to the main thread through
 * the shell's port; input_read_line feeds them to the editor and, after
 * each batch, tells the driver the line's new state.  Bytes that follow a
 * line's end (typed ahead, or pasted lines) wait here for the next line.
 *
 * This file keeps a console right of its own for edit_line and looks the
 * console up again when the driver was restarted; the new driver knows no
 * line, so the line is sent whole, and its echo is turned off again (the
 * editor draws what is typed; a driver starts echoing). */
#include <libipc/libipc.h>
#include <libipc/ipc.h>
#include "console.h"   /* generated from idl/console.idl */
#include "init.h"      /* generated from idl/init.idl */
#include "shell.h"
#include "lineedit.h"

#define INIT_SLOT 8
#define PROMPT "berth> "
/* console.edit_line's flags (idl/console.idl) */
#define LINE_FINISHED 1u
#define LINE_CLEAR 2u
#define LINE_BELL 4u
/* Move the cursor far right and ask where it is (ECMA-48 CPR): a
 * terminal answers ESC [ row ; column R, which gives its width; a
 * serial log that nobody answers leaves the width at 80. */
#define ASK_WIDTH "\x1b[999C\x1b[6n\r"

static struct lineedit editor;
static int editor_ready;
static uint64_t screen;                 /* our right to the console, for edit_line */
static uint8_t pending[256];            /* typed bytes not yet fed to the editor */
static unsigned pending_at, pending_len;

/* Tab's names: commands for the first word, init's task names after. */
static const char *completion_name(void *ctx, int first_word, unsigned i)
{
	(void)ctx;
	if (first_word)
		return shell_command_name(i);
	static char name[33];
	uint32_t state, restarts, threads;
	uint64_t memory;
	if (init_task_info(INIT_SLOT, i, name, &state, &restarts, &threads, &memory))
		return 0;
	return name;
}

static int console_gone(long err)
{
	return ipc_peer_gone(err);
}

/* A right to the (new) console, with its echo off. */
static void renew(void)
{
	drop(screen);
	while (!(screen = lookup("console")))
		sys_yield();
	console_set_echo(screen, 0);
}

/* Tell the driver the line: the prompt, text (the editor's, or given)
 * and the cursor. */
static void show_text(const char *text, unsigned len, unsigned cursor, unsigned flags)
{
	for (;;) {
		/* the width always: a restarted driver knows only its default */
		long err = console_edit_line(screen, PROMPT, (const uint8_t *)text, len, cursor, editor.columns, flags);
		if (!console_gone(err))
			return;
		renew();
	}
}

static void show(unsigned flags)
{
	show_text(editor.buf, editor.len, editor.pos, flags);
}

/* Wait for the reader's next batch of typed bytes. */
static void wait_for_input(uint64_t typed_port)
{
	struct msg m;
	if (ipc_recv(typed_port, 0, &m))
		return;
	if (MSG_LABEL(m.info) == SHELL_CONSOLE_NEW) {
		/* the driver was restarted: it knows no line */
		renew();
		show(0);
		return;
	}
	if (MSG_LABEL(m.info) != SHELL_TYPED || m.w[0] > sizeof(pending))
		return;
	pending_len = (unsigned)m.w[0];
	pending_at = 0;
	memcpy(pending, &m.w[1], pending_len);
}

void input_read_line(char *line, size_t size, uint64_t typed_port)
{
	if (!editor_ready) {
		le_init(&editor, completion_name, 0);
		editor_ready = 1;
		renew();
		out(ASK_WIDTH);
	}
	if (console_gone(console_set_echo(screen, 0))) /* vm console may have turned it on */
		renew();
	le_start(&editor);
	show(0);
	unsigned flags = 0;
	int fed = 0;
	for (;;) {
		if (pending_at == pending_len) {
			/* a batch was handled: show its effect at once */
			if (fed)
				show(flags);
			flags = 0;
			fed = 0;
			wait_for_input(typed_port);
			continue;
		}
		uint8_t c = pending[pending_at++];
		fed = 1;
		editor.flags = 0;
		enum le_event ev = le_feed(&editor, c);
		if (editor.flags & LE_BELL)
			flags |= LINE_BELL;
		if (editor.flags & LE_CLEAR) {
			show(flags | LINE_CLEAR);
			flags = 0;
			out(ASK_WIDTH);
		}
		if (editor.out_len) {
			/* completion candidates: printed above the line */
			char text[LE_OUT_MAX + 1];
			memcpy(text, editor.out, editor.out_len);
			text[editor.out_len] = 0;
			editor.out_len = 0;
			show(flags);
			flags = 0;
			out(text);
		}
		switch (ev) {
		case LE_NONE:
			break;
		case LE_DONE: {
			show(flags | LINE_FINISHED);
			size_t n = editor.len < size ? editor.len : size - 1;
			memcpy(line, editor.buf, n);
			line[n] = 0;
			return;
		}
		case LE_CANCEL: {
			/* the abandoned line stays on screen, marked as bash marks it */
			char text[LE_LINE_MAX + 3];
			memcpy(text, editor.buf, editor.len);
			memcpy(text + editor.len, "^C", 2);
			show_text(text, editor.len + 2, editor.len + 2, flags | LINE_FINISHED);
			flags = 0;
			le_start(&editor);
			show(0);
			break;
		}
		case LE_REFUSED:
			show(flags | LINE_FINISHED);
			flags = 0;
			outf("line too long: at most %u characters (Up brings back what fitted)\n", LE_LINE_MAX);
			le_start(&editor);
			show(0);
			break;
		}
	}
}
