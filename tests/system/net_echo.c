/* TCP between a Berth program and the host: this program serves on port
 * 7777, which QEMU forwards from a free port on the host's 127.0.0.1,
 * and tools/net_echo_client.py connects there (6 connections, 4 of them
 * at once): random payloads of 1 byte to 1 MiB echoed back, and streams
 * Berth generates from a seed the host checks.  One thread, poll over
 * non-blocking sockets.  The host's checks are this test's host results;
 * these lines say what the Berth side saw. */
// test-root: build/init.elf
// test-module: tests/system/manifests/net_echo.manifest
// test-module: build/pci.elf
// test-module: build/virtio_net.elf
// test-module: build/net.elf
// test-hostfwd: echo
// test-net: user hostfwd=tcp:127.0.0.1:{hostfwd:echo}-:7777
// test-host: ^net-echo: listening => {python} tools/net_echo_client.py {hostfwd:echo}
// test-timeout: 150
#include "tap.h"
#include <errno.h>
#include "net_socket.h"

#define PORT 7777
#define CONNECTIONS 6
#define MAX_CONNS 8
#define BUF 65536
#define DEADLINE_MS 120000

struct conn {
	int fd;                   /* -1: free */
	char mode;                /* 0 until the first byte, then 'E' or 'G' */
	uint8_t head[16];
	unsigned head_len;
	uint64_t left, x;         /* generate: bytes to go, the xorshift state */
	uint8_t buf[BUF];
	size_t len, off;          /* bytes held to send back / generated */
	int eof;
};

static struct conn conns[MAX_CONNS];
static uint64_t echoed, generated;
static int done_echo, done_generate, failures;

static uint8_t next_byte(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return (uint8_t)*x;
}

static void finish(struct conn *c, int ok)
{
	if (!ok)
		failures++;
	else if (c->mode == 'E')
		done_echo++;
	else
		done_generate++;
	closesocket(c->fd);
	c->fd = -1;
}

/* What the socket allows now; 0 to keep it, -1 when it is finished. */
static int serve(struct conn *c)
{
	for (;;) {
		if (c->len > c->off) {
			ssize_t k = send(c->fd, c->buf + c->off, c->len - c->off, MSG_DONTWAIT);
			if (k < 0)
				return errno == EAGAIN ? 0 : -1;
			c->off += (size_t)k;
			if (c->mode == 'E')
				echoed += (uint64_t)k;
			else
				generated += (uint64_t)k;
			continue;
		}
		c->len = c->off = 0;
		if (c->mode == 'G' && c->head_len == 16) {
			if (!c->left)
				return 1;
			size_t n = c->left < BUF ? (size_t)c->left : BUF;
			for (size_t i = 0; i < n; i++)
				c->buf[i] = next_byte(&c->x);
			c->left -= n;
			c->len = n;
			continue;
		}
		if (c->eof)
			return 1;
		uint8_t *into = c->mode == 'G' ? c->head + c->head_len : c->buf;
		size_t room = c->mode == 'G' ? 16 - c->head_len : c->mode ? BUF : 1;
		ssize_t k = recv(c->fd, into, room, MSG_DONTWAIT);
		if (k < 0)
			return errno == EAGAIN ? 0 : -1;
		if (k == 0) {
			c->eof = 1;
			if (c->mode != 'E')
				return -1;
			continue;
		}
		if (!c->mode) {
			c->mode = (char)into[0];
			if (c->mode != 'E' && c->mode != 'G')
				return -1;
		} else if (c->mode == 'G') {
			c->head_len += (unsigned)k;
			if (c->head_len == 16) {
				memcpy(&c->left, c->head, 8);
				memcpy(&c->x, c->head + 8, 8);
				if (!c->x)
					c->x = 0x9e3779b97f4a7c15ULL;
			}
		} else {
			c->len = (size_t)k;
		}
	}
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(3);
	struct net_ifinfo info = { 0 };
	for (int tries = 0; tries < 400 && !(net_ifconfig(&info) == 0 && info.has_address); tries++)
		clock_nap(5);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int r = bind(l, (struct sockaddr *)&a, sizeof(a));
	r = r ? r : listen(l, 8);
	net_set_nonblocking(l, 1);
	tap_ok(info.has_address && r == 0, "an address from DHCP (%08x), listening on port %d", info.addr, PORT);
	debug_printf("net-echo: listening on port %d\n", PORT);
	for (int i = 0; i < MAX_CONNS; i++)
		conns[i].fd = -1;
	uint64_t start = clock_ms();
	int served = 0;
	while (served < CONNECTIONS && clock_ms() - start < DEADLINE_MS) {
		struct pollfd fds[MAX_CONNS + 1];
		struct conn *of[MAX_CONNS + 1];
		unsigned n = 0;
		fds[n] = (struct pollfd){ l, POLLIN, 0 };
		of[n++] = 0;
		for (int i = 0; i < MAX_CONNS; i++)
			if (conns[i].fd >= 0) {
				struct conn *c = &conns[i];
				fds[n] = (struct pollfd){ c->fd, (short)(c->len > c->off || c->mode == 'G' ? POLLOUT : POLLIN),
				                          0 };
				if (c->mode == 'G' && c->head_len < 16)
					fds[n].events = POLLIN;
				of[n++] = c;
			}
		if (poll(fds, n, 1000) < 0)
			break;
		for (unsigned i = 0; i < n; i++) {
			if (!fds[i].revents)
				continue;
			if (!of[i]) {
				int fd;
				while ((fd = accept(l, 0, 0)) >= 0) {
					int k = 0;
					while (k < MAX_CONNS && conns[k].fd >= 0)
						k++;
					if (k == MAX_CONNS) {
						closesocket(fd);
						continue;
					}
					memset(&conns[k], 0, sizeof(conns[k]));
					conns[k].fd = fd;
					net_set_nonblocking(fd, 1);
				}
				continue;
			}
			int s = serve(of[i]);
			if (s) {
				finish(of[i], s > 0);
				served++;
			}
		}
	}
	tap_eq(served, CONNECTIONS, "served %d connections in %lu ms", served, clock_ms() - start);
	tap_ok(done_echo == 4 && done_generate == 2 && !failures,
	       "4 echo connections (%lu bytes back) and 2 generated streams (%lu bytes), %d failures", echoed,
	       generated, failures);
	/* the host's last reads may still be in flight: let them finish */
	clock_nap(100);
	tap_done();
}
