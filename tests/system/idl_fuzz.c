/* The IDL fuzzer (issue 17): every interface of idl/ that a server of
 * this boot serves gets thousands of messages, random ones and valid ones
 * with one field changed, built from the tables idlc writes into each
 * NAME.h (IDL_FUZZ_TABLE).  Every answer must be a well-formed reply with
 * status 0 or a defined error code; after each batch each server still
 * answers a valid call and init has not restarted it.  The first failure
 * stops the run with the seed, the interface and the last messages sent.
 *
 * Arguments (the manifest's args line; tools/fuzz-idl.sh for long runs):
 *   seed=N      the seed (default 1); printed at the start
 *   count=N     messages per interface per round (default 1500)
 *   secs=N      go on with further rounds for N seconds of the guest's clock,
 *               which runs slow under a loaded QEMU (default: one round);
 *               tools/fuzz-idl.sh gives a huge one and stops QEMU itself
 *   round=N     start at round N (with only=, replays one batch exactly)
 *   only=NAME   fuzz one interface only
 *   destructive also the calls excluded as destructive (see the table)
 * docs/reliability.md, "The IDL fuzzer", says what is sent and checked. */
// test-root: build/init.elf
// test-module: tests/system/manifests/idl_fuzz.manifest
// test-module: build/serial.elf
// test-module: build/rtc.elf
// test-module: build/pci.elf
// test-module: build/virtio_blk.elf
// test-module: build/virtio_net.elf
// test-module: build/fs.elf
// test-module: build/tests/data/files.img
// test-module: build/net.elf
// test-module: build/tests/system/progs/kv_server.elf
// test-module: build/vmm.elf
// test-module: build/tests/guests/progs/ticker.bin
// test-net: user
// test-disk: a 2048 3
// test-qemu: -drive if=none,id=da,format=raw,file={disk:a} -device virtio-blk-pci,disable-legacy=on,drive=da,addr=6
// test-expect: ^idl-fuzz: seed \d+
// test-reject: idl-fuzz: FAILED
// test-timeout: 400
// test-selfcheck: 16
#define IDL_FUZZ_TABLE
#include "tap.h"
#include <string.h>
#include <libipc/libipc.h>
#include "block.h"
#include "clock.h"
#include "console.h"
#include "fs.h"
#include "init.h"
#include "kv.h"
#include "netif.h"
#include "pci.h"
#include "socket.h"
#include "tasks.h"
#include "vmm.h"
#include "vswitch.h"

#define INIT 8
#define RING 16          /* messages kept for the failure report */
#define NET_ERRNO_MAX 1200 /* fs and socket: 1000 + a POSIX errno */

struct target;
typedef long (*open_fn)(struct target *t, uint64_t *session);
typedef long (*alive_fn)(struct target *t);

/* One interface and the server behind it.  excluded: methods never sent
 * (they wait by design or end the server on purpose); destructive:
 * methods sent only with the destructive argument (they change or
 * destroy state a real client keeps: files, the disk, the device). */
struct target {
	const char *service;      /* its name with init; 0: init itself */
	const char *task;         /* init's name of the task serving it; 0: init */
	const struct idl_fuzz_interface *ifc;
	const char *excluded, *destructive;
	open_fn open;             /* a session, or 0 */
	alive_fn alive;           /* a valid call that must succeed */
	uint64_t port;
	uint32_t restarts;
	unsigned long sent, answered_ok, answered_err, sessions;
	int failed;
};

static uint64_t notify_send, frame, recv_slot[3];

static long open_socket(struct target *t, uint64_t *s)
{
	uint32_t pages;
	return socket_open(t->port, "fuzzer", s, &pages);
}

static long open_block(struct target *t, uint64_t *s)
{
	uint32_t pages;
	return block_attach(t->port, "fuzzer", s, &pages);
}

static long open_netif(struct target *t, uint64_t *s)
{
	uint32_t pages, rx, tx;
	return netif_attach(t->port, "fuzzer", notify_send, 1, s, &pages, &rx, &tx);
}

static long open_vswitch(struct target *t, uint64_t *s)
{
	uint32_t pages, rx, tx, ip, prefix, gw;
	uint64_t mac;
	return vswitch_attach(t->port, "fuzzer", notify_send, 1, 0, s, &pages, &rx, &tx, &mac, &ip,
	                      &prefix, &gw);
}

static long open_fs(struct target *t, uint64_t *s)
{
	uint32_t pages;
	return fs_buffer_attach(t->port, "fuzzer", s, &pages);
}

/* A device nobody drives and that is no bridge (QEMU's IDE controller). */
static long open_pci(struct target *t, uint64_t *s)
{
	for (uint32_t i = 0; i < 64; i++) {
		uint32_t address, ids, class_rev, subsystem, irq;
		char owner[32];
		long err = pci_list(t->port, i, &address, &ids, &class_rev, &subsystem, &irq, owner);
		if (err)
			return err;
		if (!owner[0] && (class_rev >> 24) != 0x06) /* bridges stay the PCI server's */
			return pci_open(t->port, (uint16_t)ids, (uint16_t)(ids >> 16), 0, "fuzzer", s, &address);
	}
	return E_STATE;
}

static long alive_console(struct target *t)
{
	uint64_t bytes;
	return console_written(t->port, &bytes);
}

static long alive_init(struct target *t)
{
	uint64_t total, free;
	return init_mem(t->port, &total, &free);
}

static long alive_clock(struct target *t)
{
	uint64_t now;
	return clock_now(t->port, &now);
}

static long alive_kv(struct target *t)
{
	uint32_t n;
	return kv_count(t->port, &n);
}

static long alive_fs(struct target *t)
{
	uint32_t bs;
	uint64_t blocks, bfree, inodes, ifree;
	return fs_statfs(t->port, &bs, &blocks, &bfree, &inodes, &ifree);
}

static long alive_block(struct target *t)
{
	uint64_t sectors;
	uint32_t bs, flags;
	return block_info(t->port, &sectors, &bs, &flags);
}

static long alive_netif(struct target *t)
{
	uint64_t mac;
	uint32_t mtu, flags;
	return netif_info(t->port, &mac, &mtu, &flags);
}

static long alive_pci(struct target *t)
{
	uint32_t address, ids, class_rev, subsystem, irq;
	char owner[32];
	return pci_list(t->port, 0, &address, &ids, &class_rev, &subsystem, &irq, owner);
}

static long alive_socket(struct target *t)
{
	uint32_t addr, mask, gw, mtu, flags;
	uint64_t mac, rxf, rxb, txf, txb, drop;
	return socket_ifconfig(t->port, &addr, &mask, &gw, &mac, &mtu, &flags, &rxf, &rxb, &txf, &txb, &drop);
}

static long alive_vswitch(struct target *t)
{
	uint64_t mac, ff, fd, tf, td;
	uint32_t ip, up;
	char drop[32];
	return vswitch_port_stats(t->port, "fuzzer", &mac, &ip, &up, &ff, &fd, &tf, &td, drop);
}

static long alive_vmm(struct target *t)
{
	char name[33];
	uint32_t state;
	uint64_t memory, uptime, exits;
	return vmm_info(t->port, name, &state, &memory, &uptime, &exits);
}

/* Every interface a server of this boot serves.  A new one is one line.
 * Not here: test_types (idlc's own tests; nothing serves it). */
#define T(svc, tsk, f, ex, de, op, al) \
	{ .service = svc, .task = tsk, .ifc = &f, .excluded = ex, .destructive = de, .open = op, .alive = al }
static struct target targets[] = {
	T("console", "serial", console_fuzz, "read crash_for_test", "", 0, alive_console),
	T(0, 0, init_fuzz, "", "", 0, alive_init),
	T("clock", "rtc", clock_fuzz, "", "", 0, alive_clock),
	T("kv", "kv", kv_fuzz, "", "", 0, alive_kv),
	T("fs", "fs", fs_fuzz, "unmount", "write write_at unlink rmdir rename truncate", open_fs, alive_fs),
	T("blk0", "blk0", block_fuzz, "", "write", open_block, alive_block),
	T("net0", "net0", netif_fuzz, "", "", open_netif, alive_netif),
	T("pci", "pci", pci_fuzz, "", "config_write", open_pci, alive_pci),
	T("net", "net", socket_fuzz, "", "", open_socket, alive_socket),
	T("switch", "net", vswitch_fuzz, "", "", open_vswitch, alive_vswitch),
	T("vm.t", "vmm-t", vmm_fuzz, "console_attach inject_fault", "snapshot", 0, alive_vmm),
};
#define NTARGETS (sizeof targets / sizeof targets[0])

/* ---- randomness --------------------------------------------------------- */

static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t x = a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL);
	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 29;
	return x ? x : 1;
}

/* A value a handler may find interesting: edges, small numbers, bounds. */
static uint64_t interesting(void)
{
	static const uint64_t v[] = { 0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 63, 64, 65, 127, 128, 255, 256,
	                              511, 512, 4095, 4096, 4097, 65535, 65536, 0x7fffffff, 0x80000000,
	                              0xffffffff, 0x100000000ULL, 0x7fffffffffffffffULL,
	                              0x8000000000000000ULL, ~0ULL, ~0ULL - 1 };
	switch (below(4)) {
	case 0: return v[below(sizeof v / sizeof v[0])];
	case 1: return below(16);
	case 2: return 1ULL << below(64);
	default: return rnd();
	}
}

static const char *const words_dict[] = {
	"", "/", "/README.txt", "/hello.txt", "/dir", "/dir/", "//", "/..", "/a/b/c", ".", "..",
	"/no-such", "fuzzer", "serial", "console", "fs", "net", "net0", "blk0", "switch", "kv",
	"t", "vm.t", "init", "lo", "out accept tcp 10.0.2.2/32 80", "in drop udp 0.0.0.0/0 53",
	"accept", "x y z", "%s%n%x",
};

/* ---- messages ----------------------------------------------------------- */

/* What was sent, for the report. */
struct sent {
	unsigned target;
	int to_session;
	uint64_t label;
	unsigned words, caps;
	uint8_t captype[3];
	const char *how;
	uint64_t w[MSG_MAX_WORDS];
};
static struct sent ring[RING];
static unsigned long ring_n;
static volatile unsigned long progress;

static const char *const cap_names[] = { "port", "frame", "server" };

static void put_bytes(uint64_t *w, unsigned at, const uint8_t *p, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		w[at + i / 8] |= (uint64_t)p[i] << (8 * (i % 8));
}

static int in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, " ");
		if (len == n && !strncmp(p, name, n))
			return 1;
		p += len;
		p += strspn(p, " ");
	}
	return 0;
}

static int destructive_mode;

/* Is this label one we never send (to any server)? */
static int label_excluded(uint64_t label)
{
	for (unsigned i = 0; i < NTARGETS; i++) {
		const struct idl_fuzz_interface *f = targets[i].ifc;
		for (unsigned k = 0; k < f->nmethods; k++)
			if (f->methods[k].label == label)
				return in_list(targets[i].excluded, f->methods[k].name) ||
				       (!destructive_mode && in_list(targets[i].destructive, f->methods[k].name));
	}
	return 0;
}

static const struct idl_fuzz_method *method_of(const struct idl_fuzz_interface *f, uint64_t label)
{
	for (unsigned k = 0; k < f->nmethods; k++)
		if (f->methods[k].label == label)
			return &f->methods[k];
	return 0;
}

/* Words a parameter takes in a message, reading a length at w[at]. */
static unsigned param_words(const struct idl_fuzz_param *p, const uint64_t *w, unsigned at, unsigned words,
                            int *bad)
{
	switch (p->kind) {
	case IDL_FZ_SCALAR: return 1;
	case IDL_FZ_ARRAY: return ((unsigned)p->count * p->size + 7) / 8;
	case IDL_FZ_CAP: return 0;
	default:
		if (at >= words || w[at] > p->count) {
			*bad = 1;
			return 1;
		}
		return 1 + ((unsigned)w[at] + 7) / 8;
	}
}

/* A wait in the server is legal behaviour, not a bug: keep every
 * timeout_ms word of a request for one of the target's methods short. */
static void bound_waits(const struct idl_fuzz_interface *f, uint64_t label, uint64_t *w, unsigned words)
{
	const struct idl_fuzz_method *m = method_of(f, label);
	if (!m)
		return;
	unsigned at = 0;
	int bad = 0;
	for (unsigned i = 0; i < m->nparams && !bad; i++) {
		const struct idl_fuzz_param *p = &m->params[i];
		if (!(p->dir & 1))
			continue;
		if (!strcmp(p->name, "timeout_ms") && at < words)
			w[at] = below(20);
		at += param_words(p, w, at, words, &bad);
	}
}

/* A valid request for m, then (mostly) one field changed. */
static void build_mutated(const struct target *t, const struct idl_fuzz_method *m, struct sent *s)
{
	unsigned at = 0, caps = 0, field_at[256], nfields = 0;
	int string_param = -1;
	s->label = m->label;
	for (unsigned i = 0; i < m->nparams; i++) {
		const struct idl_fuzz_param *p = &m->params[i];
		if (!(p->dir & 1))
			continue;
		field_at[nfields++] = at;
		switch (p->kind) {
		case IDL_FZ_SCALAR: {
			uint64_t v = interesting();
			if (p->size < 8) {
				unsigned bits = 8 * p->size;
				v &= (1ULL << bits) - 1;
				if (p->is_signed && (v >> (bits - 1)))
					v |= ~0ULL << bits;
			}
			s->w[at++] = v;
			break;
		}
		case IDL_FZ_ARRAY: {
			unsigned n = ((unsigned)p->count * p->size + 7) / 8;
			for (unsigned k = 0; k < n; k++)
				s->w[at + k] = below(3) ? below(64) : rnd();
			/* the padding after the last element is 0 */
			unsigned used = ((unsigned)p->count * p->size) % 8;
			if (used)
				s->w[at + n - 1] &= (1ULL << (8 * used)) - 1;
			at += n;
			break;
		}
		case IDL_FZ_STRING:
		case IDL_FZ_BYTES: {
			uint8_t buf[512];
			unsigned len;
			if (p->kind == IDL_FZ_STRING && below(3)) {
				const char *d = words_dict[below(sizeof words_dict / sizeof words_dict[0])];
				len = (unsigned)strlen(d);
				memcpy(buf, d, len);
			} else {
				len = (unsigned)below(p->count + 1u);
				if (below(2))
					len = (unsigned)below(len < 16 ? len + 1 : 16);
				for (unsigned k = 0; k < len; k++)
					buf[k] = (uint8_t)(p->kind == IDL_FZ_STRING || !strcmp(t->ifc->name, "console")
					                   ? 0x20 + below(95) : rnd());
			}
			if (len > p->count)
				len = p->count;
			if (p->kind == IDL_FZ_STRING)
				string_param = (int)nfields - 1;
			s->w[at] = len;
			put_bytes(s->w, at + 1, buf, len);
			at += 1 + (len + 7) / 8;
			break;
		}
		case IDL_FZ_CAP:
			s->captype[caps++] = 0;
			break;
		}
	}
	s->words = at;
	s->caps = caps;
	s->how = "valid";

	/* one change (a fifth stay valid) */
	switch (below(10)) {
	case 0:
	case 1:
		break;
	case 2: /* a length word past its bound or past the message */
		for (unsigned tries = 0, i = 0; tries < 8 && m->nparams; tries++) {
			i = (unsigned)below(m->nparams);
			const struct idl_fuzz_param *p = &m->params[i];
			if ((p->dir & 1) && (p->kind == IDL_FZ_STRING || p->kind == IDL_FZ_BYTES)) {
				unsigned k = 0, a = 0;
				for (unsigned j = 0; j < i; j++)
					if (m->params[j].dir & 1)
						k++;
				a = field_at[k];
				s->w[a] = below(2) ? p->count + 1 + below(4) : below(2) ? interesting() : s->w[a] + 8;
				s->how = "length";
				break;
			}
		}
		break;
	case 3: /* a NUL inside a string */
		if (string_param >= 0 && s->w[field_at[string_param]] > 0) {
			unsigned a = field_at[string_param];
			unsigned pos = (unsigned)below(s->w[a]);
			s->w[a + 1 + pos / 8] &= ~(0xffULL << (8 * (pos % 8)));
			s->how = "nul";
		}
		break;
	case 4: /* words cut off or added */
		if (below(2) && s->words) {
			s->words -= 1 + (unsigned)below(s->words);
			s->how = "short";
		} else if (s->words < MSG_MAX_WORDS) {
			unsigned more = 1 + (unsigned)below(MSG_MAX_WORDS - s->words);
			for (unsigned k = 0; k < more; k++)
				s->w[s->words + k] = rnd();
			s->words += more;
			s->how = "long";
		}
		break;
	case 5: /* a scalar out of its type's range, or any value */
		if (nfields) {
			unsigned a = field_at[below(nfields)];
			s->w[a] = below(2) ? interesting() : s->w[a] ^ (1ULL << below(64));
			s->how = "value";
		}
		break;
	case 6: /* capabilities missing, extra or of the wrong type */
		if (below(2) && s->caps) {
			s->caps = (unsigned)below(s->caps);
			s->how = "caps-missing";
		} else if (below(2) && s->caps) {
			s->captype[below(s->caps)] = 1 + (uint8_t)below(2);
			s->how = "caps-type";
		} else if (s->caps < 3) {
			unsigned extra = 1 + (unsigned)below(3 - s->caps);
			for (unsigned k = 0; k < extra; k++)
				s->captype[s->caps + k] = (uint8_t)below(3);
			s->caps += extra;
			s->how = "caps-extra";
		}
		break;
	case 7: /* the label of another method of the interface */
		s->label = t->ifc->methods[below(t->ifc->nmethods)].label;
		s->how = "label";
		break;
	case 8: /* a bit flipped anywhere */
		if (s->words) {
			s->w[below(s->words)] ^= 1ULL << below(64);
			s->how = "bitflip";
		}
		break;
	default: /* every scalar interesting at once */
		for (unsigned i = 0; i < nfields; i++)
			if (below(2))
				s->w[field_at[i]] = interesting();
		s->how = "values";
		break;
	}
}

/* Anything: a label of the interface, of another one or none, any words,
 * any capabilities. */
static void build_random(const struct target *t, struct sent *s)
{
	switch (below(6)) {
	case 0: s->label = rnd() & 0xffffffffffffULL; break;
	case 1: s->label = below(0x10000); break;
	case 2: {
		const struct idl_fuzz_interface *f = targets[below(NTARGETS)].ifc;
		s->label = f->methods[below(f->nmethods)].label;
		break;
	}
	case 3: s->label = (uint64_t)t->ifc->number << 8 | (below(2) ? 0 : t->ifc->nmethods + 1 + below(254 - t->ifc->nmethods)); break;
	default: s->label = t->ifc->methods[below(t->ifc->nmethods)].label; break;
	}
	s->words = (unsigned)below(MSG_MAX_WORDS + 1);
	if (below(2))
		s->words = (unsigned)below(6);
	for (unsigned k = 0; k < s->words; k++)
		s->w[k] = interesting();
	s->caps = below(3) ? 0 : (unsigned)below(4);
	for (unsigned k = 0; k < s->caps; k++)
		s->captype[k] = (uint8_t)below(3);
	s->how = "random";
}

static void print_sent(const struct sent *s)
{
	char line[400];
	unsigned n = 0;
	n += (unsigned)debug_snprintf(line + n, sizeof line - n, "#   %s %s label=0x%lx words=%u caps=%u",
	                              targets[s->target].ifc->name, s->to_session ? "session" : "port",
	                              (unsigned long)s->label, s->words, s->caps);
	for (unsigned k = 0; k < s->caps; k++)
		n += (unsigned)debug_snprintf(line + n, sizeof line - n, "%s%s", k ? "," : " (",
		                              cap_names[s->captype[k]]);
	n += (unsigned)debug_snprintf(line + n, sizeof line - n, "%s %s", s->caps ? ")" : "", s->how);
	debug_printf("%s\n", line);
	/* the words, 8 to a line */
	for (unsigned k = 0; k < s->words; k += 8) {
		n = (unsigned)debug_snprintf(line, sizeof line, "#     w%u:", k);
		for (unsigned j = k; j < s->words && j < k + 8; j++)
			n += (unsigned)debug_snprintf(line + n, sizeof line - n, " %lx", (unsigned long)s->w[j]);
		debug_printf("%s\n", line);
	}
}

static uint64_t seed;
static unsigned round_now;

static void report(const char *iface, const char *what)
{
	debug_printf("idl-fuzz: FAILED: %s: %s\n", iface, what);
	debug_printf("idl-fuzz: replay with args seed=%lu round=%u only=%s (the failing batch alone)\n",
	             (unsigned long)seed, round_now, iface);
	unsigned long first = ring_n > RING ? ring_n - RING : 0;
	debug_printf("# the last %lu messages, oldest first:\n", ring_n - first);
	for (unsigned long i = first; i < ring_n; i++)
		print_sent(&ring[i % RING]);
}

/* Is status a defined answer of this interface? */
static int defined_status(const struct target *t, uint64_t status)
{
	if (status < E_COUNT)
		return 1;
	return (t->ifc == &fs_fuzz || t->ifc == &socket_fuzz) && status > 1000 && status < NET_ERRNO_MAX;
}

/* Check a reply against the method's out parameters; 0 or what is wrong. */
static const char *check_reply(const struct target *t, const struct sent *s, const struct msg *r)
{
	unsigned words = MSG_WORDS(r->info), caps = MSG_CAPS(r->info);
	if (words < 1)
		return "a reply without a status word";
	if (!defined_status(t, r->w[0]))
		return "a status that is no defined error code";
	if (r->w[0] != 0)
		return words == 1 && caps == 0 ? 0 : "an error status with more than the status word";
	const struct idl_fuzz_method *m = method_of(t->ifc, s->label);
	if (!m)
		return "success for a label of no method of the interface";
	if (MSG_LABEL(r->info) != s->label)
		return "a reply with another label";
	unsigned at = 1, want_caps = 0;
	for (unsigned i = 0; i < m->nparams; i++) {
		const struct idl_fuzz_param *p = &m->params[i];
		if (!(p->dir & 2))
			continue;
		if (p->kind == IDL_FZ_CAP) {
			want_caps++;
			continue;
		}
		int bad = 0;
		unsigned n = param_words(p, r->w, at, words, &bad);
		if (bad)
			return "a reply with a length past its bound or past the message";
		if (p->kind == IDL_FZ_STRING)
			for (unsigned k = 0; k < r->w[at]; k++)
				if (!((r->w[at + 1 + k / 8] >> (8 * (k % 8))) & 0xff))
					return "a reply string with a NUL inside";
		at += n;
	}
	if (at != words)
		return "a reply of the wrong length";
	if (caps != want_caps)
		return "a reply with the wrong number of capabilities";
	return 0;
}

/* The label of the interface's detach method (block, netif, vswitch, fs's
 * buffer_detach), or 0. */
static uint64_t detach_label(const struct idl_fuzz_interface *f)
{
	for (unsigned k = 0; k < f->nmethods; k++) {
		size_t n = strlen(f->methods[k].name);
		if (n >= 6 && !strcmp(f->methods[k].name + n - 6, "detach"))
			return f->methods[k].label;
	}
	return 0;
}

/* End a session as a well-behaved client does: detach, then delete the
 * right.  (Deleting alone frees it too, through no-senders: the block
 * driver's sessions leaked that way until issue 17's fix,
 * docs/reliability.md, "What it found"; tests/system/virtio_blk_sessions.c
 * covers it.) */
static void end_session(const struct idl_fuzz_interface *f, uint64_t slot)
{
	uint64_t label = detach_label(f);
	if (label) {
		struct msg m = { .info = MSG_INFO(label, 0, 0) };
		ipc_call(slot, &m);
	}
	sys_cnode_delete(slot);
}

static void drop_received(const struct idl_fuzz_interface *f)
{
	for (unsigned k = 0; k < 3; k++) {
		unsigned type, rights;
		uint64_t badge;
		if (!sys_cap_identify(recv_slot[k], &type, &rights, &badge) && type != OBJ_NONE) {
			if (type == OBJ_PORT)
				end_session(f, recv_slot[k]);
			else
				sys_cnode_delete(recv_slot[k]);
		}
	}
}

/* Send s to port; 0, or what went wrong. */
static const char *send_one(struct target *t, struct sent *s, uint64_t port, long *transport,
                            uint64_t *status)
{
	struct msg m = { .info = MSG_INFO(s->label, s->words, s->caps) };
	for (unsigned k = 0; k < s->words; k++)
		m.w[k] = s->w[k];
	uint64_t caps[3];
	/* one capability of each kind at most: the kernel refuses a slot named twice */
	for (unsigned k = 1; k < s->caps; k++)
		for (unsigned j = 0; j < k; j++)
			if (s->captype[j] == s->captype[k]) {
				s->captype[k] = (uint8_t)((s->captype[k] + 1) % 3);
				j = (unsigned)-1;
			}
	for (unsigned k = 0; k < s->caps; k++)
		caps[k] = s->captype[k] == 0 ? notify_send : s->captype[k] == 1 ? frame : t->port;
	ipc_set_send_caps(caps, s->caps);
	ipc_set_recv_slots(recv_slot, 3);
	long err = ipc_call(port, &m);
	ipc_set_send_caps(0, 0);
	ipc_set_recv_slots(0, 0);
	progress++;
	*transport = err;
	*status = err ? ~0ULL : m.w[0];
	const char *why = err ? 0 : check_reply(t, s, &m);
	drop_received(t->ifc);
	if (!err) {
		if (m.w[0])
			t->answered_err++;
		else
			t->answered_ok++;
	}
	return why;
}

/* The watchdog: a call unanswered for 30 s is a failure too. */
static uint64_t dog_stack[512];
static volatile const char *current = "";

static void watchdog(uint64_t arg)
{
	(void)arg;
	unsigned long last = progress;
	unsigned idle = 0;
	for (;;) {
		clock_nap(100);
		if (progress != last) {
			last = progress;
			idle = 0;
			continue;
		}
		if (++idle == 30) {
			report((const char *)current, "no answer for 30 s (a server hangs or waits for ever)");
			tap_ok(0, "idl-fuzz: %s answers", (const char *)current);
			tap_done();
		}
	}
}

/* One batch: count messages to t (and its session). */
static const char *batch(struct target *t, unsigned ti, unsigned count)
{
	static char why[160];
	uint64_t session = 0;
	int session_open = 0;
	current = t->ifc->name;
	if (t->open) {
		/* the stub receives the session into a slot of its own */
		long err = t->open(t, &session);
		session_open = !err;
		if (session_open)
			t->sessions++;
		else
			debug_printf("idl-fuzz: %s: no session (%ld); the published port only\n", t->ifc->name, err);
	}
	for (unsigned i = 0; i < count; i++) {
		struct sent *s = &ring[ring_n % RING];
		memset(s, 0, sizeof *s);
		s->target = ti;
		if (below(2)) {
			const struct idl_fuzz_method *m = &t->ifc->methods[below(t->ifc->nmethods)];
			build_mutated(t, m, s);
		} else {
			build_random(t, s);
		}
		if (label_excluded(s->label))
			s->label = (uint64_t)t->ifc->number << 8; /* method 0: none */
		bound_waits(t->ifc, s->label, s->w, s->words);
		s->to_session = session_open && below(2);
		ring_n++;
		t->sent++;
		long transport;
		uint64_t status;
		const char *bad = send_one(t, s, s->to_session ? session : t->port, &transport, &status);
		if (bad)
			return bad;
		/* a server that takes no capabilities names no slots for them:
		 * the kernel refuses such a send (docs/ipc.md), a defined answer */
		if (transport == E_RECV_SLOTS && s->caps) {
			t->answered_err++;
			continue;
		}
		if (transport) {
			debug_snprintf(why, sizeof why, "the call failed with %ld on the %s", transport,
			               s->to_session ? "session" : "published port");
			return why;
		}
		/* a detach that succeeded ends the session */
		const struct idl_fuzz_method *m = method_of(t->ifc, s->label);
		size_t n = m ? strlen(m->name) : 0;
		if (s->to_session && m && n >= 6 && !strcmp(m->name + n - 6, "detach") && !status)
			session_open = 0;
	}
	if (t->open && session) {
		end_session(t->ifc, session);
		slot_free(session);
	}
	/* leave no line in the console's editor (flags 1: finished), or the
	 * driver draws it again around every later line of the log */
	if (t->ifc == &console_fuzz)
		console_edit_line(t->port, "", (const uint8_t *)"", 0, 0, 0, 1);
	long err = t->alive(t);
	if (err) {
		debug_snprintf(why, sizeof why, "a valid call failed afterwards (%ld)", err);
		return why;
	}
	uint32_t restarts = 0;
	if (t->task && (!task_find(t->task, 0, &restarts, 0) || restarts != t->restarts)) {
		debug_snprintf(why, sizeof why, "init restarted %s (%u restarts, %u before)", t->task, restarts,
		               t->restarts);
		return why;
	}
	return 0;
}

int main(const struct bootinfo *bi)
{
	const char *args = bi->cmdline;
	seed = arg_number(args, "seed=", 1);
	unsigned count = arg_number(args, "count=", 1500), secs = arg_number(args, "secs=", 0);
	unsigned first_round = arg_number(args, "round=", 0);
	char only[32] = "";
	arg_string(args, "only=", only, sizeof only);
	destructive_mode = arg_flag(args, "destructive");
	debug_printf("idl-fuzz: seed %lu, %u messages per interface and round, %s%s%s\n", (unsigned long)seed,
	             count, secs ? "for seconds: " : "one round", "", only[0] ? ", one interface" : "");
	if (secs)
		debug_printf("idl-fuzz: running for %u s\n", secs);

	unsigned chosen = 0;
	for (unsigned i = 0; i < NTARGETS; i++)
		if (!only[0] || !strcmp(only, targets[i].ifc->name))
			chosen++;
	tap_plan((int)chosen + 1);

	/* what is never sent, and what only in the destructive mode */
	for (unsigned i = 0; i < NTARGETS; i++)
		if (targets[i].excluded[0] || targets[i].destructive[0])
			debug_printf("idl-fuzz: %s: never sent: %s; %s: %s\n", targets[i].ifc->name,
			             targets[i].excluded[0] ? targets[i].excluded : "-",
			             destructive_mode ? "sent (destructive mode)" : "destructive, not sent",
			             targets[i].destructive[0] ? targets[i].destructive : "-");

	uint64_t port;
	long err = object_alloc(OBJ_PORT, 0, &port);
	notify_send = slot_alloc();
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, notify_send, RIGHT_SEND, 0);
	err = err ? err : object_alloc(OBJ_FRAME, 0, &frame);
	for (unsigned k = 0; k < 3; k++)
		recv_slot[k] = slot_alloc();
	unsigned found = 0;
	for (unsigned i = 0; i < NTARGETS && !err; i++) {
		struct target *t = &targets[i];
		if (!t->service)
			t->port = INIT;
		else {
			/* the manifest's needs cover some; the rest come up meanwhile */
			unsigned tries = 0;
			while (init_lookup(INIT, t->service, &t->port) && ++tries < 100)
				clock_nap(10);
			if (tries == 100) {
				t->port = 0;
				debug_printf("idl-fuzz: no '%s' published\n", t->service);
				continue;
			}
		}
		if (t->task)
			task_find(t->task, 0, &t->restarts, 0);
		found++;
	}
	tap_ok(!err && found == NTARGETS, "every server is found by name (%u of %u)", found,
	       (unsigned)NTARGETS);
	/* the watchdog at the fuzzer's own priority (the manifest's): the
	 * fuzzer itself only waits in calls */
	uint64_t tcb;
	err = thread_create(watchdog, 0, dog_stack, sizeof dog_stack, 90, &tcb);
	if (err)
		debug_printf("idl-fuzz: no watchdog (%ld)\n", err);

	uint64_t start = clock_ms();
	int failed = 0;
	for (unsigned r = first_round; !failed; r++) {
		round_now = r;
		for (unsigned i = 0; i < NTARGETS && !failed; i++) {
			struct target *t = &targets[i];
			if ((only[0] && strcmp(only, t->ifc->name)) || !t->port)
				continue;
			rng = mix(mix(seed, r), i + 1);
			uint64_t t0 = clock_ms();
			const char *why = batch(t, i, count);
			if (!secs && !why)
				debug_printf("idl-fuzz: %s: %u messages in %lu ms\n", t->ifc->name, count,
				             (unsigned long)(clock_ms() - t0));
			if (why) {
				report(t->ifc->name, why);
				failed = 1;
				t->failed = 1;
			}
		}
		if (!secs || clock_ms() - start >= (uint64_t)secs * 1000)
			break;
		if (r % 10 == 9) {
			unsigned long sum = 0;
			for (unsigned i = 0; i < NTARGETS; i++)
				sum += targets[i].sent;
			debug_printf("idl-fuzz: round %u done, %lu messages, no failure\n", r, sum);
		}
	}
	unsigned long total = 0;
	for (unsigned i = 0; i < NTARGETS; i++) {
		struct target *t = &targets[i];
		if (only[0] && strcmp(only, t->ifc->name))
			continue;
		total += t->sent;
		tap_ok(!t->failed && t->port && t->sent, "%s: %lu messages, %lu answered 0, %lu an error, %lu sessions; "
		       "it answers and was not restarted", t->ifc->name, t->sent, t->answered_ok, t->answered_err,
		       t->sessions);
	}
	debug_printf("idl-fuzz: %s: %lu messages in %lu s, seed %lu\n", failed ? "FAILED" : "done", total,
	             (unsigned long)((clock_ms() - start) / 1000), (unsigned long)seed);
	tap_done();
}
