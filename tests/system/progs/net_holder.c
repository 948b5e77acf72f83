/* Helper for tests/system/virtio_net_restart.c: a netif client that
 * attaches to net0 as "holder" and then waits forever, never detaching,
 * until the test has init kill it. */
#include <libipc/libipc.h>
#include <libipc/ipc.h>
#include "../lib/net_client.h"

static struct net_client c = { .nic = "net0", .name = "holder", .vaddr = 0x40000000 };

int main(const struct bootinfo *bi)
{
	(void)bi;
	long err = net_connect(&c, 500);
	debug_printf("net-holder: attached (%ld)\n", err);
	struct msg m;
	for (;;)
		ipc_recv(c.port, 0, &m);
}
