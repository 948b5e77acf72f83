/* Bad clients of the network server (no network needed: loopback).
 * Malformed requests on the published port and on a session (labels of
 * no method, wrong word counts, methods on the wrong port, handles that
 * are not the caller's, ranges past the shared buffer, values out of
 * range) get error replies, then 3000 random requests; the server stays
 * up and serves normally afterwards, and a session dropped with sockets
 * in it leaves nothing behind.  Then a client killed by init while it
 * holds a listener, a connection and a UDP socket, and waits in a recv:
 * its ports become free again. */
// test-root: build/init.elf
// test-module: tests/system/manifests/net_clients.manifest
// test-module: build/net.elf
// test-module: build/tests/system/progs/sock_holder.elf
// test-expect: sock-holder: holding
// test-expect: net: session \d+ \('lib'\) ended; its sockets are closed
// test-timeout: 120
#include "tap.h"
#include <errno.h>
#include "init.h"
#include "socket.h"
#include "net_socket.h"

#define INIT 8

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A raw request: the reply's status, or minus the transport error. */
static long raw(uint64_t port, uint64_t label, unsigned words, const uint64_t *w)
{
	struct msg m = { .info = MSG_INFO(label, words, 0) };
	for (unsigned i = 0; i < words && i < MSG_MAX_WORDS; i++)
		m.w[i] = w[i];
	long err = ipc_call(port, &m);
	if (err)
		return -err;
	return MSG_WORDS(m.info) >= 1 ? (long)m.w[0] : -1000;
}

static int echo_works(void)
{
	int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7200), .sin_addr = { htonl(INADDR_LOOPBACK) } };
	int ok = !bind(l, (struct sockaddr *)&a, sizeof(a)) && !listen(l, 1) &&
	         !connect(c, (struct sockaddr *)&a, sizeof(a));
	int s = ok ? accept(l, 0, 0) : -1;
	char buf[8] = { 0 };
	ok = ok && s >= 0 && send(c, "berth", 5, 0) == 5 && recv(s, buf, sizeof(buf), 0) == 5 && !memcmp(buf, "berth", 5);
	closesocket(s);
	closesocket(c);
	closesocket(l);
	return ok;
}

static int bind_free(uint16_t port, int type)
{
	int fd = socket(AF_INET, type, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr = { htonl(INADDR_LOOPBACK) } };
	int r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	if (!r && type == SOCK_STREAM)
		r = listen(fd, 1);
	int e = errno;
	closesocket(fd);
	errno = e;
	return r == 0;
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(19);
	uint64_t net;
	uint64_t w[MSG_MAX_WORDS] = { 0 };
	tap_eq(init_lookup(INIT, "net", &net), E_OK, "'net' is published");

	/* the published port */
	tap_eq(raw(net, 0x999, 0, w), E_BAD_SYSCALL, "a label of no method");
	tap_eq(raw(net, SOCKET_OPEN_LABEL, 0, w), E_BAD_MSG, "open with no words");
	w[0] = 600; /* a string length past the message */
	tap_eq(raw(net, SOCKET_OPEN_LABEL, 1, w), E_BAD_MSG, "open with a name longer than the message");
	w[0] = 1;
	tap_eq(raw(net, SOCKET_SOCKET_LABEL, 1, w), E_STATE, "a session method on the published port");
	uint32_t rtt, ttl;
	tap_eq(socket_ping(net, 0x7f000001, 1, 100000, 1000, &rtt, &ttl), E_BAD_ARG, "ping of 100000 bytes");
	tap_eq(socket_ping(net, 0x7f000001, 1, 56, 0, &rtt, &ttl), E_BAD_ARG, "ping with no time to wait");
	long pinged = socket_ping(net, 0x7f000001, 1, 56, 1000, &rtt, &ttl);
	tap_eq(pinged, E_OK, "ping of 127.0.0.1 answers (%u us)", rtt);

	/* a session of our own, raw */
	uint64_t session, other;
	uint32_t pages, h, mine;
	long err = socket_open(net, "raw", &session, &pages);
	err = err ? err : socket_open(net, "other", &other, &pages);
	err = err ? err : socket_socket(other, 1, &h);
	err = err ? err : socket_socket(session, 2, &mine);
	tap_ok(!err && pages == 16, "two sessions with a 64 KiB buffer each (%ld)", err);
	uint32_t sent, got, a, b, c, d;
	int bad = 0;
	bad += socket_send(session, h, 0, 1, 0, &sent) != E_BAD_ARG;         /* another session's handle */
	bad += socket_close(session, 0) != E_BAD_ARG;
	bad += socket_close(session, 0xffffffff) != E_BAD_ARG;
	bad += socket_close(session, mine + 0x10000) != E_BAD_ARG;           /* a stale generation */
	bad += socket_name(session, 0x7fff, &a, &b, &c, &d) != E_BAD_ARG;
	tap_eq(bad, 0, "handles that are not this session's: E_BAD_ARG");
	bad = 0;
	bad += socket_sendto(session, mine, 65000, 1000, 0x7f000001, 9) != E_BAD_ARG;
	bad += socket_sendto(session, mine, 0xffffffff, 2, 0x7f000001, 9) != E_BAD_ARG;
	bad += socket_recvfrom(session, mine, 1, 65536, 0, &got, &a, &b, &c) != E_BAD_ARG;
	bad += socket_buffer_frame(session, 16, &other) != E_BAD_ARG;
	bad += socket_bind(session, mine, 0, 70000) != E_BAD_ARG;
	bad += socket_sendto(session, mine, 0, 10, 0x7f000001, 0) != E_BAD_ARG;
	tap_eq(bad, 0, "ranges past the buffer, ports past 65535, a page past the buffer: E_BAD_ARG");
	bad = 0;
	bad += socket_socket(session, 7, &a) != E_BAD_ARG;
	bad += socket_listen(session, mine, 1) != E_STATE;                   /* UDP */
	bad += socket_accept(session, mine, 0, &a, &b, &c) != E_STATE;
	uint32_t tcp;
	socket_socket(session, 1, &tcp);
	bad += socket_sendto(session, tcp, 0, 1, 0x7f000001, 9) != E_STATE;
	bad += socket_recv(session, tcp, 0, 10, 0, &got) != 1000 + 107 /* ENOTCONN */;
	bad += socket_open(session, "x", &other, &pages) != E_STATE;
	tap_eq(bad, 0, "methods in the wrong state or on the wrong port: E_STATE / ENOTCONN");
	uint32_t socks[64] = { 0 };
	uint8_t ev[64] = { 0 }, rev[64];
	uint32_t ready;
	tap_eq(socket_poll(session, 65, socks, ev, 0, &ready, rev), E_BAD_ARG, "poll of 65 sockets");
	socks[0] = 12345;
	ev[0] = 1;
	err = socket_poll(session, 1, socks, ev, 1000, &ready, rev);
	tap_ok(err == E_OK && ready == 1 && rev[0] == 8, "poll of a handle that is not one: reported invalid at once");

	/* random requests on the session; none may wait (timeouts 0) */
	static const uint32_t labels[] = { SOCKET_BUFFER_FRAME_LABEL, SOCKET_SOCKET_LABEL, SOCKET_BIND_LABEL,
		SOCKET_LISTEN_LABEL, SOCKET_ACCEPT_LABEL, SOCKET_CONNECT_LABEL, SOCKET_SEND_LABEL, SOCKET_RECV_LABEL,
		SOCKET_SENDTO_LABEL, SOCKET_RECVFROM_LABEL, SOCKET_SHUTDOWN_LABEL, SOCKET_CLOSE_LABEL,
		SOCKET_NAME_LABEL, SOCKET_POLL_LABEL, SOCKET_IFCONFIG_LABEL, 0xe00, 0xe12, 0x101 };
	/* the word of each label that is a timeout, forced to 0 */
	uint32_t handles[8] = { mine, tcp };
	unsigned nh = 2, answered = 0;
	for (int i = 0; i < 3000; i++) {
		uint32_t label = labels[rnd() % (sizeof(labels) / sizeof(labels[0]))];
		unsigned words = (unsigned)(rnd() % 7);
		if (label == SOCKET_POLL_LABEL)
			words = (unsigned)(rnd() % 45);
		for (unsigned k = 0; k < words; k++) {
			uint64_t r = rnd();
			w[k] = r % 3 == 0 ? handles[r % nh] : r % 3 == 1 ? r % 70000 : r;
		}
		if (label == SOCKET_ACCEPT_LABEL && words > 1)
			w[1] = 0;
		if ((label == SOCKET_CONNECT_LABEL && words > 3) || (label == SOCKET_SEND_LABEL && words > 3) ||
		    (label == SOCKET_RECV_LABEL && words > 3) || (label == SOCKET_RECVFROM_LABEL && words > 3))
			w[3] = 0;
		if (label == SOCKET_POLL_LABEL && words > 41)
			w[41] = 0;
		if (label == SOCKET_CONNECT_LABEL && words > 1)
			w[1] = 0x7f000001;  /* nothing leaves the machine, even by chance */
		if (label == SOCKET_SENDTO_LABEL && words > 3)
			w[3] = 0x7f000001;
		struct msg m = { .info = MSG_INFO(label, words, 0) };
		memcpy(m.w, w, sizeof(m.w));
		uint64_t slots[1] = { slot_alloc() };
		ipc_set_recv_slots(slots, 1);
		err = ipc_call(session, &m);
		ipc_set_recv_slots(0, 0);
		if (cspace_slot_type(slots[0]) != OBJ_NONE)
			sys_cnode_delete(slots[0]);
		slot_free(slots[0]);
		if (!err && MSG_WORDS(m.info) >= 1)
			answered++;
		if (!err && !m.w[0] && label == SOCKET_SOCKET_LABEL && nh < 8)
			handles[nh++] = (uint32_t)m.w[1];
	}
	tap_eq(answered, 3000, "3000 random requests on a session, every one answered");
	/* drop both sessions with whatever sockets the noise made in them */
	sys_cnode_delete(session);
	sys_cnode_delete(other);
	tap_ok(echo_works(), "the server serves normally afterwards (a TCP echo over 127.0.0.1)");

	/* a client killed holding sockets */
	int held = 0;
	for (int i = 0; i < 500 && !held; i++) {
		held = !bind_free(7100, SOCK_STREAM) && errno == EADDRINUSE;
		if (!held)
			clock_nap(2);
	}
	clock_nap(50);   /* into its endless recv */
	tap_ok(held && init_kill(INIT, "holder") == E_OK, "the holder listens on 7100; init kills it");
	int tcp_free = 0, udp_free = 0;
	uint64_t t0 = clock_ms();
	for (int i = 0; i < 500 && !(tcp_free && udp_free); i++) {
		tcp_free = tcp_free || bind_free(7100, SOCK_STREAM);
		udp_free = udp_free || bind_free(7101, SOCK_DGRAM);
		if (!(tcp_free && udp_free))
			clock_nap(1);
	}
	tap_ok(tcp_free && udp_free, "its TCP port 7100 and UDP port 7101 are free again (after %lu ms)",
	       clock_ms() - t0);
	tap_ok(echo_works(), "and the server goes on serving");
	tap_done();
}
