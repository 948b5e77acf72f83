/* A task's arguments for one start: the manifest's, changed by the
 * words a client gave (init_start, the shell's `vm start NAME mem=96`).
 * Pure logic, unit-tested on the host (tests/unit/test_init_args.c).
 *
 * Words are separated by spaces.  A word KEY=VALUE replaces the base's
 * word with the same KEY= in its place; a word without = is a flag,
 * added unless the base has it; a word that is not in the base goes
 * after the base's words.  cmdline=... (a guest kernel's command line,
 * which holds spaces and = itself) takes the rest of its string and
 * always goes last. */
#include "manifest.h"

#define ARGS_MAX_WORDS 32

struct words {
	unsigned count;
	const char *start[ARGS_MAX_WORDS];
	size_t len[ARGS_MAX_WORDS];
	const char *cmdline;          /* "cmdline=..." to the end, or 0 */
	size_t cmdline_len;
};

static int starts_with(const char *w, size_t n, const char *lit)
{
	size_t i = 0;
	for (; lit[i]; i++)
		if (i == n || w[i] != lit[i])
			return 0;
	return 1;
}

static int split(const char *s, struct words *w)
{
	w->count = 0;
	w->cmdline = 0;
	w->cmdline_len = 0;
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			return 0;
		size_t n = 0;
		while (s[n] && s[n] != ' ' && s[n] != '\t')
			n++;
		if (starts_with(s, n, "cmdline=")) {
			size_t all = 0;
			while (s[all])
				all++;
			while (all && (s[all - 1] == ' ' || s[all - 1] == '\t'))
				all--;
			w->cmdline = s;
			w->cmdline_len = all;
			return 0;
		}
		if (w->count == ARGS_MAX_WORDS)
			return -1;
		w->start[w->count] = s;
		w->len[w->count] = n;
		w->count++;
		s += n;
	}
}

/* The length of a word's key: up to and including its '=', or the whole
 * word for a flag. */
static size_t key_len(const char *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (w[i] == '=')
			return i + 1;
	return n;
}

static int same_key(const char *a, size_t an, const char *b, size_t bn)
{
	size_t ka = key_len(a, an), kb = key_len(b, bn);
	if (ka != kb || (ka == an) != (kb == bn))
		return 0;
	for (size_t i = 0; i < ka; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* The last word of w with the same key as (s, n), or -1. */
static int find_key(const struct words *w, const char *s, size_t n)
{
	int found = -1;
	for (unsigned i = 0; i < w->count; i++)
		if (same_key(w->start[i], w->len[i], s, n))
			found = (int)i;
	return found;
}

struct out {
	char *p;
	size_t used, size;
	int overflow;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->used && n) {
		if (o->used + 1 >= o->size) {
			o->overflow = 1;
			return;
		}
		o->p[o->used++] = ' ';
	}
	if (o->used + n >= o->size) {
		o->overflow = 1;
		return;
	}
	for (size_t i = 0; i < n; i++)
		o->p[o->used++] = s[i];
}

int args_merge(const char *base, const char *change, char *out, size_t size)
{
	static struct words b, c;   /* init is single-threaded; keeps its stack small */
	if (!size || split(base, &b) || split(change, &c))
		return -1;
	struct out o = { out, 0, size, 0 };
	for (unsigned i = 0; i < b.count; i++) {
		int k = find_key(&c, b.start[i], b.len[i]);
		if (k >= 0)
			put(&o, c.start[k], c.len[k]);
		else
			put(&o, b.start[i], b.len[i]);
	}
	for (unsigned i = 0; i < c.count; i++) {
		/* new keys only, each once: its last occurrence wins */
		if (find_key(&b, c.start[i], c.len[i]) >= 0 || find_key(&c, c.start[i], c.len[i]) != (int)i)
			continue;
		put(&o, c.start[i], c.len[i]);
	}
	if (c.cmdline)
		put(&o, c.cmdline, c.cmdline_len);
	else if (b.cmdline)
		put(&o, b.cmdline, b.cmdline_len);
	out[o.overflow ? 0 : o.used] = 0;
	return o.overflow ? -1 : 0;
}
