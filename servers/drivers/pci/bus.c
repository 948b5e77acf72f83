/* Configuration mechanism 1 (PCI local bus spec 3.0, 3.2.2.3.2): write
 * the function's address to CONFIG_ADDRESS (0xcf8), then move data
 * through CONFIG_DATA (0xcfc..0xcff).  And the bus walk that fills the
 * device table: functions, bridges, BAR sizes, interrupt pin and line. */
#include <libipc/libipc.h>
#include "bus.h"

#define PORTS_SLOT 9
#define CONFIG_ADDRESS 0xcf8
#define CONFIG_DATA 0xcfc
#define CAP_MSI 0x05
#define CAP_MSIX 0x11

struct pci_device pci_devices[PCI_MAX_DEVICES];
unsigned pci_device_count;

static uint32_t address(unsigned bus, unsigned dev, unsigned fn, unsigned offset)
{
	return 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (offset & 0xfc);
}

static uint32_t raw_read(unsigned bus, unsigned dev, unsigned fn, unsigned offset, unsigned size)
{
	uint64_t v = 0xffffffff;
	sys_ioport_out(PORTS_SLOT, CONFIG_ADDRESS, 4, address(bus, dev, fn, offset));
	sys_ioport_in(PORTS_SLOT, CONFIG_DATA + (offset & 3), size, &v);
	return (uint32_t)v;
}

static void raw_write(unsigned bus, unsigned dev, unsigned fn, unsigned offset, unsigned size, uint32_t v)
{
	sys_ioport_out(PORTS_SLOT, CONFIG_ADDRESS, 4, address(bus, dev, fn, offset));
	sys_ioport_out(PORTS_SLOT, CONFIG_DATA + (offset & 3), size, v);
}

uint32_t cfg_read(const struct pci_device *d, unsigned offset, unsigned size)
{
	return raw_read(d->bus, d->dev, d->fn, offset, size);
}

void cfg_write(const struct pci_device *d, unsigned offset, unsigned size, uint32_t value)
{
	raw_write(d->bus, d->dev, d->fn, offset, size, value);
}

/* Size the BARs: write all ones and see which address bits stick.  The
 * device's decoding is off meanwhile, so the probe values never claim
 * addresses on the bus. */
static void size_bars(struct pci_device *d, unsigned count)
{
	uint16_t cmd = (uint16_t)cfg_read(d, CFG_COMMAND, 2);
	cfg_write(d, CFG_COMMAND, 2, cmd & ~(CMD_IO | CMD_MEMORY));
	for (unsigned i = 0; i < count; i++) {
		unsigned reg = CFG_BAR0 + 4 * i;
		uint32_t orig = cfg_read(d, reg, 4);
		cfg_write(d, reg, 4, 0xffffffff);
		uint32_t probe = cfg_read(d, reg, 4);
		cfg_write(d, reg, 4, orig);
		struct pci_bar *b = &d->bar[i];
		if (orig & 1) {
			/* I/O: a 16-bit decoder reads 0 in the upper half */
			uint32_t mask = (probe & ~3u) | 0xffff0000u;
			if (probe & ~3u) {
				b->flags = BAR_IO;
				b->paddr = orig & ~3u;
				b->size = (uint32_t)(~mask + 1);
			}
			continue;
		}
		uint64_t mask = probe & ~0xfu;
		b->paddr = orig & ~0xfu;
		if (orig & 8)
			b->flags |= BAR_PREFETCH;
		if (((orig >> 1) & 3) == 2 && i + 1 < count) {
			/* 64-bit: the next register holds the upper half */
			uint32_t orig_hi = cfg_read(d, reg + 4, 4);
			cfg_write(d, reg + 4, 4, 0xffffffff);
			uint32_t probe_hi = cfg_read(d, reg + 4, 4);
			cfg_write(d, reg + 4, 4, orig_hi);
			mask |= (uint64_t)probe_hi << 32;
			b->paddr |= (uint64_t)orig_hi << 32;
			b->flags |= BAR_64;
			i++;
		} else {
			mask |= 0xffffffff00000000ull;
		}
		if (probe & ~0xfu)
			b->size = ~mask + 1;
		else
			b->flags = 0, b->paddr = 0;
	}
	cfg_write(d, CFG_COMMAND, 2, cmd);
}

/* Note where the MSI and MSI-X structures are: drivers may not write
 * them (the kernel has no MSI support to route what they would send). */
static void find_msi(struct pci_device *d)
{
	if (!(cfg_read(d, CFG_STATUS, 2) & STATUS_CAP_LIST))
		return;
	unsigned at = cfg_read(d, CFG_CAP_PTR, 1) & 0xfc, n = 0, locks = 0;
	for (int hops = 0; at >= 0x40 && hops < 48; hops++) {
		unsigned id = cfg_read(d, at, 1);
		unsigned len = 0;
		if (id == CAP_MSI) {
			unsigned control = cfg_read(d, at + 2, 2);
			len = 10 + ((control & 0x80) ? 4 : 0) + ((control & 0x100) ? 10 : 0);
		} else if (id == CAP_MSIX) {
			len = 12;
		}
		if (len && locks < 2) {
			d->locked_lo[locks] = (uint8_t)at;
			d->locked_hi[locks] = (uint8_t)(at + len - 1 > 0xff ? 0xff : at + len - 1);
			locks++;
		}
		at = cfg_read(d, at + 1, 1) & 0xfc;
		n++;
	}
}

static uint8_t visited[256 / 8];

static void scan_bus(unsigned bus);

static void add_function(unsigned bus, unsigned dev, unsigned fn)
{
	if (pci_device_count == PCI_MAX_DEVICES)
		return;
	struct pci_device *d = &pci_devices[pci_device_count++];
	memset(d, 0, sizeof(*d));
	d->bus = (uint8_t)bus;
	d->dev = (uint8_t)dev;
	d->fn = (uint8_t)fn;
	uint32_t id = cfg_read(d, CFG_VENDOR, 4);
	d->vendor = (uint16_t)id;
	d->device = (uint16_t)(id >> 16);
	d->class_rev = cfg_read(d, CFG_CLASS_REV, 4);
	d->header_type = cfg_read(d, CFG_HEADER_TYPE, 1) & 0x7f;
	d->irq_line = (uint8_t)cfg_read(d, CFG_INT_LINE, 1);
	d->irq_pin = (uint8_t)cfg_read(d, CFG_INT_PIN, 1);
	if (d->header_type == 0) {
		d->subsystem = cfg_read(d, CFG_SUBSYSTEM, 4);
		size_bars(d, 6);
	} else if (d->header_type == 1) {
		size_bars(d, 2);
	}
	find_msi(d);
	if (d->header_type == 1) {
		unsigned secondary = cfg_read(d, CFG_SECONDARY_BUS, 1);
		if (secondary > bus)
			scan_bus(secondary);
	}
}

static void scan_bus(unsigned bus)
{
	if (visited[bus / 8] & (1 << (bus % 8)))
		return;
	visited[bus / 8] |= (uint8_t)(1 << (bus % 8));
	for (unsigned dev = 0; dev < 32; dev++) {
		if ((raw_read(bus, dev, 0, CFG_VENDOR, 2) & 0xffff) == 0xffff)
			continue;
		unsigned functions = (raw_read(bus, dev, 0, CFG_HEADER_TYPE, 1) & 0x80) ? 8 : 1;
		for (unsigned fn = 0; fn < functions; fn++)
			if ((raw_read(bus, dev, fn, CFG_VENDOR, 2) & 0xffff) != 0xffff)
				add_function(bus, dev, fn);
	}
}

void pci_enumerate(void)
{
	scan_bus(0);
}
