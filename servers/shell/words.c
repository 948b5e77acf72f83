/* The shell's command line split into words (rules in words.h).
 *
 * The split works in place: a word's characters are copied down to
 * where the previous word ended, so quotes and backslashes vanish, and
 * the copy never overtakes the reading (each character read is written
 * at most once, and quotes, backslashes and separators are read but not
 * written).  The only write that can land on a character not yet read
 * is a word's closing NUL, on the separator that ended it; that
 * separator is remembered first. */
#include "words.h"

static int blank(char c)
{
	return c == ' ' || c == '\t';
}

static int fail(const char **error, const char *why)
{
	*error = why;
	return -1;
}

/* Copy the word at line[*r] down to line[*o]: up to an unquoted blank,
 * '>' or the end.  0, or -1 with *error. */
static int copy_word(char *line, size_t *r, size_t *o, const char **error)
{
	for (;;) {
		char c = line[*r];
		if (!c || blank(c) || c == '>')
			return 0;
		(*r)++;
		if (c == '\'') {
			while (line[*r] && line[*r] != '\'')
				line[(*o)++] = line[(*r)++];
			if (!line[*r])
				return fail(error, "a ' quote is not closed");
			(*r)++;
		} else if (c == '"') {
			while (line[*r] && line[*r] != '"') {
				if (line[*r] == '\\' && (line[*r + 1] == '"' || line[*r + 1] == '\\'))
					(*r)++;
				line[(*o)++] = line[(*r)++];
			}
			if (!line[*r])
				return fail(error, "a \" quote is not closed");
			(*r)++;
		} else if (c == '\\') {
			if (!line[*r])
				return fail(error, "a \\ ends the line: it escapes nothing");
			line[(*o)++] = line[(*r)++];
		} else {
			line[(*o)++] = c;
		}
	}
}

int words_split(char *line, struct words *w, const char **error)
{
	size_t r = 0, o = 0;
	int want_file = 0; /* the next word names the redirection's file */
	w->argc = 0;
	w->argv[0] = 0;
	w->redirect = 0;
	w->append = 0;
	for (;;) {
		while (blank(line[r]))
			r++;
		if (!line[r])
			break;
		char stop = line[r];
		if (stop != '>') {
			char *word = line + o;
			if (copy_word(line, &r, &o, error))
				return -1;
			stop = line[r];
			line[o++] = 0; /* may overwrite line[r]: stop holds it */
			if (want_file) {
				w->redirect = word;
				want_file = 0;
			} else if (w->argc == WORDS_MAX) {
				return fail(error, "too many words (at most 32)");
			} else {
				w->argv[w->argc++] = word;
				w->argv[w->argc] = 0;
			}
			if (blank(stop))
				r++;
			if (stop != '>')
				continue;
		}
		/* an unquoted > or >> at line[r] */
		if (want_file)
			return fail(error, "> needs a file name after it");
		if (w->redirect)
			return fail(error, "only one > or >> on a line");
		r++;
		if (line[r] == '>') {
			w->append = 1;
			r++;
		}
		want_file = 1;
	}
	if (want_file)
		return fail(error, "> needs a file name after it");
	return 0;
}

int words_join(char *const *argv, int argc, char *buf, size_t size)
{
	size_t n = 0;
	if (!size)
		return -1;
	for (int i = 0; i < argc; i++) {
		if (i) {
			if (n + 1 >= size)
				return -1;
			buf[n++] = ' ';
		}
		for (const char *s = argv[i]; *s; s++) {
			if (n + 1 >= size)
				return -1;
			buf[n++] = *s;
		}
	}
	buf[n] = 0;
	return (int)n;
}
