/*
 * A modern (virtio 1.x, non-transitional) virtio PCI function for the
 * VMM's PCI bus (pci.h), with split virtqueues (virtq_dev.h).  Device
 * types (virtio_blk.c) sit on top through virtio_pci_ops.
 *
 * How the VMM uses it
 * -------------------
 *  1. The device type calls virtio_pci_init() (ids, features, queues,
 *     config size, ops); then the VMM calls
 *       virtio_pci_set_memory(vp, guest_ptr, ctx)  -- guest RAM accessor
 *         (see virtq_dev.h: NULL for anything outside guest RAM),
 *       virtio_pci_set_irq(vp, set_irq, ctx)       -- set_irq(ctx, 1/0)
 *         raises/lowers the function's INTx line (pin INTA) at the I/O
 *         APIC input the VMM routed it to (level triggered; put that
 *         GSI in d->config[PCI_INTERRUPT_LINE] / the ACPI tables),
 *       pci_register(bus, slot, 0, &vp->pci).
 *  2. Guest MMIO: pci_find_bar() returning &vp->pci (d->ctx == vp) with
 *     bar == VIRTIO_PCI_BAR: virtio_pci_mmio_read/_write(vp, offset,
 *     size 1/2/4/8, value).  Notifications are writes to the notify
 *     area; they call ops->queue_notify synchronously.
 *  3. Config space goes through pci.c as usual (the hooks installed here
 *     serve VIRTIO_PCI_CAP_PCI_CFG and INTx disable).
 *
 * BAR 4 (64-bit memory, 16 KiB): common config at 0x0000, ISR at 0x1000,
 * device config at 0x2000, notify at 0x3000 (notify_off_multiplier 4,
 * queue n's notify_off = n).  MSI-X is not offered: msix_config and
 * queue_msix_vector read 0xffff (VIRTIO_MSI_NO_VECTOR).  Reading ISR
 * returns and clears it and lowers the line.
 *
 * Features: the type's features | VIRTIO_F_VERSION_1.  A driver setting
 * FEATURES_OK with a feature not offered, or without VERSION_1, reads
 * FEATURES_OK back as 0.  Writing 0 to device_status resets (queues
 * disabled, ops->reset called).  A guest error (a queue violation,
 * virtio_pci_needs_reset()) sets DEVICE_NEEDS_RESET, bumps
 * config_generation and raises a configuration-change interrupt;
 * vp->error says what was wrong.  Pure: no system calls.
 */
#ifndef VIRTIO_PCI_H
#define VIRTIO_PCI_H

#include <stddef.h>
#include <stdint.h>
#include "pci.h"
#include "virtq_dev.h"

#define VIRTIO_PCI_VENDOR      0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040  /* + virtio device type */
#define VIRTIO_PCI_BAR         4
#define VIRTIO_PCI_BAR_SIZE    0x4000
#define VIRTIO_PCI_COMMON_OFF  0x0000
#define VIRTIO_PCI_ISR_OFF     0x1000
#define VIRTIO_PCI_DEVCFG_OFF  0x2000
#define VIRTIO_PCI_NOTIFY_OFF  0x3000
#define VIRTIO_PCI_NOTIFY_MULT 4
#define VIRTIO_PCI_MAX_QUEUES  8
#define VIRTIO_PCI_DEVCFG_MAX  256

/* capability cfg_type */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG    3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG    5

/* common configuration offsets */
#define VIRTIO_PCI_COMMON_DFSELECT  0x00
#define VIRTIO_PCI_COMMON_DF        0x04
#define VIRTIO_PCI_COMMON_GFSELECT  0x08
#define VIRTIO_PCI_COMMON_GF        0x0c
#define VIRTIO_PCI_COMMON_MSIX      0x10
#define VIRTIO_PCI_COMMON_NUMQ      0x12
#define VIRTIO_PCI_COMMON_STATUS    0x14
#define VIRTIO_PCI_COMMON_CFGGEN    0x15
#define VIRTIO_PCI_COMMON_Q_SELECT  0x16
#define VIRTIO_PCI_COMMON_Q_SIZE    0x18
#define VIRTIO_PCI_COMMON_Q_MSIX    0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE  0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF    0x1e
#define VIRTIO_PCI_COMMON_Q_DESCLO  0x20
#define VIRTIO_PCI_COMMON_Q_DESCHI  0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO 0x28
#define VIRTIO_PCI_COMMON_Q_AVAILHI 0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO  0x30
#define VIRTIO_PCI_COMMON_Q_USEDHI  0x34
#define VIRTIO_PCI_COMMON_SIZE      0x38

/* device status */
#define VIRTIO_STATUS_ACKNOWLEDGE  1
#define VIRTIO_STATUS_DRIVER       2
#define VIRTIO_STATUS_DRIVER_OK    4
#define VIRTIO_STATUS_FEATURES_OK  8
#define VIRTIO_STATUS_NEEDS_RESET  0x40
#define VIRTIO_STATUS_FAILED       0x80

#define VIRTIO_ISR_QUEUE  1
#define VIRTIO_ISR_CONFIG 2

#define VIRTIO_F_VERSION_1 (1ull << 32)
#define VIRTIO_MSI_NO_VECTOR 0xffff

struct virtio_pci;

struct virtio_pci_ops {
	void (*reset)(struct virtio_pci *vp);               /* device reset */
	void (*queue_notify)(struct virtio_pci *vp, unsigned q); /* the driver kicked q */
	/* device-specific config; off + size <= config_len */
	uint32_t (*config_read)(struct virtio_pci *vp, unsigned off, unsigned size);
	void (*config_write)(struct virtio_pci *vp, unsigned off, unsigned size, uint32_t value);
};

struct virtio_pci {
	struct pci_device pci;  /* pci.ctx == this */
	const struct virtio_pci_ops *ops;
	void *dev;              /* the device type's state */
	void (*set_irq)(void *ctx, int level);
	void *irq_ctx;
	int irq_level;

	uint64_t host_features, driver_features;
	uint32_t dfselect, gfselect;
	uint8_t status, generation, isr;
	uint16_t queue_select, num_queues;
	uint16_t queue_max;     /* largest queue size offered */
	unsigned config_len;
	struct vqd queues[VIRTIO_PCI_MAX_QUEUES];
	const char *error;      /* why DEVICE_NEEDS_RESET was set */
	unsigned cfg_cap;       /* offset of the PCI_CFG capability */
};

/* type: virtio device id (2 = block); class: PCI class code; features:
 * the type's feature bits (VERSION_1 is added). */
void virtio_pci_init(struct virtio_pci *vp, uint16_t type, uint32_t class_code, uint64_t features,
		     unsigned num_queues, uint16_t queue_max, unsigned config_len,
		     const struct virtio_pci_ops *ops, void *dev);
void virtio_pci_set_memory(struct virtio_pci *vp, vqd_guest_ptr_fn guest_ptr, void *ctx);
void virtio_pci_set_irq(struct virtio_pci *vp, void (*set_irq)(void *ctx, int level), void *ctx);

uint64_t virtio_pci_mmio_read(struct virtio_pci *vp, uint64_t off, unsigned size);
void virtio_pci_mmio_write(struct virtio_pci *vp, uint64_t off, unsigned size, uint64_t value);

/* For device types. */
int virtio_pci_driver_ok(const struct virtio_pci *vp);  /* DRIVER_OK and not NEEDS_RESET */
/* vqd_pop on queue q; on a guest error, needs-reset.  1/0/-1 as vqd_pop. */
int virtio_pci_pop(struct virtio_pci *vp, unsigned q, struct vqd_chain *c, struct vqd_seg *segs, unsigned max);
/* vqd_push, then a queue interrupt if the driver wants one. */
void virtio_pci_push(struct virtio_pci *vp, unsigned q, uint16_t head, uint32_t len);
void virtio_pci_needs_reset(struct virtio_pci *vp, const char *why);
void virtio_pci_config_changed(struct virtio_pci *vp);
uint64_t virtio_pci_negotiated(const struct virtio_pci *vp);  /* driver features once FEATURES_OK */

#endif
