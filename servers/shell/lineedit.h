/* The shell's line editor: a pure state machine fed one typed byte at a
 * time.  It knows nothing of the console or IPC, so the same code runs
 * in the shell and in a host unit test (tests/unit/test_lineedit.c).
 *
 * The caller (servers/shell/input.c) feeds bytes with le_feed and, after
 * each, looks at what the editor asks for:
 *   - le->out/out_len: text to print above the line (completion
 *     candidates); the console driver prints it and redraws the line;
 *   - le->flags: LE_BELL (ring the bell), LE_CLEAR (clear the screen,
 *     Ctrl-L), LE_COLUMNS (a terminal reported its width: le->columns);
 *   - the return value: LE_DONE (Enter: le->buf is the line),
 *     LE_CANCEL (Ctrl-C), LE_REFUSED (Enter on a line that grew past
 *     LE_LINE_MAX: nothing runs).
 * The line to show is always le->buf[0..len) with the cursor at pos.
 *
 * Over-long lines: at LE_LINE_MAX characters further characters are
 * refused with the bell and the line is marked too long; Enter then
 * refuses the whole line (LE_REFUSED) rather than run a command the user
 * did not type whole.  The part that fitted goes into the history, so Up
 * brings it back for editing. */
#ifndef LINEEDIT_H
#define LINEEDIT_H

#include <stdint.h>

#define LE_LINE_MAX 127          /* characters in a line, its NUL apart */
#define LE_HISTORY 32            /* lines the history keeps */
#define LE_NAME_MAX 32           /* a completion candidate's characters */
#define LE_CANDIDATES 64         /* candidates one Tab considers */
#define LE_OUT_MAX 2048
#define LE_COLUMNS_DEFAULT 80

enum le_event {
	LE_NONE = 0,     /* keep feeding */
	LE_DONE = 1,     /* Enter: the line in buf is complete */
	LE_CANCEL = 2,   /* Ctrl-C: the line is abandoned */
	LE_REFUSED = 3,  /* Enter on a line that was too long */
};

/* flags: what the caller should do besides showing the line */
#define LE_BELL 1u
#define LE_CLEAR 2u
#define LE_COLUMNS 4u

/* Completion names: the i-th name (from 0) for the first word of a line
 * (first_word 1: command names) or a later word (0: task names), or 0
 * past the last.  The returned text is copied at once, so it may live in
 * a buffer the next call overwrites. */
typedef const char *(*le_names_fn)(void *ctx, int first_word, unsigned i);

struct lineedit {
	char buf[LE_LINE_MAX + 1];
	unsigned len, pos;             /* characters in buf; the cursor */
	int too_long;                  /* a character was refused at the limit */
	int after_cr;                  /* the last byte was CR: a following LF is its pair */

	/* escape sequences: ESC [ params final, ESC O final, ESC x */
	int esc;                       /* enum in lineedit.c */
	char params[16];
	unsigned nparams;

	/* history: ring of LE_HISTORY lines, the newest at hist_count - 1 */
	char hist[LE_HISTORY][LE_LINE_MAX + 1];
	unsigned hist_count, hist_first;
	unsigned browse;               /* 0: the line being typed; k: the k-th newest entry */
	char draft[LE_LINE_MAX + 1];   /* the line being typed, kept while browsing */

	unsigned flags;
	char out[LE_OUT_MAX];
	unsigned out_len;
	unsigned columns;              /* terminal width (LE_COLUMNS_DEFAULT until reported) */

	le_names_fn names;
	void *names_ctx;
};

/* Set up an editor with an empty history. */
void le_init(struct lineedit *le, le_names_fn names, void *ctx);
/* Begin a new, empty line (the history and the width stay). */
void le_start(struct lineedit *le);
/* One typed byte. */
enum le_event le_feed(struct lineedit *le, uint8_t c);
/* The k-th newest history line (1: the newest), or 0. */
const char *le_history(const struct lineedit *le, unsigned k);

#endif
