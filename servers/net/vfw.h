/*
 * The virtual firewall of the network server's switch (vswitch.h): per
 * guest port, an ordered list of rules in the spirit of Xen's virtual
 * firewall-router (VFR), and their text form.
 *
 * Pure: no I/O, no system calls, no library calls; builds for the host
 * (tests/unit/test_vfw.c) and freestanding (the network server).
 *
 * Text form of one rule (tokens separated by spaces or tabs):
 *
 *     DIR ACTION PROTO ADDR/PREFIX [PORT | LO-HI]
 *
 *   DIR     in | out    out: frames the guest sends; in: frames to the guest
 *   ACTION  accept | drop
 *   PROTO   any | tcp | udp | icmp
 *   ADDR    the other end's IPv4 address: the destination for "out", the
 *           source for "in"; dotted quad, no leading zeros, host bits
 *           (those past PREFIX) zero; PREFIX 0..32, always written
 *   PORT    the packet's destination port (tcp, udp) or ICMP type (icmp,
 *           0..255); absent: every port.  A range LO-HI has LO < HI and is
 *           not the full range.  "any" takes no port.
 *
 * e.g. "out accept tcp 10.0.2.2/32 80", "in drop any 0.0.0.0/0",
 * "in accept udp 10.0.2.0/24 5000-5100", "out drop icmp 0.0.0.0/0 8".
 * vfw_format() prints a parsed rule back in exactly this canonical form
 * (single spaces), so canonical text round-trips byte for byte.
 *
 * A port on a non-first IPv4 fragment is unknown: rules with a port do
 * not match such a fragment; rules without one do.
 *
 * Evaluation (vfw_match): the first rule of the given direction that
 * matches decides (its counters count the frame); no match: VFW_NONE,
 * and the switch applies its default policy (vswitch.h).
 */
#ifndef VFW_H
#define VFW_H

#include <stddef.h>
#include <stdint.h>

#define VFW_RULES_MAX 32
#define VFW_TEXT_MAX 64          /* longest rule text + NUL, with margin */

enum vfw_dir { VFW_IN = 0, VFW_OUT = 1 };
enum vfw_proto { VFW_ANY = 0, VFW_TCP = 6, VFW_UDP = 17, VFW_ICMP = 1 };
enum vfw_verdict { VFW_NONE = 0, VFW_ACCEPT = 1, VFW_DROP = 2 };

struct vfw_rule {
	uint8_t dir;             /* enum vfw_dir */
	uint8_t accept;          /* 1 accept, 0 drop */
	uint8_t proto;           /* enum vfw_proto */
	uint8_t prefix;          /* 0..32 */
	uint32_t addr;           /* host byte order, host bits zero */
	uint16_t port_lo, port_hi;   /* 0-65535 (0-255 icmp): every port */
	uint64_t frames, bytes;  /* counters: frames this rule decided */
};

/* What the switch knows of one IPv4 packet. */
struct vfw_pkt {
	uint8_t proto;           /* IP protocol number */
	uint8_t has_port;        /* 0: non-first fragment, or another protocol */
	uint16_t port;           /* destination port, or ICMP type */
	uint32_t src, dst;       /* host byte order */
	uint32_t len;            /* frame length, for the byte counters */
};

struct vfw {
	struct vfw_rule rule[VFW_RULES_MAX];
	unsigned count;
};

void vfw_init(struct vfw *fw);

/* Parse one rule.  0 and *r filled, or -1 with *err a message (static
 * string, e.g. "bad address '10.0.2'"-style text without the token). */
int vfw_parse(const char *text, struct vfw_rule *r, const char **err);

/* Canonical text of a rule into buf (NUL-terminated); its length, or -1
 * if len is too small (VFW_TEXT_MAX always suffices). */
int vfw_format(const struct vfw_rule *r, char *buf, size_t len);

/* Insert a rule at position pos (0 = first; pos >= count appends), with
 * zero counters.  0, or -1 if the list is full. */
int vfw_insert(struct vfw *fw, unsigned pos, const struct vfw_rule *r);
/* Remove the rule at pos.  0, or -1 if there is none. */
int vfw_delete(struct vfw *fw, unsigned pos);

/* The first rule of direction dir matching p decides; its counters
 * count p->len.  For "out" the rule's address is matched against p->dst,
 * for "in" against p->src. */
enum vfw_verdict vfw_match(struct vfw *fw, enum vfw_dir dir, const struct vfw_pkt *p);

#endif
