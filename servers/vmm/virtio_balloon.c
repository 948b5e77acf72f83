/* The virtio-balloon device model: see virtio_balloon.h. */
#include "virtio_balloon.h"

#define SEGS_MAX 16

static void balloon_reset(struct virtio_pci *vp)
{
	struct virtio_balloon *b = vp->dev;
	b->actual = 0; /* a new driver starts with an empty balloon: the backend is told by deflates only */
}

/* Every PFN of one queue's chains to the backend, each chain back used. */
static void balloon_drain(struct virtio_balloon *b, unsigned q)
{
	struct virtio_pci *vp = &b->vp;
	struct vqd_seg segs[SEGS_MAX];
	struct vqd_chain c;
	int (*fn)(void *, uint32_t) = q == VBALLOON_INFLATEQ ? b->backend.inflate : b->backend.deflate;
	while (virtio_pci_driver_ok(vp) && virtio_pci_pop(vp, q, &c, segs, SEGS_MAX) > 0) {
		if (c.in_bytes) {
			virtio_pci_needs_reset(vp, "virtio-balloon: a device-writable buffer in a page list");
			return;
		}
		for (unsigned i = 0; i < c.nsegs; i++) {
			const uint8_t *p = vqd_seg_ptr(&vp->queues[q], &segs[i]);
			if (!p) {
				virtio_pci_needs_reset(vp, "virtio-balloon: a page list outside guest memory");
				return;
			}
			for (uint32_t off = 0; off + 4 <= segs[i].len; off += 4) {
				uint32_t pfn = (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 | (uint32_t)p[off + 2] << 16 |
				               (uint32_t)p[off + 3] << 24;
				if (fn(b->backend.ctx, pfn))
					b->stats.refused++;
				else if (q == VBALLOON_INFLATEQ)
					b->stats.inflated++;
				else
					b->stats.deflated++;
			}
		}
		virtio_pci_push(vp, q, c.head, 0);
	}
}

static void balloon_notify(struct virtio_pci *vp, unsigned q)
{
	if (q == VBALLOON_INFLATEQ || q == VBALLOON_DEFLATEQ)
		balloon_drain(vp->dev, q);
}

static uint32_t balloon_config_read(struct virtio_pci *vp, unsigned off, unsigned size)
{
	struct virtio_balloon *b = vp->dev;
	uint8_t config[VBALLOON_CONFIG_LEN];
	for (unsigned i = 0; i < 4; i++) {
		config[i] = (uint8_t)(b->num_pages >> (8 * i));
		config[4 + i] = (uint8_t)(b->actual >> (8 * i));
	}
	uint32_t v = 0;
	for (unsigned i = 0; i < size && off + i < VBALLOON_CONFIG_LEN; i++)
		v |= (uint32_t)config[off + i] << (8 * i);
	return v;
}

static void balloon_config_write(struct virtio_pci *vp, unsigned off, unsigned size, uint32_t value)
{
	struct virtio_balloon *b = vp->dev;
	/* only `actual` is the driver's; a partial write changes its bytes */
	for (unsigned i = 0; i < size; i++) {
		unsigned at = off + i;
		if (at < 4 || at >= VBALLOON_CONFIG_LEN)
			continue;
		unsigned shift = 8 * (at - 4);
		b->actual = (b->actual & ~(0xffu << shift)) | ((value >> (8 * i)) & 0xff) << shift;
	}
}

static const struct virtio_pci_ops balloon_ops = {
	.reset = balloon_reset,
	.queue_notify = balloon_notify,
	.config_read = balloon_config_read,
	.config_write = balloon_config_write,
};

void virtio_balloon_init(struct virtio_balloon *b, const struct vballoon_backend *backend)
{
	b->backend = *backend;
	b->num_pages = b->actual = 0;
	b->stats = (struct vballoon_stats){ 0 };
	/* class ff 00 00: no class fits a balloon */
	virtio_pci_init(&b->vp, VIRTIO_ID_BALLOON, 0xff0000, 1ull << VIRTIO_BALLOON_F_MUST_TELL_HOST, 2,
	                VBALLOON_QUEUE_SIZE, VBALLOON_CONFIG_LEN, &balloon_ops, b);
}

void virtio_balloon_set_target(struct virtio_balloon *b, uint32_t pages)
{
	b->num_pages = pages;
	virtio_pci_config_changed(&b->vp);
}
