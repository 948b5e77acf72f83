/* idlc, Berth's interface compiler: what its parts share.  The language
 * and the code it generates are described in docs/idl.md. */
#ifndef IDLC_H
#define IDLC_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Limits of the message format (libipc/include/libipc/ipc.h). */
#define IDL_MAX_WORDS 64          /* MSG_MAX_WORDS */
#define IDL_MAX_CAPS 3            /* MSG_MAX_CAPS, per direction */

/* Limits of the language. */
#define IDL_MAX_INTERFACE 65535   /* interface numbers are 1..65535 */
#define IDL_MAX_METHODS 255       /* methods are numbered 1..255 */
#define IDL_MAX_PARAMS 255        /* more could never fit in a message */
#define IDL_MAX_NAME 63           /* characters in a name */
#define IDL_MAX_FILE (1u << 20)   /* bytes in an .idl file */

/* Directions are bits: inout is both. */
enum idl_dir { DIR_IN = 1, DIR_OUT = 2, DIR_INOUT = 3 };

enum idl_kind {
	KIND_SCALAR,   /* u8 .. i64: one word */
	KIND_ARRAY,    /* T[N]: N elements packed into words */
	KIND_STRING,   /* string<N>: a length word, then the text */
	KIND_BYTES,    /* bytes<N>: a length word, then the bytes */
	KIND_CAP,      /* a capability: no words */
};

/* The scalar types, in the order of idl_scalars[]. */
enum idl_scalar { U8, U16, U32, U64, I8, I16, I32, I64, SCALAR_COUNT };

struct idl_scalar_info {
	const char *name;      /* in .idl files: "u8" */
	const char *ctype;     /* in C: "uint8_t" */
	unsigned size;         /* bytes */
	int is_signed;
	const char *cmin;      /* range macros from <stdint.h> ("" for u*) */
	const char *cmax;
};
extern const struct idl_scalar_info idl_scalars[SCALAR_COUNT];

struct idl_param {
	char name[IDL_MAX_NAME + 1];   /* as written */
	char cname[IDL_MAX_NAME + 2];  /* in the generated C: name, or name_ if reserved */
	unsigned line;
	unsigned dir;                  /* enum idl_dir */
	unsigned kind;                 /* enum idl_kind */
	unsigned scalar;               /* enum idl_scalar, for scalars and arrays */
	uint64_t count;                /* N of T[N], string<N>, bytes<N> */
	unsigned words;                /* the most words it takes in a message */
};

struct idl_method {
	char name[IDL_MAX_NAME + 1];
	char member[IDL_MAX_NAME + 2]; /* member of the ops struct: name, or name_ for a C keyword */
	unsigned line;
	unsigned number;               /* 1-based, in file order */
	struct idl_param *params;
	unsigned nparams;
	unsigned request_words;        /* the most words of a request */
	unsigned reply_words;          /* the most words of a reply, status included */
	unsigned in_caps, out_caps;
};

struct idl_interface {
	char name[IDL_MAX_NAME + 1];
	char upper[IDL_MAX_NAME + 1];  /* NAME in upper case, for macros */
	unsigned line;
	unsigned number;
	struct idl_method *methods;
	unsigned nmethods;
};

/* A growing text buffer; running out of memory ends the program. */
struct buf {
	char *data;
	size_t len, cap;
};
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void buf_free(struct buf *b);
void *idl_xrealloc(void *p, size_t size);

/* Parse text (len bytes, read from the file path).  On success fill *ifc
 * and return 0; on the first error print "path:line: error: ..." to err
 * and return 1.  Either way release *ifc with idl_free afterwards. */
int idl_parse(const char *path, const char *text, size_t len, struct idl_interface *ifc, FILE *err);
void idl_free(struct idl_interface *ifc);

/* Generate NAME.h, NAME_client.c and NAME_server.c for a parsed
 * interface; source names the .idl file in their opening comments. */
void idl_generate(const struct idl_interface *ifc, const char *source,
                  struct buf *header, struct buf *client, struct buf *server);

#endif
