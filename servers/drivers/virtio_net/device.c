/* The virtio-net device: bring-up, queues, interrupt (see device.h).
 *
 * Every frame travels with the 12-byte virtio-net header in front
 * (virtio 1.1 spec 5.1.6, the VERSION_1 layout, num_buffers included),
 * but the client's slots hold bare Ethernet frames (idl/netif.idl), so
 * each buffer is a chain of two descriptors: the header in a page only
 * the driver maps, then the slot.  VERSION_1 implies ANY_LAYOUT, so the
 * device takes the split.  Receive headers are one per receive slot (the
 * device writes them); transmit frames all share one zeroed header (no
 * checksum to fill in, no segmentation: no offload is negotiated), which
 * the device only reads. */
#include <libipc/libipc.h>
#include "../lib/virtio_pci.h"
#include "../lib/virtq.h"
#include "device.h"

void program_exit(int code);   /* libipc/start.c: tell init, end */

/* virtio-net (virtio 1.1 spec 5.1.3, 5.1.4) */
#define NET_F_MAC 5
#define NET_F_STATUS 16
#define NET_S_LINK_UP 1
#define CFG_MAC 0
#define CFG_STATUS 6
#define HDR_BYTES 12

#define RXQ 0
#define TXQ 1
#define PAGE 4096UL
#define RX_RING_VA 0x60000000UL
#define TX_RING_VA 0x60001000UL
#define HDR_VA 0x60002000UL       /* receive headers, then the transmit header */
#define HDR_STRIDE 16
#define TX_HDR_OFFSET 2048
#define ISR_QUEUE 1
#define ISR_CONFIG 2
#define MAX_PAGES (SLOTS_MAX * SLOT_BYTES / PAGE)

static struct virtio_dev dev;
static struct virtq rxq, txq;
static uint16_t rx_notify_off, tx_notify_off;
static uint64_t hdr_paddr;
static uint64_t page_pa[MAX_PAGES];
static uint16_t rx_head_slot[VIRTQ_MAX_SIZE], tx_head_slot[VIRTQ_MAX_SIZE];
static uint8_t mac[6];
static int has_status, link_up = 1, rx_added, tx_added;

static uint64_t slot_paddr(uint16_t slot)
{
	uint64_t at = (uint64_t)slot * SLOT_BYTES;
	return page_pa[at / PAGE] + at % PAGE;
}

static long fail(const char *what, long err)
{
	debug_printf("virtio-net: %s (%ld)\n", what, err);
	if (dev.common)
		dev.common->device_status |= VIRTIO_FAILED;
	return err;
}

static uint8_t cfg8(unsigned offset)
{
	return *(volatile uint8_t *)(dev.device_cfg + offset);
}

static int read_link(void)
{
	if (!has_status)
		return 1;
	return (*(volatile uint16_t *)(dev.device_cfg + CFG_STATUS) & NET_S_LINK_UP) != 0;
}

/* A queue of at least `want` entries (a power of 2) in a fresh DMA page. */
static long queue_up(uint16_t q, struct virtq *vq, uint64_t va, uint16_t want, uint16_t *notify_off)
{
	uint16_t max = virtio_queue_max(&dev, q);
	if (max < want)
		return fail("a queue is smaller than the slots it must hold", E_STATE);
	if (virtq_bytes(want) > PAGE)
		return fail("a queue does not fit in a page", E_STATE);
	uint64_t frame, paddr;
	long err = page_alloc_map(va, RIGHT_READ | RIGHT_WRITE, &frame);
	err = err ? err : sys_frame_phys(frame, &paddr);
	if (err)
		return fail("no DMA memory for a queue (is the manifest's 'dma' missing?)", err);
	virtq_init(vq, (void *)va, paddr, want);
	virtio_queue_enable(&dev, q, vq, notify_off);
	return E_OK;
}

static uint16_t pow2_at_least(unsigned n)
{
	uint16_t p = 1;
	while (p < n)
		p = (uint16_t)(p * 2);
	return p;
}

long netdev_up(uint64_t session, struct slots *s, const uint64_t *page_paddr)
{
	long err;
	if ((err = virtio_map(&dev, session)))
		return fail("not a modern virtio device", err);
	volatile struct virtio_common_cfg *c = dev.common;
	const char *why;
	uint64_t features;
	/* only what this driver implements: no checksum or segmentation
	 * offload, no mergeable buffers, no control queue */
	if ((err = virtio_negotiate(&dev, (1ULL << NET_F_MAC) | (1ULL << NET_F_STATUS), &features, &why)))
		return fail(why, err);
	has_status = (features >> NET_F_STATUS) & 1;
	if (dev.device_cfg_len < (has_status ? 8U : 6U))
		return fail("the device configuration is too short", E_STATE);
	if ((features >> NET_F_MAC) & 1) {
		uint8_t gen;
		do {
			gen = c->config_generation;
			for (int i = 0; i < 6; i++)
				mac[i] = cfg8(CFG_MAC + i);
		} while (gen != c->config_generation);
	} else {
		/* a locally administered unicast address of our own */
		const uint8_t own[6] = { 0x02, 0x00, 0x00, 0x4e, 0x45, 0x54 };
		memcpy(mac, own, 6);
	}
	link_up = read_link();

	for (unsigned p = 0; p < (unsigned)(s->rx + s->tx) * SLOT_BYTES / PAGE; p++)
		page_pa[p] = page_paddr[p];
	uint64_t hdr_frame;
	if ((err = page_alloc_map(HDR_VA, RIGHT_READ | RIGHT_WRITE, &hdr_frame)) ||
	    (err = sys_frame_phys(hdr_frame, &hdr_paddr)))
		return fail("no DMA memory for the headers", err);
	/* two descriptors a frame */
	if ((err = queue_up(RXQ, &rxq, RX_RING_VA, pow2_at_least(2U * s->rx), &rx_notify_off)) ||
	    (err = queue_up(TXQ, &txq, TX_RING_VA, pow2_at_least(2U * s->tx), &tx_notify_off)))
		return err;
	for (uint16_t i = 0; i < s->rx; i++)
		netdev_post_rx(i);
	c->device_status = VIRTIO_ACKNOWLEDGE | VIRTIO_DRIVER | VIRTIO_FEATURES_OK | VIRTIO_DRIVER_OK;
	netdev_kick_rx();
	debug_printf("virtio-net: features %s%s, no offloads\n", has_status ? "STATUS " : "",
	             (features >> NET_F_MAC) & 1 ? "MAC" : "(no MAC offered: a local one)");
	return E_OK;
}

uint64_t netdev_mac(void)
{
	uint64_t m = 0;
	for (int i = 0; i < 6; i++)
		m |= (uint64_t)mac[i] << (8 * i);
	return m;
}

int netdev_link_up(void)
{
	return link_up;
}

uint16_t netdev_rx_queue_size(void)
{
	return rxq.size;
}

void netdev_post_rx(uint16_t slot)
{
	struct virtq_buf b[2] = {
		{ hdr_paddr + (uint64_t)slot * HDR_STRIDE, HDR_BYTES, 1 },
		{ slot_paddr(slot), SLOT_BYTES, 1 },
	};
	uint16_t head;
	/* the queue has two descriptors for every receive slot, so this
	 * cannot run out */
	if (virtq_add(&rxq, b, 2, &head) == 0) {
		rx_head_slot[head] = slot;
		rx_added = 1;
	}
}

void netdev_kick_rx(void)
{
	if (rx_added && virtq_kick_needed(&rxq))
		virtio_notify(&dev, RXQ, rx_notify_off);
	rx_added = 0;
}

void netdev_queue_tx(uint16_t slot, uint16_t len)
{
	struct virtq_buf b[2] = {
		{ hdr_paddr + TX_HDR_OFFSET, HDR_BYTES, 0 },
		{ slot_paddr(slot), len, 0 },
	};
	uint16_t head;
	if (virtq_add(&txq, b, 2, &head) == 0) {
		tx_head_slot[head] = slot;
		tx_added = 1;
	}
}

void netdev_kick_tx(void)
{
	if (tx_added && virtq_kick_needed(&txq))
		virtio_notify(&dev, TXQ, tx_notify_off);
	tx_added = 0;
}

static void broken(void)
{
	/* the device broke the ring's rules: start over (init restarts us;
	 * the client gets an error and attaches again) */
	debug_printf("virtio-net: the device returned a buffer it was never given; giving up\n");
	dev.common->device_status = VIRTIO_FAILED;
	program_exit(1);
}

int netdev_reap(struct slots *s, struct net_counters *c, int have_client)
{
	int ev = 0, r;
	uint16_t head;
	uint32_t written;
	while ((r = virtq_take_used(&rxq, &head, &written)) == 1) {
		uint16_t slot = rx_head_slot[head];
		int len = slots_rx_length(written, HDR_BYTES);
		if (len < 0) {
			c->rx_dropped++;
			netdev_post_rx(slot);
		} else if (!have_client) {
			c->rx_unclaimed++;
			netdev_post_rx(slot);
		} else {
			c->rx_frames++;
			c->rx_bytes += (uint64_t)len;
			slots_rx_ready(s, slot, (uint16_t)len);
			ev |= NET_EV_RX;
		}
	}
	if (r < 0)
		broken();
	netdev_kick_rx();
	while ((r = virtq_take_used(&txq, &head, &written)) == 1) {
		slots_tx_finished(s, tx_head_slot[head]);
		ev |= NET_EV_TX;
	}
	if (r < 0)
		broken();
	return ev;
}

int netdev_interrupt(uint64_t irq_handler, struct slots *s, struct net_counters *c, int have_client)
{
	/* reading the ISR status deasserts the line (4.1.4.5) */
	uint8_t isr = *dev.isr;
	sys_irq_ack(irq_handler);
	int ev = 0;
	if (isr & ISR_CONFIG) {
		int up = read_link();
		if (up != link_up) {
			link_up = up;
			ev |= NET_EV_LINK;
			debug_printf("virtio-net: link %s\n", up ? "up" : "down");
		}
	}
	if (dev.common->device_status & VIRTIO_NEEDS_RESET) {
		debug_printf("virtio-net: the device needs a reset; restarting\n");
		program_exit(1);
	}
	/* a shared line may be another device's: reaping finds nothing then */
	return ev | netdev_reap(s, c, have_client);
}
