/*
 * The virtio-balloon device model (virtio 1.x, device type 5) on top of
 * virtio_pci.h and virtq_dev.h: the host asks for a number of pages, the
 * guest's driver gives that many up (inflate) or takes them back
 * (deflate), naming each by its 4 KiB page frame number.  What giving up
 * means is the backend's (balloon.c: whole 2 MiB regions go back to
 * init).
 *
 * How the VMM uses it
 * -------------------
 *  1. virtio_balloon_init(&b, &backend), then set up b.vp as virtio_pci.h
 *     says and route its MMIO (BAR 4) to virtio_pci_mmio_*.
 *  2. virtio_balloon_set_target(&b, pages): num_pages in the config and a
 *     configuration-change interrupt; the driver inflates or deflates
 *     toward it and writes what it holds to `actual`.
 *  3. For each PFN the guest puts in the inflate queue (0) the model calls
 *     backend.inflate(ctx, pfn), in the deflate queue (1)
 *     backend.deflate(ctx, pfn); the backend says whether the PFN was
 *     guest RAM (counted as refused if not: a driver bug or a hostile
 *     guest, never an error that stops the device).  Each chain goes back
 *     used, after every PFN in it was handled: with MUST_TELL_HOST the
 *     driver waits for that before it touches a page it takes back.
 *
 * Features offered: MUST_TELL_HOST.  No stats queue, no free-page hints,
 * no page poisoning, no deflate-on-OOM (the guest does not take pages
 * back on its own when short of memory).  A chain with a device-writable
 * buffer breaks the rules: DEVICE_NEEDS_RESET.  A buffer's length that is
 * not a multiple of 4 has its tail ignored.  Pure: no system calls.
 */
#ifndef VIRTIO_BALLOON_H
#define VIRTIO_BALLOON_H

#include <stdint.h>
#include "virtio_pci.h"

#define VIRTIO_ID_BALLOON 5
#define VIRTIO_BALLOON_F_MUST_TELL_HOST 0
#define VBALLOON_QUEUE_SIZE 128
#define VBALLOON_CONFIG_LEN 8     /* num_pages, actual: little-endian 32-bit */
#define VBALLOON_INFLATEQ 0
#define VBALLOON_DEFLATEQ 1

struct vballoon_backend {
	int (*inflate)(void *ctx, uint32_t pfn);   /* 0, or -1: not a page of guest RAM */
	int (*deflate)(void *ctx, uint32_t pfn);
	void *ctx;
};

struct vballoon_stats {
	uint64_t inflated, deflated, refused;     /* PFNs */
};

struct virtio_balloon {
	struct virtio_pci vp;
	struct vballoon_backend backend;
	uint32_t num_pages;     /* the host's target */
	uint32_t actual;        /* what the driver says it holds */
	struct vballoon_stats stats;
};

void virtio_balloon_init(struct virtio_balloon *b, const struct vballoon_backend *backend);
void virtio_balloon_set_target(struct virtio_balloon *b, uint32_t pages);

#endif
