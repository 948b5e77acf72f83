/*
 * The device side of a virtio 1.x split virtqueue that lives in guest
 * memory: the VMM's devices (virtio_pci.c, virtio_blk.c) read a guest
 * driver's rings with it.  (servers/drivers/lib/virtq.[ch] is the other
 * side: Berth's own drivers.)
 *
 * How the VMM uses it
 * -------------------
 *  - It supplies guest_ptr(ctx, gpa, n): a host pointer to guest
 *    physical bytes [gpa, gpa + n), or NULL if any of them is outside
 *    guest RAM (or n == 0 with gpa outside).  Every ring and buffer
 *    access goes through it, each time, so nothing here ever touches
 *    memory outside what it returns.  virtio_pci_set_memory() hands it
 *    to every queue; a bare queue takes it in vqd_init().
 *  - vqd_enable() when the driver enables the queue (size, ring
 *    addresses already set); vqd_pop() for each available chain;
 *    vqd_push() when the device is done with one; vqd_need_interrupt()
 *    after one or more pushes.
 *  - Any violation by the guest (see vqd_pop) makes the call return -1,
 *    sets q->error to a message naming it, and breaks the queue (every
 *    later call fails) until vqd_init/vqd_reset.  The transport turns
 *    that into DEVICE_NEEDS_RESET (virtio_pci_needs_reset()).
 *
 * Validated: queue size (a power of two, 1..32768), ring alignment
 * (16/2/4) and that each ring lies inside guest RAM; avail idx moving
 * more than the queue size; head and next indexes out of range; chains
 * longer than the queue size (loops); indirect descriptors (refused:
 * VIRTIO_F_INDIRECT_DESC is not offered); a buffer outside guest RAM;
 * gpa + len wrapping; a chain totalling more than 4 GiB; more segments
 * than the caller can take.  Descriptors are copied before they are
 * checked, so a guest changing them behind our back gains nothing.
 * VIRTIO_F_EVENT_IDX is not offered.  Pure: no system calls.
 */
#ifndef VIRTQ_DEV_H
#define VIRTQ_DEV_H

#include <stddef.h>
#include <stdint.h>

#define VQD_DESC_F_NEXT     1
#define VQD_DESC_F_WRITE    2
#define VQD_DESC_F_INDIRECT 4
#define VQD_AVAIL_F_NO_INTERRUPT 1
#define VQD_MAX_SIZE 32768

typedef void *(*vqd_guest_ptr_fn)(void *ctx, uint64_t gpa, size_t n);

/* One buffer of a chain, in guest physical terms. */
struct vqd_seg {
	uint64_t gpa;
	uint32_t len;
	uint8_t writable;  /* device-writable (VIRTQ_DESC_F_WRITE) */
};

/* What vqd_pop() found. */
struct vqd_chain {
	uint16_t head;       /* give back to vqd_push() */
	unsigned nsegs;
	uint64_t out_bytes;  /* sum of device-readable lengths */
	uint64_t in_bytes;   /* sum of device-writable lengths */
};

struct vqd {
	uint16_t size;            /* set by the driver, checked at enable */
	int ready;
	int broken;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t last_avail;      /* next avail ring slot to take */
	uint16_t used_idx;        /* our copy of used->idx */
	vqd_guest_ptr_fn guest_ptr;
	void *mem_ctx;
	const char *error;        /* why it broke */
};

/* Disabled, no error; keeps guest_ptr/mem_ctx. */
void vqd_init(struct vqd *q, vqd_guest_ptr_fn guest_ptr, void *mem_ctx);
void vqd_reset(struct vqd *q);

/* Enable with q->size and the three ring addresses.  0, or -1 (q->error
 * says why: size, alignment, ring outside guest RAM). */
int vqd_enable(struct vqd *q);

/* Take the next available chain: 1 and *chain and segs[0..nsegs) filled,
 * 0 when none is available, -1 on a guest error (queue now broken).
 * max_segs is the room in segs[]; a longer chain is an error. */
int vqd_pop(struct vqd *q, struct vqd_chain *chain, struct vqd_seg *segs, unsigned max_segs);

/* Number of chains available but not yet popped (0 if not ready). */
unsigned vqd_pending(struct vqd *q);

/* Put (head, written bytes) in the used ring and publish it.  -1 if the
 * queue is not ready/broken or the used ring vanished. */
int vqd_push(struct vqd *q, uint16_t head, uint32_t len);

/* After pushes: 1 if the driver wants an interrupt (no
 * VIRTQ_AVAIL_F_NO_INTERRUPT), 0 if not. */
int vqd_need_interrupt(struct vqd *q);

/* Host pointer to a popped segment's bytes (NULL if it has gone). */
void *vqd_seg_ptr(struct vqd *q, const struct vqd_seg *s);

#endif
