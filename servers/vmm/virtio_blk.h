/*
 * The virtio-blk device model (virtio 1.x, device type 2) on top of
 * virtio_pci.h and virtq_dev.h.  Nothing here does I/O: a backend the
 * VMM supplies (later: calls to the fs server) moves the sectors.
 *
 * How the VMM uses it
 * -------------------
 *  1. Fill a struct vblk_backend: ops (read, write, flush), ctx,
 *     capacity in 512-byte sectors, read_only.  Call
 *     virtio_blk_init(&blk, &backend, serial), then set up blk.vp exactly
 *     as virtio_pci.h says (virtio_pci_set_memory, virtio_pci_set_irq,
 *     pci_register(bus, slot, 0, &blk.vp.pci)) and route its MMIO.
 *  2. The backend starts each request and returns; when it is done
 *     (inside the call, or later from the VMM's event loop when the fs
 *     server answers) it calls virtio_blk_complete(blk, req, status)
 *     exactly once per request, with VIRTIO_BLK_S_OK or _IOERR.
 *       read(ctx, req, sector, iov, niov):  fill the buffers (host
 *         pointers into guest RAM, valid until completion) from
 *         `sector` on; total is a multiple of 512, in range.
 *       write(ctx, req, sector, iov, niov): store them.  Completing a
 *         write means it is acknowledged (readable back), not that it is
 *         durable.
 *       flush(ctx, req): make every write completed so far durable.
 *         The model calls it only once every write the guest submitted
 *         before the flush has completed, so a flush completes only
 *         after every earlier acknowledged write is durable.
 *  3. On a device reset, requests still with the backend are orphaned:
 *     their completion is swallowed (the guest's buffers are not
 *     touched again by the model, though a backend still running may
 *     write the iov; the VMM should let those finish before reusing
 *     guest memory -- it does not free guest RAM while running).
 *
 * Features offered: SIZE_MAX (a segment's largest size), SEG_MAX,
 * BLK_SIZE (512), FLUSH, RO when read_only.  Request layout: a 16-byte
 * header (type, reserved, sector) in the device-readable part, data, a
 * status byte as the last device-writable byte; segment boundaries do
 * not matter (ANY_LAYOUT, as virtio 1.x requires).  T_IN, T_OUT,
 * T_FLUSH, T_GET_ID (the serial, up to 20 bytes); other types UNSUPP.
 * Sectors past the end, a write to a read-only disk, a length that is
 * not a multiple of 512 or a short header: IOERR.  No writable byte
 * for the status, or a readable buffer after a writable one: the guest
 * broke the rules, DEVICE_NEEDS_RESET.
 */
#ifndef VIRTIO_BLK_H
#define VIRTIO_BLK_H

#include <stddef.h>
#include <stdint.h>
#include "virtio_pci.h"

#define VIRTIO_ID_BLOCK 2

#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX  2
#define VIRTIO_BLK_F_RO       5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH    9

#define VIRTIO_BLK_T_IN     0
#define VIRTIO_BLK_T_OUT    1
#define VIRTIO_BLK_T_FLUSH  4
#define VIRTIO_BLK_T_GET_ID 8

#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2

#define VBLK_QUEUE_SIZE 64                    /* offered queue size */
#define VBLK_SEG_MAX    (VBLK_QUEUE_SIZE - 2) /* data segments per request */
#define VBLK_SIZE_MAX   (1u << 20)            /* bytes per segment */
#define VBLK_ID_BYTES   20
#define VBLK_CONFIG_LEN 0x3c                  /* through the 1.1 fields */

struct vblk_iov {
	void *base;   /* host address of guest RAM */
	size_t len;
};

struct vblk_req;

struct vblk_backend_ops {
	void (*read)(void *ctx, struct vblk_req *req, uint64_t sector, const struct vblk_iov *iov, unsigned niov);
	void (*write)(void *ctx, struct vblk_req *req, uint64_t sector, const struct vblk_iov *iov, unsigned niov);
	void (*flush)(void *ctx, struct vblk_req *req);
};

struct vblk_backend {
	const struct vblk_backend_ops *ops;
	void *ctx;
	uint64_t capacity;  /* 512-byte sectors */
	int read_only;
};

enum vblk_req_state {
	VBLK_FREE,
	VBLK_BUSY,        /* with the backend */
	VBLK_FLUSH_WAIT,  /* a flush waiting for earlier writes */
	VBLK_ORPHAN,      /* with the backend across a reset */
};

struct vblk_req {
	enum vblk_req_state state;
	uint32_t type;
	uint64_t seq;          /* submission order */
	uint16_t head;
	uint32_t used_len;     /* bytes written to the guest, status included */
	uint8_t *status;       /* host pointer to the status byte */
	struct vblk_iov iov[VBLK_SEG_MAX + 2];
	unsigned niov;
	struct virtio_blk *blk;
};

struct virtio_blk {
	struct virtio_pci vp;
	struct vblk_backend backend;
	uint8_t config[VBLK_CONFIG_LEN];
	char serial[VBLK_ID_BYTES];
	uint64_t next_seq;
	struct vblk_req reqs[VBLK_QUEUE_SIZE];
	unsigned completing;   /* re-entrancy guard for inline completions */
	uint64_t stats_requests, stats_errors;
};

/* serial: up to 20 bytes (NUL-terminated if shorter), or NULL. */
void virtio_blk_init(struct virtio_blk *blk, const struct vblk_backend *backend, const char *serial);

/* The backend finished req (status VIRTIO_BLK_S_OK or _IOERR). */
void virtio_blk_complete(struct virtio_blk *blk, struct vblk_req *req, uint8_t status);

/* Look at the queue again (the VMM may call it; queue notify does). */
void virtio_blk_process(struct virtio_blk *blk);

#endif
