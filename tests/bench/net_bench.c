/* Berth's side of the network benchmark (make bench; docs/benchmarks.md):
 * a TCP sink on port 5001 (reads to the end of the stream) and a source
 * on 5002 (16 MiB, then close), as the Linux side has with busybox nc;
 * httpd runs beside it (tests/bench/net_bench.manifest).  The host
 * measures the throughput (tools/bench/net_measure.py); this program
 * counts what each transfer cost in kernel work per Ethernet frame:
 * IPC messages moved and notifications received (the kernel's counters)
 * over the frames the network server sent and received (its ifconfig
 * counters), and prints them as BENCH lines after each transfer:
 *
 *   net_rx_messages_per_frame, net_rx_notifications_per_frame   (host -> Berth)
 *   net_tx_messages_per_frame, net_tx_notifications_per_frame   (Berth -> host)
 *
 * in hundredths (250 is 2.5).  One thread, blocking calls: the host
 * makes one transfer at a time. */
#include <libipc/libipc.h>
#include <errno.h>
#include <string.h>
#include "net_socket.h"

#define SINK_PORT 5001
#define SOURCE_PORT 5002
#define TOTAL (16u << 20)
#define CHUNK (64u << 10)

static uint8_t buf[CHUNK];

struct snapshot {
	uint64_t messages, notifications, frames;
};

static void take(struct snapshot *s)
{
	struct net_ifinfo info;
	memset(&info, 0, sizeof(info));
	net_ifconfig(&info);
	sys_kernel_counter(KC_IPC_MESSAGES, &s->messages);
	sys_kernel_counter(KC_IPC_NOTIFICATIONS, &s->notifications);
	s->frames = info.rx_frames + info.tx_frames;
}

static void report(const char *dir, const struct snapshot *a, const struct snapshot *b)
{
	uint64_t frames = b->frames - a->frames;
	if (!frames)
		return;
	debug_printf("BENCH name=net_%s_messages_per_frame value=%lu unit=hundredths frames=%lu\n", dir,
	             (b->messages - a->messages) * 100 / frames, frames);
	debug_printf("BENCH name=net_%s_notifications_per_frame value=%lu unit=hundredths\n", dir,
	             (b->notifications - a->notifications) * 100 / frames);
}

static int listen_on(unsigned port)
{
	for (int tries = 0; tries < 600; tries++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd >= 0) {
			struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
			if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(fd, 4) == 0)
				return fd;
			closesocket(fd);
		}
		clock_nap(10);
	}
	debug_printf("net_bench: cannot listen on %u (errno %d)\n", port, errno);
	sys_debug_exit(1);
	return -1;
}

static void sink(int conn)
{
	struct snapshot a, b;
	take(&a);
	uint64_t got = 0;
	ssize_t n;
	while ((n = recv(conn, buf, sizeof(buf), 0)) > 0)
		got += (uint64_t)n;
	take(&b);
	closesocket(conn);
	debug_printf("net_bench: sink took %lu bytes\n", got);
	report("rx", &a, &b);
}

static void source(int conn)
{
	struct snapshot a, b;
	for (uint32_t i = 0; i < CHUNK; i++)
		buf[i] = (uint8_t)(i * 13 + 7);
	take(&a);
	uint32_t sent = 0;
	while (sent < TOTAL) {
		ssize_t n = send(conn, buf, CHUNK, 0);
		if (n <= 0)
			break;
		sent += (uint32_t)n;
	}
	shutdown(conn, SHUT_WR);
	take(&b);
	closesocket(conn);
	report("tx", &a, &b);
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	int s1 = listen_on(SINK_PORT), s2 = listen_on(SOURCE_PORT);
	debug_printf("net_bench: sink on %u, source on %u\n", SINK_PORT, SOURCE_PORT);
	for (;;) {
		struct pollfd fds[2] = { { .fd = s1, .events = POLLIN }, { .fd = s2, .events = POLLIN } };
		if (poll(fds, 2, -1) <= 0) {
			clock_nap(10);
			continue;
		}
		if (fds[0].revents & POLLIN) {
			int c = accept(s1, 0, 0);
			if (c >= 0)
				sink(c);
		}
		if (fds[1].revents & POLLIN) {
			int c = accept(s2, 0, 0);
			if (c >= 0)
				source(c);
		}
	}
}
