/* A virtio 1.x split virtqueue, the driver's side (virtio 1.1 spec,
 * section 2.6).  Pure: no system calls; the caller gives the memory (one
 * physically contiguous block, its virtual and physical addresses) and
 * does the notification, so the ring logic runs on the host in
 * tests/unit/test_virtq.c with a simulated device.
 *
 * Layout in the block (virtq_bytes): the descriptor table (16 bytes per
 * entry, 16-aligned), then the driver ("avail") ring, then the device
 * ("used") ring at the next 4-byte boundary.  No event index, no
 * indirect descriptors: the driver negotiates neither.
 *
 * Use: virtq_init; for each request virtq_add a chain of buffers (it
 * returns the head's index, which names the request); if virtq_kick_needed
 * write the queue's index to its notify address; on an interrupt call
 * virtq_take_used until it returns 0, each time getting a completed head
 * back (its descriptors are free again). */
#ifndef VIRTQ_H
#define VIRTQ_H

#include <stdint.h>
#include <stddef.h>

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2      /* the device writes this buffer */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1
#define VIRTQ_MAX_SIZE 256        /* enough for a disk; keeps chain_len small */

struct virtq_desc {
	uint64_t addr;   /* physical */
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];  /* then le16 used_event, unused here */
};

struct virtq_used_elem {
	uint32_t id;      /* head of the completed chain */
	uint32_t len;     /* bytes the device wrote */
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];
};

/* One buffer of a chain, as the caller sees it. */
struct virtq_buf {
	uint64_t paddr;
	uint32_t len;
	int device_writes;  /* 1: device-writable (a read's data, a status byte) */
};

struct virtq {
	uint16_t size;          /* entries, a power of 2 */
	uint16_t free_head;     /* free descriptors are linked through next[] */
	uint16_t num_free;
	uint16_t last_used;     /* used->idx we have consumed up to */
	uint16_t avail_idx;     /* our copy of avail->idx */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint64_t paddr;         /* of desc; the rings follow at the offsets below */
	/* descriptors in the chain headed here, 0: not a head we gave out;
	 * so a device that reports a bogus head is caught, not obeyed */
	uint16_t chain_len[VIRTQ_MAX_SIZE];
	/* our own links (the free list, and each chain): the copies in the
	 * shared descriptor table are written from these, never read back */
	uint16_t next[VIRTQ_MAX_SIZE];
};

/* Bytes the rings of a queue of `size` entries take, and where each part
 * starts in the block. */
size_t virtq_bytes(uint16_t size);
size_t virtq_avail_offset(uint16_t size);
size_t virtq_used_offset(uint16_t size);

/* Set up an empty queue in mem (virtq_bytes(size), zeroed here) at
 * physical address paddr.  size must be a power of 2, 1..VIRTQ_MAX_SIZE:
 * returns -1 otherwise, 0 on success. */
int virtq_init(struct virtq *q, void *mem, uint64_t paddr, uint16_t size);

/* Put a chain of n buffers in the driver ring: the driver-readable ones
 * must come before the device-writable ones (the spec's rule).  Returns 0
 * and the head in *head, or -1 with nothing changed when n is 0, the rule
 * is broken, or fewer than n descriptors are free. */
int virtq_add(struct virtq *q, const struct virtq_buf *bufs, unsigned n, uint16_t *head);

/* Whether the device asked to be notified of new buffers (it may set
 * NO_NOTIFY while it is polling).  Call after virtq_add. */
int virtq_kick_needed(const struct virtq *q);

/* One completed chain: 1 with its head and the bytes written, its
 * descriptors freed; 0 if none is pending; -1 if the device reported a
 * head that is not one we gave it (a broken device: the queue is not to
 * be trusted further). */
int virtq_take_used(struct virtq *q, uint16_t *head, uint32_t *written);

#endif
