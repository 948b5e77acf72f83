/* The virtio-net driver on QEMU's user network (slirp, restrict=on: no
 * packet leaves the machine), with this test speaking Ethernet itself
 * through idl/netif.idl: an ARP request from 10.0.2.15 for the gateway
 * 10.0.2.2 gets slirp's reply, then ICMP echo requests to 10.0.2.2 get
 * their replies (slirp answers pings to its own addresses itself, even
 * restricted), each checked field by field; the counters agree.  A
 * virtio-blk disk shares the NIC's interrupt line (slots 5 and 6 both
 * reach line 10), and a second thread reads it all the while: each
 * driver takes only its own device's interrupts. */
// test-root: build/init.elf
// test-module: tests/system/manifests/virtio_net_user.manifest
// test-module: build/pci.elf
// test-module: build/virtio_net.elf
// test-module: build/virtio_blk.elf
// test-net: user
// test-disk: a 2048 3
// test-qemu: -drive if=none,id=da,format=raw,file={disk:a} -device virtio-blk-pci,disable-legacy=on,drive=da,addr=6
// test-expect: virtio-blk blk0: 2048 sectors, .*irq 10
// test-expect: virtio-net net0: mac 52:54:00:12:34:56, link up, 64\+32 slots, irq 10
// test-expect: virtio-net: features STATUS MAC, no offloads
// test-timeout: 90
#include "tap.h"
#include "netif.h"
#include "net_client.h"
#include "eth.h"
#include "block.h"
#include "blk_client.h"
#include "disk_pattern.h"

#define PINGS 4

static struct net_client c = { .nic = "net0", .name = "user-test", .vaddr = 0x40000000 };
static const uint8_t me[4] = { 10, 0, 2, 15 }, gw[4] = { 10, 0, 2, 2 };
static uint8_t frame[NET_FRAME_MAX], in[2048];
static uint64_t gw_mac;

/* the disk on the same line, read over and over while frames move */
static struct blk_client disk = { .disk = "blk0", .name = "net-user-test", .vaddr = 0x48000000 };
static volatile int reads, bad_reads, stop_reading;
static _Alignas(16) uint8_t reader_stack[16384];
static uint64_t park;

static void reader(uint64_t arg)
{
	(void)arg;
	for (uint64_t s = 0; !stop_reading; s = (s + 8) % 2048) {
		if (block_read(disk.session, s, 8, 0) || pattern_check(disk.buf, 3, s, 8) >= 0)
			bad_reads++;
		reads++;
	}
	stop_reading = 2;
	/* park: blocked, not yielding (we are above the main thread) */
	struct msg m;
	for (;;)
		ipc_recv(park, 0, &m);
}

static long arp_request(void)
{
	return net_send(&c, frame, arp_request_frame(frame, c.mac, me, gw));
}

/* The next frame of a type, skipping others (slirp may send its own). */
static long wait_for(uint16_t type, unsigned *len)
{
	for (int i = 0; i < 20; i++) {
		long err = net_recv(&c, in, sizeof(in), len, 300);
		if (err)
			return err;
		if (*len >= 14 && get16(in + 12) == type)
			return E_OK;
	}
	return E_LIMIT;
}

static long ping(uint16_t seq, unsigned payload)
{
	unsigned ip_len = 20 + 8 + payload;
	memset(frame, 0, sizeof(frame));
	for (int i = 0; i < 6; i++)
		frame[i] = (uint8_t)(gw_mac >> (8 * i));
	put_mac(frame + 6, c.mac);
	put16(frame + 12, ETH_IP);
	uint8_t *ip = frame + 14, *icmp = ip + 20;
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)ip_len);
	put16(ip + 4, seq);
	ip[8] = 64;
	ip[9] = 1;              /* ICMP */
	put_ip(ip + 12, me);
	put_ip(ip + 16, gw);
	put16(ip + 10, inet_sum(ip, 20));
	icmp[0] = 8;            /* echo request */
	put16(icmp + 4, 0xbe27);
	put16(icmp + 6, seq);
	for (unsigned i = 0; i < payload; i++)
		icmp[8 + i] = (uint8_t)(seq * 7 + i);
	put16(icmp + 2, inet_sum(icmp, 8 + payload));
	return net_send(&c, frame, 14 + ip_len);
}

/* An echo reply for seq with the payload intact and sound checksums. */
static int is_reply(unsigned len, uint16_t seq, unsigned payload)
{
	const uint8_t *ip = in + 14, *icmp = ip + 20;
	if (len < 14 + 20 + 8 + payload || ip[0] != 0x45 || ip[9] != 1 || memcmp(ip + 12, gw, 4) ||
	    memcmp(ip + 16, me, 4) || inet_sum(ip, 20) != 0)
		return 0;
	if (icmp[0] != 0 || get16(icmp + 4) != 0xbe27 || get16(icmp + 6) != seq || inet_sum(icmp, 8 + payload))
		return 0;
	for (unsigned i = 0; i < payload; i++)
		if (icmp[8 + i] != (uint8_t)(seq * 7 + i))
			return 0;
	return 1;
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(8);
	long err = net_connect(&c, 500);
	tap_eq(err, E_OK, "attached to net0 (%u pages, %u receive and %u transmit slots)", c.pages, c.rx, c.tx);
	if (err)
		tap_done();
	uint64_t mac;
	uint32_t mtu, flags;
	err = netif_info(c.published, &mac, &mtu, &flags);
	tap_ok(!err && mac == 0x563412005452ULL && mtu == 1500 && (flags & 1),
	       "info: QEMU's MAC 52:54:00:12:34:56, MTU 1500, link up (%ld, %lx, %u, %u)", err, mac, mtu, flags);

	/* the reader above us: it runs whenever its read is done, we while
	 * it waits, so both devices interrupt on the line in turn */
	uint64_t tcb;
	long derr = blk_connect(&disk);
	derr = derr ? derr : object_alloc(OBJ_PORT, 0, &park);
	derr = derr ? derr : sys_tcb_set_priority(CAP_ROOT_TCB, 99, 100);
	derr = derr ? derr : thread_create(reader, 0, reader_stack, sizeof(reader_stack), 100, &tcb);
	int reads_before = reads;

	unsigned len = 0;
	err = arp_request();
	err = err ? err : wait_for(ETH_ARP, &len);
	const uint8_t *a = in + 14;
	int good = !err && len >= 42 && get16(a + 6) == 2 && !memcmp(a + 14, gw, 4) && !memcmp(a + 24, me, 4);
	for (int i = 0; good && i < 6; i++)
		gw_mac |= (uint64_t)a[8 + i] << (8 * i);
	tap_ok(good && gw_mac, "ARP: 10.0.2.2 is at %02x:%02x:%02x:%02x:%02x:%02x (%ld, %u bytes)", a[8], a[9], a[10],
	       a[11], a[12], a[13], err, len);
	if (!good)
		tap_done();

	int replies = 0;
	for (uint16_t seq = 1; seq <= PINGS; seq++) {
		unsigned payload = 56 + seq * 300;
		err = ping(seq, payload);
		for (int i = 0; !err && i < 10; i++) {
			if ((err = wait_for(ETH_IP, &len)))
				break;
			if (is_reply(len, seq, payload)) {
				replies++;
				break;
			}
		}
	}
	tap_eq(replies, PINGS, "ICMP: %d echo requests of up to 1284 bytes to 10.0.2.2, each answered intact", PINGS);

	/* a frame of the largest size */
	err = ping(99, 1472);
	int big = 0;
	for (int i = 0; !err && i < 10 && !big; i++)
		if (!(err = wait_for(ETH_IP, &len)))
			big = is_reply(len, 99, 1472);
	tap_ok(big && len == 1514, "a 1514-byte echo request comes back as a 1514-byte reply (%ld, %u)", err, len);

	int during = reads - reads_before;
	stop_reading = 1;
	for (int i = 0; i < 1000 && stop_reading != 2 && !derr; i++)
		sys_yield();
	tap_ok(!derr && during > 0 && bad_reads == 0, "meanwhile the disk on the same interrupt line read back %d "
	       "times intact (%ld, %d bad)", during, derr, bad_reads);

	uint64_t rxf, rxb, txf, txb, drop, errors;
	err = netif_stats(c.session, &rxf, &rxb, &txf, &txb, &drop, &errors);
	tap_ok(!err && txf == PINGS + 2 && rxf >= PINGS + 2 && txb > 0 && rxb > 0 && drop == 0 && errors == 0,
	       "stats: %lu frames (%lu bytes) sent, %lu (%lu) received, %lu dropped, %lu errors", txf, txb, rxf, rxb,
	       drop, errors);
	tap_eq(netif_detach(c.session), E_OK, "detach");
	tap_done();
}
