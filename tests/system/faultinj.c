/* The fault-injection campaign (issue 17): into each server of a table,
 * one after the other, faults of the kinds software has, injected with
 * the capabilities init gives this task (its manifest entry's inject
 * line: init.idl's inject_cap hands out the target's main thread, its
 * CNode and the pages init mapped into it at its start); then what
 * follows is measured: whether the server failed, who noticed (init by a
 * fault message or a missed heartbeat, the server itself by exiting, or
 * this client by a wrong answer or one that never came), whether it came
 * back and how fast, whether any other server was restarted, and whether
 * data a client was told was safe (an fsync'd file) survived.
 *
 * The injector is here, in a test, not in a server of its own: it holds
 * rights into other tasks' memory and threads that nothing in a real
 * boot should hold, and only a manifest written for the campaign gives
 * them (docs/reliability.md, "Fault injection").
 *
 * Arguments (the manifest's args line; tools/faults.sh for long runs):
 *   seed=N     the seed (default 1); printed at the start
 *   count=N    injections per target (default 12; the manifest says 4)
 *   only=NAME  one target only (its task name)
 *   kind=K     one kind of fault only (0..8, as in kinds[] below)
 *   from=I     start at injection I (with only= and the seed: replay)
 *   verbose    a line before each injection, not only after a failure
 * Each target's generator is seeded from the seed and the target's
 * place in the table, each injection's from the seed, target and index,
 * so an injection replays alone (with from=); what it then does depends
 * on the moment it hits, which a replay does not reproduce exactly. */
// test-root: build/init.elf
// test-module: tests/system/manifests/faultinj.manifest
// test-module: build/serial.elf
// test-module: build/rtc.elf
// test-module: build/pci.elf
// test-module: build/virtio_blk.elf
// test-module: build/virtio_net.elf
// test-module: build/fs.elf
// test-module: build/net.elf
// test-module: build/vmm.elf
// test-module: build/tests/guests/progs/ticker.bin
// test-module: build/httpd.elf
// test-module: build/shell.elf
// test-hostfwd: tcp
// test-net: user hostfwd=tcp:127.0.0.1:{hostfwd:tcp}-:7300
// test-host: faults: tcp: listening => {python} tools/faults_tcp_peer.py {hostfwd:tcp} --secs 100
// test-disk-image: a build/tests/data/files.img
// test-qemu: -drive if=none,id=da,format=raw,file={disk:a} -device virtio-blk-pci,disable-legacy=on,drive=da,addr=6
// test-expect: faults: seed \d+, \d+ injections per target
// test-reject: faults: FAILED
// test-timeout: 300
// test-selfcheck: 16
#include "tap.h"
#include <string.h>
#include <libipc/libipc.h>
#include <berth/syscall.h>
#include "block.h"
#include "clock.h"
#include "console.h"
#include "fs.h"
#include "init.h"
#include "netif.h"
#include "pci.h"
#include "socket.h"
#include "net_socket.h"
#include <errno.h>
#include "vmm.h"
#include "safe_copy.h"

#define INIT 8
#define SCRATCH 0x0000600000000000UL  /* where a target's page is mapped to change it */
#define PROBE_DEADLINE_MS 3000        /* a probe unanswered this long: the client reports a hang */
#define SETTLE_MS 600                 /* after an injection: two heartbeat periods and more */
#define RECOVER_LIMIT_MS 20000        /* a failed server must serve again within this */
#define MAX_INJECTIONS 100000
#define LOG_LINES 8                   /* injections kept for the failure report */
#define WATCHDOG_PRIORITY 200         /* the manifest's: above every server */
#define CAMPAIGN_PRIORITY 90          /* below them all */
#define STARVED_MS 10000              /* the campaign ready to run this long without running: a loop above it */

/* --- the targets ---------------------------------------------------- */

struct target;
typedef long (*probe_fn)(struct target *t);

struct target {
	const char *task;     /* its name in the manifest */
	const char *dependents; /* tasks that need it (manifest's needs, or its devices through it): they may go down with it */
	const char *lent_to;  /* tasks that map device memory it lends them (the PCI server's drivers), which its
	                       * restart takes back: each fails at its next access to its device, whenever that is */
	const char *service;  /* the name it publishes, which the probe calls */
	probe_fn probe;       /* a client's call: E_OK if it was served right */
	uint64_t port;        /* our right to the service, 0: look it up */
	uint64_t expect;      /* what the probe learnt on its first answer */
	int tcp;              /* the TCP stream to the host runs through it (the network server) */
	int own_boot;         /* in a boot of its own (tools/faults.sh linux): only when only= names it */
	uint64_t warm_exits;  /* a VMM: inject once its guest has made this many exits (booted), 0: at once */
};

/* Drop a right we hold, and its slot. */
static void forget_slot(uint64_t *slot)
{
	if (*slot) {
		sys_cnode_delete(*slot);
		slot_free(*slot);
		*slot = 0;
	}
}

static long probe_console(struct target *t)
{
	uint64_t bytes;
	return console_written(t->port, &bytes);
}

/* A command typed through the console (a test-only request of a console
 * driver started with "testing"), then its answer waited for among what
 * the console's clients wrote.  Each probe's word is new, so an answer to
 * an earlier one does not count. */
static long type_and_wait(uint64_t console, int guest, unsigned ticks)
{
	static unsigned serial_no;
	char line[48], word[24];
	serial_no++;
	debug_snprintf(word, sizeof(word), "fz-%u-ok", 100000 + serial_no);
	/* a guest's tty echoes the line typed, which must not be taken for
	 * the answer: its shell computes the number (Berth's shell has no
	 * arithmetic, and the console keeps no copy of the line it edits) */
	int n = guest ? debug_snprintf(line, sizeof(line), "echo fz-$((100000+%u))-ok\r", serial_no)
	              : debug_snprintf(line, sizeof(line), "echo %s\n", word);
	long err = console_type_for_test(console, (const uint8_t *)line, (uint32_t)n);
	for (unsigned tries = 0; !err && tries < ticks; tries++) {
		uint32_t found = 0;
		err = console_output_has_for_test(console, word, &found);
		if (!err && found)
			return E_OK;
		clock_nap(1);
	}
	return err ? err : E_RANGE;
}

/* The shell publishes nothing (no heartbeat): it is typed at. */
static long probe_shell(struct target *t)
{
	return type_and_wait(t->port, 0, 200);   /* 2 s; the watchdog's deadline is 3 */
}

static long probe_clock(struct target *t)
{
	uint64_t now;
	long err = clock_now(t->port, &now);
	/* a clock that answers 1970 is wrong, not slow */
	return err ? err : now > 1600000000ULL ? E_OK : E_RANGE;
}

static long probe_pci(struct target *t)
{
	uint32_t address, ids, class_rev, subsystem, irq;
	char owner[32];
	long err = pci_list(t->port, 0, &address, &ids, &class_rev, &subsystem, &irq, owner);
	if (err)
		return err;
	if (!t->expect)
		t->expect = ids;
	return ids == t->expect ? E_OK : E_RANGE;
}

static long probe_block(struct target *t)
{
	uint64_t sectors;
	uint32_t size, flags;
	long err = block_info(t->port, &sectors, &size, &flags);
	if (err)
		return err;
	if (!t->expect)
		t->expect = sectors;
	return sectors == t->expect && size == 512 ? E_OK : E_RANGE;
}

static long probe_netif(struct target *t)
{
	uint64_t mac;
	uint32_t mtu, flags;
	long err = netif_info(t->port, &mac, &mtu, &flags);
	if (err)
		return err;
	if (!t->expect)
		t->expect = mac;
	return mac == t->expect && mtu >= 576 ? E_OK : E_RANGE;
}

static long probe_socket(struct target *t)
{
	uint64_t session;
	uint32_t pages;
	long err = socket_open(t->port, "faults", &session, &pages);
	if (err)
		return err;
	/* dropping the session is how a client closes it (no-senders) */
	sys_cnode_delete(session);
	slot_free(session);
	return E_OK;
}

/* The web server: a GET of a file the disk holds, through the network
 * server's loopback (the sockets library), answered whole.  It
 * publishes no name: the service the probe needs is the network
 * server's. */
static long probe_http(struct target *t)
{
	(void)t;
	static const char want[] = "hello from the host\n";
	static char reply[1024];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80), .sin_addr = { htonl(INADDR_LOOPBACK) } };
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0)
		return E_NO_REPLY;   /* no session with the network server */
	struct timeval tv = { 2, 0 };   /* below the watchdog's deadline */
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	static const char get[] = "GET /hello.txt HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n\r\n";
	size_t got = 0;
	long err = connect(c, (struct sockaddr *)&a, sizeof(a)) || send(c, get, sizeof(get) - 1, 0) != sizeof(get) - 1
	           ? E_NO_REPLY : E_OK;
	while (!err && got < sizeof(reply) - 1) {
		ssize_t n = recv(c, reply + got, sizeof(reply) - 1 - got, 0);
		if (n < 0)
			err = E_NO_REPLY;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	closesocket(c);
	reply[got] = 0;
	if (err)
		return err;
	size_t w = sizeof(want) - 1;
	return !strncmp(reply, "HTTP/1.1 200 ", 13) && got >= w && !memcmp(reply + got - w, want, w) ? E_OK : E_RANGE;
}

/* A VMM answers with its VM's name: the service's, after "vm.". */
static long probe_vmm(struct target *t)
{
	char name[33];
	uint32_t state;
	uint64_t memory, uptime, exits;
	long err = vmm_info(t->port, name, &state, &memory, &uptime, &exits);
	return err ? err : strcmp(name, t->service + 3) ? E_RANGE : E_OK;
}

/* The console, for typing at a guest's shell (the Linux VMM reads the
 * console for its guest: its args say input). */
static uint64_t guest_console;
static long typed_at_guest(unsigned ticks)
{
	if (!guest_console && init_lookup(INIT, "console", &guest_console))
		guest_console = 0;
	if (!guest_console)
		return E_BAD_CAP;
	long err = type_and_wait(guest_console, 1, ticks);
	if (ipc_peer_gone(err))
		forget_slot(&guest_console);
	return err;
}

/* A running Linux guest's VMM: its name, and once its guest has booted
 * (warm_exits), the guest itself: a command typed at its shell is
 * answered, so a device model the fault left wrong, which the guest
 * panics or hangs on, is a failure too (the guest is the VMM's client).
 * A guest still booting is not judged: after a failure the VMM serves
 * again at once, and its guest boots for a minute or two. */
static long probe_linux(struct target *t)
{
	char name[33];
	uint32_t state;
	uint64_t memory, uptime, exits;
	long err = vmm_info(t->port, name, &state, &memory, &uptime, &exits);
	if (err || strcmp(name, t->service + 3))
		return err ? err : E_RANGE;
	return exits > t->warm_exits ? typed_at_guest(250) : E_OK;   /* 2.5 s; the watchdog's deadline is 3 */
}

/* The fs probe is also the data check: a file whose contents is the
 * number of the last write fsync returned for must read back so. */
static uint64_t fs_acked, fs_pending;
static unsigned fs_lost;

static long fs_file(struct target *t, uint32_t *ino)
{
	uint32_t kind;
	uint64_t size;
	return fs_open(t->port, "/durable.txt", 1 /* FS_CREAT */, 0644, ino, &kind, &size);
}

static long fs_check(struct target *t)
{
	uint32_t ino, got;
	uint8_t data[448];
	long err = fs_file(t, &ino);
	err = err ? err : fs_read(t->port, ino, 0, 8, data, &got);
	if (err)
		return err;
	uint64_t v = 0;
	if (got == 8)
		memcpy(&v, data, 8);
	if (fs_acked && v != fs_acked && v != fs_pending) {
		debug_printf("faults: DATA LOST: /durable.txt holds %lu, fsync had returned for %lu\n", v, fs_acked);
		fs_lost++;
		fs_acked = 0; /* report a loss once */
		return E_RANGE;
	}
	return E_OK;
}

static long probe_fs(struct target *t)
{
	uint32_t ino, written;
	long err = fs_check(t);
	if (err)
		return err;
	uint64_t v = fs_acked + 1;
	fs_pending = v;
	err = fs_file(t, &ino);
	err = err ? err : fs_write(t->port, ino, 0, (const uint8_t *)&v, 8, &written);
	err = err ? err : written == 8 ? fs_fsync(t->port, ino) : E_RANGE;
	if (!err)
		fs_acked = v;
	return err;
}

/* --- acknowledged TCP data: a stream to the host ------------------------ */

/* While the network server is the target, the campaign sends numbered
 * records (8-byte numbers, from 1 up) over a TCP connection to the host,
 * where tools/faults_tcp_peer.py reads them and answers each read with
 * the number of the last record it holds.  A record is acknowledged once
 * that answer has come: the client was told it is safe.  Each failure of
 * the server ends the connection; the peer connects again (through
 * QEMU's hostfwd to TCP_PORT) and first says what it holds, which must
 * not be below what was acknowledged, and the stream goes on from there
 * (records sent but not acknowledged may be lost: the peer's first
 * answer says which to send again).  The peer checks that the records
 * it reads follow one another. */
#define TCP_PORT 7300
#define TCP_BATCH 32
#define TCP_VA 0x0000320000000000UL   /* our session's buffer, the server's frames */
#define TCP_TIMEOUT_MS 1000
#define NO_SOCK 0xffffffffu
static uint64_t tcp_session, tcp_frames[16];
static uint32_t tcp_pages, tcp_listen_sock = NO_SOCK, tcp_conn_sock = NO_SOCK;
static int tcp_fresh, tcp_said_listening;
static uint64_t tcp_next = 1, tcp_acked, tcp_connections, tcp_in_len;
static unsigned tcp_stale;   /* first numbers that came below what was acknowledged */
static unsigned tcp_stale_closed;   /* of those, on connections the peer had closed already */
static uint8_t tcp_in[8];


/* The session is gone (the server died) or must go: its sockets with it. */
static void tcp_drop_session(void)
{
	for (uint32_t p = 0; p < tcp_pages; p++) {
		sys_page_unmap(tcp_frames[p]);
		forget_slot(&tcp_frames[p]);
	}
	tcp_pages = 0;
	forget_slot(&tcp_session);
	tcp_listen_sock = tcp_conn_sock = NO_SOCK;
	tcp_in_len = 0;
}

static void tcp_drop_conn(void)
{
	if (tcp_conn_sock != NO_SOCK)
		socket_close(tcp_session, tcp_conn_sock);
	tcp_conn_sock = NO_SOCK;
	tcp_in_len = 0;
}

/* After a call failed: the server gone drops the session, anything else
 * the connection.  Returns 0. */
static int tcp_failed(long err)
{
	if (ipc_peer_gone(err))
		tcp_drop_session();
	else
		tcp_drop_conn();
	return 0;
}

static long tcp_open_session(void)
{
	uint64_t net = 0;
	long err = init_lookup(INIT, "net", &net);
	err = err ? err : socket_open(net, "faults-tcp", &tcp_session, &tcp_pages);
	forget_slot(&net);
	if (!err && tcp_pages > 16)
		err = E_RANGE;
	for (uint32_t p = 0; !err && p < tcp_pages; p++) {
		err = socket_buffer_frame(tcp_session, p, &tcp_frames[p]);
		err = err ? err : page_map_with_tables(tcp_frames[p], TCP_VA + (uint64_t)p * PAGE_SIZE,
		                                        RIGHT_READ | RIGHT_WRITE);
	}
	if (!err)
		err = socket_socket(tcp_session, 1, &tcp_listen_sock);
	err = err ? err : socket_bind(tcp_session, tcp_listen_sock, 0, TCP_PORT);
	err = err ? err : socket_listen(tcp_session, tcp_listen_sock, 1);
	if (err)
		tcp_drop_session();
	return err;
}

/* The peer's next number (its last record held): 1, or 0 if none came
 * in time or the connection broke (then dropped).  The buffer is the
 * server's: it is read with safe_copy, since it vanishes if the server
 * dies under us. */
static int tcp_read_value(uint64_t *v)
{
	while (tcp_in_len < 8) {
		uint32_t got;
		long err = socket_recv(tcp_session, tcp_conn_sock, 0, (uint32_t)(8 - tcp_in_len), TCP_TIMEOUT_MS, &got);
		if (err || !got || safe_copy(tcp_in + tcp_in_len, (const void *)TCP_VA, got))
			return tcp_failed(err ? err : got ? E_DEAD_PORT : E_STATE);
		tcp_in_len += got;
	}
	memcpy(v, tcp_in, 8);
	tcp_in_len = 0;
	return 1;
}

static int tcp_send_records(uint64_t first, unsigned count)
{
	uint64_t rec[TCP_BATCH];
	for (unsigned i = 0; i < count && i < TCP_BATCH; i++)
		rec[i] = first + i;
	uint32_t len = count * 8, sent = 0;
	if (safe_copy((void *)TCP_VA, rec, len))
		return tcp_failed(E_DEAD_PORT);
	long err = socket_send(tcp_session, tcp_conn_sock, 0, len, TCP_TIMEOUT_MS, &sent);
	if (err || sent != len)
		return tcp_failed(err ? err : E_STATE);
	return 1;
}

/* One step, part of the network server's probe: a session, listener and
 * connection if there are none (the peer's first number checked),
 * acknowledgements of what is in flight, a batch waited for and a batch
 * left in flight.  A broken stream is no failure: it is made again at the
 * next step.  A first number below what was acknowledged (or past what
 * was sent) is logged and counted, and the connection made again: such
 * numbers are seen (0, or an earlier acknowledgement: as if the server's
 * reply said bytes came that it never wrote into our buffer), their cause
 * is not found yet (docs/reliability.md), so they are not taken for
 * losses; the peer's own check (the records it holds follow one another)
 * is the verdict. */
static long tcp_step(void)
{
	if (!tcp_session && tcp_open_session())
		return E_OK;
	if (!tcp_said_listening++)
		debug_printf("faults: tcp: listening on port %u for the peer\n", TCP_PORT);
	if (tcp_conn_sock == NO_SOCK) {
		uint32_t addr, port;
		long err = socket_accept(tcp_session, tcp_listen_sock, 0, &tcp_conn_sock, &addr, &port);
		if (err) {
			tcp_conn_sock = NO_SOCK;
			if (err != E_WOULD_BLOCK)
				tcp_failed(ipc_peer_gone(err) ? err : E_DEAD_PORT);
			return E_OK;
		}
		tcp_fresh = 1;
	}
	uint64_t v;
	if (tcp_fresh) {
		if (!tcp_read_value(&v))
			return E_OK;
		if (v < tcp_acked || v >= tcp_next) {
			/* a connection the peer had given up already (closed:
			 * an end of stream or a reset at once), which QEMU's user
			 * network made with us late, or one it reads from (open:
			 * nothing comes, it waits for records)? */
			uint32_t got = 0;
			long err = socket_recv(tcp_session, tcp_conn_sock, 0, 8, 300, &got);
			int closed = err != E_WOULD_BLOCK && (err || !got);
			debug_printf("faults: tcp: the peer's first number came as %lu: %lu records were acknowledged, %lu "
			             "sent; that connection is %s\n", v, tcp_acked, tcp_next - 1,
			             closed ? "closed by the peer already" : "open");
			tcp_stale++;
			tcp_stale_closed += closed;
			tcp_drop_conn();
			return E_OK;
		}
		tcp_next = v + 1;
		tcp_fresh = 0;
		tcp_connections++;
	}
	if (!tcp_send_records(tcp_next, TCP_BATCH))
		return E_OK;
	tcp_next += TCP_BATCH;
	while (tcp_acked + 1 < tcp_next) {
		if (!tcp_read_value(&v))
			return E_OK;
		if (v > tcp_acked)
			tcp_acked = v;
	}
	if (tcp_send_records(tcp_next, TCP_BATCH))
		tcp_next += TCP_BATCH; /* in flight when the next fault comes */
	return E_OK;
}

/* The end record, on a connection made for it if need be; the peer ends. */
static void tcp_finish(void)
{
	uint64_t t0 = clock_ms();
	while (tcp_conn_sock == NO_SOCK || tcp_fresh) {
		if (clock_ms() - t0 > 20000)
			return;
		tcp_step();
		clock_nap(2);
	}
	tcp_step(); /* what was in flight acknowledged */
	uint64_t end = ~0ULL;
	uint32_t sent;
	if (tcp_conn_sock != NO_SOCK && !safe_copy((void *)TCP_VA, &end, 8))
		socket_send(tcp_session, tcp_conn_sock, 0, 8, TCP_TIMEOUT_MS, &sent);
	tcp_drop_session();
}

/* A new server joins the campaign by one line here (and its entry in
 * the manifest, with heartbeat and restart lines; this task's inject
 * and control lines say all). */
static struct target targets[] = {
	{ "serial", " shell ", "", "console", probe_console, 0, 0, 0, 0, 0 },
	{ "rtc", "", "", "clock", probe_clock, 0, 0, 0, 0, 0 },
	{ "pci", " blk0 net0 fs net httpd ", " blk0 net0 ", "pci", probe_pci, 0, 0, 0, 0, 0 },
	{ "blk0", " fs httpd ", "", "blk0", probe_block, 0, 0, 0, 0, 0 },
	{ "fs", " httpd ", "", "fs", probe_fs, 0, 0, 0, 0, 0 },
	{ "net0", " net httpd ", "", "net0", probe_netif, 0, 0, 0, 0, 0 },
	{ "net", " httpd ", "", "net", probe_socket, 0, 0, 1, 0, 0 },
	{ "vmm-t", "", "", "vm.t", probe_vmm, 0, 0, 0, 0, 0 },
	{ "httpd", "", "", "net", probe_http, 0, 0, 0, 0, 0 },
	{ "shell", "", "", "console", probe_shell, 0, 0, 0, 0, 0 },
	/* a Linux guest's VMM, once its guest is nearly booted (linux_vms.c) */
	{ "linux", "", "", "vm.linux", probe_linux, 0, 0, 0, 1, 65000 },
};
#define NTARGETS (sizeof(targets) / sizeof(targets[0]))

static struct target *target_named(const char *name)
{
	for (unsigned i = 0; i < NTARGETS; i++)
		if (!strcmp(targets[i].task, name))
			return &targets[i];
	return 0;
}

/* --- the kinds of fault --------------------------------------------- */

enum kind {
	K_FLIP_CODE,  /* one bit of its code */
	K_FLIP_DATA,  /* one bit of its data, bss or stack */
	K_REGISTER,   /* one bit of one register, while it is stopped */
	K_SKIP,       /* RIP moved on 1..4 bytes: an instruction skipped, or cut */
	K_REPLACE,    /* an instruction at a random place of its code replaced */
	K_WILD_WRITE, /* a random word written at a random place of its data */
	K_LOOP,       /* the instruction it will run next becomes jmp . */
	K_DEADLOCK,   /* its thread stops for good: it no longer answers */
	K_EXHAUST,    /* its CNode's free slots filled: its allocations fail */
	K_EXHAUST_MEM, /* it allocates until its memory is gone, then stops, crashes or carries on */
	K_COUNT
};
static const char *const kind_names[K_COUNT] = {
	"flip-code", "flip-data", "register", "skip", "replace", "wild-write", "loop", "deadlock", "exhaust",
	"exhaust-mem",
};

/* --- the generator ---------------------------------------------------- */

static uint64_t rng;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}
static uint64_t below(uint64_t n) { return n ? next() % n : 0; }
static void seed_with(uint64_t a, uint64_t b, uint64_t c)
{
	rng = (a * 0x9e3779b97f4a7c15ULL) ^ (b * 0xbf58476d1ce4e5b9ULL) ^ (c * 0x94d049bb133111ebULL) ^ 0x2545f4914f6cdd1dULL;
	for (int i = 0; i < 4; i++)
		next();
}

/* --- the injector ----------------------------------------------------- */

struct part {
	uint64_t cap;
	uint32_t kind, rights;
	uint64_t vaddr;
};

/* The target's pages as init started it, and its thread and CNode. */
static struct part pages[256];
static unsigned npages;
static uint64_t thread_cap, cnode_cap;

static void drop_parts(void)
{
	uint64_t caps[2] = { thread_cap, cnode_cap };
	for (int i = 0; i < 2; i++)
		if (caps[i]) {
			sys_cnode_delete(caps[i]);
			slot_free(caps[i]);
		}
	thread_cap = cnode_cap = 0;
	for (unsigned i = 0; i < npages; i++) {
		sys_cnode_delete(pages[i].cap);
		slot_free(pages[i].cap);
	}
	npages = 0;
}

static long take_parts(const char *task)
{
	drop_parts();
	for (uint32_t i = 0;; i++) {
		struct part p;
		long err = init_inject_cap(INIT, task, i, &p.cap, &p.kind, &p.vaddr, &p.rights);
		if (err == E_RANGE && i >= 2)
			return E_OK;
		if (err)
			return err;
		if (p.kind == 0)
			thread_cap = p.cap;
		else if (p.kind == 2)
			cnode_cap = p.cap;
		else if (npages < sizeof(pages) / sizeof(pages[0]))
			pages[npages++] = p;
		else {
			sys_cnode_delete(p.cap);
			slot_free(p.cap);
		}
	}
}

/* A random page whose rights in the target include want (EXEC: code;
 * WRITE: data, bss, stack), or 0. */
static const struct part *some_page(uint32_t want)
{
	unsigned n = 0;
	for (unsigned i = 0; i < npages; i++)
		n += (pages[i].rights & want) == want;
	if (!n)
		return 0;
	unsigned k = (unsigned)below(n);
	for (unsigned i = 0; i < npages; i++)
		if ((pages[i].rights & want) == want && !k--)
			return &pages[i];
	return 0;
}

static const struct part *page_of(uint64_t vaddr)
{
	for (unsigned i = 0; i < npages; i++)
		if (pages[i].vaddr == (vaddr & ~(uint64_t)(PAGE_SIZE - 1)))
			return &pages[i];
	return 0;
}

/* Change len bytes at offset of the target's page: through our own
 * mapping of it, so its rights there do not matter (code too).  The
 * page leaves our space if the target dies meanwhile (a failure of an
 * earlier injection showing now: init takes back its pages, our copies
 * with them), so the bytes cross with safe_copy: E_DEAD_PORT then. */
static long poke(const struct part *p, unsigned offset, const uint8_t *bytes, unsigned len, int xor)
{
	uint8_t cur[256];
	if (offset >= PAGE_SIZE || len > sizeof(cur))
		return E_BAD_ARG;
	if (len > PAGE_SIZE - offset)
		len = PAGE_SIZE - offset;
	long err = page_map_with_tables(p->cap, SCRATCH, RIGHT_READ | RIGHT_WRITE);
	if (err)
		return err;
	void *at = (void *)(SCRATCH + offset);
	if (xor && safe_copy(cur, at, len))
		err = E_DEAD_PORT;
	for (unsigned i = 0; i < len; i++)
		cur[i] = xor ? cur[i] ^ bytes[i] : bytes[i];
	if (!err && safe_copy(at, cur, len))
		err = E_DEAD_PORT;
	long unmapped = sys_page_unmap(p->cap);
	return err ? err : unmapped;
}

static long flip_bit(const struct part *p)
{
	if (!p)
		return E_BAD_ARG;
	uint8_t bit = (uint8_t)(1u << below(8));
	return poke(p, (unsigned)below(PAGE_SIZE), &bit, 1, 1);
}

/* Stop the thread, let change() alter its registers, start it again.
 * A thread blocked in a call sees the call cancelled (E_STATE); libipc's
 * receive loops receive again. */
static long with_registers(int (*change)(struct tcb_regs *r))
{
	struct tcb_regs r;
	long err = sys_tcb_suspend(thread_cap);
	err = err ? err : sys_tcb_regs_read(thread_cap, &r);
	if (!err && change(&r)) {
		struct tcb_regs w = r;
		err = sys_tcb_regs_write(thread_cap, &w);
		/* a flipped RIP outside user space is refused: no fault injected */
	}
	long resumed = sys_tcb_resume(thread_cap);
	return err ? err : resumed;
}

static int change_register(struct tcb_regs *r)
{
	uint64_t *words = (uint64_t *)r;
	words[below(TCB_REGS_WORDS)] ^= 1UL << below(64);
	return 1;
}

static int change_skip(struct tcb_regs *r)
{
	r->rip += 1 + below(4);
	return 1;
}

static uint64_t loop_rip;
static int read_rip(struct tcb_regs *r)
{
	loop_rip = r->rip;
	return 0;
}

/* --- memory exhaustion: the target allocates until refused ----------- */

/* The code a target's own thread runs for K_EXHAUST_MEM, copied into one
 * of its code pages (and the bytes there put back afterwards): retype
 * from its memory Untyped into its empty CNode slots, Untypeds of the
 * largest size that still fits, then smaller, then ports (the smallest
 * object), until the kernel refuses even a port; then it stops itself.
 * The slots are taken from the top of its CNode down: libipc hands out
 * slots from the bottom up, and a slot it handed out may be empty only
 * for now (the server loop's slot for the next reply right), which a
 * leak in the server's own code would never fill.  An Untyped is a bump
 * allocator, so one or two objects usually take everything.
 * In: rbp its Untyped's slot, rbx its first free slot (the lowest to
 * try), r12 its last slot, r13 the size to start with (bits), r14
 * OBJ_UNTYPED, r15 0.  Out: r15 the bytes it took.  Only relative jumps:
 * it runs anywhere. */
_Static_assert(SYS_UNTYPED_RETYPE == 4 && SYS_TCB_SUSPEND == 10 && E_SLOT_FULL == 9 && OBJ_PORT == 7 &&
                   PORT_BITS == 7 && UNTYPED_MIN_BITS == 12 && CAP_ROOT_CNODE == 1 && CAP_ROOT_TCB == 3,
               "the numbers written in leak_code");
extern const uint8_t leak_code[], leak_code_done[], leak_code_end[];
__asm__(".pushsection .text\n"
        ".intel_syntax noprefix\n"
        "leak_code:\n"
        "1:  cmp r12, rbx\n"          /* out of slots: that is the end too */
        "    jb leak_code_done\n"
        "    mov eax, 4\n"            /* SYS_UNTYPED_RETYPE */
        "    mov rdi, rbp\n"
        "    mov rsi, r14\n"
        "    mov rdx, r13\n"
        "    mov r10, -1\n"           /* RETYPE_NEXT_FREE */
        "    mov r8d, 1\n"            /* CAP_ROOT_CNODE */
        "    mov r9, r12\n"
        "    syscall\n"
        "    test rax, rax\n"
        "    jnz 3f\n"
        "    mov ecx, r13d\n"         /* made one: count its bytes */
        "    mov eax, 1\n"
        "    shl rax, cl\n"
        "    add r15, rax\n"
        "2:  dec r12\n"
        "    jmp 1b\n"
        "3:  cmp eax, 9\n"            /* E_SLOT_FULL: the next slot */
        "    je 2b\n"
        "    cmp r14d, 7\n"           /* refused a port: nothing is left */
        "    je leak_code_done\n"
        "    dec r13d\n"              /* no room for this size: a smaller one */
        "    cmp r13d, 12\n"
        "    jae 1b\n"
        "    mov r14d, 7\n"           /* then ports, PORT_BITS */
        "    mov r13d, 7\n"
        "    jmp 1b\n"
        "leak_code_done:\n"
        "    mov eax, 10\n"           /* SYS_TCB_SUSPEND of itself */
        "    mov edi, 3\n"
        "    syscall\n"
        "    jmp leak_code_done\n"
        "leak_code_end:\n"
        ".att_syntax prefix\n"
        ".popsection\n");

enum leak_end { LEAK_STOP, LEAK_CRASH, LEAK_CARRY_ON, LEAK_ENDS };
static const char *const leak_end_names[LEAK_ENDS] = { "stops", "crashes", "carries on" };
static uint64_t leak_taken, leak_quota;   /* of the last K_EXHAUST_MEM */
static unsigned leak_end;
static int leak_slots_first;              /* it ran out of slots before memory */

static long exhaust_memory(void)
{
	/* its memory Untyped and CNode, from its boot info */
	const struct part *bp = page_of(BOOTINFO_VADDR);
	const struct part *code = some_page(RIGHT_EXEC);
	if (!bp || !code || page_map_with_tables(bp->cap, SCRATCH, RIGHT_READ))
		return E_BAD_ARG;
	/* our own copy: the page goes if the target dies meanwhile (poke) */
	static struct bootinfo copy;
	_Static_assert(sizeof(copy) <= PAGE_SIZE, "the boot info fits its page");
	if (safe_copy(&copy, (const void *)SCRATCH, sizeof(copy))) {
		sys_page_unmap(bp->cap);
		return E_DEAD_PORT;
	}
	const struct bootinfo *bi = &copy;
	uint64_t ut = 0, bits = 0, last = (1ULL << bi->cnode_radix) - 1, first = bi->first_free_slot;
	for (uint32_t i = 0; i < bi->untyped_count && i < BOOTINFO_MAX_UNTYPED && !ut; i++)
		if (!bi->untyped[i].is_device)
			ut = bi->untyped[i].slot, bits = bi->untyped[i].size_bits;
	sys_page_unmap(bp->cap);
	if (!ut)
		return E_BAD_ARG;
	leak_quota = 1ULL << bits;
	unsigned len = (unsigned)(leak_code_end - leak_code);
	unsigned offset = (unsigned)below(PAGE_SIZE - len);
	uint64_t rip = code->vaddr + offset;
	/* the bytes there, to put back once it has run */
	static uint8_t saved[256];
	if (len > sizeof(saved) || page_map_with_tables(code->cap, SCRATCH, RIGHT_READ))
		return E_BAD_ARG;
	int gone = safe_copy(saved, (const void *)(SCRATCH + offset), len);
	sys_page_unmap(code->cap);
	if (gone)
		return E_DEAD_PORT;

	struct tcb_regs r, w;
	long err = sys_tcb_suspend(thread_cap);
	err = err ? err : sys_tcb_regs_read(thread_cap, &r);
	err = err ? err : poke(code, offset, leak_code, len, 0);
	w = r;
	w.rip = rip, w.rbp = ut, w.rbx = first, w.r12 = last, w.r13 = bits, w.r14 = OBJ_UNTYPED, w.r15 = 0;
	err = err ? err : sys_tcb_regs_write(thread_cap, &w);
	err = err ? err : sys_tcb_resume(thread_cap);
	/* it runs above us: done before we run again, unless it was stopped */
	uint64_t done = rip + (uint64_t)(leak_code_done - leak_code);
	struct thread_info info;
	for (int i = 0; !err && i < 100; i++) {
		if (!sys_tcb_info(thread_cap, &info) && info.state == THREAD_INACTIVE && !sys_tcb_regs_read(thread_cap, &w) &&
		    w.rip >= done && w.rip < rip + len)
			break;
		clock_nap(1);
	}
	sys_tcb_suspend(thread_cap);
	leak_taken = !err && !sys_tcb_regs_read(thread_cap, &w) && w.rip >= done && w.rip < rip + len ? w.r15 : 0;
	leak_slots_first = leak_taken && w.r12 < first;
	long put_back = poke(code, offset, saved, len, 0);
	err = err ? err : put_back;
	/* what a server does once its allocations are refused */
	leak_end = (unsigned)below(LEAK_ENDS);
	if (err || !leak_taken)
		leak_end = LEAK_CARRY_ON;   /* nothing taken: as it was */
	if (leak_end == LEAK_STOP)
		return err ? err : E_OK;      /* stays stopped: it no longer answers */
	if (leak_end == LEAK_CRASH)
		r.rip = USER_BASE;          /* a jump to the lowest user page, which nothing maps */
	long back = sys_tcb_regs_write(thread_cap, &r);
	long resumed = sys_tcb_resume(thread_cap);
	err = err ? err : back ? back : resumed;
	return err ? err : leak_taken ? E_OK : E_RANGE;
}

static long inject(enum kind k)
{
	static const uint8_t replacements[][4] = {
		{ 0x90, 0x90 },             /* nop; nop */
		{ 0x31, 0xc0 },             /* xor eax, eax */
		{ 0xc3 },                   /* ret */
		{ 0xcc },                   /* int3 */
		{ 0x48, 0x89, 0x00 },       /* mov [rax], rax */
		{ 0x48, 0x31, 0xe4 },       /* xor rsp, rsp */
		{ 0x0f, 0x0b },             /* ud2 */
		{ 0xeb, 0x02 },             /* jmp over two bytes */
	};
	static const uint8_t lens[] = { 2, 2, 1, 1, 3, 3, 2, 2 };
	switch (k) {
	case K_FLIP_CODE:
		return flip_bit(some_page(RIGHT_EXEC));
	case K_FLIP_DATA:
		return flip_bit(some_page(RIGHT_WRITE));
	case K_REGISTER:
		return with_registers(change_register);
	case K_SKIP:
		return with_registers(change_skip);
	case K_REPLACE: {
		const struct part *p = some_page(RIGHT_EXEC);
		unsigned r = (unsigned)below(sizeof(lens));
		return p ? poke(p, (unsigned)below(PAGE_SIZE - 4), replacements[r], lens[r], 0) : E_BAD_ARG;
	}
	case K_WILD_WRITE: {
		const struct part *p = some_page(RIGHT_WRITE);
		uint64_t v = next();
		return p ? poke(p, (unsigned)below(PAGE_SIZE / 8) * 8, (const uint8_t *)&v, 8, 0) : E_BAD_ARG;
	}
	case K_LOOP: {
		static const uint8_t jmp_self[2] = { 0xeb, 0xfe };
		long err = with_registers(read_rip);
		const struct part *p = err ? 0 : page_of(loop_rip);
		if (!p || (loop_rip & (PAGE_SIZE - 1)) > PAGE_SIZE - 2)
			return err ? err : E_BAD_ADDRESS;
		return poke(p, (unsigned)(loop_rip & (PAGE_SIZE - 1)), jmp_self, 2, 0);
	}
	case K_DEADLOCK:
		return sys_tcb_suspend(thread_cap);
	case K_EXHAUST: {
		/* copies of a right to a port of ours into every empty slot of
		 * the first 512 past the ones libipc keeps for the parent */
		static uint64_t filler;
		if (!filler && object_alloc(OBJ_PORT, 0, &filler))
			return E_SLOT_FULL;
		unsigned filled = 0;
		for (uint64_t s = 32; s < 32 + 512; s++)
			filled += sys_cnode_mint(filler, cnode_cap, s, RIGHT_SEND, 0) == E_OK;
		return filled ? E_OK : E_SLOT_FULL;
	}
	case K_EXHAUST_MEM:
		return exhaust_memory();
	default:
		return E_BAD_ARG;
	}
}

/* --- the client's side: probes with a deadline ----------------------- */

static volatile uint64_t probe_since;    /* clock_ms when the probe began, 0: none */
static volatile const char *probe_task;  /* whose */
static volatile unsigned watchdog_kills; /* probes the watchdog ended */
static volatile const char *current_task; /* the target of the injections now */
static uint64_t seed;
static uint8_t watchdog_stack[16384] __attribute__((aligned(16)));

/* Which tasks above the campaign have their main thread ready to run
 * (init's ps rows, init and the idle loop included): what may be holding
 * the campaign off, printed when the watchdog first finds it starved. */
static void starved_by(void)
{
	char name[33];
	for (uint32_t i = 0; i < 64; i++) { /* until init says there are no more rows */
		uint32_t kind, flags, state, thread, end, prio, restarts;
		int32_t policy;
		int64_t detail;
		uint64_t memory, up, idle;
		if (init_ps_entry(INIT, i, name, &kind, &flags, &state, &thread, &end, &detail, &prio, &restarts, &policy,
		                  &memory, &up, &idle))
			break;
		if (prio > CAMPAIGN_PRIORITY && thread == THREAD_RUNNABLE && kind != 2)
			debug_printf("faults:   ready above the campaign: '%s' (priority %u)\n", name, prio);
	}
}

/* The campaign's thread has been ready to run, and not run, for
 * STARVED_MS: something above it loops, and neither a heartbeat (a task
 * that publishes nothing has none) nor a probe's deadline (it was not in
 * a probe) found it.  The kernel says how long it has been ready without
 * running; finding it ready at every look is not enough, since a thread
 * that naps from tick to tick is woken by the same tick as the watchdog
 * and is ready at each look while it runs between them (this check once
 * took such a thread for a starved one; nor does it stop the thread to
 * read where it is, which would make it ready afresh).  The first time, the target is
 * reported to init (its injection is the likely cause); if the thread is
 * still held off STARVED_MS later, the run stops with the seed, rather
 * than stall unseen (as it once did for good). */
static void starvation_check(int *reported)
{
	static uint64_t idle_before, tsc_before;   /* the kernel's idle time at the last look, and the TSC */
	uint64_t idle = 0, tsc = rdtsc();
	sys_kernel_counter(KC_IDLE_TSC, &idle);
	/* a kernel that halts while a thread is ready to run has lost it
	 * (its scheduler's fault, not a task's above) */
	unsigned idle_pct = tsc > tsc_before ? (unsigned)((idle - idle_before) * 100 / (tsc - tsc_before)) : 0;
	idle_before = idle;
	tsc_before = tsc;
	struct thread_info main_thread;
	const unsigned starved_ticks = STARVED_MS / 10;
	if (sys_tcb_info(CAP_ROOT_TCB, &main_thread) || main_thread.ready_ticks < starved_ticks) {
		*reported = 0;
		return;
	}
	const char *task = (const char *)current_task;
	if (!task || main_thread.ready_ticks < starved_ticks * (*reported ? 2 : 1))
		return;
	if (!*reported) {
		debug_printf("faults: the campaign could not run for %u ms (a task above it loops): reporting '%s' to "
		             "init\n", main_thread.ready_ticks * 10, task);
		debug_printf("faults:   the kernel idled %u%% of the last 100 ms\n", idle_pct);
		starved_by();
		*reported = 1;
		if (init_kill(INIT, task) == E_OK)
			watchdog_kills++;
		return;
	}
	debug_printf("faults: FAILED: %s: the campaign could not run for %u ms more after its target was restarted\n",
	             task, STARVED_MS);
	debug_printf("faults:   the kernel idled %u%% of the last 100 ms\n", idle_pct);
	debug_printf("faults: replay with args seed=%lu only=%s verbose\n", seed, task);
	tap_ok(0, "%s: the campaign could not run (a task above it loops)", task);
	tap_done();
}

/* Above every server: a probe that hangs is seen even if the server
 * loops at its own priority.  It calls only init (no slot allocation, so
 * it shares libipc's allocator with the main thread safely). */
static void watchdog(uint64_t arg)
{
	(void)arg;
	uint64_t nap = 0;
	int reported = 0;
	if (object_alloc(OBJ_PORT, 0, &nap))
		return;
	for (;;) {
		struct msg m;
		sys_notify_after(nap, 1, 10);
		ipc_recv(nap, 0, &m);
		starvation_check(&reported);
		uint64_t since = probe_since;
		const char *task = (const char *)probe_task;
		if (since && task && clock_ms() - since > PROBE_DEADLINE_MS) {
			debug_printf("faults: '%s' did not answer a probe for %u ms: reporting it to init\n", task,
			             PROBE_DEADLINE_MS);
			probe_since = 0;
			if (init_kill(INIT, task) == E_OK)
				watchdog_kills++;
		}
	}
}

static long probe(struct target *t)
{
	if (!t->port && init_lookup(INIT, t->service, &t->port))
		t->port = 0;
	if (!t->port)
		return E_BAD_CAP;
	probe_task = t->task;
	probe_since = clock_ms();
	long err = t->probe(t);
	probe_since = 0;
	/* the TCP stream's step: no deadline (its own waits are bounded) */
	if (!err && t->tcp)
		err = tcp_step();
	if (ipc_peer_gone(err))
		forget_slot(&t->port);
	return err;
}

/* --- init's view --------------------------------------------------------- */

#define MAX_TASKS 16
struct task_view {
	char name[33];
	uint32_t restarts, end, state;
	int64_t detail;
	uint64_t up;   /* ms since this instance started */
};

static unsigned view(struct task_view *v)
{
	unsigned n = 0;
	for (uint32_t i = 2; n < MAX_TASKS; i++) {
		uint32_t kind, flags, thread, prio;
		int32_t policy;
		uint64_t memory, idle;
		if (init_ps_entry(INIT, i, v[n].name, &kind, &flags, &v[n].state, &thread, &v[n].end, &v[n].detail,
		                  &prio, &v[n].restarts, &policy, &memory, &v[n].up, &idle))
			break;
		n++;
	}
	return n;
}

static const struct task_view *find(const struct task_view *v, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return &v[i];
	return 0;
}

/* --- the campaign ---------------------------------------------------------- */

enum detector { D_NONE, D_FAULT, D_HEARTBEAT, D_EXIT, D_CLIENT, D_COUNT };
static const char *const detector_names[D_COUNT] = { "none", "fault", "heartbeat", "exit", "client" };

struct result {
	unsigned injections, refused, failures, detected[D_COUNT], recovered, others, dependents, lost;
	unsigned latent;             /* exhaustions nobody noticed: restarted by the campaign */
	uint64_t tcp_acked, tcp_connections;   /* the TCP stream (the network server's campaign) */
	unsigned by_kind[K_COUNT];   /* failures per kind */
	/* K_EXHAUST_MEM: injections that took memory, those that ran out of
	 * slots first, each ending, failures after carrying on, and the
	 * restarts after which init's free memory was what it was before */
	unsigned leaks, leak_slots, leak_ends[LEAK_ENDS], leak_carry_failed, leak_served, quota_back, quota_checked;
	uint64_t leak_kib;
	uint32_t times[2048];        /* ms to recover, of the first 2048 */
	unsigned ntimes;
	uint32_t worst;
};
static struct result results[NTARGETS];

struct logline {
	unsigned index;
	enum kind kind;
	long err;
	const char *outcome;
};
static struct logline log_ring[LOG_LINES];
static unsigned log_count;

static int verbose; /* verbose: a line before each injection (for a replay) */

/* task is a word of list (" a b c ") */
static int named_in(const char *list, const char *task)
{
	char word[40];
	debug_snprintf(word, sizeof(word), " %s ", task);
	return strstr(list, word) != 0;
}

static int depends(const struct target *t, const char *task)
{
	return named_in(t->dependents, task);
}

static void fail_stop(const struct target *t, unsigned index, const char *what)
{
	debug_printf("faults: FAILED: %s: injection %u: %s\n", t->task, index, what);
	debug_printf("faults: replay with args seed=%lu only=%s from=%u\n", seed, t->task, index);
	unsigned first = log_count > LOG_LINES ? log_count - LOG_LINES : 0;
	for (unsigned i = first; i < log_count; i++) {
		const struct logline *l = &log_ring[i % LOG_LINES];
		debug_printf("faults:   injection %u: %s (%ld): %s\n", l->index, kind_names[l->kind], l->err, l->outcome);
	}
	tap_ok(0, "%s: %s", t->task, what);
	tap_done();
}

/* Wait until the target serves again; ms it took from since, or -1. */
static long recover(struct target *t, uint64_t since)
{
	while (clock_ms() - since < RECOVER_LIMIT_MS) {
		if (probe(t) == E_OK)
			return (long)(clock_ms() - since);
		clock_nap(2);
	}
	return -1;
}

static int cmp_u32(uint32_t a, uint32_t b) { return a < b ? -1 : a > b; }
static uint32_t median(uint32_t *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++) /* a few hundred at most: insertion sort */
		for (unsigned j = i; j && cmp_u32(v[j - 1], v[j]) > 0; j--) {
			uint32_t x = v[j];
			v[j] = v[j - 1];
			v[j - 1] = x;
		}
	return n ? v[n / 2] : 0;
}

/* A VMM target's guest is running (its exits past warm_exits) and its
 * shell answers: the faults are to land in a VMM serving a live guest,
 * not a booting one.  After each failure the guest boots again, so this
 * waits again. */
static int warm(struct target *t)
{
	for (unsigned tenths = 0; t->warm_exits && tenths < 3000; tenths++) {
		char name[33];
		uint32_t state;
		uint64_t memory, uptime, exits;
		if (!t->port && init_lookup(INIT, t->service, &t->port))
			t->port = 0;
		long err = t->port ? vmm_info(t->port, name, &state, &memory, &uptime, &exits) : E_BAD_CAP;
		if (!err && exits > t->warm_exits && typed_at_guest(100) == E_OK)
			return 1;
		if (err)   /* that instance is gone: look up the next */
			forget_slot(&t->port);
		clock_nap(10);
	}
	return !t->warm_exits;
}

/* Nobody else restarted since this target's first injection, but those
 * that depend on it. */
static void count_restarts(const struct target *t, struct result *r, const struct task_view *start, unsigned nstart,
                           unsigned i)
{
	struct task_view now[MAX_TASKS];
	unsigned n = view(now);
	unsigned others = 0, dependents = 0;
	for (unsigned j = 0; j < nstart; j++) {
		const struct task_view *o = find(now, n, start[j].name);
		if (!strcmp(start[j].name, t->task) || !o || o->restarts == start[j].restarts)
			continue;
		if (depends(t, start[j].name)) {
			dependents += o->restarts - start[j].restarts;
		} else {
			debug_printf("faults: '%s' was restarted too (by injection %u into '%s' or before it)\n",
			             start[j].name, i, t->task);
			others += o->restarts - start[j].restarts;
		}
	}
	r->others = others;
	r->dependents = dependents;
}

static struct target *target_named(const char *name);

/* The end of a lender's window (the PCI server's).  A driver that maps
 * device memory the lender's last instance did not lend it has lost
 * that memory with the instance that did, and fails at its next access
 * to its device: in a later target's window, taken there for a server
 * disturbed by that target.  So each such driver (started before the
 * lender's instance now running) is restarted here, counted among the
 * lender's dependents, as init would have restarted it at that access. */
static void end_lenders_window(const struct target *t, struct result *r, const struct task_view *start,
                               unsigned nstart, unsigned last)
{
	struct task_view now[MAX_TASKS];
	unsigned n = view(now);
	const struct task_view *lender = find(now, n, t->task);
	unsigned restarted = 0;   /* init does not count a restart it was asked for */
	for (unsigned j = 0; lender && j < n; j++) {
		if (!named_in(t->lent_to, now[j].name) || now[j].up <= lender->up)
			continue;
		debug_printf("faults: '%s' maps device memory from before '%s' restarted: the campaign restarts it\n",
		             now[j].name, t->task);
		struct target *d = target_named(now[j].name);
		if (init_restart(INIT, now[j].name) != E_OK || (d && recover(d, clock_ms()) < 0))
			fail_stop(t, last, "a driver did not serve again after the campaign restarted it");
		restarted++;
	}
	count_restarts(t, r, start, nstart, last);
	r->dependents += restarted;
	if (r->others)
		fail_stop(t, last, "another server was restarted");
}

static void campaign(unsigned ti, unsigned count, unsigned from, int only_kind)
{
	struct target *t = &targets[ti];
	struct result *r = &results[ti];
	struct task_view before[MAX_TASKS], after[MAX_TASKS], start[MAX_TASKS];
	log_count = 0;
	current_task = t->task;
	if (recover(t, clock_ms()) < 0)
		fail_stop(t, from, "does not serve before the first injection");
	unsigned nstart = view(start);
	for (unsigned i = from; i < count; i++) {
		seed_with(seed, ti + 1, i + 1);
		enum kind k = only_kind >= 0 ? (enum kind)only_kind : (enum kind)below(K_COUNT);
		/* a failure that showed after the last injection's window is
		 * over by now (it is counted for that one or this one) */
		if (recover(t, clock_ms()) < 0)
			fail_stop(t, i, "not serving before the injection");
		if (!warm(t))
			fail_stop(t, i, "its guest did not boot (again) within 300 s");
		unsigned nb = view(before);
		const struct task_view *tb = find(before, nb, t->task);
		if (!tb || tb->state != 1)
			fail_stop(t, i, "not running before the injection");
		long err = take_parts(t->task);
		if (err)
			fail_stop(t, i, "init gave no capabilities for it");
		if (verbose)
			debug_printf("faults: %s %u %s: injecting\n", t->task, i, kind_names[k]);
		unsigned kills0 = watchdog_kills;
		uint64_t mem_total, mem_free0 = 0, mem_free1 = 0;
		if (k == K_EXHAUST_MEM)
			init_mem(INIT, &mem_total, &mem_free0);
		uint64_t t0 = clock_ms();
		err = inject(k);
		if (k == K_EXHAUST_MEM && !err) {
			r->leaks++;
			r->leak_slots += leak_slots_first;
			r->leak_ends[leak_end]++;
			r->leak_kib += leak_taken >> 10;
			debug_printf("faults: %s %u exhaust-mem: it took %lu KiB (its memory is %lu KiB)%s, then %s\n", t->task,
			             i, leak_taken >> 10, leak_quota >> 10, leak_slots_first ? ", out of slots first" : "",
			             leak_end_names[leak_end]);
		}
		r->injections++;
		if (err)
			r->refused++; /* e.g. a flipped RIP outside user space: nothing changed */
		/* the probes a client makes; then time for a heartbeat to miss */
		long perr = E_OK;
		for (int p = 0; p < 3 && perr == E_OK; p++)
			perr = probe(t);
		unsigned na = view(after);
		const struct task_view *ta = find(after, na, t->task);
		enum detector d = D_NONE;
		if (perr != E_OK) {
			/* it failed a client: give init time to notice first */
			uint64_t until = clock_ms() + SETTLE_MS;
			while (clock_ms() < until && (na = view(after), ta = find(after, na, t->task)) &&
			       ta->restarts == tb->restarts)
				clock_nap(2);
		}
		if (ta && ta->restarts != tb->restarts) {
			d = watchdog_kills != kills0 ? D_CLIENT : ta->end == 4 ? D_FAULT : ta->end == 5 ? D_HEARTBEAT
			  : ta->end == 3 ? D_EXIT : D_CLIENT;
		} else if (perr != E_OK && probe(t) != E_OK) {
			/* the client saw wrong answers and init had not noticed: the
			 * client tells init (kill, so the restart policy applies) */
			debug_printf("faults: '%s' answers wrongly (%ld): reporting it to init\n", t->task, perr);
			init_kill(INIT, t->task);
			d = D_CLIENT;
		}
		const char *outcome = "no failure seen";
		if (d != D_NONE) {
			debug_printf("faults: %s %u %s: failed, noticed by %s\n", t->task, i, kind_names[k],
			             detector_names[d]);
			r->failures++;
			r->detected[d]++;
			r->by_kind[k]++;
			long ms = recover(t, t0);
			if (ms < 0)
				fail_stop(t, i, "not serving again within the limit after a failure");
			r->recovered++;
			/* each time, for a median over the chunks of a long run (tools/faults_long.sh) */
			debug_printf("faults: %s %u %s: recovered in %ld ms\n", t->task, i, kind_names[k], ms);
			if (k == K_EXHAUST_MEM && !err) {
				r->leak_carry_failed += leak_end == LEAK_CARRY_ON;
				/* the new instance has a whole quota again: init's free
				 * memory is what it was before the injection */
				init_mem(INIT, &mem_total, &mem_free1);
				r->quota_checked++;
				if (mem_free1 == mem_free0)
					r->quota_back++;
				else
					debug_printf("faults: %s %u exhaust-mem: init's free memory %lu KiB after the restart, "
					             "%lu KiB before\n", t->task, i, mem_free1 >> 10, mem_free0 >> 10);
			}
			if (r->ntimes < sizeof(r->times) / sizeof(r->times[0]))
				r->times[r->ntimes++] = (uint32_t)ms;
			if ((uint32_t)ms > r->worst)
				r->worst = (uint32_t)ms;
			outcome = detector_names[d];
		}
		if ((k == K_EXHAUST || (k == K_EXHAUST_MEM && leak_end == LEAK_CARRY_ON)) && !err && d == D_NONE) {
			/* it serves on with its slots or memory gone, and nobody
			 * noticed: a latent failure, which shows only when it next
			 * allocates (a PCI server out of slots refuses the next
			 * driver's open, and that driver gives up).  The campaign
			 * restarts it, so that the next injection finds a whole
			 * server, and counts it */
			debug_printf("faults: %s %u %s: it serves on without its %s; the campaign restarts it\n", t->task, i,
			             kind_names[k], k == K_EXHAUST ? "slots" : "memory");
			r->latent++;
			r->leak_served += k == K_EXHAUST_MEM;
			if (init_restart(INIT, t->task) != E_OK || recover(t, clock_ms()) < 0)
				fail_stop(t, i, "not serving again after the campaign restarted it");
		}
		count_restarts(t, r, start, nstart, i);
		log_ring[log_count % LOG_LINES] = (struct logline){ i, k, err, outcome };
		log_count++;
		if (fs_lost) {
			r->lost += fs_lost;
			fs_lost = 0;
			fail_stop(t, i, "fsync'd data lost");
		}
		if (r->others)
			fail_stop(t, i, "another server was restarted");
		/* the fs's file after any failure of any server below it (in a
		 * boot that has the fs server) */
		if (d != D_NONE && find(after, na, targets[4].task) && probe(&targets[4]) != E_OK &&
		    recover(&targets[4], clock_ms()) < 0)
			fail_stop(t, i, "the fs server does not serve after it");
	}
	if (t->lent_to[0] && count > from)
		end_lenders_window(t, r, start, nstart, count - 1);
	if (t->tcp) {
		tcp_finish();
		r->tcp_acked = tcp_acked;
		r->tcp_connections = tcp_connections;
	}
	drop_parts();
}

int main(const struct bootinfo *bi)
{
	const char *args = bi->cmdline;
	seed = arg_number(args, "seed=", 1);
	unsigned count = arg_number(args, "count=", 12), from = arg_number(args, "from=", 0);
	int only_kind = (int)arg_number(args, "kind=", ~0u);
	verbose = arg_flag(args, "verbose");
	if (only_kind >= K_COUNT)
		only_kind = -1;
	char only[33] = "";
	arg_string(args, "only=", only, sizeof(only));
	if (count > MAX_INJECTIONS)
		count = MAX_INJECTIONS;
	tap_own_lines();
	debug_printf("faults: seed %lu, %u injections per target%s%s, from %u\n", seed, count, only[0] ? ", only " : "",
	             only, from);
	clock_ms(); /* calibrated before the watchdog uses it */
	/* the manifest starts us above every server, for the watchdog; the
	 * campaign itself runs below them */
	uint64_t wd;
	long err = thread_create(watchdog, 0, watchdog_stack, sizeof(watchdog_stack), WATCHDOG_PRIORITY, &wd);
	err = err ? err : sys_tcb_set_priority(CAP_ROOT_TCB, CAMPAIGN_PRIORITY, WATCHDOG_PRIORITY);
	/* the TCP stream's copies into and out of the network server's buffer */
	err = err ? err : safe_copy_start();
	if (err) {
		tap_ok(0, "a watchdog thread above the servers (error %ld)", err);
		tap_done();
	}
	unsigned planned = 0;
	for (unsigned i = 0; i < NTARGETS; i++)
		planned += only[0] ? !strcmp(only, targets[i].task) : !targets[i].own_boot;
	tap_plan((int)planned);
	uint64_t start = clock_ms();
	for (unsigned i = 0; i < NTARGETS; i++) {
		if (only[0] ? strcmp(only, targets[i].task) != 0 : targets[i].own_boot)
			continue;
		uint64_t t0 = clock_ms();
		campaign(i, count, from, only_kind);
		struct result *r = &results[i];
		uint32_t med = median(r->times, r->ntimes);
		debug_printf("faults: result %s injections=%u refused=%u failures=%u fault=%u heartbeat=%u exit=%u "
		             "client=%u recovered=%u median_ms=%u worst_ms=%u others=%u dependents=%u lost=%u latent=%u "
		             "secs=%lu\n",
		             targets[i].task, r->injections, r->refused, r->failures, r->detected[D_FAULT],
		             r->detected[D_HEARTBEAT], r->detected[D_EXIT], r->detected[D_CLIENT], r->recovered, med,
		             r->worst, r->others, r->dependents, r->lost, r->latent, (clock_ms() - t0) / 1000);
		if (targets[i].tcp)
			debug_printf("faults: tcp %s records_acknowledged=%lu connections=%lu stale_first_numbers=%u "
			             "stale_on_closed=%u\n",
			             targets[i].task, r->tcp_acked, r->tcp_connections, tcp_stale, tcp_stale_closed);
		char line[256];
		int n = debug_snprintf(line, sizeof(line), "faults: kinds %s", targets[i].task);
		for (unsigned k = 0; k < K_COUNT && n > 0 && (size_t)n < sizeof(line); k++)
			n += debug_snprintf(line + n, sizeof(line) - (size_t)n, " %s=%u", kind_names[k], r->by_kind[k]);
		debug_printf("%s\n", line); /* one write: other output does not cut it */
		debug_printf("faults: exhaust-mem %s injections=%u slots_first=%u stops=%u crashes=%u carries_on=%u "
		             "carried_on_failed=%u carried_on_served=%u failed=%u quota_back=%u quota_checked=%u taken_kib=%lu\n",
		             targets[i].task, r->leaks, r->leak_slots, r->leak_ends[LEAK_STOP], r->leak_ends[LEAK_CRASH],
		             r->leak_ends[LEAK_CARRY_ON], r->leak_carry_failed, r->leak_served, r->by_kind[K_EXHAUST_MEM],
		             r->quota_back, r->quota_checked, r->leak_kib);
		tap_ok(r->recovered == r->failures && !r->others && !r->lost,
		       "%s: %u injections, %u failures, every one detected and recovered (median %u ms, worst %u ms)",
		       targets[i].task, r->injections, r->failures, med, r->worst);
	}
	debug_printf("faults: done in %lu s\n", (clock_ms() - start) / 1000);
	tap_done();
}
