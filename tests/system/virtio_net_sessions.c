/* The virtio-net driver's sessions and its checks on what a client
 * sends (idl/netif.idl): session methods on the published port and the
 * other way round, a notify capability that is no port, a second client
 * while one is attached, malformed transmit and receive lists (slots out
 * of range or of the wrong kind, slots named twice, a receive slot given
 * back twice or never handed out, lengths 0, 13 and 1515, counts of 33),
 * the same client attaching again (its old session right dies), and the
 * driver still moving frames after all of it. */
// test-root: build/init.elf
// test-module: tests/system/manifests/virtio_net_sessions.manifest
// test-module: build/pci.elf
// test-module: build/virtio_net.elf
// test-net: user
// test-expect: virtio-net: session of 'sessions-test' ends: the same client attached again
// test-timeout: 90
#include "tap.h"
#include "netif.h"
#include "net_client.h"
#include "eth.h"

static struct net_client c = { .nic = "net0", .name = "sessions-test", .vaddr = 0x40000000 };
static uint8_t frame[64], in[2048];
static const uint8_t me[4] = { 10, 0, 2, 15 }, gw[4] = { 10, 0, 2, 2 };

/* An ARP request for the gateway and its reply: 0 when it came. */
static long arp_round_trip(void)
{
	long err = net_send(&c, frame, arp_request_frame(frame, c.mac, me, gw));
	for (int i = 0; !err && i < 10; i++) {
		unsigned len;
		if ((err = net_recv(&c, in, sizeof(in), &len, 300)))
			break;
		if (len >= 42 && get16(in + 12) == ETH_ARP && get16(in + 20) == 2)
			return E_OK;
	}
	return err ? err : E_LIMIT;
}

static long tx(uint32_t n, uint16_t s0, uint16_t l0, uint16_t s1, uint16_t l1)
{
	uint16_t slot[32] = { s0, s1 }, len[32] = { l0, l1 }, done[32];
	uint32_t got;
	return netif_transmit(c.session, n, slot, len, &got, done);
}

static long rx(uint32_t n, uint16_t s0, uint16_t s1)
{
	uint16_t give[32] = { s0, s1 }, slot[32], len[32];
	uint32_t got;
	return netif_receive(c.session, n, give, &got, slot, len);
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(16);
	long err = net_connect(&c, 500);
	tap_eq(err, E_OK, "attached");
	if (err)
		tap_done();
	uint16_t done[32], slot[32] = { 0 }, len[32] = { 0 };
	uint32_t n;
	uint64_t session2 = 0, frame_cap;
	uint32_t pages, rxs, txs;

	/* the wrong port for the method */
	int wrong = 0;
	wrong += netif_transmit(c.published, 0, slot, len, &n, done) == E_STATE;
	wrong += netif_reclaim(c.published, &n, done) == E_STATE;
	wrong += netif_receive(c.published, 0, slot, &n, slot, len) == E_STATE;
	wrong += netif_buffer_frame(c.published, 0, &frame_cap) == E_STATE;
	wrong += netif_detach(c.published) == E_STATE;
	wrong += netif_attach(c.session, "x", c.port_send, 1, &session2, &pages, &rxs, &txs) == E_STATE;
	tap_eq(wrong, 6, "session methods on the published port and attach on the session: E_STATE");
	tap_eq(netif_buffer_frame(c.session, c.pages, &frame_cap), E_BAD_ARG, "buffer_frame past the buffer: E_BAD_ARG");

	/* a frame capability where the notify port belongs */
	uint64_t not_a_port;
	err = object_alloc(OBJ_FRAME, 0, &not_a_port);
	tap_eq(err ? err : netif_attach(c.published, "other", not_a_port, 1, &session2, &pages, &rxs, &txs), E_BAD_ARG,
	       "attach with a frame for the notify port: E_BAD_ARG");
	tap_eq(netif_attach(c.published, "other", c.port_send, 1, &session2, &pages, &rxs, &txs), E_LIMIT,
	       "another client while one is attached: E_LIMIT");

	/* transmit lists; the first transmit slot is c.rx */
	uint16_t t0 = (uint16_t)c.rx, t1 = (uint16_t)(c.rx + 1);
	int bad = 0, calls = 0;
	calls++, bad += tx(33, t0, 60, t1, 60) == E_BAD_ARG;
	calls++, bad += tx(1, 0, 60, 0, 0) == E_BAD_ARG;                     /* a receive slot */
	calls++, bad += tx(1, (uint16_t)(c.rx + c.tx), 60, 0, 0) == E_BAD_ARG;  /* past the end */
	calls++, bad += tx(1, 65535, 60, 0, 0) == E_BAD_ARG;
	calls++, bad += tx(1, t0, 0, 0, 0) == E_BAD_ARG;
	calls++, bad += tx(1, t0, 13, 0, 0) == E_BAD_ARG;
	calls++, bad += tx(1, t0, 1515, 0, 0) == E_BAD_ARG;
	calls++, bad += tx(2, t0, 60, t0, 60) == E_BAD_ARG;                  /* named twice */
	calls++, bad += tx(2, t1, 60, t0, 1515) == E_BAD_ARG;                /* all or nothing */
	tap_eq(bad, calls, "transmit: count 33, receive slot, slot past the end, 65535, lengths 0/13/1515, a slot "
	       "twice: E_BAD_ARG, nothing queued");
	/* a slot the driver holds: keep the device from finishing it by
	 * asking at once (it may already have, then the slot is ours again) */
	memset(frame, 0, 60);
	put_mac(frame + 6, c.mac);
	put16(frame + 12, ETH_TEST);
	memcpy((void *)(c.vaddr + (uint64_t)t0 * 2048), frame, 60);
	slot[0] = t0;
	len[0] = 60;
	err = netif_transmit(c.session, 1, slot, len, &n, done);
	int returned = 0;
	for (uint32_t i = 0; i < n; i++)
		returned |= done[i] == t0;
	long again = tx(1, t0, 60, 0, 0);
	tap_ok(!err && (returned ? again == E_OK : again == E_BAD_ARG),
	       "a transmit slot the driver holds is refused (%s, %ld)", returned ? "it was already done" : "in flight",
	       again);
	if (again == E_BAD_ARG)
		calls++;
	/* collect it (and t0's second frame, if sent) */
	for (int i = 0; i < 50; i++) {
		if (netif_reclaim(c.session, &n, done))
			break;
		for (uint32_t k = 0; k < n; k++)
			returned += done[k] == t0;
		if (returned >= (again == E_OK ? 2 : 1))
			break;
		sys_yield();
	}
	tap_ok(returned >= 1, "reclaim gives it back once the device is done (%d)", returned);

	uint64_t rxf, rxb, txf, txb, drop, errors;
	err = netif_stats(c.session, &rxf, &rxb, &txf, &txb, &drop, &errors);
	tap_ok(!err && errors == (uint64_t)calls, "stats count the %d refused transmits (%lu)", calls, errors);

	/* receive lists: get a frame in */
	err = arp_round_trip();
	tap_eq(err, E_OK, "an ARP round trip");
	uint16_t held = c.give[c.give_count - 1];
	c.give_count = 0;        /* we give it back by hand below */
	bad = 0;
	bad += rx(33, held, 0) == E_BAD_ARG;
	bad += rx(1, (uint16_t)(held ^ 1), 0) == E_BAD_ARG;    /* on the device */
	bad += rx(1, t1, 0) == E_BAD_ARG;                      /* a transmit slot */
	bad += rx(1, 65535, 0) == E_BAD_ARG;
	bad += rx(2, held, held) == E_BAD_ARG;
	tap_eq(bad, 5, "receive: count 33, a slot on the device, a transmit slot, 65535, a slot twice: E_BAD_ARG");
	long first = rx(1, held, 0), second = rx(1, held, 0);
	tap_ok(first == E_OK && second == E_BAD_ARG, "a receive slot given back twice: the second is refused (%ld, %ld)",
	       first, second);
	tap_eq(arp_round_trip(), E_OK, "frames still move after all that");

	/* the same client again: the old session right dies */
	uint64_t old = c.session;
	c.session = 0;
	err = netif_attach(c.published, c.name, c.port_send, 1, &c.session, &pages, &rxs, &txs);
	tap_eq(err, E_OK, "the same client attaches again");
	long stale = netif_reclaim(old, &n, done);
	tap_ok(stale == E_BAD_CAP || stale == E_STATE, "its old session right is refused (%ld)", stale);
	/* the new buffer: map its frames where the old ones were */
	for (unsigned p = 0; !err && p < pages; p++) {
		sys_page_unmap(c.frames[p]);
		sys_cnode_delete(c.frames[p]);
		slot_free(c.frames[p]);
		c.frames[p] = 0;
		err = netif_buffer_frame(c.session, p, &c.frames[p]);
		err = err ? err : page_map_with_tables(c.frames[p], c.vaddr + p * 4096, RIGHT_READ | RIGHT_WRITE);
	}
	c.tx_free_count = 0;
	for (unsigned i = 0; i < c.tx; i++)
		c.tx_free[c.tx_free_count++] = (uint16_t)(c.rx + i);
	c.give_count = c.got_count = 0;
	tap_eq(err ? err : arp_round_trip(), E_OK, "the new session moves frames");
	tap_done();
}
