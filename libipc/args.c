/* A program's arguments as init passes them (its manifest's `args` line):
 * words separated by spaces, KEY=VALUE or a bare word.  A word `cmdline=`
 * takes the rest of the line (a guest kernel's command line, which may
 * hold the same keys), so no word after it is the program's own. */
#include <string.h>
#include <libipc/libipc.h>

/* The next of the program's own words from *cursor (moved past it), with
 * its length; 0 at the end or at `cmdline=`, where its own words end. */
const char *arg_next(const char **cursor, size_t *len)
{
	const char *p = *cursor;
	while (*p == ' ')
		p++;
	size_t n = 0;
	while (p[n] && p[n] != ' ')
		n++;
	*cursor = p + n;
	*len = n;
	return n && !(n >= 8 && !strncmp(p, "cmdline=", 8)) ? p : 0;
}

/* The value of the word KEY=VALUE (key given with its '='), or 0. */
const char *arg_value(const char *args, const char *key, size_t *len)
{
	size_t kn = strlen(key), n;
	for (const char *w; (w = arg_next(&args, &n));)
		if (n >= kn && !strncmp(w, key, kn)) {
			*len = n - kn;
			return w + kn;
		}
	return 0;
}

/* KEY=VALUE's value as a string in out (size bytes with its NUL): 1, or
 * 0 leaving out as it was when the word is absent, empty or too long. */
int arg_string(const char *args, const char *key, char *out, size_t size)
{
	size_t len;
	const char *v = arg_value(args, key, &len);
	if (!v || !len || len >= size)
		return 0;
	memcpy(out, v, len);
	out[len] = 0;
	return 1;
}

/* Whether the word itself (`linux`, `input`, `nopace`) is there. */
int arg_flag(const char *args, const char *word)
{
	size_t len;
	char key[24];
	size_t n = strlen(word);
	if (n + 1 >= sizeof(key))
		return 0;
	memcpy(key, word, n);
	key[n] = 0;
	const char *v = arg_value(args, key, &len);
	return v && len == 0;
}

/* A decimal KEY=N, or dflt if absent, empty, zero or not a number. */
unsigned arg_number(const char *args, const char *key, unsigned dflt)
{
	size_t len;
	const char *v = arg_value(args, key, &len);
	unsigned n = 0;
	if (!v || !len || len > 9)
		return dflt;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return dflt;
		n = n * 10 + (unsigned)(v[i] - '0');
	}
	return n ? n : dflt;
}

/* The guest kernel's command line: the rest after `cmdline=`, or 0. */
const char *arg_cmdline(const char *args)
{
	for (const char *p = args; (p = strstr(p, "cmdline=")); p++)
		if (p == args || p[-1] == ' ')
			return p + 8;
	return 0;
}
