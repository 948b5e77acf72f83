/* The arguments of one start (servers/init/args.c): the manifest's words
 * changed by those of `vm start NAME mem=96 cmdline=...`. */
// unit-under-test: servers/init/args.c
#include <string.h>
#include "unit.h"
#include "../../servers/init/manifest.h"

static char out[128];

static int merge(const char *base, const char *change)
{
	memset(out, 'x', sizeof(out));
	return args_merge(base, change, out, sizeof(out));
}

int main(void)
{
	CHECK(merge("mem=2 name=hello", "") == 0 && !strcmp(out, "mem=2 name=hello"),
	      "no change: the manifest's words ('%s')", out);
	CHECK(merge("  mem=2   name=hello  ", "") == 0 && !strcmp(out, "mem=2 name=hello"),
	      "spaces collapse ('%s')", out);
	CHECK(merge("mem=2 name=hello", "mem=96") == 0 && !strcmp(out, "mem=96 name=hello"),
	      "a KEY= word replaces the same key in its place ('%s')", out);
	CHECK(merge("mem=2 name=hello", "console=buffer input") == 0 &&
	      !strcmp(out, "mem=2 name=hello console=buffer input"), "new words go last ('%s')", out);
	CHECK(merge("mem=2 input", "input mem=4 mem=8") == 0 && !strcmp(out, "mem=8 input"),
	      "a flag is not doubled; the last of a repeated key wins ('%s')", out);
	CHECK(merge("memory=2", "mem=3") == 0 && !strcmp(out, "memory=2 mem=3"),
	      "keys match whole, not by prefix ('%s')", out);
	CHECK(merge("input=1", "input") == 0 && !strcmp(out, "input=1 input"),
	      "a flag and a KEY= word are different keys ('%s')", out);
	CHECK(merge("mem=2 cmdline=console=ttyS0 quiet", "mem=64") == 0 &&
	      !strcmp(out, "mem=64 cmdline=console=ttyS0 quiet"), "the manifest's cmdline= stays last ('%s')", out);
	CHECK(merge("cmdline=a b mem=2", "cmdline=root=/dev/x init=/bin/sh  mem=5") == 0 &&
	      !strcmp(out, "cmdline=root=/dev/x init=/bin/sh  mem=5"),
	      "cmdline= takes the rest of its string, spaces and = included ('%s')", out);
	CHECK(merge("mem=2 cmdline=old", "name=x cmdline=new one") == 0 &&
	      !strcmp(out, "mem=2 name=x cmdline=new one"), "a new cmdline= replaces the old ('%s')", out);
	CHECK(merge("", "") == 0 && out[0] == 0, "nothing at all");

	char big[200];
	memset(big, 'a', sizeof(big));
	memcpy(big, "cmdline=", 8);
	big[sizeof(big) - 1] = 0;
	CHECK(merge("mem=2", big) == -1 && out[0] == 0, "too long for the boot info: refused, out empty");
	memset(big, 0, sizeof(big));
	memcpy(big, "cmdline=", 8);
	memset(big + 8, 'b', 127 - 8);
	CHECK(merge("", big) == 0 && strlen(out) == 127, "exactly 127 bytes fit");
	CHECK(merge("m=1", big) == -1, "one more does not");
	CHECK(args_merge("a", "", out, 1) == -1 && args_merge("", "", out, 1) == 0 && out[0] == 0,
	      "a one-byte buffer holds only the empty result");
	char many[100] = "";
	for (int i = 0; i < 33; i++)
		strcat(many, "a ");
	CHECK(merge(many, "") == -1, "more than 32 words are refused");
	return unit_done();
}
