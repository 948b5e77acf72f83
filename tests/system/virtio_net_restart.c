/* Restart and dead clients.  A client ("holder") attaches and is killed
 * without detaching: while it lives another client gets E_LIMIT, once
 * init has killed it (and so revoked its port) the driver lets a new
 * client attach.  Then, with pings to the user network's gateway going
 * on, init kills the driver right after an echo request went out: the
 * client's next call fails with an error that says the driver is gone,
 * it looks net0 up again once init restarted the driver, attaches, maps
 * the new buffer, and pings are answered again. */
// test-root: build/init.elf
// test-module: tests/system/manifests/virtio_net_restart.manifest
// test-module: build/pci.elf
// test-module: build/virtio_net.elf
// test-module: build/tests/system/progs/net_holder.elf
// test-net: user
// test-expect: virtio-net: 'holder' attached
// test-expect: virtio-net: session of 'holder' ends: its port is gone
// test-expect: init: 'net0' was killed; restarting it
// test-expect: pci: 00:05.0 released by 'net0'
// test-timeout: 120
#include "tap.h"
#include "tasks.h"
#include "netif.h"
#include "init.h"
#include "net_client.h"
#include "eth.h"

#define INIT 8

static struct net_client c = { .nic = "net0", .name = "restart-test", .vaddr = 0x40000000 };
static uint8_t frame[NET_FRAME_MAX], in[2048];
static const uint8_t me[4] = { 10, 0, 2, 15 }, gw[4] = { 10, 0, 2, 2 };
static uint64_t gw_mac;

static void nap(uint64_t ticks)
{
	struct msg m;
	sys_notify_after(c.port_send, 2, ticks);
	ipc_recv(c.port, 0, &m);
}

static long arp(void)
{
	long err = net_send(&c, frame, arp_request_frame(frame, c.mac, me, gw));
	for (int i = 0; !err && i < 10; i++) {
		unsigned len;
		if ((err = net_recv(&c, in, sizeof(in), &len, 300)))
			break;
		if (len >= 42 && get16(in + 12) == ETH_ARP && get16(in + 20) == 2) {
			gw_mac = 0;
			for (int k = 0; k < 6; k++)
				gw_mac |= (uint64_t)in[22 + k] << (8 * k);
			return E_OK;
		}
	}
	return err ? err : E_LIMIT;
}

static long ping_send(uint16_t seq)
{
	memset(frame, 0, 98);
	for (int i = 0; i < 6; i++)
		frame[i] = (uint8_t)(gw_mac >> (8 * i));
	put_mac(frame + 6, c.mac);
	put16(frame + 12, ETH_IP);
	uint8_t *ip = frame + 14, *icmp = ip + 20;
	ip[0] = 0x45;
	put16(ip + 2, 84);
	ip[8] = 64;
	ip[9] = 1;
	put_ip(ip + 12, me);
	put_ip(ip + 16, gw);
	put16(ip + 10, inet_sum(ip, 20));
	icmp[0] = 8;
	put16(icmp + 4, 0x5157);
	put16(icmp + 6, seq);
	put16(icmp + 2, inet_sum(icmp, 64));
	return net_send(&c, frame, 98);
}

static long ping_wait(uint16_t seq)
{
	for (int i = 0; i < 10; i++) {
		unsigned len;
		long err = net_recv(&c, in, sizeof(in), &len, 300);
		if (err)
			return err;
		if (len >= 42 && get16(in + 12) == ETH_IP && in[23] == 1 && in[34] == 0 && get16(in + 38) == 0x5157 &&
		    get16(in + 40) == seq)
			return E_OK;
	}
	return E_LIMIT;
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(9);
	c.port_send = 0;
	long err = object_alloc(OBJ_PORT, 0, &c.port);
	c.port_send = slot_alloc();
	err = err ? err : sys_cnode_mint(c.port, CAP_ROOT_CNODE, c.port_send, RIGHT_SEND, 0);
	for (int i = 0; !err && i < 500; i++) {
		if ((err = init_lookup(INIT, "net0", &c.published)) == E_OK)
			break;
		nap(1);
	}
	/* the holder attaches (it may start after us) */
	uint64_t session;
	uint32_t pages, rxs, txs;
	long limit = E_OK;
	for (int i = 0; !err && i < 500; i++) {
		limit = netif_attach(c.published, c.name, c.port_send, 1, &session, &pages, &rxs, &txs);
		if (limit != E_OK)
			break;
		netif_detach(session);
		sys_cnode_delete(session);
		slot_free(session);
		nap(1);
	}
	tap_eq(limit, E_LIMIT, "while 'holder' holds its session, another client gets E_LIMIT");
	tap_eq(init_kill(INIT, "holder"), E_OK, "init kills the holder, which never detached");
	net_forget(&c);
	err = net_connect(&c, 500);
	tap_eq(err, E_OK, "a new client attaches: the killed one does not wedge the driver");
	if (err)
		tap_done();

	int before = 0, after = 0;
	err = arp();
	for (uint16_t seq = 1; !err && seq <= 5; seq++)
		if (!(err = ping_send(seq)) && !(err = ping_wait(seq)))
			before++;
	tap_eq(before, 5, "5 pings answered before the kill (%ld)", err);

	/* kill the driver with an echo request just sent */
	err = ping_send(6);
	tap_eq(err ? err : init_kill(INIT, "net0"), E_OK, "init kills net0 with an echo request in flight");
	err = ping_wait(6);
	for (int i = 0; i < 5 && !net_gone(err); i++)
		err = ping_send(7) ? ping_send(7) : ping_wait(7);
	tap_ok(net_gone(err), "the client's call fails: the driver is gone (%ld)", err);

	net_forget(&c);
	int reconnects = 0;
	for (int i = 0; i < 5; i++) {
		if ((err = net_connect(&c, 1000)) == E_OK) {
			reconnects++;
			break;
		}
		net_forget(&c);
		nap(10);
	}
	err = err ? err : arp();
	for (uint16_t seq = 10; !err && seq < 15; seq++)
		if (!(err = ping_send(seq)) && !(err = ping_wait(seq)))
			after++;
	tap_ok(reconnects == 1 && after == 5, "after the restart: attached again, ARP, 5 pings answered (%d, %ld)",
	       after, err);

	uint32_t restarts = 0;
	task_find("net0", 0, &restarts, 0);
	tap_eq(restarts, 1, "init restarted net0 once");
	uint64_t rxf, rxb, txf, txb, drop, errors;
	err = netif_stats(c.session, &rxf, &rxb, &txf, &txb, &drop, &errors);
	tap_ok(!err && txf == 6 && drop == 0, "the new driver's counters start afresh (%lu sent, %lu received)", txf,
	       rxf);
	tap_done();
}
