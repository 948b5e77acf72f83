/* Host tests of the code idlc generates from idl/test_types.idl: calls
 * through the client stubs and the dispatcher over a loopback ipc_call
 * that moves messages the way the kernel does; malformed replies to the
 * stubs; malformed requests straight to the dispatcher.  The real libipc
 * headers are included; their inline assembly is never called here. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <berth/errors.h>
#include <libipc/ipc.h>
#include <libipc/libipc.h>
#include "test_types.h"
#include "unit.h"

/* ---- a stand-in for the kernel and libipc ------------------------------- */

#define NSLOTS 1024
#define FIRST_ALLOC 500        /* slot_alloc hands out slots from here */
#define PORT 7                 /* the client's send right to the server */
#define DEAD_PORT 8            /* calls on it fail with E_DEAD_PORT */
#define BADGE 0x5eed0001u      /* the badge the server sees for PORT */
#define GARBAGE 0xa5a5a5a5a5a5a5a5ull

/* Each thread's IPC buffer: the client's and the server's. */
struct buffer {
	uint64_t send_caps[MSG_MAX_CAPS], recv_slots[MSG_MAX_CAPS];
};
static struct buffer client_buf, server_buf, *current = &client_buf;

/* One CNode: the object each slot holds (0: empty), and which slots
 * slot_alloc has handed out. */
static uint64_t cspace[NSLOTS];
static unsigned char allocated[NSLOTS];
static unsigned slots_out, slot_limit = NSLOTS, bad_frees;

static const uint64_t server_slots[MSG_MAX_CAPS] = { 101, 102, 103 };

static struct test_types_ops ops;
static int calls_made, handler_calls;
static long fail_transport;             /* ipc_call fails with this if non-zero */
static void (*mangle_reply)(struct msg *reply);   /* changes the reply... */
static int mangle_sent;                  /* ...as the server sends it, else as received */
static struct msg last_request;          /* as the server received it */
static int handled;                      /* what the dispatcher returned */

void ipc_set_send_caps(const uint64_t *slots, unsigned n)
{
	for (unsigned i = 0; i < MSG_MAX_CAPS; i++)
		current->send_caps[i] = i < n ? slots[i] : 0;
}

void ipc_set_recv_slots(const uint64_t *slots, unsigned n)
{
	for (unsigned i = 0; i < MSG_MAX_CAPS; i++)
		current->recv_slots[i] = i < n ? slots[i] : 0;
}

uint64_t slot_alloc(void)
{
	for (uint64_t s = FIRST_ALLOC; s < slot_limit; s++)
		if (!allocated[s] && !cspace[s]) {
			allocated[s] = 1;
			slots_out++;
			return s;
		}
	return 0;
}

void slot_free(uint64_t s)
{
	if (s >= NSLOTS || !allocated[s] || cspace[s]) {
		bad_frees++;   /* not ours, or something still in it */
		return;
	}
	allocated[s] = 0;
	slots_out--;
}

/* Move a message from one side to the other as the kernel does: the
 * label, word count and cap count of info (flags cleared), the words, the
 * caps from the sender's send_caps into the receiver's recv_slots.  The
 * receiver's words past the count keep what they held before, except
 * words 0..3, which come in registers.  0 or the sender's error. */
static long transfer(const struct msg *from, const struct buffer *fb, struct msg *to,
                     const struct buffer *tb, uint64_t badge)
{
	uint64_t n = MSG_WORDS(from->info), k = MSG_CAPS(from->info);
	if (n > MSG_MAX_WORDS || k > MSG_MAX_CAPS)
		return E_BAD_MSG;
	for (uint64_t i = 0; i < k; i++) {
		if (fb->send_caps[i] >= NSLOTS || !cspace[fb->send_caps[i]])
			return E_BAD_MSG;
		if (!tb->recv_slots[i] || tb->recv_slots[i] >= NSLOTS || cspace[tb->recv_slots[i]])
			return E_RECV_SLOTS;
	}
	for (uint64_t i = 0; i < k; i++)
		cspace[tb->recv_slots[i]] = cspace[fb->send_caps[i]];   /* a copy */
	to->info = from->info & ~((uint64_t)0xf << 12);
	to->badge = badge;
	for (uint64_t i = 0; i < MSG_REG_WORDS; i++)
		to->w[i] = GARBAGE;
	memcpy(to->w, from->w, n * sizeof(uint64_t));
	return 0;
}

/* The call: the request to the server thread, its dispatcher, the reply
 * back (the server loop's E_BAD_SYSCALL for a label nobody knows). */
long ipc_call(uint64_t port, struct msg *m)
{
	struct msg req, reply;
	long err;
	calls_made++;
	if (fail_transport)
		return fail_transport;
	if (port != PORT)
		return E_BAD_CAP;
	memset(&req, 0xa5, sizeof req);
	memset(&reply, 0xa5, sizeof reply);
	server_buf = (struct buffer){ { 0 }, { 101, 102, 103 } };
	err = transfer(m, &client_buf, &req, &server_buf, BADGE);
	if (err)
		return err;
	last_request = req;

	current = &server_buf;
	handled = test_types_dispatch(&ops, NULL, &req, server_slots, &reply);
	current = &client_buf;
	if (!handled) {
		reply.info = MSG_INFO(MSG_LABEL(req.info), 1, 0);
		reply.w[0] = E_BAD_SYSCALL;
	}
	/* the server loop deletes what the handler left in its slots */
	for (unsigned i = 0; i < MSG_MAX_CAPS; i++)
		cspace[server_slots[i]] = 0;
	if (mangle_reply && mangle_sent)
		mangle_reply(&reply);
	/* a reply the kernel refuses leaves the caller with E_NO_REPLY */
	if (transfer(&reply, &server_buf, m, &client_buf, 0))
		return E_NO_REPLY;
	if (mangle_reply && !mangle_sent)
		mangle_reply(m);
	return 0;
}

/* ---- handlers ------------------------------------------------------------ */

/* What the last handler call received. */
static struct {
	uint64_t badge;
	uint8_t a; uint16_t b; uint32_t c; uint64_t d;
	int8_t e; int16_t f; int32_t g; int64_t h;
	char s[600];
	size_t s_len;
	uint8_t bytes[600];
	uint32_t bytes_len;
	uint64_t cap_objects[3];
	uint64_t cap_slots[3];
	uint32_t x;
} seen;
static long handler_status;    /* handlers return it (after filling outputs) */
static int bad_output;         /* handlers produce an output that cannot be sent */

static long h_scalars(void *ctx, uint64_t badge, uint8_t a, uint16_t b, uint32_t c, uint64_t d,
                      int8_t e, int16_t f, int32_t g, int64_t h, uint8_t *oa, uint16_t *ob,
                      uint32_t *oc, uint64_t *od, int8_t *oe, int16_t *of, int32_t *og, int64_t *oh)
{
	(void)ctx;
	handler_calls++;
	seen.badge = badge;
	seen.a = a, seen.b = b, seen.c = c, seen.d = d, seen.e = e, seen.f = f, seen.g = g, seen.h = h;
	*oa = a, *ob = b, *oc = c, *od = d, *oe = e, *of = f, *og = g, *oh = h;
	return handler_status;
}

static long h_inouts(void *ctx, uint64_t badge, uint8_t *a, uint16_t *b, uint32_t *c, uint64_t *d,
                     int8_t *e, int16_t *f, int32_t *g, int64_t *h)
{
	(void)ctx, (void)badge;
	handler_calls++;
	*a = (uint8_t)~*a, *b = (uint16_t)~*b, *c = ~*c, *d = ~*d;
	*e = (int8_t)~*e, *f = (int16_t)~*f, *g = ~*g, *h = ~*h;
	return handler_status;
}

static long h_arrays(void *ctx, uint64_t badge, const uint8_t a[3], const int16_t b[5],
                     const uint32_t c[2], const int64_t d[1], uint8_t oa[9], int32_t ob[3],
                     uint16_t io[7], int8_t one[1])
{
	(void)ctx, (void)badge;
	handler_calls++;
	for (int i = 0; i < 9; i++)
		oa[i] = (uint8_t)(a[i % 3] + i);
	ob[0] = b[0] + b[1];
	ob[1] = (int32_t)(c[0] - c[1]);
	ob[2] = (int32_t)(d[0] >> 32) + b[4];
	for (int i = 0; i < 7; i++)
		io[i] = (uint16_t)(io[i] * 3 + 1);
	one[0] = (int8_t)-one[0];
	return handler_status;
}

static long h_strings(void *ctx, uint64_t badge, const char *s, char o[16 + 1], char io[20 + 1])
{
	(void)ctx, (void)badge;
	handler_calls++;
	seen.s_len = strlen(s);
	memcpy(seen.s, s, seen.s_len + 1);
	size_t n = strlen(s), m = strlen(io);
	for (size_t i = 0; i < n; i++)
		o[i] = s[n - 1 - i];      /* o = s reversed */
	for (size_t i = 0; i < m; i++)
		if (io[i] >= 'a' && io[i] <= 'z')
			io[i] = (char)(io[i] - 32);
	if (bad_output)
		memset(o, 'x', 17);       /* no NUL within 16 + 1 */
	return handler_status;
}

static long h_blobs(void *ctx, uint64_t badge, const uint8_t *b, uint32_t b_len, uint8_t o[16],
                    uint32_t *o_len, uint8_t io[20], uint32_t *io_len)
{
	(void)ctx, (void)badge;
	handler_calls++;
	memcpy(seen.bytes, b, b_len);
	seen.bytes_len = b_len;
	for (uint32_t i = 0; i < b_len; i++)
		o[i] = (uint8_t)~b[b_len - 1 - i];
	*o_len = bad_output ? 17 : b_len;
	uint32_t old = *io_len;
	for (uint32_t i = 0; i < 20; i++)
		io[i] = (uint8_t)(i < old ? io[i] + 1u : 0xc0u + i);
	*io_len = 20 - old;
	return handler_status;
}

static long h_big_bytes(void *ctx, uint64_t badge, const uint8_t *data, uint32_t data_len,
                        uint8_t back[496], uint32_t *back_len)
{
	(void)ctx, (void)badge;
	handler_calls++;
	memcpy(seen.bytes, data, data_len);
	seen.bytes_len = data_len;
	*back_len = data_len < 496 ? data_len : 496;
	for (uint32_t i = 0; i < *back_len; i++)
		back[i] = data[i] ^ 0x5a;
	return handler_status;
}

static long h_big_string(void *ctx, uint64_t badge, const char *text, char back[496 + 1])
{
	(void)ctx, (void)badge;
	handler_calls++;
	seen.s_len = strlen(text);
	memcpy(seen.s, text, seen.s_len + 1);
	size_t n = seen.s_len < 496 ? seen.s_len : 496;
	memcpy(back, text + seen.s_len - n, n);   /* the last 496 characters */
	back[n] = '\0';
	return handler_status;
}

static long h_big_inout(void *ctx, uint64_t badge, char s[496 + 1])
{
	(void)ctx, (void)badge;
	handler_calls++;
	size_t n = strlen(s);
	for (size_t i = 0; i < n / 2; i++) {
		char t = s[i];
		s[i] = s[n - 1 - i];
		s[n - 1 - i] = t;
	}
	return handler_status;
}

static long h_big_arrays(void *ctx, uint64_t badge, const uint8_t a[512], uint64_t b[63])
{
	(void)ctx, (void)badge;
	handler_calls++;
	for (int i = 0; i < 63; i++)
		b[i] = a[i] * 0x0101010101010101ull + a[511 - i];
	return handler_status;
}

static long h_caps_in(void *ctx, uint64_t badge, uint64_t a, uint32_t x, uint64_t b, uint64_t c)
{
	(void)ctx, (void)badge;
	handler_calls++;
	seen.cap_slots[0] = a, seen.cap_slots[1] = b, seen.cap_slots[2] = c;
	for (int i = 0; i < 3; i++)
		seen.cap_objects[i] = seen.cap_slots[i] < NSLOTS ? cspace[seen.cap_slots[i]] : 0;
	seen.x = x;
	return handler_status;
}

/* The server's own slots holding objects to hand out. */
#define SERVER_CAP_A 201
#define SERVER_CAP_B 202
#define SERVER_CAP_C 203

static long h_caps_out(void *ctx, uint64_t badge, uint64_t *a, uint64_t *b, uint64_t *x, uint64_t *c)
{
	(void)ctx, (void)badge;
	handler_calls++;
	*a = SERVER_CAP_A, *b = SERVER_CAP_B, *c = SERVER_CAP_C;
	if (bad_output)
		*b = 0;
	*x = 0xfedcba9876543210ull;
	return handler_status;
}

static long h_caps_both(void *ctx, uint64_t badge, uint64_t give, int64_t *v, uint64_t *take,
                        const uint8_t *tag, uint32_t tag_len)
{
	(void)ctx, (void)badge;
	handler_calls++;
	seen.cap_slots[0] = give;
	seen.cap_objects[0] = cspace[give];
	memcpy(seen.bytes, tag, tag_len);
	seen.bytes_len = tag_len;
	*v = -*v;
	*take = SERVER_CAP_C;
	return handler_status;
}

static long h_ping(void *ctx, uint64_t badge)
{
	(void)ctx;
	handler_calls++;
	seen.badge = badge;
	return handler_status;
}

static const struct test_types_ops all_ops = {
	.scalars = h_scalars, .inouts = h_inouts, .arrays = h_arrays, .strings = h_strings,
	.blobs = h_blobs, .big_bytes = h_big_bytes, .big_string = h_big_string,
	.big_inout = h_big_inout, .big_arrays = h_big_arrays, .caps_in = h_caps_in,
	.caps_out = h_caps_out, .caps_both = h_caps_both, .ping = h_ping,
};

/* Start each case from the same state. */
static void reset(void)
{
	ops = all_ops;
	handler_status = 0;
	bad_output = 0;
	fail_transport = 0;
	mangle_reply = NULL;
	mangle_sent = 0;
	current = &client_buf;
	handler_calls = calls_made = 0;
	memset(&seen, 0, sizeof seen);
	cspace[SERVER_CAP_A] = 0xa000;
	cspace[SERVER_CAP_B] = 0xb000;
	cspace[SERVER_CAP_C] = 0xc000;
}

/* The stubs leave no capability or slot named in the IPC buffer. */
static int buffer_clear(void)
{
	for (int i = 0; i < MSG_MAX_CAPS; i++)
		if (client_buf.send_caps[i] || client_buf.recv_slots[i])
			return 0;
	return current == &client_buf;
}

/* ---- round trips ----------------------------------------------------------- */

struct scalars {
	uint8_t a; uint16_t b; uint32_t c; uint64_t d;
	int8_t e; int16_t f; int32_t g; int64_t h;
};

static long call_scalars(const struct scalars *in, struct scalars *out)
{
	return test_types_scalars(PORT, in->a, in->b, in->c, in->d, in->e, in->f, in->g, in->h,
	                          &out->a, &out->b, &out->c, &out->d, &out->e, &out->f, &out->g, &out->h);
}

static int same_scalars(const struct scalars *x, const struct scalars *y)
{
	return x->a == y->a && x->b == y->b && x->c == y->c && x->d == y->d &&
	       x->e == y->e && x->f == y->f && x->g == y->g && x->h == y->h;
}

static void test_scalars(void)
{
	static const struct scalars cases[] = {
		{ 0, 0, 0, 0, 0, 0, 0, 0 },
		{ UINT8_MAX, UINT16_MAX, UINT32_MAX, UINT64_MAX, INT8_MAX, INT16_MAX, INT32_MAX, INT64_MAX },
		{ 1, 2, 3, 4, INT8_MIN, INT16_MIN, INT32_MIN, INT64_MIN },
		{ 0x80, 0x8000, 0x80000000u, 0x8000000000000000ull, -1, -1, -1, -1 },
		{ 0x7f, 0x1234, 0xdeadbeef, 0x0123456789abcdefull, 1, -2, 0x12345678, -0x123456789abcdefll },
	};
	for (unsigned i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct scalars out;
		reset();
		memset(&out, 0x33, sizeof out);
		long r = call_scalars(&cases[i], &out);
		CHECK(r == 0 && handler_calls == 1, "scalars case %u: the call succeeds (%ld)", i, r);
		CHECK(seen.a == cases[i].a && seen.b == cases[i].b && seen.c == cases[i].c &&
		      seen.d == cases[i].d && seen.e == cases[i].e && seen.f == cases[i].f &&
		      seen.g == cases[i].g && seen.h == cases[i].h,
		      "scalars case %u: the handler sees every value the client sent", i);
		CHECK(same_scalars(&out, &cases[i]), "scalars case %u: every value comes back unchanged", i);
		CHECK(seen.badge == BADGE, "scalars case %u: the handler sees the caller's badge", i);
		CHECK(buffer_clear(), "scalars case %u: no caps or slots left named in the buffer", i);
	}

	/* the words on the wire: zero- and sign-extended */
	reset();
	struct scalars in = { 0xff, 0xffff, 0xffffffffu, 0, -1, -2, INT32_MIN, 5 }, out;
	call_scalars(&in, &out);
	const uint64_t *w = last_request.w;
	CHECK(MSG_WORDS(last_request.info) == 8 && MSG_CAPS(last_request.info) == 0 &&
	      MSG_LABEL(last_request.info) == TEST_TYPES_SCALARS_LABEL,
	      "the scalars request has the method's label, 8 words and no caps");
	CHECK(w[0] == 0xff && w[1] == 0xffff && w[2] == 0xffffffffu,
	      "unsigned scalars are zero-extended to a word");
	CHECK(w[4] == UINT64_MAX && w[5] == (uint64_t)-2 && w[6] == 0xffffffff80000000ull,
	      "signed scalars are sign-extended to a word");
	CHECK(TEST_TYPES_SCALARS_LABEL == (65535 << 8 | 1) && TEST_TYPES_PING_LABEL == (65535 << 8 | 13) &&
	      TEST_TYPES_INTERFACE == 65535, "labels are interface << 8 | method number");
}

static void test_inouts(void)
{
	struct { uint8_t a; uint16_t b; uint32_t c; uint64_t d; int8_t e; int16_t f; int32_t g; int64_t h; }
		v = { 0, UINT16_MAX, 0x12345678, UINT64_MAX, INT8_MIN, INT16_MAX, -1, INT64_MIN };
	reset();
	long r = test_types_inouts(PORT, &v.a, &v.b, &v.c, &v.d, &v.e, &v.f, &v.g, &v.h);
	CHECK(r == 0 && v.a == 0xff && v.b == 0 && v.c == ~0x12345678u && v.d == 0 &&
	      v.e == INT8_MAX && v.f == INT16_MIN && v.g == 0 && v.h == INT64_MAX,
	      "inout scalars go to the server and come back changed (%ld)", r);
	CHECK(last_request.w[4] == 0xffffffffffffff80ull && MSG_WORDS(last_request.info) == 8,
	      "inout scalars travel in the request too, sign-extended");
}

static void test_arrays(void)
{
	const uint8_t a[3] = { 1, 0xff, 0x80 };
	const int16_t b[5] = { -1, INT16_MIN, INT16_MAX, 0, 300 };
	const uint32_t c[2] = { 10, 0xffffffffu };
	const int64_t d[1] = { INT64_MIN };
	uint8_t oa[9];
	int32_t ob[3];
	uint16_t io[7] = { 0, 1, 2, 3, 4, 5, UINT16_MAX };
	int8_t one[1] = { -100 };
	reset();
	long r = test_types_arrays(PORT, a, b, c, d, oa, ob, io, one);
	int ok = r == 0;
	for (int i = 0; i < 9; i++)
		ok &= oa[i] == (uint8_t)(a[i % 3] + i);
	ok &= ob[0] == -1 + INT16_MIN && ob[1] == (int32_t)(10u - 0xffffffffu) &&
	      ob[2] == (int32_t)(INT64_MIN >> 32) + 300;
	for (int i = 0; i < 6; i++)
		ok &= io[i] == i * 3 + 1;
	ok &= io[6] == (uint16_t)(UINT16_MAX * 3 + 1) && one[0] == 100;
	CHECK(ok, "arrays of every size go in, out and inout unchanged (%ld)", r);
	/* u8[3] 1 word, i16[5] 2, u32[2] 1, i64[1] 1, inout u16[7] 2, i8[1] 1 */
	CHECK(MSG_WORDS(last_request.info) == 8, "array words: ceil(N * size / 8) each");
	CHECK(last_request.w[0] == 0x80ff01ull, "array elements are packed little-endian, padding 0");
	CHECK(last_request.w[1] == 0x00007fff8000ffffull && last_request.w[2] == 300,
	      "a 5-element i16 array takes 2 words, the last padded with 0");
}

static void test_strings(void)
{
	char o[17], io[21];
	const char *full16 = "abcdefghijklmnop";
	reset();
	strcpy(io, "mixed Case");
	long r = test_types_strings(PORT, full16, o, io);
	CHECK(r == 0 && !strcmp(o, "ponmlkjihgfedcba") && !strcmp(io, "MIXED CASE"),
	      "a full-length string goes in, out and inout (%ld)", r);
	CHECK(seen.s_len == 16 && !strcmp(seen.s, full16), "the handler gets it NUL-terminated");
	CHECK(last_request.w[0] == 16 && MSG_WORDS(last_request.info) == 1 + 2 + 1 + 2,
	      "a string is its length, then ceil(length / 8) words");

	reset();
	memset(o, 'z', sizeof o);
	io[0] = '\0';
	r = test_types_strings(PORT, "", o, io);
	CHECK(r == 0 && o[0] == '\0' && io[0] == '\0' && seen.s_len == 0,
	      "empty strings go in, out and inout (%ld)", r);
	CHECK(MSG_WORDS(last_request.info) == 2, "an empty string is one word, its length");

	reset();
	strcpy(io, "01234567890123456789");
	r = test_types_strings(PORT, "x", o, io);
	CHECK(r == 0 && !strcmp(io, "01234567890123456789") && !strcmp(o, "x"),
	      "an inout string of its full bound, 20");

	/* too long: E_BAD_ARG, and no call is made */
	reset();
	r = test_types_strings(PORT, "abcdefghijklmnopq", o, io);
	CHECK(r == E_BAD_ARG && calls_made == 0, "a 17-character string<16> is E_BAD_ARG, not sent");
	reset();
	memset(io, 'y', sizeof io);       /* no NUL within 20 + 1 */
	r = test_types_strings(PORT, "", o, io);
	CHECK(r == E_BAD_ARG && calls_made == 0, "an unterminated inout string is E_BAD_ARG, not sent");
}

static void test_blobs(void)
{
	uint8_t b[16], o[16], io[20];
	uint32_t o_len = 99, io_len;
	for (int i = 0; i < 16; i++)
		b[i] = (uint8_t)(i * 17);
	reset();
	io_len = 0;
	long r = test_types_blobs(PORT, b, 16, o, &o_len, io, &io_len);
	int ok = r == 0 && o_len == 16 && io_len == 20;
	for (int i = 0; i < 16; i++)
		ok &= (o[i] ^ b[15 - i]) == 0xff;
	for (int i = 0; i < 20; i++)
		ok &= io[i] == 0xc0 + i;
	CHECK(ok, "full-length bytes in and out, empty bytes inout that come back full (%ld)", r);
	CHECK(seen.bytes_len == 16 && !memcmp(seen.bytes, b, 16), "the handler sees the bytes sent");

	reset();
	io_len = 20;
	r = test_types_blobs(PORT, NULL, 0, o, &o_len, io, &io_len);
	ok = r == 0 && o_len == 0 && io_len == 0 && seen.bytes_len == 0;
	CHECK(ok, "empty bytes in and out, full bytes inout that come back empty (%ld)", r);

	reset();
	r = test_types_blobs(PORT, b, 17, o, &o_len, io, &io_len);
	CHECK(r == E_BAD_ARG && calls_made == 0, "17 bytes for a bytes<16> is E_BAD_ARG, not sent");
	io_len = 21;
	r = test_types_blobs(PORT, b, 1, o, &o_len, io, &io_len);
	CHECK(r == E_BAD_ARG && calls_made == 0, "an inout length past its bound is E_BAD_ARG, not sent");
}

static void test_big(void)
{
	static uint8_t data[504], back[496];
	static char text[505], sback[497], s[497];
	uint32_t back_len = 0;
	for (int i = 0; i < 504; i++) {
		data[i] = (uint8_t)(i * 7 + 3);
		text[i] = (char)('a' + i % 26);
	}
	reset();
	long r = test_types_big_bytes(PORT, data, 504, back, &back_len);
	int ok = r == 0 && back_len == 496;
	for (int i = 0; i < 496; i++)
		ok &= back[i] == (data[i] ^ 0x5a);
	CHECK(ok, "bytes<504> in and bytes<496> out: a 64-word request and a 64-word reply (%ld)", r);
	CHECK(MSG_WORDS(last_request.info) == 64 && seen.bytes_len == 504 && !memcmp(seen.bytes, data, 504),
	      "the 64-word request arrives whole");

	reset();
	r = test_types_big_string(PORT, text, sback);
	CHECK(r == 0 && strlen(sback) == 496 && !memcmp(sback, text + 8, 496) && seen.s_len == 504,
	      "string<504> in and string<496> out at full length (%ld)", r);

	reset();
	for (int i = 0; i < 496; i++)
		s[i] = (char)('A' + i % 26);
	s[496] = '\0';
	r = test_types_big_inout(PORT, s);
	ok = r == 0 && strlen(s) == 496;
	for (int i = 0; i < 496; i++)
		ok &= s[i] == 'A' + (495 - i) % 26;
	CHECK(ok && MSG_WORDS(last_request.info) == 63, "an inout string<496> at full length (%ld)", r);

	static uint8_t a[512];
	static uint64_t b[63];
	for (int i = 0; i < 512; i++)
		a[i] = (uint8_t)(255 - i);
	reset();
	r = test_types_big_arrays(PORT, a, b);
	ok = r == 0 && MSG_WORDS(last_request.info) == 64;
	for (int i = 0; i < 63; i++)
		ok &= b[i] == a[i] * 0x0101010101010101ull + a[511 - i];
	CHECK(ok, "u8[512] in and u64[63] out: 64 words each way (%ld)", r);
}

static void test_caps(void)
{
	/* the client's own slots with objects to send */
	cspace[10] = 0x1010, cspace[11] = 0x1111, cspace[12] = 0x1212;
	reset();
	long r = test_types_caps_in(PORT, 10, 0xabcdef, 11, 12);
	CHECK(r == 0 && MSG_CAPS(last_request.info) == 3 && MSG_WORDS(last_request.info) == 1,
	      "three caps in: the request carries 3 caps and 1 word (%ld)", r);
	CHECK(seen.cap_slots[0] == 101 && seen.cap_slots[1] == 102 && seen.cap_slots[2] == 103 &&
	      seen.cap_objects[0] == 0x1010 && seen.cap_objects[1] == 0x1111 &&
	      seen.cap_objects[2] == 0x1212 && seen.x == 0xabcdef,
	      "the handler gets each cap's receive slot, in order, and the word between them");
	CHECK(buffer_clear(), "the stub clears its send caps after the call");

	reset();
	unsigned before = slots_out;
	uint64_t a = 0, b = 0, c = 0, x = 0;
	r = test_types_caps_out(PORT, &a, &b, &x, &c);
	CHECK(r == 0 && a && b && c && cspace[a] == 0xa000 && cspace[b] == 0xb000 && cspace[c] == 0xc000 &&
	      x == 0xfedcba9876543210ull, "three caps out land in fresh slots the stub returns (%ld)", r);
	CHECK(slots_out == before + 3 && allocated[a] && allocated[b] && allocated[c],
	      "the stub took those slots with slot_alloc");
	CHECK(buffer_clear(), "the stub clears its receive slots after the call");

	reset();
	cspace[13] = 0x1313;
	int64_t v = INT64_MIN + 1;
	uint64_t take = 0;
	r = test_types_caps_both(PORT, 13, &v, &take, (const uint8_t *)"tag!", 4);
	CHECK(r == 0 && v == INT64_MAX && take && cspace[take] == 0xc000 && seen.cap_objects[0] == 0x1313 &&
	      seen.bytes_len == 4 && !memcmp(seen.bytes, "tag!", 4) && buffer_clear(),
	      "a cap each way with words in between (%ld)", r);

	/* failures give back every slot no cap landed in */
	reset();
	before = slots_out;
	handler_status = E_STATE;
	r = test_types_caps_out(PORT, &a, &b, &x, &c);
	CHECK(r == E_STATE && slots_out == before && bad_frees == 0,
	      "an error status: the stub frees the three receive slots");
	reset();
	fail_transport = E_DEAD_PORT;
	r = test_types_caps_out(PORT, &a, &b, &x, &c);
	CHECK(r == E_DEAD_PORT && slots_out == before && bad_frees == 0 && buffer_clear(),
	      "a transport error: returned as is, slots freed, buffer cleared");
	reset();
	slot_limit = NSLOTS;   /* two free slots, not three */
	for (uint64_t s = FIRST_ALLOC, free = 0; s < NSLOTS; s++)
		if (!allocated[s] && !cspace[s] && ++free == 2) {
			slot_limit = s + 1;
			break;
		}
	r = test_types_caps_out(PORT, &a, &b, &x, &c);
	CHECK(r == E_SLOT_FULL && calls_made == 0 && slots_out == before,
	      "no free slot for a cap to receive: E_SLOT_FULL, nothing sent, nothing kept");
	slot_limit = NSLOTS;
	reset();
	bad_output = 1;     /* the handler names slot 0 for a cap */
	r = test_types_caps_out(PORT, &a, &b, &x, &c);
	CHECK(r == E_BAD_MSG && slots_out == before, "a handler's out cap of slot 0 is answered E_BAD_MSG");
	reset();
	r = test_types_caps_in(PORT, 10, 1, 400, 12);   /* slot 400 is empty */
	CHECK(r == E_BAD_MSG && handler_calls == 0 && buffer_clear(),
	      "sending an empty slot fails in the kernel; the buffer is still cleared");
}

static void test_status(void)
{
	struct scalars in = { 1, 2, 3, 4, 5, 6, 7, 8 }, out, before;
	memset(&out, 0x44, sizeof out);
	before = out;
	reset();
	handler_status = 12345;
	long r = call_scalars(&in, &out);
	CHECK(r == 12345 && handler_calls == 1 && !memcmp(&out, &before, sizeof out),
	      "a handler's error status comes back alone; no output is written");
	reset();
	handler_status = -7;
	r = test_types_ping(PORT);
	CHECK(r == -7, "a negative status is returned as is");
	reset();
	ops.ping = NULL;
	r = test_types_ping(PORT);
	CHECK(r == E_BAD_SYSCALL && handled == 1, "a NULL handler answers E_BAD_SYSCALL");
	reset();
	fail_transport = E_DEAD_PORT;
	r = call_scalars(&in, &out);
	CHECK(r == E_DEAD_PORT && !memcmp(&out, &before, sizeof out), "a transport error, outputs untouched");
	reset();
	r = test_types_ping(PORT);
	CHECK(r == 0 && seen.badge == BADGE && MSG_WORDS(last_request.info) == 0, "ping: no words at all");

	char o[17], io[21] = "";
	reset();
	bad_output = 1;
	memset(o, 'q', sizeof o);
	r = test_types_strings(PORT, "abc", o, io);
	CHECK(r == E_BAD_MSG && o[0] == 'q', "a handler's unterminated out string is answered E_BAD_MSG");
	uint8_t b[16] = { 0 }, ob[16], iob[20];
	uint32_t o_len = 77, io_len = 3;
	reset();
	bad_output = 1;
	r = test_types_blobs(PORT, b, 4, ob, &o_len, iob, &io_len);
	CHECK(r == E_BAD_MSG && o_len == 77 && io_len == 3, "a handler's out length past its bound is E_BAD_MSG");
}

/* ---- malformed replies to the stubs ----------------------------------------- */

static int mangle_kind;
static void mangle(struct msg *r)
{
	uint64_t label = MSG_LABEL(r->info), n = MSG_WORDS(r->info), k = MSG_CAPS(r->info);
	switch (mangle_kind) {
	case 0: r->info = MSG_INFO(label ^ 1, n, k); break;           /* wrong label */
	case 1: r->info = MSG_INFO(label, n - 1, k); break;           /* one word short */
	case 2: r->w[n] = 0; r->info = MSG_INFO(label, n + 1, k); break;   /* one word long */
	case 3: r->w[1] = 17; r->info = MSG_INFO(label, n + 1, k); break;  /* o past bound 16 */
	case 4: r->info = MSG_INFO(label, 2, k); break;               /* o's words missing */
	case 5: ((char *)&r->w[2])[1] = '\0'; break;                  /* NUL inside o */
	case 6: r->info = MSG_INFO(label, n, k + 1); break;           /* a cap too many */
	case 7: r->w[0] = E_STATE; break;                              /* error, with outputs */
	case 8: r->w[1] = 256; break;                                  /* u8 out of range */
	case 9: r->w[5] = 0x80; break;                                 /* i8 not sign-extended */
	case 10: r->w[6] = 0x8000; break;                              /* i16 not sign-extended */
	case 11: r->w[7] = 0x100000000ull; break;                      /* i32 out of range */
	case 12: r->info = MSG_INFO(label, n, k - 1); break;           /* a cap too few */
	case 13: r->info = MSG_INFO(label, 0, k); break;               /* no status word */
	}
}

static void test_bad_replies(void)
{
	static const char *const what[] = {
		"a wrong label", "one word short", "one word long", "a length past its bound",
		"a length past the words received", "a NUL inside a string",
	};
	cspace[14] = 0x1414;
	for (int kind = 0; kind <= 5; kind++) {
		char o[17], io[21] = "inout";
		memset(o, 'q', sizeof o);
		reset();
		mangle_reply = mangle;
		mangle_kind = kind;
		long r = test_types_strings(PORT, "hello world", o, io);
		CHECK(r == E_BAD_MSG && o[0] == 'q' && !strcmp(io, "inout"),
		      "a reply with %s is E_BAD_MSG, outputs untouched (%ld)", what[kind], r);
	}
	static const char *const what2[] = { "a u8 word of 256", "an i8 word of +128 (not sign-extended)",
		"an i16 word of 0x8000", "an i32 word of 2^32" };
	for (int kind = 8; kind <= 11; kind++) {
		struct scalars in = { 1, 2, 3, 4, 5, 6, 7, 8 }, out, before;
		memset(&out, 0x44, sizeof out);
		before = out;
		reset();
		mangle_reply = mangle;
		mangle_kind = kind;
		long r = call_scalars(&in, &out);
		CHECK(r == E_BAD_MSG && !memcmp(&out, &before, sizeof out),
		      "a reply with %s is E_BAD_MSG, outputs untouched", what2[kind - 8]);
	}
	reset();
	mangle_reply = mangle;
	mangle_kind = 7;
	struct scalars in = { 1, 2, 3, 4, 5, 6, 7, 8 }, out;
	CHECK(call_scalars(&in, &out) == E_BAD_MSG, "an error status with outputs after it is E_BAD_MSG");
	reset();
	mangle_reply = mangle;
	mangle_kind = 13;
	CHECK(test_types_ping(PORT) == E_BAD_MSG, "a reply without a status word is E_BAD_MSG");

	unsigned before = slots_out;
	uint64_t a = 0, b = 0, c = 0, x = 0;
	reset();
	mangle_reply = mangle;
	mangle_sent = 1;
	mangle_kind = 12;       /* the server sends two caps, three were due */
	long r = test_types_caps_out(PORT, &a, &b, &x, &c);
	CHECK(r == E_BAD_MSG && a == 0 && slots_out == before + 2 && bad_frees == 0,
	      "a reply one cap short is E_BAD_MSG; the empty slot is freed, the two filled ones kept");
	reset();
	mangle_reply = mangle;
	mangle_kind = 6;        /* the reply claims 2 caps, 1 was due */
	int64_t v = 1;
	uint64_t take = 0;
	r = test_types_caps_both(PORT, 14, &v, &take, NULL, 0);
	CHECK(r == E_BAD_MSG && take == 0 && v == 1 && bad_frees == 0,
	      "a reply with a cap too many is E_BAD_MSG, outputs untouched (%ld)", r);
}

/* ---- malformed requests straight to the dispatcher -------------------------- */

/* Capture the request a stub sends, as the server would receive it. */
static struct msg valid_request(void (*send)(void))
{
	reset();
	send();
	return last_request;
}

static void send_blobs(void)
{
	uint8_t b[16] = "0123456789abcdef", o[16], io[20] = "xy";
	uint32_t o_len, io_len = 2;
	test_types_blobs(PORT, b, 10, o, &o_len, io, &io_len);
}

static void send_strings(void)
{
	char o[17], io[21] = "twelve chars";
	test_types_strings(PORT, "sixteen chars!!!", o, io);
}

static void send_scalars(void)
{
	struct scalars in = { 1, 2, 3, 4, -5, -6, -7, -8 }, out;
	call_scalars(&in, &out);
}

static void send_caps_in(void)
{
	cspace[10] = 0x1010, cspace[11] = 0x1111, cspace[12] = 0x1212;
	test_types_caps_in(PORT, 10, 42, 11, 12);
}

/* Dispatch req directly; 1 if it was answered E_BAD_MSG without a handler. */
static int refused(const struct msg *req, const uint64_t *slots)
{
	struct msg reply;
	memset(&reply, 0x77, sizeof reply);
	handler_calls = 0;
	int r = test_types_dispatch(&ops, NULL, req, slots, &reply);
	return r == 1 && handler_calls == 0 && reply.w[0] == E_BAD_MSG && MSG_WORDS(reply.info) == 1 &&
	       MSG_CAPS(reply.info) == 0 && MSG_LABEL(reply.info) == MSG_LABEL(req->info);
}

/* Dispatch req directly; 1 if the handler ran and the reply is status 0. */
static int accepted(const struct msg *req, const uint64_t *slots)
{
	struct msg reply;
	handler_calls = 0;
	int r = test_types_dispatch(&ops, NULL, req, slots, &reply);
	return r == 1 && handler_calls == 1 && reply.w[0] == 0;
}

static uint64_t with_words(uint64_t info, uint64_t n)
{
	return MSG_INFO(MSG_LABEL(info), n, MSG_CAPS(info));
}

static void test_bad_requests(void)
{
	struct msg blobs = valid_request(send_blobs), strings = valid_request(send_strings);
	struct msg scalars = valid_request(send_scalars), caps = valid_request(send_caps_in), m;
	uint64_t n = MSG_WORDS(blobs.info);
	reset();
	current = &server_buf;   /* the dispatcher runs in the server */

	CHECK(accepted(&blobs, server_slots) && accepted(&strings, server_slots) &&
	      accepted(&scalars, server_slots) && accepted(&caps, server_slots),
	      "the captured requests are accepted as they are");

	/* labels */
	m = scalars;
	m.info = MSG_INFO(TEST_TYPES_PING_LABEL, 8, 0);
	CHECK(refused(&m, server_slots), "a request with another method's label (ping with 8 words) is refused");
	struct msg reply;
	memset(&reply, 0x77, sizeof reply);
	struct msg untouched = reply;
	m.info = MSG_INFO(2 << 8 | 1, 8, 0);
	handler_calls = 0;
	CHECK(test_types_dispatch(&ops, NULL, &m, server_slots, &reply) == 0 && handler_calls == 0 &&
	      !memcmp(&reply, &untouched, sizeof reply), "another interface's label: returns 0, reply untouched");
	m.info = MSG_INFO(TEST_TYPES_INTERFACE << 8 | 14, 0, 0);
	CHECK(test_types_dispatch(&ops, NULL, &m, server_slots, &reply) == 0 && handler_calls == 0 &&
	      !memcmp(&reply, &untouched, sizeof reply), "a method number past the last: returns 0, untouched");
	m.info = MSG_INFO(TEST_TYPES_INTERFACE << 8 | 0, 0, 0);
	CHECK(test_types_dispatch(&ops, NULL, &m, server_slots, &reply) == 0,
	      "method number 0: returns 0");
	m.info = MSG_INFO((1ull << 40) | TEST_TYPES_PING_LABEL, 0, 0);
	CHECK(test_types_dispatch(&ops, NULL, &m, server_slots, &reply) == 0,
	      "a label with bits above the interface number is not ours");

	/* word counts */
	m = blobs;
	m.info = with_words(m.info, n - 1);
	CHECK(refused(&m, server_slots), "a request one word short is refused");
	m = blobs;
	m.w[n] = 0;
	m.info = with_words(m.info, n + 1);
	CHECK(refused(&m, server_slots), "a request one word long is refused");
	m = scalars;
	m.info = with_words(m.info, 7);
	CHECK(refused(&m, server_slots), "a scalars request of 7 words is refused");
	m = scalars;
	m.info = with_words(m.info, 200);
	CHECK(refused(&m, server_slots), "a request claiming 200 words is refused");
	m = blobs;
	m.info = with_words(m.info, 0);
	CHECK(refused(&m, server_slots), "a request of no words for a method with inputs is refused");

	/* lengths: blobs = b_len, 2 words of b, io_len, 1 word of io */
	m = blobs;
	m.w[0] = 17;
	m.info = with_words(m.info, 1 + 3 + 1 + 1);
	m.w[4] = 2;
	m.w[5] = 0x7978;
	CHECK(refused(&m, server_slots), "a length past its bound (17 for bytes<16>) is refused, "
	      "even with the words to match");
	m = blobs;
	m.w[3] = 16;             /* io's length: 16 bytes, 2 words, only 1 sent */
	CHECK(refused(&m, server_slots), "a length past the words received is refused");
	m = blobs;
	m.w[0] = UINT64_MAX;
	CHECK(refused(&m, server_slots), "a length of 2^64 - 1 is refused");
	m = blobs;
	m.w[0] = UINT64_MAX - 6;   /* idl_words would wrap to 0 without the bound check */
	CHECK(refused(&m, server_slots), "a length of 2^64 - 7 is refused");

	/* strings: s = len 16 + 2 words, io = len 12 + 2 words */
	m = strings;
	((char *)&m.w[1])[5] = '\0';
	CHECK(refused(&m, server_slots), "a string with a NUL inside is refused");
	m = strings;
	((char *)&m.w[2])[7] = '\0';
	CHECK(refused(&m, server_slots), "a string with a NUL as its last character is refused");
	m = strings;
	((char *)&m.w[5])[4] = 'Z';      /* io's padding: not part of the string */
	CHECK(accepted(&m, server_slots), "bytes in the padding after a string are ignored");
	m = strings;
	m.w[0] = 8;
	CHECK(refused(&m, server_slots), "a string length that disagrees with the word count is refused");

	/* scalars: a..h in words 0..7 */
	static const struct { int word; uint64_t v; const char *what; int ok; } sc[] = {
		{ 0, 256, "u8 word 256", 0 }, { 0, 255, "u8 word 255", 1 },
		{ 1, 0x10000, "u16 word 0x10000", 0 }, { 2, 0x100000000ull, "u32 word 2^32", 0 },
		{ 3, UINT64_MAX, "u64 word 2^64 - 1", 1 },
		{ 4, 128, "i8 word +128", 0 }, { 4, (uint64_t)-129, "i8 word -129", 0 },
		{ 4, (uint64_t)-128, "i8 word -128", 1 }, { 4, 0xff, "i8 word 0xff (-1 not sign-extended)", 0 },
		{ 5, 0x8000, "i16 word 0x8000", 0 }, { 6, 0xffffffffull, "i32 word 0xffffffff", 0 },
		{ 6, (uint64_t)(int64_t)INT32_MIN, "i32 word INT32_MIN", 1 },
		{ 7, 0x8000000000000000ull, "i64 word INT64_MIN", 1 },
	};
	for (unsigned i = 0; i < sizeof sc / sizeof *sc; i++) {
		m = scalars;
		m.w[sc[i].word] = sc[i].v;
		if (sc[i].ok)
			CHECK(accepted(&m, server_slots), "a scalars request with %s is accepted", sc[i].what);
		else
			CHECK(refused(&m, server_slots), "a scalars request with %s is refused", sc[i].what);
	}

	/* caps */
	m = caps;
	m.info = MSG_INFO(MSG_LABEL(m.info), 1, 2);
	CHECK(refused(&m, server_slots), "caps_in with 2 caps instead of 3 is refused");
	m.info = MSG_INFO(MSG_LABEL(m.info), 1, 4);
	CHECK(refused(&m, server_slots), "caps_in with 4 caps is refused");
	m = scalars;
	m.info = MSG_INFO(MSG_LABEL(m.info), 8, 1);
	CHECK(refused(&m, server_slots), "a cap with a method that takes none is refused");
	CHECK(refused(&caps, NULL), "caps with no receive slots named (NULL) are refused");

	/* the reply may overwrite the request */
	m = blobs;
	handler_calls = 0;
	int r = test_types_dispatch(&ops, NULL, &m, server_slots, &m);
	CHECK(r == 1 && handler_calls == 1 && m.w[0] == 0 && m.w[1] == 10 && MSG_WORDS(m.info) == 1 + 3 + 1 + 3,
	      "req and reply may be the same message");

	/* every word count for every method: only the right one reaches a handler */
	struct msg base[4] = { blobs, strings, scalars, caps };
	int ok = 1;
	for (int j = 0; j < 4; j++)
		for (uint64_t k = 0; k <= 255; k++) {
			m = base[j];
			m.info = with_words(m.info, k);
			handler_calls = 0;
			struct msg out;
			test_types_dispatch(&ops, NULL, &m, server_slots, &out);
			if (handler_calls != (k == MSG_WORDS(base[j].info)))
				ok = 0;
		}
	CHECK(ok, "of word counts 0..255, only the exact one reaches the handler");
	current = &client_buf;
}

/* Random messages with our labels: no crash, every reply well-formed, and
 * whatever reached a handler encodes back to the same words. */
static void test_fuzz(void)
{
	uint64_t seed = 0x243f6a8885a308d3ull;
	int ok = 1, reached = 0;
	current = &server_buf;
	for (int iter = 0; iter < 200000; iter++) {
		struct msg m, reply;
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t r = seed >> 11;
		unsigned method = 1 + r % 13, words = (r >> 4) % 66, caps = (r >> 12) % 5;
		m.info = MSG_INFO(TEST_TYPES_INTERFACE << 8 | method, words, caps);
		for (int i = 0; i < MSG_MAX_WORDS; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			uint64_t v = seed >> 8;
			/* mostly small numbers, so lengths are often plausible */
			m.w[i] = (v & 3) == 0 ? v : (v & 3) == 1 ? v % 24 : (v & 3) == 2 ? v % 600 : v % 8;
		}
		if (words > MSG_MAX_WORDS)
			m.info = MSG_INFO(TEST_TYPES_INTERFACE << 8 | method, 64, caps);
		m.badge = 1;
		handler_calls = 0;
		handler_status = 0;
		int h = test_types_dispatch(&ops, NULL, &m, server_slots, &reply);
		reached += handler_calls;
		if (h != 1 || MSG_WORDS(reply.info) < 1 || MSG_WORDS(reply.info) > MSG_MAX_WORDS ||
		    MSG_LABEL(reply.info) != MSG_LABEL(m.info) || MSG_CAPS(reply.info) > MSG_MAX_CAPS)
			ok = 0;
		if (!handler_calls && reply.w[0] != E_BAD_MSG)
			ok = 0;
	}
	CHECK(ok, "200000 random requests: each answered with a well-formed reply, refusals E_BAD_MSG");
	CHECK(reached > 0, "some random requests were well-formed and reached a handler (%d)", reached);
	current = &client_buf;
}

int main(void)
{
	reset();
	test_scalars();
	test_inouts();
	test_arrays();
	test_strings();
	test_blobs();
	test_big();
	test_caps();
	test_status();
	test_bad_replies();
	test_bad_requests();
	test_fuzz();
	CHECK(bad_frees == 0, "the stubs never freed a slot that was not theirs or not empty");
	return unit_done();
}
