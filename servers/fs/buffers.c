/* Buffers shared with clients that move much data (idl/fs.idl's
 * buffer_attach .. buffer_detach; a VMM's guest disk is the first).
 *
 * Each buffer is 64 KiB of our own memory: frames retyped from an
 * Untyped of its own, mapped here, and copies of them given to the
 * client.  The client's right is a send right to our port minted with a
 * badge naming the buffer and its generation, so it cannot be forged and
 * a buffer given to someone else makes the old right useless (E_STATE).
 * Ending a buffer revokes its Untyped: the frames and every copy the
 * client mapped go at once, and the memory stays ours for the next.  A
 * client that dies leaves its buffer until it is reused: the least
 * recently used one goes to a new client when all are taken. */
#include <string.h>
#include "fs_server.h"

#define BUFFERS 8
#define BUFFER_BITS 16                          /* 64 KiB */
#define BUFFER_PAGES ((1u << BUFFER_BITS) / PAGE_SIZE)
#define BUFFERS_VA 0x0000600000000000UL          /* clear of the heap, the RAM disk, blockdev's buffer */
#define BADGE_SESSION (1UL << 62)

struct buffer {
	int used;
	char name[32];
	uint64_t untyped;
	uint64_t frame[BUFFER_PAGES], shared[BUFFER_PAGES];
	uint64_t session;               /* our copy of the client's badged right */
	uint32_t generation;
	uint64_t last_use;
};

static struct buffer buffers[BUFFERS];
static uint64_t uses;                /* a clock for "least recently used" */
static uint64_t server_port;

void buffers_init(uint64_t port)
{
	server_port = port;
}

static uint64_t badge_of(unsigned i)
{
	return BADGE_SESSION | (uint64_t)buffers[i].generation << 8 | (i + 1);
}

static struct buffer *buffer_of(uint64_t badge)
{
	unsigned i = (unsigned)(badge & 0xff);
	if (!(badge & BADGE_SESSION) || i < 1 || i > BUFFERS || !buffers[i - 1].used || badge != badge_of(i - 1))
		return 0;
	buffers[i - 1].last_use = ++uses;
	return &buffers[i - 1];
}

static void free_slot(uint64_t *slot)
{
	if (*slot) {
		sys_cnode_delete(*slot);
		slot_free(*slot);
		*slot = 0;
	}
}

static void buffer_end(struct buffer *b)
{
	if (b->untyped)
		sys_cnode_revoke(b->untyped);
	for (unsigned p = 0; p < BUFFER_PAGES; p++) {
		if (b->frame[p])
			slot_free(b->frame[p]);
		if (b->shared[p])
			slot_free(b->shared[p]);
		b->frame[p] = b->shared[p] = 0;
	}
	free_slot(&b->session);
	b->used = 0;
	b->name[0] = 0;
}

static long buffer_start(unsigned i, const char *name)
{
	struct buffer *b = &buffers[i];
	long err = E_OK;
	if (!b->untyped)
		err = object_alloc(OBJ_UNTYPED, BUFFER_BITS, &b->untyped);
	for (unsigned p = 0; !err && p < BUFFER_PAGES; p++) {
		err = object_alloc_from(b->untyped, OBJ_FRAME, 0, &b->frame[p]);
		err = err ? err : page_map_with_tables(b->frame[p], BUFFERS_VA + ((uint64_t)i << BUFFER_BITS) + p * PAGE_SIZE,
		                                        RIGHT_READ | RIGHT_WRITE);
		if (!err && !(b->shared[p] = slot_alloc()))
			err = E_SLOT_FULL;
		err = err ? err : sys_cnode_copy(b->frame[p], CAP_ROOT_CNODE, b->shared[p], RIGHT_READ | RIGHT_WRITE);
	}
	b->generation++;
	b->used = 1;
	b->last_use = ++uses;
	if (!err && !(b->session = slot_alloc()))
		err = E_SLOT_FULL;
	err = err ? err : sys_cnode_mint(server_port, CAP_ROOT_CNODE, b->session, RIGHT_SEND, badge_of(i));
	if (err) {
		buffer_end(b);
		return err;
	}
	memcpy(b->name, name, sizeof(b->name) - 1);
	b->name[sizeof(b->name) - 1] = 0;
	return E_OK;
}

long buffers_attach(const char *name, uint64_t *session, uint32_t *pages)
{
	unsigned i, free_one = BUFFERS, oldest = 0;
	for (i = 0; i < BUFFERS; i++) {
		if (buffers[i].used && !strcmp(buffers[i].name, name))
			break;
		if (!buffers[i].used && free_one == BUFFERS)
			free_one = i;
		if (buffers[i].last_use < buffers[oldest].last_use)
			oldest = i;
	}
	if (i == BUFFERS)
		i = free_one < BUFFERS ? free_one : oldest;
	if (buffers[i].used) /* the same client again (it restarted), or the least recently used */
		buffer_end(&buffers[i]);
	long err = buffer_start(i, name);
	if (err)
		return err;
	*session = buffers[i].session;   /* the reply carries a copy */
	*pages = BUFFER_PAGES;
	return E_OK;
}

long buffers_frame(uint64_t badge, uint32_t page, uint64_t *frame)
{
	struct buffer *b = buffer_of(badge);
	if (!b)
		return E_STATE;
	if (page >= BUFFER_PAGES)
		return E_BAD_ARG;
	*frame = b->shared[page];
	return E_OK;
}

long buffers_data(uint64_t badge, uint32_t at, uint32_t count, uint8_t **data)
{
	struct buffer *b = buffer_of(badge);
	if (!b)
		return E_STATE;
	if (at > (1u << BUFFER_BITS) || count > (1u << BUFFER_BITS) - at)
		return E_BAD_ARG;
	*data = (uint8_t *)(BUFFERS_VA + ((uint64_t)(b - buffers) << BUFFER_BITS) + at);
	return E_OK;
}

long buffers_detach(uint64_t badge)
{
	struct buffer *b = buffer_of(badge);
	if (!b)
		return E_STATE;
	buffer_end(b);
	return E_OK;
}
