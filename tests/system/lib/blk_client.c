/* See blk_client.h. */
#include <libipc/libipc.h>
#include "blk_client.h"
#include "block.h"
#include "init.h"

#define INIT 8

static void drop(uint64_t *slot)
{
	if (*slot) {
		sys_page_unmap(*slot);
		sys_cnode_delete(*slot);
		slot_free(*slot);
		*slot = 0;
	}
}

void blk_forget(struct blk_client *c)
{
	for (unsigned p = 0; p < 16; p++)
		drop(&c->frames[p]);
	drop(&c->session);
	drop(&c->published);
}

long blk_connect(struct blk_client *c)
{
	long err = E_BAD_ARG;
	for (int tries = 0; tries < 200000; tries++) {
		if ((err = init_lookup(INIT, c->disk, &c->published)) == E_OK)
			break;
		sys_yield();
	}
	err = err ? err : block_attach(c->published, c->name, &c->session, &c->pages);
	if (!err && c->pages > 16)
		err = E_RANGE;
	for (unsigned p = 0; !err && p < c->pages; p++) {
		err = block_buffer_frame(c->session, p, &c->frames[p]);
		err = err ? err : page_map_with_tables(c->frames[p], c->vaddr + p * 4096, RIGHT_READ | RIGHT_WRITE);
	}
	c->buf = (uint64_t *)c->vaddr;
	return err;
}
