/* Two fake guests on the network server's switch ("switch",
 * idl/vswitch.idl): this program attaches as VMs "g1" and "g2" and moves
 * hand-made Ethernet frames through each session's buffer.  Checked:
 * the addresses attach gives; ARP for the gateway 10.0.4.1 and a ping
 * to it answered by Berth's lwIP; g1 -> g2 dropped by default and let
 * through after fw_insert on both ports, with the rules' and ports'
 * counters; a spoofed source dropped and counted; malformed calls
 * refused; a detach brings the port down and a new attach of the same
 * name gets the same MAC, address and rules back; through NAT g1 pings
 * QEMU's gateway 10.0.2.2; a forward of Berth's port 8081 to g1's port
 * 80 carries the host's connection (tools/vswitch_forward.py through
 * QEMU's hostfwd on 127.0.0.1) to g1, which answers SYN and data by
 * hand.  The uplink is QEMU's user network (restrict=on); nothing here
 * leaves the machine.  Last, the server is killed: after its restart
 * each name asks for the address it had and gets it back, whatever order
 * they attach in (the rules and forwards died with the server: the VMMs
 * set those of their manifests again, docs/net.md). */
// test-root: build/init.elf
// test-module: tests/system/manifests/vswitch_guests.manifest
// test-module: build/pci.elf
// test-module: build/virtio_net.elf
// test-module: build/net.elf
// test-hostfwd: fwd
// test-net: user hostfwd=tcp:127.0.0.1:{hostfwd:fwd}-:8081
// test-host: ^vswitch: forward ready => {python} tools/vswitch_forward.py {hostfwd:fwd}
// test-expect: ^init: 'switch' published
// test-timeout: 120
#include "tap.h"
#include <string.h>
#include "init.h"
#include "vswitch.h"
#include "eth.h"
#include "vswitch_guest.h"

#define INIT 8
#define GATEWAY 0x0a000401u

static uint64_t sw, port_send;
static struct vsw_guest g1 = { .name = "g1", .vaddr = 0x40000000 }, g2 = { .name = "g2", .vaddr = 0x40100000 };
static uint8_t out[1514], in[2048];

#define attach(g) vsw_guest_attach(g, sw)
#define send_frame vsw_guest_send
#define recv_until(g, want, ticks) vsw_guest_recv(g, in, want, ticks)

static int arp_reply_from_gateway(const uint8_t *f, unsigned len)
{
	return len >= 42 && get16(f + 12) == ETH_ARP && get16(f + 20) == 2 && f[28] == 10 && f[29] == 0 &&
	       f[30] == 4 && f[31] == 1;
}

static int echo_reply(const uint8_t *f, unsigned len)
{
	return len >= 42 && get16(f + 12) == ETH_IP && f[23] == 1 && f[34] == 0;
}

static int echo_request(const uint8_t *f, unsigned len)
{
	return len >= 42 && get16(f + 12) == ETH_IP && f[23] == 1 && f[34] == 8;
}

static void ip_bytes(uint8_t b[4], uint32_t ip)
{
	b[0] = (uint8_t)(ip >> 24), b[1] = (uint8_t)(ip >> 16), b[2] = (uint8_t)(ip >> 8), b[3] = (uint8_t)ip;
}

/* An ICMP echo request from src to dst (64 bytes of payload). */
static unsigned ping_frame(uint64_t smac, const uint8_t dmac[6], uint32_t src, uint32_t dst, uint16_t seq)
{
	memset(out, 0, 14 + 20 + 8 + 64);
	memcpy(out, dmac, 6);
	put_mac(out + 6, smac);
	put16(out + 12, ETH_IP);
	uint8_t *ip = out + 14;
	ip[0] = 0x45;
	put16(ip + 2, 20 + 8 + 64);
	ip[8] = 64;
	ip[9] = 1;
	ip_bytes(ip + 12, src);
	ip_bytes(ip + 16, dst);
	put16(ip + 10, inet_sum(ip, 20));
	uint8_t *icmp = ip + 20;
	icmp[0] = 8;
	put16(icmp + 4, 0x4242);
	put16(icmp + 6, seq);
	for (int i = 0; i < 64; i++)
		icmp[8 + i] = (uint8_t)i;
	put16(icmp + 2, inet_sum(icmp, 8 + 64));
	return 14 + 20 + 8 + 64;
}

static int echo_reply_from_outside(const uint8_t *f, unsigned len)
{
	return echo_reply(f, len) && f[26] == 10 && f[27] == 0 && f[28] == 2 && f[29] == 2 && f[30] == 10 &&
	       f[31] == 0 && f[32] == 4 && f[33] == 10 && get16(f + 38) == 0x4242;
}

static uint32_t sum_add(uint32_t s, const uint8_t *p, unsigned n)
{
	for (unsigned i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t sum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* The TCP checksum of the segment at ip (its IPv4 header 20 bytes). */
static uint16_t tcp_sum(const uint8_t *ip, unsigned total)
{
	uint32_t s = sum_add(0, ip + 12, 8) + 6 + (total - 20);
	return sum_fold(sum_add(s, ip + 20, total - 20));
}

static int tcp_to_80(const uint8_t *f, unsigned len)
{
	return len >= 54 && get16(f + 12) == ETH_IP && f[23] == 6 && (f[14] & 15) == 5 && get16(f + 36) == 80;
}

/* A TCP segment from g1's port 80 back to what `in` holds. */
static unsigned tcp_frame(uint8_t flags, uint32_t seq, uint32_t ack, const char *data)
{
	unsigned n = data ? (unsigned)strlen(data) : 0;
	memset(out, 0, 54 + n);
	memcpy(out, in + 6, 6);
	memcpy(out + 6, in, 6);
	put16(out + 12, ETH_IP);
	uint8_t *ip = out + 14;
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(40 + n));
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, in + 30, 4);
	memcpy(ip + 16, in + 26, 4);
	put16(ip + 10, inet_sum(ip, 20));
	uint8_t *t = ip + 20;
	memcpy(t, in + 36, 2);
	memcpy(t + 2, in + 34, 2);
	put16(t + 4, (uint16_t)(seq >> 16));
	put16(t + 6, (uint16_t)seq);
	put16(t + 8, (uint16_t)(ack >> 16));
	put16(t + 10, (uint16_t)ack);
	t[12] = 5 << 4;
	t[13] = flags;
	put16(t + 14, 8192);
	if (n)
		memcpy(t + 20, data, n);
	put16(t + 16, tcp_sum(ip, 40 + n));
	return 54 + n;
}

static int rst_from_gateway(const uint8_t *f, unsigned len)
{
	return len >= 54 && get16(f + 12) == ETH_IP && f[23] == 6 && f[26] == 10 && f[29] == 1 &&
	       get16(f + 36) == 33000 && (f[47] & 0x04);
}

static uint32_t get32be(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static void stats(const char *vm, uint64_t *from_dropped, uint64_t *to_frames, char why[32])
{
	uint64_t mac, from_frames, to_dropped;
	uint32_t ip, up;
	memset(why, 0, 32);
	*from_dropped = *to_frames = ~0ULL;
	vswitch_port_stats(sw, vm, &mac, &ip, &up, &from_frames, from_dropped, to_frames, &to_dropped, why);
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(34);
	long err = vsw_guest_port(&port_send);
	/* "switch" is published a moment after "net", which this program needs */
	for (int i = 0; err == E_OK && i < 300; i++) {
		long e = init_lookup(INIT, "switch", &sw);
		if (e == E_OK)
			break;
		if (i == 299)
			err = e;
		vsw_guest_nap();
	}
	tap_eq(err, E_OK, "looked up 'switch'");
	if (err)
		tap_done();
	/* the uplink (and so the local port) comes up when the server has attached to the driver */
	for (int i = 0; i < 300; i++) {
		err = attach(&g1);
		uint8_t gw[4];
		ip_bytes(gw, GATEWAY);
		uint8_t me[4];
		ip_bytes(me, g1.ip);
		if (!err && !send_frame(&g1, out, arp_request_frame(out, g1.mac, me, gw)) &&
		    recv_until(&g1, arp_reply_from_gateway, 10))
			break;
		err = E_LIMIT;
	}
	tap_eq(err, E_OK, "g1 attached and its ARP request for 10.0.4.1 was answered");
	tap_ok(g1.ip == 0x0a00040a && g1.prefix == 24 && g1.gateway == GATEWAY && g1.mac == 0x0a04be005452ULL,
	       "g1 is 10.0.4.10/24 via 10.0.4.1, mac 52:54:00:be:04:0a (%x/%u via %x, %lx)", g1.ip, g1.prefix,
	       g1.gateway, g1.mac);
	uint8_t gw_mac[6];
	memcpy(gw_mac, in + 22, 6);
	tap_eq(attach(&g2), E_OK, "g2 attached");
	tap_ok(g2.ip == 0x0a00040b && g2.mac != g1.mac, "g2 is 10.0.4.11 with a MAC of its own");

	tap_eq(send_frame(&g1, out, ping_frame(g1.mac, gw_mac, g1.ip, GATEWAY, 1)), E_OK, "g1 pings the gateway");
	tap_ok(recv_until(&g1, echo_reply, 100) != 0, "the gateway (Berth's lwIP) answered g1's ping");

	/* TCP to Berth's stack on the guests' network: a SYN to a closed port gets lwIP's RST */
	memset(in, 0, 54);
	memcpy(in + 6, gw_mac, 6);
	put_mac(in, g1.mac);
	ip_bytes(in + 30, g1.ip);
	ip_bytes(in + 26, GATEWAY);
	put16(in + 36, 33000);
	put16(in + 34, 81);
	send_frame(&g1, out, tcp_frame(0x02, 5000, 0, 0));
	tap_ok(recv_until(&g1, rst_from_gateway, 100) != 0, "a SYN to 10.0.4.1:81 (closed) was answered by lwIP's RST");

	/* through NAT to QEMU's gateway */
	uint8_t outside_ok = 0;
	for (int i = 0; i < 5 && !outside_ok; i++) {
		send_frame(&g1, out, ping_frame(g1.mac, gw_mac, g1.ip, 0x0a000202u, (uint16_t)(10 + i)));
		outside_ok = recv_until(&g1, echo_reply_from_outside, 100) != 0;
	}
	tap_ok(outside_ok, "g1 pinged 10.0.2.2 through NAT and the reply came back to 10.0.4.10, id kept");
	tap_ok(outside_ok && sum_fold(sum_add(0, in + 14, 20)) == 0 && sum_fold(sum_add(0, in + 34, 8 + 64)) == 0,
	       "the translated reply's IPv4 and ICMP checksums are right");

	/* guest to guest: blocked by default */
	uint8_t g2_mac[6];
	put_mac(g2_mac, g2.mac);
	uint64_t dropped0, to0, dropped1, to1;
	char why[32];
	stats("g1", &dropped0, &to0, why);
	send_frame(&g1, out, ping_frame(g1.mac, g2_mac, g1.ip, g2.ip, 2));
	tap_ok(!recv_until(&g2, echo_request, 20), "g1's ping to g2 did not reach g2 (no rules)");
	stats("g1", &dropped1, &to1, why);
	tap_ok(dropped1 == dropped0 + 1 && !strcmp(why, "firewall"), "counted on g1: %lu -> %lu dropped, '%s'",
	       dropped0, dropped1, why);

	/* allowed after a rule on each side */
	tap_eq(vswitch_fw_insert(sw, "g1", 0, "out accept icmp 10.0.4.11/32"), E_OK, "fw_insert on g1");
	tap_eq(vswitch_fw_insert(sw, "g2", 0, "in accept icmp 10.0.4.10/32"), E_OK, "fw_insert on g2");
	send_frame(&g1, out, ping_frame(g1.mac, g2_mac, g1.ip, g2.ip, 3));
	tap_ok(recv_until(&g2, echo_request, 50) != 0, "g1's ping reached g2 after the rules");
	uint32_t more = 0;
	char rule[64] = "";
	uint64_t f1 = 0, f2 = 0, bytes;
	vswitch_fw_rule(sw, "g1", 0, &more, rule, &f1, &bytes);
	vswitch_fw_rule(sw, "g2", 0, &more, rule, &f2, &bytes);
	tap_ok(f1 == 1 && f2 == 1 && more == 1, "each rule counted the frame (%lu, %lu): '%s'", f1, f2, rule);

	/* a spoofed source address */
	stats("g1", &dropped0, &to0, why);
	send_frame(&g1, out, ping_frame(g1.mac, gw_mac, 0x0a000463u, GATEWAY, 4));
	stats("g1", &dropped1, &to1, why);
	tap_ok(dropped1 == dropped0 + 1 && !strcmp(why, "spoofed ip"), "a spoofed source dropped: '%s'", why);

	/* malformed calls */
	uint16_t slot[32] = { 0 }, len[32] = { 0 }, done[32];
	uint32_t n, got;
	slot[0] = 0, len[0] = 60;   /* a receive slot */
	long e1 = vswitch_transmit(g1.session, 1, slot, len, &n, done);
	slot[0] = (uint16_t)g1.rx, len[0] = 0;
	long e2 = vswitch_transmit(g1.session, 1, slot, len, &n, done);
	slot[0] = 9999, len[0] = 60;
	long e3 = vswitch_transmit(g1.session, 1, slot, len, &n, done);
	long e4 = vswitch_transmit(g1.session, 33, slot, len, &n, done);
	tap_ok(e1 == E_BAD_ARG && e2 == E_BAD_ARG && e3 == E_BAD_ARG && e4 == E_BAD_ARG,
	       "bad transmits refused (%ld %ld %ld %ld)", e1, e2, e3, e4);
	slot[0] = 5;   /* a receive slot g1 does not hold */
	tap_eq(vswitch_receive(g1.session, 1, slot, &got, slot, len), E_BAD_ARG, "giving back a slot not held: refused");
	long e5 = vswitch_fw_insert(sw, "g1", 0, "sideways accept tcp");
	long e6 = vswitch_fw_insert(sw, "nobody", 0, "in accept any 0.0.0.0/0");
	long e7 = vswitch_fw_delete(sw, "g1", 40);
	tap_ok(e5 == E_BAD_ARG && e6 == E_BAD_ARG && e7 == E_BAD_ARG, "bad rule text, unknown VM, no such rule (%ld %ld %ld)",
	       e5, e6, e7);
	uint64_t s, mac;
	uint32_t pages, rx, tx, ip, prefix, gw;
	long e8 = vswitch_attach(sw, "", port_send, 1, 0, &s, &pages, &rx, &tx, &mac, &ip, &prefix, &gw);
	long e9 = vswitch_attach(g1.session, "g3", port_send, 1, 0, &s, &pages, &rx, &tx, &mac, &ip, &prefix, &gw);
	long e10 = vswitch_reclaim(sw, &n, done);
	tap_ok(e8 == E_BAD_ARG && e9 == E_STATE && e10 == E_STATE, "bad name, methods on the wrong port (%ld %ld %ld)", e8,
	       e9, e10);

	/* detach and attach again: the same addresses and rules */
	uint64_t old_session = g2.session;
	tap_eq(vswitch_detach(g2.session), E_OK, "g2 detached");
	uint64_t m2, fd, tf, td, ff;
	uint32_t ip2, up = 1;
	vswitch_port_stats(sw, "g2", &m2, &ip2, &up, &ff, &fd, &tf, &td, why);
	tap_ok(up == 0, "g2's port is down");
	tap_eq(vswitch_reclaim(old_session, &n, done), E_STATE, "the old session's right is refused");
	uint64_t mac_before = g2.mac;
	uint32_t ip_before = g2.ip;
	err = attach(&g2);
	more = 0;
	vswitch_fw_rule(sw, "g2", 0, &more, rule, &f2, &bytes);
	tap_ok(!err && g2.mac == mac_before && g2.ip == ip_before && more == 1 && !strcmp(rule, "in accept icmp 10.0.4.10/32"),
	       "g2 attached again: same MAC and address, its rule back ('%s')", rule);

	/* a forward: the host's 127.0.0.1 -> QEMU -> Berth's 8081 -> g1's 80 */
	tap_eq(vswitch_forward(sw, 6, 40001, "g1", 80), E_LIMIT, "a forward of a NAT port is refused");
	tap_eq(vswitch_forward(sw, 9, 8081, "g1", 80), E_BAD_ARG, "a forward of protocol 9 is refused");
	tap_eq(vswitch_forward(sw, 6, 8081, "g1", 80), E_OK, "forward tcp 8081 -> g1:80");
	debug_printf("vswitch: forward ready\n");
	int syn_ok = 0, answered = 0, closed = 0;
	/* until the host closes after reading our line (QEMU must not end first) */
	for (int t = 0; t < 40 && !closed; t++) {
		if (!recv_until(&g1, tcp_to_80, 50))
			continue;
		unsigned total = get16(in + 16);
		uint32_t seq = get32be(in + 38);
		if (in[47] & 0x02) {   /* SYN: answer SYN-ACK */
			syn_ok = tcp_sum(in + 14, total) == 0 && sum_fold(sum_add(0, in + 14, 20)) == 0 &&
			         get32be(in + 30) == g1.ip;
			send_frame(&g1, out, tcp_frame(0x12, 1000, seq + 1, 0));
		} else if (in[47] & 0x01) {   /* FIN: the host read it and closed */
			closed = 1;
		} else if (total > 40) {   /* the host's data (again, if our answer was lost): our line */
			send_frame(&g1, out, tcp_frame(0x18, 1001, seq + (total - 40), "hello from g1\n"));
			answered = 1;
		}
	}
	tap_ok(syn_ok, "the forwarded SYN reached g1's port 80 at 10.0.4.10 with right checksums");
	tap_ok(answered, "the host's data reached g1 after its SYN-ACK went back through NAT");

	/* The server killed and restarted: the new switch knows no names.
	 * g2 comes back first; each asks for the address it had and gets it
	 * (its port and MAC with it), so a guest's configuration still
	 * holds; a new name gets a free one; a name asking for a held
	 * address gets another. */
	uint32_t ip1 = g1.ip, ip2_had = g2.ip;
	uint64_t mac1 = g1.mac;
	tap_eq(init_kill(INIT, "net"), E_OK, "the network server killed");
	err = E_STATE;
	for (int i = 0; i < 500 && err; i++) {
		sys_cnode_delete(sw);
		err = init_lookup(INIT, "switch", &sw);
		err = err ? err : attach(&g2);
		uint8_t gw[4], me[4];
		ip_bytes(gw, GATEWAY);
		ip_bytes(me, g2.ip);
		if (!err && (send_frame(&g2, out, arp_request_frame(out, g2.mac, me, gw)) ||
		             !recv_until(&g2, arp_reply_from_gateway, 10)))
			err = E_LIMIT;
		if (err)
			vsw_guest_nap();
	}
	tap_ok(!err && g2.ip == ip2_had, "after the restart g2 attached first, kept 10.0.4.11 and reached the gateway (%ld, %x)",
	       err, g2.ip);
	err = attach(&g1);
	tap_ok(!err && g1.ip == ip1 && g1.mac == mac1, "g1 kept 10.0.4.10 and its MAC (%ld, %x)", err, g1.ip);
	static struct vsw_guest g3 = { .name = "g3", .vaddr = 0x40200000 },
	                        g4 = { .name = "g4", .vaddr = 0x40300000, .ip = 0x0a00040a };
	err = attach(&g3);
	long err4 = attach(&g4);
	tap_ok(!err && g3.ip == 0x0a00040c && !err4 && g4.ip == 0x0a00040d,
	       "a new name got 10.0.4.12; one asking for g1's address got 10.0.4.13 (%x %x)", g3.ip, g4.ip);
	tap_done();
}
