/* Host unit tests for servers/shell/lineedit.c, the shell's line editor:
 * byte sequences as a terminal sends them (control characters, escape
 * sequences in their CSI and SS3 forms, unknown and cut-off ones), the
 * over-long line's refusal, the history and Tab completion with a fake
 * list of names. */
// unit-under-test: servers/shell/lineedit.c
#include <stdint.h>
#include <string.h>
#include "unit.h"
#include "../../servers/shell/lineedit.h"

static struct lineedit le;

static const char *const commands[] = { "cat", "help", "kill", "ls", "lspci", "mem", "ping", "ps", 0 };
static const char *const tasks[] = { "init", "serial", "shell", "fs", "blk0", "net0", "net", "linux", 0 };

static const char *fake_names(void *ctx, int first_word, unsigned i)
{
	(void)ctx;
	/* like the shell's task names: the text is overwritten by the next call */
	static char buf[40];
	const char *const *list = first_word ? commands : tasks;
	for (unsigned k = 0; k <= i; k++)
		if (!list[k])
			return 0;
	strcpy(buf, list[i]);
	return buf;
}

/* Feed a string; the last event that was not LE_NONE (or LE_NONE). */
static enum le_event feed(const char *s)
{
	enum le_event last = LE_NONE;
	for (; *s; s++) {
		enum le_event e = le_feed(&le, (uint8_t)*s);
		if (e != LE_NONE)
			last = e;
	}
	return last;
}

static void fresh(void)
{
	le_init(&le, fake_names, 0);
	le_start(&le);
}

static int line_is(const char *text, unsigned pos)
{
	return !strcmp(le.buf, text) && le.len == strlen(text) && le.pos == pos;
}

static void test_typing_and_erasing(void)
{
	fresh();
	CHECK(feed("pss") == LE_NONE && line_is("pss", 3), "printable characters go in at the cursor");
	CHECK(feed("\x7f") == LE_NONE && line_is("ps", 2), "Backspace (DEL) erases the character before the cursor");
	CHECK(feed("\r") == LE_DONE && !strcmp(le.buf, "ps"), "Enter ends the line: pss<BS> is ps");
	le_start(&le);
	feed("lsx\b");
	CHECK(line_is("ls", 2), "Ctrl-H erases as Backspace does");
	le.flags = 0;
	feed("\x7f\x7f\x7f");
	CHECK(line_is("", 0) && (le.flags & LE_BELL), "Backspace at the start rings the bell and erases nothing");
	le_start(&le);
	feed("xx\x15");
	CHECK(line_is("", 0), "Ctrl-U at the end kills the whole line");
	CHECK(feed("echo ok\r") == LE_DONE && !strcmp(le.buf, "echo ok"), "xx<Ctrl-U>echo ok is echo ok");
	le_start(&le);
	feed("abc def\x1b[D\x1b[D\x1b[D\x15");
	CHECK(line_is("def", 0), "Ctrl-U kills from the start to the cursor, keeping the rest");
	le_start(&le);
	feed("abc def\x01\x0b");
	CHECK(line_is("", 0), "Ctrl-A then Ctrl-K kills from the cursor to the end");
	le_start(&le);
	feed("cat some file\x17");
	CHECK(line_is("cat some ", 9), "Ctrl-W erases the word before the cursor");
	feed("\x17\x17");
	CHECK(line_is("", 0), "and the words before that, spaces included");
}

static void test_cursor_keys(void)
{
	fresh();
	feed("pn\x1b[Di");
	CHECK(line_is("pin", 2), "left arrow (ESC [ D), then a character is inserted in the middle");
	feed("\x1b[Cg");
	CHECK(line_is("ping", 4), "right arrow (ESC [ C) moves back to the end");
	feed("\x1bOD\x1bOD\x1bOC");
	CHECK(line_is("ping", 3), "the SS3 forms ESC O D and ESC O C move too");
	feed("\x1b[H");
	CHECK(le.pos == 0, "Home (ESC [ H) goes to the start");
	feed("\x1b[F");
	CHECK(le.pos == 4, "End (ESC [ F) goes to the end");
	feed("\x1b[1~");
	CHECK(le.pos == 0, "Home (ESC [ 1 ~)");
	feed("\x1b[4~");
	CHECK(le.pos == 4, "End (ESC [ 4 ~)");
	feed("\x1b[7~");
	CHECK(le.pos == 0, "Home (ESC [ 7 ~, rxvt)");
	feed("\x1b[8~");
	CHECK(le.pos == 4, "End (ESC [ 8 ~, rxvt)");
	feed("\x1bOH");
	CHECK(le.pos == 0, "Home (ESC O H)");
	feed("\x1bOF");
	CHECK(le.pos == 4, "End (ESC O F)");
	feed("\x01");
	CHECK(le.pos == 0, "Ctrl-A goes to the start");
	feed("\x05");
	CHECK(le.pos == 4, "Ctrl-E goes to the end");
	feed("\x02\x02\x06");
	CHECK(le.pos == 3, "Ctrl-B and Ctrl-F move left and right");
	feed("\x01\x1b[3~");
	CHECK(line_is("ing", 0), "Delete (ESC [ 3 ~) erases the character under the cursor");
	feed("\x04");
	CHECK(line_is("ng", 0), "Ctrl-D on a non-empty line erases under the cursor too");
	le.flags = 0;
	feed("\x05\x1b[3~");
	CHECK(line_is("ng", 2) && (le.flags & LE_BELL), "Delete at the end rings the bell");
	le.flags = 0;
	feed("\x1b[C");
	CHECK(le.pos == 2 && (le.flags & LE_BELL), "right arrow at the end rings the bell");
	feed("\x1b[1;5D");
	CHECK(line_is("ng", 1), "a modified arrow (Ctrl-left, ESC [ 1 ; 5 D) still moves");
}

static void test_escape_sequences_swallowed(void)
{
	fresh();
	feed("ps\x1b[15~");
	CHECK(line_is("ps", 2), "an unknown CSI sequence (F5) is swallowed whole");
	feed("\x1b[?1;2c");
	CHECK(line_is("ps", 2), "a device-attributes reply is swallowed whole");
	feed("\x1bOP");
	CHECK(line_is("ps", 2), "an unknown SS3 sequence (F1) is swallowed whole");
	feed("\x1bx");
	CHECK(line_is("ps", 2), "Alt-x (ESC x) is swallowed");
	feed("\x1b\x1b[D");
	CHECK(line_is("ps", 1), "ESC ESC [ D: the second ESC starts the sequence");
	feed("\x1b[12345678901234567890123456789Z");
	CHECK(line_is("ps", 1), "an over-long parameter list is swallowed to its final byte");
	feed("\x1b[ q");
	CHECK(line_is("ps", 1), "a sequence with an intermediate byte is swallowed");
	le_start(&le);
	feed("ps\x1b[");
	CHECK(feed("\r") == LE_DONE && !strcmp(le.buf, "ps"),
	      "a control character cuts an unfinished sequence and acts (Enter still ends the line)");
	le_start(&le);
	feed("\x1b" "\x7f");
	CHECK(line_is("", 0), "ESC then DEL: swallowed as an Alt-key, nothing inserted");
	le_start(&le);
	le.flags = 0;
	feed("\xc3\xa9");
	CHECK(line_is("", 0) && (le.flags & LE_BELL), "non-ASCII bytes are refused with the bell");
	le.flags = 0;
	feed("\x07\x1d");
	CHECK(line_is("", 0) && (le.flags & LE_BELL), "other control characters ring the bell, insert nothing");
	feed("\x1b[24;132R");
	CHECK(le.columns == 132 && (le.flags & LE_COLUMNS) && line_is("", 0),
	      "a cursor-position report sets the width and inserts nothing");
	feed("\x1b[1;3R");
	CHECK(le.columns == 132, "an implausible width (3) is not taken");
}

static void test_enter_cancel_clear(void)
{
	fresh();
	CHECK(feed("ls\r") == LE_DONE, "CR ends the line");
	le_start(&le);
	CHECK(le_feed(&le, '\n') == LE_NONE, "and its LF does not end a second, empty line");
	CHECK(le_feed(&le, '\n') == LE_DONE, "a lone LF is Enter");
	le_start(&le);
	CHECK(feed("kill serial\x03") == LE_CANCEL, "Ctrl-C cancels the line");
	CHECK(le_history(&le, 1) == 0 || strcmp(le_history(&le, 1), "kill serial"),
	      "a cancelled line does not go into the history");
	le_start(&le);
	le.flags = 0;
	CHECK(feed("\x04") == LE_NONE && (le.flags & LE_BELL), "Ctrl-D on an empty line only rings the bell");
	le.flags = 0;
	feed("ab\x0c");
	CHECK((le.flags & LE_CLEAR) && line_is("ab", 2), "Ctrl-L asks for a clear screen and keeps the line");
}

static void test_too_long(void)
{
	fresh();
	char line[600];
	memset(line, 'a', 500);
	line[500] = 0;
	le.flags = 0;
	feed(line);
	CHECK(le.len == LE_LINE_MAX && le.too_long && (le.flags & LE_BELL),
	      "a 500-character line: %u kept, the rest refused with the bell", LE_LINE_MAX);
	CHECK(feed("\r") == LE_REFUSED, "Enter refuses the over-long line (nothing runs)");
	CHECK(le_history(&le, 1) && strlen(le_history(&le, 1)) == LE_LINE_MAX,
	      "what fitted is in the history");
	le_start(&le);
	CHECK(!le.too_long, "the next line starts afresh");
	feed("\x1b[A");
	CHECK(le.len == LE_LINE_MAX && !le.too_long, "Up brings back what fitted, for editing");
	feed("\x7f\x7f\x7f");
	CHECK(feed("\r") == LE_DONE && le.len == LE_LINE_MAX - 3, "edited to fit, it is accepted");
	le_start(&le);
	memset(line, 'b', LE_LINE_MAX);
	line[LE_LINE_MAX] = 0;
	feed(line);
	CHECK(!le.too_long && feed("\r") == LE_DONE, "exactly %u characters are accepted", LE_LINE_MAX);
	le_start(&le);
	feed(line);
	feed("c");
	CHECK(le.too_long, "one more is too long");
	feed("\x15");
	CHECK(!le.too_long && feed("ok\r") == LE_DONE, "Ctrl-U (emptying the line) clears the mark");
	le_start(&le);
	feed(line);
	feed("\x01x");
	CHECK(le.too_long && le.buf[0] == 'b', "inserting in the middle of a full line is refused too");
}

static void test_history(void)
{
	fresh();
	feed("ps\r");
	le_start(&le);
	feed("mem\r");
	le_start(&le);
	feed("mem\r");
	le_start(&le);
	feed("\r");
	le_start(&le);
	CHECK(le.hist_count == 2, "repeats and empty lines are not kept (%u kept)", le.hist_count);
	feed("ech");
	feed("\x1b[A");
	CHECK(line_is("mem", 3), "Up shows the newest line, the cursor at its end");
	feed("\x1bOA");
	CHECK(line_is("ps", 2), "Up again (SS3 form) shows the one before");
	le.flags = 0;
	feed("\x1b[A");
	CHECK(line_is("ps", 2) && (le.flags & LE_BELL), "past the oldest: the bell");
	feed("\x1b[B\x1b[B");
	CHECK(line_is("ech", 3), "Down past the newest brings back the line being typed");
	feed("\x10x");
	CHECK(line_is("memx", 4), "Ctrl-P recalls too, and the recalled line can be edited");
	CHECK(feed("\r") == LE_DONE && !strcmp(le_history(&le, 2), "mem"),
	      "editing a recalled line leaves the history's entry as it was");
	CHECK(!strcmp(le_history(&le, 1), "memx"), "the edited line is the newest entry");
	fresh();
	char buf[32];
	for (int i = 0; i < LE_HISTORY + 8; i++) {
		le_start(&le);
		snprintf(buf, sizeof(buf), "echo %d\r", i);
		feed(buf);
	}
	CHECK(le.hist_count == LE_HISTORY, "the history keeps %d lines", LE_HISTORY);
	CHECK(!strcmp(le_history(&le, 1), "echo 39") && !strcmp(le_history(&le, LE_HISTORY), "echo 8"),
	      "the newest and the oldest kept are right");
	le_start(&le);
	for (int i = 0; i < LE_HISTORY; i++)
		feed("\x1b[A");
	CHECK(line_is("echo 8", 6), "Up %d times reaches the oldest", LE_HISTORY);
}

static void test_completion(void)
{
	fresh();
	feed("he\t");
	CHECK(line_is("help ", 5), "a unique command prefix completes, with a space");
	le_start(&le);
	feed("ls\t");
	CHECK(line_is("ls", 2) && le.out_len, "ls is a prefix of lspci: both are listed, nothing inserted");
	le.out[le.out_len] = 0;
	CHECK(strstr(le.out, "ls") && strstr(le.out, "lspci") && le.out[le.out_len - 1] == '\n',
	      "the listing names both and ends its line");
	le.out_len = 0;
	le_start(&le);
	feed("p\t");
	le.out[le.out_len] = 0;
	CHECK(line_is("p", 1) && !strcmp(le.out, "ping  ps\n"), "ambiguous: the candidates, sorted, in columns");
	le.out_len = 0;
	le_start(&le);
	feed("kill se\t");
	CHECK(line_is("kill serial ", 12), "a later word completes a task name");
	le_start(&le);
	feed("kill s\t");
	CHECK(line_is("kill s", 6) && le.out_len, "several tasks: listed");
	le.out_len = 0;
	le_start(&le);
	feed("kill ne\t");
	CHECK(line_is("kill net", 8), "net and net0: the common prefix is completed");
	le_start(&le);
	le.flags = 0;
	feed("frob\t");
	CHECK(line_is("frob", 4) && (le.flags & LE_BELL) && !le.out_len, "no match: the bell, nothing else");
	le_start(&le);
	feed("kill seXX\x1b[D\x1b[D\t");
	CHECK(line_is("kill serial XX", 12), "completion works on the word up to the cursor (a space follows)");
	le_start(&le);
	feed("  pin\t");
	CHECK(line_is("  ping ", 7), "leading spaces: still the first word");
	le_start(&le);
	feed("cat \t");
	CHECK(le.out_len > 0 && line_is("cat ", 4), "an empty later word lists every task");
	le.out[le.out_len] = 0;
	CHECK(strstr(le.out, "serial") && strstr(le.out, "linux"), "(serial and linux among them)");
	fresh();
	char line[LE_LINE_MAX + 1];
	memset(line, 'k', LE_LINE_MAX - 5);
	memcpy(line + LE_LINE_MAX - 5, " ser", 5);
	feed(line);
	le.flags = 0;
	feed("\t");
	CHECK(le.len == LE_LINE_MAX - 1 && (le.flags & LE_BELL) && !le.too_long,
	      "a completion that does not fit is refused, and the line is not marked too long");
}

int main(void)
{
	test_typing_and_erasing();
	test_cursor_keys();
	test_escape_sequences_swallowed();
	test_enter_cancel_clear();
	test_too_long();
	test_history();
	test_completion();
	return unit_done();
}
