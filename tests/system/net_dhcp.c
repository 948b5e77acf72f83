/* The network end to end on QEMU's user network (restrict=on: nothing
 * leaves the machine): the virtio-net driver, the network server, DHCP
 * gives 10.0.2.15, the user network's gateway 10.0.2.2 answers pings,
 * and ifconfig's counters move. */
// test-root: build/init.elf
// test-module: tests/system/manifests/net_dhcp.manifest
// test-module: build/pci.elf
// test-module: build/virtio_net.elf
// test-module: build/net.elf
// test-net: user
// test-timeout: 90
#include "tap.h"
#include <errno.h>
#include "net_socket.h"

#define GATEWAY 0x0a000202u

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(5);
	struct net_ifinfo info = { 0 };
	int r = -1;
	/* DHCP: QEMU answers within a second or two of the link coming up */
	for (int tries = 0; tries < 200; tries++) {
		r = net_ifconfig(&info);
		if (r == 0 && info.has_address)
			break;
		clock_nap(5);
	}
	tap_ok(r == 0 && info.attached && info.link_up, "the network server attached to net0; the link is up");
	tap_eq(info.addr, 0x0a00020f, "DHCP gave 10.0.2.15");
	/* QEMU's DHCP server leaves the router option out under restrict=on
	 * (there is nowhere to route to): the gateway is 10.0.2.2 or none */
	tap_ok((info.gateway == GATEWAY || !info.gateway) && info.netmask == 0xffffff00u,
	       "netmask 255.255.255.0, gateway %x (10.0.2.2, or 0: none offered)", info.gateway);
	int answered = 0;
	unsigned rtt = 0, ttl = 0;
	for (unsigned seq = 1; seq <= 3; seq++)
		if (net_ping(GATEWAY, seq, 56, 2000, &rtt, &ttl) == 0)
			answered++;
	tap_eq(answered, 3, "3 pings of the gateway answered (the last in %u us, ttl %u)", rtt, ttl);
	struct net_ifinfo after;
	net_ifconfig(&after);
	tap_ok(after.rx_frames > info.rx_frames && after.tx_frames > info.tx_frames,
	       "the counters moved: rx %lu -> %lu frames, tx %lu -> %lu", info.rx_frames, after.rx_frames,
	       info.tx_frames, after.tx_frames);
	tap_done();
}
