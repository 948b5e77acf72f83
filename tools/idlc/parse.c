/* idlc: the lexer and parser.  One pass over the text builds a struct
 * idl_interface and checks everything the generated code relies on; the
 * first error is reported as "FILE:LINE: error: ..." and ends the parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "idlc.h"

const struct idl_scalar_info idl_scalars[SCALAR_COUNT] = {
	[U8] = { "u8", "uint8_t", 1, 0, "", "UINT8_MAX" },
	[U16] = { "u16", "uint16_t", 2, 0, "", "UINT16_MAX" },
	[U32] = { "u32", "uint32_t", 4, 0, "", "UINT32_MAX" },
	[U64] = { "u64", "uint64_t", 8, 0, "", "UINT64_MAX" },
	[I8] = { "i8", "int8_t", 1, 1, "INT8_MIN", "INT8_MAX" },
	[I16] = { "i16", "int16_t", 2, 1, "INT16_MIN", "INT16_MAX" },
	[I32] = { "i32", "int32_t", 4, 1, "INT32_MIN", "INT32_MAX" },
	[I64] = { "i64", "int64_t", 8, 1, "INT64_MIN", "INT64_MAX" },
};

/* ---- tokens ------------------------------------------------------------ */

enum { T_EOF, T_IDENT, T_NUMBER, T_PUNCT };

struct token {
	int kind;
	unsigned line;
	const char *text;   /* points into the source */
	size_t len;
	uint64_t value;     /* T_NUMBER */
	char punct;         /* T_PUNCT */
};

struct parser {
	const char *path;
	const char *src;
	size_t len, pos;
	unsigned line;            /* of the next character */
	struct token tok;         /* the current token, not yet consumed */
	unsigned prev_line;       /* line of the last consumed token */
	struct idl_interface *ifc;
	FILE *err;
	jmp_buf fail;
};

/* Report an error at line and abandon the parse. */
static _Noreturn void __attribute__((format(printf, 3, 4)))
fail(struct parser *p, unsigned line, const char *fmt, ...)
{
	va_list ap;
	fprintf(p->err, "%s:%u: error: ", p->path, line);
	va_start(ap, fmt);
	vfprintf(p->err, fmt, ap);
	va_end(ap);
	fputc('\n', p->err);
	longjmp(p->fail, 1);
}

/* The current token as an error message shows it. */
static const char *describe(const struct token *t, char *out, size_t size)
{
	switch (t->kind) {
	case T_EOF:
		snprintf(out, size, "end of file");
		break;
	case T_PUNCT:
		snprintf(out, size, "'%c'", t->punct);
		break;
	default:
		if (t->len > 40)
			snprintf(out, size, "'%.40s...'", t->text);
		else
			snprintf(out, size, "'%.*s'", (int)t->len, t->text);
	}
	return out;
}

static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_alnum(int c) { return is_alpha(c) || is_digit(c); }

static int hex_value(int c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Skip blanks and comments; count lines. */
static void skip_space(struct parser *p)
{
	while (p->pos < p->len) {
		unsigned char c = (unsigned char)p->src[p->pos];
		if (c == '\n') {
			p->line++;
			p->pos++;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
			p->pos++;
		} else if (c == '#' || (c == '/' && p->pos + 1 < p->len && p->src[p->pos + 1] == '/')) {
			while (p->pos < p->len && p->src[p->pos] != '\n')
				p->pos++;
		} else {
			return;
		}
	}
}

/* Read a number: decimal, or hexadecimal after 0x. */
static void lex_number(struct parser *p, struct token *t)
{
	const char *s = p->src;
	size_t start = p->pos, i = p->pos;
	uint64_t v = 0;
	unsigned base = 10;
	int overflow = 0;
	if (s[i] == '0' && i + 1 < p->len && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
		base = 16;
		i += 2;
	}
	size_t digits = i;
	while (i < p->len && hex_value((unsigned char)s[i]) >= 0 && (base == 16 || is_digit(s[i]))) {
		unsigned d = (unsigned)hex_value((unsigned char)s[i]);
		if (v > (UINT64_MAX - d) / base)
			overflow = 1;
		else
			v = v * base + d;
		i++;
	}
	t->kind = T_NUMBER;
	t->text = s + start;
	t->len = i - start;
	if (i < p->len && is_alnum((unsigned char)s[i])) {
		while (i < p->len && is_alnum((unsigned char)s[i]))
			i++;
		t->len = i - start;
		fail(p, t->line, "malformed number %s", describe(t, (char[64]){ 0 }, 64));
	}
	if (i == digits)
		fail(p, t->line, "'0x' must be followed by hexadecimal digits");
	if (base == 10 && s[start] == '0' && t->len > 1)
		fail(p, t->line, "number %s has a leading zero: write decimal numbers without one, "
		     "or hexadecimal ones with 0x", describe(t, (char[64]){ 0 }, 64));
	if (overflow)
		fail(p, t->line, "number %s is too large", describe(t, (char[64]){ 0 }, 64));
	t->value = v;
	p->pos = i;
}

/* Move to the next token. */
static void next(struct parser *p)
{
	struct token *t = &p->tok;
	p->prev_line = t->line;
	skip_space(p);
	t->line = p->line;
	t->text = p->src + p->pos;
	t->len = 0;
	if (p->pos >= p->len) {
		t->kind = T_EOF;
		return;
	}
	unsigned char c = (unsigned char)p->src[p->pos];
	if (is_alpha(c)) {
		size_t i = p->pos;
		while (i < p->len && is_alnum((unsigned char)p->src[i]))
			i++;
		t->kind = T_IDENT;
		t->len = i - p->pos;
		p->pos = i;
		if (t->len > IDL_MAX_NAME)
			fail(p, t->line, "name %s is longer than %d characters",
			     describe(t, (char[64]){ 0 }, 64), IDL_MAX_NAME);
	} else if (is_digit(c)) {
		lex_number(p, t);
	} else if (c != 0 && strchr("{}()[]<>,;", c)) {
		t->kind = T_PUNCT;
		t->punct = (char)c;
		t->len = 1;
		p->pos++;
	} else if (c == '/' && p->pos + 1 < p->len && p->src[p->pos + 1] == '*') {
		fail(p, t->line, "'/*' comments are not supported: use // or # to the end of the line");
	} else if (c > ' ' && c < 0x7f) {
		fail(p, t->line, "unexpected character '%c'", c);
	} else {
		fail(p, t->line, "unexpected byte 0x%02x (only ASCII text is allowed outside comments)", c);
	}
}

static int is_punct(const struct parser *p, char c)
{
	return p->tok.kind == T_PUNCT && p->tok.punct == c;
}

static int is_word(const struct parser *p, const char *w)
{
	return p->tok.kind == T_IDENT && p->tok.len == strlen(w) && !memcmp(p->tok.text, w, p->tok.len);
}

/* The line to report an unexpected token at: its own, or at the end of
 * the file the line of the last token. */
static unsigned here(const struct parser *p)
{
	return p->tok.kind == T_EOF && p->prev_line ? p->prev_line : p->tok.line;
}

/* "found X", adding X's line when it is not the line reported. */
static const char *found(const struct parser *p, unsigned line, char *out, size_t size)
{
	char what[64];
	describe(&p->tok, what, sizeof what);
	if (p->tok.line != line && p->tok.kind != T_EOF)
		snprintf(out, size, "found %s on line %u", what, p->tok.line);
	else
		snprintf(out, size, "found %s", what);
	return out;
}

/* Consume the punctuation c, or fail at the line of the token before it
 * (where the missing character belongs); after says what it follows. */
static void expect_after(struct parser *p, char c, const char *after)
{
	if (!is_punct(p, c)) {
		char f[96];
		fail(p, p->prev_line, "expected '%c' after %s, %s", c, after, found(p, p->prev_line, f, sizeof f));
	}
	next(p);
}

/* ---- names ------------------------------------------------------------- */

/* Names a parameter may not keep in the generated C get a '_' appended
 * there: C keywords (also C23's; a method named so gets the '_' only as
 * a member of the ops struct), the <stdint.h> types, and what the
 * generated functions declare or call where the parameters are in scope.
 * Keep in step with gen.c and docs/idl.md. */
static const char *const c_keywords[] = {
	"auto", "break", "case", "char", "const", "continue", "default", "do", "double",
	"else", "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long",
	"register", "restrict", "return", "short", "signed", "sizeof", "static", "struct",
	"switch", "typedef", "union", "unsigned", "void", "volatile", "while",
	"asm", "typeof", "bool", "true", "false", "nullptr", "alignas", "alignof",
	"constexpr", "static_assert", "thread_local", "typeof_unqual",
};
static const char *const generated_names[] = {
	"int8_t", "int16_t", "int32_t", "int64_t", "uint8_t", "uint16_t", "uint32_t",
	"uint64_t", "size_t",
	"port", "m", "n", "err", "at", "send", "recv", "words", "status",
	"ops", "ctx", "req", "reply", "recv_slots", "badge",
	"ipc_call", "ipc_set_send_caps", "ipc_set_recv_slots", "slot_alloc",
};
#define COUNT(a) (sizeof (a) / sizeof *(a))

/* libipc's function prefixes, and the generated code's own (idl_). */
static const char *const reserved_interfaces[] = {
	"ipc", "sys", "slot", "object", "page", "process", "thread", "debug",
	"cspace", "libipc", "alloc", "server", "berth", "idl",
};

static int in_list(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(name, list[i]))
			return 1;
	return 0;
}

/* Consume a name into out; what says whose ("method name"). */
static unsigned take_name(struct parser *p, const char *what, char out[IDL_MAX_NAME + 1])
{
	char f[96];
	if (p->tok.kind != T_IDENT)
		fail(p, here(p), "expected %s %s, %s", strchr("aeiou", what[0]) ? "an" : "a", what,
		     found(p, here(p), f, sizeof f));
	unsigned line = p->tok.line;
	memcpy(out, p->tok.text, p->tok.len);
	out[p->tok.len] = '\0';
	if (!(out[0] >= 'a' && out[0] <= 'z'))
		fail(p, line, "%s '%s' must start with a lower-case letter", what, out);
	for (const char *c = out; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			fail(p, line, "%s '%s' has an upper-case letter: names are lower case "
			     "(a-z, 0-9 and '_')", what, out);
	if (out[p->tok.len - 1] == '_')
		fail(p, line, "%s '%s' ends in '_', which is kept for generated names", what, out);
	next(p);
	return line;
}

/* ---- the grammar ------------------------------------------------------- */

static const char types_list[] = "u8 u16 u32 u64 i8 i16 i32 i64, T[N], string<N>, bytes<N>, cap";

/* Consume a number in [min, max]; what names it for messages. */
static uint64_t take_count(struct parser *p, const char *what)
{
	char f[96];
	if (p->tok.kind != T_NUMBER)
		fail(p, here(p), "expected %s, %s", what, found(p, here(p), f, sizeof f));
	uint64_t v = p->tok.value;
	if (v == 0)
		fail(p, p->tok.line, "%s must be at least 1", what);
	next(p);
	return v;
}

/* Words a parameter takes at most; 0 if that is more than 64 (numbers are
 * checked before they are multiplied, so nothing overflows). */
static unsigned param_words(const struct idl_param *a)
{
	uint64_t size = idl_scalars[a->scalar].size;
	switch (a->kind) {
	case KIND_SCALAR:
		return 1;
	case KIND_ARRAY:
		return a->count > IDL_MAX_WORDS * 8 / size ? 0 : (unsigned)((a->count * size + 7) / 8);
	case KIND_STRING:
	case KIND_BYTES:
		return a->count > IDL_MAX_WORDS * 8 ? 0 : (unsigned)(1 + (a->count + 7) / 8);
	default:
		return 0;
	}
}

/* The type as written, for messages and generated comments. */
static void type_text(const struct idl_param *a, char *out, size_t size)
{
	const char *s = idl_scalars[a->scalar].name;
	unsigned long long n = (unsigned long long)a->count;
	switch (a->kind) {
	case KIND_SCALAR: snprintf(out, size, "%s", s); break;
	case KIND_ARRAY: snprintf(out, size, "%s[%llu]", s, n); break;
	case KIND_STRING: snprintf(out, size, "string<%llu>", n); break;
	case KIND_BYTES: snprintf(out, size, "bytes<%llu>", n); break;
	default: snprintf(out, size, "cap"); break;
	}
}

/* param := ("in" | "out" | "inout") type name */
static void parse_param(struct parser *p, struct idl_method *m)
{
	char f[96], t[64];
	struct idl_param a;
	memset(&a, 0, sizeof a);
	a.line = p->tok.line;
	if (m->nparams == IDL_MAX_PARAMS)
		fail(p, a.line, "method '%s' has more than %d parameters", m->name, IDL_MAX_PARAMS);

	if (is_word(p, "in"))
		a.dir = DIR_IN;
	else if (is_word(p, "out"))
		a.dir = DIR_OUT;
	else if (is_word(p, "inout"))
		a.dir = DIR_INOUT;
	else
		fail(p, here(p), "expected a direction ('in', 'out' or 'inout') to start a parameter "
		     "of '%s', %s", m->name, found(p, here(p), f, sizeof f));
	next(p);

	if (p->tok.kind != T_IDENT)
		fail(p, here(p), "expected a type (%s), %s", types_list, found(p, here(p), f, sizeof f));
	unsigned type_line = p->tok.line;
	a.kind = KIND_CAP;
	for (unsigned s = 0; s < SCALAR_COUNT; s++)
		if (is_word(p, idl_scalars[s].name)) {
			a.kind = KIND_SCALAR;
			a.scalar = s;
		}
	if (a.kind == KIND_SCALAR) {
		next(p);
		if (is_punct(p, '[')) {
			next(p);
			a.kind = KIND_ARRAY;
			a.count = take_count(p, "the array length");
			expect_after(p, ']', "the array length");
		}
	} else if (is_word(p, "string") || is_word(p, "bytes")) {
		a.kind = is_word(p, "string") ? KIND_STRING : KIND_BYTES;
		next(p);
		expect_after(p, '<', a.kind == KIND_STRING ? "'string'" : "'bytes'");
		a.count = take_count(p, a.kind == KIND_STRING ? "the string's bound" : "the bytes' bound");
		expect_after(p, '>', "the bound");
	} else if (is_word(p, "cap")) {
		next(p);
	} else {
		fail(p, type_line, "unknown type %s (the types are %s)", describe(&p->tok, f, sizeof f), types_list);
	}
	take_name(p, "parameter name", a.name);
	type_text(&a, t, sizeof t);

	/* the name must be unique, also against the length of a bytes parameter */
	char len_name[IDL_MAX_NAME + 8];
	for (unsigned i = 0; i < m->nparams; i++) {
		const struct idl_param *b = &m->params[i];
		if (!strcmp(a.name, b->name))
			fail(p, a.line, "parameter '%s' of '%s' is already declared on line %u", a.name, m->name, b->line);
		snprintf(len_name, sizeof len_name, "%s_len", b->name);
		if (b->kind == KIND_BYTES && !strcmp(a.name, len_name))
			fail(p, a.line, "parameter '%s' has the name the generated C gives the length of "
			     "bytes parameter '%s' (line %u)", a.name, b->name, b->line);
		snprintf(len_name, sizeof len_name, "%s_len", a.name);
		if (a.kind == KIND_BYTES && !strcmp(b->name, len_name))
			fail(p, a.line, "the generated C names the length of bytes parameter '%s' %s, "
			     "the name of the parameter on line %u", a.name, len_name, b->line);
	}

	if (a.kind == KIND_CAP) {
		if (a.dir == DIR_INOUT)
			fail(p, a.line, "cap '%s' is inout: a capability travels one way, so it is 'in' or 'out'", a.name);
		unsigned *caps = a.dir == DIR_IN ? &m->in_caps : &m->out_caps;
		if (++*caps > IDL_MAX_CAPS)
			fail(p, a.line, "method '%s' has more than %d '%s' caps (a message carries at most %d)",
			     m->name, IDL_MAX_CAPS, a.dir == DIR_IN ? "in" : "out", IDL_MAX_CAPS);
	} else {
		a.words = param_words(&a);
		unsigned limit = a.dir == DIR_IN ? IDL_MAX_WORDS : IDL_MAX_WORDS - 1;
		if (a.words == 0 || a.words > limit)
			fail(p, a.line, "parameter '%s' (%s) cannot fit in a message: %s holds %u words%s",
			     a.name, t, a.dir == DIR_IN ? "a request" : "a reply", limit,
			     a.dir == DIR_IN ? "" : " besides its status word");
		if (a.dir & DIR_IN)
			m->request_words += a.words;
		if (a.dir & DIR_OUT)
			m->reply_words += a.words;
	}

	/* a C name that cannot collide with the generated code's */
	if (in_list(a.name, c_keywords, COUNT(c_keywords)) ||
	    in_list(a.name, generated_names, COUNT(generated_names)) || !strncmp(a.name, "idl_", 4))
		snprintf(a.cname, sizeof a.cname, "%s_", a.name);
	else
		snprintf(a.cname, sizeof a.cname, "%s", a.name);

	m->params = idl_xrealloc(m->params, (m->nparams + 1) * sizeof *m->params);
	m->params[m->nparams++] = a;
}

/* method := name "(" [param {"," param}] ")" ";" */
static void parse_method(struct parser *p)
{
	struct idl_interface *ifc = p->ifc;
	struct idl_method m;
	char f[96];
	memset(&m, 0, sizeof m);
	m.line = p->tok.line;
	if (p->tok.kind != T_IDENT)
		fail(p, m.line, "expected a method name or '}', %s", found(p, m.line, f, sizeof f));
	take_name(p, "method name", m.name);
	if (ifc->nmethods == IDL_MAX_METHODS)
		fail(p, m.line, "interface '%s' has more than %d methods", ifc->name, IDL_MAX_METHODS);
	for (unsigned i = 0; i < ifc->nmethods; i++)
		if (!strcmp(ifc->methods[i].name, m.name))
			fail(p, m.line, "method '%s' is already declared on line %u", m.name, ifc->methods[i].line);
	if (!strcmp(m.name, "dispatch"))
		fail(p, m.line, "a method cannot be called 'dispatch': %s_dispatch is the server's dispatcher",
		     ifc->name);
	m.number = ifc->nmethods + 1;
	m.reply_words = 1;
	snprintf(m.member, sizeof m.member, in_list(m.name, c_keywords, COUNT(c_keywords)) ? "%s_" : "%s", m.name);

	/* the method goes into the interface now, so an error frees its parameters */
	ifc->methods = idl_xrealloc(ifc->methods, (ifc->nmethods + 1) * sizeof *ifc->methods);
	struct idl_method *mp = &ifc->methods[ifc->nmethods++];
	*mp = m;

	char after[IDL_MAX_NAME + 32];
	snprintf(after, sizeof after, "method name '%s'", m.name);
	expect_after(p, '(', after);
	if (!is_punct(p, ')')) {
		for (;;) {
			parse_param(p, mp);
			if (is_punct(p, ',')) {
				next(p);
				continue;
			}
			if (is_punct(p, ')'))
				break;
			const struct idl_param *last = &mp->params[mp->nparams - 1];
			fail(p, p->prev_line, "expected ',' or ')' after parameter '%s' of '%s', %s",
			     last->name, m.name, found(p, p->prev_line, f, sizeof f));
		}
	}
	next(p);
	snprintf(after, sizeof after, "the parameters of '%s'", m.name);
	expect_after(p, ';', after);

	if (mp->request_words > IDL_MAX_WORDS)
		fail(p, m.line, "method '%s' does not fit in a message: its request takes up to %u words, "
		     "a message holds %d", m.name, mp->request_words, IDL_MAX_WORDS);
	if (mp->reply_words > IDL_MAX_WORDS)
		fail(p, m.line, "method '%s' does not fit in a message: its reply takes up to %u words "
		     "with the status word, a message holds %d", m.name, mp->reply_words, IDL_MAX_WORDS);
}

/* file := "interface" name number "{" {method} "}" [";"] */
static void parse_file(struct parser *p)
{
	struct idl_interface *ifc = p->ifc;
	char f[96];
	next(p);
	if (p->tok.kind == T_EOF)
		fail(p, 1, "%s: expected 'interface NAME NUMBER { ... }'",
		     p->len == 0 ? "empty file" : "no interface in the file");
	if (!is_word(p, "interface"))
		fail(p, p->tok.line, "expected 'interface', %s", found(p, p->tok.line, f, sizeof f));
	ifc->line = p->tok.line;
	next(p);
	take_name(p, "interface name", ifc->name);
	if (in_list(ifc->name, reserved_interfaces, COUNT(reserved_interfaces)))
		fail(p, ifc->line, "interface name '%s' is reserved: the generated functions %s_... would "
		     "collide with %s's", ifc->name, ifc->name, strcmp(ifc->name, "idl") ? "libipc" : "idlc");
	for (size_t i = 0; ifc->name[i]; i++)
		ifc->upper[i] = (char)(ifc->name[i] >= 'a' && ifc->name[i] <= 'z' ? ifc->name[i] - 32 : ifc->name[i]);

	if (p->tok.kind != T_NUMBER)
		fail(p, p->prev_line, "expected the interface number (1..%d) after '%s', %s",
		     IDL_MAX_INTERFACE, ifc->name, found(p, p->prev_line, f, sizeof f));
	if (p->tok.value < 1 || p->tok.value > IDL_MAX_INTERFACE)
		fail(p, p->tok.line, "interface number %llu is out of range: it must be 1..%d",
		     (unsigned long long)p->tok.value, IDL_MAX_INTERFACE);
	ifc->number = (unsigned)p->tok.value;
	next(p);
	unsigned brace = p->tok.line;
	expect_after(p, '{', "the interface number");

	while (!is_punct(p, '}')) {
		if (p->tok.kind == T_EOF)
			fail(p, brace, "the '{' of interface '%s' is never closed (the file ends on line %u)",
			     ifc->name, p->tok.line);
		parse_method(p);
	}
	next(p);
	if (is_punct(p, ';'))
		next(p);
	if (is_word(p, "interface"))
		fail(p, p->tok.line, "a second interface: a file holds one interface");
	if (p->tok.kind != T_EOF)
		fail(p, p->tok.line, "unexpected %s after the end of interface '%s'",
		     describe(&p->tok, f, sizeof f), ifc->name);
	if (ifc->nmethods == 0)
		fail(p, ifc->line, "interface '%s' has no methods", ifc->name);
}

int idl_parse(const char *path, const char *text, size_t len, struct idl_interface *ifc, FILE *err)
{
	struct parser p;
	memset(&p, 0, sizeof p);
	memset(ifc, 0, sizeof *ifc);
	p.path = path;
	p.src = text;
	p.len = len;
	p.line = 1;
	p.ifc = ifc;
	p.err = err;
	if (setjmp(p.fail))
		return 1;
	parse_file(&p);
	return 0;
}

void idl_free(struct idl_interface *ifc)
{
	for (unsigned i = 0; i < ifc->nmethods; i++)
		free(ifc->methods[i].params);
	free(ifc->methods);
	memset(ifc, 0, sizeof *ifc);
}
