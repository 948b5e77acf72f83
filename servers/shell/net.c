/* The shell's network commands: ifconfig and ping, on the network
 * server's published port ("net", idl/socket.idl).  They need no
 * session: both methods answer on the published port.  The right is
 * looked up for each command, so a restarted server is simply found
 * again. */
#include <libipc/libipc.h>
#include "socket.h"      /* generated from idl/socket.idl */
#include "net_socket.h"  /* inet_aton */
#include "shell.h"

#define PING_SIZE 56
#define PING_TIMEOUT_MS 1000
#define PING_INTERVAL_TICKS 100   /* one a second, as ping does */
#define PING_MAX_COUNT 100

static void dotted(uint32_t a, char *buf, size_t size)
{
	debug_snprintf(buf, size, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

void cmd_ifconfig(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)argv;
	(void)line;
	uint64_t net = lookup("net");
	if (!net) {
		out("ifconfig: no network server ('net' is not published)\n");
		return;
	}
	uint32_t addr, mask, gw, mtu, flags;
	uint64_t mac, rxf, rxb, txf, txb, dropped;
	long err = socket_ifconfig(net, &addr, &mask, &gw, &mac, &mtu, &flags, &rxf, &rxb, &txf, &txb, &dropped);
	drop(net);
	if (err) {
		outf("ifconfig: the network server did not answer (%ld)\n", err);
		return;
	}
	char a[16], m[16], g[16];
	dotted(addr, a, sizeof(a));
	dotted(mask, m, sizeof(m));
	dotted(gw, g, sizeof(g));
	outf("en0: link %s%s, mtu %u\n", (flags & 1) ? "up" : "down", (flags & 4) ? "" : " (no driver attached)", mtu);
	outf("    ether %02x:%02x:%02x:%02x:%02x:%02x\n", (unsigned)(mac & 255), (unsigned)(mac >> 8 & 255),
	     (unsigned)(mac >> 16 & 255), (unsigned)(mac >> 24 & 255), (unsigned)(mac >> 32 & 255),
	     (unsigned)(mac >> 40 & 255));
	if (flags & 2)
		outf("    inet %s netmask %s gateway %s\n", a, m, g);
	else
		out("    inet (none yet: DHCP has not answered)\n");
	outf("    rx %lu frames, %lu bytes; tx %lu frames, %lu bytes; dropped %lu\n", rxf, rxb, txf, txb, dropped);
}

static void milliseconds(uint32_t us, char *buf, size_t size)
{
	debug_snprintf(buf, size, "%u.%03u ms", us / 1000, us % 1000);
}

void cmd_ping(int argc, char **argv, const struct words *line)
{
	(void)line;
	const char *host = argv[1];
	unsigned count = 4;
	if (argc > 2) {
		const char *c = argv[2];
		count = 0;
		while (*c >= '0' && *c <= '9' && count <= PING_MAX_COUNT)
			count = count * 10 + (unsigned)(*c++ - '0');
		if (*c || !count || count > PING_MAX_COUNT) {
			outf("ping: COUNT is 1..%d, not '%s'; usage: ping A.B.C.D [COUNT]\n", PING_MAX_COUNT, argv[2]);
			return;
		}
	}
	struct in_addr in;
	if (!inet_aton(host, &in)) {
		outf("ping: '%s' is not an address A.B.C.D; usage: ping A.B.C.D [COUNT]\n", host);
		return;
	}
	uint32_t addr = ntohl(in.s_addr);
	uint64_t net = lookup("net");
	if (!net) {
		out("ping: no network server ('net' is not published)\n");
		return;
	}
	outf("PING %s: %u data bytes\n", host, PING_SIZE);
	unsigned received = 0;
	uint32_t min = UINT32_MAX, max = 0;
	uint64_t sum = 0;
	for (unsigned seq = 1; seq <= count; seq++) {
		uint64_t start = clock_ms();
		uint32_t rtt, ttl;
		long err = socket_ping(net, addr, seq, PING_SIZE, PING_TIMEOUT_MS, &rtt, &ttl);
		if (err == E_OK) {
			char t[24];
			milliseconds(rtt, t, sizeof(t));
			outf("%u bytes from %s: seq=%u ttl=%u time=%s\n", PING_SIZE + 8, host, seq, ttl, t);
			received++;
			sum += rtt;
			min = rtt < min ? rtt : min;
			max = rtt > max ? rtt : max;
		} else if (err == E_WOULD_BLOCK) {
			outf("seq=%u: no reply within %u ms\n", seq, PING_TIMEOUT_MS);
		} else {
			outf("seq=%u: failed (%ld)\n", seq, err);
			if (err == E_DEAD_PORT || err == E_NO_REPLY || err == E_BAD_CAP)
				break;
		}
		uint64_t spent = clock_ms() - start;
		if (seq < count && spent < PING_INTERVAL_TICKS * 10)
			clock_nap((unsigned)((PING_INTERVAL_TICKS * 10 - spent) / 10));
	}
	drop(net);
	outf("%u sent, %u received, %u%% lost", count, received, (count - received) * 100 / count);
	if (received) {
		char a[24], b[24], c[24];
		milliseconds(min, a, sizeof(a));
		milliseconds((uint32_t)(sum / received), b, sizeof(b));
		milliseconds(max, c, sizeof(c));
		outf("; round trip min %s, avg %s, max %s", a, b, c);
	}
	out("\n");
}
