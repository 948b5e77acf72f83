/* A modern virtio PCI function: see virtio_pci.h. */
#include "virtio_pci.h"

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static void update_irq(struct virtio_pci *vp)
{
	int level = vp->isr != 0 && !(vp->pci.config[PCI_COMMAND + 1] & (PCI_COMMAND_INTX_DISABLE >> 8));
	if (level != vp->irq_level) {
		vp->irq_level = level;
		if (vp->set_irq)
			vp->set_irq(vp->irq_ctx, level);
	}
}

static unsigned add_cap(struct pci_device *d, uint8_t type, unsigned len, uint32_t off, uint32_t size)
{
	unsigned c = pci_device_add_capability(d, 0x09, len);
	if (!c)
		return 0;
	d->config[c + 2] = (uint8_t)len;
	d->config[c + 3] = type;
	d->config[c + 4] = VIRTIO_PCI_BAR;
	put32(d->config + c + 8, off);
	put32(d->config + c + 12, size);
	return c;
}

static void reset(struct virtio_pci *vp)
{
	vp->status = 0;
	vp->driver_features = 0;
	vp->dfselect = vp->gfselect = 0;
	vp->queue_select = 0;
	vp->isr = 0;
	vp->error = 0;
	for (unsigned i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++) {
		vqd_reset(&vp->queues[i]);
		vp->queues[i].size = i < vp->num_queues ? vp->queue_max : 0;
	}
	update_irq(vp);
	if (vp->ops && vp->ops->reset)
		vp->ops->reset(vp);
}

/* VIRTIO_PCI_CAP_PCI_CFG: a window into the BAR through config space. */
static uint32_t cfg_read_hook(struct pci_device *d, unsigned reg, unsigned size, uint32_t v)
{
	struct virtio_pci *vp = d->ctx;
	unsigned data = vp->cfg_cap + 16;
	if (!vp->cfg_cap || reg + size <= data || reg >= data + 4)
		return v;
	uint8_t *c = d->config + vp->cfg_cap;
	uint32_t len = get32(c + 12), off = get32(c + 8);
	if (c[4] == VIRTIO_PCI_BAR && (len == 1 || len == 2 || len == 4) && !(off & (len - 1)))
		put32(d->config + data, (uint32_t)virtio_pci_mmio_read(vp, off, len));
	v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)d->config[reg + i] << (8 * i);
	return v;
}

static void cfg_write_hook(struct pci_device *d, unsigned reg, unsigned size, uint32_t value)
{
	struct virtio_pci *vp = d->ctx;
	(void)value;
	if (reg <= PCI_COMMAND + 1 && reg + size > PCI_COMMAND + 1)
		update_irq(vp);
	unsigned data = vp->cfg_cap + 16;
	if (!vp->cfg_cap || reg + size <= data || reg >= data + 4)
		return;
	uint8_t *c = d->config + vp->cfg_cap;
	uint32_t len = get32(c + 12), off = get32(c + 8);
	if (c[4] == VIRTIO_PCI_BAR && (len == 1 || len == 2 || len == 4) && !(off & (len - 1))) {
		uint32_t v = get32(d->config + data);
		if (len < 4)
			v &= (1u << (8 * len)) - 1;
		virtio_pci_mmio_write(vp, off, len, v);
	}
}

void virtio_pci_init(struct virtio_pci *vp, uint16_t type, uint32_t class_code, uint64_t features,
		     unsigned num_queues, uint16_t queue_max, unsigned config_len,
		     const struct virtio_pci_ops *ops, void *dev)
{
	struct pci_device *d = &vp->pci;
	pci_device_init(d, VIRTIO_PCI_VENDOR, (uint16_t)(VIRTIO_PCI_DEVICE_BASE + type), class_code, 1);
	put16(d->config + PCI_SUBSYSTEM_VENDOR_ID, VIRTIO_PCI_VENDOR);
	put16(d->config + PCI_SUBSYSTEM_ID, 0x40);  /* >= 0x40 as the spec recommends for modern */
	d->config[PCI_INTERRUPT_PIN] = 1;
	pci_device_add_bar(d, VIRTIO_PCI_BAR, VIRTIO_PCI_BAR_SIZE, PCI_BAR_MEM64 | PCI_BAR_PREFETCH);
	if (config_len > VIRTIO_PCI_DEVCFG_MAX)
		config_len = VIRTIO_PCI_DEVCFG_MAX;
	add_cap(d, VIRTIO_PCI_CAP_COMMON_CFG, 16, VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_COMMON_SIZE);
	add_cap(d, VIRTIO_PCI_CAP_ISR_CFG, 16, VIRTIO_PCI_ISR_OFF, 1);
	if (config_len)
		add_cap(d, VIRTIO_PCI_CAP_DEVICE_CFG, 16, VIRTIO_PCI_DEVCFG_OFF, config_len);
	unsigned n = add_cap(d, VIRTIO_PCI_CAP_NOTIFY_CFG, 20, VIRTIO_PCI_NOTIFY_OFF,
			     VIRTIO_PCI_NOTIFY_MULT * (num_queues ? num_queues : 1));
	if (n)
		put32(d->config + n + 16, VIRTIO_PCI_NOTIFY_MULT);
	unsigned c = add_cap(d, VIRTIO_PCI_CAP_PCI_CFG, 20, 0, 0);
	if (c) {
		d->config[c + 4] = 0;
		for (unsigned i = 4; i < 20; i++)
			if (i != 5 && i != 6 && i != 7)
				d->wmask[c + i] = 0xff;
	}
	vp->cfg_cap = c;
	d->config_read = cfg_read_hook;
	d->config_write = cfg_write_hook;
	d->ctx = vp;

	vp->ops = ops;
	vp->dev = dev;
	vp->set_irq = 0;
	vp->irq_ctx = 0;
	vp->irq_level = 0;
	vp->host_features = features | VIRTIO_F_VERSION_1;
	vp->num_queues = (uint16_t)(num_queues > VIRTIO_PCI_MAX_QUEUES ? VIRTIO_PCI_MAX_QUEUES : num_queues);
	vp->queue_max = queue_max;
	vp->config_len = config_len;
	vp->generation = 0;
	for (unsigned i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)
		vqd_init(&vp->queues[i], 0, 0);
	vp->ops = 0;  /* no reset callback during init */
	reset(vp);
	vp->ops = ops;
}

void virtio_pci_set_memory(struct virtio_pci *vp, vqd_guest_ptr_fn guest_ptr, void *ctx)
{
	for (unsigned i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++) {
		vp->queues[i].guest_ptr = guest_ptr;
		vp->queues[i].mem_ctx = ctx;
	}
}

void virtio_pci_set_irq(struct virtio_pci *vp, void (*set_irq)(void *ctx, int level), void *ctx)
{
	vp->set_irq = set_irq;
	vp->irq_ctx = ctx;
	vp->irq_level = 0;
	if (set_irq)
		set_irq(ctx, 0);
	update_irq(vp);
}

void virtio_pci_needs_reset(struct virtio_pci *vp, const char *why)
{
	if (!vp->error)
		vp->error = why;
	if (vp->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	vp->status |= VIRTIO_STATUS_NEEDS_RESET;
	virtio_pci_config_changed(vp);
}

void virtio_pci_config_changed(struct virtio_pci *vp)
{
	vp->generation++;
	if (vp->status & VIRTIO_STATUS_DRIVER_OK) {
		vp->isr |= VIRTIO_ISR_CONFIG;
		update_irq(vp);
	}
}

int virtio_pci_driver_ok(const struct virtio_pci *vp)
{
	return (vp->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) == VIRTIO_STATUS_DRIVER_OK;
}

uint64_t virtio_pci_negotiated(const struct virtio_pci *vp)
{
	return (vp->status & VIRTIO_STATUS_FEATURES_OK) ? vp->driver_features : 0;
}

int virtio_pci_pop(struct virtio_pci *vp, unsigned q, struct vqd_chain *c, struct vqd_seg *segs, unsigned max)
{
	if (q >= vp->num_queues || !virtio_pci_driver_ok(vp))
		return 0;
	int r = vqd_pop(&vp->queues[q], c, segs, max);
	if (r < 0)
		virtio_pci_needs_reset(vp, vp->queues[q].error);
	return r;
}

void virtio_pci_push(struct virtio_pci *vp, unsigned q, uint16_t head, uint32_t len)
{
	if (q >= vp->num_queues || !virtio_pci_driver_ok(vp))
		return;
	struct vqd *vq = &vp->queues[q];
	if (vqd_push(vq, head, len) < 0) {
		if (vq->error)
			virtio_pci_needs_reset(vp, vq->error);
		return;
	}
	if (vqd_need_interrupt(vq)) {
		vp->isr |= VIRTIO_ISR_QUEUE;
		update_irq(vp);
	}
}

/* --- the common configuration --------------------------------------- */

static struct vqd *selq(struct virtio_pci *vp)
{
	return vp->queue_select < vp->num_queues ? &vp->queues[vp->queue_select] : 0;
}

static uint32_t common_dword(struct virtio_pci *vp, unsigned off)
{
	struct vqd *q = selq(vp);
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT: return vp->dfselect;
	case VIRTIO_PCI_COMMON_DF:
		return vp->dfselect == 0 ? (uint32_t)vp->host_features :
		       vp->dfselect == 1 ? (uint32_t)(vp->host_features >> 32) : 0;
	case VIRTIO_PCI_COMMON_GFSELECT: return vp->gfselect;
	case VIRTIO_PCI_COMMON_GF:
		return vp->gfselect == 0 ? (uint32_t)vp->driver_features :
		       vp->gfselect == 1 ? (uint32_t)(vp->driver_features >> 32) : 0;
	case VIRTIO_PCI_COMMON_MSIX: return VIRTIO_MSI_NO_VECTOR | (uint32_t)vp->num_queues << 16;
	case VIRTIO_PCI_COMMON_STATUS:
		return vp->status | (uint32_t)vp->generation << 8 | (uint32_t)vp->queue_select << 16;
	case VIRTIO_PCI_COMMON_Q_SIZE:
		return (q ? q->size : 0) | (uint32_t)VIRTIO_MSI_NO_VECTOR << 16;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		return (q ? (uint32_t)q->ready : 0) | (uint32_t)(q ? vp->queue_select : 0) << 16;
	case VIRTIO_PCI_COMMON_Q_DESCLO: return q ? (uint32_t)q->desc_gpa : 0;
	case VIRTIO_PCI_COMMON_Q_DESCHI: return q ? (uint32_t)(q->desc_gpa >> 32) : 0;
	case VIRTIO_PCI_COMMON_Q_AVAILLO: return q ? (uint32_t)q->avail_gpa : 0;
	case VIRTIO_PCI_COMMON_Q_AVAILHI: return q ? (uint32_t)(q->avail_gpa >> 32) : 0;
	case VIRTIO_PCI_COMMON_Q_USEDLO: return q ? (uint32_t)q->used_gpa : 0;
	case VIRTIO_PCI_COMMON_Q_USEDHI: return q ? (uint32_t)(q->used_gpa >> 32) : 0;
	}
	return 0;
}

static void set_lo(uint64_t *a, uint32_t v) { *a = (*a & 0xffffffff00000000ull) | v; }
static void set_hi(uint64_t *a, uint32_t v) { *a = (*a & 0xffffffffull) | (uint64_t)v << 32; }

static void write_status(struct virtio_pci *vp, uint8_t v)
{
	if (v == 0) {
		reset(vp);
		return;
	}
	uint8_t old = vp->status;
	/* the device's own bit stays as it is */
	v = (uint8_t)((v & ~VIRTIO_STATUS_NEEDS_RESET) | (old & VIRTIO_STATUS_NEEDS_RESET));
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
		if ((vp->driver_features & ~vp->host_features) || !(vp->driver_features & VIRTIO_F_VERSION_1))
			v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	}
	/* FEATURES_OK cannot be taken back except by a reset */
	if (old & VIRTIO_STATUS_FEATURES_OK)
		v |= VIRTIO_STATUS_FEATURES_OK;
	vp->status = v;
}

/* A write of the bytes `mask` (bit i: byte i) of the dword at off. */
static void common_write(struct virtio_pci *vp, unsigned off, uint32_t v, unsigned mask)
{
	struct vqd *q = selq(vp);
	int live = q && !q->ready && !(vp->status & VIRTIO_STATUS_DRIVER_OK);
	int feat = !(vp->status & VIRTIO_STATUS_FEATURES_OK);
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT: vp->dfselect = v; break;
	case VIRTIO_PCI_COMMON_GFSELECT: vp->gfselect = v; break;
	case VIRTIO_PCI_COMMON_GF:
		if (!feat)
			break;
		if (vp->gfselect == 0)
			set_lo(&vp->driver_features, v);
		else if (vp->gfselect == 1)
			set_hi(&vp->driver_features, v);
		break;
	case VIRTIO_PCI_COMMON_STATUS:
		if (mask & 4)  /* queue_select: before status if both */
			vp->queue_select = (uint16_t)(v >> 16);
		if (mask & 1)
			write_status(vp, (uint8_t)v);
		break;
	case VIRTIO_PCI_COMMON_Q_SIZE:
		if ((mask & 3) && live) {
			uint16_t n = (uint16_t)v;
			q->size = n;  /* checked at enable */
		}
		break;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		if ((mask & 3) && q && (uint16_t)v == 1 && !q->ready && !(vp->status & VIRTIO_STATUS_DRIVER_OK)) {
			if (q->size > vp->queue_max) {
				q->broken = 1;
				q->error = "virtqueue: queue size larger than offered";
				virtio_pci_needs_reset(vp, q->error);
			} else if (vqd_enable(q) < 0)
				virtio_pci_needs_reset(vp, q->error);
		}
		break;
	case VIRTIO_PCI_COMMON_Q_DESCLO: if (live) set_lo(&q->desc_gpa, v); break;
	case VIRTIO_PCI_COMMON_Q_DESCHI: if (live) set_hi(&q->desc_gpa, v); break;
	case VIRTIO_PCI_COMMON_Q_AVAILLO: if (live) set_lo(&q->avail_gpa, v); break;
	case VIRTIO_PCI_COMMON_Q_AVAILHI: if (live) set_hi(&q->avail_gpa, v); break;
	case VIRTIO_PCI_COMMON_Q_USEDLO: if (live) set_lo(&q->used_gpa, v); break;
	case VIRTIO_PCI_COMMON_Q_USEDHI: if (live) set_hi(&q->used_gpa, v); break;
	}
}

/* --- the BAR ------------------------------------------------------------ */

static uint32_t region_dword(struct virtio_pci *vp, uint64_t off)
{
	if (off < VIRTIO_PCI_COMMON_SIZE)
		return common_dword(vp, (unsigned)off);
	if (off >= VIRTIO_PCI_DEVCFG_OFF && off < VIRTIO_PCI_DEVCFG_OFF + vp->config_len) {
		unsigned o = (unsigned)(off - VIRTIO_PCI_DEVCFG_OFF);
		unsigned n = vp->config_len - o < 4 ? vp->config_len - o : 4;
		if (!vp->ops || !vp->ops->config_read)
			return 0;
		uint32_t v = 0;
		for (unsigned i = 0; i < n; i++)
			v |= (vp->ops->config_read(vp, o + i, 1) & 0xff) << (8 * i);
		return v;
	}
	return 0;
}

uint64_t virtio_pci_mmio_read(struct virtio_pci *vp, uint64_t off, unsigned size)
{
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return 0;
	if (off >= VIRTIO_PCI_BAR_SIZE || off + size > VIRTIO_PCI_BAR_SIZE)
		return 0;
	if (off == VIRTIO_PCI_ISR_OFF) {
		uint8_t isr = vp->isr;
		vp->isr = 0;
		update_irq(vp);
		return isr;
	}
	/* device config: a naturally sized read goes to the type as one */
	if (off >= VIRTIO_PCI_DEVCFG_OFF && off + size <= VIRTIO_PCI_DEVCFG_OFF + vp->config_len &&
	    size <= 4 && !(off & (size - 1)) && vp->ops && vp->ops->config_read)
		return vp->ops->config_read(vp, (unsigned)(off - VIRTIO_PCI_DEVCFG_OFF), size);
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++) {
		uint64_t o = off + i;
		uint32_t dw = region_dword(vp, o & ~3ull);
		v |= (uint64_t)((dw >> (8 * (o & 3))) & 0xff) << (8 * i);
	}
	return v;
}

void virtio_pci_mmio_write(struct virtio_pci *vp, uint64_t off, unsigned size, uint64_t value)
{
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return;
	if (off >= VIRTIO_PCI_BAR_SIZE || off + size > VIRTIO_PCI_BAR_SIZE)
		return;
	if (off >= VIRTIO_PCI_NOTIFY_OFF) {
		uint64_t n = (off - VIRTIO_PCI_NOTIFY_OFF) / VIRTIO_PCI_NOTIFY_MULT;
		if (n < vp->num_queues && vp->queues[n].ready && virtio_pci_driver_ok(vp) && vp->ops &&
		    vp->ops->queue_notify)
			vp->ops->queue_notify(vp, (unsigned)n);
		return;
	}
	if (off >= VIRTIO_PCI_DEVCFG_OFF) {
		unsigned o = (unsigned)(off - VIRTIO_PCI_DEVCFG_OFF);
		if (o + size <= vp->config_len && size <= 4 && vp->ops && vp->ops->config_write)
			vp->ops->config_write(vp, o, size, (uint32_t)value);
		return;
	}
	if (off >= VIRTIO_PCI_COMMON_SIZE)
		return;  /* ISR and holes are read-only */
	/* group the bytes by dword; merge with the current value */
	uint64_t o = off;
	unsigned i = 0;
	while (i < size) {
		uint64_t dw = o & ~3ull;
		uint32_t cur = common_dword(vp, (unsigned)dw);
		unsigned mask = 0;
		while (i < size && (o & ~3ull) == dw) {
			unsigned b = (unsigned)(o & 3);
			cur = (cur & ~(0xffu << (8 * b))) | (uint32_t)((value >> (8 * i)) & 0xff) << (8 * b);
			mask |= 1u << b;
			i++;
			o++;
		}
		common_write(vp, (unsigned)dw, cur, mask);
	}
}
