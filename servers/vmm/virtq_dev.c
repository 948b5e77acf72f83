/* The device side of a split virtqueue in guest memory: see virtq_dev.h. */
#include "virtq_dev.h"

#define barrier() __asm__ volatile("" ::: "memory")

static int fail(struct vqd *q, const char *msg)
{
	q->broken = 1;
	if (!q->error)
		q->error = msg;
	return -1;
}

void vqd_init(struct vqd *q, vqd_guest_ptr_fn guest_ptr, void *mem_ctx)
{
	q->guest_ptr = guest_ptr;
	q->mem_ctx = mem_ctx;
	vqd_reset(q);
}

void vqd_reset(struct vqd *q)
{
	q->size = 0;
	q->ready = 0;
	q->broken = 0;
	q->desc_gpa = q->avail_gpa = q->used_gpa = 0;
	q->last_avail = 0;
	q->used_idx = 0;
	q->error = 0;
}

static void *gp(struct vqd *q, uint64_t gpa, uint64_t n)
{
	if (!q->guest_ptr || gpa + n < gpa || n > (uint64_t)(size_t)-1)
		return 0;
	return q->guest_ptr(q->mem_ctx, gpa, (size_t)n);
}

static uint16_t rd16(const volatile void *p)
{
	const volatile uint8_t *b = p;
	return (uint16_t)(b[0] | b[1] << 8);
}

int vqd_enable(struct vqd *q)
{
	uint32_t n = q->size;
	if (q->broken)
		return -1;
	if (n == 0 || n > VQD_MAX_SIZE || (n & (n - 1)))
		return fail(q, "virtqueue: queue size not a power of two in 1..32768");
	if ((q->desc_gpa & 15) || (q->avail_gpa & 1) || (q->used_gpa & 3))
		return fail(q, "virtqueue: misaligned ring address");
	if (!gp(q, q->desc_gpa, 16ull * n))
		return fail(q, "virtqueue: descriptor table outside guest memory");
	if (!gp(q, q->avail_gpa, 6 + 2ull * n))
		return fail(q, "virtqueue: available ring outside guest memory");
	if (!gp(q, q->used_gpa, 6 + 8ull * n))
		return fail(q, "virtqueue: used ring outside guest memory");
	q->last_avail = 0;
	q->used_idx = 0;
	q->ready = 1;
	return 0;
}

/* avail->idx, checked: -1 on error. */
static int avail_idx(struct vqd *q, uint16_t *idx)
{
	volatile uint8_t *a = gp(q, q->avail_gpa, 4);
	if (!a)
		return fail(q, "virtqueue: available ring outside guest memory");
	*idx = rd16(a + 2);
	if ((uint16_t)(*idx - q->last_avail) > q->size)
		return fail(q, "virtqueue: available index moved by more than the queue size");
	return 0;
}

unsigned vqd_pending(struct vqd *q)
{
	uint16_t idx;
	if (!q->ready || q->broken || avail_idx(q, &idx) < 0)
		return 0;
	return (uint16_t)(idx - q->last_avail);
}

int vqd_pop(struct vqd *q, struct vqd_chain *chain, struct vqd_seg *segs, unsigned max_segs)
{
	uint16_t idx;
	if (q->broken)
		return -1;
	if (!q->ready)
		return 0;
	if (avail_idx(q, &idx) < 0)
		return -1;
	if (idx == q->last_avail)
		return 0;
	barrier(); /* read the ring entry after the index (x86: loads are ordered) */
	volatile uint8_t *ent = gp(q, q->avail_gpa + 4 + 2ull * (q->last_avail & (q->size - 1)), 2);
	if (!ent)
		return fail(q, "virtqueue: available ring outside guest memory");
	uint16_t head = rd16(ent);
	if (head >= q->size)
		return fail(q, "virtqueue: head descriptor index out of range");

	chain->head = head;
	chain->nsegs = 0;
	chain->out_bytes = chain->in_bytes = 0;
	uint16_t i = head;
	unsigned walked = 0;
	for (;;) {
		if (++walked > q->size)
			return fail(q, "virtqueue: descriptor chain longer than the queue (a loop?)");
		volatile uint8_t *d = gp(q, q->desc_gpa + 16ull * i, 16);
		if (!d)
			return fail(q, "virtqueue: descriptor table outside guest memory");
		/* copy once, then check the copy */
		uint64_t addr = 0;
		for (int b = 7; b >= 0; b--)
			addr = addr << 8 | d[b];
		uint32_t len = (uint32_t)d[8] | (uint32_t)d[9] << 8 | (uint32_t)d[10] << 16 | (uint32_t)d[11] << 24;
		uint16_t flags = rd16(d + 12);
		uint16_t next = rd16(d + 14);
		if (flags & VQD_DESC_F_INDIRECT)
			return fail(q, "virtqueue: indirect descriptor (VIRTIO_F_INDIRECT_DESC not offered)");
		if (addr + len < addr)
			return fail(q, "virtqueue: buffer address + length wraps");
		if (len && !gp(q, addr, len))
			return fail(q, "virtqueue: buffer outside guest memory");
		if (chain->nsegs >= max_segs)
			return fail(q, "virtqueue: chain has more segments than the device takes");
		uint64_t total = chain->out_bytes + chain->in_bytes + len;
		if (total > 0xffffffffull)
			return fail(q, "virtqueue: chain longer than 4 GiB");
		struct vqd_seg *s = &segs[chain->nsegs++];
		s->gpa = addr;
		s->len = len;
		s->writable = (flags & VQD_DESC_F_WRITE) ? 1 : 0;
		if (s->writable)
			chain->in_bytes += len;
		else
			chain->out_bytes += len;
		if (!(flags & VQD_DESC_F_NEXT))
			break;
		if (next >= q->size)
			return fail(q, "virtqueue: next descriptor index out of range");
		i = next;
	}
	q->last_avail++;
	return 1;
}

int vqd_push(struct vqd *q, uint16_t head, uint32_t len)
{
	if (!q->ready || q->broken)
		return -1;
	volatile uint8_t *u = gp(q, q->used_gpa, 6 + 8ull * q->size);
	if (!u)
		return fail(q, "virtqueue: used ring outside guest memory");
	volatile uint8_t *e = u + 4 + 8 * (q->used_idx & (q->size - 1));
	uint32_t id = head;
	for (int b = 0; b < 4; b++) {
		e[b] = (uint8_t)(id >> (8 * b));
		e[4 + b] = (uint8_t)(len >> (8 * b));
	}
	q->used_idx++;
	barrier(); /* the element before the index (x86: stores are ordered) */
	u[2] = (uint8_t)q->used_idx;
	u[3] = (uint8_t)(q->used_idx >> 8);
	return 0;
}

int vqd_need_interrupt(struct vqd *q)
{
	if (!q->ready || q->broken)
		return 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* used idx visible before we read flags */
	volatile uint8_t *a = gp(q, q->avail_gpa, 2);
	if (!a)
		return 0;
	return !(rd16(a) & VQD_AVAIL_F_NO_INTERRUPT);
}

void *vqd_seg_ptr(struct vqd *q, const struct vqd_seg *s)
{
	return gp(q, s->gpa, s->len);
}
