/* The network server's virtual switch: see vswitch.h. */
#include "vswitch.h"

static const char *const reason_names[VSW_REASONS] = {
	[VSW_OK] = "ok",
	[VSW_DROP_PORT] = "port down",
	[VSW_DROP_RUNT] = "runt",
	[VSW_DROP_OVERSIZE] = "oversize",
	[VSW_DROP_ETHERTYPE] = "ethertype",
	[VSW_DROP_ARP] = "bad arp",
	[VSW_DROP_IP] = "bad ipv4",
	[VSW_DROP_L4] = "bad l4 header",
	[VSW_DROP_SPOOF_MAC] = "spoofed mac",
	[VSW_DROP_SPOOF_IP] = "spoofed ip",
	[VSW_DROP_FIREWALL] = "firewall",
	[VSW_DROP_FULL] = "port full",
	[VSW_DROP_HAIRPIN] = "hairpin",
};

const char *vsw_reason_name(enum vsw_reason r)
{
	return (unsigned)r < VSW_REASONS ? reason_names[r] : "?";
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int mac_eq(const uint8_t *a, const uint8_t *b)
{
	for (int i = 0; i < 6; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

static int mac_zero(const uint8_t *a)
{
	static const uint8_t z[6];
	return mac_eq(a, z);
}

static int mac_multicast(const uint8_t *a)
{
	return a[0] & 1;
}

enum vsw_reason vsw_parse(const uint8_t *frame, size_t len, struct vsw_frame *f)
{
	*f = (struct vsw_frame){0};
	if (len < VSW_FRAME_MIN)
		return VSW_DROP_RUNT;
	if (len > VSW_FRAME_MAX)
		return VSW_DROP_OVERSIZE;
	f->dst_mac = frame;
	f->src_mac = frame + 6;
	f->type = be16(frame + 12);
	f->ip.len = (uint32_t)len;
	const uint8_t *p = frame + 14;
	size_t avail = len - 14;

	if (f->type == 0x0806) {
		if (avail < 28)
			return VSW_DROP_ARP;
		uint16_t op = be16(p + 6);
		if (be16(p) != 1 || be16(p + 2) != 0x0800 || p[4] != 6 || p[5] != 4 || (op != 1 && op != 2))
			return VSW_DROP_ARP;
		f->is_arp = 1;
		f->arp_sha = p + 8;
		f->arp_sip = be32(p + 14);
		f->arp_tip = be32(p + 24);
		return VSW_OK;
	}
	if (f->type != 0x0800)
		return VSW_OK;

	if (avail < 20)
		return VSW_DROP_IP;
	unsigned ihl = (p[0] & 15u) * 4;
	unsigned tot = be16(p + 2);
	if (p[0] >> 4 != 4 || ihl < 20 || tot < ihl || tot > avail)
		return VSW_DROP_IP;
	uint32_t sum = 0;
	for (unsigned i = 0; i < ihl; i += 2)
		sum += be16(p + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	if (sum != 0xffff)
		return VSW_DROP_IP;
	f->is_ip = 1;
	f->ip.proto = p[9];
	f->ip.src = be32(p + 12);
	f->ip.dst = be32(p + 16);
	if (be16(p + 6) & 0x1fff)
		return VSW_OK;               /* non-first fragment: no ports */
	const uint8_t *l4 = p + ihl;
	unsigned l4len = tot - ihl;
	switch (f->ip.proto) {
	case VFW_TCP:
		if (l4len < 20 || (l4[12] >> 4) < 5 || (unsigned)(l4[12] >> 4) * 4 > l4len)
			return VSW_DROP_L4;
		f->sport = be16(l4);
		f->ip.port = be16(l4 + 2);
		f->ip.has_port = 1;
		break;
	case VFW_UDP:
		if (l4len < 8 || be16(l4 + 4) < 8 || be16(l4 + 4) > l4len)
			return VSW_DROP_L4;
		f->sport = be16(l4);
		f->ip.port = be16(l4 + 2);
		f->ip.has_port = 1;
		break;
	case VFW_ICMP:
		if (l4len < 4)
			return VSW_DROP_L4;
		f->ip.port = l4[0];
		f->ip.has_port = 1;
		break;
	default:
		break;
	}
	return VSW_OK;
}

void vsw_init(struct vswitch *sw, vsw_deliver_fn deliver, void *ctx)
{
	*sw = (struct vswitch){0};
	sw->deliver = deliver;
	sw->ctx = ctx;
	for (unsigned p = 0; p < VSW_PORTS; p++)
		vfw_init(&sw->port[p].fw);
}

static void forget_port(struct vswitch *sw, unsigned p)
{
	for (unsigned i = 0; i < VSW_MACS; i++)
		if (sw->mac[i].used && sw->mac[i].port == p)
			sw->mac[i].used = 0;
}

static void forget_mac(struct vswitch *sw, const uint8_t *mac)
{
	for (unsigned i = 0; i < VSW_MACS; i++)
		if (sw->mac[i].used && mac_eq(sw->mac[i].mac, mac))
			sw->mac[i].used = 0;
}

int vsw_port_set(struct vswitch *sw, unsigned p, enum vsw_kind kind, const uint8_t *mac, uint32_t ip)
{
	if (p >= VSW_PORTS)
		return -1;
	if ((kind == VSW_KIND_UPLINK) != (p == VSW_UPLINK) || (kind == VSW_KIND_LOCAL) != (p == VSW_LOCAL))
		return -1;
	if (kind != VSW_KIND_UPLINK && kind != VSW_KIND_LOCAL && kind != VSW_KIND_GUEST)
		return -1;
	if (mac && (mac_multicast(mac) || mac_zero(mac)))
		return -1;
	if (kind == VSW_KIND_GUEST && !mac)
		return -1;
	if (mac)
		for (unsigned i = 0; i < VSW_PORTS; i++)
			if (i != p && sw->port[i].kind != VSW_KIND_NONE && mac_eq(sw->port[i].mac, mac))
				return -1;
	struct vsw_port *port = &sw->port[p];
	if (port->kind != kind) {
		*port = (struct vsw_port){0};
		vfw_init(&port->fw);
	}
	port->kind = (uint8_t)kind;
	for (int i = 0; i < 6; i++)
		port->mac[i] = mac ? mac[i] : 0;
	port->ip = kind == VSW_KIND_GUEST ? ip : 0;
	port->up = 1;
	forget_port(sw, p);
	if (mac)
		forget_mac(sw, mac);
	return 0;
}

void vsw_port_down(struct vswitch *sw, unsigned p)
{
	if (p >= VSW_PORTS)
		return;
	sw->port[p].up = 0;
	forget_port(sw, p);
}

int vsw_lookup(const struct vswitch *sw, const uint8_t *mac)
{
	for (unsigned i = 0; i < VSW_MACS; i++)
		if (sw->mac[i].used && mac_eq(sw->mac[i].mac, mac))
			return sw->mac[i].port;
	return -1;
}

static void learn(struct vswitch *sw, const uint8_t *mac, unsigned p)
{
	struct vsw_mac *slot = 0;
	for (unsigned i = 0; i < VSW_MACS; i++) {
		struct vsw_mac *m = &sw->mac[i];
		if (m->used && mac_eq(m->mac, mac)) {
			slot = m;
			break;
		}
		if (!slot || (slot->used && (!m->used || m->stamp < slot->stamp)))
			slot = m;
	}
	for (int i = 0; i < 6; i++)
		slot->mac[i] = mac[i];
	slot->port = (uint8_t)p;
	slot->used = 1;
	slot->stamp = sw->clock;
}

static void count_drop(struct vsw_port *port, struct vsw_count *c, enum vsw_reason r, size_t len)
{
	c->dropped++;
	c->dropped_bytes += len;
	port->last_drop = (uint8_t)r;
	port->drops[r]++;
}

static void count_ok(struct vsw_count *c, size_t len)
{
	c->frames++;
	c->bytes += len;
}

static int is_guest(const struct vswitch *sw, unsigned p)
{
	return sw->port[p].kind == VSW_KIND_GUEST;
}

/* The firewall's verdict on f from port s to port d (vswitch.h, Policy). */
static int allowed(struct vswitch *sw, unsigned s, unsigned d, const struct vsw_frame *f)
{
	if (!f->is_ip || (!is_guest(sw, s) && !is_guest(sw, d)))
		return 1;
	enum vfw_verdict out = is_guest(sw, s) ? vfw_match(&sw->port[s].fw, VFW_OUT, &f->ip) : VFW_NONE;
	if (out == VFW_DROP)
		return 0;            /* the receiver's rules are not consulted */
	enum vfw_verdict in = is_guest(sw, d) ? vfw_match(&sw->port[d].fw, VFW_IN, &f->ip) : VFW_NONE;
	if (in == VFW_DROP)
		return 0;
	if (out == VFW_ACCEPT || in == VFW_ACCEPT)
		return 1;
	return !(is_guest(sw, s) && is_guest(sw, d));
}

/* Offer f to port d; counts on d's "to" side.  VSW_OK or the reason. */
static enum vsw_reason send_to(struct vswitch *sw, unsigned s, unsigned d, const struct vsw_frame *f,
                               const uint8_t *frame, size_t len)
{
	struct vsw_port *port = &sw->port[d];
	enum vsw_reason r = VSW_OK;
	if (!port->up)
		r = VSW_DROP_PORT;
	else if (is_guest(sw, d) && !f->is_arp && !f->is_ip)
		r = VSW_DROP_ETHERTYPE;
	else if (!allowed(sw, s, d, f))
		r = VSW_DROP_FIREWALL;
	else if (sw->deliver && sw->deliver(sw->ctx, d, frame, len))
		r = VSW_DROP_FULL;
	if (r)
		count_drop(port, &port->to, r, len);
	else
		count_ok(&port->to, len);
	return r;
}

/* Checks on entry; VSW_OK or the reason to drop. */
static enum vsw_reason check_source(struct vswitch *sw, unsigned p, const struct vsw_frame *f)
{
	const struct vsw_port *port = &sw->port[p];
	if (port->kind == VSW_KIND_GUEST) {
		if (!mac_eq(f->src_mac, port->mac))
			return VSW_DROP_SPOOF_MAC;
		if (f->is_arp) {
			if (!mac_eq(f->arp_sha, port->mac))
				return VSW_DROP_SPOOF_MAC;
			if (f->arp_sip != port->ip && f->arp_sip != 0)
				return VSW_DROP_SPOOF_IP;
			return VSW_OK;
		}
		if (f->is_ip) {
			if (f->ip.src == port->ip)
				return VSW_OK;
			if (f->ip.src == 0 && f->ip.proto == VFW_UDP && f->ip.has_port &&
			    f->sport == 68 && f->ip.port == 67)
				return VSW_OK;         /* DHCP before it has an address */
			return VSW_DROP_SPOOF_IP;
		}
		return VSW_DROP_ETHERTYPE;
	}
	if (mac_multicast(f->src_mac) || mac_zero(f->src_mac))
		return VSW_DROP_SPOOF_MAC;
	if (port->kind == VSW_KIND_LOCAL && !mac_zero(port->mac) && !mac_eq(f->src_mac, port->mac))
		return VSW_DROP_SPOOF_MAC;
	for (unsigned i = 0; i < VSW_PORTS; i++)
		if (i != p && sw->port[i].kind != VSW_KIND_NONE && mac_eq(sw->port[i].mac, f->src_mac))
			return VSW_DROP_SPOOF_MAC;     /* a guest's or lwIP's MAC */
	return VSW_OK;
}

enum vsw_reason vsw_input(struct vswitch *sw, unsigned p, const uint8_t *frame, size_t len)
{
	if (p >= VSW_PORTS)
		return VSW_DROP_PORT;
	struct vsw_port *port = &sw->port[p];
	struct vsw_frame f;
	enum vsw_reason r;
	sw->clock++;
	if (!port->up || port->kind == VSW_KIND_NONE)
		r = VSW_DROP_PORT;
	else if ((r = vsw_parse(frame, len, &f)) == VSW_OK)
		r = check_source(sw, p, &f);
	if (r) {
		count_drop(port, &port->from, r, len);
		return r;
	}
	if (port->kind != VSW_KIND_GUEST)
		learn(sw, f.src_mac, p);

	int dest = -1, flood_all = mac_multicast(f.dst_mac);
	if (!flood_all) {
		for (unsigned i = 0; i < VSW_PORTS; i++)
			if (sw->port[i].kind != VSW_KIND_NONE && !mac_zero(sw->port[i].mac) &&
			    mac_eq(sw->port[i].mac, f.dst_mac))
				dest = (int)i;    /* a guest's, or lwIP's configured MAC */
		if (dest < 0)
			dest = vsw_lookup(sw, f.dst_mac);
	}
	if (dest >= 0) {
		if ((unsigned)dest == p)
			r = VSW_DROP_HAIRPIN;
		else {
			r = send_to(sw, p, (unsigned)dest, &f, frame, len);
			if (r == VSW_DROP_FULL)
				r = VSW_OK;
		}
		if (r) {
			count_drop(port, &port->from, r, len);
			return r;
		}
		count_ok(&port->from, len);
		return VSW_OK;
	}
	/* flood: broadcast/multicast to every up port, unknown unicast to
	 * the ports without a configured MAC (the uplink; local if unset) */
	count_ok(&port->from, len);
	for (unsigned d = 0; d < VSW_PORTS; d++) {
		if (d == p || !sw->port[d].up || sw->port[d].kind == VSW_KIND_NONE)
			continue;
		if (!flood_all && (is_guest(sw, d) || !mac_zero(sw->port[d].mac)))
			continue;    /* a port with a configured MAC is not its owner */
		send_to(sw, p, d, &f, frame, len);
	}
	return VSW_OK;
}
