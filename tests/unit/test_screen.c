/* Host unit tests for servers/drivers/serial/screen.c, the console's
 * screen: the bytes it sends the terminal when the edited line changes
 * (only the difference when that is simple), when other output arrives
 * while a line is shown (erased, written above, drawn again), when a
 * long line scrolls sideways, and when a line is finished.  A small
 * terminal model replays the bytes to check what a person would see. */
// unit-under-test: servers/drivers/serial/screen.c
#include <stdint.h>
#include <string.h>
#include "unit.h"
#include "../../servers/drivers/serial/screen.h"

static char sent[8192];
static unsigned sent_len;
static unsigned replayed;   /* bytes of sent the terminal model has applied */
static struct screen scr;

static void capture(void *ctx, const char *bytes, unsigned n)
{
	(void)ctx;
	if (sent_len + n < sizeof(sent)) {
		memcpy(sent + sent_len, bytes, n);
		sent_len += n;
		sent[sent_len] = 0;
	}
}

static void clear_sent(void)
{
	sent_len = 0;
	sent[0] = 0;
	replayed = 0;
}

/* --- a terminal, enough of one: rows of 200 columns, a cursor --------- */

#define ROWS 40
#define COLS 200
static char term[ROWS][COLS + 1];
static int row, col;

static void term_reset(void)
{
	memset(term, ' ', sizeof(term));
	for (int r = 0; r < ROWS; r++)
		term[r][COLS] = 0;
	row = col = 0;
	replayed = 0;
}

/* Apply what the screen sent since the last call. */
static void term_apply(void)
{
	for (unsigned i = replayed; i < sent_len; i++) {
		char c = sent[i];
		if (c == '\r') {
			col = 0;
		} else if (c == '\n') {
			row++;
		} else if (c == '\b') {
			if (col)
				col--;
		} else if (c == '\a') {
			/* the bell */
		} else if (c == 0x1b && sent[i + 1] == '[') {
			unsigned n = 0;
			int has_n = 0;
			i += 2;
			while (sent[i] >= '0' && sent[i] <= '9') {
				n = n * 10 + (unsigned)(sent[i++] - '0');
				has_n = 1;
			}
			if (!has_n)
				n = 1;
			switch (sent[i]) {
			case 'C':
				col += (int)n;
				break;
			case 'D':
				col -= (int)n;
				if (col < 0)
					col = 0;
				break;
			case 'K':
				memset(&term[row][col], ' ', (size_t)(COLS - col));
				break;
			case 'H':
				row = col = 0;
				break;
			case 'J':
				term_reset();
				replayed = i + 1;
				break;
			}
		} else {
			if (col < COLS)
				term[row][col] = c;
			col++;
		}
	}
	replayed = sent_len;
}

/* The row's text without trailing spaces. */
static const char *term_row(int r)
{
	static char buf[COLS + 1];
	memcpy(buf, term[r], COLS + 1);
	int n = COLS;
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = 0;
	return buf;
}

static void line(const char *text, unsigned cursor, unsigned flags)
{
	screen_line(&scr, "berth> ", 7, text, (unsigned)strlen(text), cursor, 0, flags);
	term_apply();
}

static void output(const char *text)
{
	screen_output(&scr, (const uint8_t *)text, (unsigned)strlen(text));
	term_apply();
}

static void fresh(void)
{
	screen_init(&scr, capture, 0);
	clear_sent();
	term_reset();
}

static void test_drawing(void)
{
	fresh();
	line("", 0, 0);
	CHECK(!strcmp(sent, "\rberth> \x1b[K"), "a new line: CR, the prompt, erase the rest");
	clear_sent();
	line("p", 1, 0);
	line("ps", 2, 0);
	line("pss", 3, 0);
	CHECK(!strcmp(sent, "pss"), "typing at the end sends only the characters typed");
	clear_sent();
	line("ps", 2, 0);
	CHECK(!strcmp(sent, "\b\x1b[K"), "Backspace at the end: back one, erase the rest (on screen too)");
	CHECK(!strcmp(term_row(0), "berth> ps") && col == 9, "the screen shows berth> ps, the cursor after it");
	clear_sent();
	line("", 0, 0);
	CHECK(!strcmp(sent, "\x1b[2D\x1b[K"), "Ctrl-U: back two, erase");
	line("pig", 3, 0);
	line("pig", 2, 0);
	CHECK(col == 9 && !strcmp(term_row(0), "berth> pig"), "left arrow moves the terminal's cursor only");
	line("ping", 3, 0);
	CHECK(!strcmp(term_row(0), "berth> ping") && col == 10, "an insertion in the middle redraws, cursor in place");
	line("ping", 0, 0);
	CHECK(col == 7, "Home: the cursor at the start of the text");
	line("ping", 4, SCREEN_DONE);
	CHECK(row == 1 && col == 0 && !strcmp(term_row(0), "berth> ping"), "finished: the line stays, a new row begins");
	CHECK(!scr.active, "nothing is being edited after it");
	line("ls", 1, SCREEN_DONE);
	CHECK(!strcmp(term_row(1), "berth> ls") && row == 2, "finished with the cursor inside: the whole line stays");
	clear_sent();
	line("x", 1, SCREEN_BELL);
	CHECK(strchr(sent, '\a') != 0, "the bell is rung when asked");
}

static void test_output_above_the_line(void)
{
	fresh();
	output("Berth shell.\n");
	line("", 0, 0);
	line("ki", 2, 0);
	line("ki", 1, 0);
	output("init: 'fs' faulted; restarting it\n");
	CHECK(!strcmp(term_row(0), "Berth shell.") && !strcmp(term_row(1), "init: 'fs' faulted; restarting it"),
	      "a log line arriving while typing appears where the line was");
	CHECK(!strcmp(term_row(2), "berth> ki") && row == 2 && col == 8,
	      "the prompt and the typed text are drawn again below, the cursor where it was");
	output("two\nlines\n");
	CHECK(!strcmp(term_row(2), "two") && !strcmp(term_row(3), "lines") && !strcmp(term_row(4), "berth> ki"),
	      "several lines at once: all above, the line below them");
	output("partial");
	CHECK(!strcmp(term_row(4), "partial") && !strcmp(term_row(5), "berth> ki"),
	      "output without an end of line is ended before the line is drawn");
	line("kill", 4, 0);
	CHECK(!strcmp(term_row(5), "berth> kill"), "and editing goes on below");
	line("kill", 4, SCREEN_DONE);
	clear_sent();
	output("killed fs\n");
	CHECK(!strcmp(sent, "killed fs\r\n") && !strcmp(term_row(6), "killed fs"),
	      "with no line being edited, output is written as it is (LF as CR LF)");
	output("no newline");
	clear_sent();
	line("", 0, 0);
	CHECK(!strncmp(sent, "\r\n", 2) && !strcmp(term_row(7), "no newline") && !strcmp(term_row(8), "berth>"),
	      "a new line never draws over a row someone left unfinished");
}

static void test_echo(void)
{
	fresh();
	screen_echo(&scr, 'a');
	screen_echo(&scr, '\r');
	CHECK(!strcmp(sent, "a\r\n"), "with no line being edited, typed bytes echo (CR as a new row)");
	line("", 0, 0);
	clear_sent();
	screen_echo(&scr, 'b');
	CHECK(sent_len == 0, "while a line is edited nothing echoes: the editor draws");
}

static void test_long_lines(void)
{
	fresh();
	char text[200];
	memset(text, 'a', sizeof(text));
	for (unsigned i = 0; i < 120; i++)
		text[i] = (char)('a' + i % 26);
	text[120] = 0;
	line("", 0, 0);
	line(text, 120, 0);
	CHECK(strlen(term_row(0)) <= 79, "a 120-character line never reaches the 80th column (%zu)",
	      strlen(term_row(0)));
	CHECK(!strncmp(term_row(0), "berth> ", 7) && col <= 79, "the prompt stays, the cursor is on screen");
	const char *shown = term_row(0) + 7;
	CHECK(!strcmp(shown, text + 120 - strlen(shown)), "the end of the text is shown, by the cursor");
	line(text, 0, 0);
	CHECK(!strncmp(term_row(0) + 7, text, 20) && col == 7, "Home scrolls back to the start");
	line(text, 120, SCREEN_DONE);
	CHECK(strstr(sent, text) != 0, "finished, the whole line is written out once");
	fresh();
	screen_line(&scr, "berth> ", 7, text, 120, 120, 132, 0);
	term_apply();
	CHECK(!strcmp(term_row(0) + 7, text), "a terminal said to be 132 wide shows all 120");
}

static void test_clear_and_control_characters(void)
{
	fresh();
	output("old stuff\n");
	line("ps", 2, 0);
	line("ps", 2, SCREEN_CLEAR);
	CHECK(strstr(sent, "\x1b[H\x1b[2J") != 0 && !strcmp(term_row(0), "berth> ps"),
	      "Ctrl-L: the screen is cleared and the line drawn at the top");
	fresh();
	line("a\x1b[2Jb\n", 6, 0);
	CHECK(!strcmp(term_row(0), "berth> a?[2Jb?") && row == 0, "control characters in the text show as ?");
}

int main(void)
{
	test_drawing();
	test_output_above_the_line();
	test_echo();
	test_long_lines();
	test_clear_and_control_characters();
	return unit_done();
}
