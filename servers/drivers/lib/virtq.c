/* The split virtqueue's driver side (see virtq.h). */
#include "virtq.h"

/* The device reads and writes the rings concurrently: keep the compiler
 * from reordering our accesses around these points.  x86 keeps stores in
 * order and loads in order, but lets a load pass an earlier store, so
 * publishing the ring index and then reading the device's NO_NOTIFY flag
 * needs a full fence. */
#define compiler_barrier() __asm__ volatile("" ::: "memory")
#define full_fence() __asm__ volatile("mfence" ::: "memory")

size_t virtq_avail_offset(uint16_t size)
{
	return (size_t)size * sizeof(struct virtq_desc);
}

size_t virtq_used_offset(uint16_t size)
{
	/* flags, idx, ring[size], used_event; the used ring is 4-aligned */
	size_t avail_end = virtq_avail_offset(size) + 2 * 3 + 2 * (size_t)size;
	return (avail_end + 3) & ~(size_t)3;
}

size_t virtq_bytes(uint16_t size)
{
	/* flags, idx, ring[size], avail_event */
	return virtq_used_offset(size) + 2 * 3 + sizeof(struct virtq_used_elem) * (size_t)size;
}

int virtq_init(struct virtq *q, void *mem, uint64_t paddr, uint16_t size)
{
	if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
		return -1;
	uint8_t *base = mem;
	for (size_t i = 0; i < virtq_bytes(size); i++)
		base[i] = 0;
	q->size = size;
	q->desc = mem;
	q->avail = (struct virtq_avail *)(base + virtq_avail_offset(size));
	q->used = (struct virtq_used *)(base + virtq_used_offset(size));
	q->paddr = paddr;
	for (unsigned i = 0; i < size; i++)
		q->next[i] = (uint16_t)(i + 1 < size ? i + 1 : 0);
	q->free_head = 0;
	q->num_free = size;
	q->last_used = 0;
	q->avail_idx = 0;
	for (unsigned i = 0; i < VIRTQ_MAX_SIZE; i++)
		q->chain_len[i] = 0;
	return 0;
}

int virtq_add(struct virtq *q, const struct virtq_buf *bufs, unsigned n, uint16_t *head)
{
	if (n == 0 || n > q->num_free)
		return -1;
	for (unsigned i = 1; i < n; i++)
		if (bufs[i - 1].device_writes && !bufs[i].device_writes)
			return -1;
	uint16_t first = q->free_head, d = first;
	for (unsigned i = 0; i < n; i++) {
		struct virtq_desc *e = &q->desc[d];
		e->addr = bufs[i].paddr;
		e->len = bufs[i].len;
		e->flags = (uint16_t)((bufs[i].device_writes ? VIRTQ_DESC_F_WRITE : 0) |
		                      (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		e->next = i + 1 < n ? q->next[d] : 0;
		/* the last one's link still leads on into the free list */
		if (i + 1 < n)
			d = q->next[d];
	}
	q->free_head = q->next[d];
	q->num_free = (uint16_t)(q->num_free - n);
	q->chain_len[first] = (uint16_t)n;
	q->avail->ring[q->avail_idx & (q->size - 1)] = first;
	/* the entry before the index that makes it visible */
	compiler_barrier();
	q->avail_idx++;
	*(volatile uint16_t *)&q->avail->idx = q->avail_idx;
	*head = first;
	return 0;
}

int virtq_kick_needed(const struct virtq *q)
{
	full_fence();
	return !(*(volatile uint16_t *)&q->used->flags & VIRTQ_USED_F_NO_NOTIFY);
}

int virtq_take_used(struct virtq *q, uint16_t *head, uint32_t *written)
{
	uint16_t idx = *(volatile uint16_t *)&q->used->idx;
	if (idx == q->last_used)
		return 0;
	/* the index before the entry it covers */
	compiler_barrier();
	struct virtq_used_elem e = q->used->ring[q->last_used & (q->size - 1)];
	if (e.id >= q->size || !q->chain_len[e.id])
		return -1;
	/* our own chain, as we wrote it: walk to its tail */
	uint16_t d = (uint16_t)e.id, n = q->chain_len[e.id];
	for (uint16_t i = 1; i < n; i++)
		d = q->next[d];
	q->chain_len[e.id] = 0;
	q->next[d] = q->free_head;
	q->free_head = (uint16_t)e.id;
	q->num_free = (uint16_t)(q->num_free + n);
	q->last_used++;
	*head = (uint16_t)e.id;
	*written = e.len;
	return 1;
}
