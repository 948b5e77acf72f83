/* Helper for tests/system/virtio_blk_sessions.c: a block client that
 * attaches to blk0 under a name no earlier instance had, then reads the
 * whole buffer's worth again and again, never detaching, until the test
 * has init kill it (init restarts it: each instance is a new client).
 * Once attached it publishes "blk-holder", so the test knows; the name
 * goes when it dies. */
#include <libipc/libipc.h>
#include "block.h"
#include "init.h"
#include "../lib/blk_client.h"

#define INIT 8

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	static char name[32];
	debug_snprintf(name, sizeof(name), "holder-%lx", (unsigned long)(rdtsc() & 0xffffffffffUL));
	struct blk_client c = { .disk = "blk0", .name = name, .vaddr = 0x40000000 };
	long err = blk_connect(&c);
	uint64_t port, send = slot_alloc();
	err = err ? err : object_alloc(OBJ_PORT, 0, &port);
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, send, RIGHT_SEND, 0);
	err = err ? err : block_read(c.session, 0, c.pages * 8, 0);
	err = err ? err : init_publish(INIT, "blk-holder", send);
	debug_printf("blk-holder: '%s' attached (%ld)\n", name, err);
	if (err)
		return 1;
	/* a request in flight most of the time: the driver must not give our
	 * buffer to the next client before the device is done with it */
	for (;;)
		block_read(c.session, 0, c.pages * 8, 0);
}
