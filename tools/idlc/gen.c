/* idlc: the code generator.  From a parsed interface it writes the header
 * (labels, client prototypes, the ops struct), the client stubs and the
 * server's dispatcher.  The encoding is in docs/idl.md; the generated
 * code is meant to be read, so it is laid out as a person would write it. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "idlc.h"

#define WIDTH 100   /* wrap generated lines longer than this */

/* ---- text helpers ------------------------------------------------------ */

struct list {
	char **s;
	unsigned n;
};

static void __attribute__((format(printf, 2, 3))) list_add(struct list *l, const char *fmt, ...)
{
	struct buf b = { 0 };
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	l->s = idl_xrealloc(l->s, (l->n + 1) * sizeof *l->s);
	l->s[l->n++] = b.data;
}

static void list_free(struct list *l)
{
	for (unsigned i = 0; i < l->n; i++)
		free(l->s[i]);
	free(l->s);
	l->s = NULL;
	l->n = 0;
}

/* The column after s, starting from col (tabs are 8 wide). */
static unsigned advance(unsigned col, const char *s)
{
	for (; *s; s++)
		col = *s == '\t' ? (col / 8 + 1) * 8 : *s == '\n' ? 0 : col + 1;
	return col;
}

/* first, then the items separated by sep and a space, then last.  A line
 * that would grow past WIDTH breaks before an item and goes on after
 * cont.  An empty list gives first and last only. */
static void wrapped(struct buf *b, const char *first, const struct list *l, const char *sep,
                    const char *last, const char *cont)
{
	buf_printf(b, "%s", first);
	unsigned col = advance(0, first);
	for (unsigned i = 0; i < l->n; i++) {
		/* this item, and what follows it on its line */
		unsigned need = (unsigned)strlen(l->s[i]);
		need += i + 1 < l->n ? (unsigned)strlen(sep) : (unsigned)strcspn(last, "\n");
		if (i > 0) {
			if (col + 1 + need > WIDTH) {
				buf_printf(b, "\n%s", cont);
				col = advance(0, cont);
			} else {
				buf_printf(b, " ");
				col++;
			}
		}
		buf_printf(b, "%s%s", l->s[i], i + 1 < l->n ? sep : "");
		col = advance(col, l->s[i]) + (i + 1 < l->n ? (unsigned)strlen(sep) : 0);
	}
	buf_printf(b, "%s", last);
}

/* Spaces as wide as s (after the tabs it starts with), for continuation
 * lines that line up after an opening parenthesis. */
static char *align_under(const char *s)
{
	size_t tabs = strspn(s, "\t"), width = strlen(s) - tabs;
	char *out = idl_xrealloc(NULL, tabs + width + 1);
	memset(out, '\t', tabs);
	memset(out + tabs, ' ', width);
	out[tabs + width] = '\0';
	return out;
}

/* A prototype, call or condition: first(items...)last, wrapped and
 * aligned under the character after first. */
static void aligned(struct buf *b, const char *first, const struct list *l, const char *sep,
                    const char *last)
{
	char *cont = align_under(first);
	wrapped(b, first, l, sep, last, cont);
	free(cont);
}

/* The label macro of m: CONSOLE_WRITE_LABEL. */
static void label_name(const struct idl_interface *ifc, const struct idl_method *m, char *out, size_t size)
{
	snprintf(out, size, "%s_%s_LABEL", ifc->upper, m->name);
	for (; *out; out++)
		if (*out >= 'a' && *out <= 'z')
			*out = (char)(*out - 'a' + 'A');
}

/* ---- parameters -------------------------------------------------------- */

static const char *dir_name(unsigned dir)
{
	return dir == DIR_IN ? "in" : dir == DIR_OUT ? "out" : "inout";
}

/* "in bytes<400> data", as in the .idl file. */
static void param_text(const struct idl_param *a, char *out, size_t size)
{
	const char *s = idl_scalars[a->scalar].name, *d = dir_name(a->dir);
	unsigned long long n = (unsigned long long)a->count;
	switch (a->kind) {
	case KIND_SCALAR: snprintf(out, size, "%s %s %s", d, s, a->name); break;
	case KIND_ARRAY: snprintf(out, size, "%s %s[%llu] %s", d, s, n, a->name); break;
	case KIND_STRING: snprintf(out, size, "%s string<%llu> %s", d, n, a->name); break;
	case KIND_BYTES: snprintf(out, size, "%s bytes<%llu> %s", d, n, a->name); break;
	default: snprintf(out, size, "%s cap %s", d, a->name); break;
	}
}

/* The C parameters for a: the same shapes in stubs and handlers. */
static void c_params(const struct idl_param *a, struct list *l)
{
	const char *t = idl_scalars[a->scalar].ctype, *c = a->cname;
	unsigned long long n = (unsigned long long)a->count;
	int in = a->dir == DIR_IN;
	switch (a->kind) {
	case KIND_SCALAR:
		list_add(l, in ? "%s %s" : "%s *%s", t, c);
		break;
	case KIND_ARRAY:
		list_add(l, in ? "const %s %s[%llu]" : "%s %s[%llu]", t, c, n);
		break;
	case KIND_STRING:
		if (in)
			list_add(l, "const char *%s", c);
		else
			list_add(l, "char %s[%llu + 1]", c, n);
		break;
	case KIND_BYTES:
		if (in) {
			list_add(l, "const uint8_t *%s", c);
			list_add(l, "uint32_t %s_len", a->name);
		} else {
			list_add(l, "uint8_t %s[%llu]", c, n);
			list_add(l, "uint32_t *%s_len", a->name);
		}
		break;
	default:
		list_add(l, in ? "uint64_t %s" : "uint64_t *%s", c);
	}
}

/* Bytes an array's elements take. */
static unsigned long long array_bytes(const struct idl_param *a)
{
	return (unsigned long long)a->count * idl_scalars[a->scalar].size;
}

/* Whether any parameter of the interface matches. */
static int any_param(const struct idl_interface *ifc, int (*pred)(const struct idl_param *))
{
	for (unsigned i = 0; i < ifc->nmethods; i++)
		for (unsigned j = 0; j < ifc->methods[i].nparams; j++)
			if (pred(&ifc->methods[i].params[j]))
				return 1;
	return 0;
}

static int has_words(const struct idl_param *a) { return a->kind != KIND_SCALAR && a->kind != KIND_CAP; }
static int is_string(const struct idl_param *a) { return a->kind == KIND_STRING; }
static int is_out_cap(const struct idl_param *a) { return a->kind == KIND_CAP && a->dir == DIR_OUT; }

/* Parameters of m in direction dir that take words in a message. */
static unsigned count_words(const struct idl_method *m, unsigned dir)
{
	unsigned n = 0;
	for (unsigned i = 0; i < m->nparams; i++)
		if ((m->params[i].dir & dir) && m->params[i].kind != KIND_CAP)
			n++;
	return n;
}

/* "/\* write(in bytes<400> data, out u32 written) *\/" and the lines after */
static void signature_comment(struct buf *b, const char *indent, const struct idl_method *m,
                              const char *more)
{
	struct list l = { 0 };
	char first[IDL_MAX_NAME + 16], text[IDL_MAX_NAME + 64], last[256];
	for (unsigned i = 0; i < m->nparams; i++) {
		param_text(&m->params[i], text, sizeof text);
		list_add(&l, "%s", text);
	}
	snprintf(first, sizeof first, "%s/* %s(", indent, m->name);
	snprintf(last, sizeof last, ")%s */\n", more);
	char *cont = align_under(first);
	size_t tabs = strspn(cont, "\t");
	cont[tabs + 1] = '*';   /* " *" continues the comment */
	wrapped(b, first, &l, ",", last, cont);
	free(cont);
	list_free(&l);
}

/* ---- the header -------------------------------------------------------- */

/* "long console_write(uint64_t port, ...)" without the ending */
static void client_prototype(struct buf *b, const struct idl_interface *ifc, const struct idl_method *m,
                             const char *end)
{
	struct list l = { 0 };
	char first[2 * IDL_MAX_NAME + 16];
	list_add(&l, "uint64_t port");
	for (unsigned i = 0; i < m->nparams; i++)
		c_params(&m->params[i], &l);
	snprintf(first, sizeof first, "long %s_%s(", ifc->name, m->name);
	aligned(b, first, &l, ",", end);
	list_free(&l);
}

static void dispatch_prototype(struct buf *b, const struct idl_interface *ifc, const char *end)
{
	struct list l = { 0 };
	char first[IDL_MAX_NAME + 16];
	list_add(&l, "const struct %s_ops *ops", ifc->name);
	list_add(&l, "void *ctx");
	list_add(&l, "const struct msg *req");
	list_add(&l, "const uint64_t *recv_slots");
	list_add(&l, "struct msg *reply");
	snprintf(first, sizeof first, "int %s_dispatch(", ifc->name);
	aligned(b, first, &l, ",", end);
	list_free(&l);
}

/* The interface as data, only for a program that defines IDL_FUZZ_TABLE
 * (the IDL fuzzer, tests/system/idl_fuzz.c): each method's label and its
 * parameters in order, with their kinds and bounds, so a fuzzer can build
 * valid requests and change one field.  Nothing else sees it. */
static void gen_fuzz_table(struct buf *b, const struct idl_interface *ifc)
{
	static const char *const kinds[] = { "IDL_FZ_SCALAR", "IDL_FZ_ARRAY", "IDL_FZ_STRING",
	                                     "IDL_FZ_BYTES", "IDL_FZ_CAP" };
	const char *n = ifc->name, *u = ifc->upper;
	buf_printf(b, "\n/* The interface as data for fuzzers (tests/system/idl_fuzz.c), only\n"
	           " * where IDL_FUZZ_TABLE is defined: each method's label and parameters,\n"
	           " * with their direction (1 in, 2 out, 3 inout), kind, element size in\n"
	           " * bytes and bound (N of T[N], string<N>, bytes<N>). */\n");
	buf_printf(b, "#ifdef IDL_FUZZ_TABLE\n#ifndef IDL_FUZZ_TYPES\n#define IDL_FUZZ_TYPES\n"
	           "enum { IDL_FZ_SCALAR, IDL_FZ_ARRAY, IDL_FZ_STRING, IDL_FZ_BYTES, IDL_FZ_CAP };\n"
	           "struct idl_fuzz_param {\n\tconst char *name;\n\tuint8_t dir, kind, size, is_signed;\n"
	           "\tuint16_t count;\n};\n"
	           "struct idl_fuzz_method {\n\tconst char *name;\n\tuint32_t label;\n\tuint32_t nparams;\n"
	           "\tconst struct idl_fuzz_param *params;\n};\n"
	           "struct idl_fuzz_interface {\n\tconst char *name;\n\tuint32_t number;\n\tuint32_t nmethods;\n"
	           "\tconst struct idl_fuzz_method *methods;\n};\n#endif\n");
	for (unsigned i = 0; i < ifc->nmethods; i++) {
		const struct idl_method *m = &ifc->methods[i];
		if (!m->nparams)
			continue;
		buf_printf(b, "static const struct idl_fuzz_param %s_fuzz_%s[] __attribute__((unused)) = {\n", n,
		           m->name);
		for (unsigned j = 0; j < m->nparams; j++) {
			const struct idl_param *a = &m->params[j];
			unsigned size = a->kind == KIND_SCALAR || a->kind == KIND_ARRAY ? idl_scalars[a->scalar].size
			                : a->kind == KIND_CAP ? 0 : 1;
			unsigned sgn = (a->kind == KIND_SCALAR || a->kind == KIND_ARRAY) && idl_scalars[a->scalar].is_signed;
			buf_printf(b, "\t{ \"%s\", %u, %s, %u, %u, %llu },\n", a->name, a->dir, kinds[a->kind], size, sgn,
			           (unsigned long long)(a->kind == KIND_SCALAR || a->kind == KIND_CAP ? 0 : a->count));
		}
		buf_printf(b, "};\n");
	}
	buf_printf(b, "static const struct idl_fuzz_method %s_fuzz_methods[] __attribute__((unused)) = {\n", n);
	for (unsigned i = 0; i < ifc->nmethods; i++) {
		const struct idl_method *m = &ifc->methods[i];
		char label[2 * IDL_MAX_NAME + 16], params[2 * IDL_MAX_NAME + 16];
		label_name(ifc, m, label, sizeof label);
		if (m->nparams)
			snprintf(params, sizeof params, "%s_fuzz_%s", n, m->name);
		else
			snprintf(params, sizeof params, "0");
		buf_printf(b, "\t{ \"%s\", %s, %u, %s },\n", m->name, label, m->nparams, params);
	}
	buf_printf(b, "};\n");
	buf_printf(b, "static const struct idl_fuzz_interface %s_fuzz __attribute__((unused)) = {\n"
	           "\t\"%s\", %s_INTERFACE, %u, %s_fuzz_methods\n};\n#endif\n", n, n, u, ifc->nmethods, n);
}

static void gen_header(struct buf *b, const struct idl_interface *ifc, const char *source)
{
	const char *n = ifc->name, *u = ifc->upper;
	buf_printf(b, "/* %s.h: generated by idlc from %s.  Do not edit: change the\n"
	           " * .idl file (docs/idl.md describes the language and this code). */\n", n, source);
	buf_printf(b, "#ifndef IDL_%s_H\n#define IDL_%s_H\n\n", u, u);
	buf_printf(b, "#include <stdint.h>\n#include <berth/errors.h>\n#include <libipc/ipc.h>\n\n");
	buf_printf(b, "#define %s_INTERFACE %u\n\n", u, ifc->number);
	buf_printf(b, "/* Message labels: the interface number << 8 | the method's number. */\n");
	for (unsigned i = 0; i < ifc->nmethods; i++) {
		char label[2 * IDL_MAX_NAME + 16];
		label_name(ifc, &ifc->methods[i], label, sizeof label);
		buf_printf(b, "#define %s ((%s_INTERFACE << 8) | %u)\n", label, u, ifc->methods[i].number);
	}
	buf_printf(b, "\n/* Names, for programs that print labels (the shell's trace show):\n"
	           " * { %s_METHOD_NAMES }[method number - 1]. */\n", u);
	buf_printf(b, "#define %s_INTERFACE_NAME \"%s\"\n#define %s_METHOD_COUNT %u\n#define %s_METHOD_NAMES", u, n,
	           u, ifc->nmethods, u);
	for (unsigned i = 0; i < ifc->nmethods; i++)
		buf_printf(b, "%s \\\n\t\"%s\"", i ? "," : "", ifc->methods[i].name);
	buf_printf(b, "\n");

	buf_printf(b, "\n/*\n"
	           " * Client stubs.  Each calls the server through port (a send right to\n"
	           " * it) and returns the error of ipc_call if that fails, E_BAD_ARG for an\n"
	           " * input longer than its bound, E_SLOT_FULL if no slot is free for a\n"
	           " * capability to receive, E_BAD_MSG for a malformed reply, and otherwise\n"
	           " * the server's status.  Outputs are written only when that is 0.\n"
	           " */\n");
	for (unsigned i = 0; i < ifc->nmethods; i++) {
		const struct idl_method *m = &ifc->methods[i];
		char more[96];
		snprintf(more, sizeof more, ":\n * request up to %u word%s, reply up to %u.",
		         m->request_words, m->request_words == 1 ? "" : "s", m->reply_words);
		buf_printf(b, "\n");
		signature_comment(b, "", m, more);
		client_prototype(b, ifc, m, ");\n");
	}

	buf_printf(b, "\n/*\n"
	           " * The server's handlers.  Each gets ctx, the badge of the send right the\n"
	           " * caller used, then the parameters as the stubs take them: inputs by value\n"
	           " * or as pointers into the dispatcher's buffers, outputs as pointers to\n"
	           " * fill (zeroed first).  A handler returns 0 to send its outputs, or an\n"
	           " * error status to send alone.  A NULL handler answers E_BAD_SYSCALL.\n"
	           " * An in cap arrives as the slot it landed in; for an out cap the\n"
	           " * handler stores a slot of its own to send.\n"
	           " */\n");
	buf_printf(b, "struct %s_ops {\n", n);
	for (unsigned i = 0; i < ifc->nmethods; i++) {
		const struct idl_method *m = &ifc->methods[i];
		struct list l = { 0 };
		char first[IDL_MAX_NAME + 32];
		if (i > 0)
			buf_printf(b, "\n");
		signature_comment(b, "\t", m, "");
		list_add(&l, "void *ctx");
		list_add(&l, "uint64_t badge");
		for (unsigned j = 0; j < m->nparams; j++)
			c_params(&m->params[j], &l);
		snprintf(first, sizeof first, "\tlong (*%s)(", m->member);
		aligned(b, first, &l, ",", ");\n");
		list_free(&l);
	}
	buf_printf(b, "};\n\n");

	buf_printf(b, "/* If req's label is one of this interface's: check the message, call\n"
	           " * the handler, and build *reply (label = the request's label); return 1.\n"
	           " * Otherwise return 0 and touch nothing.  recv_slots[i] is the slot where\n"
	           " * the request's i-th capability landed.  A malformed request is answered\n"
	           " * with status E_BAD_MSG and no handler is called.  Out caps are named\n"
	           " * with ipc_set_send_caps. */\n");
	dispatch_prototype(b, ifc, ");\n");
	gen_fuzz_table(b, ifc);
	buf_printf(b, "\n#endif\n");
}

/* ---- helpers in the .c files ------------------------------------------- */

static void gen_helpers(struct buf *b, const struct idl_interface *ifc, int client)
{
	int words = any_param(ifc, has_words), strings = any_param(ifc, is_string);
	int out_caps = client && any_param(ifc, is_out_cap);
	if (!words && !out_caps)
		return;
	buf_printf(b, "/* ---- helpers (the same in every generated file) ---- */\n\n");
	if (words)
		buf_printf(b,
		           "/* How many words len bytes take. */\n"
		           "static inline uint64_t idl_words(uint64_t len)\n"
		           "{\n"
		           "\treturn (len + 7) / 8;\n"
		           "}\n\n"
		           "/* Put len bytes into the words from w on, little-endian; the unused\n"
		           " * bytes of the last word are 0. */\n"
		           "static inline void idl_put(uint64_t *w, const void *p, uint64_t len)\n"
		           "{\n"
		           "\tif (len != 0) {\n"
		           "\t\tw[(len - 1) / 8] = 0;\n"
		           "\t\tmemcpy(w, p, len);\n"
		           "\t}\n"
		           "}\n\n"
		           "/* Take len bytes out of the words from w on. */\n"
		           "static inline void idl_get(void *p, const uint64_t *w, uint64_t len)\n"
		           "{\n"
		           "\tif (len != 0)\n"
		           "\t\tmemcpy(p, w, len);\n"
		           "}\n\n");
	if (strings)
		buf_printf(b,
		           "/* The length of string s, looking at no more than max bytes: max if\n"
		           " * there is no NUL among them. */\n"
		           "static inline uint64_t idl_strnlen(const char *s, uint64_t max)\n"
		           "{\n"
		           "\tuint64_t len = 0;\n"
		           "\twhile (len < max && s[len] != '\\0')\n"
		           "\t\tlen++;\n"
		           "\treturn len;\n"
		           "}\n\n"
		           "/* 1 if a NUL is among the len bytes in the words from w on. */\n"
		           "static inline int idl_has_nul(const uint64_t *w, uint64_t len)\n"
		           "{\n"
		           "\tconst unsigned char *s = (const unsigned char *)w;\n"
		           "\tfor (uint64_t i = 0; i < len; i++)\n"
		           "\t\tif (s[i] == 0)\n"
		           "\t\t\treturn 1;\n"
		           "\treturn 0;\n"
		           "}\n\n");
	if (out_caps)
		buf_printf(b,
		           "/* Give back slots[first..count): the slots no capability landed in. */\n"
		           "static inline void idl_free_slots(const uint64_t *slots, uint64_t first, unsigned count)\n"
		           "{\n"
		           "\tfor (uint64_t i = first; i < count; i++)\n"
		           "\t\tif (slots[i] != 0)\n"
		           "\t\t\tslot_free(slots[i]);\n"
		           "}\n\n");
}

/* "\tif (a || b ...)" and end: the conditions joined by ||, wrapped. */
static void emit_if(struct buf *b, const struct list *conds, const char *end)
{
	aligned(b, "\tif (", conds, " ||", end);
}


/*
 * The checks for one parameter of a received message (client: the reply,
 * server: the request), in the words of struct msg *msg from word n on:
 * its length within its bound and the words received, strings without a
 * NUL, scalars in their type's range.  at[k] gets its first word.
 */
static void gen_check(struct buf *b, const struct idl_param *a, const char *msg, unsigned k,
                      const char *fail)
{
	struct list c = { 0 };
	char text[IDL_MAX_NAME + 64];
	const struct idl_scalar_info *s = &idl_scalars[a->scalar];
	unsigned long long n = (unsigned long long)a->count;
	param_text(a, text, sizeof text);
	buf_printf(b, "\t/* %s */\n", text);
	switch (a->kind) {
	case KIND_SCALAR:
		list_add(&c, "n >= words");
		if (s->is_signed && s->size < 8) {
			list_add(&c, "(int64_t)%s->w[n] < %s", msg, s->cmin);
			list_add(&c, "(int64_t)%s->w[n] > %s", msg, s->cmax);
		} else if (s->size < 8) {
			list_add(&c, "%s->w[n] > %s", msg, s->cmax);
		}
		break;
	case KIND_ARRAY:
		list_add(&c, "words - n < %u", a->words);
		break;
	default:
		list_add(&c, "n >= words");
		list_add(&c, "%s->w[n] > %llu", msg, n);
		list_add(&c, "idl_words(%s->w[n]) > words - n - 1", msg);
		if (a->kind == KIND_STRING)
			list_add(&c, "idl_has_nul(&%s->w[n + 1], %s->w[n])", msg, msg);
	}
	emit_if(b, &c, ")\n");
	buf_printf(b, "\t\treturn %s;\n", fail);
	buf_printf(b, "\tat[%u] = n;\n", k);
	if (a->kind == KIND_SCALAR)
		buf_printf(b, "\tn += 1;\n");
	else if (a->kind == KIND_ARRAY)
		buf_printf(b, "\tn += %u;\n", a->words);
	else
		buf_printf(b, "\tn += 1 + idl_words(%s->w[n]);\n", msg);
	list_free(&c);
}

/*
 * Encode one parameter into msg (a struct msg, or "m." / "reply->" style
 * prefix) at word n.  value is how the code reaches it: "x" or "*x".
 */
static void gen_put(struct buf *b, const struct idl_param *a, const char *w, int deref)
{
	char text[IDL_MAX_NAME + 64];
	const char *c = a->cname, *star = deref ? "*" : "";
	param_text(a, text, sizeof text);
	buf_printf(b, "\t/* %s */\n", text);
	switch (a->kind) {
	case KIND_SCALAR:
		buf_printf(b, "\t%s[n++] = (uint64_t)%s%s;\n", w, star, c);
		break;
	case KIND_ARRAY:
		buf_printf(b, "\tidl_put(&%s[n], %s, %llu);\n", w, c, array_bytes(a));
		buf_printf(b, "\tn += %u;\n", a->words);
		break;
	case KIND_STRING:
		buf_printf(b, "\t%s[n] = idl_strnlen(%s, %llu);\n", w, c, (unsigned long long)a->count);
		buf_printf(b, "\tidl_put(&%s[n + 1], %s, %s[n]);\n", w, c, w);
		buf_printf(b, "\tn += 1 + idl_words(%s[n]);\n", w);
		break;
	case KIND_BYTES:
		buf_printf(b, "\t%s[n] = %s%s_len;\n", w, star, a->name);
		buf_printf(b, "\tidl_put(&%s[n + 1], %s, %s[n]);\n", w, c, w);
		buf_printf(b, "\tn += 1 + idl_words(%s[n]);\n", w);
		break;
	default:
		break;
	}
}

/* ---- the client -------------------------------------------------------- */

/* The function that checks a reply to m. */
static void gen_reply_check(struct buf *b, const struct idl_method *m, const char *label)
{
	unsigned outs = count_words(m, DIR_OUT), k = 0;
	if (outs)
		buf_printf(b, "/* Check a reply to %s.  Returns 0 for a well-formed success, with at[]\n"
		           " * saying where each output starts; otherwise the server's error status,\n"
		           " * or E_BAD_MSG for a malformed reply. */\n", m->name);
	else
		buf_printf(b, "/* Check a reply to %s.  Returns 0 for a well-formed success; otherwise\n"
		           " * the server's error status, or E_BAD_MSG for a malformed reply. */\n", m->name);
	if (outs)
		buf_printf(b, "static long idl_reply_%s(const struct msg *m, unsigned at[%u])\n", m->name, outs);
	else
		buf_printf(b, "static long idl_reply_%s(const struct msg *m)\n", m->name);
	buf_printf(b, "{\n"
	           "\tuint64_t words = MSG_WORDS(m->info);\n"
	           "\tunsigned n = 1;\n"
	           "\tlong status;\n\n");
	buf_printf(b, "\tif (MSG_LABEL(m->info) != %s || words < 1)\n"
	           "\t\treturn E_BAD_MSG;\n", label);
	buf_printf(b, "\tstatus = (long)m->w[0];\n"
	           "\tif (status != 0)\n"
	           "\t\treturn words == 1 && MSG_CAPS(m->info) == 0 ? status : E_BAD_MSG;\n");
	for (unsigned i = 0; i < m->nparams; i++) {
		const struct idl_param *a = &m->params[i];
		if ((a->dir & DIR_OUT) && a->kind != KIND_CAP)
			gen_check(b, a, "m", k++, "E_BAD_MSG");
	}
	buf_printf(b, "\tif (n != words || MSG_CAPS(m->info) != %u)\n"
	           "\t\treturn E_BAD_MSG;\n"
	           "\treturn 0;\n"
	           "}\n\n", m->out_caps);
}

/* The stub for m. */
static void gen_stub(struct buf *b, const struct idl_interface *ifc, const struct idl_method *m,
                     const char *label)
{
	unsigned outs = count_words(m, DIR_OUT), k, j;
	char text[IDL_MAX_NAME + 64];
	struct list conds = { 0 };

	signature_comment(b, "", m, "");
	client_prototype(b, ifc, m, ")\n{\n");
	buf_printf(b, "\tstruct msg m;\n\tunsigned n = 0;\n");
	if (outs)
		buf_printf(b, "\tunsigned at[%u];\n", outs);
	if (m->in_caps)
		buf_printf(b, "\tuint64_t send[%u];\n", m->in_caps);
	if (m->out_caps)
		buf_printf(b, "\tuint64_t recv[%u];\n", m->out_caps);
	buf_printf(b, "\tlong err;\n\n");

	/* inputs that may be too long */
	for (unsigned i = 0; i < m->nparams; i++) {
		const struct idl_param *a = &m->params[i];
		unsigned long long n = (unsigned long long)a->count;
		if (!(a->dir & DIR_IN))
			continue;
		if (a->kind == KIND_STRING)
			list_add(&conds, "idl_strnlen(%s, %llu + 1) > %llu", a->cname, n, n);
		else if (a->kind == KIND_BYTES)
			list_add(&conds, "%s%s_len > %llu", a->dir == DIR_INOUT ? "*" : "", a->name, n);
	}
	if (conds.n) {
		buf_printf(b, "\t/* Inputs longer than their bounds cannot be sent. */\n");
		emit_if(b, &conds, ")\n");
		buf_printf(b, "\t\treturn E_BAD_ARG;\n\n");
	}
	list_free(&conds);

	if (count_words(m, DIR_IN) || m->in_caps)
		buf_printf(b, "\t/* The request: the in and inout parameters, in order. */\n");
	else
		buf_printf(b, "\t/* The request: just the label. */\n");
	j = 0;
	for (unsigned i = 0; i < m->nparams; i++) {
		const struct idl_param *a = &m->params[i];
		if (!(a->dir & DIR_IN))
			continue;
		if (a->kind == KIND_CAP) {
			param_text(a, text, sizeof text);
			buf_printf(b, "\t/* %s: in the capability list, not the words */\n", text);
			buf_printf(b, "\tsend[%u] = %s;\n", j++, a->cname);
		} else {
			gen_put(b, a, "m.w", a->dir == DIR_INOUT);
		}
	}
	buf_printf(b, "\tm.info = MSG_INFO(%s, n, %u);\n\n", label, m->in_caps);

	if (m->out_caps) {
		buf_printf(b, "\t/* Free slots for the capabilities the reply brings. */\n");
		for (j = 0; j < m->out_caps; j++) {
			buf_printf(b, "\trecv[%u] = slot_alloc();\n", j);
			list_add(&conds, "recv[%u] == 0", j);
		}
		if (m->out_caps == 1) {
			emit_if(b, &conds, ")\n");
			buf_printf(b, "\t\treturn E_SLOT_FULL;\n\n");
		} else {
			emit_if(b, &conds, ") {\n");
			buf_printf(b, "\t\tidl_free_slots(recv, 0, %u);\n\t\treturn E_SLOT_FULL;\n\t}\n\n",
			           m->out_caps);
		}
		list_free(&conds);
	}

	if (m->in_caps || m->out_caps) {
		buf_printf(b, "\t/* The call.  The IPC buffer names the capabilities to send and the\n"
		           "\t * slots to receive into only for its duration. */\n");
		if (m->in_caps)
			buf_printf(b, "\tipc_set_send_caps(send, %u);\n", m->in_caps);
		if (m->out_caps)
			buf_printf(b, "\tipc_set_recv_slots(recv, %u);\n", m->out_caps);
		buf_printf(b, "\terr = ipc_call(port, &m);\n");
		if (m->in_caps)
			buf_printf(b, "\tipc_set_send_caps(0, 0);\n");
		if (m->out_caps)
			buf_printf(b, "\tipc_set_recv_slots(0, 0);\n");
	} else {
		buf_printf(b, "\t/* The call. */\n\terr = ipc_call(port, &m);\n");
	}
	if (m->out_caps) {
		buf_printf(b, "\tif (err != 0) {\n"
		           "\t\tidl_free_slots(recv, 0, %u);   /* nothing arrived */\n"
		           "\t\treturn err;\n"
		           "\t}\n", m->out_caps);
		buf_printf(b, "\terr = idl_reply_%s(&m%s);\n", m->name, outs ? ", at" : "");
		buf_printf(b, "\tif (err != 0) {\n"
		           "\t\t/* caps that did arrive stay in their slots; free the others */\n"
		           "\t\tidl_free_slots(recv, MSG_CAPS(m.info), %u);\n"
		           "\t\treturn err;\n"
		           "\t}\n\n", m->out_caps);
	} else {
		buf_printf(b, "\tif (err == 0)\n\t\terr = idl_reply_%s(&m%s);\n", m->name, outs ? ", at" : "");
		buf_printf(b, "\tif (err != 0)\n\t\treturn err;\n\n");
	}

	if (outs || m->out_caps)
		buf_printf(b, "\t/* A well-formed success: write the outputs. */\n");
	k = j = 0;
	for (unsigned i = 0; i < m->nparams; i++) {
		const struct idl_param *a = &m->params[i];
		const char *c = a->cname, *t = idl_scalars[a->scalar].ctype;
		if (!(a->dir & DIR_OUT))
			continue;
		switch (a->kind) {
		case KIND_SCALAR:
			buf_printf(b, "\t*%s = (%s)m.w[at[%u]];\n", c, t, k++);
			break;
		case KIND_ARRAY:
			buf_printf(b, "\tidl_get(%s, &m.w[at[%u]], %llu);\n", c, k++, array_bytes(a));
			break;
		case KIND_STRING:
			buf_printf(b, "\tidl_get(%s, &m.w[at[%u] + 1], m.w[at[%u]]);\n", c, k, k);
			buf_printf(b, "\t%s[m.w[at[%u]]] = '\\0';\n", c, k);
			k++;
			break;
		case KIND_BYTES:
			buf_printf(b, "\t*%s_len = (uint32_t)m.w[at[%u]];\n", a->name, k);
			buf_printf(b, "\tidl_get(%s, &m.w[at[%u] + 1], *%s_len);\n", c, k, a->name);
			k++;
			break;
		default:
			buf_printf(b, "\t*%s = recv[%u];\n", c, j++);
		}
	}
	buf_printf(b, "\treturn 0;\n}\n\n");
}

static void gen_client(struct buf *b, const struct idl_interface *ifc, const char *source)
{
	buf_printf(b, "/* %s_client.c: generated by idlc from %s.  Do not edit.\n"
	           " * The client stubs: each checks its inputs, packs them into a message,\n"
	           " * calls the server with ipc_call, checks the whole reply, and only then\n"
	           " * writes the outputs. */\n", ifc->name, source);
	buf_printf(b, "#include <stdint.h>\n#include <berth/errors.h>\n#include <libipc/libipc.h>\n"
	           "#include <libipc/ipc.h>\n#include \"%s.h\"\n\n", ifc->name);
	gen_helpers(b, ifc, 1);
	for (unsigned i = 0; i < ifc->nmethods; i++) {
		const struct idl_method *m = &ifc->methods[i];
		char label[2 * IDL_MAX_NAME + 16];
		label_name(ifc, m, label, sizeof label);
		buf_printf(b, "/* ---- %s ---- */\n\n", m->name);
		gen_reply_check(b, m, label);
		gen_stub(b, ifc, m, label);
	}
	b->len--;   /* no blank line at the end */
	b->data[b->len] = '\0';
}

/* ---- the server -------------------------------------------------------- */

/* The local variable(s) holding parameter a in the server. */
static void server_local(struct buf *b, const struct idl_param *a)
{
	const char *t = idl_scalars[a->scalar].ctype, *c = a->cname;
	unsigned long long n = (unsigned long long)a->count;
	int out = a->dir == DIR_OUT, inout = a->dir == DIR_INOUT;
	switch (a->kind) {
	case KIND_SCALAR:
		buf_printf(b, out ? "\t%s %s = 0;\n" : "\t%s %s;\n", t, c);
		break;
	case KIND_ARRAY:
		buf_printf(b, out ? "\t%s %s[%llu] = { 0 };\n" : "\t%s %s[%llu];\n", t, c, n);
		break;
	case KIND_STRING:
		buf_printf(b, out ? "\tchar %s[%llu + 1] = \"\";\n" : "\tchar %s[%llu + 1];\n", c, n);
		break;
	case KIND_BYTES:
		buf_printf(b, out || inout ? "\tuint8_t %s[%llu] = { 0 };\n" : "\tuint8_t %s[%llu];\n", c, n);
		buf_printf(b, out ? "\tuint32_t %s_len = 0;\n" : "\tuint32_t %s_len;\n", a->name);
		break;
	default:
		buf_printf(b, out ? "\tuint64_t %s = 0;\n" : "\tuint64_t %s;\n", c);
	}
}

static void gen_serve(struct buf *b, const struct idl_interface *ifc, const struct idl_method *m,
                      const char *label)
{
	unsigned ins = count_words(m, DIR_IN), k, j;
	struct list l = { 0 };
	char first[IDL_MAX_NAME + 32];

	signature_comment(b, "", m, ":\n * check the request, call the handler, build the reply.  Returns 0 when\n"
	                  " * *reply is built, else the status to answer with alone.");
	list_add(&l, "const struct %s_ops *ops", ifc->name);
	list_add(&l, "void *ctx");
	list_add(&l, "const struct msg *req");
	list_add(&l, "const uint64_t *recv_slots");
	list_add(&l, "struct msg *reply");
	snprintf(first, sizeof first, "static long idl_serve_%s(", m->name);
	aligned(b, first, &l, ",", ")\n{\n");
	list_free(&l);

	buf_printf(b, "\tuint64_t words = MSG_WORDS(req->info);\n\tunsigned n = 0;\n");
	if (ins)
		buf_printf(b, "\tunsigned at[%u];\n", ins);
	if (m->out_caps)
		buf_printf(b, "\tuint64_t send[%u];\n", m->out_caps);
	buf_printf(b, "\tlong status;\n");
	for (unsigned i = 0; i < m->nparams; i++)
		server_local(b, &m->params[i]);
	buf_printf(b, "\n");
	if (!m->in_caps)
		buf_printf(b, "\t(void)recv_slots;   /* no capabilities come with this request */\n");
	buf_printf(b, "\tif (!ops->%s)\n\t\treturn E_BAD_SYSCALL;\n\n", m->member);

	if (ins)
		buf_printf(b, "\t/* Check the request: each length within its bound and the words\n"
		           "\t * received, and exactly the words and caps its contents need. */\n");
	else
		buf_printf(b, "\t/* Check the request: no words, %s. */\n",
		           m->in_caps ? "and exactly its caps" : "no caps");
	k = 0;
	for (unsigned i = 0; i < m->nparams; i++) {
		const struct idl_param *a = &m->params[i];
		if ((a->dir & DIR_IN) && a->kind != KIND_CAP)
			gen_check(b, a, "req", k++, "E_BAD_MSG");
	}
	if (m->in_caps)
		buf_printf(b, "\tif (n != words || MSG_CAPS(req->info) != %u || !recv_slots)\n", m->in_caps);
	else
		buf_printf(b, "\tif (n != words || MSG_CAPS(req->info) != 0)\n");
	buf_printf(b, "\t\treturn E_BAD_MSG;\n\n");

	if (ins || m->in_caps)
		buf_printf(b, "\t/* Unpack the inputs into our own variables. */\n");
	k = j = 0;
	for (unsigned i = 0; i < m->nparams; i++) {
		const struct idl_param *a = &m->params[i];
		const char *c = a->cname, *t = idl_scalars[a->scalar].ctype;
		if (!(a->dir & DIR_IN))
			continue;
		switch (a->kind) {
		case KIND_SCALAR:
			buf_printf(b, "\t%s = (%s)req->w[at[%u]];\n", c, t, k++);
			break;
		case KIND_ARRAY:
			buf_printf(b, "\tidl_get(%s, &req->w[at[%u]], %llu);\n", c, k++, array_bytes(a));
			break;
		case KIND_STRING:
			buf_printf(b, "\tidl_get(%s, &req->w[at[%u] + 1], req->w[at[%u]]);\n", c, k, k);
			buf_printf(b, "\t%s[req->w[at[%u]]] = '\\0';\n", c, k);
			k++;
			break;
		case KIND_BYTES:
			buf_printf(b, "\t%s_len = (uint32_t)req->w[at[%u]];\n", a->name, k);
			buf_printf(b, "\tidl_get(%s, &req->w[at[%u] + 1], %s_len);\n", c, k, a->name);
			k++;
			break;
		default:
			buf_printf(b, "\t%s = recv_slots[%u];\n", c, j++);
		}
	}
	if (ins || m->in_caps)
		buf_printf(b, "\n");

	/* the call */
	list_add(&l, "ctx");
	list_add(&l, "req->badge");
	for (unsigned i = 0; i < m->nparams; i++) {
		const struct idl_param *a = &m->params[i];
		int ptr = a->dir != DIR_IN && (a->kind == KIND_SCALAR || a->kind == KIND_CAP);
		list_add(&l, "%s%s", ptr ? "&" : "", a->cname);
		if (a->kind == KIND_BYTES)
			list_add(&l, "%s%s_len", a->dir == DIR_IN ? "" : "&", a->name);
	}
	snprintf(first, sizeof first, "\tstatus = ops->%s(", m->member);
	aligned(b, first, &l, ",", ");\n");
	list_free(&l);
	buf_printf(b, "\tif (status != 0)\n\t\treturn status;\n\n");

	for (unsigned i = 0; i < m->nparams; i++) {
		const struct idl_param *a = &m->params[i];
		unsigned long long n = (unsigned long long)a->count;
		if (!(a->dir & DIR_OUT))
			continue;
		if (a->kind == KIND_STRING)
			list_add(&l, "idl_strnlen(%s, %llu + 1) > %llu", a->cname, n, n);
		else if (a->kind == KIND_BYTES)
			list_add(&l, "%s_len > %llu", a->name, n);
		else if (a->kind == KIND_CAP)
			list_add(&l, "%s == 0", a->cname);
	}
	if (l.n) {
		buf_printf(b, "\t/* What the handler gave back must fit before any of it is sent. */\n");
		emit_if(b, &l, ")\n");
		buf_printf(b, "\t\treturn E_BAD_MSG;\n\n");
	}
	list_free(&l);

	if (count_words(m, DIR_OUT) || m->out_caps)
		buf_printf(b, "\t/* The reply: status 0, then the out and inout parameters. */\n");
	else
		buf_printf(b, "\t/* The reply: status 0 alone. */\n");
	buf_printf(b, "\tn = 0;\n\treply->w[n++] = 0;\n");
	j = 0;
	for (unsigned i = 0; i < m->nparams; i++) {
		const struct idl_param *a = &m->params[i];
		if (!(a->dir & DIR_OUT))
			continue;
		if (a->kind == KIND_CAP) {
			char text[IDL_MAX_NAME + 64];
			param_text(a, text, sizeof text);
			buf_printf(b, "\t/* %s: in the capability list, not the words */\n", text);
			buf_printf(b, "\tsend[%u] = %s;\n", j++, a->cname);
		} else {
			gen_put(b, a, "reply->w", 0);
		}
	}
	if (m->out_caps)
		buf_printf(b, "\tipc_set_send_caps(send, %u);\n", m->out_caps);
	buf_printf(b, "\treply->info = MSG_INFO(%s, n, %u);\n\treturn 0;\n}\n\n", label, m->out_caps);
}

static void gen_server(struct buf *b, const struct idl_interface *ifc, const char *source)
{
	buf_printf(b, "/* %s_server.c: generated by idlc from %s.  Do not edit.\n"
	           " * The dispatcher: it checks every request completely before a handler\n"
	           " * sees it, calls the handler, and builds the reply. */\n", ifc->name, source);
	buf_printf(b, "#include <stdint.h>\n#include <berth/errors.h>\n#include <libipc/libipc.h>\n"
	           "#include <libipc/ipc.h>\n#include \"%s.h\"\n\n", ifc->name);
	gen_helpers(b, ifc, 0);
	char (*labels)[2 * IDL_MAX_NAME + 16] = idl_xrealloc(NULL, ifc->nmethods * sizeof *labels);
	for (unsigned i = 0; i < ifc->nmethods; i++) {
		const struct idl_method *m = &ifc->methods[i];
		label_name(ifc, m, labels[i], sizeof labels[i]);
		gen_serve(b, ifc, m, labels[i]);
	}

	buf_printf(b, "/* The request's label chooses the method; see %s.h. */\n", ifc->name);
	dispatch_prototype(b, ifc, ")\n{\n");
	buf_printf(b, "\tuint64_t label = MSG_LABEL(req->info);\n\tlong status;\n\n\tswitch (label) {\n");
	for (unsigned i = 0; i < ifc->nmethods; i++)
		buf_printf(b, "\tcase %s:\n\t\tstatus = idl_serve_%s(ops, ctx, req, recv_slots, reply);\n"
		           "\t\tbreak;\n", labels[i], ifc->methods[i].name);
	buf_printf(b, "\tdefault:\n"
	           "\t\treturn 0;   /* not one of ours: touch nothing */\n"
	           "\t}\n"
	           "\tif (status != 0) {\n"
	           "\t\t/* An error: the status alone, no outputs and no caps. */\n"
	           "\t\treply->w[0] = (uint64_t)status;\n"
	           "\t\treply->info = MSG_INFO(label, 1, 0);\n"
	           "\t}\n"
	           "\treturn 1;\n"
	           "}\n");
	free(labels);
}

void idl_generate(const struct idl_interface *ifc, const char *source,
                  struct buf *header, struct buf *client, struct buf *server)
{
	gen_header(header, ifc, source);
	gen_client(client, ifc, source);
	gen_server(server, ifc, source);
}
