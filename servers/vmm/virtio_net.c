/* The virtio-net device model: see virtio_net.h. */
#include "virtio_net.h"

#define SEGS_MAX 64   /* segments of one chain we take; more breaks the queue */

static void net_reset(struct virtio_pci *vp)
{
	(void)vp;  /* no request outlives a call: nothing to orphan */
}

static void net_notify(struct virtio_pci *vp, unsigned q)
{
	struct virtio_net *n = vp->dev;
	if (q == VNET_TXQ)
		virtio_net_transmit(n);
	else if (q == VNET_RXQ && n->backend.rx_ready)
		n->backend.rx_ready(n->backend.ctx);
}

static uint32_t net_config_read(struct virtio_pci *vp, unsigned off, unsigned size)
{
	struct virtio_net *n = vp->dev;
	uint32_t v = 0;
	for (unsigned i = 0; i < size && off + i < VNET_CONFIG_LEN; i++)
		v |= (uint32_t)n->config[off + i] << (8 * i);
	return v;
}

static void net_config_write(struct virtio_pci *vp, unsigned off, unsigned size, uint32_t value)
{
	(void)vp; (void)off; (void)size; (void)value;  /* the MAC is read-only without CTRL_MAC_ADDR */
}

static const struct virtio_pci_ops net_ops = {
	.reset = net_reset,
	.queue_notify = net_notify,
	.config_read = net_config_read,
	.config_write = net_config_write,
};

void virtio_net_set_mac(struct virtio_net *n, const uint8_t mac[6])
{
	for (unsigned i = 0; i < 6; i++)
		n->config[i] = mac[i];
}

void virtio_net_init(struct virtio_net *n, const uint8_t mac[6], const struct vnet_backend *backend, int link_up)
{
	n->backend = *backend;
	for (unsigned i = 0; i < VNET_CONFIG_LEN; i++)
		n->config[i] = 0;
	virtio_net_set_mac(n, mac);
	n->config[6] = link_up ? VIRTIO_NET_S_LINK_UP : 0;
	n->stats = (struct vnet_stats){ 0 };
	n->processing = 0;
	uint64_t f = 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS;
	/* class 02 00 00: network, Ethernet (as QEMU's virtio-net) */
	virtio_pci_init(&n->vp, VIRTIO_ID_NET, 0x020000, f, 2, VNET_QUEUE_SIZE, VNET_CONFIG_LEN, &net_ops, n);
}

void virtio_net_set_link(struct virtio_net *n, int up)
{
	uint8_t s = up ? VIRTIO_NET_S_LINK_UP : 0;
	if (n->config[6] == s)
		return;
	n->config[6] = s;
	if (virtio_pci_driver_ok(&n->vp))
		virtio_pci_config_changed(&n->vp);
}

/* One transmit chain: all device-readable, header then frame. */
static void transmit_one(struct virtio_net *n, const struct vqd_chain *c, const struct vqd_seg *segs)
{
	struct virtio_pci *vp = &n->vp;
	if (c->in_bytes) {
		virtio_pci_needs_reset(vp, "virtio-net: a device-writable buffer in a transmit chain");
		return;
	}
	uint64_t total = c->out_bytes;
	if (total < VNET_HDR_LEN + VNET_FRAME_MIN || total > VNET_HDR_LEN + VNET_FRAME_MAX) {
		n->stats.tx_dropped++;
		virtio_pci_push(vp, VNET_TXQ, c->head, 0);
		return;
	}
	size_t pos = 0;
	for (unsigned i = 0; i < c->nsegs; i++) {
		const uint8_t *p = vqd_seg_ptr(&vp->queues[VNET_TXQ], &segs[i]);
		if (!p && segs[i].len) {
			virtio_pci_needs_reset(vp, "virtio-net: transmit buffer outside guest memory");
			return;
		}
		for (uint32_t k = 0; k < segs[i].len; k++)
			n->frame[pos++] = ((const volatile uint8_t *)p)[k];
	}
	/* the header asks for nothing we offer (no offloads): ignore it */
	size_t len = pos - VNET_HDR_LEN;
	if (n->backend.transmit(n->backend.ctx, n->frame + VNET_HDR_LEN, len)) {
		n->stats.tx_dropped++;
	} else {
		n->stats.tx_frames++;
		n->stats.tx_bytes += len;
	}
	virtio_pci_push(vp, VNET_TXQ, c->head, 0);
}

void virtio_net_transmit(struct virtio_net *n)
{
	struct vqd_seg segs[SEGS_MAX];
	struct vqd_chain c;
	if (n->processing)
		return;
	n->processing++;
	while (virtio_pci_driver_ok(&n->vp) && virtio_pci_pop(&n->vp, VNET_TXQ, &c, segs, SEGS_MAX) > 0)
		transmit_one(n, &c, segs);
	n->processing--;
}

int virtio_net_receive(struct virtio_net *n, const uint8_t *frame, size_t len)
{
	struct virtio_pci *vp = &n->vp;
	struct vqd_seg segs[SEGS_MAX];
	struct vqd_chain c;
	if (len < VNET_FRAME_MIN || len > VNET_FRAME_MAX) {
		n->stats.rx_dropped++;
		return -2;
	}
	if (!virtio_pci_driver_ok(vp) || virtio_pci_pop(vp, VNET_RXQ, &c, segs, SEGS_MAX) <= 0) {
		n->stats.rx_no_buffer++;
		return -1;
	}
	if (c.out_bytes) {
		virtio_pci_needs_reset(vp, "virtio-net: a device-readable buffer in a receive chain");
		n->stats.rx_dropped++;
		return -1;
	}
	if (c.in_bytes < VNET_HDR_LEN + len) { /* too small: give it back empty */
		n->stats.rx_dropped++;
		virtio_pci_push(vp, VNET_RXQ, c.head, 0);
		return -2;
	}
	/* the header: no flags, no GSO, num_buffers 1; then the frame */
	uint8_t hdr[VNET_HDR_LEN] = { 0 };
	hdr[10] = 1;
	size_t total = VNET_HDR_LEN + len, pos = 0;
	for (unsigned i = 0; i < c.nsegs && pos < total; i++) {
		uint8_t *p = vqd_seg_ptr(&vp->queues[VNET_RXQ], &segs[i]);
		if (!p && segs[i].len) {
			virtio_pci_needs_reset(vp, "virtio-net: receive buffer outside guest memory");
			n->stats.rx_dropped++;
			return -1;
		}
		for (uint32_t k = 0; k < segs[i].len && pos < total; k++, pos++)
			((volatile uint8_t *)p)[k] = pos < VNET_HDR_LEN ? hdr[pos] : frame[pos - VNET_HDR_LEN];
	}
	n->stats.rx_frames++;
	n->stats.rx_bytes += len;
	virtio_pci_push(vp, VNET_RXQ, c.head, (uint32_t)total);
	return 0;
}
