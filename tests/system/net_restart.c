/* The network server and the driver killed under load.  A thread keeps
 * TCP round trips going over 127.0.0.1; init kills the network server:
 * the thread's call fails with an error (no hang), init starts a new
 * server, and new connections work within seconds; the new server
 * attaches to the driver and DHCP gives the address again.  Then init
 * kills the driver: the server notices, attaches to the restarted one,
 * and the gateway answers pings again.  The kernel and the other
 * servers carry on (nothing else restarted). */
// test-root: build/init.elf
// test-module: tests/system/manifests/net_restart.manifest
// test-module: build/pci.elf
// test-module: build/virtio_net.elf
// test-module: build/net.elf
// test-net: user
// test-expect: init: 'net' was killed; restarting it
// test-expect: init: 'net0' was killed; restarting it
// test-expect: net: lost the driver 'net0'
// test-timeout: 150
#include "tap.h"
#include "tasks.h"
#include <errno.h>
#include "init.h"
#include "net_socket.h"

#define INIT 8
#define GATEWAY 0x0a000202u
#define PORT 7300

static volatile int trips, worker_error, worker_done;
static _Alignas(16) uint8_t stack[32768];

static int pair(int *l, int *c, int *s)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT), .sin_addr = { htonl(INADDR_LOOPBACK) } };
	*l = socket(AF_INET, SOCK_STREAM, 0);
	*c = socket(AF_INET, SOCK_STREAM, 0);
	*s = -1;
	if (*l < 0 || *c < 0 || bind(*l, (struct sockaddr *)&a, sizeof(a)) || listen(*l, 1) ||
	    connect(*c, (struct sockaddr *)&a, sizeof(a)) || (*s = accept(*l, 0, 0)) < 0) {
		closesocket(*l);
		closesocket(*c);
		return -1;
	}
	return 0;
}

static void worker(uint64_t arg)
{
	(void)arg;
	static uint8_t out[20000], in[20000];
	int l, c, s;
	if (pair(&l, &c, &s)) {
		worker_error = errno ? errno : -1;
		worker_done = 1;
		for (;;)
			clock_nap(100);
	}
	for (;;) {
		for (unsigned i = 0; i < sizeof(out); i++)
			out[i] = (uint8_t)(i * 7 + (unsigned)trips);
		ssize_t k = send(c, out, sizeof(out), 0);
		size_t got = 0;
		while (k > 0 && got < sizeof(in)) {
			ssize_t r = recv(s, in + got, sizeof(in) - got, 0);
			if (r <= 0) {
				k = -1;
				break;
			}
			got += (size_t)r;
		}
		if (k < 0 || memcmp(in, out, sizeof(in))) {
			worker_error = k < 0 ? errno : -2;
			break;
		}
		trips++;
	}
	closesocket(s);
	closesocket(c);
	closesocket(l);
	worker_done = 1;
	for (;;)
		clock_nap(100);
}

static unsigned restarts_of(const char *task)
{
	uint32_t restarts = 0;
	return task_find(task, 0, &restarts, 0) ? restarts : 999;
}

static int wait_address(int seconds)
{
	struct net_ifinfo info;
	for (int i = 0; i < seconds * 20; i++) {
		if (net_ifconfig(&info) == 0 && info.attached && info.has_address && info.addr == 0x0a00020f)
			return 1;
		clock_nap(5);
	}
	return 0;
}

static int pings(void)
{
	int answered = 0;
	for (unsigned seq = 1; seq <= 3; seq++)
		answered += net_ping(GATEWAY, seq, 56, 2000, 0, 0) == 0;
	return answered;
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(9);
	clock_ms();
	tap_ok(wait_address(20) && pings() == 3, "DHCP gave 10.0.2.15 and the gateway answers pings");
	uint64_t tcb;
	thread_create(worker, 0, stack, sizeof(stack), 100, &tcb);
	while (trips < 20 && !worker_done)
		clock_nap(1);
	int before = trips;
	tap_ok(before >= 20 && init_kill(INIT, "net") == E_OK, "after %d round trips of 20000 bytes, init kills the "
	       "network server", before);
	for (int i = 0; i < 1000 && !worker_done; i++)
		clock_nap(1);
	tap_ok(worker_done && worker_error > 0, "the worker's call failed with an error, no hang (errno %d, %d trips)",
	       worker_error, trips);
	/* new connections, once init has started the server again */
	uint64_t t0 = clock_ms();
	int ok = 0;
	while (!ok && clock_ms() - t0 < 10000) {
		int l, c, s;
		ok = pair(&l, &c, &s) == 0;
		if (ok) {
			char x = 0;
			ok = send(c, "!", 1, 0) == 1 && recv(s, &x, 1, 0) == 1 && x == '!';
			closesocket(s);
			closesocket(c);
			closesocket(l);
		} else {
			clock_nap(5);
		}
	}
	uint64_t took = clock_ms() - t0;
	tap_ok(ok && took < 5000, "a new connection works %lu ms later", took);
	tap_ok(wait_address(20) && pings() == 3,
	       "the new server attached to the driver, DHCP gave 10.0.2.15 again, pings answered");

	/* the driver */
	tap_eq(init_kill(INIT, "net0"), E_OK, "init kills the driver net0");
	t0 = clock_ms();
	int back = 0;
	while (!back && clock_ms() - t0 < 20000)
		back = net_ping(GATEWAY, 9, 56, 500, 0, 0) == 0;
	tap_ok(back && pings() == 3, "the server attached to the restarted driver: pings answered again %lu ms later",
	       clock_ms() - t0);
	tap_eq(restarts_of("net"), 1, "init restarted the network server once");
	tap_ok(restarts_of("net0") == 1 && restarts_of("pci") == 0, "the driver once, the PCI server never");
	tap_done();
}
