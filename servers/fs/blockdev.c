/* The block device under the file system: a block driver's session
 * (idl/block.idl), with the driver's shared buffer mapped here.  When the
 * driver dies (a call fails with E_NO_REPLY, E_DEAD_PORT or E_BAD_CAP)
 * the name is looked up again, a new session attached and the request
 * tried again, for up to RETRY_TICKS: init restarts the driver, and a
 * write the dead driver had not acknowledged is simply written again.
 * Only then does the file system see an I/O error.
 *
 * The buffer is the driver's memory: when the driver dies, its frames
 * vanish from our space, perhaps in the middle of a copy.  So the copies
 * into and out of it are safe_copy's (servers/lib/safe_copy.h): a fault
 * there means "the driver is gone". */
#include <string.h>
#include <libipc/libipc.h>
#include <libipc/ipc.h>
#include "block.h"   /* generated from idl/block.idl */
#include "init.h"
#include "fs_server.h"
#include "safe_copy.h"

#define INIT_SLOT 8
#define SECTOR 512
#define BUFFER_VA 0x0000500000000000UL  /* clear of the heap and the RAM disk */
#define BUFFER_PAGES_MAX 64
#define RETRY_TICKS 1000                /* 10 s for the driver to come back */
#define RETRY_NAP 5

struct blk {
	char name[32];
	uint64_t published, session, nap;
	uint64_t frames[BUFFER_PAGES_MAX];
	uint32_t pages;
	uint64_t sectors;
};

static struct blk blk;


static void drop(uint64_t *slot)
{
	if (*slot) {
		sys_cnode_delete(*slot);
		slot_free(*slot);
		*slot = 0;
	}
}

static void detach_local(void)
{
	for (uint32_t i = 0; i < blk.pages; i++) {
		sys_page_unmap(blk.frames[i]);
		drop(&blk.frames[i]);
	}
	blk.pages = 0;
	drop(&blk.session);
	drop(&blk.published);
}

/* Find the driver, attach, map its buffer. */
static long attach(void)
{
	uint32_t pages = 0, bs, flags;
	long err = init_lookup(INIT_SLOT, blk.name, &blk.published);
	if (err) {
		blk.published = 0;
		return err;
	}
	err = block_info(blk.published, &blk.sectors, &bs, &flags);
	err = err ? err : block_attach(blk.published, "fs", &blk.session, &pages);
	if (!err && (pages == 0 || pages > BUFFER_PAGES_MAX))
		err = E_BAD_MSG;
	for (uint32_t i = 0; !err && i < pages; i++) {
		err = block_buffer_frame(blk.session, i, &blk.frames[i]);
		if (!err) {
			blk.pages = i + 1;
			err = page_map_with_tables(blk.frames[i], BUFFER_VA + (uint64_t)i * PAGE_SIZE,
			                           RIGHT_READ | RIGHT_WRITE);
		}
	}
	if (err)
		detach_local();
	return err;
}

static int driver_gone(long err)
{
	return ipc_peer_gone(err);
}

static void nap(void)
{
	struct msg m;
	if (!blk.nap && object_alloc(OBJ_PORT, 0, &blk.nap))
		return;
	sys_notify_after(blk.nap, 1, RETRY_NAP);
	ipc_recv(blk.nap, 0, &m);
}

/* A session, waiting up to RETRY_TICKS for the driver to come back. */
static int attached(void)
{
	for (unsigned waited = 0; !blk.session && waited <= RETRY_TICKS; waited += RETRY_NAP)
		if (attach())
			nap();
	return blk.session != 0;
}

enum op { OP_READ, OP_WRITE, OP_FLUSH };

/* One request that fits the buffer, tried again across driver restarts:
 * a write's data is copied into the (possibly new) buffer each time, a
 * read's out of it once it succeeded. */
static long request(enum op op, uint64_t sector, uint32_t count, uint8_t *buf)
{
	long err = E_STATE;
	for (unsigned waited = 0; waited <= RETRY_TICKS; waited += RETRY_NAP) {
		if (!attached())
			return E_STATE;
		if (op == OP_WRITE && safe_copy((void *)BUFFER_VA, buf, (size_t)count * SECTOR))
			err = E_DEAD_PORT; /* the buffer went with the driver */
		else
			err = op == OP_READ ? block_read(blk.session, sector, count, 0)
			      : op == OP_WRITE ? block_write(blk.session, sector, count, 0)
			                       : block_flush(blk.session);
		if (!err && op == OP_READ && safe_copy(buf, (const void *)BUFFER_VA, (size_t)count * SECTOR))
			err = E_DEAD_PORT; /* read again from the driver that comes back */
		if (!driver_gone(err))
			break;
		debug_printf("fs: the block driver '%s' went away; attaching again\n", blk.name);
		detach_local();
		nap();
	}
	return err;
}

/* A transfer larger than the buffer goes in pieces. */
static int transfer(int write, uint64_t sector, uint32_t count, uint8_t *buf)
{
	while (count) {
		if (!attached())
			return EXT2_EIO;
		uint32_t room = blk.pages * (PAGE_SIZE / SECTOR), n = count < room ? count : room;
		long err = request(write ? OP_WRITE : OP_READ, sector, n, buf);
		if (err) {
			debug_printf("fs: block %s of %u sectors at %lu failed: error %ld\n", write ? "write" : "read",
			             n, sector, err);
			return EXT2_EIO;
		}
		sector += n;
		count -= n;
		buf += (size_t)n * SECTOR;
	}
	return 0;
}

static int bd_read(void *ctx, uint64_t sector, uint32_t count, void *buf)
{
	(void)ctx;
	return transfer(0, sector, count, buf);
}

static int bd_write(void *ctx, uint64_t sector, uint32_t count, const void *buf)
{
	(void)ctx;
	return transfer(1, sector, count, (uint8_t *)(uintptr_t)buf);
}

static int bd_flush(void *ctx)
{
	(void)ctx;
	return request(OP_FLUSH, 0, 0, 0) ? EXT2_EIO : 0;
}

long blockdev_open(const char *name, struct ext2_blockdev *dev)
{
	size_t n = strlen(name);
	if (!n || n >= sizeof(blk.name))
		return E_BAD_ARG;
	memcpy(blk.name, name, n + 1);
	long err = safe_copy_start();
	if (err) {
		debug_printf("fs: no copier thread: %ld\n", err);
		return err;
	}
	if (!attached()) {
		debug_printf("fs: no block device '%s'\n", name);
		return E_STATE;
	}
	*dev = (struct ext2_blockdev){ .ctx = &blk, .sector_size = SECTOR, .sectors = blk.sectors,
	                               .read = bd_read, .write = bd_write, .flush = bd_flush };
	return E_OK;
}
