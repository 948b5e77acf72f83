/*
 * lwIP's Ethernet interface on a network driver (idl/netif.idl): the
 * driver's buffer of 2 KiB frame slots is mapped here; received frames
 * are copied into pbufs and handed to lwIP, lwIP's frames are copied
 * into transmit slots and handed to the driver in batches.
 *
 * The driver may die at any time (it is restarted by init).  A call that
 * fails with E_DEAD_PORT, E_NO_REPLY or E_BAD_CAP drops the session: the
 * link goes down in lwIP (TCP retransmits, DHCP waits), the name is
 * looked up again every RETRY_MS, and the new instance is attached and
 * its buffer mapped; the link comes up and DHCP asks for its address
 * again.  Until the first attach lwIP has only its loopback interface.
 *
 * Every frame passes through the virtual switch (vswitch.h): the
 * driver's frames enter it on the uplink port (0), lwIP's on the local
 * port (1); the switch hands them back through deliver(): toward the
 * uplink into a transmit slot, toward lwIP into a pbuf queued here and
 * given to lwIP only after vsw_input returned (lwIP answering an ARP
 * request from inside its input would call link_output, and the switch
 * must not be entered twice).
 *
 * lwIP has a second interface, gw, on the guests' network (10.0.4.1/24,
 * the same MAC): both send through the local port.  The switch carries
 * two segments that never meet: the uplink with eth, and the guests with
 * gw.  A frame of one segment is not delivered into the other (the
 * guests reach the outside only through lwIP; NAT is to come), and a
 * frame for lwIP is input into the interface of its segment.
 *
 * Everything here runs under the server's lock (main.c).
 */
#include "net.h"
#include "safe_copy.h"
#include "netif.h"   /* generated from idl/netif.idl */
#include "init.h"
#include "lwip/netif.h"
#include "lwip/etharp.h"
#include "lwip/dhcp.h"
#include "lwip/pbuf.h"
#include "netif/ethernet.h"
#include "vswitch.h"

#define LINK_VA 0x50000000UL
#define PAGE 4096UL
#define SLOT_SIZE 2048U
#define FRAME_MAX 1514U
#define BATCH 32
#define MAX_PAGES 256          /* 512 slots */
#define RETRY_MS 200
#define INFO_EVERY_MS 1000

static struct netif eth, gwif;
static char driver_name[32];
static uint64_t driver, session;        /* send rights: the published port, our session */
static uint64_t frames[MAX_PAGES];
static uint32_t pages, rx_slots, tx_slots;
static int attached;
static uint64_t retry_at, info_at;

/* transmit slots we own, and frames filled but not yet handed over */
static uint16_t tx_free[MAX_PAGES * 2];
static unsigned tx_free_count;
static uint16_t pend_slot[BATCH], pend_len[BATCH];
static unsigned pend_count;
/* receive slots to give back with the next receive call */
static uint16_t give[BATCH];
static unsigned give_count;

static uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes, dropped;

static struct vswitch sw;
/* frames the switch delivered toward lwIP, input once the switch returned */
#define LOCAL_QUEUE 64
static struct pbuf *local_queue[LOCAL_QUEUE];
static struct netif *local_netif[LOCAL_QUEUE];
/* the segment of the frame being switched: 1 the guests', 0 the uplink's */
static int from_guests;
static unsigned local_count;

static int queue_frame(const uint8_t *frame, size_t len);

static uint8_t *slot_addr(unsigned slot)
{
	return (uint8_t *)(LINK_VA + (uint64_t)slot * SLOT_SIZE);
}

static int driver_gone(long err)
{
	return ipc_peer_gone(err);
}

static void drop_slot(uint64_t *slot)
{
	if (*slot) {
		sys_cnode_delete(*slot);
		slot_free(*slot);
		*slot = 0;
	}
}

/* The driver died (or broke the interface's rules): forget its session
 * and its buffer; a later link_poll attaches again. */
static void detach(const char *why, long err)
{
	if (attached)
		debug_printf("net: lost the driver '%s' (%s: %ld); the link is down until it is back\n",
		             driver_name, why, err);
	attached = 0;
	for (unsigned p = 0; p < pages; p++) {
		if (frames[p])
			sys_page_unmap(frames[p]);
		drop_slot(&frames[p]);
	}
	pages = 0;
	drop_slot(&session);
	drop_slot(&driver);
	tx_free_count = pend_count = give_count = 0;
	vsw_port_down(&sw, VSW_UPLINK);
	netif_set_link_down(&eth);
	retry_at = clock_ms() + RETRY_MS;
}

static void take_done(uint32_t count, const uint16_t *done)
{
	for (uint32_t i = 0; i < count && i < BATCH; i++) {
		/* only transmit slots, and only ones the driver holds */
		if (done[i] < rx_slots || done[i] >= rx_slots + tx_slots || tx_free_count >= tx_slots)
			continue;
		tx_free[tx_free_count++] = done[i];
	}
}

void link_flush(void)
{
	if (!attached || !pend_count)
		return;
	uint32_t done_count;
	uint16_t done[BATCH];
	long err = netif_transmit(session, pend_count, pend_slot, pend_len, &done_count, done);
	if (err) {
		if (driver_gone(err)) {
			detach("transmit", err);
			return;
		}
		/* refused (a bug on one side): the slots are ours again */
		dropped += pend_count;
		for (unsigned i = 0; i < pend_count; i++)
			tx_free[tx_free_count++] = pend_slot[i];
		pend_count = 0;
		return;
	}
	for (unsigned i = 0; i < pend_count; i++) {
		tx_frames++;
		tx_bytes += pend_len[i];
	}
	pend_count = 0;
	take_done(done_count, done);
}

static void reclaim(void)
{
	uint32_t done_count;
	uint16_t done[BATCH];
	long err = netif_reclaim(session, &done_count, done);
	if (err) {
		if (driver_gone(err))
			detach("reclaim", err);
		return;
	}
	take_done(done_count, done);
}

/* lwIP hands us one frame (a pbuf chain): copied out and given to the
 * switch on the local port; one for the uplink comes back in deliver()
 * and goes into a transmit slot. */
static err_t link_output(struct netif *n, struct pbuf *p)
{
	static uint8_t frame[FRAME_MAX];
	if (p->tot_len > FRAME_MAX || p->tot_len < 14) {
		dropped++;
		return ERR_IF;
	}
	pbuf_copy_partial(p, frame, p->tot_len, 0);
	from_guests = n == &gwif;
	enum vsw_reason r = vsw_input(&sw, VSW_LOCAL, frame, p->tot_len);
	return r == VSW_OK ? ERR_OK : ERR_IF;
}

/* A frame for the uplink: into a transmit slot, queued for the next
 * batch.  Nonzero: dropped (the switch counts it). */
static int uplink_send(const uint8_t *frame, size_t len)
{
	if (!attached || len > FRAME_MAX) {
		dropped++;
		return -1;
	}
	if (!tx_free_count) {
		link_flush();
		if (attached && !tx_free_count)
			reclaim();
		if (!attached || !tx_free_count) {
			dropped++;
			return -1;   /* TCP sends it again later */
		}
	}
	uint16_t slot = tx_free[--tx_free_count];
	/* the driver's memory: it may vanish under the copy (safe_copy.h) */
	if (safe_copy(slot_addr(slot), frame, len)) {
		detach("its buffer went away", E_DEAD_PORT);
		dropped++;
		return -1;
	}
	pend_slot[pend_count] = slot;
	pend_len[pend_count] = (uint16_t)len;
	if (++pend_count == BATCH)
		link_flush();
	return 0;
}

/* A frame toward lwIP: copied into a pbuf, input by local_input(). */
static int queue_frame(const uint8_t *frame, size_t len)
{
	if (local_count >= LOCAL_QUEUE)
		return -1;
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
	if (!p)
		return -1;
	pbuf_take(p, frame, (u16_t)len);
	local_netif[local_count] = from_guests ? &gwif : &eth;
	local_queue[local_count++] = p;
	return 0;
}

/* NAT (nat.c) between the two segments, before lwIP sees a frame: 1 if
 * it took the frame (translated and sent on, or dropped). */
static int nat(struct pbuf *p, struct netif *n)
{
	uint8_t *f = p->payload;
	if (p->len != p->tot_len || p->len < 34 || f[12] != 0x08 || f[13] != 0x00 || (f[0] & 1))
		return 0;   /* not a unicast IPv4 frame */
	if (n == &gwif) {
		int r = nat_out(f + 14, p->len - 14u);
		if (r > 0) {
			ip4_addr_t dst;
			memcpy(&dst, f + 14 + 16, 4);
			pbuf_remove_header(p, 14);
			eth.output(&eth, p, &dst);
		}
		if (r)
			pbuf_free(p);
		return r != 0;
	}
	int r = nat_in(f + 14, p->len - 14u);
	if (r > 0) {
		uint32_t to = (uint32_t)f[30] << 24 | (uint32_t)f[31] << 16 | (uint32_t)f[32] << 8 | f[33];
		if (!guest_mac(to, f)) {
			memcpy(f + 6, gwif.hwaddr, 6);
			from_guests = 1;
			vsw_input(&sw, VSW_LOCAL, f, p->len);
		}
	}
	if (r)
		pbuf_free(p);
	return r != 0;
}

/* The frames queued for lwIP, in order; lwIP's answers may queue more. */
static void local_input(void)
{
	for (unsigned i = 0; i < local_count; i++) {
		struct pbuf *p = local_queue[i];
		struct netif *n = local_netif[i];
		local_queue[i] = 0;
		if (nat(p, n))
			continue;
		if (n->input(p, n) != ERR_OK)
			pbuf_free(p);
	}
	local_count = 0;
}

/* A frame into the switch on port p (a guest's, from guests.c), and
 * whatever it delivered toward lwIP into lwIP. */
enum vsw_reason link_switch_input(unsigned p, const uint8_t *frame, size_t len)
{
	from_guests = 1;
	enum vsw_reason r = vsw_input(&sw, p, frame, len);
	local_input();
	return r;
}

struct vswitch *link_switch(void)
{
	return &sw;
}

/* The switch's callback (vswitch.h): must not enter the switch again. */
static int deliver(void *ctx, unsigned port, const uint8_t *frame, size_t len)
{
	(void)ctx;
	if (port == VSW_UPLINK)
		return from_guests ? -1 : uplink_send(frame, len);
	if (port == VSW_LOCAL)
		return queue_frame(frame, len);
	return from_guests ? guest_deliver(port, frame, len) : -1;
}

static err_t link_netif_init(struct netif *n)
{
	n->name[0] = 'e';
	n->name[1] = 'n';
	n->output = etharp_output;
	n->linkoutput = link_output;
	n->mtu = 1500;
	n->hwaddr_len = ETH_HWADDR_LEN;
	n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	netif_set_hostname(n, "berth");
	return ERR_OK;
}

static void refresh_link(void)
{
	uint64_t mac;
	uint32_t mtu, flags;
	long err = netif_info(driver, &mac, &mtu, &flags);
	if (err) {
		if (driver_gone(err))
			detach("info", err);
		return;
	}
	if ((flags & 1) && !netif_is_link_up(&eth))
		netif_set_link_up(&eth);
	else if (!(flags & 1) && netif_is_link_up(&eth))
		netif_set_link_down(&eth);
	info_at = clock_ms() + INFO_EVERY_MS;
}

static long try_attach(void)
{
	uint64_t mac;
	uint32_t mtu, flags;
	long err = init_lookup(INIT_SLOT, driver_name, &driver);
	if (err) {
		driver = 0;
		return err;
	}
	err = netif_info(driver, &mac, &mtu, &flags);
	err = err ? err : netif_attach(driver, "net", main_send, BIT_LINK, &session, &pages, &rx_slots, &tx_slots);
	if (err)
		return err;
	/* the driver's numbers, checked before we trust them */
	if (pages > MAX_PAGES || !rx_slots || !tx_slots || rx_slots + tx_slots > MAX_PAGES * 2 ||
	    (uint64_t)(rx_slots + tx_slots) * SLOT_SIZE > (uint64_t)pages * PAGE) {
		pages = 0;
		return E_BAD_MSG;
	}
	for (unsigned p = 0; p < pages; p++) {
		err = netif_buffer_frame(session, p, &frames[p]);
		err = err ? err : page_map_with_tables(frames[p], LINK_VA + p * PAGE, RIGHT_READ | RIGHT_WRITE);
		if (err)
			return err;
	}
	for (unsigned i = 0; i < ETH_HWADDR_LEN; i++)
		eth.hwaddr[i] = (uint8_t)(mac >> (8 * i));
	/* lwIP's MAC is the driver's: the local port may send only from it */
	memcpy(gwif.hwaddr, eth.hwaddr, ETH_HWADDR_LEN);
	netif_set_link_up(&gwif);
	if (vsw_port_set(&sw, VSW_LOCAL, VSW_KIND_LOCAL, eth.hwaddr, 0) ||
	    vsw_port_set(&sw, VSW_UPLINK, VSW_KIND_UPLINK, 0, 0)) {
		pages = 0;
		return E_BAD_MSG;
	}
	if (mtu >= 576 && mtu <= 1500)
		eth.mtu = (u16_t)mtu;
	tx_free_count = 0;
	for (unsigned i = 0; i < tx_slots; i++)
		tx_free[tx_free_count++] = (uint16_t)(rx_slots + i);
	attached = 1;
	debug_printf("net: attached to '%s': mac %02x:%02x:%02x:%02x:%02x:%02x, %u receive and %u transmit slots, "
	             "link %s\n", driver_name, eth.hwaddr[0], eth.hwaddr[1], eth.hwaddr[2], eth.hwaddr[3],
	             eth.hwaddr[4], eth.hwaddr[5], rx_slots, tx_slots, (flags & 1) ? "up" : "down");
	if (flags & 1)
		netif_set_link_up(&eth);
	info_at = clock_ms() + INFO_EVERY_MS;
	return E_OK;
}

/* Received frames into lwIP, the slots given back in the next call. */
static void receive(void)
{
	for (int rounds = 0; attached && rounds < 64; rounds++) {
		uint32_t got;
		uint16_t slot[BATCH], len[BATCH];
		long err = netif_receive(session, give_count, give, &got, slot, len);
		if (err) {
			if (driver_gone(err))
				detach("receive", err);
			else
				give_count = 0;  /* refused: not ours to give, then */
			return;
		}
		give_count = 0;
		if (!got)
			return;
		for (uint32_t i = 0; i < got && i < BATCH; i++) {
			if (slot[i] >= rx_slots) {
				dropped++;
				continue;   /* not a receive slot: nothing to give back either */
			}
			give[give_count++] = slot[i];
			if (len[i] < 14 || len[i] > FRAME_MAX) {
				dropped++;
				continue;
			}
			/* copied out first: the driver's memory may vanish while
			 * the switch reads it, and the switch must not see a
			 * frame change under it */
			static uint8_t frame[FRAME_MAX];
			if (safe_copy(frame, slot_addr(slot[i]), len[i])) {
				detach("its buffer went away", E_DEAD_PORT);
				return;
			}
			rx_frames++;
			rx_bytes += len[i];
			from_guests = 0;
			vsw_input(&sw, VSW_UPLINK, frame, len[i]);
			local_input();
		}
	}
}

void link_poll(void)
{
	if (!attached) {
		if (clock_ms() < retry_at)
			return;
		long err = try_attach();
		if (err) {
			if (pages || session || driver)
				detach("attach", err);
			retry_at = clock_ms() + RETRY_MS;
			return;
		}
	}
	receive();
	if (attached && clock_ms() >= info_at)
		refresh_link();
	/* The driver posts again after a receive call while transmit slots
	 * are done and not yet taken back: take them, or the two of us would
	 * wake each other for ever. */
	if (attached && tx_free_count + pend_count < tx_slots)
		reclaim();
}

uint64_t link_next_ms(void)
{
	return attached ? info_at : retry_at;
}

void link_init(const char *name, const ip4_addr_t *addr, const ip4_addr_t *mask, const ip4_addr_t *gw)
{
	memcpy(driver_name, name, sizeof(driver_name) - 1);
	if (safe_copy_start())
		debug_printf("net: no copier thread: a driver that dies during a copy will end this server\n");
	netif_add(&eth, addr ? addr : IP4_ADDR_ANY4, addr ? mask : IP4_ADDR_ANY4, addr ? gw : IP4_ADDR_ANY4, 0,
	          link_netif_init, ethernet_input);
	vsw_init(&sw, deliver, 0);
	ip4_addr_t gw_addr, gw_mask;
	ip4addr_aton(GUEST_NET_ADDR, &gw_addr);
	ip4addr_aton(GUEST_NET_MASK, &gw_mask);
	netif_add(&gwif, &gw_addr, &gw_mask, IP4_ADDR_ANY4, 0, link_netif_init, ethernet_input);
	gwif.name[0] = 'g';
	gwif.name[1] = 'w';
	netif_set_up(&gwif);
	netif_set_default(&eth);
	netif_set_up(&eth);
	if (!addr)
		dhcp_start(&eth);
	retry_at = 0;
}

void link_info(struct link_info *info)
{
	info->addr = lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(&eth)));
	info->netmask = lwip_ntohl(ip4_addr_get_u32(netif_ip4_netmask(&eth)));
	info->gateway = lwip_ntohl(ip4_addr_get_u32(netif_ip4_gw(&eth)));
	info->mtu = eth.mtu;
	info->flags = (netif_is_link_up(&eth) ? 1 : 0) | (info->addr ? 2 : 0) | (attached ? 4 : 0);
	info->mac = 0;
	for (unsigned i = 0; i < ETH_HWADDR_LEN; i++)
		info->mac |= (uint64_t)eth.hwaddr[i] << (8 * i);
	info->rx_frames = rx_frames;
	info->rx_bytes = rx_bytes;
	info->tx_frames = tx_frames;
	info->tx_bytes = tx_bytes;
	info->dropped = dropped;
}
