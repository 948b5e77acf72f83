/* The virtio 1.x PCI transport ("modern" devices only; virtio 1.1 spec
 * 4.1): finding the device's structures through its vendor-specific
 * capabilities, mapping them from its BARs through the PCI session, and
 * the common configuration's registers. */
#ifndef VIRTIO_PCI_H
#define VIRTIO_PCI_H

#include <stdint.h>
#include "virtq.h"

/* device_status bits (2.1) */
#define VIRTIO_ACKNOWLEDGE 1
#define VIRTIO_DRIVER 2
#define VIRTIO_DRIVER_OK 4
#define VIRTIO_FEATURES_OK 8
#define VIRTIO_NEEDS_RESET 64
#define VIRTIO_FAILED 128

#define VIRTIO_F_VERSION_1 32

/* The common configuration structure (4.1.4.3) */
struct virtio_common_cfg {
	uint32_t device_feature_select;
	uint32_t device_feature;
	uint32_t driver_feature_select;
	uint32_t driver_feature;
	uint16_t config_msix_vector;
	uint16_t num_queues;
	uint8_t device_status;
	uint8_t config_generation;
	uint16_t queue_select;
	uint16_t queue_size;
	uint16_t queue_msix_vector;
	uint16_t queue_enable;
	uint16_t queue_notify_off;
	uint64_t queue_desc;
	uint64_t queue_driver;
	uint64_t queue_device;
};

struct virtio_dev {
	uint64_t session;                         /* the PCI session */
	volatile struct virtio_common_cfg *common;
	volatile uint8_t *notify_base;            /* queue i: + notify_off * multiplier */
	uint32_t notify_multiplier;
	volatile uint8_t *isr;
	volatile uint8_t *device_cfg;             /* the device-specific structure */
	uint32_t device_cfg_len;
};

/* Our device, the index'th virtio device of this PCI device id, from the
 * PCI server (its send right in slot pci); *session on success.  What
 * passes is waited out for about 3 s: a restarted driver may find its
 * old session not yet released (E_STATE), and a PCI server short of
 * slots or memory may be restarted.  Anything else is returned at once:
 * the manifest's mistakes (see virtio_pci_open_exit) and a PCI server
 * that is gone. */
long virtio_pci_open(uint64_t pci, uint16_t device_id, unsigned index, const char *name, uint64_t *session);

/* How a driver whose virtio_pci_open failed ends: EXIT_NO_RESTART when
 * it cannot work as configured (no such device; slot pci holds no PCI
 * server's right), else a failure init restarts it after (its next
 * instance is given the PCI server's new right). */
int virtio_pci_open_exit(long err);

/* Find and map the four structures.  0, or an error (E_STATE: the
 * device lacks one, so it is no modern virtio device). */
long virtio_map(struct virtio_dev *v, uint64_t session);

/* Write 0 to device_status and wait until the device reads back 0. */
long virtio_reset(struct virtio_dev *v);

/* Features: the device's 64 bits; write ours. */
uint64_t virtio_device_features(struct virtio_dev *v);
void virtio_set_driver_features(struct virtio_dev *v, uint64_t features);

/* The start of every driver's bring-up (virtio 1.1, 3.1.1): reset,
 * ACKNOWLEDGE, DRIVER, the features both sides have of `wanted`
 * (VIRTIO_F_VERSION_1 must be among them), FEATURES_OK and a check that
 * it stuck.  0 with *features, or an error and *why in words.  The
 * caller then sets up its queues and sets DRIVER_OK. */
long virtio_negotiate(struct virtio_dev *v, uint64_t wanted, uint64_t *features, const char **why);

/* Queue q's largest size (0: the queue does not exist). */
uint16_t virtio_queue_max(struct virtio_dev *v, uint16_t q);

/* Give the device queue q, laid out by virtq_init in physically
 * contiguous memory, and enable it; *notify_off is what virtio_notify
 * then takes for it. */
void virtio_queue_enable(struct virtio_dev *v, uint16_t q, const struct virtq *vq, uint16_t *notify_off);

/* Tell the device queue q has new buffers. */
void virtio_notify(struct virtio_dev *v, uint16_t q, uint16_t notify_off);

#endif
