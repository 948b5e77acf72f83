/*
 * NAT between the guests' network (10.0.4.0/24, lwIP's gw interface)
 * and the uplink (lwIP's eth interface, Berth's own address).
 *
 * link.c asks here before it inputs a frame into lwIP:
 *   - nat_out: an IPv4 packet from a guest to an address that is not on
 *     the guests' network and not one of Berth's: its source becomes
 *     Berth's uplink address and a port of NAT_FIRST.. (ICMP echo: its
 *     id), checksums recomputed, and it leaves through eth (lwIP's ARP
 *     finds the next hop);
 *   - nat_in: a TCP/UDP/ICMP-echo-reply packet from the uplink to
 *     Berth's address whose destination port (id) is an entry's, or a
 *     forward's berth_port: its destination becomes the guest's address
 *     and port, and it goes to the guest through the switch.
 * Entries are kept by (proto, guest address and port, remote address
 * and port) and expire after NAT_IDLE_MS unused (TCP: NAT_TCP_IDLE_MS,
 * or NAT_CLOSED_MS once the connection closed: a RST, or a FIN each
 * way); the table is bounded (NAT_ENTRIES), and when it is full a new
 * connection takes the closed entry unused longest, so that a service
 * behind a forward outlives more than NAT_ENTRIES short connections;
 * what cannot be translated (fragments, other protocols, a full table
 * of live entries) is dropped and counted.
 * Runs under the server's lock.
 */
#include "net.h"
#include "lwip/netif.h"
#include "lwip/udp.h"
#include "lwip/priv/tcp_priv.h"

#define NAT_ENTRIES 128
#define NAT_FIRST 40000u            /* lwIP's ephemeral ports start at 49152 */
#define NAT_PORTS 4096u
#define NAT_IDLE_MS 60000u
#define NAT_TCP_IDLE_MS 300000u
#define NAT_CLOSED_MS 10000u        /* room for the last ACK and retransmitted FINs */
#define FORWARDS 16

struct nat_entry {
	uint8_t used, proto;
	uint8_t fins, closed;           /* TCP: FIN seen from the guest (1), the remote (2); over */
	uint16_t guest_port, ext_port, remote_port;
	uint32_t guest_ip, remote_ip;
	uint64_t last;
};

struct forward {
	uint8_t used, proto;
	uint16_t berth_port, guest_port;
	unsigned guest;                 /* switch port */
	uint32_t guest_ip;
};

static struct nat_entry table[NAT_ENTRIES];
static struct forward forwards[FORWARDS];
static uint16_t next_port;
static uint64_t translated_out, translated_in, dropped_out, dropped_in;

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static uint32_t sum_bytes(uint32_t s, const uint8_t *p, unsigned n)
{
	for (unsigned i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Recompute the IPv4 header's checksum and the TCP/UDP/ICMP one. */
static void checksums(uint8_t *ip, unsigned ihl, unsigned total)
{
	wr16(ip + 10, 0);
	wr16(ip + 10, fold(sum_bytes(0, ip, ihl)));
	uint8_t *l4 = ip + ihl;
	unsigned n = total - ihl;
	if (ip[9] == 1) {
		wr16(l4 + 2, 0);
		wr16(l4 + 2, fold(sum_bytes(0, l4, n)));
		return;
	}
	unsigned at = ip[9] == 6 ? 16 : 6;
	if (ip[9] == 17 && !rd16(l4 + 6))
		return;   /* UDP without a checksum stays without */
	wr16(l4 + at, 0);
	uint32_t s = sum_bytes(0, ip + 12, 8);
	s += ip[9];
	s += n;
	uint16_t c = fold(sum_bytes(s, l4, n));
	if (ip[9] == 17 && !c)
		c = 0xffff;
	wr16(l4 + at, c);
}

/* The packet's IPv4 header length and total length, if it is a whole
 * (unfragmented) TCP, UDP or ICMP echo packet we can translate. */
static int parse(const uint8_t *ip, unsigned len, unsigned *ihl, unsigned *total)
{
	if (len < 20 || (ip[0] >> 4) != 4)
		return 0;
	*ihl = (ip[0] & 15) * 4u;
	*total = rd16(ip + 2);
	if (*ihl < 20 || *total < *ihl || *total > len)
		return 0;
	if ((rd16(ip + 6) & 0x3fff) != 0)
		return 0;   /* a fragment */
	unsigned n = *total - *ihl;
	const uint8_t *l4 = ip + *ihl;
	switch (ip[9]) {
	case 6: return n >= 20;
	case 17: return n >= 8;
	case 1: return n >= 8 && (l4[0] == 8 || l4[0] == 0);
	default: return 0;
	}
}

static uint32_t ttl_of(const struct nat_entry *e)
{
	if (e->proto != 6)
		return NAT_IDLE_MS;
	return e->closed ? NAT_CLOSED_MS : NAT_TCP_IDLE_MS;
}

static int expired(const struct nat_entry *e, uint64_t now)
{
	return !e->used || now - e->last > ttl_of(e);
}

/* A TCP segment through entry e (fin: 1 from the guest, 2 from the
 * remote; the flags are lwIP's TCP_*): the connection is over after a
 * RST or a FIN each way; a new SYN on the same addresses and ports
 * starts a new one.  No sequence numbers are checked: a forged RST or
 * FIN only shortens the entry's life, as a real one would. */
static void tcp_track(struct nat_entry *e, const uint8_t *tcp, uint8_t fin)
{
	if (e->proto != 6)
		return;
	uint8_t flags = tcp[13];
	if ((flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
		e->fins = 0, e->closed = 0;
	if (flags & TCP_FIN)
		e->fins |= fin;
	if ((flags & TCP_RST) || e->fins == 3)
		e->closed = 1;
}

static int ext_port_used(uint8_t proto, uint16_t port, uint64_t now)
{
	for (unsigned i = 0; i < NAT_ENTRIES; i++)
		if (!expired(&table[i], now) && table[i].proto == proto && table[i].ext_port == port)
			return 1;
	return 0;
}

/* A free or expired entry; else the closed TCP connection's entry
 * unused longest; else 0. */
static struct nat_entry *new_entry(uint64_t now)
{
	struct nat_entry *closed = 0;
	for (unsigned i = 0; i < NAT_ENTRIES; i++) {
		if (expired(&table[i], now))
			return &table[i];
		if (table[i].closed && (!closed || table[i].last < closed->last))
			closed = &table[i];
	}
	return closed;
}

static uint32_t berth_addr(void)
{
	struct link_info li;
	link_info(&li);
	return li.addr;
}

int nat_is_nat_port(uint32_t port)
{
	return port >= NAT_FIRST && port < NAT_FIRST + NAT_PORTS;
}

int nat_out(uint8_t *ip, unsigned len)
{
	unsigned ihl, total;
	uint32_t dst = len >= 20 ? rd32(ip + 16) : 0;
	uint32_t me = berth_addr();
	if ((dst & 0xffffff00u) == GUEST_NET_BASE || dst == me || (dst >> 28) >= 14 || dst == 0xffffffffu ||
	    (dst >> 24) == 127)
		return 0;   /* for lwIP itself (or nobody) */
	if (!me || !parse(ip, len, &ihl, &total)) {
		dropped_out++;
		return -1;
	}
	uint8_t *l4 = ip + ihl;
	uint8_t proto = ip[9];
	if (proto == 1 && l4[0] != 8) {
		dropped_out++;
		return -1;   /* only echo requests go out */
	}
	uint32_t src = rd32(ip + 12);
	uint16_t sport = proto == 1 ? rd16(l4 + 4) : rd16(l4);
	uint16_t dport = proto == 1 ? 0 : rd16(l4 + 2);
	uint64_t now = clock_ms();
	struct nat_entry *e = 0;
	for (unsigned i = 0; i < NAT_ENTRIES && !e; i++) {
		struct nat_entry *t = &table[i];
		if (!expired(t, now) && t->proto == proto && t->guest_ip == src && t->guest_port == sport &&
		    t->remote_ip == dst && t->remote_port == dport)
			e = t;
	}
	if (!e) {
		e = new_entry(now);
		uint16_t port = 0;
		for (unsigned tries = 0; e && tries < NAT_PORTS && !port; tries++) {
			uint16_t p = (uint16_t)(NAT_FIRST + next_port);
			next_port = (uint16_t)((next_port + 1) % NAT_PORTS);
			if (!ext_port_used(proto, p, now))
				port = p;
		}
		if (!e || !port) {
			dropped_out++;
			return -1;
		}
		*e = (struct nat_entry){ .used = 1, .proto = proto, .guest_port = sport, .ext_port = port,
		                         .remote_port = dport, .guest_ip = src, .remote_ip = dst };
	}
	e->last = now;
	tcp_track(e, l4, 1);
	wr32(ip + 12, me);
	if (proto == 1)
		wr16(l4 + 4, e->ext_port);
	else
		wr16(l4, e->ext_port);
	checksums(ip, ihl, total);
	translated_out++;
	return 1;
}

int nat_in(uint8_t *ip, unsigned len)
{
	unsigned ihl, total;
	uint32_t me = berth_addr();
	if (len < 20 || !me || rd32(ip + 16) != me || !parse(ip, len, &ihl, &total))
		return 0;
	uint8_t *l4 = ip + ihl;
	uint8_t proto = ip[9];
	if (proto == 1 && l4[0] != 0)
		return 0;   /* not an echo reply: lwIP's */
	uint16_t dport = proto == 1 ? rd16(l4 + 4) : rd16(l4 + 2);
	uint16_t sport = proto == 1 ? 0 : rd16(l4);
	uint32_t src = rd32(ip + 12);
	uint64_t now = clock_ms();
	struct nat_entry *e = 0;
	for (unsigned i = 0; i < NAT_ENTRIES && !e; i++) {
		struct nat_entry *t = &table[i];
		if (!expired(t, now) && t->proto == proto && t->ext_port == dport && t->remote_ip == src &&
		    t->remote_port == sport)
			e = t;
	}
	const struct forward *f = 0;
	for (unsigned i = 0; i < FORWARDS && proto != 1; i++)
		if (forwards[i].used && forwards[i].proto == proto && forwards[i].berth_port == dport)
			f = &forwards[i];
	if (!e && f) {
		e = new_entry(now);
		if (!e) {
			dropped_in++;
			return -1;
		}
		*e = (struct nat_entry){ .used = 1, .proto = proto, .guest_port = f->guest_port, .ext_port = dport,
		                         .remote_port = sport, .guest_ip = f->guest_ip, .remote_ip = src };
	}
	if (!e) {
		if (!nat_is_nat_port(dport))
			return 0;   /* lwIP's own */
		dropped_in++;
		return -1;
	}
	e->last = now;
	tcp_track(e, l4, 2);
	wr32(ip + 16, e->guest_ip);
	if (proto == 1)
		wr16(l4 + 4, e->guest_port);
	else
		wr16(l4 + 2, e->guest_port);
	checksums(ip, ihl, total);
	translated_in++;
	return 1;
}

long nat_forward(uint32_t proto, uint32_t berth_port, uint32_t guest_ip, uint32_t guest_port)
{
	struct forward *f = 0, *free_one = 0;
	for (unsigned i = 0; i < FORWARDS; i++) {
		if (forwards[i].used && forwards[i].proto == proto && forwards[i].berth_port == berth_port)
			f = &forwards[i];
		else if (!forwards[i].used && !free_one)
			free_one = &forwards[i];
	}
	if (!guest_port) {
		if (!f)
			return E_BAD_ARG;
		f->used = 0;
		return E_OK;
	}
	if (nat_is_nat_port(berth_port))
		return E_LIMIT;
	/* a port lwIP's own sockets use stays lwIP's */
	if (proto == 6) {
		for (struct tcp_pcb_listen *l = tcp_listen_pcbs.listen_pcbs; l; l = l->next)
			if (l->local_port == berth_port)
				return E_LIMIT;
	} else {
		for (struct udp_pcb *u = udp_pcbs; u; u = u->next)
			if (u->local_port == berth_port)
				return E_LIMIT;
	}
	if (!f)
		f = free_one;
	if (!f)
		return E_LIMIT;
	*f = (struct forward){ .used = 1, .proto = (uint8_t)proto, .berth_port = (uint16_t)berth_port,
	                       .guest_port = (uint16_t)guest_port, .guest_ip = guest_ip };
	return E_OK;
}

void nat_counters(uint64_t c[4])
{
	c[0] = translated_out, c[1] = translated_in, c[2] = dropped_out, c[3] = dropped_in;
}
