/* The virtio-blk device model: see virtio_blk.h. */
#include "virtio_blk.h"

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void blk_reset(struct virtio_pci *vp)
{
	struct virtio_blk *blk = vp->dev;
	for (unsigned i = 0; i < VBLK_QUEUE_SIZE; i++) {
		struct vblk_req *r = &blk->reqs[i];
		if (r->state == VBLK_BUSY)
			r->state = VBLK_ORPHAN;
		else if (r->state == VBLK_FLUSH_WAIT)
			r->state = VBLK_FREE;
	}
}

static void blk_notify(struct virtio_pci *vp, unsigned q)
{
	(void)q;
	virtio_blk_process(vp->dev);
}

static uint32_t blk_config_read(struct virtio_pci *vp, unsigned off, unsigned size)
{
	struct virtio_blk *blk = vp->dev;
	uint32_t v = 0;
	for (unsigned i = 0; i < size && off + i < VBLK_CONFIG_LEN; i++)
		v |= (uint32_t)blk->config[off + i] << (8 * i);
	return v;
}

static void blk_config_write(struct virtio_pci *vp, unsigned off, unsigned size, uint32_t value)
{
	(void)vp; (void)off; (void)size; (void)value;  /* nothing writable (no CONFIG_WCE) */
}

static const struct virtio_pci_ops blk_ops = {
	.reset = blk_reset,
	.queue_notify = blk_notify,
	.config_read = blk_config_read,
	.config_write = blk_config_write,
};

void virtio_blk_init(struct virtio_blk *blk, const struct vblk_backend *backend, const char *serial)
{
	blk->backend = *backend;
	uint64_t f = 1ull << VIRTIO_BLK_F_SIZE_MAX | 1ull << VIRTIO_BLK_F_SEG_MAX |
		     1ull << VIRTIO_BLK_F_BLK_SIZE | 1ull << VIRTIO_BLK_F_FLUSH;
	if (backend->read_only)
		f |= 1ull << VIRTIO_BLK_F_RO;
	for (unsigned i = 0; i < VBLK_CONFIG_LEN; i++)
		blk->config[i] = 0;
	put32(blk->config + 0, (uint32_t)backend->capacity);
	put32(blk->config + 4, (uint32_t)(backend->capacity >> 32));
	put32(blk->config + 8, VBLK_SIZE_MAX);
	put32(blk->config + 12, VBLK_SEG_MAX);
	put32(blk->config + 20, 512);
	for (unsigned i = 0; i < VBLK_ID_BYTES; i++)
		blk->serial[i] = 0;
	for (unsigned i = 0; serial && i < VBLK_ID_BYTES && serial[i]; i++)
		blk->serial[i] = serial[i];
	blk->next_seq = 0;
	blk->completing = 0;
	blk->stats_requests = blk->stats_errors = 0;
	for (unsigned i = 0; i < VBLK_QUEUE_SIZE; i++) {
		blk->reqs[i].state = VBLK_FREE;
		blk->reqs[i].blk = blk;
	}
	/* class 01 80 00: mass storage, other (as QEMU's virtio-blk) */
	virtio_pci_init(&blk->vp, VIRTIO_ID_BLOCK, 0x018000, f, 1, VBLK_QUEUE_SIZE, VBLK_CONFIG_LEN, &blk_ops, blk);
}

/* Start every flush whose earlier writes have all completed. */
static void kick_flushes(struct virtio_blk *blk)
{
	for (unsigned i = 0; i < VBLK_QUEUE_SIZE; i++) {
		struct vblk_req *f = &blk->reqs[i];
		if (f->state != VBLK_FLUSH_WAIT)
			continue;
		int wait = 0;
		for (unsigned j = 0; j < VBLK_QUEUE_SIZE && !wait; j++) {
			struct vblk_req *w = &blk->reqs[j];
			if ((w->state == VBLK_BUSY || w->state == VBLK_ORPHAN) && w->type == VIRTIO_BLK_T_OUT &&
			    w->seq < f->seq)
				wait = 1;
		}
		if (wait)
			continue;
		f->state = VBLK_BUSY;
		if (blk->backend.ops->flush)
			blk->backend.ops->flush(blk->backend.ctx, f);
		else
			virtio_blk_complete(blk, f, VIRTIO_BLK_S_OK);
	}
}

void virtio_blk_complete(struct virtio_blk *blk, struct vblk_req *req, uint8_t status)
{
	if (req < blk->reqs || req >= blk->reqs + VBLK_QUEUE_SIZE)
		return;
	if (req->state == VBLK_ORPHAN) {
		req->state = VBLK_FREE;
	} else if (req->state == VBLK_BUSY) {
		if (status != VIRTIO_BLK_S_OK)
			blk->stats_errors++;
		*req->status = status;
		if (status != VIRTIO_BLK_S_OK && req->type == VIRTIO_BLK_T_IN)
			req->used_len = 1;  /* nothing useful was written */
		req->state = VBLK_FREE;
		virtio_pci_push(&blk->vp, 0, req->head, req->used_len);
	} else {
		return;
	}
	if (req->type == VIRTIO_BLK_T_OUT)
		kick_flushes(blk);
	if (!blk->completing)
		virtio_blk_process(blk);
}

/* Host buffers for the bytes [from, to) of the readable (w = 0) or
 * writable (w = 1) part of the chain.  -1 if a buffer vanished. */
static int make_iov(struct virtio_blk *blk, const struct vqd_seg *segs, unsigned n, int w, uint64_t from,
		    uint64_t to, struct vblk_req *r)
{
	uint64_t pos = 0;
	r->niov = 0;
	for (unsigned i = 0; i < n && pos < to; i++) {
		if (segs[i].writable != w)
			continue;
		uint64_t s = pos, e = pos + segs[i].len;
		pos = e;
		if (e <= from || s >= to)
			continue;
		uint64_t a = s < from ? from : s, b = e > to ? to : e;
		uint8_t *p = vqd_seg_ptr(&blk->vp.queues[0], &segs[i]);
		if (!p)
			return -1;
		r->iov[r->niov].base = p + (a - s);
		r->iov[r->niov].len = (size_t)(b - a);
		r->niov++;
	}
	return 0;
}

static void finish_now(struct virtio_blk *blk, struct vblk_req *r, uint8_t status)
{
	r->state = VBLK_BUSY;
	blk->completing++;
	virtio_blk_complete(blk, r, status);
	blk->completing--;
}

/* One popped chain into the free slot r. */
static void start(struct virtio_blk *blk, struct vblk_req *r, const struct vqd_chain *c, const struct vqd_seg *segs)
{
	struct virtio_pci *vp = &blk->vp;
	int seen_w = 0;
	for (unsigned i = 0; i < c->nsegs; i++) {
		if (segs[i].writable)
			seen_w = 1;
		else if (seen_w && segs[i].len) {
			virtio_pci_needs_reset(vp, "virtio-blk: a device-readable buffer after a writable one");
			return;
		}
	}
	if (c->in_bytes == 0) {
		virtio_pci_needs_reset(vp, "virtio-blk: no writable byte for the request status");
		return;
	}
	/* the status byte: the last writable byte */
	uint8_t *st = 0;
	for (unsigned i = c->nsegs; i-- > 0;) {
		if (segs[i].writable && segs[i].len) {
			uint8_t *p = vqd_seg_ptr(&vp->queues[0], &segs[i]);
			if (p)
				st = p + segs[i].len - 1;
			break;
		}
	}
	if (!st) {
		virtio_pci_needs_reset(vp, "virtio-blk: status byte outside guest memory");
		return;
	}
	blk->stats_requests++;
	r->head = c->head;
	r->status = st;
	r->used_len = 1;
	r->seq = blk->next_seq++;
	r->type = 0xffffffffu;

	/* the header: the first 16 readable bytes */
	uint8_t h[16];
	if (c->out_bytes < 16 || make_iov(blk, segs, c->nsegs, 0, 0, 16, r) < 0) {
		finish_now(blk, r, VIRTIO_BLK_S_IOERR);
		return;
	}
	unsigned k = 0;
	for (unsigned i = 0; i < r->niov; i++)
		for (size_t j = 0; j < r->iov[i].len; j++)
			h[k++] = ((volatile uint8_t *)r->iov[i].base)[j];
	uint32_t type = h[0] | h[1] << 8 | h[2] << 16 | (uint32_t)h[3] << 24;
	uint64_t sector = 0;
	for (int b = 15; b >= 8; b--)
		sector = sector << 8 | h[b];
	r->type = type;

	uint64_t len;
	int rc;
	switch (type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		if (type == VIRTIO_BLK_T_IN) {
			len = c->in_bytes - 1;
			rc = make_iov(blk, segs, c->nsegs, 1, 0, len, r);
		} else {
			len = c->out_bytes - 16;
			rc = make_iov(blk, segs, c->nsegs, 0, 16, c->out_bytes, r);
		}
		if (rc < 0 || (len & 511) || (type == VIRTIO_BLK_T_OUT && blk->backend.read_only) ||
		    sector > blk->backend.capacity || (len >> 9) > blk->backend.capacity - sector) {
			finish_now(blk, r, VIRTIO_BLK_S_IOERR);
			return;
		}
		for (unsigned i = 0; i < r->niov; i++)
			if (r->iov[i].len > VBLK_SIZE_MAX) {
				finish_now(blk, r, VIRTIO_BLK_S_IOERR);
				return;
			}
		if (type == VIRTIO_BLK_T_IN)
			r->used_len = (uint32_t)len + 1;
		if (len == 0) {
			finish_now(blk, r, VIRTIO_BLK_S_OK);
			return;
		}
		r->state = VBLK_BUSY;
		blk->completing++;
		if (type == VIRTIO_BLK_T_IN)
			blk->backend.ops->read(blk->backend.ctx, r, sector, r->iov, r->niov);
		else
			blk->backend.ops->write(blk->backend.ctx, r, sector, r->iov, r->niov);
		blk->completing--;
		return;
	case VIRTIO_BLK_T_FLUSH:
		r->state = VBLK_FLUSH_WAIT;
		blk->completing++;
		kick_flushes(blk);
		blk->completing--;
		return;
	case VIRTIO_BLK_T_GET_ID:
		len = c->in_bytes - 1;
		if (len > VBLK_ID_BYTES)
			len = VBLK_ID_BYTES;
		if (make_iov(blk, segs, c->nsegs, 1, 0, len, r) < 0) {
			finish_now(blk, r, VIRTIO_BLK_S_IOERR);
			return;
		}
		k = 0;
		for (unsigned i = 0; i < r->niov; i++)
			for (size_t j = 0; j < r->iov[i].len; j++)
				((volatile uint8_t *)r->iov[i].base)[j] = (uint8_t)blk->serial[k++];
		r->used_len = (uint32_t)len + 1;
		finish_now(blk, r, VIRTIO_BLK_S_OK);
		return;
	default:
		finish_now(blk, r, VIRTIO_BLK_S_UNSUPP);
		return;
	}
}

void virtio_blk_process(struct virtio_blk *blk)
{
	struct vqd_seg segs[VBLK_QUEUE_SIZE];
	struct vqd_chain c;
	if (blk->completing)
		return;
	blk->completing++;
	for (;;) {
		struct vblk_req *r = 0;
		for (unsigned i = 0; i < VBLK_QUEUE_SIZE && !r; i++)
			if (blk->reqs[i].state == VBLK_FREE)
				r = &blk->reqs[i];
		if (!r)
			break;
		if (virtio_pci_pop(&blk->vp, 0, &c, segs, VBLK_QUEUE_SIZE) <= 0)
			break;
		start(blk, r, &c, segs);
		if (!virtio_pci_driver_ok(&blk->vp))
			break;
	}
	blk->completing--;
}
