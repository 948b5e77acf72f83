/* The PCI bus as the PCI server found it: configuration mechanism 1
 * access and the table of functions (bus.c). */
#ifndef PCI_BUS_H
#define PCI_BUS_H

#include <stdint.h>

#define PCI_MAX_DEVICES 64
#define PCI_BARS 6

#define BAR_IO 1
#define BAR_64 2
#define BAR_PREFETCH 4

/* Configuration registers (PCI local bus spec 3.0, 6.1) */
#define CFG_VENDOR 0x00
#define CFG_COMMAND 0x04
#define CFG_STATUS 0x06
#define CFG_CLASS_REV 0x08
#define CFG_HEADER_TYPE 0x0e
#define CFG_BAR0 0x10
#define CFG_SUBSYSTEM 0x2c
#define CFG_CAP_PTR 0x34
#define CFG_INT_LINE 0x3c
#define CFG_INT_PIN 0x3d
#define CFG_SECONDARY_BUS 0x19

#define CMD_IO 0x0001
#define CMD_MEMORY 0x0002
#define CMD_BUS_MASTER 0x0004
#define CMD_INTX_DISABLE 0x0400
#define STATUS_CAP_LIST 0x0010

struct pci_bar {
	uint64_t paddr, size;      /* size 0: not implemented */
	uint32_t flags;            /* BAR_IO, BAR_64, BAR_PREFETCH */
	uint64_t untyped;          /* our device Untyped covering exactly its pages, 0: none */
	int shared_page;           /* smaller than a page and not alone in it */
};

struct pci_device {
	uint8_t bus, dev, fn;
	uint8_t header_type;       /* without the multi-function bit */
	uint16_t vendor, device;
	uint32_t class_rev, subsystem;
	uint8_t irq_line, irq_pin;
	struct pci_bar bar[PCI_BARS];
	/* configuration bytes no driver writes: MSI and MSI-X structures */
	uint8_t locked_lo[2], locked_hi[2];
};

extern struct pci_device pci_devices[PCI_MAX_DEVICES];
extern unsigned pci_device_count;

/* size 1, 2 or 4, offset aligned to it, below 256 */
uint32_t cfg_read(const struct pci_device *d, unsigned offset, unsigned size);
void cfg_write(const struct pci_device *d, unsigned offset, unsigned size, uint32_t value);

/* Walk every bus from 0 through the bridges; fill pci_devices. */
void pci_enumerate(void);

#endif
