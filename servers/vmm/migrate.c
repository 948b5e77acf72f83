/*
 * Live migration with pre-copy (docs/lifecycle.md, "Live migration"):
 * `vm migrate NAME HOST:PORT` moves the running VM to a VMM that another
 * Berth started with incoming=PORT (`vm receive NAME PORT`), over TCP
 * through the network server (servers/lib/net_socket.h).
 *
 * The source.  A thread of ours (migrate_thread) connects and sends the
 * VMM's arguments and RAM size; the destination builds the VM and says
 * it is ready.  The dirty log starts (dirty.c), then round 0 sends every
 * page that is not all zero (the destination's RAM starts zeroed), and
 * each later round the pages the log holds, while the guest runs on.
 * When a round's remainder is small (MIG_STOP_PAGES) or the rounds are
 * many, the thread wakes the main loop, which stops the VCPU at its next
 * exit (or at once, if it is parked in HLT) and sends what is left: the
 * pages written since, every page a device model touched since the start
 * (dirty.c logs them before they are written, so a round may have sent
 * one too early), and the state a snapshot holds except RAM
 * (snapshot_put_state).  The destination checks and applies it and says
 * so; the source answers "go" and ends, and the destination runs the VM.
 * Any failure before that (the connection lost, a timeout, the
 * destination's refusal) stops the log and the VM runs on here.
 *
 * The wire, little-endian (source -> destination unless said):
 *   hello   "BERTHMIG", u32 version, u32 length of the arguments, u64 RAM
 *           bytes, the arguments
 *   <-      u32 'R' ready, or 'N' refused (the destination's console says why)
 *   pages   u32 'P', u32 count (1..MIG_BATCH), count u64 guest-physical
 *           addresses, count pages of 4 KiB
 *   sync    u32 'Y', after each round
 *   <-      u32 'Y' once everything before it arrived: the buffers on the
 *           way (ours, the network server's, the host's) hold megabytes,
 *           and a round must end when its pages are there, not when they
 *           left, or the stop would wait for them
 *   state   u32 'S', u32 0, u64 length, a snapshot (snapfile.h) whose RAM
 *           section stores no page
 *   <-      u32 'A' applied, or 'N'
 *   go      u32 'G'
 *
 * The destination trusts nothing it is sent: a page outside RAM or not
 * aligned, a count out of range, a state too long or that the snapshot
 * reader refuses, each ends the migration with a line, and its VMM exits
 * without running anything.
 */
#include <string.h>
#include <stdlib.h>
#include <errno.h>
#include "vm.h"
#include "snapfile.h"
#include "net_socket.h"
#include "vmm.h"   /* generated from idl/vmm.idl: the reply's label */

#define MIG_VERSION 1
#define MIG_BATCH 15             /* pages a message: header and pages within 64 KiB, one send */
#define MIG_STOP_PAGES 256       /* a remainder this small: stop and copy */
#define MIG_ROUNDS_MAX 30
#define MIG_STATE_MAX (1024 * 1024)
#define MIG_TIMEOUT_MS 30000     /* for any one send or receive */
#define MIG_READY_TIMEOUT_MS 120000  /* the destination builds its VM */
#define PAGE 4096UL

enum { MIG_PAGES = 'P', MIG_SYNC = 'Y', MIG_STATE = 'S', MIG_READY = 'R', MIG_APPLIED = 'A', MIG_REFUSED = 'N',
       MIG_GO = 'G' };
enum { IDLE, ROUNDS, STOPPING, FAILED };

static struct {
	volatile int state;
	int fd;
	uint32_t addr;              /* network order */
	uint16_t port;
	char dest[64];
	uint64_t reply;             /* the requester's reply right */
	uint64_t tcb, to_main;
	const char *why;            /* a failure in words */
	uint64_t t0, t_stop;        /* TSC at the start and when the VCPU stopped */
	uint64_t rounds, pages;
	uint64_t *bits;             /* dirty_collect's copy of the log */
	uint8_t *batch;             /* one page message (BATCH_BYTES) */
	uint8_t *stack;             /* the thread's (STACK_BYTES) */
} M;

/* From the heap on first use: static, they would grow the image past the
 * slots init gives a task's pages (servers/init/tasks.c) */
#define BATCH_BYTES (8 + MIG_BATCH * (8 + PAGE))
#define STACK_BYTES 16384

/* --- the socket -------------------------------------------------------- */

static void set_timeout(int fd, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int send_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	while (n) {
		ssize_t k = send(fd, p, n, 0);
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int recv_all(int fd, void *buf, size_t n)
{
	uint8_t *p = buf;
	while (n) {
		ssize_t k = recv(fd, p, n, 0);
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static int send_word(int fd, uint32_t w)
{
	uint8_t b[4];
	put32(b, w);
	return send_all(fd, b, 4);
}

static int recv_word(int fd, uint32_t *w)
{
	uint8_t b[4];
	if (recv_all(fd, b, 4))
		return -1;
	*w = get32(b);
	return 0;
}

/* --- the source -------------------------------------------------------- */

/* Up to MIG_BATCH pages in one message: 0, or -1 when the send failed. */
static int send_pages(const uint64_t *gpa, unsigned n)
{
	uint8_t *b = M.batch;
	put32(b, MIG_PAGES);
	put32(b + 4, n);
	for (unsigned i = 0; i < n; i++)
		put64(b + 8 + 8 * i, gpa[i]);
	uint8_t *data = b + 8 + 8 * n;
	for (unsigned i = 0; i < n; i++)
		memcpy(data + i * PAGE, (const void *)(GUEST_RAM_VA + gpa[i]), PAGE);
	M.pages += n;
	return send_all(M.fd, b, 8 + n * (8 + PAGE));
}

static int page_is_zero(uint64_t gpa)
{
	const uint64_t *q = (const uint64_t *)(GUEST_RAM_VA + gpa);
	for (unsigned k = 0; k < PAGE / 8; k++)
		if (q[k])
			return 0;
	return 1;
}

/* Every page of a bitmap (one bit per page), or with all set and
 * skip_zero, every page that holds anything. */
static int send_bitmap(const uint64_t *bits, int all, int skip_zero)
{
	uint64_t batch[MIG_BATCH], pages = vm.ram_bytes / PAGE;
	unsigned n = 0;
	for (uint64_t p = 0; p < pages; p++) {
		if (!all && !(bits[p / 64] & (1UL << (p % 64))))
			continue;
		if (skip_zero && page_is_zero(p * PAGE))
			continue;
		batch[n++] = p * PAGE;
		if (n == MIG_BATCH) {
			if (send_pages(batch, n))
				return -1;
			n = 0;
		}
	}
	return n ? send_pages(batch, n) : 0;
}

/* Everything sent so far has arrived: 0, or -1. */
static int sync_round(void)
{
	uint32_t answer;
	set_timeout(M.fd, MIG_READY_TIMEOUT_MS);
	int err = send_word(M.fd, MIG_SYNC) || recv_word(M.fd, &answer) || answer != MIG_SYNC;
	set_timeout(M.fd, MIG_TIMEOUT_MS);
	return err ? -1 : 0;
}

static const char *hello(void)
{
	const char *args = snapshot_args();
	size_t n = strlen(args);
	uint8_t h[24 + 256];
	memcpy(h, "BERTHMIG", 8);
	put32(h + 8, MIG_VERSION);
	put32(h + 12, (uint32_t)n);
	put64(h + 16, vm.ram_bytes);
	memcpy(h + 24, args, n);
	uint32_t answer;
	if (send_all(M.fd, h, 24 + n))
		return "the destination took no hello";
	set_timeout(M.fd, MIG_READY_TIMEOUT_MS);
	if (recv_word(M.fd, &answer))
		return "the destination did not answer the hello";
	set_timeout(M.fd, MIG_TIMEOUT_MS);
	if (answer != MIG_READY)
		return "the destination refused the VM (its console says why)";
	return 0;
}

/* The rounds, while the guest runs: 0 when the rest is small enough to
 * stop for, or a failure in words. */
static const char *precopy(void)
{
	struct sockaddr_in sa = { AF_INET, M.port, { M.addr }, { 0 } };
	if ((M.fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return "no socket (is the network server running, and the manifest's needs net there?)";
	set_timeout(M.fd, MIG_TIMEOUT_MS);
	if (connect(M.fd, (struct sockaddr *)&sa, sizeof(sa)))
		return errno == ECONNREFUSED ? "the destination refused the connection (is it waiting? vm receive)"
		                             : "no connection to the destination";
	const char *why = hello();
	if (why)
		return why;
	if (dirty_start())
		return "the dirty log could not start";
	debug_printf("vmm: %smigrate to %s: the destination is ready; round 0\n", vm_name, M.dest);
	uint64_t words = dirty_words();
	if (send_bitmap(0, 1, 1) || sync_round())
		return "the connection failed in round 0";
	M.rounds = 1;
	debug_printf("vmm: %smigrate: round 0: %lu pages\n", vm_name, M.pages);
	for (;;) {
		uint64_t n = dirty_collect(M.bits), before = M.pages;
		if (n <= MIG_STOP_PAGES || M.rounds >= MIG_ROUNDS_MAX) {
			/* what this collect took is sent with the rest */
			for (uint64_t w = 0; w < words; w++)
				dirty_remark(w, M.bits[w]);
			return 0;
		}
		if (send_bitmap(M.bits, 0, 0) || sync_round())
			return "the connection failed in a round";
		debug_printf("vmm: %smigrate: round %lu: %lu pages\n", vm_name, M.rounds, M.pages - before);
		M.rounds++;
	}
}

static void migrate_thread(uint64_t arg)
{
	(void)arg;
	M.why = precopy();
	__atomic_store_n(&M.state, M.why ? FAILED : STOPPING, __ATOMIC_RELEASE);
	exit_work_ask();
	sys_notify(M.to_main, MIGRATE_BIT);
}

static void answer(long err, uint64_t total_ms, uint64_t downtime_ms)
{
	struct msg m;
	m.info = MSG_INFO(VMM_MIGRATE_LABEL, err ? 1 : 5, 0);
	m.w[0] = (uint64_t)err;
	m.w[1] = M.rounds;
	m.w[2] = M.pages;
	m.w[3] = total_ms;
	m.w[4] = downtime_ms;
	ipc_reply(M.reply, &m);
	sys_cnode_delete(M.reply);
}

static void end(void)
{
	if (M.fd >= 0)
		closesocket(M.fd);
	M.fd = -1;
	free(M.bits);
	M.bits = 0;
	M.state = IDLE;
}

/* The migration failed: the VM runs on here. */
static void failed(const char *why)
{
	dirty_stop();
	debug_printf("vmm: %smigrate to %s: failed: %s; the VM runs on here\n", vm_name, M.dest, why);
	answer(E_STATE, 0, 0);
	end();
}

long migrate_request(const char *dest, uint64_t reply_slot)
{
	if (M.state != IDLE || vm.stopped || !vm.guest_space || shadow_on() || dirty_tracking())
		return E_STATE;
	struct balloon_info bi;
	if (!balloon_info(&bi)) {
		debug_printf("vmm: %smigrate: refused: a VM with a balloon cannot move yet (docs/lifecycle.md)\n",
		             vm_name);
		return E_STATE;
	}
	const char *colon = strchr(dest, ':');
	char host[32];
	size_t hn = colon ? (size_t)(colon - dest) : 0;
	unsigned long port = colon ? strtoul(colon + 1, 0, 10) : 0;
	if (!hn || hn >= sizeof(host) || !port || port > 65535 || strlen(dest) >= sizeof(M.dest))
		return E_BAD_ARG;
	memcpy(host, dest, hn);
	host[hn] = 0;
	struct in_addr a;
	if (!inet_aton(host, &a))
		return E_BAD_ARG;
	/* all the memory the thread uses, here: the C library's allocator
	 * is not made for two threads */
	if (!M.batch && !(M.batch = malloc(BATCH_BYTES)))
		return E_STATE;
	free(M.bits);
	if (!(M.bits = malloc((vm.ram_bytes / PAGE + 63) / 64 * 8)))
		return E_STATE;
	if (!M.stack) {
		uintptr_t p = (uintptr_t)malloc(STACK_BYTES + 16);
		if (!p)
			return E_STATE;
		M.stack = (uint8_t *)((p + 15) & ~(uintptr_t)15);
	}
	if (!M.reply && !(M.reply = slot_alloc()))
		return E_SLOT_FULL;
	if (!M.to_main) {
		M.to_main = slot_alloc();
		if (!M.to_main || sys_cnode_mint(vm.port, CAP_ROOT_CNODE, M.to_main, RIGHT_SEND, 0))
			return E_SLOT_FULL;
	}
	if (sys_cnode_move(reply_slot, CAP_ROOT_CNODE, M.reply))
		return E_SLOT_FULL;
	strcpy(M.dest, dest);
	M.addr = a.s_addr;
	M.port = htons((uint16_t)port);
	M.fd = -1;
	M.rounds = M.pages = 0;
	M.t0 = rdtsc();
	M.state = ROUNDS;
	if (M.tcb) { /* the last migration's thread, stopped when it returned */
		sys_cnode_delete(M.tcb);
		slot_free(M.tcb);
		M.tcb = 0;
	}
	/* above the VCPU (90), so the rounds go on while the guest is busy;
	 * below us (120), so its exits are still answered */
	long err = thread_create(migrate_thread, 0, M.stack, STACK_BYTES, 100, &M.tcb);
	if (err) {
		M.state = IDLE;
		return err;
	}
	debug_printf("vmm: %smigrate to %s: started\n", vm_name, dest);
	return E_OK;
}

int migrate_waiting(void)
{
	return __atomic_load_n(&M.state, __ATOMIC_ACQUIRE) == STOPPING;
}

/* The thread is done: a failure is answered now; a stop waits for the
 * VCPU (migrate_stop).  From main.c's notification. */
void migrate_notified(void)
{
	if (__atomic_load_n(&M.state, __ATOMIC_ACQUIRE) == FAILED)
		failed(M.why);
}

/* The state's bytes, gathered in memory (snap_writer's callback). */
static uint8_t *state_buf;

static long state_write(void *ctx, uint64_t offset, const void *bytes, size_t n)
{
	(void)ctx;
	if (offset > MIG_STATE_MAX || n > MIG_STATE_MAX - offset)
		return -ENOSPC;
	memcpy(state_buf + offset, bytes, n);
	return 0;
}

/* Stop and copy, the VCPU waiting on us (m: the answer to its exit, 0 if
 * it is parked in HLT): 1 if the VM has moved (this VMM ends), 0 if it
 * runs on here. */
int migrate_stop(const struct msg *m)
{
	if (!migrate_waiting())
		return 0;
	M.t_stop = rdtsc();
	uart_flush(&vm.uart);
	if (snapshot_disk_settle()) {
		failed("the disk's requests did not finish");
		return 0;
	}
	uint64_t before = M.pages;
	dirty_collect(M.bits);
	dirty_touched(M.bits);   /* and every page a device model touched */
	if (send_bitmap(M.bits, 0, 0)) {
		failed("the connection failed in the last round");
		return 0;
	}
	uint64_t last = M.pages - before, t_pages = rdtsc();
	/* the state, as a snapshot that stores no page */
	if (!state_buf && !(state_buf = malloc(MIG_STATE_MAX))) {
		failed("no memory for the state");
		return 0;
	}
	struct snap_writer w;
	snap_begin(&w, state_write, 0, vm.ram_bytes);
	snapshot_put_state(&w, m);
	uint64_t pages, used;
	snapshot_put_ram(&w, RAM_NONE, &pages, &used);
	if (snap_finish(&w)) {
		failed("the state does not fit the message");
		return 0;
	}
	uint8_t h[16];
	put32(h, MIG_STATE);
	put32(h + 4, 0);
	put64(h + 8, w.offset);
	uint32_t ack;
	uint64_t t_state = rdtsc();
	if (send_all(M.fd, h, 16) || send_all(M.fd, state_buf, w.offset) || recv_word(M.fd, &ack)) {
		failed("the connection failed sending the state");
		return 0;
	}
	if (ack != MIG_APPLIED) {
		failed("the destination refused the state (its console says why)");
		return 0;
	}
	/* from here the VM is the destination's: it runs when this arrives */
	int lost = send_word(M.fd, MIG_GO);
	M.rounds++;   /* the last one, with the VCPU stopped */
	uint64_t now = rdtsc();
	uint64_t total_ms = clock_cycles_to_ns(now - M.t0) / 1000000;
	uint64_t down_ms = clock_cycles_to_ns(now - M.t_stop) / 1000000;
	debug_printf("vmm: %smigrated to %s: %lu rounds, %lu pages (%lu in the last, the VCPU stopped), "
	             "%lu ms in all, the guest stopped %lu ms (last pages %lu ms, state of %lu bytes built %lu ms, "
	             "sent and applied %lu ms)%s\n", vm_name, M.dest, M.rounds, M.pages, last, total_ms, down_ms,
	             clock_cycles_to_ns(t_pages - M.t_stop) / 1000000, w.offset,
	             clock_cycles_to_ns(t_state - t_pages) / 1000000, clock_cycles_to_ns(now - t_state) / 1000000,
	             lost ? "; the go was not sent: the destination gives up, the VM is lost" : "");
	answer(lost ? E_STATE : E_OK, total_ms, down_ms);
	end();
	return 1;
}

/* --- the destination --------------------------------------------------- */

static int in_fd = -1;
static char in_from[24];

long migrate_refuse(const char *why)
{
	debug_printf("vmm: %sincoming migration from %s: refused: %s\n", vm_name, in_from, why);
	if (in_fd >= 0) {
		send_word(in_fd, MIG_REFUSED);
		closesocket(in_fd);
	}
	in_fd = -1;
	return E_BAD_ARG;
}

/* The source's arguments may say what the VM is (its memory, its mode,
 * its devices of its own), but not what it reaches of this machine: its
 * disk file, its kernel and initrd (read again at a reset), its forwards
 * and firewall on our switch, a port on the switch at all.  Those must be
 * what our own arguments (the manifest's, `vm receive`'s) give: 0, or the
 * first that differs. */
static const char *foreign_argument(const char *sent, const char *own)
{
	static const char *const keys[] = { "disk=", "kernel=", "initrd=", "forward=", "fw=" };
	for (unsigned k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		size_t ns = 0, no = 0;
		const char *vs = arg_value(sent, keys[k], &ns), *vo = arg_value(own, keys[k], &no);
		if (!vs != !vo || (vs && (ns != no || memcmp(vs, vo, ns))))
			return keys[k];
	}
	if (arg_flag(sent, "net") && !arg_flag(own, "net"))
		return "net";
	return 0;
}

/* incoming=PORT: wait for a source and take its hello: the VM's
 * arguments (NUL-terminated in args) and RAM size; own: our own
 * arguments, which bound what the source's may reach.  0, or an error
 * after a line. */
long migrate_accept(unsigned port, const char *own, char *args, size_t size, uint64_t *ram_bytes)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { AF_INET, htons((uint16_t)port), { INADDR_ANY }, { 0 } };
	strcpy(in_from, "?");
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 1)) {
		debug_printf("vmm: %sincoming=%u: cannot listen there (is the network server running, and the "
		             "manifest's needs net there?)\n", vm_name, port);
		if (l >= 0)
			closesocket(l);
		return E_STATE;
	}
	debug_printf("vmm: %swaiting for a migration on port %u\n", vm_name, port);
	struct sockaddr_in from;
	socklen_t from_len = sizeof(from);
	in_fd = accept(l, (struct sockaddr *)&from, &from_len);
	closesocket(l);
	if (in_fd < 0)
		return migrate_refuse("the connection was not accepted");
	uint32_t a = from.sin_addr.s_addr;
	debug_snprintf(in_from, sizeof(in_from), "%u.%u.%u.%u", a & 0xff, (a >> 8) & 0xff, (a >> 16) & 0xff, a >> 24);
	set_timeout(in_fd, MIG_TIMEOUT_MS);
	uint8_t h[24];
	if (recv_all(in_fd, h, sizeof(h)))
		return migrate_refuse("the connection ended before the hello");
	if (memcmp(h, "BERTHMIG", 8))
		return migrate_refuse("it is not a Berth migration");
	if (get32(h + 8) != MIG_VERSION)
		return migrate_refuse("another version of the protocol");
	uint32_t n = get32(h + 12);
	uint64_t ram = get64(h + 16);
	if (n >= size || n > 255)
		return migrate_refuse("its arguments are too long");
	if (!ram || ram > GUEST_RAM_MAX || ram % PAGE)
		return migrate_refuse("its RAM size is not one this VMM can give");
	if (recv_all(in_fd, args, n))
		return migrate_refuse("the connection ended in the hello");
	args[n] = 0;
	const char *foreign = foreign_argument(args, own);
	if (foreign) {
		char why[96];
		debug_snprintf(why, sizeof(why), "its '%s' is not this VM's (only its own manifest's reaches this machine)",
		               foreign);
		return migrate_refuse(why);
	}
	*ram_bytes = ram;
	return E_OK;
}

/* The VM built: ready, then the pages and the state.  0 when the source
 * said go (the VM runs here), or an error after a line (nothing runs). */
long migrate_receive(void)
{
	static uint64_t gpa[MIG_BATCH];
	uint64_t pages = 0, t0 = rdtsc(), t_sync = t0, t_head = t0;
	if (send_word(in_fd, MIG_READY))
		return migrate_refuse("the connection ended");
	for (;;) {
		uint32_t tag, count;
		if (recv_word(in_fd, &tag))
			return migrate_refuse("the connection ended (the source's console says why)");
		if (tag == MIG_PAGES) {
			uint8_t g[8 * MIG_BATCH];
			if (recv_word(in_fd, &count) || !count || count > MIG_BATCH)
				return migrate_refuse("a page message with a bad count");
			if (recv_all(in_fd, g, 8 * count))
				return migrate_refuse("the connection ended in a page message");
			for (uint32_t i = 0; i < count; i++) {
				gpa[i] = get64(g + 8 * i);
				if (gpa[i] % PAGE || gpa[i] >= vm.ram_bytes)
					return migrate_refuse("a page outside the VM's RAM");
			}
			for (uint32_t i = 0; i < count; i++) {
				void *p = guest_ptr(gpa[i], PAGE);
				if (!p || recv_all(in_fd, p, PAGE))
					return migrate_refuse("the connection ended in a page");
			}
			pages += count;
			continue;
		}
		if (tag == MIG_SYNC) {
			if (send_word(in_fd, MIG_SYNC))
				return migrate_refuse("the connection ended");
			t_sync = rdtsc();
			continue;
		}
		if (tag != MIG_STATE)
			return migrate_refuse("a message of no known kind");
		uint8_t h[12];
		if (recv_all(in_fd, h, sizeof(h)))
			return migrate_refuse("the connection ended in the state");
		t_head = rdtsc();
		uint64_t len = get64(h + 4);
		if (get32(h) || len > MIG_STATE_MAX)
			return migrate_refuse("the state is too long");
		if (!state_buf && !(state_buf = malloc(MIG_STATE_MAX)))
			return migrate_refuse("no memory for the state");
		if (recv_all(in_fd, state_buf, len))
			return migrate_refuse("the connection ended in the state");
		uint64_t t_body = rdtsc();
		char what[64], done[64];
		debug_snprintf(what, sizeof(what), "incoming migration from %s", in_from);
		debug_snprintf(done, sizeof(done), "migrated in from %s (%lu pages sent)", in_from, pages);
		if (snapshot_apply_blob(state_buf, len, what, done))
			return migrate_refuse("its state (the line above says why)");
		uint32_t go;
		uint64_t t_applied = rdtsc();
		if (send_word(in_fd, MIG_APPLIED) || recv_word(in_fd, &go) || go != MIG_GO)
			return migrate_refuse("no go from the source: it keeps the VM");
		uint64_t now = rdtsc();
		closesocket(in_fd);
		in_fd = -1;
		debug_printf("vmm: %sincoming migration from %s: %lu pages in %lu ms, the VM runs here (from the last "
		             "sync: the last pages and the state's head %lu ms, its body %lu ms, applied %lu ms, the go "
		             "%lu ms)\n", vm_name, in_from, pages, clock_cycles_to_ns(now - t0) / 1000000,
		             clock_cycles_to_ns(t_head - t_sync) / 1000000, clock_cycles_to_ns(t_body - t_head) / 1000000,
		             clock_cycles_to_ns(t_applied - t_body) / 1000000, clock_cycles_to_ns(now - t_applied) / 1000000);
		return E_OK;
	}
}
