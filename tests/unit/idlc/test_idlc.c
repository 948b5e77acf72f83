/* Host tests of idlc itself: malformed interface files (tests/unit/idlc/
 * bad/) give exit 1 and "FILE:LINE: error: ..." naming the right line,
 * under AddressSanitizer and UBSan; good ones (idl/test_types.idl,
 * tests/unit/idlc/good/) generate C that compiles with the user-space
 * flags; limits; and a fuzz of the parser and generator in this process
 * (they are linked in) over mutations of the good files. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "idlc.h"
#include "unit.h"

#ifndef IDLC_TEST_SRCDIR
#error "build through mk/idlc.mk: it defines IDLC_TEST_SRCDIR, IDLC_TEST_BUILD, IDLC_TEST_USER_CC"
#endif

#define IDLC_ASAN IDLC_TEST_BUILD "/tests/unit/idlc/idlc-asan"
#define BAD "tests/unit/idlc/bad/"
#define GOOD "tests/unit/idlc/good/"

static char tmp[256];     /* a fresh directory for outputs */

/* Run a shell command; its exit status, or -1 if it did not exit. */
static int __attribute__((format(printf, 1, 2))) run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A whole file in a fresh NUL-terminated buffer (NULL if unreadable). */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *s = malloc(cap);
	size_t got;
	while ((got = fread(s + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (cap - n - 1 == 0)
			s = realloc(s, cap *= 2);
	}
	fclose(f);
	s[n] = '\0';
	if (len)
		*len = n;
	return s;
}

/* Files in tmp (0 if empty). */
static int files_in_tmp(void)
{
	int n = 0;
	DIR *d = opendir(tmp);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	if (d)
		closedir(d);
	return n;
}

static void empty_tmp(void)
{
	run("rm -rf '%s'/*", tmp);
}

/* Cut a trailing newline off s (for messages). */
static const char *chomp(const char *s)
{
	static char out[4][512];
	static int next;
	char *o = out[next++ % 4];
	snprintf(o, sizeof out[0], "%s", s);
	o[strcspn(o, "\n")] = '\0';
	return o;
}

/* Run the sanitized idlc on path into tmp; its exit status; stderr in *err. */
static int idlc(const char *path, char **err)
{
	char errfile[300];
	snprintf(errfile, sizeof errfile, "%s.err", tmp);
	int st = run("ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1 "
	             "'%s' '%s' -o '%s' >/dev/null 2>'%s'", IDLC_ASAN, path, tmp, errfile);
	*err = slurp(errfile, NULL);
	if (!*err)
		*err = strdup("");
	remove(errfile);
	return st;
}

static int sanitizer_quiet(const char *err)
{
	return !strstr(err, "Sanitizer") && !strstr(err, "runtime error");
}

/* ---- malformed files ------------------------------------------------------ */

static const struct bad {
	const char *file;
	unsigned line;
	const char *message;   /* a part of what follows "error: " */
} bad[] = {
	{ "unknown_type.idl", 4, "unknown type 'u128'" },
	{ "missing_semicolon.idl", 2, "expected ';' after the parameters of 'first', found 'second' on line 3" },
	{ "bad_direction.idl", 4, "expected a direction ('in', 'out' or 'inout')" },
	{ "missing_direction.idl", 2, "found 'u32'" },
	{ "inout_cap.idl", 3, "cap 'c' is inout" },
	{ "too_many_caps.idl", 4, "more than 3 'in' caps" },
	{ "too_many_out_caps.idl", 2, "more than 3 'out' caps" },
	{ "request_too_big.idl", 4, "method 'big' does not fit in a message: its request takes up to 66 words" },
	{ "reply_too_big.idl", 4, "its reply takes up to 65 words" },
	{ "param_too_big.idl", 3, "parameter 'b' (bytes<497>) cannot fit in a message" },
	{ "duplicate_method.idl", 4, "method 'read' is already declared on line 2" },
	{ "duplicate_param.idl", 3, "parameter 'a' of 'm' is already declared on line 2" },
	{ "len_clash.idl", 2, "length of bytes parameter 'data'" },
	{ "interface_zero.idl", 2, "interface number 0 is out of range" },
	{ "interface_too_big.idl", 1, "interface number 65536 is out of range" },
	{ "huge_number.idl", 2, "number '99999999999999999999999999' is too large" },
	{ "huge_interface_number.idl", 1, "number '18446744073709551616' is too large" },
	{ "huge_array.idl", 2, "(u64[18446744073709551615]) cannot fit in a message" },
	{ "zero_length.idl", 2, "must be at least 1" },
	{ "unterminated.idl", 1, "the '{' of interface 't' is never closed" },
	{ "unterminated_params.idl", 3, "found end of file" },
	{ "empty.idl", 1, "empty file" },
	{ "only_comment.idl", 1, "no interface in the file" },
	{ "garbage.idl", 1, "unexpected byte 0x89" },
	{ "non_ascii.idl", 3, "unexpected byte 0xc3" },
	{ "no_methods.idl", 1, "interface 't' has no methods" },
	{ "two_interfaces.idl", 4, "a file holds one interface" },
	{ "upper_case.idl", 2, "'getValue' has an upper-case letter" },
	{ "reserved_method.idl", 2, "cannot be called 'dispatch'" },
	{ "reserved_interface.idl", 1, "interface name 'ipc' is reserved" },
	{ "block_comment.idl", 2, "'/*' comments are not supported" },
	{ "leading_zero.idl", 1, "'010' has a leading zero" },
	{ "long_name.idl", 2, "is longer than 63 characters" },
	{ "missing_paren.idl", 2, "expected ',' or ')' after parameter 'b'" },
	{ "trailing_underscore.idl", 2, "'a_' ends in '_'" },
	{ "missing_number.idl", 1, "expected the interface number" },
	{ "trailing_tokens.idl", 4, "unexpected 'extra' after the end of interface 't'" },
	{ "bad_array.idl", 2, "expected ']' after the array length" },
	{ "bad_char.idl", 2, "unexpected character '='" },
};

static void test_bad_files(void)
{
	unsigned listed = 0;
	DIR *d = opendir(BAD);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strstr(e->d_name, ".idl"))
			listed++;
	if (d)
		closedir(d);
	CHECK(listed == sizeof bad / sizeof *bad, "every file in " BAD " has an expectation here (%u files)", listed);

	for (unsigned i = 0; i < sizeof bad / sizeof *bad; i++) {
		char path[256], want[512], *err;
		snprintf(path, sizeof path, BAD "%s", bad[i].file);
		snprintf(want, sizeof want, "%s:%u: error: ", path, bad[i].line);
		empty_tmp();
		int st = idlc(path, &err);
		const char *nl = strchr(err, '\n');
		int ok = st == 1 && !strncmp(err, want, strlen(want)) && strstr(err, bad[i].message) &&
		         nl && nl[1] == '\0' && sanitizer_quiet(err) && files_in_tmp() == 0;
		CHECK(ok, "%s: exit 1, nothing written, one line: line %u, \"%s\"", bad[i].file,
		      bad[i].line, bad[i].message);
		if (!ok)
			printf("# got exit %d and: %s\n", st, chomp(err));
		free(err);
	}
}

/* Files idlc cannot read or write, and command lines it refuses. */
static void test_usage(void)
{
	char *err;
	empty_tmp();
	int st = idlc(BAD "no_such_file.idl", &err);
	CHECK(st == 1 && strstr(err, "cannot open") && files_in_tmp() == 0, "a missing input: exit 1, \"%s\"", chomp(err));
	free(err);
	st = run("'%s' >/dev/null 2>&1", IDLC_ASAN);
	CHECK(st == 1, "no arguments: exit 1");
	st = run("'%s' idl/test_types.idl >/dev/null 2>&1", IDLC_ASAN);
	CHECK(st == 1, "no -o: exit 1");
	st = run("'%s' idl/test_types.idl -o '%s/missing/dir' >/dev/null 2>&1", IDLC_ASAN, tmp);
	CHECK(st == 1 && files_in_tmp() == 0, "an output directory that does not exist: exit 1, nothing left");

	/* a file over the 1 MiB limit */
	char big[300];
	snprintf(big, sizeof big, "%s.big.idl", tmp);
	FILE *f = fopen(big, "w");
	fprintf(f, "interface big 1 {\n    m();\n}\n");
	for (int i = 0; i < (1 << 20) / 16 + 1; i++)
		fprintf(f, "// padding.....\n");
	fclose(f);
	empty_tmp();
	st = idlc(big, &err);
	CHECK(st == 1 && strstr(err, "larger than") && sanitizer_quiet(err) && files_in_tmp() == 0,
	      "a file over 1 MiB: exit 1 (%s)", chomp(err));
	free(err);
	remove(big);
}

/* ---- good files --------------------------------------------------------------- */

/* Compile one generated file with the user-space flags. */
static int user_cc(const char *file, const char *obj)
{
	return run("%s -I'%s' -c '%s' -o '%s' 2>&1", IDLC_TEST_USER_CC, tmp, file, obj);
}

/* Generate path into tmp and compile both .c files; 1 if all went well. */
static int generate_and_compile(const char *path, const char *name, const char *what)
{
	char *err, file[400], obj[400];
	int st = idlc(path, &err);
	CHECK(st == 0 && err[0] == '\0', "%s: idlc exits 0 and prints nothing (%d: %s)", what, st, chomp(err));
	free(err);
	int ok = st == 0;
	for (int i = 0; i < 2 && ok; i++) {
		const char *side = i ? "server" : "client";
		snprintf(file, sizeof file, "%s/%s_%s.c", tmp, name, side);
		snprintf(obj, sizeof obj, "%s/%s_%s.o", tmp, name, side);
		st = user_cc(file, obj);
		CHECK(st == 0, "%s: %s_%s.c compiles with the user flags and -Werror", what, name, side);
		ok &= st == 0;
	}
	return ok;
}

/* s with every run of white space made one space, in a fresh string. */
static char *squeeze(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n') {
			if (o > out && o[-1] != ' ')
				*o++ = ' ';
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

static void test_good_files(void)
{
	char path[400], *a, *b;
	size_t la, lb;

	/* idl/test_types.idl: every type and direction */
	empty_tmp();
	generate_and_compile("idl/test_types.idl", "test_types", "idl/test_types.idl");
	int same = 1;
	static const char *const outs[] = { "test_types.h", "test_types_client.c", "test_types_server.c" };
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", tmp, outs[i]);
		a = slurp(path, &la);
		snprintf(path, sizeof path, IDLC_TEST_BUILD "/idl/%s", outs[i]);
		b = slurp(path, &lb);
		same &= a && b && la == lb && !memcmp(a, b, la);
		free(a);
		free(b);
	}
	CHECK(same, "the sanitized idlc writes the same files as the build's (deterministic output)");

	/* the console example of the brief and docs/idl.md */
	empty_tmp();
	generate_and_compile(GOOD "console.idl", "console", "the console example");
	snprintf(path, sizeof path, "%s/console.h", tmp);
	a = slurp(path, NULL);
	b = squeeze(a ? a : "");
	CHECK(strstr(b, "#define CONSOLE_INTERFACE 2 ") && strstr(b, "#define CONSOLE_WRITE_LABEL ((CONSOLE_INTERFACE << 8) | 1) ") &&
	      strstr(b, "#define CONSOLE_PING_LABEL ((CONSOLE_INTERFACE << 8) | 5) "),
	      "console.h defines the interface number and a label per method");
	CHECK(strstr(b, "long console_write(uint64_t port, const uint8_t *data, uint32_t data_len, uint32_t *written);") &&
	      strstr(b, "long console_read(uint64_t port, uint32_t max, uint8_t data[400], uint32_t *data_len);") &&
	      strstr(b, "long console_lookup(uint64_t port, const char *name, uint64_t *port_);") &&
	      strstr(b, "long console_stat(uint64_t port, uint64_t regs[4], int32_t flags);"),
	      "console.h declares the client stubs as docs/idl.md shows");
	CHECK(strstr(b, "long (*write)(void *ctx, uint64_t badge, const uint8_t *data, uint32_t data_len, uint32_t *written);") &&
	      strstr(b, "long (*read)(void *ctx, uint64_t badge, uint32_t max, uint8_t data[400], uint32_t *data_len);") &&
	      strstr(b, "int console_dispatch(const struct console_ops *ops, void *ctx, const struct msg *req, "
	             "const uint64_t *recv_slots, struct msg *reply);") &&
	      strstr(b, "#ifndef IDL_CONSOLE_H") && strstr(b, "#include <stdint.h>") && strstr(b, "#include <libipc/ipc.h>"),
	      "console.h declares the ops struct and the dispatcher, with include guards");
	free(a);
	free(b);

	/* a file whose name is not the interface's: a warning, still exit 0 */
	empty_tmp();
	snprintf(path, sizeof path, "%s.other.idl", tmp);
	run("cp " GOOD "minimal.idl '%s'", path);
	char *err;
	int st = idlc(path, &err);
	CHECK(st == 0 && strstr(err, ":2: warning: interface 'minimal' is in a file not named minimal.idl") &&
	      files_in_tmp() == 3, "an interface in a file of another name: a warning, and the files");
	free(err);
	remove(path);

	/* names that need care, and a file with CRLF, tabs and hex */
	empty_tmp();
	generate_and_compile(GOOD "names.idl", "names", "keywords and the generated code's own names");
	generate_and_compile(GOOD "minimal.idl", "minimal", "CRLF line ends, tabs, 0x10, a ; after the brace");
	generate_and_compile(GOOD "console.idl", "console", "the console example again");
	if (!generate_and_compile("idl/test_types.idl", "test_types", "idl/test_types.idl again"))
		return;

	/* all four interfaces' headers in one file, their objects in one link */
	snprintf(path, sizeof path, "%s/all.c", tmp);
	FILE *f = fopen(path, "w");
	fprintf(f, "#include <libipc/libipc.h>\n#include \"names.h\"\n#include \"minimal.h\"\n"
	        "#include \"console.h\"\n#include \"test_types.h\"\n"
	        "int all_labels(void) { return NAMES_REGISTER_LABEL + MINIMAL_PING_LABEL + "
	        "CONSOLE_PING_LABEL + TEST_TYPES_PING_LABEL; }\n");
	fclose(f);
	CHECK(user_cc(path, "/dev/null") == 0, "the headers of several interfaces go together in one file");
	CHECK(run("cd '%s' && %s -r -nostdlib -o all.o names_client.o names_server.o minimal_client.o "
	          "minimal_server.o console_client.o console_server.o test_types_client.o "
	          "test_types_server.o 2>&1", tmp, IDLC_TEST_USER_CC) == 0,
	      "the objects of several interfaces link together (no clashing symbols)");
}

/* The largest interface: 255 methods, 63-character names, number 65535. */
static void test_limits(void)
{
	char path[300], name[64];
	snprintf(path, sizeof path, "%s.limits.idl", tmp);
	memset(name, 'n', 63);
	name[63] = '\0';
	FILE *f = fopen(path, "w");
	fprintf(f, "interface %s 65535 {\n", name);
	for (int i = 0; i < 255; i++)
		fprintf(f, "    m%03d_%.58s(in u%d a, out string<%d> s%.60s, in cap c);\n", i, name,
		        8 << (i % 4), 1 + i, name);
	fprintf(f, "}\n");
	fclose(f);
	empty_tmp();
	char copy[400];
	snprintf(copy, sizeof copy, "%s/../%s.idl", tmp, name);
	rename(path, copy);
	generate_and_compile(copy, name, "255 methods with 63-character names, interface 65535");

	/* one more method */
	f = fopen(copy, "w");
	fprintf(f, "interface x 1 {\n");
	for (int i = 0; i < 256; i++)
		fprintf(f, "    m%d();\n", i);
	fprintf(f, "}\n");
	fclose(f);
	char *err;
	empty_tmp();
	int st = idlc(copy, &err);
	CHECK(st == 1 && strstr(err, ":257: error: interface 'x' has more than 255 methods"),
	      "256 methods: the error names line 257, the 256th");
	free(err);

	/* a parameter list longer than any message allows */
	f = fopen(copy, "w");
	fprintf(f, "interface x 1 {\n    m(\n");
	for (int i = 0; i < 300; i++)
		fprintf(f, "      in u8 p%d,\n", i);
	fprintf(f, "      in u8 last);\n}\n");
	fclose(f);
	st = idlc(copy, &err);
	CHECK(st == 1 && strstr(err, ":258: error: method 'm' has more than 255 parameters") && sanitizer_quiet(err),
	      "300 parameters: refused at the 256th");
	free(err);

	/* a long line of punctuation, and a very long number */
	f = fopen(copy, "w");
	fprintf(f, "interface x 1 {\n    m(");
	for (int i = 0; i < 200000; i++)
		fputc('(', f);
	fprintf(f, ");\n}\n");
	fclose(f);
	st = idlc(copy, &err);
	CHECK(st == 1 && strstr(err, ":2: error: expected a direction") && sanitizer_quiet(err),
	      "200000 '(' in a row: one error on line 2");
	free(err);
	f = fopen(copy, "w");
	fprintf(f, "interface x ");
	for (int i = 0; i < 100000; i++)
		fputc('9', f);
	fprintf(f, " {\n    m();\n}\n");
	fclose(f);
	st = idlc(copy, &err);
	CHECK(st == 1 && strstr(err, ":1: error: number '9999") && strstr(err, "...' is too large") &&
	      strlen(err) < 200 && sanitizer_quiet(err), "a 100000-digit number: a short error on line 1");
	free(err);
	remove(copy);
}

/* ---- the fuzz ------------------------------------------------------------------- */

static unsigned lines_of(const char *s, size_t len)
{
	unsigned n = 1;
	for (size_t i = 0; i < len; i++)
		n += s[i] == '\n';
	return n;
}

/* Parse (and generate, if it parses) one input in this process.  1 if
 * the outcome is sound: accepted, or one error line naming a line of it. */
static int sound(const char *text, size_t len, int *accepted)
{
	char *msg = NULL;
	size_t msg_len = 0;
	FILE *err = open_memstream(&msg, &msg_len);
	struct idl_interface ifc;
	int r = idl_parse("fuzz.idl", text, len, &ifc, err);
	fclose(err);
	int ok;
	if (r == 0) {
		struct buf out[3] = { { 0 }, { 0 }, { 0 } };
		idl_generate(&ifc, "fuzz.idl", &out[0], &out[1], &out[2]);
		ok = msg_len == 0 && out[0].len > 0 && out[1].len > 0 && out[2].len > 0;
		for (int i = 0; i < 3; i++)
			buf_free(&out[i]);
		(*accepted)++;
	} else {
		unsigned line = 0;
		char *nl = strchr(msg, '\n');
		ok = r == 1 && sscanf(msg, "fuzz.idl:%u: error: ", &line) == 1 && line >= 1 &&
		     line <= lines_of(text, len) && strstr(msg, ": error: ") && nl && nl[1] == '\0';
	}
	idl_free(&ifc);
	free(msg);
	return ok;
}

static void test_fuzz(void)
{
	static const char *const seeds[] = { "idl/test_types.idl", GOOD "names.idl", GOOD "console.idl",
	                                     GOOD "minimal.idl" };
	static const char subst[] = { 0, '}', '(', ')', ';', ',', '<', ']', 'x', '9', '\n', (char)0xff };
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	int ok = 1, accepted = 0, runs = 0;
	for (unsigned s = 0; s < sizeof seeds / sizeof *seeds; s++) {
		size_t len;
		char *orig = slurp(seeds[s], &len);
		if (!orig) {
			ok = 0;
			continue;
		}
		char *buf = malloc(len + 64);
		ok &= sound(orig, len, &accepted);
		/* every prefix */
		for (size_t cut = 0; cut < len; cut++) {
			memcpy(buf, orig, cut);
			ok &= sound(buf, cut, &accepted);
			runs++;
		}
		/* every byte deleted, and every byte replaced by each of subst */
		for (size_t at = 0; at < len; at++) {
			memcpy(buf, orig, at);
			memcpy(buf + at, orig + at + 1, len - at - 1);
			ok &= sound(buf, len - 1, &accepted);
			runs++;
			for (unsigned k = 0; k < sizeof subst; k++) {
				memcpy(buf, orig, len);
				buf[at] = subst[k];
				ok &= sound(buf, len, &accepted);
				runs++;
			}
		}
		/* random bursts of changes */
		for (int iter = 0; iter < 2000; iter++) {
			memcpy(buf, orig, len);
			for (int k = 0; k < 4; k++) {
				seed = seed * 6364136223846793005ull + 1442695040888963407ull;
				buf[(seed >> 20) % len] = (char)(seed >> 56);
			}
			ok &= sound(buf, len, &accepted);
			runs++;
		}
		free(buf);
		free(orig);
	}
	CHECK(ok, "%d mutated files: each parsed, or refused with one error naming one of its lines", runs);
	CHECK(accepted > 0 && accepted < runs, "some mutants are accepted (%d), most refused", accepted);
}

int main(void)
{
	if (chdir(IDLC_TEST_SRCDIR) != 0) {
		perror(IDLC_TEST_SRCDIR);
		return 1;
	}
	snprintf(tmp, sizeof tmp, IDLC_TEST_BUILD "/tests/unit/idlc/tmp.XXXXXX");
	if (!mkdtemp(tmp)) {
		perror(tmp);
		return 1;
	}
	test_bad_files();
	test_usage();
	test_good_files();
	test_limits();
	test_fuzz();
	run("rm -rf '%s'", tmp);
	return unit_done();
}
