/* Host unit tests for servers/vmm/virtio_pci.c: the modern virtio PCI
 * function on the VMM's bus -- identity, capabilities, BAR routing, the
 * driver sequence Linux's virtio_pci_modern uses, feature negotiation,
 * queue setup, notify, ISR/INTx, needs-reset, VIRTIO_PCI_CAP_PCI_CFG. */
// unit-under-test: servers/vmm/virtio_pci.c servers/vmm/virtq_dev.c servers/vmm/pci.c
#include <stdint.h>
#include <string.h>
#include "unit.h"
#include "../../servers/vmm/virtio_pci.h"

#define MEM_BASE 0x0ull
#define MEM_SIZE (1u << 20)
static uint8_t mem[MEM_SIZE];
static void *gptr(void *ctx, uint64_t gpa, size_t n)
{
	(void)ctx;
	if (gpa <= MEM_SIZE && n <= MEM_SIZE - gpa)
		return mem + gpa;
	return NULL;
}

static struct pci_bus bus;
static struct virtio_pci vp;
static int irq, irq_changes, resets, notifies[4];
static uint8_t devcfg[8] = {1, 2, 3, 4, 5, 6, 7, 8};
static unsigned cfg_writes;

static void set_irq(void *ctx, int level) { (void)ctx; irq = level; irq_changes++; }
static void t_reset(struct virtio_pci *v) { (void)v; resets++; }
static void t_notify(struct virtio_pci *v, unsigned q) { (void)v; if (q < 4) notifies[q]++; }
static uint32_t t_cfg_read(struct virtio_pci *v, unsigned off, unsigned size)
{
	(void)v;
	uint32_t x = 0;
	for (unsigned i = 0; i < size; i++)
		x |= (uint32_t)devcfg[off + i] << (8 * i);
	return x;
}
static void t_cfg_write(struct virtio_pci *v, unsigned off, unsigned size, uint32_t x)
{
	(void)v;
	for (unsigned i = 0; i < size; i++)
		devcfg[off + i] = (uint8_t)(x >> (8 * i));
	cfg_writes++;
}
static const struct virtio_pci_ops ops = { t_reset, t_notify, t_cfg_read, t_cfg_write };

#define SLOT 3
#define BAR_ADDR 0xfe000000ull
#define FEATURES ((1ull << 0) | (1ull << 5) | (1ull << 40))

static uint32_t cfgr(unsigned reg, unsigned size) { return pci_config_read(&bus, SLOT, 0, reg, size); }
static void cfgw(unsigned reg, unsigned size, uint32_t v) { pci_config_write(&bus, SLOT, 0, reg, size, v); }

/* MMIO as the VMM routes it: through pci_find_bar. */
static uint64_t mr(uint64_t off, unsigned size)
{
	unsigned bar;
	uint64_t o;
	struct pci_device *d = pci_find_bar(&bus, 0, BAR_ADDR + off, &bar, &o);
	if (!d || bar != VIRTIO_PCI_BAR)
		return 0xdeadbeef;
	return virtio_pci_mmio_read(d->ctx, o, size);
}
static void mw(uint64_t off, unsigned size, uint64_t v)
{
	unsigned bar;
	uint64_t o;
	struct pci_device *d = pci_find_bar(&bus, 0, BAR_ADDR + off, &bar, &o);
	if (d && bar == VIRTIO_PCI_BAR)
		virtio_pci_mmio_write(d->ctx, o, size, v);
}
#define C(x) (VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_##x)
static uint8_t status(void) { return (uint8_t)mr(C(STATUS), 1); }

static void setup(void)
{
	memset(mem, 0, sizeof mem);
	pci_init(&bus);
	virtio_pci_init(&vp, 5, 0x018000, FEATURES, 2, 128, sizeof devcfg, &ops, 0);
	virtio_pci_set_memory(&vp, gptr, 0);
	virtio_pci_set_irq(&vp, set_irq, 0);
	pci_register(&bus, SLOT, 0, &vp.pci);
	cfgw(0x10 + 4 * VIRTIO_PCI_BAR, 4, (uint32_t)BAR_ADDR);
	cfgw(0x14 + 4 * VIRTIO_PCI_BAR, 4, (uint32_t)(BAR_ADDR >> 32));
	cfgw(PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	irq = 0;
	irq_changes = resets = 0;
	memset(notifies, 0, sizeof notifies);
}

static void test_identity(void)
{
	setup();
	CHECK(cfgr(PCI_VENDOR_ID, 2) == 0x1af4 && cfgr(PCI_DEVICE_ID, 2) == 0x1045, "ids 1af4:1045 (0x1040 + type 5)");
	CHECK(cfgr(PCI_REVISION_ID, 1) == 1, "revision 1 (modern)");
	CHECK(cfgr(PCI_SUBSYSTEM_VENDOR_ID, 2) == 0x1af4 && cfgr(PCI_SUBSYSTEM_ID, 2) >= 0x40, "subsystem ids");
	CHECK(cfgr(PCI_CLASS_DEVICE, 2) == 0x0180, "class code");
	CHECK(cfgr(PCI_INTERRUPT_PIN, 1) == 1, "interrupt pin INTA");
	CHECK(cfgr(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, "capability list present");
	/* BAR sizing */
	cfgw(0x20, 4, 0xffffffff);
	uint32_t lo = cfgr(0x20, 4);
	cfgw(0x20, 4, (uint32_t)BAR_ADDR);
	CHECK((lo & ~0xfu) == (uint32_t)~(VIRTIO_PCI_BAR_SIZE - 1) && (lo & 0xf) == (PCI_BAR_MEM64 | PCI_BAR_PREFETCH),
	      "BAR 4 sizes as 16 KiB 64-bit prefetchable memory");
	/* walk the capabilities as Linux's virtio_pci_find_capability does */
	unsigned seen[6] = {0}, ok = 1, n = 0;
	uint32_t mult = 0;
	for (unsigned c = cfgr(PCI_CAPABILITY_LIST, 1); c && n < 16; c = cfgr(c + 1, 1), n++) {
		if (cfgr(c, 1) != 0x09)
			continue;
		unsigned type = cfgr(c + 3, 1);
		if (type < 1 || type > 5 || cfgr(c + 4, 1) != (type == 5 ? 0 : VIRTIO_PCI_BAR))
			ok = 0;
		if (type >= 1 && type <= 5)
			seen[type]++;
		uint32_t off = cfgr(c + 8, 4), len = cfgr(c + 12, 4);
		if ((type == 1 && (off != VIRTIO_PCI_COMMON_OFF || len < 0x38)) ||
		    (type == 3 && (off != VIRTIO_PCI_ISR_OFF || len < 1)) ||
		    (type == 4 && (off != VIRTIO_PCI_DEVCFG_OFF || len != sizeof devcfg)))
			ok = 0;
		if (type == 2) {
			mult = cfgr(c + 16, 4);
			if (off != VIRTIO_PCI_NOTIFY_OFF || cfgr(c + 2, 1) < 20)
				ok = 0;
		}
	}
	CHECK(ok && seen[1] == 1 && seen[2] == 1 && seen[3] == 1 && seen[4] == 1 && seen[5] == 1,
	      "vendor capabilities: common, notify, ISR, device, PCI_CFG, each once, in BAR 4");
	CHECK(mult == VIRTIO_PCI_NOTIFY_MULT, "notify_off_multiplier %u", mult);
	CHECK(mr(C(NUMQ), 2) == 2, "num_queues 2");
	CHECK(mr(C(MSIX), 2) == VIRTIO_MSI_NO_VECTOR, "msix_config reads NO_VECTOR (no MSI-X)");
	CHECK(mr(0x4000 - 4, 4) == 0, "holes read 0");
	cfgw(PCI_COMMAND, 2, 0);
	CHECK(mr(C(NUMQ), 2) == 0xdeadbeef, "memory decoding off: the BAR is not found");
}

/* Linux's sequence (virtio_dev_probe + vp_modern): reset, ACK, DRIVER,
 * features, FEATURES_OK, queues, DRIVER_OK. */
static int linux_probe(uint64_t want, int with_version)
{
	mw(C(STATUS), 1, 0);
	if (status() != 0)
		return -1;
	mw(C(STATUS), 1, VIRTIO_STATUS_ACKNOWLEDGE);
	mw(C(STATUS), 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mw(C(DFSELECT), 4, 0);
	uint64_t f = mr(C(DF), 4);
	mw(C(DFSELECT), 4, 1);
	f |= mr(C(DF), 4) << 32;
	uint64_t g = (f & want) | (with_version ? VIRTIO_F_VERSION_1 : 0);
	mw(C(GFSELECT), 4, 0);
	mw(C(GF), 4, (uint32_t)g);
	mw(C(GFSELECT), 4, 1);
	mw(C(GF), 4, (uint32_t)(g >> 32));
	mw(C(STATUS), 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	if (!(status() & VIRTIO_STATUS_FEATURES_OK))
		return -2;
	for (unsigned q = 0; q < 2; q++) {
		mw(C(Q_SELECT), 2, q);
		unsigned n = (unsigned)mr(C(Q_SIZE), 2);
		if (n != 128 || mr(C(Q_ENABLE), 2) != 0)
			return -3;
		uint64_t base = 0x10000 + 0x10000ull * q;
		mw(C(Q_SIZE), 2, n);
		mw(C(Q_DESCLO), 4, (uint32_t)base);
		mw(C(Q_DESCHI), 4, 0);
		mw(C(Q_AVAILLO), 4, (uint32_t)(base + 0x800));
		mw(C(Q_AVAILHI), 4, 0);
		mw(C(Q_USEDLO), 4, (uint32_t)(base + 0x1000));
		mw(C(Q_USEDHI), 4, 0);
		if (mr(C(Q_NOFF), 2) != q)
			return -4;
		mw(C(Q_ENABLE), 2, 1);
		if (mr(C(Q_ENABLE), 2) != 1)
			return -5;
	}
	mw(C(STATUS), 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
	   VIRTIO_STATUS_DRIVER_OK);
	return 0;
}

static void test_sequence(void)
{
	setup();
	mw(C(DFSELECT), 4, 0);
	uint32_t lo = (uint32_t)mr(C(DF), 4);
	mw(C(DFSELECT), 4, 1);
	uint32_t hi = (uint32_t)mr(C(DF), 4);
	mw(C(DFSELECT), 4, 2);
	CHECK(lo == (uint32_t)FEATURES && hi == (uint32_t)((FEATURES | VIRTIO_F_VERSION_1) >> 32) && mr(C(DF), 4) == 0,
	      "device features through the select register (VERSION_1 included)");
	int r = linux_probe(FEATURES, 1);
	CHECK(r == 0, "Linux probe sequence succeeds (%d)", r);
	CHECK(resets == 1, "writing status 0 called the reset hook");
	CHECK(virtio_pci_driver_ok(&vp) && vp.queues[0].ready && vp.queues[1].ready, "DRIVER_OK, both queues enabled");
	CHECK(vp.queues[1].desc_gpa == 0x20000 && vp.queues[1].avail_gpa == 0x20800 && vp.queues[1].used_gpa == 0x21000,
	      "queue 1 addresses");
	CHECK(virtio_pci_negotiated(&vp) == (FEATURES | VIRTIO_F_VERSION_1), "negotiated features");
	mw(C(GFSELECT), 4, 0);
	mw(C(GF), 4, 0);
	CHECK(virtio_pci_negotiated(&vp) == (FEATURES | VIRTIO_F_VERSION_1), "features frozen after FEATURES_OK");
	mw(C(Q_SELECT), 2, 0);
	mw(C(Q_DESCLO), 4, 0x5000);
	CHECK(vp.queues[0].desc_gpa == 0x10000, "queue addresses frozen once enabled");
	/* notify */
	mw(VIRTIO_PCI_NOTIFY_OFF + 1 * VIRTIO_PCI_NOTIFY_MULT, 2, 1);
	mw(VIRTIO_PCI_NOTIFY_OFF, 2, 0);
	mw(VIRTIO_PCI_NOTIFY_OFF + 9 * VIRTIO_PCI_NOTIFY_MULT, 2, 9);
	CHECK(notifies[0] == 1 && notifies[1] == 1, "notify writes reach the device's queue_notify");
	/* 64-bit accesses */
	mw(C(STATUS), 1, 0);
	mw(C(STATUS), 1, 3);
	mw(C(Q_SELECT), 2, 1);
	mw(C(Q_DESCLO), 8, 0x123456789000ull);
	CHECK(mr(C(Q_DESCLO), 8) == 0x123456789000ull && vp.queues[1].desc_gpa == 0x123456789000ull,
	      "a 64-bit access to queue_desc");
	mw(C(Q_SELECT), 2, 7);
	CHECK(mr(C(Q_SIZE), 2) == 0 && mr(C(Q_ENABLE), 2) == 0, "a queue that does not exist reads size 0");
	/* device config */
	CHECK(mr(VIRTIO_PCI_DEVCFG_OFF, 4) == 0x04030201 && mr(VIRTIO_PCI_DEVCFG_OFF + 6, 2) == 0x0807 &&
	      mr(VIRTIO_PCI_DEVCFG_OFF + 5, 1) == 6, "device config reads go to the type");
	mw(VIRTIO_PCI_DEVCFG_OFF + 2, 1, 0xaa);
	CHECK(devcfg[2] == 0xaa && cfg_writes == 1, "device config writes go to the type");
	CHECK(mr(VIRTIO_PCI_DEVCFG_OFF + 8, 4) == 0, "past the device config reads 0");
	devcfg[2] = 3;
}

static void test_negotiation(void)
{
	setup();
	CHECK(linux_probe(FEATURES | (1ull << 3), 1) == 0 && virtio_pci_negotiated(&vp) == (FEATURES | VIRTIO_F_VERSION_1),
	      "a driver asking for more only gets what is offered (it masks)");
	/* a driver that sets a feature not offered */
	mw(C(STATUS), 1, 0);
	mw(C(STATUS), 1, 3);
	mw(C(GFSELECT), 4, 0);
	mw(C(GF), 4, (uint32_t)(FEATURES | (1u << 3)));
	mw(C(GFSELECT), 4, 1);
	mw(C(GF), 4, 1);
	mw(C(STATUS), 1, 3 | VIRTIO_STATUS_FEATURES_OK);
	CHECK(!(status() & VIRTIO_STATUS_FEATURES_OK), "FEATURES_OK refused for a feature not offered");
	CHECK(linux_probe(FEATURES, 0) == -2, "FEATURES_OK refused without VERSION_1");
	mw(C(STATUS), 1, 0);
	CHECK(status() == 0 && virtio_pci_negotiated(&vp) == 0, "reset clears status and features");
}

static void test_irq(void)
{
	setup();
	linux_probe(FEATURES, 1);
	/* post a chain on queue 0 and complete it */
	uint8_t *d = mem + 0x10000;
	uint64_t a = 0x3000;
	memcpy(d, &a, 8);
	d[8] = 4;
	mem[0x10800 + 4] = 0;
	mem[0x10800 + 2] = 1;
	struct vqd_seg segs[4];
	struct vqd_chain c;
	CHECK(virtio_pci_pop(&vp, 0, &c, segs, 4) == 1 && c.head == 0, "pop through the transport");
	virtio_pci_push(&vp, 0, c.head, 4);
	CHECK(irq == 1 && vp.isr == VIRTIO_ISR_QUEUE, "push raised the INTx line");
	cfgw(PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	CHECK(irq == 0, "INTx disable lowers the line");
	cfgw(PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	CHECK(irq == 1, "and enabling raises it again");
	CHECK(mr(VIRTIO_PCI_ISR_OFF, 1) == VIRTIO_ISR_QUEUE && irq == 0, "ISR read returns the queue bit and lowers the line");
	CHECK(mr(VIRTIO_PCI_ISR_OFF, 1) == 0, "ISR read cleared it");
	mem[0x10000] = 1;  /* NO_INTERRUPT */
	mem[0x10800] = VQD_AVAIL_F_NO_INTERRUPT;
	mem[0x10800 + 2] = 2;
	CHECK(virtio_pci_pop(&vp, 0, &c, segs, 4) == 1, "second chain");
	virtio_pci_push(&vp, 0, c.head, 0);
	CHECK(irq == 0 && vp.isr == 0, "no interrupt when the driver says VIRTQ_AVAIL_F_NO_INTERRUPT");
	virtio_pci_config_changed(&vp);
	CHECK(irq == 1 && mr(VIRTIO_PCI_ISR_OFF, 1) == VIRTIO_ISR_CONFIG && irq == 0 && mr(C(CFGGEN), 1) == 1,
	      "config change: ISR bit 1, interrupt, generation bumped");
}

static void test_needs_reset(void)
{
	setup();
	/* bad queue size at enable: refused, needs reset, no interrupt before DRIVER_OK */
	mw(C(STATUS), 1, 0);
	mw(C(STATUS), 1, 3);
	mw(C(GF), 4, 0);
	mw(C(GFSELECT), 4, 1);
	mw(C(GF), 4, 1);
	mw(C(STATUS), 1, 11);
	mw(C(Q_SELECT), 2, 0);
	mw(C(Q_SIZE), 2, 100);
	mw(C(Q_DESCLO), 4, 0x10000);
	mw(C(Q_AVAILLO), 4, 0x10800);
	mw(C(Q_USEDLO), 4, 0x11000);
	mw(C(Q_ENABLE), 2, 1);
	CHECK(mr(C(Q_ENABLE), 2) == 0 && (status() & VIRTIO_STATUS_NEEDS_RESET) && vp.error,
	      "queue size 100 refused at enable: DEVICE_NEEDS_RESET (%s)", vp.error);
	CHECK(irq == 0, "no interrupt before DRIVER_OK");
	mw(C(STATUS), 1, 0);
	CHECK(status() == 0 && !vp.error, "reset clears DEVICE_NEEDS_RESET");
	CHECK(linux_probe(FEATURES, 1) == 0, "probe again");
	mw(C(STATUS), 1, 3);  /* the driver cannot clear NEEDS_RESET or set it */
	mw(C(STATUS), 1, 0x4f);
	CHECK(!(status() & VIRTIO_STATUS_NEEDS_RESET), "the driver cannot set DEVICE_NEEDS_RESET");
	mw(C(STATUS), 1, 0);
	linux_probe(FEATURES, 1);
	mw(C(Q_SELECT), 2, 1);
	mw(C(Q_SIZE), 2, 256);
	CHECK(vp.queues[1].size == 128, "queue size is frozen after enable");
	/* a hostile chain after DRIVER_OK: needs reset + config interrupt */
	mem[0x10800 + 4] = 200;  /* head out of range */
	mem[0x10800 + 2] = 1;
	struct vqd_seg segs[4];
	struct vqd_chain c;
	CHECK(virtio_pci_pop(&vp, 0, &c, segs, 4) < 0, "hostile head: pop fails");
	CHECK((status() & VIRTIO_STATUS_NEEDS_RESET) && irq == 1 && vp.isr == VIRTIO_ISR_CONFIG && vp.error,
	      "DEVICE_NEEDS_RESET with a config interrupt: %s", vp.error);
	CHECK(virtio_pci_pop(&vp, 1, &c, segs, 4) == 0 && !virtio_pci_driver_ok(&vp), "no more work while it needs reset");
	mr(VIRTIO_PCI_ISR_OFF, 1);
	mw(C(STATUS), 1, 0);
	CHECK(linux_probe(FEATURES, 1) == 0 && virtio_pci_driver_ok(&vp), "the driver recovers with a reset");
	/* bogus accesses */
	mw(0x4000, 4, 1);
	mw(C(STATUS), 3, 0);
	mw(VIRTIO_PCI_ISR_OFF, 1, 0xff);
	CHECK(virtio_pci_driver_ok(&vp) && mr(0x3ffe, 4) == 0 && mr(0, 3) == 0, "odd sizes, out-of-BAR and ISR writes ignored");
}

static void test_pci_cfg_cap(void)
{
	setup();
	unsigned cap = vp.cfg_cap;
	CHECK(cap && cfgr(cap + 3, 1) == VIRTIO_PCI_CAP_PCI_CFG, "PCI_CFG capability at 0x%x", cap);
	cfgw(cap + 4, 1, VIRTIO_PCI_BAR);
	cfgw(cap + 8, 4, C(NUMQ));
	cfgw(cap + 12, 4, 2);
	CHECK((cfgr(cap + 16, 4) & 0xffff) == 2, "read num_queues through the PCI_CFG window");
	cfgw(cap + 8, 4, C(STATUS));
	cfgw(cap + 12, 4, 1);
	cfgw(cap + 16, 4, VIRTIO_STATUS_ACKNOWLEDGE);
	CHECK(status() == VIRTIO_STATUS_ACKNOWLEDGE, "write status through the PCI_CFG window");
	cfgw(cap + 12, 4, 3);
	cfgw(cap + 16, 4, 0);
	CHECK(status() == VIRTIO_STATUS_ACKNOWLEDGE, "a bad window length does nothing");
}

int main(void)
{
	test_identity();
	test_sequence();
	test_negotiation();
	test_irq();
	test_needs_reset();
	test_pci_cfg_cap();
	return unit_done();
}
