/* Malformed frames from the wire.  The NIC's wire is a UDP socket pair
 * on 127.0.0.1 (QEMU's -netdev dgram) whose other end is
 * tools/net_frames.py: it sends random bytes, runts (0..13 bytes),
 * oversize frames (1515..9000 bytes) and a broadcast storm, then
 * well-formed test frames that this client echoes back unchanged (the
 * script checks them byte-exact), then DONE with what it sent.  The
 * driver survives it all, drops and counts what is malformed (QEMU
 * itself drops frames longer than the 2 KiB receive buffers, so the
 * driver sees runts and 1515..2048-byte frames), and keeps delivering.
 * Last the script takes the link down and up (QEMU's set_link): the
 * driver learns it from a configuration-change interrupt and posts a
 * notification; info tells the link state. */
// test-root: build/init.elf
// test-module: tests/system/manifests/virtio_net_frames.manifest
// test-module: build/pci.elf
// test-module: build/virtio_net.elf
// test-net: dgram tools/net_frames.py
// test-expect: virtio-net net0: mac 52:54:00:12:34:56, link up
// test-expect: virtio-net: link down
// test-expect: virtio-net: link up
// test-timeout: 200
#include "tap.h"
#include "netif.h"
#include "net_client.h"
#include "eth.h"

static struct net_client c = { .nic = "net0", .name = "frames-test", .vaddr = 0x40000000 };
static uint8_t in[2048], out[NET_FRAME_MAX];

static int is_test(unsigned len, const char *tag)
{
	return len >= 18 && get16(in + 12) == ETH_TEST && !memcmp(in + 14, tag, 4);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(7);
	long err = net_connect(&c, 500);
	tap_eq(err, E_OK, "attached to net0");
	if (err)
		tap_done();

	/* READY until the script answers START (it may start listening late) */
	unsigned len = 0;
	int started = 0;
	memset(out, 0xff, 6);
	put_mac(out + 6, c.mac);
	put16(out + 12, ETH_TEST);
	memcpy(out + 14, "READY", 5);
	for (int i = 0; i < 120 && !started; i++) {
		if ((err = net_send(&c, out, 60)))
			break;
		while (!started && net_recv(&c, in, sizeof(in), &len, 50) == E_OK)
			started = is_test(len, "STAR");
	}
	tap_ok(started, "the host script answered (%ld)", err);
	if (!started)
		tap_done();

	/* echo test frames until DONE; count the rest */
	uint64_t frames = 0, storm = 0, echoed = 0, other = 0;
	uint32_t want_echoes = 0, malformed = 0, storm_sent = 0;
	int done = 0;
	while (!done) {
		if ((err = net_recv(&c, in, sizeof(in), &len, 1000)))
			break;
		frames++;
		if (len > NET_FRAME_MAX || len < 14) {
			other = ~0ULL; /* the driver let a malformed frame through */
			break;
		}
		if (get16(in + 12) == ETH_TEST + 1)
			storm++;
		else if (is_test(len, "ECHO")) {
			if ((err = net_send(&c, in, len)))
				break;
			echoed++;
		} else if (is_test(len, "DONE") && len >= 30) {
			want_echoes = get32(in + 18);
			malformed = get32(in + 22);
			storm_sent = get32(in + 26);
			done = 1;
		} else
			other++;
	}
	tap_ok(done && other != ~0ULL, "DONE arrived after %lu frames (%lu storm frames of %u, %lu others); none "
	       "malformed got through (%ld)", frames, storm, storm_sent, other, err);
	tap_ok(echoed >= want_echoes && want_echoes > 0, "%lu well-formed frames echoed (the script sent %u at least "
	       "once)", echoed, want_echoes);

	uint64_t rxf, rxb, txf, txb, drop, errors;
	err = netif_stats(c.session, &rxf, &rxb, &txf, &txb, &drop, &errors);
	/* QEMU delivers each datagram as a frame (promiscuous, no filter):
	 * every runt and 1515..2048-byte one reaches the driver, unless the
	 * host dropped a datagram */
	tap_ok(!err && drop > 0 && drop <= malformed && errors == 0,
	       "the driver dropped and counted %lu malformed frames (the script sent %u it must drop), %lu received, "
	       "%lu errors", drop, malformed, rxf, errors);
	memset(out, 0, 64);
	for (int i = 0; i < 6; i++)
		out[i] = in[6 + i];
	put_mac(out + 6, c.mac);
	put16(out + 12, ETH_TEST);
	memcpy(out + 14, "STAT", 4);
	put64(out + 18, rxf);
	put64(out + 26, drop);
	put64(out + 34, storm);
	put64(out + 42, echoed);
	err = net_send(&c, out, 60);
	tap_ok(!err, "the counters sent to the host script");
	debug_printf("frames-test: dropped %lu of %u malformed\n", drop, malformed);

	/* the link goes down and up: a notification each time, then info */
	int saw_down = 0, saw_up = 0;
	uint64_t wakes = c.wakes, down_wakes = 0;
	for (int i = 0; i < 100 && !saw_up; i++) {
		net_recv(&c, in, sizeof(in), &len, 20);
		uint64_t mac;
		uint32_t mtu, flags;
		if (netif_info(c.published, &mac, &mtu, &flags))
			break;
		if (!(flags & 1) && !saw_down) {
			saw_down = 1;
			down_wakes = c.wakes - wakes;
		} else if ((flags & 1) && saw_down)
			saw_up = 1;
	}
	tap_ok(saw_down && saw_up && down_wakes > 0 && c.wakes - wakes >= 2,
	       "the link went down and up: info told it, after notifications (%lu, %lu)", down_wakes, c.wakes - wakes);
	memcpy(out + 14, "LINK", 4);
	memcpy(out + 18, saw_down ? "Dn" : "--", 2);
	memcpy(out + 20, saw_up ? "Up" : "--", 2);
	net_send(&c, out, 60);
	/* let the frame leave before QEMU ends */
	net_recv(&c, in, sizeof(in), &len, 50);
	tap_done();
}
