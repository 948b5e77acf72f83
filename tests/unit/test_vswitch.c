/* Host unit tests for servers/net/vswitch.c (with vfw.c): forwarding by
 * destination MAC, learning on the uplink and local ports only,
 * flooding, spoofed source MAC/IP from guests dropped and counted, the
 * default isolation of guests and rules that open or close it, other
 * ethertypes, malformed frames of every kind, ports going down, a full
 * receiver, the MAC table's size, and a bounded seeded fuzz of random,
 * mutated and truncated frames (each in a buffer of exactly its length,
 * so ASan sees any read past the end). */
// unit-under-test: servers/net/vswitch.c servers/net/vfw.c
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "../../servers/net/vswitch.h"

static struct vswitch sw;

/* what the deliver callback saw */
#define LOG_MAX 64
static struct { unsigned port; size_t len; } logv[LOG_MAX];
static unsigned nlog, total_delivered;
static unsigned full_port = 99;      /* the port whose queue is "full" */
static unsigned last_in_port;
static size_t last_in_len;
static int deliver_bad;              /* delivered to the ingress port or with another length */

static int deliver(void *ctx, unsigned port, const uint8_t *frame, size_t len)
{
	(void)ctx;
	volatile uint8_t sink = 0;
	for (size_t i = 0; i < len; i++)   /* touch every byte: ASan checks */
		sink ^= frame[i];
	(void)sink;
	if (port == last_in_port || len != last_in_len || port >= VSW_PORTS)
		deliver_bad = 1;
	total_delivered++;
	if (nlog < LOG_MAX) {
		logv[nlog].port = port;
		logv[nlog].len = len;
		nlog++;
	}
	return port == full_port;
}

/* Input a frame from port p, in a heap copy of exactly len bytes.
 * Returns the reason; the ports it reached are a bitmask in *mask. */
static enum vsw_reason in(unsigned p, const uint8_t *frame, size_t len, unsigned *mask)
{
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, frame, len);
	nlog = 0;
	last_in_port = p;
	last_in_len = len;
	enum vsw_reason r = vsw_input(&sw, p, copy, len);
	free(copy);
	unsigned m = 0;
	for (unsigned i = 0; i < nlog; i++)
		m |= 1u << logv[i].port;
	if (mask)
		*mask = m;
	return r;
}

static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t GW[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };     /* on the uplink */
static const uint8_t LOCAL[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };  /* lwIP */
static const uint8_t G2[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t G3[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x03 };
static const uint8_t G4[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x04 };
#define IP_GW    0x0a000202u
#define IP_LOCAL 0x0a000264u
#define IP2 0x0a00020fu
#define IP3 0x0a000210u
#define IP4 0x0a000211u

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }

static size_t eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, unsigned type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, type);
	return 14;
}

static size_t arp(uint8_t *f, const uint8_t *dst, const uint8_t *src, const uint8_t *sha,
                  uint32_t sip, uint32_t tip, unsigned op)
{
	size_t n = eth(f, dst, src, 0x0806);
	uint8_t *a = f + n;
	put16(a, 1); put16(a + 2, 0x0800); a[4] = 6; a[5] = 4; put16(a + 6, op);
	memcpy(a + 8, sha, 6); put32(a + 14, sip);
	memset(a + 18, 0, 6); put32(a + 24, tip);
	return n + 28;
}

static void ip_sum(uint8_t *ip, unsigned ihl)
{
	put16(ip + 10, 0);
	uint32_t s = 0;
	for (unsigned i = 0; i < ihl; i += 2)
		s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	put16(ip + 10, ~s & 0xffff);
}

/* An IPv4 frame with an 8-byte payload after the L4 header. */
static size_t ipv4(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint32_t sip, uint32_t dip,
                   unsigned proto, unsigned sport, unsigned dport)
{
	size_t n = eth(f, dst, src, 0x0800);
	uint8_t *ip = f + n, *l4 = ip + 20;
	unsigned l4len = proto == 6 ? 20 : 8;
	memset(ip, 0, 20 + l4len + 8);
	ip[0] = 0x45; put16(ip + 2, 20 + l4len + 8); ip[8] = 64; ip[9] = (uint8_t)proto;
	put32(ip + 12, sip); put32(ip + 16, dip);
	ip_sum(ip, 20);
	if (proto == 6) {
		put16(l4, sport); put16(l4 + 2, dport); l4[12] = 5 << 4;
	} else if (proto == 17) {
		put16(l4, sport); put16(l4 + 2, dport); put16(l4 + 4, 16);
	} else if (proto == 1) {
		l4[0] = (uint8_t)dport;
	}
	return n + 20 + l4len + 8;
}

static void setup(void)
{
	vsw_init(&sw, deliver, 0);
	full_port = 99;
	vsw_port_set(&sw, VSW_UPLINK, VSW_KIND_UPLINK, 0, 0);
	vsw_port_set(&sw, VSW_LOCAL, VSW_KIND_LOCAL, LOCAL, 0);
	vsw_port_set(&sw, 2, VSW_KIND_GUEST, G2, IP2);
	vsw_port_set(&sw, 3, VSW_KIND_GUEST, G3, IP3);
	vsw_port_set(&sw, 4, VSW_KIND_GUEST, G4, IP4);
}

static void add_rule(unsigned port, const char *text)
{
	struct vfw_rule r;
	const char *err;
	if (vfw_parse(text, &r, &err) || vfw_insert(&sw.port[port].fw, 99, &r)) {
		printf("# bad test rule '%s'\n", text);
		abort();
	}
}

static void test_ports(void)
{
	vsw_init(&sw, deliver, 0);
	CHECK(vsw_port_set(&sw, 0, VSW_KIND_GUEST, G2, IP2) == -1, "a guest on port 0 refused");
	CHECK(vsw_port_set(&sw, 2, VSW_KIND_UPLINK, 0, 0) == -1, "the uplink on port 2 refused");
	CHECK(vsw_port_set(&sw, 2, VSW_KIND_LOCAL, LOCAL, 0) == -1, "the local port on port 2 refused");
	CHECK(vsw_port_set(&sw, VSW_PORTS, VSW_KIND_GUEST, G2, IP2) == -1, "port 16 refused");
	CHECK(vsw_port_set(&sw, 2, VSW_KIND_GUEST, 0, IP2) == -1, "a guest without a MAC refused");
	CHECK(vsw_port_set(&sw, 2, VSW_KIND_GUEST, BCAST, IP2) == -1, "a multicast guest MAC refused");
	CHECK(vsw_port_set(&sw, 2, VSW_KIND_GUEST, (const uint8_t[6]){0}, IP2) == -1, "a zero guest MAC refused");
	CHECK(vsw_port_set(&sw, 2, VSW_KIND_GUEST, G2, IP2) == 0, "guest on port 2");
	CHECK(vsw_port_set(&sw, 3, VSW_KIND_GUEST, G2, IP3) == -1, "the same MAC on a second guest refused");
	CHECK(vsw_port_set(&sw, 2, VSW_KIND_GUEST, G2, IP2) == 0, "setting a port again with its own MAC");
	CHECK(vsw_port_set(&sw, 15, VSW_KIND_GUEST, G3, IP3) == 0, "guest on port 15");
	CHECK(vsw_port_set(&sw, VSW_LOCAL, VSW_KIND_LOCAL, G3, 0) == -1, "lwIP given a guest's MAC refused");
	CHECK(vsw_port_set(&sw, VSW_LOCAL, VSW_KIND_LOCAL, LOCAL, 0) == 0, "lwIP's own MAC");
	CHECK(vsw_port_set(&sw, 4, VSW_KIND_GUEST, LOCAL, IP4) == -1, "a guest given lwIP's MAC refused");
	CHECK(strcmp(vsw_reason_name(VSW_DROP_SPOOF_IP), "spoofed ip") == 0 &&
	      strcmp(vsw_reason_name((enum vsw_reason)99), "?") == 0, "reason names");
}

static void test_forwarding(void)
{
	setup();
	uint8_t f[128];
	unsigned m;
	size_t n = ipv4(f, G2, GW, IP_GW, IP2, 17, 53, 4000);
	CHECK(in(0, f, n, &m) == VSW_OK && m == 1u << 2, "uplink -> guest 2 by its MAC only (mask %#x)", m);
	CHECK(vsw_lookup(&sw, GW) == 0, "the gateway's MAC learned on the uplink");
	n = ipv4(f, GW, G2, IP2, IP_GW, 17, 4000, 53);
	CHECK(in(2, f, n, &m) == VSW_OK && m == 1u << 0, "guest 2 -> the gateway: uplink only (%#x)", m);
	CHECK(vsw_lookup(&sw, G2) == -1, "a guest's MAC is never learned");
	n = ipv4(f, G3, LOCAL, IP_LOCAL, IP3, 6, 80, 40000);
	CHECK(in(1, f, n, &m) == VSW_OK && m == 1u << 3, "local -> guest 3 only (%#x)", m);
	CHECK(vsw_lookup(&sw, LOCAL) == 1, "lwIP's MAC learned on the local port");
	n = ipv4(f, LOCAL, G3, IP3, IP_LOCAL, 6, 40000, 80);
	CHECK(in(3, f, n, &m) == VSW_OK && m == 1u << 1, "guest 3 -> local only (%#x)", m);
	n = ipv4(f, LOCAL, GW, IP_GW, IP_LOCAL, 6, 80, 1234);
	CHECK(in(0, f, n, &m) == VSW_OK && m == 1u << 1, "uplink -> local (%#x)", m);
	/* a MAC moves */
	static const uint8_t H[6] = { 0x02, 0xaa, 0, 0, 0, 1 };
	n = ipv4(f, LOCAL, H, 0x0a000203, IP_LOCAL, 17, 1, 2);
	in(0, f, n, 0);
	CHECK(vsw_lookup(&sw, H) == 0, "host learned on the uplink");
	n = ipv4(f, H, LOCAL, IP_LOCAL, 0x0a000203, 17, 2, 1);
	CHECK(in(1, f, n, &m) == VSW_OK && m == 1u << 0, "local -> the host via the uplink");
	n = ipv4(f, GW, H, 0x0a000203, IP_GW, 17, 1, 2);
	CHECK(in(1, f, n, 0) == VSW_DROP_SPOOF_MAC, "the local port sends only from lwIP's MAC");
	/* hairpin */
	n = ipv4(f, GW, H, 0x0a000203, IP_GW, 17, 1, 2);
	CHECK(in(0, f, n, &m) == VSW_DROP_HAIRPIN && m == 0, "uplink -> a MAC on the uplink: not sent back");
	CHECK(sw.port[0].last_drop == VSW_DROP_HAIRPIN, "last drop: hairpin");
	CHECK(deliver_bad == 0, "never delivered to the ingress port nor with another length");
}

static void test_flooding(void)
{
	setup();
	uint8_t f[128];
	unsigned m;
	size_t n = arp(f, BCAST, G2, G2, IP2, IP3, 1);
	CHECK(in(2, f, n, &m) == VSW_OK && m == (1u << 0 | 1u << 1 | 1u << 3 | 1u << 4),
	      "ARP broadcast from guest 2: uplink, local and the other guests (%#x)", m);
	n = arp(f, G2, G3, G3, IP3, IP2, 2);
	CHECK(in(3, f, n, &m) == VSW_OK && m == 1u << 2, "ARP reply guest 3 -> guest 2 passes (%#x)", m);
	n = ipv4(f, BCAST, G2, 0, 0xffffffffu, 17, 68, 67);
	CHECK(in(2, f, n, &m) == VSW_OK && m == (1u << 0 | 1u << 1), "DHCP broadcast from guest 2: not to other guests (%#x)", m);
	CHECK(sw.port[3].to.dropped == 1 && sw.port[3].last_drop == VSW_DROP_FIREWALL, "counted as a firewall drop toward guest 3");
	n = ipv4(f, BCAST, GW, IP_GW, 0xffffffffu, 17, 67, 68);
	CHECK(in(0, f, n, &m) == VSW_OK && m == (1u << 1 | 1u << 2 | 1u << 3 | 1u << 4), "broadcast from the uplink: everyone (%#x)", m);
	static const uint8_t MC[6] = { 0x01, 0x00, 0x5e, 0, 0, 0xfb };
	n = ipv4(f, MC, LOCAL, IP_LOCAL, 0xe00000fbu, 17, 5353, 5353);
	CHECK(in(1, f, n, &m) == VSW_OK && m == (1u << 0 | 1u << 2 | 1u << 3 | 1u << 4), "multicast from local: everyone else (%#x)", m);
	static const uint8_t UNK[6] = { 0x02, 0xbb, 0, 0, 0, 9 };
	n = ipv4(f, UNK, G2, IP2, 0x08080808u, 6, 5000, 443);
	CHECK(in(2, f, n, &m) == VSW_OK && m == 1u << 0, "unknown unicast: the uplink only, not lwIP nor guests (%#x)", m);
	n = ipv4(f, UNK, GW, IP_GW, 0x0a000299u, 6, 5000, 443);
	CHECK(in(0, f, n, &m) == VSW_OK && m == 0, "unknown unicast from the uplink: nowhere (%#x)", m);
	vsw_port_set(&sw, VSW_LOCAL, VSW_KIND_LOCAL, 0, 0);
	n = ipv4(f, UNK, G2, IP2, 0x08080808u, 6, 5000, 443);
	CHECK(in(2, f, n, &m) == VSW_OK && m == (1u << 0 | 1u << 1), "local without a configured MAC: it gets unknown unicast too (%#x)", m);
	vsw_port_set(&sw, VSW_LOCAL, VSW_KIND_LOCAL, LOCAL, 0);
	vsw_port_down(&sw, 4);
	n = arp(f, BCAST, G2, G2, IP2, IP3, 1);
	CHECK(in(2, f, n, &m) == VSW_OK && !(m & 1u << 4), "a down port gets no flood");
	CHECK(deliver_bad == 0, "never delivered to the ingress port");
}

static void test_spoofing(void)
{
	setup();
	uint8_t f[128];
	size_t n = ipv4(f, GW, G3, IP2, IP_GW, 17, 1, 2);
	CHECK(in(2, f, n, 0) == VSW_DROP_SPOOF_MAC, "guest 2 sending from guest 3's MAC");
	CHECK(sw.port[2].from.dropped == 1 && sw.port[2].from.dropped_bytes == n && sw.port[2].from.frames == 0 &&
	      sw.port[2].last_drop == VSW_DROP_SPOOF_MAC && sw.port[2].drops[VSW_DROP_SPOOF_MAC] == 1,
	      "counted: one frame, its bytes, the reason");
	n = ipv4(f, GW, G2, IP3, IP_GW, 17, 1, 2);
	CHECK(in(2, f, n, 0) == VSW_DROP_SPOOF_IP && sw.port[2].last_drop == VSW_DROP_SPOOF_IP, "guest 2 sending from guest 3's IP");
	n = arp(f, BCAST, G2, G3, IP2, IP3, 1);
	CHECK(in(2, f, n, 0) == VSW_DROP_SPOOF_MAC, "ARP with another sender MAC");
	n = arp(f, BCAST, G2, G2, IP3, IP_GW, 2);
	CHECK(in(2, f, n, 0) == VSW_DROP_SPOOF_IP, "ARP claiming guest 3's IP");
	n = arp(f, BCAST, G2, G2, 0, IP2, 1);
	CHECK(in(2, f, n, 0) == VSW_OK, "ARP probe from 0.0.0.0 allowed");
	n = ipv4(f, BCAST, G2, 0, 0xffffffffu, 17, 68, 67);
	CHECK(in(2, f, n, 0) == VSW_OK, "DHCP from 0.0.0.0 allowed");
	n = ipv4(f, BCAST, G2, 0, 0xffffffffu, 17, 68, 53);
	CHECK(in(2, f, n, 0) == VSW_DROP_SPOOF_IP, "other UDP from 0.0.0.0 dropped");
	n = ipv4(f, BCAST, G2, 0, 0xffffffffu, 6, 68, 67);
	CHECK(in(2, f, n, 0) == VSW_DROP_SPOOF_IP, "TCP from 0.0.0.0 dropped");
	n = ipv4(f, G3, G2, IP_GW, IP3, 17, 1, 2);
	CHECK(in(0, f, n, 0) == VSW_DROP_SPOOF_MAC && vsw_lookup(&sw, G2) == -1,
	      "the uplink sending from a guest's MAC: dropped, not learned");
	n = ipv4(f, G3, BCAST, IP_GW, IP3, 17, 1, 2);
	CHECK(in(0, f, n, 0) == VSW_DROP_SPOOF_MAC && vsw_lookup(&sw, BCAST) == -1, "a broadcast source MAC: dropped, not learned");
	n = ipv4(f, G3, (const uint8_t[6]){0}, IP_GW, IP3, 17, 1, 2);
	CHECK(in(0, f, n, 0) == VSW_DROP_SPOOF_MAC, "a zero source MAC dropped");
	CHECK(sw.port[2].from.dropped == 6 && sw.port[2].from.frames == 2, "guest 2: 6 dropped, 2 accepted");
	CHECK(sw.port[3].to.frames == 1 && sw.port[3].to.dropped == 1 && sw.port[3].last_drop == VSW_DROP_FIREWALL,
	      "guest 3 got only the ARP probe (the DHCP broadcast: isolated)");
}

static void test_isolation_and_rules(void)
{
	setup();
	uint8_t f[128];
	unsigned m;
	size_t n = ipv4(f, G3, G2, IP2, IP3, 6, 40000, 80);
	CHECK(in(2, f, n, &m) == VSW_DROP_FIREWALL && m == 0, "guest 2 -> guest 3 TCP: isolated by default");
	CHECK(sw.port[2].from.dropped == 1 && sw.port[3].to.dropped == 1 && sw.port[3].last_drop == VSW_DROP_FIREWALL,
	      "counted from guest 2 and to guest 3");
	n = ipv4(f, G3, G2, IP2, IP3, 1, 0, 8);
	CHECK(in(2, f, n, 0) == VSW_DROP_FIREWALL, "guest 2 -> guest 3 ping: isolated");
	n = ipv4(f, LOCAL, G2, IP2, IP_LOCAL, 6, 40000, 80);
	CHECK(in(2, f, n, &m) == VSW_OK && m == 1u << 1, "guest -> local accepted by default");
	n = ipv4(f, G2, LOCAL, IP_LOCAL, IP2, 6, 80, 40000);
	CHECK(in(1, f, n, &m) == VSW_OK && m == 1u << 2, "local -> guest accepted by default");
	n = ipv4(f, GW, G2, IP2, 0x08080808u, 17, 5000, 53);
	CHECK(in(2, f, n, &m) == VSW_OK && m == 1u, "guest -> uplink (gateway not learned yet: flooded to the uplink) accepted by default (%#x)", m);

	/* the sender's out rule opens one port */
	add_rule(2, "out accept tcp 10.0.2.16/32 80");
	n = ipv4(f, G3, G2, IP2, IP3, 6, 40000, 80);
	CHECK(in(2, f, n, &m) == VSW_OK && m == 1u << 3, "out accept tcp 10.0.2.16/32 80: delivered");
	n = ipv4(f, G3, G2, IP2, IP3, 6, 40000, 81);
	CHECK(in(2, f, n, 0) == VSW_DROP_FIREWALL, "port 81 still isolated");
	n = ipv4(f, G3, G2, IP2, IP3, 17, 40000, 80);
	CHECK(in(2, f, n, 0) == VSW_DROP_FIREWALL, "udp 80 still isolated");
	add_rule(3, "in accept any 0.0.0.0/0");
	add_rule(2, "out drop udp 10.0.2.16/32 9");
	n = ipv4(f, G3, G2, IP2, IP3, 17, 40000, 9);
	CHECK(in(2, f, n, 0) == VSW_DROP_FIREWALL && sw.port[2].fw.rule[1].frames == 1 && sw.port[3].fw.rule[0].frames == 0,
	      "the sender's out drop wins; the receiver's in accept is not consulted nor counted");
	n = ipv4(f, G3, G2, IP2, IP3, 17, 40000, 10);
	CHECK(in(2, f, n, 0) == VSW_OK && sw.port[3].fw.rule[0].frames == 1, "the receiver's in accept alone opens the path");
	vfw_delete(&sw.port[3].fw, 0);
	vfw_delete(&sw.port[2].fw, 1);
	n = ipv4(f, G4, G2, IP2, IP4, 6, 40000, 80);
	CHECK(in(2, f, n, 0) == VSW_DROP_FIREWALL, "tcp 80 to guest 4 still isolated");
	/* the reply: guest 3's in rule... is not needed, its out rule is */
	n = ipv4(f, G2, G3, IP3, IP2, 6, 80, 40000);
	CHECK(in(3, f, n, 0) == VSW_DROP_FIREWALL, "the reply needs a rule too (no connection tracking)");
	add_rule(2, "in accept tcp 10.0.2.16/32 40000-40100");
	CHECK(in(3, f, n, &m) == VSW_OK && m == 1u << 2, "in accept on guest 2 lets the reply in");
	/* a receiver's drop wins over the sender's accept */
	add_rule(3, "in drop tcp 10.0.2.15/32");
	n = ipv4(f, G3, G2, IP2, IP3, 6, 40000, 80);
	CHECK(in(2, f, n, 0) == VSW_DROP_FIREWALL, "guest 3's in drop wins over guest 2's out accept");
	CHECK(sw.port[2].fw.rule[0].frames == 2 && sw.port[3].fw.rule[0].frames == 1 && sw.port[2].fw.rule[1].frames == 1,
	      "rule counters: %lu %lu %lu", (unsigned long)sw.port[2].fw.rule[0].frames,
	      (unsigned long)sw.port[3].fw.rule[0].frames, (unsigned long)sw.port[2].fw.rule[1].frames);

	/* rules also close the default-open paths */
	add_rule(4, "out drop any 10.0.2.100/32");
	add_rule(4, "in drop udp 0.0.0.0/0 53");
	add_rule(4, "out drop icmp 0.0.0.0/0 8");
	add_rule(4, "out accept icmp 10.0.2.15/32");
	n = ipv4(f, LOCAL, G4, IP4, IP_LOCAL, 6, 1, 80);
	CHECK(in(4, f, n, 0) == VSW_DROP_FIREWALL, "out drop any to local");
	n = ipv4(f, GW, G4, IP4, IP_GW, 6, 1, 80);
	CHECK(in(4, f, n, 0) == VSW_OK, "the uplink still open");
	n = ipv4(f, G4, GW, IP_GW, IP4, 17, 1000, 53);
	CHECK(in(0, f, n, 0) == VSW_DROP_FIREWALL, "in drop udp port 53 from the uplink");
	n = ipv4(f, G4, GW, IP_GW, IP4, 17, 1000, 54);
	CHECK(in(0, f, n, 0) == VSW_OK, "udp port 54 from the uplink passes");
	n = ipv4(f, GW, G4, IP4, IP_GW, 1, 0, 8);
	CHECK(in(4, f, n, 0) == VSW_DROP_FIREWALL, "ping (icmp type 8) out dropped");
	n = ipv4(f, GW, G4, IP4, IP_GW, 1, 0, 0);
	CHECK(in(4, f, n, 0) == VSW_OK, "icmp type 0 out passes");
	n = ipv4(f, G2, G4, IP4, IP2, 1, 0, 0);
	CHECK(in(4, f, n, 0) == VSW_OK, "out accept icmp to guest 2 opens guest<->guest ICMP");
	struct vfw_rule *r = sw.port[4].fw.rule;
	CHECK(r[0].frames == 1 && r[1].frames == 1 && r[2].frames == 1 && r[3].frames == 1 && r[3].bytes == n,
	      "each rule counted one frame");
	/* non-first fragments: port rules do not match, proto rules do */
	n = ipv4(f, G3, G2, IP2, IP3, 6, 40000, 80);
	put16(f + 14 + 6, 0x0010);                 /* fragment offset 16 */
	ip_sum(f + 14, 20);
	CHECK(in(2, f, n, 0) == VSW_DROP_FIREWALL, "a non-first fragment does not match a port rule");
	add_rule(2, "out accept tcp 10.0.2.16/32");
	CHECK(in(2, f, n, 0) == VSW_DROP_FIREWALL, "... and guest 3's in drop still wins");
	vfw_delete(&sw.port[3].fw, 0);
	CHECK(in(2, f, n, &m) == VSW_OK && m == 1u << 3, "without it the proto-only rule lets the fragment through");
}

static void test_ethertypes(void)
{
	setup();
	uint8_t f[128];
	unsigned m;
	memset(f, 0, sizeof f);
	size_t n = eth(f, BCAST, G2, 0x86dd) + 60;
	CHECK(in(2, f, n, 0) == VSW_DROP_ETHERTYPE, "IPv6 from a guest dropped");
	n = eth(f, G3, G2, 0x8100) + 60;
	CHECK(in(2, f, n, 0) == VSW_DROP_ETHERTYPE, "a VLAN tag from a guest dropped");
	n = eth(f, BCAST, GW, 0x86dd) + 60;
	CHECK(in(0, f, n, &m) == VSW_OK && m == 1u << 1, "IPv6 broadcast from the uplink: local only (%#x)", m);
	CHECK(sw.port[2].to.dropped == 1 && sw.port[2].last_drop == VSW_DROP_ETHERTYPE, "counted toward each guest");
	n = eth(f, G2, GW, 0x86dd) + 60;
	CHECK(in(0, f, n, &m) == VSW_DROP_ETHERTYPE && m == 0, "IPv6 unicast to a guest dropped");
	n = eth(f, LOCAL, GW, 0x88cc) + 60;
	CHECK(in(0, f, n, &m) == VSW_OK && m == 1u << 1, "other types uplink -> local pass");
}

static void test_malformed(void)
{
	setup();
	uint8_t f[1600], g[1600];
	size_t n;
	memset(f, 0, sizeof f);
	CHECK(in(0, f, 0, 0) == VSW_DROP_RUNT, "empty frame: runt");
	CHECK(in(2, f, 13, 0) == VSW_DROP_RUNT, "13 bytes: runt");
	n = ipv4(f, G3, GW, IP_GW, IP3, 17, 1, 2);
	CHECK(in(0, f, VSW_FRAME_MAX + 1, 0) == VSW_DROP_OVERSIZE, "1515 bytes: oversize");
	CHECK(in(0, f, n + 100, 0) == VSW_OK, "Ethernet padding past the IPv4 total length is fine");
	int all = 1;
	for (size_t cut = 14; cut < n; cut++)
		all &= in(0, f, cut, 0) != VSW_OK;
	CHECK(all, "every truncation of a UDP frame dropped");
	n = ipv4(f, G3, GW, IP_GW, IP3, 6, 1, 2);
	all = 1;
	for (size_t cut = 14; cut < n - 8; cut++)
		all &= in(0, f, cut, 0) != VSW_OK;
	CHECK(all, "every truncation of a TCP header dropped");
	n = arp(f, BCAST, GW, GW, IP_GW, IP3, 1);
	all = 1;
	for (size_t cut = 14; cut < n; cut++)
		all &= in(0, f, cut, 0) == VSW_DROP_ARP;
	CHECK(all, "every truncation of an ARP packet: bad arp");

#define MUT(what, desc, want) do { n = ipv4(g, G3, GW, IP_GW, IP3, 17, 1, 2); what; \
		CHECK(in(0, g, n, 0) == (want), desc); } while (0)
	uint8_t *ip = g + 14;
	MUT(ip[0] = 0x65; ip_sum(ip, 20), "IP version 6 in an IPv4 frame", VSW_DROP_IP);
	MUT(ip[0] = 0x44; ip_sum(ip, 20), "IHL 4", VSW_DROP_IP);
	MUT(ip[0] = 0x4f; ip_sum(ip, 60), "IHL 15 past the frame", VSW_DROP_IP);
	MUT(put16(ip + 2, 2000); ip_sum(ip, 20), "total length past the frame", VSW_DROP_IP);
	MUT(put16(ip + 2, 19); ip_sum(ip, 20), "total length below the header", VSW_DROP_IP);
	MUT(ip[10] ^= 1, "bad header checksum", VSW_DROP_IP);
	MUT(put16(ip + 2, 27); ip_sum(ip, 20), "UDP header cut by total length", VSW_DROP_L4);
	MUT(put16(ip + 24, 7), "UDP length 7", VSW_DROP_L4);
	MUT(put16(ip + 24, 17), "UDP length past the IP packet", VSW_DROP_L4);
	MUT(ip[0] = 0x46; put16(ip + 2, 36); put16(ip + 28, 12); ip_sum(ip, 24), "IHL 6 (options) accepted", VSW_OK);
	n = ipv4(g, G3, GW, IP_GW, IP3, 6, 1, 2);
	g[14 + 20 + 12] = 4 << 4;
	CHECK(in(0, g, n, 0) == VSW_DROP_L4, "TCP data offset 4");
	g[14 + 20 + 12] = 8 << 4;
	CHECK(in(0, g, n, 0) == VSW_DROP_L4, "TCP data offset past the packet");
	n = ipv4(g, G3, GW, IP_GW, IP3, 1, 0, 0);
	put16(g + 16, 23);
	ip_sum(g + 14, 20);
	CHECK(in(0, g, 14 + 23, 0) == VSW_DROP_L4, "ICMP of 3 bytes");
	n = arp(g, BCAST, GW, GW, IP_GW, IP3, 3);
	CHECK(in(0, g, n, 0) == VSW_DROP_ARP, "ARP opcode 3");
	n = arp(g, BCAST, GW, GW, IP_GW, IP3, 1);
	g[14 + 4] = 8;
	CHECK(in(0, g, n, 0) == VSW_DROP_ARP, "ARP hardware length 8");
	n = ipv4(g, G3, GW, IP_GW, IP3, 47, 0, 0);
	CHECK(in(0, g, n, 0) == VSW_OK, "another IP protocol (GRE) without ports passes the parser");
	CHECK(sw.port[0].drops[VSW_DROP_IP] >= 6 && sw.port[0].drops[VSW_DROP_L4] >= 5, "drops counted by reason");
	CHECK(deliver_bad == 0, "never delivered to the ingress port");
}

static void test_down_and_full(void)
{
	setup();
	uint8_t f[128];
	unsigned m;
	size_t n = ipv4(f, LOCAL, GW, IP_GW, IP_LOCAL, 17, 1, 2);
	in(0, f, n, 0);
	n = ipv4(f, GW, LOCAL, IP_LOCAL, IP_GW, 17, 1, 2);
	in(1, f, n, 0);
	CHECK(vsw_lookup(&sw, GW) == 0 && vsw_lookup(&sw, LOCAL) == 1, "both learned");
	vsw_port_down(&sw, 0);
	CHECK(vsw_lookup(&sw, GW) == -1 && vsw_lookup(&sw, LOCAL) == 1, "uplink down: its MACs forgotten");
	CHECK(in(0, f, n, 0) == VSW_DROP_PORT && sw.port[0].from.dropped == 1, "input on a down port dropped");
	CHECK(in(1, f, n, &m) == VSW_OK && m == 0, "an unknown unicast from local with the uplink down goes nowhere");
	vsw_port_down(&sw, 3);
	n = ipv4(f, G3, LOCAL, IP_LOCAL, IP3, 17, 1, 2);
	CHECK(in(1, f, n, 0) == VSW_DROP_PORT && sw.port[3].to.dropped == 1, "to a down guest: dropped, counted on both sides");
	CHECK(in(VSW_PORTS, f, n, 0) == VSW_DROP_PORT && in(7, f, n, 0) == VSW_DROP_PORT, "port 16 and an unset port refused");
	add_rule(3, "in accept tcp 0.0.0.0/0 22");
	CHECK(vsw_port_set(&sw, 3, VSW_KIND_GUEST, G3, IP3) == 0 && sw.port[3].fw.count == 1 && sw.port[3].to.dropped == 1,
	      "guest 3 back: its rules and counters kept");
	full_port = 3;
	uint64_t before = sw.port[1].from.frames;
	CHECK(in(1, f, n, 0) == VSW_OK && sw.port[3].to.dropped == 2 && sw.port[3].last_drop == VSW_DROP_FULL &&
	      sw.port[1].from.frames == before + 1, "guest 3's queue full: dropped toward it, accepted from local");
}

static void test_mac_table(void)
{
	setup();
	uint8_t f[128], mac[6] = { 0x02, 0xcc, 0, 0, 0, 0 };
	for (unsigned i = 0; i < 100; i++) {
		mac[5] = (uint8_t)i;
		size_t n = ipv4(f, LOCAL, mac, IP_GW, IP_LOCAL, 17, 1, 2);
		in(0, f, n, 0);
	}
	int ok = 1;
	for (unsigned i = 0; i < 100; i++) {
		mac[5] = (uint8_t)i;
		ok &= vsw_lookup(&sw, mac) == (i < 100 - VSW_MACS ? -1 : 0);
	}
	CHECK(ok, "100 MACs learned: the newest %d kept, the oldest replaced", VSW_MACS);
	mac[5] = 50;
	size_t n = ipv4(f, LOCAL, mac, IP_GW, IP_LOCAL, 17, 1, 2);
	in(0, f, n, 0);
	mac[5] = 200;
	n = ipv4(f, LOCAL, mac, IP_GW, IP_LOCAL, 17, 1, 2);
	in(0, f, n, 0);
	mac[5] = 50;
	CHECK(vsw_lookup(&sw, mac) == 0, "a MAC seen again is refreshed, not replaced");
	mac[5] = 36;
	CHECK(vsw_lookup(&sw, mac) == -1, "the least recent went instead");
}

static void test_fuzz(void)
{
	setup();
	add_rule(2, "out accept tcp 10.0.2.16/32 80");
	add_rule(3, "in drop udp 0.0.0.0/0 53");
	srand(1234);
	static const uint8_t *macs[] = { BCAST, GW, LOCAL, G2, G3, G4 };
	static const uint32_t ips[] = { 0, IP_GW, IP_LOCAL, IP2, IP3, IP4, 0xffffffffu };
	uint64_t inputs[VSW_PORTS] = {0};
	unsigned ok_frames = 0;
	const unsigned N = 200000;
	uint8_t f[VSW_FRAME_MAX + 64];
	for (unsigned i = 0; i < N; i++) {
		size_t n;
		int kind = rand() % 4;
		if (kind == 0) {                         /* random bytes */
			n = (size_t)(rand() % (VSW_FRAME_MAX + 40));
			for (size_t j = 0; j < n; j++)
				f[j] = (uint8_t)rand();
		} else {                                 /* a real frame, mutated and cut */
			const uint8_t *d = macs[rand() % 6], *s = macs[1 + rand() % 5];
			static const unsigned protos[] = { 1, 6, 17, 47 };
			if (rand() % 4 == 0)
				n = arp(f, d, s, macs[1 + rand() % 5], ips[rand() % 7], ips[rand() % 7], 1 + (unsigned)(rand() % 2));
			else
				n = ipv4(f, d, s, ips[rand() % 7], ips[rand() % 7], protos[rand() % 4],
				         (unsigned)rand() % 100, (unsigned)(rand() % 4 ? 80 : rand() % 65536));
			if (rand() % 3 == 0)
				n += (size_t)(rand() % 200);          /* padding (bytes of earlier frames) */
			int flips = rand() % 4;
			for (int k = 0; k < flips; k++)
				f[rand() % n] ^= (uint8_t)(1u << (rand() % 8));
			if (kind == 1)
				n = (size_t)rand() % (n + 1);         /* truncated anywhere */
		}
		unsigned p = (unsigned)(rand() % 6);
		if (in(p, f, n, 0) == VSW_OK)
			ok_frames++;
		inputs[p]++;
		if (i % 50000 == 0)
			vsw_port_down(&sw, 4), vsw_port_set(&sw, 4, VSW_KIND_GUEST, G4, IP4);
	}
	int counts = 1;
	for (unsigned p = 0; p < 6; p++)
		counts &= sw.port[p].from.frames + sw.port[p].from.dropped == inputs[p];
	CHECK(counts, "every input counted once, accepted or dropped, on its port");
	CHECK(deliver_bad == 0, "never delivered to the ingress port nor with another length");
	CHECK(ok_frames > N / 50 && ok_frames < N, "%u of %u fuzzed frames accepted on entry, %u deliveries",
	      ok_frames, N, total_delivered);
}

int main(void)
{
	test_ports();
	test_forwarding();
	test_flooding();
	test_spoofing();
	test_isolation_and_rules();
	test_ethertypes();
	test_malformed();
	test_down_and_full();
	test_mac_table();
	test_fuzz();
	return unit_done();
}
