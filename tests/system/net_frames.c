/* Malformed traffic at the network server from the host side: lwIP
 * behind the virtio-net driver, on a wire that is a UDP socket pair on
 * 127.0.0.1 (-netdev dgram), with a static address (no DHCP server
 * there).  tools/net_stack_frames.py sends random bytes, IPv4 headers
 * with every field wrong, fragments that overlap, never complete or run
 * past 64 KiB, UDP and TCP whose lengths and options lie, a SYN flood,
 * bad ARP (its results are this test's host results); this program
 * echoes UDP datagrams on port 7 before and after, and when the host
 * says DONE checks that init restarted neither the server nor the
 * driver. */
// test-root: build/init.elf
// test-module: tests/system/manifests/net_frames.manifest
// test-module: build/pci.elf
// test-module: build/virtio_net.elf
// test-module: build/net.elf
// test-net: dgram tools/net_stack_frames.py
// test-expect: ^net: static address 10\.0\.3\.15
// test-timeout: 240
#include "tap.h"
#include <errno.h>
#include <string.h>
#include "init.h"
#include "tasks.h"
#include "net_socket.h"

#define INIT 8

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(3);
	int fd = -1;
	for (int i = 0; i < 300 && fd < 0; i++) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7) };
		if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			closesocket(fd);
			fd = -1;
		}
		if (fd < 0)
			clock_nap(10);
	}
	tap_ok(fd >= 0, "a UDP socket on port 7");
	struct timeval wait = { .tv_sec = 220 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
	static char buf[2048];
	unsigned echoed = 0;
	int done = 0;
	while (fd >= 0 && !done) {
		struct sockaddr_in from;
		socklen_t len = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
		if (n < 0)
			break; /* the host gave up (its own results say why) */
		done = n == 4 && !memcmp(buf, "DONE", 4);
		if (done)
			memcpy(buf, "BYE.", 4);
		else
			echoed++;
		sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
	}
	tap_ok(done, "the host's traffic ended with DONE (%u datagrams echoed)", echoed);
	uint32_t r_net = 99, r_drv = 99;
	int found = task_find("net", 0, &r_net, 0) && task_find("net0", 0, &r_drv, 0);
	tap_ok(found && r_net == 0 && r_drv == 0, "neither the network server nor the driver was restarted (%u, %u)",
	       r_net, r_drv);
	tap_done();
}
