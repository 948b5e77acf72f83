/*
 * The virtio-net device model (virtio 1.x, device type 1) on top of
 * virtio_pci.h and virtq_dev.h.  Nothing here moves frames off the VM: a
 * backend the VMM supplies (vnet_link.c: the network server's switch)
 * takes the frames the guest sends, and the VMM hands the model the
 * frames that arrive for the guest.
 *
 * How the VMM uses it
 * -------------------
 *  1. virtio_net_init(&n, mac, &backend, link_up), then set up n.vp as
 *     virtio_pci.h says (virtio_pci_set_memory, virtio_pci_set_irq,
 *     pci_register) and route its MMIO (BAR 4) to virtio_pci_mmio_*.
 *  2. Transmit: when the guest kicks queue 1, the model gathers each chain
 *     into one frame and calls backend.transmit(ctx, frame, len) (frame
 *     valid during the call only).  The backend returns 0 sent, or nonzero
 *     dropped (counted).  The chain goes back to the guest either way, as
 *     a NIC's transmit ring does.
 *  3. Receive: virtio_net_receive(&n, frame, len) puts one frame into the
 *     next receive buffer the guest posted (queue 0): 0 delivered, -1 no
 *     buffer posted (or the driver is not ready: the caller drops it, as
 *     a NIC with a full ring does; counted), -2 a frame of a bad length
 *     (counted).  When the guest posts receive buffers the model calls
 *     backend.rx_ready(ctx) (may be 0), so that frames waiting elsewhere
 *     can come in.
 *  4. virtio_net_set_link(&n, up): the STATUS field's LINK_UP and a
 *     configuration-change interrupt: the guest sees a cable pulled out
 *     or plugged in (the switch lost and found again).
 *
 * Features offered: MAC, STATUS (and VERSION_1 from the transport).  No
 * checksum offload, no GSO, no MRG_RXBUF, no control queue, no
 * multiqueue: each receive buffer must hold the 12-byte header and a
 * whole frame (Linux posts 1518-byte buffers after the header then).
 * Queue 0 receive, queue 1 transmit.  Frames are 14..1514 bytes, no FCS.
 * A transmit chain with a device-writable buffer, or a receive chain with
 * a device-readable one, breaks the rules: DEVICE_NEEDS_RESET.  A receive
 * buffer too small for the frame: the frame is dropped (counted) and the
 * buffer returned empty.  Pure: no system calls.
 */
#ifndef VIRTIO_NET_H
#define VIRTIO_NET_H

#include <stddef.h>
#include <stdint.h>
#include "virtio_pci.h"

#define VIRTIO_ID_NET 1

#define VIRTIO_NET_F_MAC    5
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_S_LINK_UP 1

#define VNET_QUEUE_SIZE 256
#define VNET_HDR_LEN    12     /* virtio_net_hdr with num_buffers (always, in 1.x) */
#define VNET_FRAME_MIN  14
#define VNET_FRAME_MAX  1514
#define VNET_CONFIG_LEN 8      /* mac[6], status */
#define VNET_RXQ 0
#define VNET_TXQ 1

struct vnet_backend {
	int (*transmit)(void *ctx, const uint8_t *frame, size_t len);
	void (*rx_ready)(void *ctx);
	void *ctx;
};

struct vnet_stats {
	uint64_t rx_frames, rx_bytes, rx_no_buffer, rx_dropped;  /* to the guest */
	uint64_t tx_frames, tx_bytes, tx_dropped;                /* from the guest */
};

struct virtio_net {
	struct virtio_pci vp;
	struct vnet_backend backend;
	uint8_t config[VNET_CONFIG_LEN];
	struct vnet_stats stats;
	int processing;                     /* re-entrancy guard */
	uint8_t frame[VNET_HDR_LEN + VNET_FRAME_MAX];
};

void virtio_net_init(struct virtio_net *n, const uint8_t mac[6], const struct vnet_backend *backend, int link_up);
int virtio_net_receive(struct virtio_net *n, const uint8_t *frame, size_t len);
void virtio_net_set_link(struct virtio_net *n, int up);
void virtio_net_set_mac(struct virtio_net *n, const uint8_t mac[6]);
/* Send what the guest queued (queue notify does it; the VMM may too). */
void virtio_net_transmit(struct virtio_net *n);

#endif
