/* Host unit tests for servers/vmm/virtio_net.c: the virtio-net model on
 * the virtio PCI transport with a recording backend -- the probe, the
 * MAC and link status in config, transmit of one- and many-segment
 * chains, receive into posted buffers, no buffer, buffers too small,
 * bad lengths, link changes with a config interrupt, interrupt
 * suppression, hostile chains, and a seeded fuzz of both rings. */
// unit-under-test: servers/vmm/virtio_net.c servers/vmm/virtio_pci.c servers/vmm/virtq_dev.c servers/vmm/pci.c
#include <stdint.h>
#include <string.h>
#include "unit.h"
#include "../../servers/vmm/virtio_net.h"

#define MEM_SIZE (1u << 20)
static uint8_t mem[MEM_SIZE];
static void *gptr(void *ctx, uint64_t gpa, size_t n)
{
	(void)ctx;
	if (gpa <= MEM_SIZE && n <= MEM_SIZE - gpa)
		return mem + gpa;
	return NULL;
}

static struct virtio_net net;
static uint8_t sent[VNET_FRAME_MAX];
static size_t sent_len;
static unsigned nsent, nready;
static int refuse;
static int b_transmit(void *c, const uint8_t *f, size_t len)
{
	(void)c;
	memcpy(sent, f, len);
	sent_len = len;
	nsent++;
	return refuse;
}
static void b_ready(void *c) { (void)c; nready++; }
static int irq;
static void set_irq(void *c, int l) { (void)c; irq = l; }

#define QS 64
#define RXD 0x10000
#define RXA 0x10800
#define RXU 0x11000
#define TXD 0x12000
#define TXA 0x12800
#define TXU 0x13000
#define BUFS 0x40000
static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xbe, 0x03, 0x02 };

#define C(x) (VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_##x)
static uint64_t mr(uint64_t off, unsigned size) { return virtio_pci_mmio_read(&net.vp, off, size); }
static void mw(uint64_t off, unsigned size, uint64_t v) { virtio_pci_mmio_write(&net.vp, off, size, v); }

static uint16_t rx_avail, tx_avail;
static uint64_t features;

static void queue(unsigned q, uint64_t d, uint64_t a, uint64_t u)
{
	mw(C(Q_SELECT), 2, q);
	mw(C(Q_SIZE), 2, QS);
	mw(C(Q_DESCLO), 4, d);
	mw(C(Q_AVAILLO), 4, a);
	mw(C(Q_USEDLO), 4, u);
	mw(C(Q_ENABLE), 2, 1);
}

static int probe(void)
{
	mw(C(STATUS), 1, 0);
	mw(C(STATUS), 1, 3);
	mw(C(DFSELECT), 4, 0);
	features = mr(C(DF), 4);
	mw(C(DFSELECT), 4, 1);
	features |= mr(C(DF), 4) << 32;
	mw(C(GFSELECT), 4, 0);
	mw(C(GF), 4, (uint32_t)features);
	mw(C(GFSELECT), 4, 1);
	mw(C(GF), 4, (uint32_t)(features >> 32));
	mw(C(STATUS), 1, 11);
	if (!(mr(C(STATUS), 1) & 8))
		return -1;
	queue(0, RXD, RXA, RXU);
	queue(1, TXD, TXA, TXU);
	mw(C(STATUS), 1, 15);
	rx_avail = tx_avail = 0;
	return virtio_pci_driver_ok(&net.vp) ? 0 : -2;
}

static void setup(int link_up)
{
	memset(mem, 0, sizeof mem);
	struct vnet_backend be = { b_transmit, b_ready, 0 };
	virtio_net_init(&net, mac, &be, link_up);
	virtio_pci_set_memory(&net.vp, gptr, 0);
	virtio_pci_set_irq(&net.vp, set_irq, 0);
	nsent = nready = 0;
	refuse = 0;
	irq = 0;
}

static void desc(uint64_t table, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = mem + table + 16 * i;
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}
static void post(uint64_t avail, uint16_t *idx, uint16_t head)
{
	memcpy(mem + avail + 4 + 2 * (*idx % QS), &head, 2);
	(*idx)++;
	memcpy(mem + avail + 2, idx, 2);
}
static uint16_t used_idx(uint64_t used) { uint16_t v; memcpy(&v, mem + used + 2, 2); return v; }
static uint32_t used_len(uint64_t used, uint16_t n) { uint32_t v; memcpy(&v, mem + used + 4 + 8 * (n % QS) + 4, 4); return v; }
static void kick(unsigned q) { mw(VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_MULT * q, 2, q); }

/* Post receive buffer `slot` (1526 bytes unless len), one descriptor. */
static void post_rx(uint16_t slot, uint32_t len)
{
	desc(RXD, slot, BUFS + 0x800 * slot, len, VQD_DESC_F_WRITE, 0);
	post(RXA, &rx_avail, slot);
}

static void frame_of(uint8_t *f, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		f[i] = (uint8_t)(seed + i * 13);
}

static void test_probe(void)
{
	setup(1);
	CHECK(probe() == 0, "Linux-style probe of the network device");
	CHECK((features & (1ull << VIRTIO_NET_F_MAC)) && (features & (1ull << VIRTIO_NET_F_STATUS)) &&
	      (features & VIRTIO_F_VERSION_1), "features: MAC, STATUS, VERSION_1");
	CHECK(!(features & 1) && !(features & (1ull << 15)) && !(features & (1ull << 17)),
	      "no CSUM, no MRG_RXBUF, no CTRL_VQ");
	CHECK(net.vp.pci.config[PCI_DEVICE_ID] == 0x41 && net.vp.pci.config[PCI_DEVICE_ID + 1] == 0x10, "device id 1041");
	int macs = 1;
	for (unsigned i = 0; i < 6; i++)
		macs &= mr(VIRTIO_PCI_DEVCFG_OFF + i, 1) == mac[i];
	CHECK(macs, "the MAC in config");
	CHECK(mr(VIRTIO_PCI_DEVCFG_OFF + 6, 2) == VIRTIO_NET_S_LINK_UP, "status: link up");
	mw(C(Q_SELECT), 2, 1);
	CHECK(mr(C(Q_SIZE), 2) == QS, "queue 1 (transmit) set up");
}

static void test_transmit(void)
{
	setup(1);
	probe();
	uint8_t f[VNET_FRAME_MAX];
	frame_of(f, 60, 1);
	memset(mem + BUFS, 0, VNET_HDR_LEN);
	memcpy(mem + BUFS + VNET_HDR_LEN, f, 60);
	desc(TXD, 0, BUFS, VNET_HDR_LEN + 60, 0, 0);
	post(TXA, &tx_avail, 0);
	kick(1);
	CHECK(nsent == 1 && sent_len == 60 && !memcmp(sent, f, 60), "a one-segment frame goes to the backend");
	CHECK(used_idx(TXU) == 1 && irq, "the chain comes back used, with an interrupt");
	/* header, then the frame in three pieces */
	frame_of(f, 1514, 2);
	desc(TXD, 1, BUFS + 0x1000, VNET_HDR_LEN, VQD_DESC_F_NEXT, 2);
	memcpy(mem + BUFS + 0x2000, f, 500);
	desc(TXD, 2, BUFS + 0x2000, 500, VQD_DESC_F_NEXT, 3);
	memcpy(mem + BUFS + 0x3000, f + 500, 1000);
	desc(TXD, 3, BUFS + 0x3000, 1000, VQD_DESC_F_NEXT, 4);
	memcpy(mem + BUFS + 0x4000, f + 1500, 14);
	desc(TXD, 4, BUFS + 0x4000, 14, 0, 0);
	post(TXA, &tx_avail, 1);
	kick(1);
	CHECK(nsent == 2 && sent_len == 1514 && !memcmp(sent, f, 1514), "a 1514-byte frame in four segments");
	/* too long, too short: dropped, chain returned */
	desc(TXD, 5, BUFS, VNET_HDR_LEN + 1515, 0, 0);
	post(TXA, &tx_avail, 5);
	desc(TXD, 6, BUFS, VNET_HDR_LEN + 13, 0, 0);
	post(TXA, &tx_avail, 6);
	kick(1);
	CHECK(nsent == 2 && net.stats.tx_dropped == 2 && used_idx(TXU) == 4, "oversize and runt frames dropped, chains returned");
	refuse = 1;
	desc(TXD, 7, BUFS, VNET_HDR_LEN + 60, 0, 0);
	post(TXA, &tx_avail, 7);
	kick(1);
	CHECK(nsent == 3 && net.stats.tx_dropped == 3 && used_idx(TXU) == 5, "a frame the backend refuses: dropped, counted");
	CHECK(net.stats.tx_frames == 2 && net.stats.tx_bytes == 1574, "tx counters");
	/* a writable buffer in a transmit chain breaks the rules */
	desc(TXD, 8, BUFS, VNET_HDR_LEN + 60, VQD_DESC_F_WRITE, 0);
	post(TXA, &tx_avail, 8);
	kick(1);
	CHECK(mr(C(STATUS), 1) & VIRTIO_STATUS_NEEDS_RESET, "a writable buffer in a transmit chain: NEEDS_RESET");
}

static void test_receive(void)
{
	setup(1);
	uint8_t f[VNET_FRAME_MAX];
	frame_of(f, 100, 3);
	CHECK(virtio_net_receive(&net, f, 100) == -1 && net.stats.rx_no_buffer == 1, "before the driver is ready: no buffer");
	probe();
	CHECK(virtio_net_receive(&net, f, 100) == -1, "no buffer posted: -1");
	post_rx(0, VNET_HDR_LEN + 1514);
	kick(0);
	CHECK(nready == 1, "posting buffers tells the backend");
	irq = 0;
	CHECK(virtio_net_receive(&net, f, 100) == 0, "a frame delivered");
	CHECK(used_idx(RXU) == 1 && used_len(RXU, 0) == VNET_HDR_LEN + 100 && irq, "used length = header + frame, interrupt");
	CHECK(mem[BUFS + 10] == 1 && mem[BUFS] == 0 && !memcmp(mem + BUFS + VNET_HDR_LEN, f, 100),
	      "header (num_buffers 1) and the frame's bytes");
	/* a buffer in two pieces */
	desc(RXD, 1, BUFS + 0x800, 20, VQD_DESC_F_WRITE | VQD_DESC_F_NEXT, 2);
	desc(RXD, 2, BUFS + 0x1000, 1600, VQD_DESC_F_WRITE, 0);
	post(RXA, &rx_avail, 1);
	frame_of(f, 1514, 4);
	CHECK(virtio_net_receive(&net, f, 1514) == 0 && !memcmp(mem + BUFS + 0x800 + VNET_HDR_LEN, f, 8) &&
	      !memcmp(mem + BUFS + 0x1000, f + 8, 1506), "a 1514-byte frame scattered over two buffers");
	post_rx(3, 200);
	CHECK(virtio_net_receive(&net, f, 1514) == -2 && used_idx(RXU) == 3 && used_len(RXU, 2) == 0,
	      "a buffer too small: frame dropped, buffer back empty");
	CHECK(virtio_net_receive(&net, f, 13) == -2 && virtio_net_receive(&net, f, 1515) == -2, "bad lengths refused");
	/* the driver asks for no interrupts */
	uint16_t flags = VQD_AVAIL_F_NO_INTERRUPT;
	memcpy(mem + RXA, &flags, 2);
	post_rx(4, 1600);
	mr(VIRTIO_PCI_ISR_OFF, 1);
	irq = 0;
	CHECK(virtio_net_receive(&net, f, 64) == 0 && !irq, "NO_INTERRUPT honoured");
	/* a readable buffer in a receive chain */
	desc(RXD, 5, BUFS, 1600, 0, 0);
	post(RXA, &rx_avail, 5);
	CHECK(virtio_net_receive(&net, f, 64) == -1 && (mr(C(STATUS), 1) & VIRTIO_STATUS_NEEDS_RESET),
	      "a readable buffer in a receive chain: NEEDS_RESET");
	/* outside guest memory */
	setup(1);
	probe();
	desc(RXD, 0, MEM_SIZE - 8, 1600, VQD_DESC_F_WRITE, 0);
	post(RXA, &rx_avail, 0);
	CHECK(virtio_net_receive(&net, f, 64) == -1 && (mr(C(STATUS), 1) & VIRTIO_STATUS_NEEDS_RESET),
	      "a buffer past the end of guest memory: NEEDS_RESET, nothing written");
	CHECK(probe() == 0, "a reset brings it back");
}

static void test_link(void)
{
	setup(0);
	probe();
	CHECK(mr(VIRTIO_PCI_DEVCFG_OFF + 6, 2) == 0, "link down at start when asked");
	irq = 0;
	virtio_net_set_link(&net, 1);
	CHECK(mr(VIRTIO_PCI_DEVCFG_OFF + 6, 2) == VIRTIO_NET_S_LINK_UP && irq, "link up: status and a config interrupt");
	CHECK((mr(VIRTIO_PCI_ISR_OFF, 1) & VIRTIO_ISR_CONFIG) && !irq, "ISR says config; reading it lowers the line");
	unsigned gen = (unsigned)mr(C(CFGGEN), 1);
	virtio_net_set_link(&net, 1);
	CHECK(!irq && (unsigned)mr(C(CFGGEN), 1) == gen, "the same state again: no interrupt");
	virtio_net_set_link(&net, 0);
	CHECK(irq && mr(VIRTIO_PCI_DEVCFG_OFF + 6, 2) == 0, "link down: interrupt");
}

static uint64_t seed = 12345;
static uint64_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

static void test_fuzz(void)
{
	uint8_t f[VNET_FRAME_MAX];
	unsigned rounds = 3000, recovered = 0;
	for (unsigned r = 0; r < rounds; r++) {
		setup(1);
		probe();
		for (unsigned i = 0; i < QS; i++) {
			uint64_t x = rnd();
			uint64_t addr = (x & 1) ? BUFS + (rnd() % 0x8000) : rnd() % (2 * MEM_SIZE);
			uint32_t len = (uint32_t)((x & 2) ? rnd() : rnd() % 2000);
			desc(RXD, (uint16_t)i, addr, len, (uint16_t)(rnd() & 7), (uint16_t)(rnd() % (QS + 4)));
			desc(TXD, (uint16_t)i, addr, len, (uint16_t)(rnd() & 7), (uint16_t)(rnd() % (QS + 4)));
		}
		for (unsigned k = rnd() % 8; k--;) {
			post(RXA, &rx_avail, (uint16_t)(rnd() % (QS + 2)));
			post(TXA, &tx_avail, (uint16_t)(rnd() % (QS + 2)));
		}
		if (rnd() & 1)
			memcpy(mem + TXA + 2, &(uint16_t){ (uint16_t)rnd() }, 2);
		kick(1);
		frame_of(f, 14 + rnd() % 1500, (uint8_t)r);
		virtio_net_receive(&net, f, 14 + rnd() % 1500);
		recovered += probe() == 0;
	}
	CHECK(recovered == rounds, "3000 rounds of random rings: no crash, and a reset always brings it back");
}

int main(void)
{
	test_probe();
	test_transmit();
	test_receive();
	test_link();
	test_fuzz();
	return unit_done();
}
