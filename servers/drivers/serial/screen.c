/* The console's screen (screen.h): drawing the edited line and keeping
 * other output above it.  Only a handful of ECMA-48 sequences are used,
 * those every terminal since the VT100 knows: CR, BS, ESC [ K (erase to
 * the end of the row), ESC [ n C / D (cursor right / left), ESC [ H and
 * ESC [ 2 J (home, clear). */
#include <string.h>
#include "screen.h"

static void put(struct screen *s, const char *bytes, unsigned n)
{
	if (n)
		s->put(s->ctx, bytes, n);
}

static void puts_(struct screen *s, const char *str)
{
	put(s, str, (unsigned)strlen(str));
}

/* ESC [ n final, n >= 1 */
static void csi_n(struct screen *s, unsigned n, char final)
{
	char buf[16];
	unsigned i = sizeof(buf);
	buf[--i] = final;
	do {
		buf[--i] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	buf[--i] = '[';
	buf[--i] = 0x1b;
	put(s, buf + i, (unsigned)sizeof(buf) - i);
}

void screen_init(struct screen *s, screen_put_fn put_fn, void *ctx)
{
	memset(s, 0, sizeof(*s));
	s->columns = SCREEN_COLUMNS_DEFAULT;
	s->at_line_start = 1;
	s->put = put_fn;
	s->ctx = ctx;
}

/* Characters of text that fit after the prompt, the last column left
 * free so that no terminal wraps when the row is full. */
static unsigned room(const struct screen *s)
{
	unsigned used = s->plen + 1;
	return s->columns > used + 8 ? s->columns - used : 8;
}

/* Scroll so that the cursor is on screen and, that kept, as much text
 * as fits is shown. */
static void scroll(struct screen *s)
{
	unsigned avail = room(s);
	if (s->cursor < s->start)
		s->start = s->cursor;
	if (s->cursor - s->start > avail)
		s->start = s->cursor - avail;
	unsigned last_start = s->len > avail ? s->len - avail : 0;
	if (s->start > last_start)
		s->start = last_start;
}

static unsigned shown(const struct screen *s)
{
	unsigned n = s->len - s->start, avail = room(s);
	return n < avail ? n : avail;
}

/* Draw the whole row: prompt, the visible text, erase the rest, then
 * put the cursor in its place. */
static void draw(struct screen *s)
{
	unsigned n = shown(s);
	put(s, "\r", 1);
	put(s, s->prompt, s->plen);
	put(s, s->text + s->start, n);
	puts_(s, "\x1b[K");
	if (s->cursor - s->start < n)
		csi_n(s, n - (s->cursor - s->start), 'D');
	s->at_line_start = 0;
}

static void copy_shown(char *dst, const char *src, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		dst[i] = (src[i] < 0x20 || src[i] == 0x7f) ? '?' : src[i];
}

void screen_line(struct screen *s, const char *prompt, unsigned plen, const char *text, unsigned len,
                 unsigned cursor, unsigned columns, unsigned flags)
{
	if (plen > SCREEN_PROMPT_MAX)
		plen = SCREEN_PROMPT_MAX;
	if (len > SCREEN_TEXT_MAX)
		len = SCREEN_TEXT_MAX;
	if (cursor > len)
		cursor = len;
	if (columns >= 20 && columns <= 1000)
		s->columns = columns;

	char new_prompt[SCREEN_PROMPT_MAX], new_text[SCREEN_TEXT_MAX];
	copy_shown(new_prompt, prompt, plen);
	copy_shown(new_text, text, len);
	/* what is on screen now, to draw only the difference */
	int was_active = s->active && !(flags & SCREEN_CLEAR) && plen == s->plen &&
	                 !memcmp(new_prompt, s->prompt, plen);
	unsigned old_len = s->len, old_cursor = s->cursor, old_start = s->start;
	char old_text[SCREEN_TEXT_MAX];
	memcpy(old_text, s->text, old_len);

	if (!s->active && !s->at_line_start)
		puts_(s, "\r\n"); /* never draw over a row someone left unfinished */
	if (flags & SCREEN_CLEAR)
		puts_(s, "\x1b[H\x1b[2J");
	memcpy(s->prompt, new_prompt, plen);
	s->plen = plen;
	memcpy(s->text, new_text, len);
	s->len = len;
	s->cursor = cursor;
	if (!was_active)
		s->start = 0;
	s->active = 1;
	scroll(s);

	unsigned common = 0;
	while (common < len && common < old_len && new_text[common] == old_text[common])
		common++;
	if (!was_active || s->start != old_start) {
		draw(s);
	} else if (old_cursor == old_len && cursor == len && common == old_len) {
		put(s, s->text + old_len, len - old_len);       /* typed at the end */
	} else if (old_cursor == old_len && cursor == len && common == len) {
		if (old_len - len == 1)                          /* erased at the end */
			put(s, "\b", 1);
		else
			csi_n(s, old_len - len, 'D');
		puts_(s, "\x1b[K");
	} else if (len == old_len && common == len) {
		if (cursor > old_cursor)                         /* the cursor moved */
			csi_n(s, cursor - old_cursor, 'C');
		else if (cursor < old_cursor)
			csi_n(s, old_cursor - cursor, 'D');
	} else {
		draw(s);
	}

	if (flags & SCREEN_BELL)
		put(s, "\a", 1);
	if (flags & SCREEN_DONE) {
		if (s->start > 0 || s->len - s->start > room(s)) {
			/* a scrolled line is shown whole as it leaves, wrapping as
			 * the terminal likes: nothing will redraw it */
			put(s, "\r", 1);
			put(s, s->prompt, s->plen);
			put(s, s->text, s->len);
			puts_(s, "\x1b[K");
		} else if (s->cursor < s->len) {
			csi_n(s, s->len - s->cursor, 'C');
		}
		puts_(s, "\r\n");
		s->active = 0;
		s->at_line_start = 1;
		s->len = s->cursor = s->start = 0;
	}
}

/* Write data, '\n' as CR LF. */
static void raw_output(struct screen *s, const uint8_t *data, unsigned n)
{
	unsigned from = 0;
	for (unsigned i = 0; i < n; i++) {
		if (data[i] != '\n')
			continue;
		put(s, (const char *)data + from, i - from);
		puts_(s, "\r\n");
		from = i + 1;
	}
	put(s, (const char *)data + from, n - from);
	s->at_line_start = data[n - 1] == '\n' || data[n - 1] == '\r'; /* CR: column 0 too */
}

void screen_output(struct screen *s, const uint8_t *data, unsigned n)
{
	if (!n)
		return;
	if (!s->active) {
		raw_output(s, data, n);
		return;
	}
	/* above the line: take it away, write, end the row, bring it back */
	puts_(s, "\r\x1b[K");
	raw_output(s, data, n);
	if (!s->at_line_start)
		puts_(s, "\r\n");
	draw(s);
}

void screen_echo(struct screen *s, uint8_t c)
{
	if (s->active)
		return;
	if (c == '\r' || c == '\n') {
		puts_(s, "\r\n");
		s->at_line_start = 1;
		return;
	}
	char ch = (char)c;
	put(s, &ch, 1);
	s->at_line_start = 0;
}
