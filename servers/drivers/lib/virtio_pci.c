/* The virtio 1.x PCI transport (see virtio_pci.h). */
#include <libipc/libipc.h>
#include "pci.h"   /* generated from idl/pci.idl */
#include "virtio_pci.h"

#define CAP_VENDOR 0x09
#define CFG_COMMON 1
#define CFG_NOTIFY 2
#define CFG_ISR 3
#define CFG_DEVICE 4
/* each BAR's pages are mapped at BAR_VA + bar * BAR_STRIDE + offset */
#define BAR_VA 0x50000000UL
#define BAR_STRIDE 0x1000000UL
#define MAX_PAGES 64
#define PAGE 4096UL

static uint8_t mapped[6][MAX_PAGES];

static int open_refused_for_good(long err)
{
	return err == E_BAD_ARG || err == E_WRONG_TYPE || err == E_NO_RIGHTS;
}

long virtio_pci_open(uint64_t pci, uint16_t device_id, unsigned index, const char *name, uint64_t *session)
{
	uint32_t address;
	long err;
	for (int tries = 0;; tries++) {
		err = pci_open(pci, 0x1af4, device_id, index, name, session, &address);
		if (!err || open_refused_for_good(err) || ipc_peer_gone(err) || tries == 300)
			return err;
		clock_nap(1);
	}
}

int virtio_pci_open_exit(long err)
{
	return open_refused_for_good(err) ? EXIT_NO_RESTART : 1;
}

static uint32_t cfg(uint64_t session, unsigned offset, unsigned size)
{
	uint32_t v = 0;
	pci_config_read(session, offset, size, &v);
	return v;
}

/* Map the BAR pages holding [offset, offset + len); their address. */
static volatile uint8_t *map_range(uint64_t session, unsigned bar, uint32_t offset, uint32_t len, long *err)
{
	uint64_t paddr, size;
	uint32_t flags;
	*err = pci_bar_info(session, bar, &paddr, &size, &flags);
	if (*err)
		return 0;
	if (len == 0 || (uint64_t)offset + len > size || (offset + len - 1) / PAGE >= MAX_PAGES) {
		*err = E_RANGE;
		return 0;
	}
	for (uint32_t p = offset / PAGE; p <= (offset + len - 1) / PAGE; p++) {
		if (mapped[bar][p])
			continue;
		uint64_t frame;
		if ((*err = pci_bar_frame(session, bar, p, &frame)) ||
		    (*err = page_map_with_tables(frame, BAR_VA + bar * BAR_STRIDE + p * PAGE, RIGHT_READ | RIGHT_WRITE)))
			return 0;
		mapped[bar][p] = 1;
	}
	return (volatile uint8_t *)(BAR_VA + bar * BAR_STRIDE + offset);
}

long virtio_map(struct virtio_dev *v, uint64_t session)
{
	long err = E_STATE;
	int found = 0;
	v->session = session;
	if (!(cfg(session, 0x06, 2) & 0x10))
		return E_STATE;
	unsigned at = cfg(session, 0x34, 1) & 0xfc;
	for (int hops = 0; at >= 0x40 && hops < 48; hops++, at = cfg(session, at + 1, 1) & 0xfc) {
		if (cfg(session, at, 1) != CAP_VENDOR)
			continue;
		unsigned type = cfg(session, at + 3, 1), bar = cfg(session, at + 4, 1);
		uint32_t offset = cfg(session, at + 8, 4), len = cfg(session, at + 12, 4);
		/* the first structure of each type is the one to use (4.1.4) */
		if (type < CFG_COMMON || type > CFG_DEVICE || (found & (1 << type)) || bar > 5)
			continue;
		volatile uint8_t *p = map_range(session, bar, offset, len, &err);
		if (!p)
			return err;
		switch (type) {
		case CFG_COMMON:
			if (len < sizeof(struct virtio_common_cfg))
				return E_STATE;
			v->common = (volatile struct virtio_common_cfg *)p;
			break;
		case CFG_NOTIFY:
			v->notify_base = p;
			v->notify_multiplier = cfg(session, at + 16, 4);
			break;
		case CFG_ISR:
			v->isr = p;
			break;
		default:
			v->device_cfg = p;
			v->device_cfg_len = len;
		}
		found |= 1 << type;
	}
	return found == 0x1e ? E_OK : E_STATE;
}

long virtio_reset(struct virtio_dev *v)
{
	v->common->device_status = 0;
	/* the device may take a while to finish its reset (4.1.4.3.2) */
	for (int i = 0; i < 1000000; i++)
		if (v->common->device_status == 0)
			return E_OK;
	return E_STATE;
}

uint64_t virtio_device_features(struct virtio_dev *v)
{
	v->common->device_feature_select = 0;
	uint64_t lo = v->common->device_feature;
	v->common->device_feature_select = 1;
	uint64_t hi = v->common->device_feature;
	return hi << 32 | lo;
}

void virtio_set_driver_features(struct virtio_dev *v, uint64_t features)
{
	v->common->driver_feature_select = 0;
	v->common->driver_feature = (uint32_t)features;
	v->common->driver_feature_select = 1;
	v->common->driver_feature = (uint32_t)(features >> 32);
}

long virtio_negotiate(struct virtio_dev *v, uint64_t wanted, uint64_t *features, const char **why)
{
	volatile struct virtio_common_cfg *c = v->common;
	if (virtio_reset(v)) {
		*why = "the device does not reset";
		return E_STATE;
	}
	c->device_status = VIRTIO_ACKNOWLEDGE;
	c->device_status = VIRTIO_ACKNOWLEDGE | VIRTIO_DRIVER;
	uint64_t offered = virtio_device_features(v);
	if (!(offered & (1ULL << VIRTIO_F_VERSION_1))) {
		*why = "the device does not offer VIRTIO_F_VERSION_1";
		return E_STATE;
	}
	*features = offered & (wanted | 1ULL << VIRTIO_F_VERSION_1);
	virtio_set_driver_features(v, *features);
	c->device_status = VIRTIO_ACKNOWLEDGE | VIRTIO_DRIVER | VIRTIO_FEATURES_OK;
	if (!(c->device_status & VIRTIO_FEATURES_OK)) {
		*why = "the device did not accept our features";
		return E_STATE;
	}
	return E_OK;
}

uint16_t virtio_queue_max(struct virtio_dev *v, uint16_t q)
{
	v->common->queue_select = q;
	return v->common->queue_size;
}

static void write64(volatile uint64_t *reg, uint64_t value)
{
	/* 64-bit fields as two 32-bit halves, which every transport takes */
	volatile uint32_t *half = (volatile uint32_t *)reg;
	half[0] = (uint32_t)value;
	half[1] = (uint32_t)(value >> 32);
}

void virtio_queue_enable(struct virtio_dev *v, uint16_t q, const struct virtq *vq, uint16_t *notify_off)
{
	volatile struct virtio_common_cfg *c = v->common;
	c->queue_select = q;
	c->queue_size = vq->size;
	write64(&c->queue_desc, vq->paddr);
	write64(&c->queue_driver, vq->paddr + virtq_avail_offset(vq->size));
	write64(&c->queue_device, vq->paddr + virtq_used_offset(vq->size));
	*notify_off = c->queue_notify_off;
	c->queue_enable = 1;
}

void virtio_notify(struct virtio_dev *v, uint16_t q, uint16_t notify_off)
{
	*(volatile uint16_t *)(v->notify_base + (uint32_t)notify_off * v->notify_multiplier) = q;
}
