/* A fake guest NIC on the network server's switch (vswitch_guest.c):
 * attach under a VM name with a port of ours, map the server's buffer,
 * send and receive whole Ethernet frames, as a VMM's virtio-net would,
 * one frame at a time (tests/system/vswitch_*.c). */
#ifndef VSWITCH_GUEST_H
#define VSWITCH_GUEST_H

#include <stdint.h>

struct vsw_guest {
	const char *name;         /* the VM name */
	uint64_t vaddr;           /* where the buffer maps (64 pages at most) */
	uint64_t session, frames[64];
	uint32_t pages, rx, tx, ip, prefix, gateway;
	uint64_t mac;
	uint16_t tx_free[64];
	unsigned tx_free_count;
	uint16_t give[32];
	unsigned give_count;
};

/* Our port (the switch's notify bit 1, our timer's bit 2): made once. */
long vsw_guest_port(uint64_t *send);
/* Sleep one 10 ms tick on our port. */
void vsw_guest_nap(void);
/* attach on the published port sw, asking for the address g->ip (0: any;
 * a second attach asks for the one the first got), map the buffer: 0 or
 * an error. */
long vsw_guest_attach(struct vsw_guest *g, uint64_t sw);
/* One frame out: 0 or the server's error. */
long vsw_guest_send(struct vsw_guest *g, const uint8_t *frame, unsigned len);
/* Frames for g, each copied to buf (2048 bytes), until want(buf, len)
 * says yes or ticks (10 ms) pass: that frame's length, or 0. */
unsigned vsw_guest_recv(struct vsw_guest *g, uint8_t *buf, int (*want)(const uint8_t *buf, unsigned len),
                        int ticks);

#endif
