/* The shell's line editor (lineedit.h): the keys of a terminal's line
 * editing, in the manner of readline's emacs mode, as a pure state
 * machine.
 *
 * Keys: printable ASCII inserts at the cursor; Backspace (DEL, 0x7f)
 * and Ctrl-H erase before it; Delete (ESC [ 3 ~) and Ctrl-D erase under
 * it; left/right (ESC [ D/C, ESC O D/C, Ctrl-B/F) move; Home/End (ESC [
 * H/F, ESC O H/F, ESC [ 1~/7~, ESC [ 4~/8~, Ctrl-A/E); up/down (ESC [
 * A/B, ESC O A/B, Ctrl-P/N) walk the history; Ctrl-U erases from the
 * start of the line to the cursor and Ctrl-K from the cursor to the end
 * (readline's, so at the end of a line Ctrl-U kills all of it); Ctrl-W
 * erases the word before the cursor; Ctrl-C cancels the line; Ctrl-L
 * asks for a clear screen; Tab completes.  Ctrl-D on an empty line only
 * rings the bell: in a Unix shell it means end of input and ends the
 * shell, but Berth's shell is the console's one user (init would start
 * another at once), so end of input means nothing here.  Any other
 * escape sequence is swallowed whole, never inserted; bytes that are not
 * printable ASCII ring the bell.  A cursor-position report (ESC [ row ;
 * col R, the answer to ESC [ 6 n) sets the terminal's width. */
#include <string.h>
#include "lineedit.h"

enum { ESC_NONE, ESC_START, ESC_CSI, ESC_SS3 };

#define CTRL(c) ((c) & 0x1f)
#define DEL 0x7f

void le_init(struct lineedit *le, le_names_fn names, void *ctx)
{
	memset(le, 0, sizeof(*le));
	le->columns = LE_COLUMNS_DEFAULT;
	le->names = names;
	le->names_ctx = ctx;
}

void le_start(struct lineedit *le)
{
	le->len = le->pos = 0;
	le->buf[0] = 0;
	le->too_long = 0;
	le->esc = ESC_NONE;
	le->browse = 0;
	le->flags = 0;
	le->out_len = 0;
}

const char *le_history(const struct lineedit *le, unsigned k)
{
	if (k == 0 || k > le->hist_count)
		return 0;
	return le->hist[(le->hist_first + le->hist_count - k) % LE_HISTORY];
}

static void history_add(struct lineedit *le, const char *line)
{
	const char *newest = le_history(le, 1);
	if (!line[0] || (newest && !strcmp(newest, line)))
		return; /* an empty line or a repeat of the last adds nothing */
	if (le->hist_count == LE_HISTORY) {
		le->hist_first = (le->hist_first + 1) % LE_HISTORY;
		le->hist_count--;
	}
	strcpy(le->hist[(le->hist_first + le->hist_count) % LE_HISTORY], line);
	le->hist_count++;
}

static void bell(struct lineedit *le)
{
	le->flags |= LE_BELL;
}

static void emit(struct lineedit *le, const char *s, unsigned n)
{
	if (n > LE_OUT_MAX - le->out_len)
		n = LE_OUT_MAX - le->out_len;
	memcpy(le->out + le->out_len, s, n);
	le->out_len += n;
}

static void set_line(struct lineedit *le, const char *s)
{
	size_t n = strlen(s);
	if (n > LE_LINE_MAX)
		n = LE_LINE_MAX;
	memcpy(le->buf, s, n);
	le->buf[n] = 0;
	le->len = le->pos = (unsigned)n;
}

/* Insert n bytes at the cursor; 0 if they do not all fit (nothing is
 * inserted then, the bell rings and the line is marked too long). */
static int insert(struct lineedit *le, const char *s, unsigned n)
{
	if (le->len + n > LE_LINE_MAX) {
		le->too_long = 1;
		bell(le);
		return 0;
	}
	memmove(le->buf + le->pos + n, le->buf + le->pos, le->len - le->pos);
	memcpy(le->buf + le->pos, s, n);
	le->len += n;
	le->pos += n;
	le->buf[le->len] = 0;
	return 1;
}

/* Erase n characters starting at from. */
static void erase(struct lineedit *le, unsigned from, unsigned n)
{
	memmove(le->buf + from, le->buf + from + n, le->len - from - n);
	le->len -= n;
	le->buf[le->len] = 0;
	if (!le->len)
		le->too_long = 0; /* nothing is left of what did not fit */
	if (le->pos > from + n)
		le->pos -= n;
	else if (le->pos > from)
		le->pos = from;
}

static void backspace(struct lineedit *le)
{
	if (le->pos == 0) {
		bell(le);
		return;
	}
	erase(le, le->pos - 1, 1);
}

static void delete_under(struct lineedit *le)
{
	if (le->pos == le->len) {
		bell(le);
		return;
	}
	erase(le, le->pos, 1);
}

static void erase_word(struct lineedit *le)
{
	unsigned p = le->pos;
	while (p > 0 && le->buf[p - 1] == ' ')
		p--;
	while (p > 0 && le->buf[p - 1] != ' ')
		p--;
	if (p == le->pos)
		bell(le);
	else
		erase(le, p, le->pos - p);
}

/* Up (older, dir 1) or down (newer, dir -1) through the history.  The
 * line being typed is kept as the draft and comes back below the
 * newest entry. */
static void walk_history(struct lineedit *le, int dir)
{
	if ((dir > 0 && le->browse == le->hist_count) || (dir < 0 && le->browse == 0)) {
		bell(le);
		return;
	}
	if (le->browse == 0)
		strcpy(le->draft, le->buf);
	le->browse = (unsigned)((int)le->browse + dir);
	set_line(le, le->browse ? le_history(le, le->browse) : le->draft);
	le->too_long = 0;
}

/* --- Tab completion ----------------------------------------------------- */

/* Complete the word that ends at the cursor: names of commands for the
 * first word, of tasks for the others.  One match completes it (and a
 * space follows); several complete their common prefix, or, when that
 * adds nothing, are listed (le->out) for the caller to print above the
 * line; none rings the bell. */
static void complete(struct lineedit *le)
{
	unsigned start = le->pos;
	while (start > 0 && le->buf[start - 1] != ' ')
		start--;
	int first_word = 1;
	for (unsigned i = 0; i < start; i++)
		if (le->buf[i] != ' ')
			first_word = 0;
	unsigned plen = le->pos - start;
	const char *prefix = le->buf + start;
	static char cand[LE_CANDIDATES][LE_NAME_MAX + 1];
	unsigned n = 0;
	for (unsigned i = 0; le->names && n < LE_CANDIDATES; i++) {
		const char *name = le->names(le->names_ctx, first_word, i);
		if (!name)
			break;
		size_t len = strlen(name);
		if (len < plen || len > LE_NAME_MAX || strncmp(name, prefix, plen))
			continue;
		int seen = 0;
		for (unsigned k = 0; k < n && !seen; k++)
			seen = !strcmp(cand[k], name);
		if (!seen)
			strcpy(cand[n++], name);
	}
	if (n == 0) {
		bell(le);
		return;
	}
	/* sorted, so the list reads like ls's */
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && strcmp(cand[j], cand[j - 1]) < 0; j--) {
			char t[LE_NAME_MAX + 1];
			strcpy(t, cand[j]);
			strcpy(cand[j], cand[j - 1]);
			strcpy(cand[j - 1], t);
		}
	unsigned common = (unsigned)strlen(cand[0]);
	for (unsigned i = 1; i < n; i++) {
		unsigned k = 0;
		while (k < common && cand[i][k] == cand[0][k])
			k++;
		common = k;
	}
	if (common > plen || n == 1) {
		/* what completion adds is not typed: if it does not fit, the
		 * line is not marked too long, the bell only rings */
		int space = n == 1 && (le->pos == le->len || le->buf[le->pos] != ' ');
		if (le->len + common - plen + (unsigned)space > LE_LINE_MAX) {
			bell(le);
			return;
		}
		insert(le, cand[0] + plen, common - plen);
		if (space)
			insert(le, " ", 1);
		return;
	}
	/* the candidates in columns, as many as the terminal's width takes */
	unsigned width = 0;
	for (unsigned i = 0; i < n; i++)
		if (strlen(cand[i]) > width)
			width = (unsigned)strlen(cand[i]);
	width += 2;
	unsigned per_row = le->columns / width ? le->columns / width : 1;
	for (unsigned i = 0; i < n; i++) {
		unsigned len = (unsigned)strlen(cand[i]);
		emit(le, cand[i], len);
		if ((i + 1) % per_row == 0 || i + 1 == n) {
			emit(le, "\n", 1);
		} else {
			for (unsigned k = len; k < width; k++)
				emit(le, " ", 1);
		}
	}
}

/* --- escape sequences --------------------------------------------------- */

static unsigned param(const struct lineedit *le, unsigned index)
{
	unsigned v = 0, k = 0;
	for (unsigned i = 0; i < le->nparams; i++) {
		char c = le->params[i];
		if (c == ';') {
			if (k++ == index)
				return v;
			v = 0;
		} else if (c >= '0' && c <= '9' && v < 100000) {
			v = v * 10 + (unsigned)(c - '0');
		}
	}
	return k == index ? v : 0;
}

static void move_left(struct lineedit *le)
{
	if (le->pos)
		le->pos--;
	else
		bell(le);
}

static void move_right(struct lineedit *le)
{
	if (le->pos < le->len)
		le->pos++;
	else
		bell(le);
}

/* The key named by a complete sequence: its final byte (CSI or SS3) and,
 * for CSI, its parameters.  Unknown ones do nothing. */
static void escape_key(struct lineedit *le, int csi, uint8_t final)
{
	switch (final) {
	case 'A':
		walk_history(le, 1);
		return;
	case 'B':
		walk_history(le, -1);
		return;
	case 'C':
		move_right(le);
		return;
	case 'D':
		move_left(le);
		return;
	case 'H':
		le->pos = 0;
		return;
	case 'F':
		le->pos = le->len;
		return;
	}
	if (!csi)
		return;
	if (final == '~') {
		switch (param(le, 0)) {
		case 1:
		case 7:
			le->pos = 0;
			break;
		case 4:
		case 8:
			le->pos = le->len;
			break;
		case 3:
			delete_under(le);
			break;
		}
	} else if (final == 'R' && param(le, 1) >= 20 && param(le, 1) <= 1000) {
		/* a cursor-position report: the column we asked about is the
		 * terminal's last (input.c asks after moving far right) */
		le->columns = param(le, 1);
		le->flags |= LE_COLUMNS;
	}
}

/* A byte inside an escape sequence: 1 if the sequence took it. */
static int escape_byte(struct lineedit *le, uint8_t c)
{
	if (c < 0x20 && c != 0x1b) {
		/* a control character ends an unfinished sequence and then acts
		 * as itself, as a terminal's own parser does */
		le->esc = ESC_NONE;
		return 0;
	}
	switch (le->esc) {
	case ESC_START:
		if (c == '[') {
			le->esc = ESC_CSI;
			le->nparams = 0;
		} else if (c == 'O') {
			le->esc = ESC_SS3;
		} else if (c != 0x1b) {
			le->esc = ESC_NONE; /* Alt-key: swallowed */
		}
		return 1;
	case ESC_SS3:
		le->esc = ESC_NONE;
		if (c != 0x1b)
			escape_key(le, 0, c);
		else
			le->esc = ESC_START;
		return 1;
	case ESC_CSI:
		if (c == 0x1b) {
			le->esc = ESC_START; /* a new sequence begins: this one was cut */
		} else if (c >= 0x30 && c <= 0x3f) {
			if (le->nparams < sizeof(le->params))
				le->params[le->nparams++] = (char)c;
		} else if (c >= 0x40 && c <= 0x7e) {
			le->esc = ESC_NONE;
			escape_key(le, 1, c);
		} else if (c > 0x7e) {
			le->esc = ESC_NONE; /* not a sequence after all: dropped */
		}
		/* 0x20..0x2f: intermediate bytes, part of the sequence */
		return 1;
	}
	return 0;
}

/* --- the keys ----------------------------------------------------------- */

static enum le_event finish(struct lineedit *le)
{
	le->browse = 0;
	le->esc = ESC_NONE;
	history_add(le, le->buf);
	return le->too_long ? LE_REFUSED : LE_DONE;
}

enum le_event le_feed(struct lineedit *le, uint8_t c)
{
	int after_cr = le->after_cr;
	le->after_cr = c == '\r';
	if (le->esc != ESC_NONE && escape_byte(le, c))
		return LE_NONE;
	switch (c) {
	case '\n':
		if (after_cr)
			return LE_NONE; /* CR LF is one Enter */
		return finish(le);
	case '\r':
		return finish(le);
	case 0x1b:
		le->esc = ESC_START;
		return LE_NONE;
	case CTRL('C'):
		le->browse = 0;
		return LE_CANCEL;
	case CTRL('A'):
		le->pos = 0;
		return LE_NONE;
	case CTRL('E'):
		le->pos = le->len;
		return LE_NONE;
	case CTRL('B'):
		move_left(le);
		return LE_NONE;
	case CTRL('F'):
		move_right(le);
		return LE_NONE;
	case CTRL('P'):
		walk_history(le, 1);
		return LE_NONE;
	case CTRL('N'):
		walk_history(le, -1);
		return LE_NONE;
	case CTRL('H'):
	case DEL:
		backspace(le);
		return LE_NONE;
	case CTRL('D'):
		delete_under(le); /* at the end of a line, or on an empty one: the bell */
		return LE_NONE;
	case CTRL('U'):
		erase(le, 0, le->pos);
		return LE_NONE;
	case CTRL('K'):
		erase(le, le->pos, le->len - le->pos);
		return LE_NONE;
	case CTRL('W'):
		erase_word(le);
		return LE_NONE;
	case CTRL('L'):
		le->flags |= LE_CLEAR;
		return LE_NONE;
	case '\t':
		complete(le);
		return LE_NONE;
	}
	if (c < 0x20 || c > 0x7e) {
		bell(le); /* other control characters and non-ASCII bytes */
		return LE_NONE;
	}
	char ch = (char)c;
	insert(le, &ch, 1);
	return LE_NONE;
}
