/* The network server without a network: sockets over lwIP's loopback
 * interface (127.0.0.1) through servers/lib/net_socket.c.  TCP: bind,
 * listen, a port in use, non-blocking connect, accept, random payloads
 * both ways (1 byte to 300 KB) byte-exact, a receive timeout, a refused
 * connection, shutdown seen as the end of the stream, 20 connections at
 * once served by one thread with poll; UDP datagrams with addresses.
 * The server runs without its driver ("net0" never appears), so this
 * also shows it serves while it waits for one. */
// test-root: build/init.elf
// test-module: tests/system/manifests/net_loopback.manifest
// test-module: build/net.elf
// test-timeout: 120
#include "tap.h"
#include <errno.h>
#include "net_socket.h"

#define PORT 7000
#define PARALLEL 20

static uint64_t rng = 0x243f6a8885a308d3ULL;

static uint8_t next_byte(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint8_t)rng;
}

static struct sockaddr_in at(uint32_t addr, uint16_t port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(addr);
	return a;
}

static uint8_t out[300000], echo[300000], mid[65536];

/* Send n random bytes from a to b; b echoes them back to a; one thread,
 * so everything is non-blocking and poll waits.  1 if a got exactly
 * what it sent. */
static int round_trip(int a, int b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = next_byte();
	size_t sent = 0, echoed = 0, got = 0, held = 0, held_at = 0;
	for (int spins = 0; got < n && spins < 20000; spins++) {
		if (sent < n) {
			ssize_t k = send(a, out + sent, n - sent, MSG_DONTWAIT);
			if (k > 0)
				sent += (size_t)k;
			else if (errno != EAGAIN)
				return 0;
		}
		if (!held && echoed < n) {
			ssize_t k = recv(b, mid, sizeof(mid), MSG_DONTWAIT);
			if (k > 0)
				held = (size_t)k, held_at = 0;
			else if (k == 0 || errno != EAGAIN)
				return 0;
		}
		if (held) {
			ssize_t k = send(b, mid + held_at, held - held_at, MSG_DONTWAIT);
			if (k > 0) {
				held_at += (size_t)k;
				echoed += (size_t)k;
				if (held_at == held)
					held = 0;
			} else if (errno != EAGAIN) {
				return 0;
			}
		}
		ssize_t k = recv(a, echo + got, n - got, MSG_DONTWAIT);
		if (k > 0)
			got += (size_t)k;
		else if (k == 0 || errno != EAGAIN)
			return 0;
		if (k <= 0) {
			struct pollfd p[2] = { { a, POLLIN, 0 }, { b, POLLIN, 0 } };
			poll(p, 2, 20);
		}
	}
	return got == n && !memcmp(out, echo, n);
}

static int tcp_listener(uint16_t port)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = at(INADDR_LOOPBACK, port);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 16))
		return -1;
	return l;
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(17);
	int l = tcp_listener(PORT);
	tap_ok(l >= 0, "a TCP socket listens on 127.0.0.1:%d (%d, errno %d)", PORT, l, errno);

	int dup = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = at(INADDR_LOOPBACK, PORT);
	int r = bind(dup, (struct sockaddr *)&a, sizeof(a));
	r = r ? r : listen(dup, 1);
	tap_ok(r == -1 && errno == EADDRINUSE, "a second listener on the same port: EADDRINUSE (%d, errno %d)", r,
	       errno);
	closesocket(dup);

	struct pollfd p = { l, POLLIN, 0 };
	tap_eq(poll(&p, 1, 0), 0, "poll: nothing to accept yet");

	int c = socket(AF_INET, SOCK_STREAM, 0);
	net_set_nonblocking(c, 1);
	r = connect(c, (struct sockaddr *)&a, sizeof(a));
	int connect_ok = r == 0 || errno == EINPROGRESS;
	p.revents = 0;
	int ready = poll(&p, 1, 2000);
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	int s = accept(l, (struct sockaddr *)&peer, &plen);
	tap_ok(connect_ok && ready == 1 && s >= 0 && peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	       "non-blocking connect, poll sees the connection, accept takes it from 127.0.0.1:%u (%d %d %d)",
	       ntohs(peer.sin_port), r, ready, s);
	struct pollfd w = { c, POLLOUT, 0 };
	tap_ok(poll(&w, 1, 2000) == 1 && (w.revents & POLLOUT), "the connecting side becomes writable");
	net_set_nonblocking(c, 0);

	static const size_t sizes[] = { 1, 100, 1460, 5000, 65536, 65537, 300000 };
	int all = 1;
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (!round_trip(c, s, sizes[i])) {
			all = 0;
			debug_printf("# round trip of %zu bytes failed (errno %d)\n", sizes[i], errno);
		}
	tap_ok(all, "random payloads of 1 byte to 300 KB there and back, byte-exact");
	all = 1;
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (!round_trip(s, c, sizes[i]))
			all = 0;
	tap_ok(all, "and from the accepting side");

	/* a bad pointer is the caller's error, not the server's death */
	r = (int)send(c, (const void *)16, 100, 0);
	int bad_errno = errno;
	tap_ok(r == -1 && bad_errno == EFAULT && round_trip(c, s, 100),
	       "send from an unmapped address: EFAULT (%d, errno %d), and the connection works on", r, bad_errno);

	/* a receive timeout */
	{
		struct timeval tv = { 0, 300000 };
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		char x;
		r = (int)recv(c, &x, 1, 0);
	}
	tap_ok(r == -1 && errno == EAGAIN, "recv with SO_RCVTIMEO 300 ms on an idle connection: EAGAIN (%d, errno %d)",
	       r, errno);

	/* shutdown: the other side reads the end of the stream */
	shutdown(c, SHUT_WR);
	char x;
	struct timeval tv = { 2, 0 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	r = (int)recv(s, &x, 1, 0);
	tap_eq(r, 0, "after shutdown(SHUT_WR) the peer's recv returns 0");
	r = (int)send(c, "a", 1, 0);
	tap_ok(r == -1 && errno == EPIPE, "send after shutdown: EPIPE (errno %d)", errno);
	closesocket(c);
	closesocket(s);

	/* nobody listens: refused */
	int q = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in nowhere = at(INADDR_LOOPBACK, 7999);
	r = connect(q, (struct sockaddr *)&nowhere, sizeof(nowhere));
	tap_ok(r == -1 && errno == ECONNREFUSED, "connect to a port nobody listens on: ECONNREFUSED (%d, errno %d)", r,
	       errno);
	closesocket(q);

	/* 20 connections served by one thread with poll */
	int cl[PARALLEL], sv[PARALLEL], nsv = 0, good = 0;
	for (int i = 0; i < PARALLEL; i++) {
		cl[i] = socket(AF_INET, SOCK_STREAM, 0);
		net_set_nonblocking(cl[i], 1);
		connect(cl[i], (struct sockaddr *)&a, sizeof(a));
	}
	for (int spins = 0; nsv < PARALLEL && spins < 200; spins++) {
		struct pollfd lp = { l, POLLIN, 0 };
		if (poll(&lp, 1, 100) == 1) {
			net_set_nonblocking(l, 1);
			int n;
			while (nsv < PARALLEL && (n = accept(l, 0, 0)) >= 0)
				sv[nsv++] = n;
			net_set_nonblocking(l, 0);
		}
	}
	for (int i = 0; i < PARALLEL; i++) {
		char msg[32];
		debug_snprintf(msg, sizeof(msg), "hello from %02d", i);
		net_set_nonblocking(cl[i], 0);
		send(cl[i], msg, 13, 0);
	}
	/* the server side: poll over all, echo what comes */
	int echoed = 0;
	for (int spins = 0; echoed < nsv && spins < 200; spins++) {
		struct pollfd ps[PARALLEL];
		for (int i = 0; i < nsv; i++)
			ps[i] = (struct pollfd){ sv[i], POLLIN, 0 };
		int n = poll(ps, (unsigned)nsv, 500);
		for (int i = 0; n > 0 && i < nsv; i++)
			if (ps[i].revents & POLLIN) {
				char buf[64];
				ssize_t k = recv(sv[i], buf, sizeof(buf), 0);
				if (k > 0 && send(sv[i], buf, (size_t)k, 0) == k)
					echoed++;
			}
	}
	for (int i = 0; i < PARALLEL; i++) {
		char msg[32], buf[32];
		debug_snprintf(msg, sizeof(msg), "hello from %02d", i);
		struct timeval t2 = { 2, 0 };
		setsockopt(cl[i], SOL_SOCKET, SO_RCVTIMEO, &t2, sizeof(t2));
		ssize_t k = recv(cl[i], buf, sizeof(buf), 0);
		if (k == 13 && !memcmp(buf, msg, 13))
			good++;
		closesocket(cl[i]);
	}
	for (int i = 0; i < nsv; i++)
		closesocket(sv[i]);
	tap_ok(nsv == PARALLEL && good == PARALLEL, "%d connections at once, served by one thread with poll: %d accepted, "
	       "%d echoed", PARALLEL, nsv, good);

	/* UDP */
	int u1 = socket(AF_INET, SOCK_DGRAM, 0), u2 = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in ua = at(INADDR_LOOPBACK, 7001), ub = at(INADDR_LOOPBACK, 7002);
	r = bind(u1, (struct sockaddr *)&ua, sizeof(ua));
	r = r ? r : bind(u2, (struct sockaddr *)&ub, sizeof(ub));
	for (int i = 0; i < 1000; i++)
		out[i] = next_byte();
	ssize_t k = sendto(u1, out, 1000, 0, (struct sockaddr *)&ub, sizeof(ub));
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	struct timeval t3 = { 2, 0 };
	setsockopt(u2, SOL_SOCKET, SO_RCVTIMEO, &t3, sizeof(t3));
	ssize_t g = recvfrom(u2, echo, sizeof(echo), 0, (struct sockaddr *)&from, &flen);
	tap_ok(r == 0 && k == 1000 && g == 1000 && !memcmp(out, echo, 1000) && from.sin_port == htons(7001) &&
	       from.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	       "UDP: a 1000-byte datagram from 127.0.0.1:7001 arrives whole, with its address (%d %ld %ld)", r, (long)k,
	       (long)g);
	closesocket(u1);
	closesocket(u2);

	struct sockaddr_in name;
	socklen_t nlen = sizeof(name);
	r = getsockname(l, (struct sockaddr *)&name, &nlen);
	tap_ok(r == 0 && name.sin_port == htons(PORT),
	       "getsockname of the listener: port %u", ntohs(name.sin_port));
	struct net_ifinfo info;
	tap_ok(net_ifconfig(&info) == 0 && !info.attached, "ifconfig answers; no driver is attached");
	closesocket(l);
	l = tcp_listener(PORT);
	tap_ok(l >= 0, "the port is free again once its listener is closed");
	tap_done();
}
