/* The shell's command line split into words (servers/shell/words.c):
 * blanks, quotes, backslashes, redirections, and the lines it refuses. */
// unit-under-test: servers/shell/words.c
#include <string.h>
#include "unit.h"
#include "../../servers/shell/words.h"

static char line[256];
static struct words w;
static const char *error;

static int split(const char *text)
{
	strcpy(line, text);
	error = 0;
	return words_split(line, &w, &error);
}

/* The words, joined by '|' so that a test sees their edges. */
static const char *shown(void)
{
	static char buf[512];
	size_t n = 0;
	for (int i = 0; i < w.argc; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? "|" : "", w.argv[i]);
	buf[n] = 0;
	return buf;
}

static int is(const char *text, const char *want)
{
	return split(text) == 0 && !strcmp(shown(), want) && !w.redirect && w.argv[w.argc] == 0;
}

static int refused(const char *text, const char *why)
{
	return split(text) == -1 && error && strstr(error, why);
}

int main(void)
{
	CHECK(is("", "") && w.argc == 0, "an empty line has no words");
	CHECK(is(" \t  ", "") && w.argc == 0, "blanks only: no words");
	CHECK(is("ps", "ps") && w.argc == 1, "one word");
	CHECK(is("kill -9 serial", "kill|-9|serial") && w.argc == 3,
	      "kill -9 serial is three words, not a name '-9 serial' (%s)", shown());
	CHECK(is("  start\t\tfs   ", "start|fs") && w.argc == 2, "spaces and tabs separate, around and between");
	CHECK(is("echo 'a  b' c", "echo|a  b|c"), "single quotes keep blanks (%s)", shown());
	CHECK(is("echo \"a  b\" c", "echo|a  b|c"), "double quotes keep blanks (%s)", shown());
	CHECK(is("echo 'a \"b\" \\c'", "echo|a \"b\" \\c"), "single quotes keep \" and \\ as they are (%s)",
	      shown());
	CHECK(is("echo \"say \\\"hi\\\" \\\\ \\n\"", "echo|say \"hi\" \\ \\n"),
	      "in double quotes \\\" and \\\\ are escapes, \\n is not (%s)", shown());
	CHECK(is("echo \"it's\"", "echo|it's"), "a ' inside double quotes (%s)", shown());
	CHECK(is("vm start linux cmdline=\"console=ttyS0 quiet\"", "vm|start|linux|cmdline=console=ttyS0 quiet"),
	      "quoted and unquoted parts make one word (%s)", shown());
	CHECK(is("a'b'\"c\"d", "abcd"), "four parts, one word (%s)", shown());
	CHECK(is("echo '' \"\" x", "echo|||x") && w.argc == 4 && !w.argv[1][0] && !w.argv[2][0],
	      "'' and \"\" are empty words (%s)", shown());
	CHECK(is("a\\ b c\\\\d \\'e\\>", "a b|c\\d|'e>"), "a backslash makes the next character ordinary (%s)",
	      shown());
	CHECK(is("echo 'a > b' \">\"", "echo|a > b|>"), "a quoted > is an ordinary character (%s)", shown());

	CHECK(split("echo hi > /note.txt") == 0 && !strcmp(shown(), "echo|hi") && w.redirect &&
	      !strcmp(w.redirect, "/note.txt") && !w.append, "> FILE: the output's file, not a word");
	CHECK(split("echo hi>>/log") == 0 && !strcmp(shown(), "echo|hi") && w.redirect && !strcmp(w.redirect, "/log") &&
	      w.append, ">> without spaces around it appends");
	CHECK(split("echo > '/a b' x y") == 0 && !strcmp(shown(), "echo|x|y") && w.redirect &&
	      !strcmp(w.redirect, "/a b"), "a redirection may stand anywhere; its file may be quoted (%s)", shown());
	CHECK(split("echo a>b c") == 0 && !strcmp(shown(), "echo|a|c") && !strcmp(w.redirect, "b"),
	      "> ends the word before it");

	CHECK(refused("echo 'abc", "' quote is not closed"), "an open ' quote is refused (%s)", error);
	CHECK(refused("echo \"abc", "\" quote is not closed"), "an open \" quote is refused (%s)", error);
	CHECK(refused("echo \"a\\\"", "\" quote is not closed"), "an escaped \" does not close (%s)", error);
	CHECK(refused("echo abc\\", "escapes nothing"), "a \\ at the end is refused (%s)", error);
	CHECK(refused("echo hi >", "needs a file name"), "> without a file is refused (%s)", error);
	CHECK(refused("echo hi > > f", "needs a file name"), "> > is refused (%s)", error);
	CHECK(refused("echo hi >>> f", "needs a file name"), ">>> is refused (%s)", error);
	CHECK(refused("echo a > f > g", "only one"), "two redirections are refused (%s)", error);

	char many[256] = "";
	for (int i = 0; i < WORDS_MAX; i++)
		strcat(many, "w ");
	CHECK(split(many) == 0 && w.argc == WORDS_MAX && w.argv[WORDS_MAX] == 0, "%d words fit", WORDS_MAX);
	strcat(many, "x");
	CHECK(refused(many, "too many words"), "word %d is refused (%s)", WORDS_MAX + 1, error);

	char buf[16];
	char *parts[] = { "ab", "", "cd" };
	CHECK(words_join(parts, 3, buf, sizeof(buf)) == 6 && !strcmp(buf, "ab  cd"),
	      "join: single spaces, an empty word kept ('%s')", buf);
	CHECK(words_join(parts, 0, buf, sizeof(buf)) == 0 && !buf[0], "join of nothing is empty");
	char *long_parts[] = { "0123456789", "abcd" };
	CHECK(words_join(long_parts, 2, buf, sizeof(buf)) == 15 && !strcmp(buf, "0123456789 abcd"),
	      "join: exactly fills the buffer with its NUL");
	char *too_long[] = { "0123456789", "abcde" };
	CHECK(words_join(too_long, 2, buf, sizeof(buf)) == -1, "join: one byte too many is refused");
	return unit_done();
}
