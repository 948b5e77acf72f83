/*
 * The network server's virtual switch: Ethernet frames between the
 * uplink (the virtio-net driver, through NAT later), Berth's own lwIP
 * interface, and one port per guest NIC, with the firewall of vfw.h.
 *
 * Pure: no I/O, no system calls, no library calls (the compiler may
 * emit memset for zeroing structures); frames are byte buffers.  Builds
 * for the host (tests/unit/test_vswitch.c) and freestanding (the network
 * server: link.c and guests.c call it).
 *
 * HOW THE NETWORK SERVER CALLS IT (all under the server's one lock):
 *
 *   static struct vswitch sw;                    // one, static (~20 KiB)
 *   vsw_init(&sw, deliver, ctx);
 *   vsw_port_set(&sw, VSW_UPLINK, VSW_KIND_UPLINK, 0, 0);        // port 0
 *   vsw_port_set(&sw, VSW_LOCAL, VSW_KIND_LOCAL, eth.hwaddr, 0);  // port 1
 *   vsw_port_set(&sw, 2 + i, VSW_KIND_GUEST, mac, ip);   // a guest NIC
 *   vfw_parse(text, &rule, &err); vfw_insert(&sw.port[p].fw, pos, &rule);
 *
 *   Frames IN: every frame that arrives on a port is handed to
 *     vsw_input(&sw, port, frame, len)  -- len is the Ethernet frame
 *     without FCS (14..1514 bytes, no VLAN tag), frame need not be aligned:
 *       - port 0: each frame link.c receives from the driver (instead of
 *         giving it to lwIP directly);
 *       - port 1: each frame lwIP's netif linkoutput wants to send;
 *       - port N >= 2: each frame a guest's VMM transmits (virtio-net
 *         transmit queue).
 *   Frames OUT: the switch calls back
 *     deliver(ctx, port, frame, len)
 *     zero or more times per vsw_input (several for a flood), never for
 *     the port the frame came from.  frame points into the caller's
 *     buffer and is valid only during the call: the callback copies it
 *     (port 0: into a driver transmit slot; port 1: into a pbuf passed to
 *     lwIP's netif input; port N: into the guest's receive queue).  If it
 *     cannot (queue full, peer dead) it drops the frame itself and returns
 *     nonzero; the switch counts that as a drop toward the port
 *     (VSW_DROP_FULL).  The callback must not call vsw_input (no
 *     re-entry): a frame for another port is queued and input later.
 *
 *   Port down (a guest's VMM gone, the driver lost): vsw_port_down(),
 *   which also forgets the addresses learned on it; vsw_port_set() again
 *   when it is back (rules and counters stay with the port).
 *
 * Policy:
 *   - Guest ports have a configured MAC and IPv4 address and no learning:
 *     a frame from a guest must have that source MAC (Ethernet and ARP
 *     sender) and that source IP (ARP sender; IPv4 source, except
 *     0.0.0.0 for DHCP, UDP 68 -> 67), else it is dropped as spoofed.
 *     Guests send and receive only ARP and IPv4 (other types: dropped).
 *   - The uplink and the local port learn source MACs (up to VSW_MACS,
 *     least recently seen replaced); a source MAC that is multicast, zero,
 *     or configured on another port (a guest's, lwIP's) is dropped as
 *     spoofed and never learned.  If the local port was given lwIP's MAC,
 *     it may send only from that MAC.
 *   - Unicast to a configured MAC (a guest's, lwIP's) goes to that port;
 *     to a learned MAC to its port; an unknown unicast is flooded to the
 *     ports without a configured MAC only: the uplink, and the local port
 *     if it was not given lwIP's MAC.  Broadcast and multicast are
 *     flooded to every up port but the one it came from.
 *   - Firewall, for IPv4 frames between a guest and any other port: the
 *     sending guest's "out" rules, then (unless they dropped it) the
 *     receiving guest's "in" rules are evaluated: the first match of each
 *     list decides for it and counts the frame.  A DROP in either drops;
 *     else an ACCEPT in either accepts; if no rule matched, the default: guest <-> guest
 *     DROPPED (guests are isolated), guest <-> local (Berth's stack) and
 *     guest <-> uplink ACCEPTED.  ARP is not filtered by rules (it is
 *     checked for spoofing), so guests can resolve each other's MACs;
 *     frames between the uplink and the local port pass unfiltered.
 *   - Malformed frames (short, long, bad ARP, bad IPv4 header: version,
 *     IHL, total length, checksum; truncated TCP/UDP/ICMP header) are
 *     dropped and counted; no length field is trusted.
 *
 * Counters per port: "from" = frames the port sent into the switch,
 * "to" = frames toward the port; each has frames/bytes accepted and
 * dropped, and last_drop the reason of the port's most recent drop.
 * A unicast refused by the firewall counts as a drop both from the
 * sender and to the receiver; a flood counts as accepted from the sender
 * and as accepted or dropped to each receiver.
 */
#ifndef VSWITCH_H
#define VSWITCH_H

#include <stddef.h>
#include <stdint.h>
#include "vfw.h"

#define VSW_PORTS 16
#define VSW_UPLINK 0
#define VSW_LOCAL 1
#define VSW_FIRST_GUEST 2
#define VSW_MACS 64
#define VSW_FRAME_MIN 14
#define VSW_FRAME_MAX 1514

enum vsw_kind { VSW_KIND_NONE = 0, VSW_KIND_UPLINK, VSW_KIND_LOCAL, VSW_KIND_GUEST };

enum vsw_reason {
	VSW_OK = 0,
	VSW_DROP_PORT,        /* from or to a port that is not up */
	VSW_DROP_RUNT,        /* shorter than an Ethernet header */
	VSW_DROP_OVERSIZE,    /* longer than VSW_FRAME_MAX */
	VSW_DROP_ETHERTYPE,   /* not ARP or IPv4, from or to a guest */
	VSW_DROP_ARP,         /* malformed ARP */
	VSW_DROP_IP,          /* malformed IPv4 header */
	VSW_DROP_L4,          /* truncated TCP/UDP/ICMP header */
	VSW_DROP_SPOOF_MAC,   /* source MAC not the port's (or a guest's / multicast) */
	VSW_DROP_SPOOF_IP,    /* source IP not the guest's */
	VSW_DROP_FIREWALL,    /* a rule or the default policy */
	VSW_DROP_FULL,        /* the deliver callback could not take it */
	VSW_DROP_HAIRPIN,     /* destination is the port it came from */
	VSW_REASONS
};

const char *vsw_reason_name(enum vsw_reason r);

struct vsw_count {
	uint64_t frames, bytes;          /* accepted */
	uint64_t dropped, dropped_bytes;
};

struct vsw_port {
	uint8_t kind;                    /* enum vsw_kind; NONE: unused */
	uint8_t up;
	uint8_t mac[6];                  /* guest: its MAC; local: lwIP's (0: learn) */
	uint32_t ip;                     /* guest: its IPv4, host byte order */
	struct vsw_count from, to;
	uint8_t last_drop;               /* enum vsw_reason */
	uint64_t drops[VSW_REASONS];     /* drops by reason, both directions */
	struct vfw fw;                   /* guest ports only */
};

struct vsw_mac {
	uint8_t mac[6];
	uint8_t port;
	uint8_t used;
	uint64_t stamp;                  /* last seen, in frames input */
};

/* Deliver a frame to a port; 0 done, nonzero dropped (see above). */
typedef int (*vsw_deliver_fn)(void *ctx, unsigned port, const uint8_t *frame, size_t len);

struct vswitch {
	struct vsw_port port[VSW_PORTS];
	struct vsw_mac mac[VSW_MACS];
	uint64_t clock;                  /* frames input so far */
	vsw_deliver_fn deliver;
	void *ctx;
};

/* What vsw_parse found in a frame. */
struct vsw_frame {
	const uint8_t *dst_mac, *src_mac;
	uint16_t type;                   /* ethertype */
	uint8_t is_arp, is_ip;
	uint32_t arp_sip, arp_tip;       /* ARP sender / target IP */
	const uint8_t *arp_sha;
	struct vfw_pkt ip;               /* IPv4: addresses, protocol, port */
	uint16_t sport;                  /* TCP/UDP source port if has_port */
};

void vsw_init(struct vswitch *sw, vsw_deliver_fn deliver, void *ctx);

/* Configure port p (0..VSW_PORTS-1) and bring it up: the uplink on
 * port 0, the local port on 1, guests on 2..15.  mac may be 0 (uplink;
 * local: learned).  A guest needs a MAC; a MAC given must be unicast,
 * non-zero and not configured on another port.  Rules and counters are kept if the port was set
 * before with the same kind, reset otherwise.  0, or -1 refused. */
int vsw_port_set(struct vswitch *sw, unsigned p, enum vsw_kind kind, const uint8_t *mac, uint32_t ip);
void vsw_port_down(struct vswitch *sw, unsigned p);

/* A frame arrives on port p (see the top of this file).  VSW_OK if the
 * switch accepted it (a unicast handed to deliver, even if deliver then
 * dropped it; a flood offered to every port, each copy subject to the
 * firewall), else the reason it was dropped, as counted on p's "from"
 * side: malformed, spoofed, or a unicast refused by the firewall or to a
 * port that is down. */
enum vsw_reason vsw_input(struct vswitch *sw, unsigned p, const uint8_t *frame, size_t len);

/* Parse and check a frame without forwarding it: VSW_OK or the reason. */
enum vsw_reason vsw_parse(const uint8_t *frame, size_t len, struct vsw_frame *f);

/* The port a MAC was learned on, or -1. */
int vsw_lookup(const struct vswitch *sw, const uint8_t *mac);

#endif
