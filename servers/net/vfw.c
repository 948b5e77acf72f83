/* The switch's firewall rules: parsing, printing, matching (vfw.h). */
#include "vfw.h"

void vfw_init(struct vfw *fw)
{
	fw->count = 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* The next token of *s: its start and length; 0 if none is left. */
static size_t token(const char **s, const char **tok)
{
	const char *p = *s;
	while (is_space(*p))
		p++;
	*tok = p;
	while (*p && !is_space(*p))
		p++;
	*s = p;
	return (size_t)(p - *tok);
}

static int token_is(const char *tok, size_t n, const char *word)
{
	size_t i = 0;
	for (; i < n; i++)
		if (word[i] != tok[i])
			return 0;
	return word[i] == 0;
}

/* A decimal number without leading zeros, at most max; its end in *end.
 * -1 if there is none or it is too big. */
static long number(const char *p, const char *lim, long max, const char **end)
{
	if (p >= lim || *p < '0' || *p > '9')
		return -1;
	if (*p == '0' && p + 1 < lim && p[1] >= '0' && p[1] <= '9')
		return -1;
	long v = 0;
	while (p < lim && *p >= '0' && *p <= '9') {
		v = v * 10 + (*p - '0');
		if (v > max)
			return -1;
		p++;
	}
	*end = p;
	return v;
}

static int parse_addr(const char *p, const char *lim, struct vfw_rule *r, const char **err)
{
	uint32_t a = 0;
	for (int i = 0; i < 4; i++) {
		long b = number(p, lim, 255, &p);
		if (b < 0) {
			*err = "bad address: want A.B.C.D/PREFIX, each part 0..255 without leading zeros";
			return -1;
		}
		a = a << 8 | (uint32_t)b;
		if (i < 3) {
			if (p >= lim || *p != '.') {
				*err = "bad address: want A.B.C.D/PREFIX";
				return -1;
			}
			p++;
		}
	}
	if (p >= lim || *p != '/') {
		*err = "address without /PREFIX (write e.g. 10.0.2.2/32)";
		return -1;
	}
	p++;
	long pre = number(p, lim, 32, &p);
	if (pre < 0 || p != lim) {
		*err = "bad prefix: want 0..32";
		return -1;
	}
	uint32_t mask = pre == 0 ? 0 : 0xffffffffu << (32 - pre);
	if (a & ~mask) {
		*err = "address has bits set past its prefix";
		return -1;
	}
	r->addr = a;
	r->prefix = (uint8_t)pre;
	return 0;
}

static int parse_ports(const char *p, const char *lim, struct vfw_rule *r, const char **err)
{
	long max = r->proto == VFW_ICMP ? 255 : 65535;
	long lo = number(p, lim, max, &p), hi = lo;
	if (lo >= 0 && p < lim && *p == '-')
		hi = number(p + 1, lim, max, &p);
	if (lo < 0 || hi < 0 || p != lim) {
		*err = r->proto == VFW_ICMP ? "bad ICMP type: want N or LO-HI, 0..255"
		                            : "bad port: want N or LO-HI, 0..65535";
		return -1;
	}
	if (lo > hi) {
		*err = "bad port range: LO is above HI";
		return -1;
	}
	r->port_lo = (uint16_t)lo;
	r->port_hi = (uint16_t)hi;
	return 0;
}

int vfw_parse(const char *text, struct vfw_rule *r, const char **err)
{
	const char *s = text, *t;
	size_t n;
	struct vfw_rule x = {0};
	*err = 0;

	n = token(&s, &t);
	if (token_is(t, n, "in"))
		x.dir = VFW_IN;
	else if (token_is(t, n, "out"))
		x.dir = VFW_OUT;
	else {
		*err = n ? "bad direction: want in or out" : "empty rule: want DIR ACTION PROTO ADDR/PREFIX [PORTS]";
		return -1;
	}
	n = token(&s, &t);
	if (token_is(t, n, "accept"))
		x.accept = 1;
	else if (token_is(t, n, "drop"))
		x.accept = 0;
	else {
		*err = "bad action: want accept or drop";
		return -1;
	}
	n = token(&s, &t);
	if (token_is(t, n, "any"))
		x.proto = VFW_ANY;
	else if (token_is(t, n, "tcp"))
		x.proto = VFW_TCP;
	else if (token_is(t, n, "udp"))
		x.proto = VFW_UDP;
	else if (token_is(t, n, "icmp"))
		x.proto = VFW_ICMP;
	else {
		*err = "bad protocol: want any, tcp, udp or icmp";
		return -1;
	}
	n = token(&s, &t);
	if (!n) {
		*err = "missing address: want ADDR/PREFIX, e.g. 0.0.0.0/0";
		return -1;
	}
	if (parse_addr(t, t + n, &x, err))
		return -1;
	x.port_lo = 0;
	x.port_hi = x.proto == VFW_ICMP ? 255 : 65535;
	n = token(&s, &t);
	if (n) {
		if (x.proto == VFW_ANY) {
			*err = "a port needs tcp, udp or icmp, not any";
			return -1;
		}
		uint16_t full = x.port_hi;
		if (parse_ports(t, t + n, &x, err))
			return -1;
		if (x.port_lo == 0 && x.port_hi == full) {
			*err = "the full port range is written by leaving the port out";
			return -1;
		}
		/* "80-80" is written "80" */
		const char *dash = t;
		while (dash < t + n && *dash != '-')
			dash++;
		if (dash < t + n && x.port_lo == x.port_hi) {
			*err = "a single port is written N, not N-N";
			return -1;
		}
		n = token(&s, &t);
		if (n) {
			*err = "trailing text after the port";
			return -1;
		}
	}
	*r = x;
	return 0;
}

/* Output with a bound: put() never writes past len - 1. */
struct out {
	char *buf;
	size_t len, pos;
	int over;
};

static void put(struct out *o, const char *s)
{
	for (; *s; s++) {
		if (o->pos + 1 >= o->len) {
			o->over = 1;
			return;
		}
		o->buf[o->pos++] = *s;
	}
}

static void put_num(struct out *o, unsigned long v)
{
	char d[24];
	int i = 23;
	d[i] = 0;
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, d + i);
}

int vfw_format(const struct vfw_rule *r, char *buf, size_t len)
{
	struct out o = { buf, len, 0, 0 };
	if (!len)
		return -1;
	put(&o, r->dir == VFW_OUT ? "out " : "in ");
	put(&o, r->accept ? "accept " : "drop ");
	put(&o, r->proto == VFW_TCP ? "tcp " : r->proto == VFW_UDP ? "udp "
	        : r->proto == VFW_ICMP ? "icmp " : "any ");
	for (int i = 3; i >= 0; i--) {
		put_num(&o, (r->addr >> (8 * i)) & 0xff);
		put(&o, i ? "." : "/");
	}
	put_num(&o, r->prefix);
	unsigned full = r->proto == VFW_ICMP ? 255 : 65535;
	if (r->proto != VFW_ANY && !(r->port_lo == 0 && r->port_hi == full)) {
		put(&o, " ");
		put_num(&o, r->port_lo);
		if (r->port_hi != r->port_lo) {
			put(&o, "-");
			put_num(&o, r->port_hi);
		}
	}
	buf[o.pos] = 0;
	return o.over ? -1 : (int)o.pos;
}

int vfw_insert(struct vfw *fw, unsigned pos, const struct vfw_rule *r)
{
	if (fw->count >= VFW_RULES_MAX)
		return -1;
	if (pos > fw->count)
		pos = fw->count;
	for (unsigned i = fw->count; i > pos; i--)
		fw->rule[i] = fw->rule[i - 1];
	fw->rule[pos] = *r;
	fw->rule[pos].frames = fw->rule[pos].bytes = 0;
	fw->count++;
	return 0;
}

int vfw_delete(struct vfw *fw, unsigned pos)
{
	if (pos >= fw->count)
		return -1;
	for (unsigned i = pos; i + 1 < fw->count; i++)
		fw->rule[i] = fw->rule[i + 1];
	fw->count--;
	return 0;
}

static int rule_matches(const struct vfw_rule *r, const struct vfw_pkt *p)
{
	if (r->proto != VFW_ANY && r->proto != p->proto)
		return 0;
	uint32_t a = r->dir == VFW_OUT ? p->dst : p->src;
	uint32_t mask = r->prefix == 0 ? 0 : 0xffffffffu << (32 - r->prefix);
	if ((a & mask) != r->addr)
		return 0;
	if (r->proto == VFW_ANY)
		return 1;
	unsigned full = r->proto == VFW_ICMP ? 255 : 65535;
	if (r->port_lo == 0 && r->port_hi == full)
		return 1;
	return p->has_port && p->port >= r->port_lo && p->port <= r->port_hi;
}

enum vfw_verdict vfw_match(struct vfw *fw, enum vfw_dir dir, const struct vfw_pkt *p)
{
	for (unsigned i = 0; i < fw->count && i < VFW_RULES_MAX; i++) {
		struct vfw_rule *r = &fw->rule[i];
		if (r->dir != dir || !rule_matches(r, p))
			continue;
		r->frames++;
		r->bytes += p->len;
		return r->accept ? VFW_ACCEPT : VFW_DROP;
	}
	return VFW_NONE;
}
