/* Who holds each slot of the buffer a virtio-net driver shares with its
 * client (idl/netif.idl), and the checks on what a client sends.  Pure:
 * no system calls, so tests/unit/test_net_slots.c runs it on the host.
 *
 * Slots are numbered as the buffer lays them out: receive slots
 * 0 .. rx-1, then transmit slots rx .. rx+tx-1, 2 KiB each.
 *
 * A receive slot is on the device (posted), ready (a frame in it the
 * client has not been handed yet), or the client's.  A transmit slot is
 * the client's, on the device (queued), done (the device finished with
 * it; the client gets it back in its next transmit or reclaim reply), or
 * an orphan: on the device for a session that has ended. */
#ifndef NET_SLOTS_H
#define NET_SLOTS_H

#include <stdint.h>

#define SLOT_BYTES 2048U
#define FRAME_MIN 14U       /* an Ethernet header */
#define FRAME_MAX 1514U     /* and 1500 bytes of payload; no FCS */
#define BATCH_MAX 32U       /* the arrays of a netif call */
#define SLOTS_MAX 128U

enum slot_state {
	RX_DEVICE, RX_READY, RX_CLIENT,
	TX_CLIENT, TX_DEVICE, TX_DONE, TX_ORPHAN,
};

struct slots {
	uint16_t rx, tx;
	uint8_t state[SLOTS_MAX];
	uint16_t len[SLOTS_MAX];          /* a ready frame's length */
	uint16_t ready[SLOTS_MAX];        /* ready receive slots, oldest first */
	unsigned ready_first, ready_count;
	uint16_t done[SLOTS_MAX];         /* done transmit slots */
	unsigned done_count;
};

/* rx + tx <= SLOTS_MAX, both at least 1: 0, else -1.  Receive slots
 * start on the device (the caller posts them), transmit slots the
 * client's. */
int slots_init(struct slots *s, unsigned rx, unsigned tx);

/* The checks on a client's lists, all or nothing: 0 when every entry
 * is fine, -1 when any is not (count over BATCH_MAX, a slot out of its
 * range or not the client's, a slot named twice, a length outside
 * FRAME_MIN..FRAME_MAX).  Nothing changes. */
int slots_check_give_back(const struct slots *s, unsigned count, const uint16_t *slot);
int slots_check_transmit(const struct slots *s, unsigned count, const uint16_t *slot, const uint16_t *len);

/* The client's receive slot goes back to the device; its transmit slot
 * to the device. */
void slots_to_device(struct slots *s, uint16_t slot);

/* The length of the frame in a receive buffer the device reports
 * `written` bytes in (its header of hdr bytes first, then up to
 * SLOT_BYTES of frame); -1 when the frame is to be dropped: shorter than
 * an Ethernet header, longer than FRAME_MAX, or a length the buffer
 * cannot hold (a device not to be trusted). */
int slots_rx_length(uint32_t written, uint32_t hdr);

/* The device filled receive slot `slot` with a frame of len bytes. */
void slots_rx_ready(struct slots *s, uint16_t slot, uint16_t len);

/* Hand the client up to max ready frames: their slots and lengths;
 * returns how many. */
unsigned slots_take_ready(struct slots *s, unsigned max, uint16_t *slot, uint16_t *len);

/* The device finished transmit slot `slot`: done for the client, or the
 * client's at once if it was an orphan. */
void slots_tx_finished(struct slots *s, uint16_t slot);

/* Give the client up to max done transmit slots back; returns how many. */
unsigned slots_take_done(struct slots *s, unsigned max, uint16_t *slot);

/* The session ended: receive slots the client held or had not yet been
 * handed are listed in repost (to go back on the device; returns their
 * number) and marked on the device; done transmit slots are the next
 * client's, queued ones orphans. */
unsigned slots_end_session(struct slots *s, uint16_t *repost);

/* Transmit slots the device still holds for an ended session. */
unsigned slots_orphans(const struct slots *s);

int slots_is_rx(const struct slots *s, uint16_t slot);

#endif
