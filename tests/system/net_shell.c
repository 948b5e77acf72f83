/* The shell's ifconfig and ping on QEMU's user network (restrict=on),
 * typed over the serial line by the test runner once DHCP has given the
 * address (this program waits for it and says so). */
// test-root: build/init.elf
// test-module: tests/system/manifests/net_shell.manifest
// test-module: build/serial.elf
// test-module: build/pci.elf
// test-module: build/virtio_net.elf
// test-module: build/net.elf
// test-module: build/shell.elf
// test-net: user
// test-exit: none
// test-timeout: 90
// test-send: net-shell: address 10\.0\.2\.15 => ifconfig\n
// test-send: berth> => ping 10.0.2.2 2\n
// test-send: round trip min => ping 10.0.2.99 1\n
// test-send: lost => ping nonsense\n
// test-send: usage: ping => help\n
// test-expect: ^en0: link up, mtu 1500
// test-expect: ether 52:54:00:12:34:56
// test-expect: inet 10\.0\.2\.15 netmask 255\.255\.255\.0 gateway
// test-expect: rx \d+ frames, \d+ bytes; tx \d+ frames, \d+ bytes; dropped \d+
// test-expect: ^64 bytes from 10\.0\.2\.2: seq=1 ttl=\d+ time=\d+\.\d{3} ms
// test-expect: ^64 bytes from 10\.0\.2\.2: seq=2 ttl=\d+ time=
// test-expect: 2 sent, 2 received, 0% lost; round trip min \d+\.\d+ ms, avg
// test-expect: seq=1: no reply within 1000 ms
// test-expect: 1 sent, 0 received, 100% lost
// test-expect: ^ping: 'nonsense' is not an address A\.B\.C\.D; usage: ping A\.B\.C\.D \[COUNT\]\r?$
// test-expect: ping A\.B\.C\.D \[COUNT\] +ICMP echo requests
#include <libipc/libipc.h>
#include "net_socket.h"

int main(const struct bootinfo *bi)
{
	(void)bi;
	struct net_ifinfo info;
	for (int i = 0; i < 600; i++) {
		if (net_ifconfig(&info) == 0 && info.has_address) {
			struct in_addr a = { htonl(info.addr) };
			debug_printf("net-shell: address %s\n", inet_ntoa(a));
			return 0;
		}
		clock_nap(5);
	}
	debug_printf("net-shell: no address from DHCP\n");
	return 0;
}
