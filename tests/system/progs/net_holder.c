/* Helper for tests/system/virtio_net_restart.c: a netif client that
 * attaches to net0 as "holder" (again, while the test's own probing
 * attach holds the session) and then waits forever, never detaching,
 * until the test has init kill it. */
#include <libipc/libipc.h>
#include <libipc/ipc.h>
#include "../lib/net_client.h"

static struct net_client c = { .nic = "net0", .name = "holder", .vaddr = 0x40000000 };

int main(const struct bootinfo *bi)
{
	(void)bi;
	struct msg m;
	long err = net_connect(&c, 500);
	/* the test probes with attaches of its own: one may hold the
	 * driver's only session at the moment we ask */
	for (int i = 0; err == E_LIMIT && i < 500; i++) {
		sys_notify_after(c.port_send, 2, 1);
		ipc_recv(c.port, 0, &m);
		err = net_connect(&c, 500);
	}
	debug_printf("net-holder: attached (%ld)\n", err);
	for (;;)
		ipc_recv(c.port, 0, &m);
}
