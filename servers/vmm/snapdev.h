/* The device models' state in a snapshot (docs/lifecycle.md).
 *
 * Each model has one function that walks its fields in a fixed order,
 * saving or loading them: one list per model, so saving and loading
 * cannot drift apart.  Loading fills the model from the section and then
 * checks what the model relies on (an index inside its array, a count
 * the timer divides by); a state out of range is refused with the
 * model's name, and the caller applies nothing.  Callbacks, contexts and
 * output not yet written are the VMM's, not the state's: they are left
 * as they are.  Pure code, unit-tested on the host
 * (tests/unit/test_snapdev.c). */
#ifndef VMM_SNAPDEV_H
#define VMM_SNAPDEV_H

#include "snapfile.h"
#include "uart16550.h"
#include "pit8254.h"
#include "rtc.h"
#include "lapic.h"
#include "ioapic.h"
#include "acpi_pm.h"
#include "i8042.h"
#include "pvclock.h"
#include "pic8259.h"
#include "pci.h"
#include "virtio_pci.h"

struct snap_io {
	struct snap_buf b;
	int load;                 /* 1: fields are read from b, 0: written to it */
	int measure;              /* only count the bytes (b.at) */
};

/* The section versions: raised when a model's field list changes. */
#define SNAPDEV_UART_VERSION 1
#define SNAPDEV_PIC_VERSION 1
#define SNAPDEV_PIT_VERSION 1
#define SNAPDEV_RTC_VERSION 1
#define SNAPDEV_LAPIC_VERSION 1
#define SNAPDEV_IOAPIC_VERSION 1
#define SNAPDEV_PM_VERSION 1
#define SNAPDEV_KBC_VERSION 1
#define SNAPDEV_PVCLOCK_VERSION 1
#define SNAPDEV_PCI_VERSION 1
#define SNAPDEV_VIRTIO_VERSION 1

/* Each returns 0, or (loading) the reason the state cannot be used. */
const char *snapdev_uart(struct snap_io *io, struct uart16550 *u);
const char *snapdev_pic(struct snap_io *io, struct pic8259 pic[2]);
const char *snapdev_pit(struct snap_io *io, struct pit8254 *p);
const char *snapdev_rtc(struct snap_io *io, struct rtc *r);
const char *snapdev_lapic(struct snap_io *io, struct lapic *l);
const char *snapdev_ioapic(struct snap_io *io, struct ioapic *a);
const char *snapdev_pm(struct snap_io *io, struct acpi_pm *pm);
const char *snapdev_kbc(struct snap_io *io, struct i8042 *k);
const char *snapdev_pvclock(struct snap_io *io, struct pvclock *c);
/* A PCI function's configuration space as the guest left it (BARs,
 * command, its capabilities' registers); the masks and hooks are the
 * model's.  The caller places the BARs again after loading. */
const char *snapdev_pci_config(struct snap_io *io, struct pci_device *d);
/* A virtio device's transport: features, status, its queues' places and
 * positions.  Requests in flight are not state: the VMM lets them finish
 * before it saves.  A queue that is ready must have a size that is a
 * power of two up to queue_max, as at enable. */
const char *snapdev_virtio(struct snap_io *io, struct virtio_pci *vp);

#endif
