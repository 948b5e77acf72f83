/* A netif client for the virtio-net tests (net_client.c): look the NIC
 * up, attach with a port of our own, map the buffer, send and receive
 * whole Ethernet frames.  It speaks idl/netif.idl exactly as a network
 * server would, one frame at a time. */
#ifndef NET_CLIENT_H
#define NET_CLIENT_H

#include <stdint.h>

#define NET_MAX_PAGES 64
#define NET_FRAME_MAX 1514

struct net_client {
	const char *nic, *name;   /* the published name; ours for attach */
	uint64_t vaddr;           /* where the buffer maps */
	uint64_t published, session;
	uint64_t port, port_send; /* ours: the driver's bit 1, our timer's bit 2 */
	uint64_t frames[NET_MAX_PAGES];
	uint32_t pages, rx, tx;
	uint64_t mac;
	uint16_t tx_free[NET_MAX_PAGES * 2];
	unsigned tx_free_count;
	uint16_t give[32];        /* receive slots to give back */
	unsigned give_count;
	uint16_t got_slot[32], got_len[32];
	unsigned got_first, got_count;
	uint64_t wakes;           /* notifications from the driver seen */
};

/* Look up (retrying while the driver restarts, about `tries` times 10
 * ms), attach, map; 0 or an error. */
long net_connect(struct net_client *c, int tries);
/* Drop the rights and slots of an earlier connection (after the driver
 * died, or to act as a client that vanished without detaching). */
void net_forget(struct net_client *c);
/* Send one frame (len 14..1514): 0 or the driver's error. */
long net_send(struct net_client *c, const void *frame, unsigned len);
/* The next frame, copied to buf (up to max bytes; *len its length),
 * waiting up to `ticks` (10 ms each): 0, E_TIMEOUT-like E_LIMIT when
 * nothing came, or the driver's error. */
long net_recv(struct net_client *c, void *buf, unsigned max, unsigned *len, uint64_t ticks);
/* A driver error after which the client must look the name up again. */
int net_gone(long err);

#endif
