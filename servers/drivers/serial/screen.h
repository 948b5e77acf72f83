/* The console's screen: what the serial console driver writes to the
 * terminal so that the line being edited (prompt, text, cursor) is never
 * mangled by anyone else's output.  A pure state machine that emits
 * bytes through a callback, so a host unit test (tests/unit/
 * test_screen.c) sees exactly what the terminal would; the driver
 * (main.c) gives it the UART.  docs/console.md tells the whole design.
 *
 *   screen_line    the line editor's state changed (console.edit_line):
 *                  draw the change, the least that shows it (typed
 *                  characters at the end are just written);
 *   screen_output  anyone's output (console.write, the kernel's log):
 *                  while a line is shown, erase it (CR, ESC [ K), write
 *                  the output, end its last line, draw the line again;
 *   screen_echo    a typed byte echoed while no line is being edited.
 *
 * The line never wraps: wider than the terminal it scrolls sideways
 * (as linenoise's single-line mode does), so erasing one row always
 * erases all of it.  The width is 80 columns unless the client says. */
#ifndef SCREEN_H
#define SCREEN_H

#include <stdint.h>

#define SCREEN_PROMPT_MAX 32
#define SCREEN_TEXT_MAX 256
#define SCREEN_COLUMNS_DEFAULT 80

/* screen_line's flags (idl/console.idl's edit_line) */
#define SCREEN_DONE 1u    /* the line is finished: show it whole, go to a new row; nothing is edited after */
#define SCREEN_CLEAR 2u   /* clear the terminal first (Ctrl-L) */
#define SCREEN_BELL 4u    /* ring the terminal's bell */

typedef void (*screen_put_fn)(void *ctx, const char *bytes, unsigned n);

struct screen {
	int active;                            /* a line is being edited and shown */
	char prompt[SCREEN_PROMPT_MAX + 1];
	unsigned plen;
	char text[SCREEN_TEXT_MAX];
	unsigned len, cursor;
	unsigned start;                        /* the first character of text on screen */
	unsigned columns;
	int at_line_start;                     /* the terminal's cursor is in column 0 */
	screen_put_fn put;
	void *ctx;
};

void screen_init(struct screen *s, screen_put_fn put, void *ctx);
/* The line being edited: prompt, text and the cursor's offset in text;
 * columns the terminal's width (0: unchanged).  Control characters in
 * prompt and text are shown as '?', so they cannot move the terminal's
 * cursor behind the screen's back. */
void screen_line(struct screen *s, const char *prompt, unsigned plen, const char *text, unsigned len,
                 unsigned cursor, unsigned columns, unsigned flags);
/* Output for the terminal; '\n' becomes CR LF. */
void screen_output(struct screen *s, const uint8_t *data, unsigned n);
/* A typed byte echoed back (the console's echo mode); CR shows as a new
 * line.  Nothing is echoed while a line is being edited: its editor
 * draws what was typed. */
void screen_echo(struct screen *s, uint8_t c);

#endif
