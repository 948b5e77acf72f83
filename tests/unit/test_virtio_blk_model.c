/* Host unit tests for servers/vmm/virtio_blk.c: the virtio-blk model on
 * the virtio PCI transport with a RAM-disk backend that completes at
 * once or later (as the fs server will) -- config, requests of every
 * type, errors, flush ordering, hostile layouts, reset with requests in
 * flight, and a seeded random workload checked against a shadow disk. */
// unit-under-test: servers/vmm/virtio_blk.c servers/vmm/virtio_pci.c servers/vmm/virtq_dev.c servers/vmm/pci.c
#include <stdint.h>
#include <string.h>
#include "unit.h"
#include "../../servers/vmm/virtio_blk.h"

#define MEM_SIZE (1u << 20)
static uint8_t mem[MEM_SIZE];
static void *gptr(void *ctx, uint64_t gpa, size_t n)
{
	(void)ctx;
	if (gpa <= MEM_SIZE && n <= MEM_SIZE - gpa)
		return mem + gpa;
	return NULL;
}

/* --- the backend: a RAM disk, synchronous or deferred ------------------ */
#define SECTORS 64
static uint8_t disk[SECTORS * 512], durable[SECTORS * 512];
static int async_mode;
struct pend { struct vblk_req *req; int kind; uint64_t sector; const struct vblk_iov *iov; unsigned niov; };
static struct pend pending[128];
static unsigned npending, nflushes, nreads, nwrites, flush_early;
static struct virtio_blk blk;

static void do_io(struct pend *p)
{
	uint64_t off = p->sector * 512;
	if (p->kind == 0 || p->kind == 1) {
		for (unsigned i = 0; i < p->niov; i++) {
			if (p->kind == 0)
				memcpy(p->iov[i].base, disk + off, p->iov[i].len);
			else
				memcpy(disk + off, p->iov[i].base, p->iov[i].len);
			off += p->iov[i].len;
		}
	} else {
		memcpy(durable, disk, sizeof disk);
		nflushes++;
	}
	virtio_blk_complete(&blk, p->req, VIRTIO_BLK_S_OK);
}

static void start(int kind, struct vblk_req *req, uint64_t sector, const struct vblk_iov *iov, unsigned niov)
{
	struct pend p = { req, kind, sector, iov, niov };
	if (kind == 0) nreads++;
	if (kind == 1) nwrites++;
	for (unsigned i = 0; kind == 2 && i < npending; i++)
		if (pending[i].kind == 1 && pending[i].req->seq < req->seq)
			flush_early++;  /* a flush started before an earlier write completed */
	if (async_mode)
		pending[npending++] = p;
	else
		do_io(&p);
}
static void b_read(void *c, struct vblk_req *r, uint64_t s, const struct vblk_iov *v, unsigned n) { (void)c; start(0, r, s, v, n); }
static void b_write(void *c, struct vblk_req *r, uint64_t s, const struct vblk_iov *v, unsigned n) { (void)c; start(1, r, s, v, n); }
static void b_flush(void *c, struct vblk_req *r) { (void)c; start(2, r, 0, 0, 0); }
static const struct vblk_backend_ops bops = { b_read, b_write, b_flush };

/* complete pending request i (in any order) */
static void finish(unsigned i)
{
	struct pend p = pending[i];
	pending[i] = pending[--npending];
	do_io(&p);
}

/* --- the guest driver ------------------------------------------------------ */
#define QS 64
#define DESC 0x10000
#define AVAIL 0x10800
#define USED 0x11000
#define HDRS 0x20000
#define DATA 0x40000
static uint16_t avail_idx, used_seen, next_desc;
static int irq;
static void set_irq(void *c, int l) { (void)c; irq = l; }

#define C(x) (VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_##x)
static uint64_t mr(uint64_t off, unsigned size) { return virtio_pci_mmio_read(&blk.vp, off, size); }
static void mw(uint64_t off, unsigned size, uint64_t v) { virtio_pci_mmio_write(&blk.vp, off, size, v); }
static uint8_t status(void) { return (uint8_t)mr(C(STATUS), 1); }

static uint64_t features;
static int probe(void)
{
	mw(C(STATUS), 1, 0);
	mw(C(STATUS), 1, 1);
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
	if (!(status() & 8))
		return -1;
	mw(C(Q_SELECT), 2, 0);
	if (mr(C(Q_SIZE), 2) != QS)
		return -2;
	mw(C(Q_DESCLO), 4, DESC);
	mw(C(Q_AVAILLO), 4, AVAIL);
	mw(C(Q_USEDLO), 4, USED);
	mw(C(Q_ENABLE), 2, 1);
	mw(C(STATUS), 1, 15);
	avail_idx = used_seen = next_desc = 0;
	return virtio_pci_driver_ok(&blk.vp) ? 0 : -3;
}

static void setup(int ro, int async)
{
	memset(mem, 0, sizeof mem);
	for (unsigned i = 0; i < sizeof disk; i++)
		disk[i] = durable[i] = (uint8_t)(i * 7 + i / 512);
	async_mode = async;
	npending = nflushes = nreads = nwrites = flush_early = 0;
	struct vblk_backend be = { &bops, 0, SECTORS, ro };
	virtio_blk_init(&blk, &be, "berth-disk-0");
	virtio_pci_set_memory(&blk.vp, gptr, 0);
	virtio_pci_set_irq(&blk.vp, set_irq, 0);
	irq = 0;
}

static void desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = mem + DESC + 16 * i;
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}
static uint16_t alloc_desc(void) { uint16_t d = next_desc; next_desc = (uint16_t)((next_desc + 1) % QS); return d; }
static void post(uint16_t head, int kick)
{
	memcpy(mem + AVAIL + 4 + 2 * (avail_idx % QS), &head, 2);
	avail_idx++;
	memcpy(mem + AVAIL + 2, &avail_idx, 2);
	if (kick)
		mw(VIRTIO_PCI_NOTIFY_OFF, 2, 0);
}

/* A request with a 3-descriptor layout; the status byte lives at
 * HDRS + 0x100 * slot + 0x20.  Returns the head. */
static uint16_t req(unsigned slot, uint32_t type, uint64_t sector, uint64_t data, uint32_t len, int kick)
{
	uint64_t h = HDRS + 0x100ull * slot;
	memcpy(mem + h, &type, 4);
	memset(mem + h + 4, 0, 4);
	memcpy(mem + h + 8, &sector, 8);
	mem[h + 0x20] = 0xee;
	uint16_t d0 = alloc_desc(), d1 = alloc_desc(), d2 = alloc_desc();
	int in = type != VIRTIO_BLK_T_OUT;
	if (len) {
		desc(d0, h, 16, VQD_DESC_F_NEXT, d1);
		desc(d1, data, len, (uint16_t)(VQD_DESC_F_NEXT | (in ? VQD_DESC_F_WRITE : 0)), d2);
	} else {
		desc(d0, h, 16, VQD_DESC_F_NEXT, d2);
	}
	desc(d2, h + 0x20, 1, VQD_DESC_F_WRITE, 0);
	post(d0, kick);
	return d0;
}
static uint8_t st(unsigned slot) { return mem[HDRS + 0x100 * slot + 0x20]; }
static uint16_t used_idx(void) { uint16_t v; memcpy(&v, mem + USED + 2, 2); return v; }
static uint32_t used_len(uint16_t n) { uint32_t v; memcpy(&v, mem + USED + 4 + 8 * (n % QS) + 4, 4); return v; }
static uint32_t used_id(uint16_t n) { uint32_t v; memcpy(&v, mem + USED + 4 + 8 * (n % QS), 4); return v; }

static void test_config(void)
{
	setup(0, 0);
	CHECK(probe() == 0, "Linux-style probe of the block device");
	CHECK((features & (1ull << VIRTIO_BLK_F_FLUSH)) && (features & (1ull << VIRTIO_BLK_F_SEG_MAX)) &&
	      (features & (1ull << VIRTIO_BLK_F_SIZE_MAX)) && (features & (1ull << VIRTIO_BLK_F_BLK_SIZE)) &&
	      !(features & (1ull << VIRTIO_BLK_F_RO)) && (features & VIRTIO_F_VERSION_1),
	      "features: FLUSH, SEG_MAX, SIZE_MAX, BLK_SIZE, VERSION_1, not RO");
	CHECK(!(features & (1ull << 28)) && !(features & (1ull << 29)), "no INDIRECT_DESC, no EVENT_IDX");
	CHECK(blk.vp.pci.config[PCI_DEVICE_ID] == 0x42 && blk.vp.pci.config[PCI_DEVICE_ID + 1] == 0x10, "device id 1042");
	CHECK(mr(VIRTIO_PCI_DEVCFG_OFF, 8) == SECTORS, "capacity");
	CHECK(mr(VIRTIO_PCI_DEVCFG_OFF + 8, 4) == VBLK_SIZE_MAX && mr(VIRTIO_PCI_DEVCFG_OFF + 12, 4) == VBLK_SEG_MAX &&
	      mr(VIRTIO_PCI_DEVCFG_OFF + 20, 4) == 512, "size_max, seg_max, blk_size");
	setup(1, 0);
	CHECK(probe() == 0 && (features & (1ull << VIRTIO_BLK_F_RO)), "read-only backend: RO offered");
}

static void test_requests(void)
{
	setup(0, 0);
	probe();
	uint16_t h = req(0, VIRTIO_BLK_T_IN, 2, DATA, 1024, 1);
	CHECK(used_idx() == 1 && used_id(0) == h && used_len(0) == 1025 && st(0) == VIRTIO_BLK_S_OK,
	      "T_IN: completed, used len = data + status");
	CHECK(memcmp(mem + DATA, disk + 1024, 1024) == 0, "T_IN: data from sectors 2-3");
	CHECK(irq == 1 && mr(VIRTIO_PCI_ISR_OFF, 1) == 1 && irq == 0, "interrupt, ISR read lowers it");
	memset(mem + DATA, 0x5a, 512);
	req(1, VIRTIO_BLK_T_OUT, 63, DATA, 512, 1);
	CHECK(used_idx() == 2 && used_len(1) == 1 && st(1) == 0 && disk[63 * 512] == 0x5a && disk[64 * 512 - 1] == 0x5a,
	      "T_OUT to the last sector");
	req(2, VIRTIO_BLK_T_OUT, 63, DATA, 1024, 1);
	CHECK(st(2) == VIRTIO_BLK_S_IOERR && used_len(2) == 1, "T_OUT past the end: IOERR");
	req(3, VIRTIO_BLK_T_IN, 64, DATA, 512, 1);
	CHECK(st(3) == VIRTIO_BLK_S_IOERR && used_len(3) == 1, "T_IN at the capacity: IOERR");
	req(4, VIRTIO_BLK_T_IN, 0xffffffffffffffffull, DATA, 512, 1);
	CHECK(st(4) == VIRTIO_BLK_S_IOERR, "T_IN at sector 2^64-1: IOERR (no wrap)");
	req(5, VIRTIO_BLK_T_IN, 0, DATA, 100, 1);
	CHECK(st(5) == VIRTIO_BLK_S_IOERR, "T_IN of 100 bytes: IOERR");
	req(6, VIRTIO_BLK_T_FLUSH, 0, 0, 0, 1);
	CHECK(st(6) == 0 && nflushes == 1 && memcmp(durable, disk, sizeof disk) == 0, "T_FLUSH");
	memset(mem + DATA, 0, 32);
	req(7, VIRTIO_BLK_T_GET_ID, 0, DATA, 20, 1);
	CHECK(st(7) == 0 && used_len(7) == 21 && memcmp(mem + DATA, "berth-disk-0\0\0\0\0\0\0\0\0", 20) == 0, "T_GET_ID: the serial");
	req(8, 7, 0, DATA, 512, 1);
	CHECK(st(8) == VIRTIO_BLK_S_UNSUPP && used_len(8) == 1, "type 7 (unknown): UNSUPP");
	req(9, 11, 0, DATA, 512, 1);
	CHECK(st(9) == VIRTIO_BLK_S_UNSUPP, "T_WRITE_ZEROES (not offered): UNSUPP");
	req(10, VIRTIO_BLK_T_IN, 0, DATA, 0, 1);
	CHECK(st(10) == 0 && used_len(10) == 1, "a zero-length T_IN completes OK");
	/* header split over two descriptors, data over three, status in the last data descriptor */
	uint64_t hd = HDRS + 0x100 * 11, sect = 5;
	uint32_t t = VIRTIO_BLK_T_IN;
	memcpy(mem + hd, &t, 4);
	memcpy(mem + hd + 8, &sect, 8);
	desc(30, hd, 5, VQD_DESC_F_NEXT, 31);
	desc(31, hd + 5, 11, VQD_DESC_F_NEXT, 32);
	desc(32, DATA, 100, VQD_DESC_F_NEXT | VQD_DESC_F_WRITE, 33);
	desc(33, DATA + 0x1000, 312, VQD_DESC_F_NEXT | VQD_DESC_F_WRITE, 34);
	desc(34, DATA + 0x2000, 101, VQD_DESC_F_WRITE, 0);
	post(30, 1);
	CHECK(used_len(11) == 513 && mem[DATA + 0x2000 + 100] == 0 && memcmp(mem + DATA, disk + 5 * 512, 100) == 0 &&
	      memcmp(mem + DATA + 0x1000, disk + 5 * 512 + 100, 312) == 0 &&
	      memcmp(mem + DATA + 0x2000, disk + 5 * 512 + 412, 100) == 0, "any layout: split header, status in a data buffer");
	/* short header */
	desc(40, hd, 8, VQD_DESC_F_NEXT, 41);
	desc(41, hd + 0x20, 1, VQD_DESC_F_WRITE, 0);
	post(40, 1);
	CHECK(mem[hd + 0x20] == VIRTIO_BLK_S_IOERR && virtio_pci_driver_ok(&blk.vp), "8-byte header: IOERR");
	CHECK(blk.stats_requests == 13, "13 requests counted");
	/* read-only */
	setup(1, 0);
	probe();
	req(0, VIRTIO_BLK_T_OUT, 0, DATA, 512, 1);
	req(1, VIRTIO_BLK_T_IN, 0, DATA, 512, 1);
	CHECK(st(0) == VIRTIO_BLK_S_IOERR && st(1) == 0 && nwrites == 0, "read-only: T_OUT IOERR, T_IN fine");
}

static void test_hostile(void)
{
	setup(0, 0);
	probe();
	uint64_t hd = HDRS;
	uint32_t t = VIRTIO_BLK_T_IN;
	memcpy(mem + hd, &t, 4);
	desc(0, hd, 16, 0, 0);
	post(0, 1);
	CHECK((status() & VIRTIO_STATUS_NEEDS_RESET) && blk.vp.error, "no writable status byte: needs reset (%s)", blk.vp.error);
	CHECK(irq == 1 && mr(VIRTIO_PCI_ISR_OFF, 1) == VIRTIO_ISR_CONFIG, "config interrupt");
	CHECK(probe() == 0, "reset and probe again");
	desc(0, hd, 16, VQD_DESC_F_NEXT, 1);
	desc(1, hd + 0x20, 1, VQD_DESC_F_NEXT | VQD_DESC_F_WRITE, 2);
	desc(2, DATA, 512, 0, 0);
	post(0, 1);
	CHECK((status() & VIRTIO_STATUS_NEEDS_RESET), "readable after writable: needs reset (%s)", blk.vp.error);
	probe();
	desc(0, hd, 16, VQD_DESC_F_NEXT, 1);
	desc(1, 0x7fff0000, 512, VQD_DESC_F_NEXT | VQD_DESC_F_WRITE, 2);
	desc(2, hd + 0x20, 1, VQD_DESC_F_WRITE, 0);
	post(0, 1);
	CHECK((status() & VIRTIO_STATUS_NEEDS_RESET) && nreads == 0, "data outside guest RAM: needs reset, backend not called (%s)",
	      blk.vp.error);
	probe();
	desc(0, hd, 16, VQD_DESC_F_NEXT, 1);
	desc(1, DATA, 512, VQD_DESC_F_NEXT | VQD_DESC_F_WRITE | VQD_DESC_F_INDIRECT, 2);
	post(0, 1);
	CHECK((status() & VIRTIO_STATUS_NEEDS_RESET), "indirect descriptor: needs reset (%s)", blk.vp.error);
	probe();
	desc(0, hd, 16, VQD_DESC_F_NEXT, 0);
	post(0, 1);
	CHECK((status() & VIRTIO_STATUS_NEEDS_RESET), "a looping chain: needs reset (%s)", blk.vp.error);
	probe();
	CHECK(virtio_pci_driver_ok(&blk.vp), "and the device works after each reset");
	req(0, VIRTIO_BLK_T_IN, 0, DATA, 512, 1);
	CHECK(st(0) == 0, "a good request after all that");
}

static void test_async(void)
{
	setup(0, 1);
	probe();
	memset(mem + DATA, 0x11, 512);
	memset(mem + DATA + 0x1000, 0x22, 512);
	req(0, VIRTIO_BLK_T_OUT, 1, DATA, 512, 0);
	req(1, VIRTIO_BLK_T_OUT, 2, DATA + 0x1000, 512, 0);
	req(2, VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0);
	req(3, VIRTIO_BLK_T_IN, 9, DATA + 0x2000, 512, 1);
	CHECK(npending == 3 && used_idx() == 0, "async: two writes and a read with the backend, the flush held back");
	finish(0);  /* the first write */
	CHECK(npending == 2 && nflushes == 0 && used_idx() == 1 && st(0) == 0, "one write done: still no flush");
	finish(1);  /* now the read (moved into slot 1 by the swap) or the write */
	unsigned guard = 0;
	while (npending && guard++ < 10) {
		int flush_started = 0;
		for (unsigned i = 0; i < npending; i++)
			if (pending[i].kind == 2)
				flush_started = 1;
		if (flush_started && st(1) != 0)
			break;  /* would be a bug: flush before the write finished */
		finish(0);
	}
	CHECK(st(1) == 0 && st(2) == 0 && st(3) == 0 && used_idx() == 4, "async: all four completed");
	CHECK(flush_early == 0, "the flush started only after both earlier writes completed");
	CHECK(nflushes == 1 && durable[512] == 0x11 && durable[1024] == 0x22, "the flush made both earlier writes durable");
	/* a flush with no writes before it goes at once; a later write does not hold it */
	req(4, VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0);
	req(5, VIRTIO_BLK_T_OUT, 3, DATA, 512, 1);
	int flush_pending = 0;
	for (unsigned i = 0; i < npending; i++)
		flush_pending |= pending[i].kind == 2;
	CHECK(npending == 2 && flush_pending, "a flush waits only for earlier writes");
	while (npending)
		finish(npending - 1);
	CHECK(st(4) == 0 && st(5) == 0, "both done");
	/* reset with a request in flight: its completion is swallowed */
	req(6, VIRTIO_BLK_T_IN, 0, DATA + 0x3000, 512, 1);
	CHECK(npending == 1, "a read in flight");
	uint16_t u = used_idx();
	mw(C(STATUS), 1, 0);
	finish(0);
	CHECK(used_idx() == u && st(6) == 0xee, "completion after reset does not touch the used ring or status");
	CHECK(probe() == 0, "probe after reset");
	req(0, VIRTIO_BLK_T_IN, 0, DATA, 512, 1);
	finish(0);
	CHECK(st(0) == 0 && used_idx() == 1, "the device works after the reset");
}

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint64_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

/* Random reads/writes/flushes, completed in random order, against a
 * shadow disk.  Reads and writes never overlap while in flight. */
static void test_random(void)
{
	static uint8_t shadow[SECTORS * 512];
	setup(0, 1);
	probe();
	memcpy(shadow, disk, sizeof disk);
	unsigned bad = 0, done = 0, inflight = 0;
	uint16_t head_slot[QS];
	uint32_t kind_of[QS];
	uint64_t sect_of[QS];
	for (unsigned i = 0; i < QS; i++)
		kind_of[i] = 0xff;
	for (unsigned step = 0; step < 5000; step++) {
		if (inflight < 16 && (rnd() % 3)) {
			/* a new request in slot = descriptor head / 3 (3 descriptors each, 21 slots) */
			unsigned slot = next_desc / 3;
			if (next_desc + 3 > 63) {
				next_desc = 0;
				slot = 0;
			}
			if (kind_of[slot] != 0xff)
				goto complete;
			uint32_t k = (uint32_t)(rnd() % 3);
			uint32_t type = k == 0 ? VIRTIO_BLK_T_IN : k == 1 ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_FLUSH;
			uint64_t s = slot * 3 % SECTORS;  /* each slot has its own sectors: no overlap */
			uint64_t data = DATA + 0x1000ull * slot;
			if (type == VIRTIO_BLK_T_OUT) {
				for (unsigned b = 0; b < 512; b++)
					mem[data + b] = (uint8_t)rnd();
				memcpy(shadow + s * 512, mem + data, 512);
			}
			head_slot[slot] = req(slot, type, s, data, type == VIRTIO_BLK_T_FLUSH ? 0 : 512, 1);
			kind_of[slot] = type;
			sect_of[slot] = s;
			inflight++;
			continue;
		}
	complete:
		if (npending)
			finish((unsigned)(rnd() % npending));
		while (used_seen != used_idx()) {
			uint32_t id = used_id(used_seen);
			unsigned slot = id / 3;
			if (slot >= QS || kind_of[slot] == 0xff || head_slot[slot] != id || st(slot) != 0)
				bad++;
			else if (kind_of[slot] == VIRTIO_BLK_T_IN &&
				 memcmp(mem + DATA + 0x1000ull * slot, shadow + sect_of[slot] * 512, 512))
				bad++;
			if (slot < QS)
				kind_of[slot] = 0xff;
			used_seen++;
			inflight--;
			done++;
		}
	}
	while (npending)
		finish(0);
	CHECK(bad == 0 && done > 1000 && virtio_pci_driver_ok(&blk.vp),
	      "random workload: %u requests out of order, data matches the shadow disk", done);
	CHECK(memcmp(disk, shadow, sizeof disk) == 0, "the disk equals the shadow");
	CHECK(flush_early == 0 && nflushes > 100, "random workload: %u flushes, none before an earlier write completed", nflushes);
}

int main(void)
{
	test_config();
	test_requests();
	test_hostile();
	test_async();
	test_random();
	return unit_done();
}
