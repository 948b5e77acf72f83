/* Host unit tests for servers/net/vfw.c: the switch's firewall rules --
 * every field of the text form (parsed, printed back byte for byte),
 * bad text refused with a message, insert/delete, and matching: the
 * first rule of a direction decides, addresses by prefix, protocols,
 * port ranges, ICMP types, fragments without ports, per-rule counters. */
// unit-under-test: servers/net/vfw.c
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "../../servers/net/vfw.h"

static int round_trip(const char *text)
{
	struct vfw_rule r;
	const char *err;
	char buf[VFW_TEXT_MAX];
	if (vfw_parse(text, &r, &err))
		return 0;
	if (vfw_format(&r, buf, sizeof buf) != (int)strlen(text))
		return 0;
	return strcmp(buf, text) == 0;
}

static void test_round_trip(void)
{
	static const char *const good[] = {
		"out accept tcp 10.0.2.2/32 80",
		"in drop any 0.0.0.0/0",
		"in accept udp 10.0.2.0/24 5000-5100",
		"out drop icmp 0.0.0.0/0 8",
		"out accept icmp 192.168.0.0/16 0-3",
		"in accept tcp 255.255.255.255/32 65535",
		"out drop udp 128.0.0.0/1 0",
		"in accept icmp 10.0.0.0/8",
		"out accept tcp 172.16.0.0/12",
		"in drop udp 1.2.3.4/32 1-65535",
		"out drop any 224.0.0.0/4",
	};
	for (unsigned i = 0; i < sizeof good / sizeof good[0]; i++)
		CHECK(round_trip(good[i]), "round trip: '%s'", good[i]);

	struct vfw_rule r;
	const char *err;
	CHECK(vfw_parse("  out\taccept   tcp 10.0.2.2/32   80  ", &r, &err) == 0, "spaces and tabs between tokens");
	char buf[VFW_TEXT_MAX];
	vfw_format(&r, buf, sizeof buf);
	CHECK(strcmp(buf, "out accept tcp 10.0.2.2/32 80") == 0, "printed in canonical form: '%s'", buf);
	CHECK(vfw_format(&r, buf, 10) == -1 && strlen(buf) < 10, "short buffer: -1, no overflow");
	CHECK(vfw_format(&r, buf, 0) == -1, "zero buffer: -1");

	vfw_parse("in accept udp 10.0.2.0/24 5000-5100", &r, &err);
	CHECK(r.dir == VFW_IN && r.accept == 1 && r.proto == VFW_UDP && r.addr == 0x0a000200 &&
	      r.prefix == 24 && r.port_lo == 5000 && r.port_hi == 5100, "fields of 'in accept udp 10.0.2.0/24 5000-5100'");
	vfw_parse("out drop icmp 0.0.0.0/0", &r, &err);
	CHECK(r.dir == VFW_OUT && r.accept == 0 && r.proto == VFW_ICMP && r.prefix == 0 &&
	      r.port_lo == 0 && r.port_hi == 255, "icmp without a type: every type");
	vfw_parse("in drop any 0.0.0.0/0", &r, &err);
	CHECK(r.proto == VFW_ANY && r.port_lo == 0 && r.port_hi == 65535, "any: every port");
}

static void test_errors(void)
{
	static const struct { const char *text, *want; } bad[] = {
		{ "", "empty" },
		{ "   ", "empty" },
		{ "sideways accept tcp 1.2.3.4/32", "direction" },
		{ "out allow tcp 1.2.3.4/32", "action" },
		{ "out accept sctp 1.2.3.4/32", "protocol" },
		{ "out accept tcp", "missing address" },
		{ "out accept tcp 1.2.3.4", "PREFIX" },
		{ "out accept tcp 1.2.3/24", "address" },
		{ "out accept tcp 1.2.3.256/32", "address" },
		{ "out accept tcp 1.2.3.04/32", "leading zeros" },
		{ "out accept tcp 1.2.3.4/33", "prefix" },
		{ "out accept tcp 1.2.3.4/", "prefix" },
		{ "out accept tcp 1.2.3.4/24", "past its prefix" },
		{ "out accept tcp 1.2.3.4/32x", "prefix" },
		{ "out accept any 1.2.3.4/32 80", "not any" },
		{ "out accept tcp 1.2.3.4/32 65536", "port" },
		{ "out accept tcp 1.2.3.4/32 80-", "port" },
		{ "out accept tcp 1.2.3.4/32 -80", "port" },
		{ "out accept tcp 1.2.3.4/32 90-80", "above" },
		{ "out accept tcp 1.2.3.4/32 80-80", "single port" },
		{ "out accept tcp 1.2.3.4/32 0-65535", "full port range" },
		{ "out accept icmp 1.2.3.4/32 256", "ICMP type" },
		{ "out accept icmp 1.2.3.4/32 0-255", "full port range" },
		{ "out accept tcp 1.2.3.4/32 80 81", "trailing" },
		{ "out accept tcp 1.2.3.4/32 eighty", "port" },
		{ "OUT accept tcp 1.2.3.4/32", "direction" },
		{ "out accept tcp 99999999999999999999.0.0.0/0", "address" },
	};
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct vfw_rule r;
		memset(&r, 0x5a, sizeof r);
		const char *err = 0;
		int rc = vfw_parse(bad[i].text, &r, &err);
		CHECK(rc == -1 && err && strstr(err, bad[i].want) && r.dir == 0x5a,
		      "'%s' refused: %s", bad[i].text, err ? err : "(no message)");
	}
	/* random text never crashes and any accepted text round-trips */
	srand(7);
	int ok = 1, accepted = 0;
	static const char alphabet[] = "inoutacepdrpyctpudm0123456789./- \t";
	for (int n = 0; n < 20000; n++) {
		char t[48];
		int len = rand() % 47;
		for (int i = 0; i < len; i++)
			t[i] = alphabet[rand() % (sizeof alphabet - 1)];
		t[len] = 0;
		if (n % 4 == 0)   /* mutate a good rule */
			strcpy(t, "out accept tcp 10.0.2.0/24 80-90"), t[rand() % 32] = alphabet[rand() % (sizeof alphabet - 1)];
		struct vfw_rule r;
		const char *err = 0;
		if (vfw_parse(t, &r, &err) == 0) {
			accepted++;
			char buf[VFW_TEXT_MAX];
			struct vfw_rule r2;
			ok &= vfw_format(&r, buf, sizeof buf) > 0 && vfw_parse(buf, &r2, &err) == 0 &&
			      memcmp(&r, &r2, sizeof r) == 0;
		} else
			ok &= err != 0;
	}
	CHECK(ok, "20000 random texts: refused with a message, or reparsed identically (%d accepted)", accepted);
}

static struct vfw_rule rule(const char *text)
{
	struct vfw_rule r;
	const char *err;
	if (vfw_parse(text, &r, &err)) {
		printf("# bad test rule '%s': %s\n", text, err);
		abort();
	}
	return r;
}

static struct vfw_pkt pkt(uint8_t proto, uint32_t src, uint32_t dst, int port)
{
	struct vfw_pkt p = { .proto = proto, .src = src, .dst = dst, .len = 100 };
	if (port >= 0) {
		p.has_port = 1;
		p.port = (uint16_t)port;
	}
	return p;
}

static void test_match(void)
{
	static struct vfw fw;
	vfw_init(&fw);
	struct vfw_pkt p = pkt(VFW_TCP, 0x0a00020f, 0x0a000202, 80);
	CHECK(vfw_match(&fw, VFW_OUT, &p) == VFW_NONE, "no rules: no verdict");

	struct vfw_rule r = rule("out accept tcp 10.0.2.2/32 80");
	CHECK(vfw_insert(&fw, 0, &r) == 0, "insert");
	CHECK(vfw_match(&fw, VFW_OUT, &p) == VFW_ACCEPT, "out tcp to 10.0.2.2:80 accepted");
	CHECK(vfw_match(&fw, VFW_IN, &p) == VFW_NONE, "an out rule does not match in");
	p.port = 81;
	CHECK(vfw_match(&fw, VFW_OUT, &p) == VFW_NONE, "port 81 does not match port 80");
	p.port = 80;
	p.dst = 0x0a000203;
	CHECK(vfw_match(&fw, VFW_OUT, &p) == VFW_NONE, "other address does not match /32");
	p.dst = 0x0a000202;
	p.proto = VFW_UDP;
	CHECK(vfw_match(&fw, VFW_OUT, &p) == VFW_NONE, "udp does not match tcp");
	p.proto = VFW_TCP;
	p.has_port = 0;
	CHECK(vfw_match(&fw, VFW_OUT, &p) == VFW_NONE, "fragment without port does not match a port rule");
	CHECK(fw.rule[0].frames == 1 && fw.rule[0].bytes == 100, "rule counted the one frame it decided");

	/* order: first match decides */
	r = rule("out drop any 10.0.0.0/8");
	vfw_insert(&fw, 99, &r);          /* appended */
	p.has_port = 1;
	CHECK(vfw_match(&fw, VFW_OUT, &p) == VFW_ACCEPT, "earlier accept wins over later drop");
	p.port = 22;
	CHECK(vfw_match(&fw, VFW_OUT, &p) == VFW_DROP, "later drop catches the rest of 10/8");
	p.has_port = 0;
	CHECK(vfw_match(&fw, VFW_OUT, &p) == VFW_DROP, "any matches a fragment");
	p.dst = 0x0b000001;
	CHECK(vfw_match(&fw, VFW_OUT, &p) == VFW_NONE, "11.0.0.1 is outside 10/8");
	r = rule("out drop tcp 10.0.2.2/32");
	vfw_insert(&fw, 0, &r);
	p = pkt(VFW_TCP, 0, 0x0a000202, 80);
	CHECK(vfw_match(&fw, VFW_OUT, &p) == VFW_DROP, "a rule inserted first wins");
	CHECK(vfw_delete(&fw, 0) == 0 && vfw_match(&fw, VFW_OUT, &p) == VFW_ACCEPT, "deleted: the old order again");
	CHECK(vfw_delete(&fw, 5) == -1, "delete past the end refused");
	CHECK(fw.rule[0].frames == 3 && fw.rule[1].frames == 2, "counters per rule (%lu, %lu)",
	      (unsigned long)fw.rule[0].frames, (unsigned long)fw.rule[1].frames);

	/* in: the address is the source; port ranges; icmp types */
	vfw_init(&fw);
	r = rule("in accept udp 192.168.1.0/24 5000-5100");
	vfw_insert(&fw, 9, &r);
	r = rule("in drop icmp 0.0.0.0/0 8");
	vfw_insert(&fw, 9, &r);
	r = rule("in accept icmp 0.0.0.0/0");
	vfw_insert(&fw, 9, &r);
	CHECK(vfw_match(&fw, VFW_IN, &(struct vfw_pkt){ .proto = VFW_UDP, .src = 0xc0a80105, .dst = 1, .has_port = 1, .port = 5000 }) == VFW_ACCEPT, "in: port at the low end of the range");
	CHECK(vfw_match(&fw, VFW_IN, &(struct vfw_pkt){ .proto = VFW_UDP, .src = 0xc0a801ff, .dst = 1, .has_port = 1, .port = 5100 }) == VFW_ACCEPT, "in: port at the high end");
	CHECK(vfw_match(&fw, VFW_IN, &(struct vfw_pkt){ .proto = VFW_UDP, .src = 0xc0a80105, .dst = 1, .has_port = 1, .port = 5101 }) == VFW_NONE, "in: port past the range");
	CHECK(vfw_match(&fw, VFW_IN, &(struct vfw_pkt){ .proto = VFW_UDP, .src = 0xc0a80105, .dst = 1, .has_port = 1, .port = 4999 }) == VFW_NONE, "in: port below the range");
	CHECK(vfw_match(&fw, VFW_IN, &(struct vfw_pkt){ .proto = VFW_UDP, .src = 0xc0a80205, .dst = 0xc0a80105, .has_port = 1, .port = 5000 }) == VFW_NONE, "in: matched on the source, not the destination");
	CHECK(vfw_match(&fw, VFW_IN, &(struct vfw_pkt){ .proto = VFW_ICMP, .src = 5, .has_port = 1, .port = 8 }) == VFW_DROP, "icmp type 8 dropped");
	CHECK(vfw_match(&fw, VFW_IN, &(struct vfw_pkt){ .proto = VFW_ICMP, .src = 5, .has_port = 1, .port = 0 }) == VFW_ACCEPT, "icmp type 0 accepted");

	vfw_init(&fw);
	int full = 1;
	for (unsigned i = 0; i < VFW_RULES_MAX; i++)
		full &= vfw_insert(&fw, i, &r) == 0;
	CHECK(full && vfw_insert(&fw, 0, &r) == -1, "%d rules fit, one more is refused", VFW_RULES_MAX);
}

int main(void)
{
	test_round_trip();
	test_errors();
	test_match();
	return unit_done();
}
