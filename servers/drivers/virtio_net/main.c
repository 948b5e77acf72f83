/*
 * The virtio-net driver: one modern virtio network device (PCI
 * 1af4:1041), taken from the PCI server, served as idl/netif.idl under
 * the name its args give (name=net0; index=N picks the N-th such
 * device).  See README.md and docs/drivers.md.
 *
 * Capabilities (boot manifest order): slot 9 a send right to "pci".
 * Its memory must keep RIGHT_PHYS (manifest: dma).
 *
 * One thread, one client session at a time.  The buffer the client maps
 * is the driver's own memory, allocated once; each session gets fresh
 * copies of its frames, revoked when the session ends, so an old client
 * cannot write into a newer one's frames.  Requests are answered at once
 * (nothing waits for the device): frames arriving and transmit slots
 * finishing are reported by a notification to the client's port, after
 * which it calls receive or reclaim.
 */
#include <libipc/libipc.h>
#include <libipc/server.h>
#include "netif.h"   /* generated from idl/netif.idl */
#include "pci.h"
#include "init.h"
#include "device.h"
#include "../lib/virtio_pci.h"
#include "slots.h"

#define INIT_SLOT 8
#define PCI_SLOT 9
#define IRQ_BIT 1
#define NAP_BIT 1
#define PAGE 4096UL
#define RX_SLOTS 64
#define TX_SLOTS 32
#define BUFFER_PAGES ((RX_SLOTS + TX_SLOTS) * SLOT_BYTES / PAGE)
#define BUFFER_VA 0x61000000UL
#define MTU 1500

static struct server srv;
static uint64_t main_port, irq_handler, nap_port;
static uint64_t frame[BUFFER_PAGES];   /* ours, with RIGHT_PHYS */
static uint64_t page_paddr[BUFFER_PAGES];
static struct slots slots;
static struct net_counters count;

/* The one session. */
static struct {
	int live;
	char name[32];
	uint64_t generation;      /* its badge: a replaced session's right is stale */
	uint64_t session;         /* our badged send right, what attach hands out */
	uint64_t shared[BUFFER_PAGES];  /* the frames' copies it maps, without RIGHT_PHYS */
	uint64_t notify;          /* a send right to its port */
	uint64_t bits;
	int armed;                /* no post since its last receive or reclaim */
	int link_changed;
} client;

static void free_slot(uint64_t *slot)
{
	if (*slot) {
		sys_cnode_delete(*slot);
		slot_free(*slot);
		*slot = 0;
	}
}

static void nap(uint64_t ticks)
{
	struct msg m;
	sys_notify_after(nap_port, NAP_BIT, ticks);
	ipc_recv(nap_port, 0, &m);
}

/* --- the session -------------------------------------------------------- */

/* End the session: every copy of the buffer's frames goes (the client's
 * mapping with them), and its session right; receive slots it held or
 * had not taken go back on the device. */
static void session_end(const char *why)
{
	debug_printf("virtio-net: session of '%s' ends: %s\n", client.name, why);
	for (unsigned p = 0; p < BUFFER_PAGES; p++) {
		sys_cnode_revoke(frame[p]);
		if (client.shared[p])
			slot_free(client.shared[p]);
		client.shared[p] = 0;
	}
	if (client.session)
		sys_cnode_revoke(client.session);
	free_slot(&client.session);
	free_slot(&client.notify);
	uint16_t repost[SLOTS_MAX];
	unsigned n = slots_end_session(&slots, repost);
	for (unsigned i = 0; i < n; i++)
		netdev_post_rx(repost[i]);
	netdev_kick_rx();
	client.live = 0;
	client.name[0] = 0;
}

static int pending(void)
{
	return slots.ready_count || slots.done_count || client.link_changed;
}

/* Post the client's bits if it is waiting for news and there is some.
 * A post that fails means its port is gone: so is the session. */
static void maybe_notify(void)
{
	if (!client.live || !client.armed || !client.bits || !pending())
		return;
	long err = sys_notify(client.notify, client.bits);
	if (err) {
		session_end("its port is gone");
		return;
	}
	client.armed = 0;
	client.link_changed = 0;
}

static void events(int ev)
{
	if (ev & NET_EV_LINK)
		client.link_changed = 1;
	maybe_notify();
}

/* A live session whose caller used its current right. */
static int is_session(uint64_t badge)
{
	return client.live && badge != 0 && badge == client.generation;
}

/* --- the interface ------------------------------------------------------ */

static long do_info(void *ctx, uint64_t badge, uint64_t *mac, uint32_t *mtu, uint32_t *flags)
{
	(void)ctx;
	(void)badge;
	*mac = netdev_mac();
	*mtu = MTU;
	*flags = netdev_link_up() ? 1 : 0;
	return E_OK;
}

static long session_start(const char *name, uint64_t notify, uint64_t bits)
{
	long err = E_OK;
	client.generation++;
	for (unsigned p = 0; !err && p < BUFFER_PAGES; p++) {
		if (!(client.shared[p] = slot_alloc()))
			err = E_SLOT_FULL;
		err = err ? err : sys_cnode_copy(frame[p], CAP_ROOT_CNODE, client.shared[p], RIGHT_READ | RIGHT_WRITE);
	}
	if (!err && !(client.session = slot_alloc()))
		err = E_SLOT_FULL;
	err = err ? err : sys_cnode_mint(main_port, CAP_ROOT_CNODE, client.session, RIGHT_SEND, client.generation);
	if (!err && !(client.notify = slot_alloc()))
		err = E_SLOT_FULL;
	err = err ? err : sys_cnode_move(notify, CAP_ROOT_CNODE, client.notify);
	memcpy(client.name, name, sizeof(client.name));
	client.name[31] = 0;
	client.live = 1;
	if (err) {
		session_end("no room for it");
		return err;
	}
	client.bits = bits;
	client.armed = 1;
	client.link_changed = 0;
	return E_OK;
}

static long do_attach(void *ctx, uint64_t badge, const char *name, uint64_t notify, uint64_t bits,
                      uint64_t *session, uint32_t *buffer_pages, uint32_t *rx_slots, uint32_t *tx_slots)
{
	(void)ctx;
	if (badge)
		return E_STATE;
	/* a send right to a port, or nothing we can post to (posting no
	 * bits changes nothing) */
	if (sys_notify(notify, 0))
		return E_BAD_ARG;
	if (client.live && strcmp(client.name, name)) {
		/* a client that died without detaching: its port went with it */
		if (sys_notify(client.notify, 0) == E_OK)
			return E_LIMIT;
		session_end("its port is gone");
	}
	if (client.live)
		session_end("the same client attached again");
	/* the device may still hold frames of the ended session; the new
	 * client owns every transmit slot, so wait for them (briefly: a
	 * device sends or drops a queued frame at once) */
	for (int i = 0; i < 50 && slots_orphans(&slots); i++) {
		netdev_reap(&slots, &count, 0);
		if (slots_orphans(&slots))
			nap(1);
	}
	if (slots_orphans(&slots))
		return E_STATE;
	long err = session_start(name, notify, bits);
	if (err)
		return err;
	*session = client.session;
	*buffer_pages = BUFFER_PAGES;
	*rx_slots = RX_SLOTS;
	*tx_slots = TX_SLOTS;
	debug_printf("virtio-net: '%s' attached\n", client.name);
	return E_OK;
}

static long do_buffer_frame(void *ctx, uint64_t badge, uint32_t page, uint64_t *out)
{
	(void)ctx;
	if (!is_session(badge))
		return E_STATE;
	if (page >= BUFFER_PAGES)
		return E_BAD_ARG;
	*out = client.shared[page];
	return E_OK;
}

static long do_transmit(void *ctx, uint64_t badge, uint32_t n, const uint16_t slot[32], const uint16_t len[32],
                        uint32_t *done_count, uint16_t done[32])
{
	(void)ctx;
	if (!is_session(badge))
		return E_STATE;
	if (slots_check_transmit(&slots, n, slot, len)) {
		count.errors++;
		return E_BAD_ARG;
	}
	for (uint32_t i = 0; i < n; i++) {
		slots_to_device(&slots, slot[i]);
		netdev_queue_tx(slot[i], len[i]);
		count.tx_frames++;
		count.tx_bytes += len[i];
	}
	netdev_kick_tx();
	netdev_reap(&slots, &count, 1);
	*done_count = slots_take_done(&slots, BATCH_MAX, done);
	/* frames the reap found ready are news for a client that waits */
	maybe_notify();
	return E_OK;
}

static long do_reclaim(void *ctx, uint64_t badge, uint32_t *done_count, uint16_t done[32])
{
	(void)ctx;
	if (!is_session(badge))
		return E_STATE;
	netdev_reap(&slots, &count, 1);
	*done_count = slots_take_done(&slots, BATCH_MAX, done);
	client.armed = 1;
	maybe_notify();
	return E_OK;
}

static long do_receive(void *ctx, uint64_t badge, uint32_t n, const uint16_t give_back[32], uint32_t *got,
                       uint16_t slot[32], uint16_t len[32])
{
	(void)ctx;
	if (!is_session(badge))
		return E_STATE;
	if (slots_check_give_back(&slots, n, give_back))
		return E_BAD_ARG;
	for (uint32_t i = 0; i < n; i++) {
		slots_to_device(&slots, give_back[i]);
		netdev_post_rx(give_back[i]);
	}
	netdev_kick_rx();
	netdev_reap(&slots, &count, 1);
	*got = slots_take_ready(&slots, BATCH_MAX, slot, len);
	client.armed = 1;
	maybe_notify();
	return E_OK;
}

static long do_stats(void *ctx, uint64_t badge, uint64_t *rx_frames, uint64_t *rx_bytes, uint64_t *tx_frames,
                     uint64_t *tx_bytes, uint64_t *rx_dropped, uint64_t *errors)
{
	(void)ctx;
	(void)badge;
	*rx_frames = count.rx_frames;
	*rx_bytes = count.rx_bytes;
	*tx_frames = count.tx_frames;
	*tx_bytes = count.tx_bytes;
	*rx_dropped = count.rx_dropped;
	*errors = count.errors;
	return E_OK;
}

static long do_detach(void *ctx, uint64_t badge)
{
	(void)ctx;
	if (!is_session(badge))
		return E_STATE;
	session_end("detached");
	return E_OK;
}

static const struct netif_ops ops = {
	.info = do_info, .attach = do_attach, .buffer_frame = do_buffer_frame, .transmit = do_transmit,
	.reclaim = do_reclaim, .receive = do_receive, .stats = do_stats, .detach = do_detach,
};

static int handle(struct server *s, const struct msg *req, struct msg *reply)
{
	if (MSG_LABEL(req->info) == LABEL_NOTIFY) {
		if (req->w[0] & IRQ_BIT)
			events(netdev_interrupt(irq_handler, &slots, &count, client.live));
		return SERVER_NO_REPLY;
	}
	return netif_dispatch(&ops, s->ctx, req, s->recv_slots, reply) ? SERVER_REPLY : SERVER_UNKNOWN;
}

/* --- start -------------------------------------------------------------- */

/* The shared buffer: our own frames, each told its physical address. */
static long buffer_alloc(void)
{
	long err = E_OK;
	for (unsigned p = 0; !err && p < BUFFER_PAGES; p++) {
		err = page_alloc_map(BUFFER_VA + p * PAGE, RIGHT_READ | RIGHT_WRITE, &frame[p]);
		err = err ? err : sys_frame_phys(frame[p], &page_paddr[p]);
	}
	return err;
}

int main(const struct bootinfo *bi)
{
	char name[32] = "net0";
	arg_string(bi->cmdline, "name=", name, sizeof(name));
	unsigned index = arg_number(bi->cmdline, "index=", 0);
	uint64_t session, send = slot_alloc();
	uint32_t line;
	long err = virtio_pci_open(PCI_SLOT, 0x1041, index, name, &session);
	if (err) {
		debug_printf("virtio-net %s: no device %u from the PCI server (%ld)\n", name, index, err);
		return virtio_pci_open_exit(err);
	}
	/* memory decoding and bus mastering on, INTx enabled */
	err = object_alloc(OBJ_PORT, 0, &nap_port);
	err = err ? err : pci_config_write(session, 0x04, 2, 0x0006);
	err = err ? err : object_alloc(OBJ_PORT, 0, &main_port);
	err = err ? err : sys_cnode_mint(main_port, CAP_ROOT_CNODE, send, RIGHT_SEND, 0);
	err = err ? err : pci_irq(session, &irq_handler, &line);
	err = err ? err : sys_irq_bind(irq_handler, send, IRQ_BIT);
	err = err ? err : buffer_alloc();
	if (err) {
		debug_printf("virtio-net %s: cannot set the device up (%ld)\n", name, err);
		return 1;
	}
	slots_init(&slots, RX_SLOTS, TX_SLOTS);
	if (netdev_up(session, &slots, page_paddr))
		return EXIT_NO_RESTART;
	if ((err = server_init(&srv, main_port, handle, 0)) || (err = init_publish(INIT_SLOT, name, send))) {
		debug_printf("virtio-net %s: cannot publish: %ld\n", name, err);
		return 1;
	}
	uint64_t mac = netdev_mac();
	debug_printf("virtio-net %s: mac %02lx:%02lx:%02lx:%02lx:%02lx:%02lx, link %s, %u+%u slots, irq %u\n", name,
	             mac & 0xff, (mac >> 8) & 0xff, (mac >> 16) & 0xff, (mac >> 24) & 0xff, (mac >> 32) & 0xff,
	             (mac >> 40) & 0xff, netdev_link_up() ? "up" : "down", RX_SLOTS, TX_SLOTS, line);
	return (int)server_run(&srv);
}
