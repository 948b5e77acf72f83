/*
 * The virtio-blk driver: one modern virtio block device (PCI 1af4:1042),
 * taken from the PCI server, served as idl/block.idl under the name its
 * args give (name=blk0; index=N picks the N-th such device).  See
 * README.md and docs/drivers.md, which walks through this file.
 *
 * Capabilities (boot manifest order): slot 9 a send right to "pci".
 * Its memory must keep RIGHT_PHYS (manifest: dma): the rings, request
 * headers and client buffers are its own frames, and the device is told
 * their physical addresses.
 *
 * Threads: the main thread serves the published port (info, attach)
 * and the interrupt, which arrives there as a notification; each
 * session has a port and a thread of its own, so that a client's death
 * reaches us as no-senders on its port (args priority=: the session
 * threads' priority, at most the manifest's; default 110).  A read,
 * write or flush is deferred (its reply right kept), queued in arrival
 * order, put on the virtqueue when descriptors are free, and answered
 * when the device has completed it.  So many requests, of many clients,
 * are in flight at once.
 */
#include <libipc/libipc.h>
#include <libipc/lock.h>
#include <libipc/server.h>
#include "block.h"   /* generated from idl/block.idl */
#include "pci.h"
#include "init.h"
#include "../lib/virtio_pci.h"
#include "../lib/virtq.h"

void program_exit(int code);   /* libipc/start.c: tell init, end */

#define INIT_SLOT 8
#define PCI_SLOT 9
#define IRQ_BIT 1
#define PAGE 4096UL
#define SECTOR 512U

/* virtio-blk (virtio 1.1 spec 5.2) */
#define BLK_F_SIZE_MAX 1
#define BLK_F_SEG_MAX 2
#define BLK_F_RO 5
#define BLK_F_BLK_SIZE 6
#define BLK_F_FLUSH 9
#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_FLUSH 4
#define BLK_S_OK 0
#define BLK_S_UNSUPP 2
#define CFG_CAPACITY 0
#define CFG_SIZE_MAX 8
#define CFG_SEG_MAX 12
#define CFG_BLK_SIZE 20

#define QUEUE_MAX 128
#define MAX_REQS 32
#define MAX_CLIENTS 4
#define BUFFER_BITS 16                      /* 64 KiB per client */
#define BUFFER_PAGES (1U << (BUFFER_BITS - 12))
#define RING_VA 0x60000000UL
#define HEADER_VA 0x60001000UL              /* request headers, then status bytes */
#define STATUS_OFFSET 2048
#define CLIENT_VA 0x61000000UL
#define STACK_SIZE 16384                    /* each session thread's */
#define NOSENDERS_BIT 1                     /* on a session's port */
#define DEFAULT_PRIORITY 110                /* of session threads: the manifests' priority for the driver */

static struct virtio_dev dev;
static struct virtq vq;
static uint16_t queue_notify_off;
static uint64_t ring_paddr, header_paddr;
static uint64_t capacity;                   /* sectors */
static uint32_t block_size = SECTOR, size_max, seg_max;
static int read_only, has_flush;
static struct server srv;
static uint64_t main_port, irq_handler;

/* --- clients ------------------------------------------------------------ */

/* Each session is a port of its own with a thread serving it (no port
 * sets yet, as in the PCI and network servers).  The client holds the
 * only send right to it, so when the client dies or drops the right the
 * kernel posts no-senders there, and the session's thread frees the
 * session: the client's copies of the buffer are revoked and the slot is
 * free for the next client once the requests it left have completed.
 * detach revokes the client's right itself, so every session ends the
 * same way, in its no-senders.  Ports, threads and buffers are made on
 * a slot's first use and kept for later clients. */
struct client {
	int made;                 /* port, thread and buffer exist */
	int armed;                /* no-senders armed on its port (it stays armed) */
	int held;                 /* from attach to its no-senders */
	int attached;             /* from attach to detach: its calls are served */
	unsigned pending;         /* its requests not yet completed by the device */
	char name[32];
	uint64_t port;            /* receive right */
	struct server srv;
	uint64_t tcb;
	uint64_t untyped;         /* 64 KiB, physically contiguous: its buffer */
	uint64_t frame[BUFFER_PAGES], shared[BUFFER_PAGES];  /* ours; the copies the client gets */
	uint64_t paddr;
};

static struct client clients[MAX_CLIENTS];
static _Alignas(16) uint8_t stacks[MAX_CLIENTS][STACK_SIZE];
static unsigned session_priority;   /* args priority=, at most the manifest's */
static uint64_t handed_out;         /* the right attach just gave away: ours to delete */

/* One lock over everything below (clients, requests, the queue): the
 * main thread takes it for interrupts and attach, a session thread for
 * its calls; nobody blocks holding it (a waiter sleeps, so a holder of
 * another priority gets to run too: <libipc/lock.h>). */
static struct ipc_lock big_lock;

static void lock(void)
{
	ipc_lock(&big_lock);
}

static void unlock(void)
{
	ipc_unlock(&big_lock);
}

static void free_slot(uint64_t *slot)
{
	if (*slot) {
		sys_cnode_delete(*slot);
		slot_free(*slot);
		*slot = 0;
	}
}

/* Take the client's copies of the buffer back (revoking our frames
 * deletes every copy made from them, and the client's mapping). */
static void revoke_buffer(struct client *c)
{
	for (unsigned p = 0; p < BUFFER_PAGES; p++) {
		sys_cnode_revoke(c->frame[p]);
		if (c->shared[p])
			slot_free(c->shared[p]);
		c->shared[p] = 0;
	}
}

/* No send right to the session's port is left: the client is gone (or
 * detached).  Requests of it still queued or on the device complete into
 * its buffer, which is ours; the slot is free once they have. */
static void session_end(struct client *c)
{
	debug_printf("virtio-blk: session %d ('%s') ended%s\n", (int)(c - clients), c->name,
	             c->attached ? " (the client is gone)" : "");
	revoke_buffer(c);
	c->attached = 0;
	c->held = 0;
	c->name[0] = 0;
}

static int session_handle(struct server *s, const struct msg *req, struct msg *reply);

static void session_thread(uint64_t index)
{
	long err = server_run(&clients[index].srv);
	debug_printf("virtio-blk: session thread %lu ends: %ld\n", index, err);
}

/* A slot's port, thread and buffer: one Untyped, frames in order, so one
 * physical run and one descriptor per request. */
static long client_make(unsigned i)
{
	struct client *c = &clients[i];
	long err = c->untyped ? E_OK : object_alloc(OBJ_UNTYPED, BUFFER_BITS, &c->untyped);
	for (unsigned p = 0; !err && p < BUFFER_PAGES; p++) {
		uint64_t paddr;
		if (c->frame[p])
			continue;
		err = object_alloc_from(c->untyped, OBJ_FRAME, 0, &c->frame[p]);
		err = err ? err : page_map_with_tables(c->frame[p], CLIENT_VA + (i << BUFFER_BITS) + p * PAGE,
		                                        RIGHT_READ | RIGHT_WRITE);
		err = err ? err : sys_frame_phys(c->frame[p], &paddr);
		if (!err && p == 0)
			c->paddr = paddr;
		if (!err && paddr != c->paddr + p * PAGE)
			err = E_STATE;
	}
	err = err || c->port ? err : object_alloc(OBJ_PORT, 0, &c->port);
	err = err ? err : server_init(&c->srv, c->port, session_handle, c);
	err = err ? err : thread_create(session_thread, i, stacks[i], STACK_SIZE, session_priority, &c->tcb);
	/* a session thread that faults (the device's registers revoked when
	 * the PCI server dies, say) ends the driver, as any thread of ours
	 * does (thread_create), and init restarts it */
	if (!err)
		c->made = 1;
	return err;
}

/* A session in slot i: a clean buffer, the client's copies of its
 * frames (no RIGHT_PHYS), and a send right to the slot's port, minted
 * last so that a failure leaves no right behind. */
static long client_start(unsigned i, const char *name, uint64_t *session)
{
	struct client *c = &clients[i];
	long err = c->made ? E_OK : client_make(i);
	if (err)
		return err;
	/* nothing of the last client's is on the device (pending is 0) */
	memset((void *)(CLIENT_VA + (i << BUFFER_BITS)), 0, (size_t)BUFFER_PAGES * PAGE);
	for (unsigned p = 0; !err && p < BUFFER_PAGES; p++) {
		if (!(c->shared[p] = slot_alloc()))
			err = E_SLOT_FULL;
		err = err ? err : sys_cnode_copy(c->frame[p], CAP_ROOT_CNODE, c->shared[p], RIGHT_READ | RIGHT_WRITE);
	}
	uint64_t right = err ? 0 : slot_alloc();
	if (!err && !right)
		err = E_SLOT_FULL;
	err = err ? err : sys_cnode_mint(c->port, CAP_ROOT_CNODE, right, RIGHT_SEND, 0);
	/* armed once, while a right exists (armed with none it would post at
	 * once); it stays armed, and the kernel posts each time the port's
	 * last send right goes: once per session */
	if (!err && !c->armed)
		err = sys_port_nosenders(c->port, NOSENDERS_BIT);
	if (!err)
		c->armed = 1;
	if (err) {
		revoke_buffer(c);
		free_slot(&right);
		return err;
	}
	c->held = c->attached = 1;
	memcpy(c->name, name, sizeof(c->name));
	c->name[31] = 0;
	handed_out = right;
	*session = right;
	return E_OK;
}

/* After attach's reply copied the right to the client (or could not):
 * ours goes, so the client's is the only one (if the client is already
 * gone, or detached, no-senders is posted now or was then). */
static void attach_handed_out(struct server *s)
{
	(void)s;
	lock();
	free_slot(&handed_out);
	unlock();
}

/* --- requests ----------------------------------------------------------- */

enum { REQ_FREE, REQ_WAITING, REQ_IN_FLIGHT };

struct request {
	int state;
	uint32_t type;
	uint32_t label;           /* of the call, for the reply */
	uint64_t reply;           /* the caller's reply right (deferred) */
	struct client *client;    /* whose buffer it reads or writes */
	uint64_t sector;
	uint32_t bytes;
	uint64_t paddr;
};

static struct request reqs[MAX_REQS];
static uint16_t head_req[QUEUE_MAX];        /* virtqueue head -> request */
static unsigned fifo[MAX_REQS], fifo_first, fifo_count;
static unsigned writes_in_flight, in_flight, most_in_flight;

struct blk_header {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

static void answer(struct request *r, long status)
{
	struct msg m;
	m.info = MSG_INFO(r->label, 1, 0);
	m.w[0] = (uint64_t)status;
	ipc_reply(r->reply, &m);   /* E_NO_REPLY: the caller is gone; nothing to do */
	free_slot(&r->reply);
	r->client->pending--;
	r->state = REQ_FREE;
}

/* Put waiting requests on the queue, in arrival order.  A flush waits
 * until every write before it has completed, so it covers them. */
static void pump(void)
{
	int added = 0;
	while (fifo_count) {
		unsigned i = fifo[fifo_first];
		struct request *r = &reqs[i];
		if (r->type == BLK_T_FLUSH && writes_in_flight)
			break;
		if (r->type == BLK_T_FLUSH && !has_flush) {
			/* no volatile cache: completed writes are durable */
			fifo_first = (fifo_first + 1) % MAX_REQS;
			fifo_count--;
			answer(r, E_OK);
			continue;
		}
		struct blk_header *h = (struct blk_header *)(HEADER_VA + i * sizeof(*h));
		volatile uint8_t *status = (volatile uint8_t *)(HEADER_VA + STATUS_OFFSET + i);
		h->type = r->type;
		h->reserved = 0;
		h->sector = r->sector;
		*status = 0xff;
		struct virtq_buf b[2 + BUFFER_PAGES];
		unsigned n = 0;
		b[n++] = (struct virtq_buf){ header_paddr + i * sizeof(*h), sizeof(*h), 0 };
		for (uint32_t done = 0; done < r->bytes;) {
			uint32_t len = r->bytes - done;
			if (size_max && len > size_max)
				len = size_max;
			b[n++] = (struct virtq_buf){ r->paddr + done, len, r->type == BLK_T_IN };
			done += len;
		}
		b[n++] = (struct virtq_buf){ header_paddr + STATUS_OFFSET + i, 1, 1 };
		uint16_t head;
		if (virtq_add(&vq, b, n, &head))
			break; /* no descriptors: later completions free some */
		head_req[head] = (uint16_t)i;
		r->state = REQ_IN_FLIGHT;
		if (++in_flight > most_in_flight)
			most_in_flight = in_flight;
		if (r->type == BLK_T_OUT)
			writes_in_flight++;
		fifo_first = (fifo_first + 1) % MAX_REQS;
		fifo_count--;
		added = 1;
	}
	if (added && virtq_kick_needed(&vq))
		virtio_notify(&dev, 0, queue_notify_off);
}

static void completions(void)
{
	uint16_t head;
	uint32_t written;
	int r;
	while ((r = virtq_take_used(&vq, &head, &written)) == 1) {
		struct request *q = &reqs[head_req[head]];
		uint8_t status = *(volatile uint8_t *)(HEADER_VA + STATUS_OFFSET + head_req[head]);
		if (q->type == BLK_T_OUT)
			writes_in_flight--;
		in_flight--;
		answer(q, status == BLK_S_OK ? E_OK : status == BLK_S_UNSUPP ? E_BAD_ARG : E_STATE);
	}
	if (r < 0) {
		/* the device broke the ring's rules: start over (init restarts
		 * us; our callers get E_NO_REPLY and retry) */
		debug_printf("virtio-blk: the device returned a descriptor it was never given; giving up\n");
		dev.common->device_status = VIRTIO_FAILED;
		program_exit(1);
	}
	pump();
}

static void interrupt(void)
{
	/* reading the ISR status deasserts the line (4.1.4.5) */
	uint8_t isr = *dev.isr;
	sys_irq_ack(irq_handler);
	if (isr & 1)
		completions();
	if (dev.common->device_status & VIRTIO_NEEDS_RESET) {
		debug_printf("virtio-blk: the device needs a reset; restarting\n");
		program_exit(1);
	}
}

static long enqueue(struct client *c, uint32_t label, uint32_t type, uint64_t sector, uint32_t count, uint32_t offset)
{
	if (!c || !c->attached)
		return E_STATE;
	if (type != BLK_T_FLUSH) {
		uint64_t buffer = (uint64_t)BUFFER_PAGES * PAGE;
		if (count == 0 || offset % SECTOR || offset >= buffer || count > (buffer - offset) / SECTOR ||
		    sector >= capacity || count > capacity - sector)
			return E_BAD_ARG;
		if (type == BLK_T_OUT && read_only)
			return E_NO_RIGHTS;
	}
	unsigned i = 0;
	while (i < MAX_REQS && reqs[i].state != REQ_FREE)
		i++;
	if (i == MAX_REQS)
		return E_LIMIT;
	uint64_t reply = server_defer(&c->srv);
	if (!reply)
		return E_SLOT_FULL;
	reqs[i] = (struct request){ REQ_WAITING, type, label, reply, c, sector, count * SECTOR, c->paddr + offset };
	c->pending++;
	fifo[(fifo_first + fifo_count) % MAX_REQS] = i;
	fifo_count++;
	pump();
	return SERVER_DEFERRED;
}

/* --- the interface ------------------------------------------------------ */

static long do_info(void *ctx, uint64_t badge, uint64_t *sectors, uint32_t *bsize, uint32_t *flags)
{
	(void)ctx;
	(void)badge;
	*sectors = capacity;
	*bsize = block_size;
	*flags = (read_only ? 1 : 0) | (has_flush ? 2 : 0);
	return E_OK;
}

/* ctx is 0 on the published port, the client on a session's port */
static long do_attach(void *ctx, uint64_t badge, const char *name, uint64_t *session, uint32_t *pages)
{
	(void)badge;
	if (ctx)
		return E_STATE;
	unsigned i = 0;
	while (i < MAX_CLIENTS && (clients[i].held || clients[i].pending))
		i++;
	if (i == MAX_CLIENTS)
		return E_LIMIT;
	long err = client_start(i, name, session);
	if (err)
		return err;
	srv.after_reply = attach_handed_out;
	*pages = BUFFER_PAGES;
	return E_OK;
}

static long do_buffer_frame(void *ctx, uint64_t badge, uint32_t page, uint64_t *frame)
{
	(void)badge;
	const struct client *c = ctx;
	if (!c || !c->attached)
		return E_STATE;
	if (page >= BUFFER_PAGES)
		return E_BAD_ARG;
	*frame = c->shared[page];
	return E_OK;
}

static long do_read(void *ctx, uint64_t badge, uint64_t sector, uint32_t count, uint32_t offset)
{
	(void)badge;
	return enqueue(ctx, BLOCK_READ_LABEL, BLK_T_IN, sector, count, offset);
}

static long do_write(void *ctx, uint64_t badge, uint64_t sector, uint32_t count, uint32_t offset)
{
	(void)badge;
	return enqueue(ctx, BLOCK_WRITE_LABEL, BLK_T_OUT, sector, count, offset);
}

static long do_flush(void *ctx, uint64_t badge)
{
	(void)badge;
	return enqueue(ctx, BLOCK_FLUSH_LABEL, BLK_T_FLUSH, 0, 0, 0);
}

/* The client's buffer and its send right are revoked; the kernel then
 * posts no-senders, which frees the session (session_end). */
static long do_detach(void *ctx, uint64_t badge)
{
	(void)badge;
	struct client *c = ctx;
	if (!c || !c->attached)
		return E_STATE;
	debug_printf("virtio-blk: '%s' detached; at most %u requests were in flight\n", c->name, most_in_flight);
	c->attached = 0;
	revoke_buffer(c);
	sys_cnode_revoke(c->port);
	return E_OK;
}

static const struct block_ops ops = {
	.info = do_info, .attach = do_attach, .buffer_frame = do_buffer_frame, .read = do_read,
	.write = do_write, .flush = do_flush, .detach = do_detach,
};

static int dispatch(struct server *s, const struct msg *req, struct msg *reply)
{
	if (!block_dispatch(&ops, s->ctx, req, s->recv_slots, reply))
		return SERVER_UNKNOWN;
	return reply->w[0] == (uint64_t)SERVER_DEFERRED ? SERVER_NO_REPLY : SERVER_REPLY;
}

/* The published port: attach and info, and the interrupt. */
static int handle(struct server *s, const struct msg *req, struct msg *reply)
{
	int r = SERVER_NO_REPLY;
	lock();
	if (MSG_LABEL(req->info) == LABEL_NOTIFY) {
		if (req->w[0] & IRQ_BIT)
			interrupt();
	} else {
		r = dispatch(s, req, reply);
	}
	unlock();
	return r;
}

/* A session's port: its calls, and its no-senders. */
static int session_handle(struct server *s, const struct msg *req, struct msg *reply)
{
	struct client *c = s->ctx;
	int r = SERVER_NO_REPLY;
	lock();
	if (MSG_LABEL(req->info) == LABEL_NOTIFY) {
		if ((req->w[0] & NOSENDERS_BIT) && c->held)
			session_end(c);
	} else {
		r = dispatch(s, req, reply);
	}
	unlock();
	return r;
}

/* --- bringing the device up (virtio 1.1 spec 3.1.1) --------------------- */

static uint32_t cfg32(unsigned offset)
{
	return *(volatile uint32_t *)(dev.device_cfg + offset);
}

static long fail(const char *what, long err)
{
	debug_printf("virtio-blk: %s (%ld)\n", what, err);
	if (dev.common)
		dev.common->device_status |= VIRTIO_FAILED;
	return err;
}

static long device_up(void)
{
	volatile struct virtio_common_cfg *c = dev.common;
	long err;
	const char *why;
	uint64_t features;
	/* only what this driver implements */
	if ((err = virtio_negotiate(&dev, (1ULL << BLK_F_SIZE_MAX) | (1ULL << BLK_F_SEG_MAX) | (1ULL << BLK_F_RO) |
	                                        (1ULL << BLK_F_BLK_SIZE) | (1ULL << BLK_F_FLUSH),
	                            &features, &why)))
		return fail(why, err);
	read_only = (features >> BLK_F_RO) & 1;
	has_flush = (features >> BLK_F_FLUSH) & 1;
	size_max = (features >> BLK_F_SIZE_MAX) & 1 ? cfg32(CFG_SIZE_MAX) : 0;
	seg_max = (features >> BLK_F_SEG_MAX) & 1 ? cfg32(CFG_SEG_MAX) : 0;
	if ((features >> BLK_F_BLK_SIZE) & 1) {
		uint32_t b = cfg32(CFG_BLK_SIZE);
		if (b >= SECTOR && b <= 65536 && !(b & (b - 1)))
			block_size = b;
	}
	if (size_max && size_max < PAGE)
		return fail("the device's size_max is below a page", E_STATE);
	if (seg_max && ((uint64_t)BUFFER_PAGES * PAGE + size_max - 1) / (size_max ? size_max : 1) > seg_max && size_max)
		return fail("the device's seg_max is too small for our buffers", E_STATE);
	/* the capacity, consistent across its two halves (4.1.4.3.1) */
	uint8_t gen;
	do {
		gen = c->config_generation;
		capacity = cfg32(CFG_CAPACITY) | (uint64_t)cfg32(CFG_CAPACITY + 4) << 32;
	} while (gen != c->config_generation);

	/* queue 0, in a page of our DMA memory */
	uint16_t max = virtio_queue_max(&dev, 0);
	if (!max)
		return fail("queue 0 does not exist", E_STATE);
	uint16_t size = QUEUE_MAX;
	while (size > max)
		size /= 2;
	uint64_t ring_frame, header_frame;
	if ((err = page_alloc_map(RING_VA, RIGHT_READ | RIGHT_WRITE, &ring_frame)) ||
	    (err = page_alloc_map(HEADER_VA, RIGHT_READ | RIGHT_WRITE, &header_frame)))
		return fail("no memory for the ring", err);
	if ((err = sys_frame_phys(ring_frame, &ring_paddr)) || (err = sys_frame_phys(header_frame, &header_paddr)))
		return fail("no physical addresses (is the manifest's 'dma' missing?)", err);
	virtq_init(&vq, (void *)RING_VA, ring_paddr, size);
	virtio_queue_enable(&dev, 0, &vq, &queue_notify_off);
	c->device_status = VIRTIO_ACKNOWLEDGE | VIRTIO_DRIVER | VIRTIO_FEATURES_OK | VIRTIO_DRIVER_OK;
	return E_OK;
}

int main(const struct bootinfo *bi)
{
	char name[32] = "blk0";
	arg_string(bi->cmdline, "name=", name, sizeof(name));
	session_priority = arg_number(bi->cmdline, "priority=", DEFAULT_PRIORITY);
	unsigned index = arg_number(bi->cmdline, "index=", 0);
	uint64_t session, send = slot_alloc();
	uint32_t line;
	long err = virtio_pci_open(PCI_SLOT, 0x1042, index, name, &session);
	if (err) {
		debug_printf("virtio-blk %s: no device %u from the PCI server (%ld)\n", name, index, err);
		return virtio_pci_open_exit(err);
	}
	/* memory decoding and bus mastering on, INTx enabled */
	err = pci_config_write(session, 0x04, 2, 0x0006);
	err = err ? err : virtio_map(&dev, session);
	err = err ? err : object_alloc(OBJ_PORT, 0, &main_port);
	err = err ? err : sys_cnode_mint(main_port, CAP_ROOT_CNODE, send, RIGHT_SEND, 0);
	err = err ? err : pci_irq(session, &irq_handler, &line);
	err = err ? err : sys_irq_bind(irq_handler, send, IRQ_BIT);
	if (err)
		return (int)fail("cannot set the device up", err);
	if ((err = device_up()))
		return EXIT_NO_RESTART;
	if ((err = server_init(&srv, main_port, handle, 0)) || (err = init_publish(INIT_SLOT, name, send))) {
		debug_printf("virtio-blk %s: cannot publish: %ld\n", name, err);
		return 1;
	}
	debug_printf("virtio-blk %s: %lu sectors, block %u, %s%s, queue %u, irq %u\n", name, capacity, block_size,
	             read_only ? "read-only" : "read-write", has_flush ? ", flush" : "", vq.size, line);
	return (int)server_run(&srv);
}
