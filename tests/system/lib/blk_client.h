/* A block client for the virtio-blk tests: look the disk up, attach,
 * map the buffer (blk_client.c). */
#ifndef BLK_CLIENT_H
#define BLK_CLIENT_H

#include <stdint.h>

struct blk_client {
	const char *disk, *name;  /* the published name; ours for attach */
	uint64_t published, session;
	uint64_t frames[16];
	uint32_t pages;
	uint64_t *buf;            /* mapped at vaddr */
	uint64_t vaddr;
};

/* Look up (retrying while the driver restarts), attach, map; 0 or an error. */
long blk_connect(struct blk_client *c);
/* Drop the rights and slots of an earlier connection (after the driver died). */
void blk_forget(struct blk_client *c);

#endif
