/* Host unit tests for servers/vmm/virtio_balloon.c: the virtio-balloon
 * model on the virtio PCI transport with a recording backend -- the
 * probe and its one feature, num_pages and actual in config, a target
 * change raising a config interrupt, inflate and deflate lists (several
 * segments, a tail that is not a whole PFN), page numbers the backend
 * refuses, and hostile chains: a device-writable buffer and a list
 * outside guest memory, each a needs-reset, never a crash. */
// unit-under-test: servers/vmm/virtio_balloon.c servers/vmm/virtio_pci.c servers/vmm/virtq_dev.c servers/vmm/pci.c
#include <stdint.h>
#include <string.h>
#include "unit.h"
#include "../../servers/vmm/virtio_balloon.h"

#define MEM_SIZE (1u << 20)
static uint8_t mem[MEM_SIZE];
static void *gptr(void *ctx, uint64_t gpa, size_t n)
{
	(void)ctx;
	if (gpa <= MEM_SIZE && n <= MEM_SIZE - gpa)
		return mem + gpa;
	return NULL;
}

static struct virtio_balloon bl;
static uint32_t got[64];
static unsigned ngot;
static int last_q;
#define RAM_PAGES 1000u     /* the backend's guest RAM: PFNs 0..999 */
static int record(int q, uint32_t pfn)
{
	if (ngot < 64)
		got[ngot++] = pfn;
	last_q = q;
	return pfn < RAM_PAGES ? 0 : -1;
}
static int b_inflate(void *c, uint32_t pfn) { (void)c; return record(0, pfn); }
static int b_deflate(void *c, uint32_t pfn) { (void)c; return record(1, pfn); }
static int irq;
static void set_irq(void *c, int l) { (void)c; irq = l; }

#define QS 16
#define D0 0x10000
#define A0 0x10800
#define U0 0x11000
#define D1 0x12000
#define A1 0x12800
#define U1 0x13000
#define LISTS 0x40000

#define C(x) (VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_##x)
static uint64_t mr(uint64_t off, unsigned size) { return virtio_pci_mmio_read(&bl.vp, off, size); }
static void mw(uint64_t off, unsigned size, uint64_t v) { virtio_pci_mmio_write(&bl.vp, off, size, v); }
static uint16_t avail[2];
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
	queue(0, D0, A0, U0);
	queue(1, D1, A1, U1);
	mw(C(STATUS), 1, 15);
	avail[0] = avail[1] = 0;
	return virtio_pci_driver_ok(&bl.vp) ? 0 : -2;
}

static void setup(void)
{
	memset(mem, 0, sizeof mem);
	struct vballoon_backend be = { b_inflate, b_deflate, 0 };
	virtio_balloon_init(&bl, &be);
	virtio_pci_set_memory(&bl.vp, gptr, 0);
	virtio_pci_set_irq(&bl.vp, set_irq, 0);
	ngot = 0;
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
static void post(unsigned q, uint16_t head)
{
	uint64_t a = q ? A1 : A0;
	memcpy(mem + a + 4 + 2 * (avail[q] % QS), &head, 2);
	avail[q]++;
	memcpy(mem + a + 2, &avail[q], 2);
}
static uint16_t used_idx(unsigned q) { uint16_t v; memcpy(&v, mem + (q ? U1 : U0) + 2, 2); return v; }
static void kick(unsigned q) { mw(VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_MULT * q, 2, q); }
static uint32_t cfg(unsigned off) { return (uint32_t)mr(VIRTIO_PCI_DEVCFG_OFF + off, 4); }
static int needs_reset(void) { return (mr(C(STATUS), 1) & VIRTIO_STATUS_NEEDS_RESET) != 0; }

static void pfns(uint64_t at, const uint32_t *p, unsigned n)
{
	memcpy(mem + at, p, 4 * n);
}

int main(void)
{
	setup();
	CHECK(probe() == 0, "the driver's probe completes");
	CHECK(features == ((1ull << VIRTIO_BALLOON_F_MUST_TELL_HOST) | VIRTIO_F_VERSION_1),
	      "features: MUST_TELL_HOST and VERSION_1 only (%llx)", (unsigned long long)features);
	CHECK(cfg(0) == 0 && cfg(4) == 0, "num_pages and actual start at 0");

	irq = 0;
	virtio_balloon_set_target(&bl, 512);
	CHECK(cfg(0) == 512 && irq == 1, "a new target is in num_pages, with an interrupt");
	CHECK((mr(VIRTIO_PCI_ISR_OFF, 1) & VIRTIO_ISR_CONFIG) && irq == 0, "a config change in ISR; reading it lowers the line");
	mw(VIRTIO_PCI_DEVCFG_OFF + 4, 4, 300);
	CHECK(cfg(4) == 300 && cfg(0) == 512, "the driver writes actual; num_pages stays the host's");
	mw(VIRTIO_PCI_DEVCFG_OFF + 0, 4, 7);
	CHECK(cfg(0) == 512, "a write to num_pages is ignored");
	mw(VIRTIO_PCI_DEVCFG_OFF + 5, 1, 2);
	CHECK(cfg(4) == 300 % 256 + 2 * 256, "a one-byte write changes that byte of actual (%u)", cfg(4));

	/* an inflate list in two segments, the second with a 2-byte tail */
	const uint32_t a[3] = { 5, 6, 7 }, b[2] = { 999, 1000 };
	pfns(LISTS, a, 3);
	pfns(LISTS + 0x100, b, 2);
	desc(D0, 0, LISTS, 12, 1, 1);
	desc(D0, 1, LISTS + 0x100, 6, 0, 0);
	post(0, 0);
	kick(0);
	CHECK(ngot == 4 && got[0] == 5 && got[1] == 6 && got[2] == 7 && got[3] == 999 && last_q == 0,
	      "inflate: every whole PFN of both segments, in order, the tail ignored (%u)", ngot);
	CHECK(used_idx(0) == 1, "the list goes back used");
	CHECK(bl.stats.inflated == 4 && bl.stats.refused == 0, "four pages counted");

	ngot = 0;
	const uint32_t c[3] = { 6, 4000000000u, 1000 };
	pfns(LISTS + 0x200, c, 3);
	desc(D1, 0, LISTS + 0x200, 12, 0, 0);
	post(1, 0);
	kick(1);
	CHECK(ngot == 3 && last_q == 1 && bl.stats.deflated == 1 && bl.stats.refused == 2 && used_idx(1) == 1,
	      "deflate: PFNs outside guest RAM are refused and counted, the list still goes back");
	CHECK(!needs_reset(), "refused PFNs do not break the device");

	/* hostile: a device-writable page list */
	desc(D0, 2, LISTS, 12, 2, 0);
	post(0, 2);
	kick(0);
	CHECK(needs_reset() && bl.vp.error, "a device-writable buffer: needs-reset (%s)", bl.vp.error ? bl.vp.error : "-");

	setup();
	CHECK(probe() == 0, "probed again after a reset");
	desc(D0, 0, 0xfffff000ull, 64, 0, 0);
	post(0, 0);
	kick(0);
	CHECK(needs_reset() && ngot == 0, "a page list outside guest memory: needs-reset, nothing handled");

	setup();
	CHECK(probe() == 0, "probed again");
	mw(VIRTIO_PCI_DEVCFG_OFF + 4, 4, 99);
	mw(C(STATUS), 1, 0);
	CHECK(cfg(4) == 0, "a device reset empties actual");
	return unit_done();
}
