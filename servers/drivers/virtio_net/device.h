/* The virtio-net device (virtio 1.1 spec 5.1) behind the virtio PCI
 * transport: bring-up, the receive queue (0) and the transmit queue (1),
 * and the interrupt.  It moves frames between the device and the slots
 * of the shared buffer; who holds a slot is slots.c's business, what a
 * client may do is main.c's. */
#ifndef NET_DEVICE_H
#define NET_DEVICE_H

#include <stdint.h>
#include "slots.h"

/* What the device's frames did since the caller last asked. */
struct net_counters {
	uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
	uint64_t rx_dropped;     /* malformed from the wire (slots_rx_length) */
	uint64_t rx_unclaimed;   /* well formed, but no client to take them */
	uint64_t errors;         /* transmit requests refused */
};

/* Events netdev_reap and netdev_interrupt report. */
#define NET_EV_RX 1          /* a frame is ready for the client */
#define NET_EV_TX 2          /* a transmit slot is done */
#define NET_EV_LINK 4        /* the link changed */

/* Bring the device up (map its registers through the PCI session,
 * reset, features, both queues, DRIVER_OK) and post every receive slot;
 * page_paddr[i] is the physical address of the shared buffer's page i.
 * 0, or an error after telling why on the debug line. */
long netdev_up(uint64_t session, struct slots *s, const uint64_t *page_paddr);

/* The MAC address (first byte lowest), whether the link is up. */
uint64_t netdev_mac(void);
int netdev_link_up(void);
uint16_t netdev_rx_queue_size(void);

/* Put a receive slot back on the device; netdev_kick_rx after a batch. */
void netdev_post_rx(uint16_t slot);
void netdev_kick_rx(void);

/* Queue a transmit slot's len bytes; netdev_kick_tx after a batch. */
void netdev_queue_tx(uint16_t slot, uint16_t len);
void netdev_kick_tx(void);

/* Take what the device has finished from both used rings: frames become
 * ready (or, with no client, go straight back to the device), transmit
 * slots done.  Returns NET_EV_ bits; exits the driver (init restarts
 * it) if the device reports a buffer it was never given. */
int netdev_reap(struct slots *s, struct net_counters *c, int have_client);

/* The interrupt: read (and so clear) the ISR, acknowledge the handler,
 * reap, and read the link status on a configuration change. */
int netdev_interrupt(uint64_t irq_handler, struct slots *s, struct net_counters *c, int have_client);

#endif
