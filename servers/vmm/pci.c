/*
 * PCI configuration mechanism #1 and generic config-space behaviour: see
 * pci.h for what the VMM must do and for the rules.
 *
 * Only <stdint.h>: no library calls, so it runs anywhere.
 */
#include "pci.h"

#define NULL_DEVICE ((struct pci_device *)0)

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void pci_device_init(struct pci_device *d, uint16_t vendor, uint16_t device, uint32_t class_code,
		     uint8_t revision)
{
	for (unsigned i = 0; i < PCI_CONFIG_SIZE; i++)
		d->config[i] = d->wmask[i] = d->w1cmask[i] = 0;
	for (unsigned i = 0; i < PCI_BARS; i++)
		d->bar_size[i] = 0;
	d->next_cap = 0x40;
	d->config_read = 0;
	d->config_write = 0;
	d->ctx = 0;
	put16(d->config + PCI_VENDOR_ID, vendor);
	put16(d->config + PCI_DEVICE_ID, device);
	d->config[PCI_REVISION_ID] = revision;
	d->config[PCI_CLASS_PROG] = (uint8_t)class_code;
	put16(d->config + PCI_CLASS_DEVICE, (uint16_t)(class_code >> 8));
	d->config[PCI_HEADER_TYPE] = 0x00;
	put16(d->wmask + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
				      PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
	put16(d->w1cmask + PCI_STATUS, PCI_STATUS_W1C);
	d->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	d->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

static int power_of_two(uint64_t v)
{
	return v && !(v & (v - 1));
}

int pci_device_add_bar(struct pci_device *d, unsigned bar, uint64_t size, unsigned kind)
{
	unsigned reg = PCI_BAR0 + 4 * bar;
	int is64 = (kind & ~PCI_BAR_PREFETCH) == PCI_BAR_MEM64;

	if (bar >= PCI_BARS || (is64 && bar + 1 >= PCI_BARS) || !power_of_two(size))
		return -1;
	if (kind == PCI_BAR_IO) {
		if (size < 4 || size > 0x10000)
			return -1;
		put32(d->config + reg, PCI_BAR_IO);
		/* The address bits above the size are writable, so writing
		 * all ones reads back ~(size - 1) with the kind bits. */
		put32(d->wmask + reg, ~(uint32_t)(size - 1) & ~3u);
	} else if ((kind & ~PCI_BAR_PREFETCH) == PCI_BAR_MEM32 || is64) {
		if (size < 16 || (!is64 && size > 0x80000000ull))
			return -1;
		put32(d->config + reg, kind);
		put32(d->wmask + reg, (uint32_t)~(size - 1) & ~0xfu);
		if (is64) {
			put32(d->config + reg + 4, 0);
			put32(d->wmask + reg + 4, (uint32_t)(~(size - 1) >> 32));
		}
	} else {
		return -1;
	}
	d->bar_size[bar] = size;
	return 0;
}

unsigned pci_device_add_capability(struct pci_device *d, uint8_t id, unsigned length)
{
	unsigned at = (d->next_cap + 3) & ~3u;

	if (length < 2 || at + length > PCI_CONFIG_SIZE)
		return 0;
	d->config[at] = id;
	d->config[at + 1] = 0;
	/* Link it at the end of the list. */
	if (!(d->config[PCI_STATUS] & PCI_STATUS_CAP_LIST)) {
		d->config[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
		d->config[PCI_CAPABILITY_LIST] = (uint8_t)at;
	} else {
		unsigned p = d->config[PCI_CAPABILITY_LIST];
		while (d->config[p + 1])
			p = d->config[p + 1];
		d->config[p + 1] = (uint8_t)at;
	}
	d->next_cap = at + length;
	return at;
}

void pci_init(struct pci_bus *bus)
{
	bus->address = 0;
	bus->reset_control = 0;
	bus->slots_used = 0;
	for (unsigned s = 0; s < PCI_SLOTS; s++)
		for (unsigned f = 0; f < PCI_FUNCTIONS; f++)
			bus->functions[s][f] = NULL_DEVICE;
	pci_device_init(&bus->host_bridge, PCI_HOST_VENDOR, PCI_HOST_DEVICE, PCI_HOST_CLASS, PCI_HOST_REV);
	/* A host bridge is always a bus master and decodes memory; it
	 * reports medium DEVSEL timing, as the 82441FX does. */
	put16(bus->host_bridge.config + PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	put16(bus->host_bridge.config + PCI_STATUS, 0x0200);
	pci_register(bus, 0, 0, &bus->host_bridge);
}

int pci_register(struct pci_bus *bus, unsigned slot, unsigned fn, struct pci_device *d)
{
	if (slot >= PCI_SLOTS || fn >= PCI_FUNCTIONS || bus->functions[slot][fn])
		return -1;
	bus->functions[slot][fn] = d;
	if (fn == 0)
		bus->slots_used |= 1u << slot;
	return 0;
}

/* The function a config access reaches, or NULL (all ones). */
static struct pci_device *lookup(struct pci_bus *bus, unsigned busno, unsigned slot, unsigned fn)
{
	struct pci_device *f0;

	if (busno != 0 || slot >= PCI_SLOTS || fn >= PCI_FUNCTIONS)
		return NULL_DEVICE;
	f0 = bus->functions[slot][0];
	if (!f0)
		return NULL_DEVICE;  /* no function 0: the slot is empty */
	if (fn != 0 && !(f0->config[PCI_HEADER_TYPE] & 0x80))
		return NULL_DEVICE;  /* single-function: only fn 0 answers */
	return bus->functions[slot][fn];
}

static uint32_t device_read(struct pci_device *d, unsigned reg, unsigned size)
{
	uint32_t v = 0;

	if (!d)
		return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)d->config[reg + i] << (8 * i);
	if (d->config_read)
		v = d->config_read(d, reg, size, v);
	return v;
}

static void device_write(struct pci_device *d, unsigned reg, unsigned size, uint32_t value)
{
	if (!d)
		return;
	for (unsigned i = 0; i < size; i++) {
		uint8_t b = (uint8_t)(value >> (8 * i));
		uint8_t *c = &d->config[reg + i];
		uint8_t w = d->wmask[reg + i], w1c = d->w1cmask[reg + i];

		*c = (uint8_t)(((*c & ~w) | (b & w)) & ~(b & w1c));
	}
	if (d->config_write)
		d->config_write(d, reg, size, value);
}

uint32_t pci_config_read(struct pci_bus *bus, unsigned slot, unsigned fn, unsigned reg, unsigned size)
{
	return device_read(lookup(bus, 0, slot, fn), reg, size);
}

void pci_config_write(struct pci_bus *bus, unsigned slot, unsigned fn, unsigned reg, unsigned size, uint32_t value)
{
	device_write(lookup(bus, 0, slot, fn), reg, size, value);
}

/* The function CONFIG_ADDRESS selects and the register, or NULL with
 * *reg undefined when it selects nothing (disabled, extended space). */
static struct pci_device *selected(struct pci_bus *bus, unsigned byte, unsigned *reg)
{
	uint32_t a = bus->address;

	if (!(a & PCI_ADDR_ENABLE) || (a & PCI_ADDR_EXT_REG))
		return NULL_DEVICE;
	*reg = (a & 0xfc) + byte;
	return lookup(bus, (a >> 16) & 0xff, (a >> 11) & 0x1f, (a >> 8) & 7);
}

static int valid_size(unsigned size)
{
	return size == 1 || size == 2 || size == 4;
}

uint32_t pci_io_read(struct pci_bus *bus, unsigned port, unsigned size)
{
	uint32_t ones = size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;

	if (!valid_size(size))
		return 0xffffffffu;
	if (port == PCI_PORT_ADDRESS && size == 4)
		return bus->address;
	if (port == PCI_PORT_RESET && size == 1)
		return bus->reset_control;
	if (port >= PCI_PORT_DATA && port + size <= PCI_PORT_LAST + 1) {
		unsigned reg = 0;
		struct pci_device *d = selected(bus, port - PCI_PORT_DATA, &reg);
		return d ? device_read(d, reg, size) : ones;
	}
	/* Byte and word accesses to 0xcf8-0xcfb other than 0xcf9, and a
	 * data access running past 0xcff, reach nothing. */
	return ones;
}

enum pci_event pci_io_write(struct pci_bus *bus, unsigned port, unsigned size, uint32_t value)
{
	if (!valid_size(size))
		return PCI_EVENT_NONE;
	if (port == PCI_PORT_ADDRESS && size == 4) {
		bus->address = value & PCI_ADDR_MASK;
		return PCI_EVENT_NONE;
	}
	if (port == PCI_PORT_RESET && size == 1) {
		/* Bit 2 (RST_CPU) going 0 -> 1 performs the reset that bit 1
		 * (SYS_RST: hard or soft) chooses; both are a reset to us.
		 * The register keeps bits 1 and 3 (FULL_RST). */
		int reset = (value & 0x04) && !(bus->reset_control & 0x04);
		bus->reset_control = (uint8_t)(value & 0x0e);
		if (reset) {
			bus->reset_control &= ~0x04;
			return PCI_EVENT_RESET;
		}
		return PCI_EVENT_NONE;
	}
	if (port >= PCI_PORT_DATA && port + size <= PCI_PORT_LAST + 1) {
		unsigned reg = 0;
		struct pci_device *d = selected(bus, port - PCI_PORT_DATA, &reg);
		if (d)
			device_write(d, reg, size, value);
	}
	return PCI_EVENT_NONE;
}

uint64_t pci_bar_address(const struct pci_device *d, unsigned bar)
{
	unsigned reg = PCI_BAR0 + 4 * bar;
	uint32_t lo;

	if (bar >= PCI_BARS || !d->bar_size[bar])
		return 0;
	lo = get32(d->config + reg);
	if (lo & PCI_BAR_IO)
		return lo & ~3u;
	if ((lo & 0x6) == PCI_BAR_MEM64)
		return ((uint64_t)get32(d->config + reg + 4) << 32) | (lo & ~0xfu);
	return lo & ~0xfu;
}

struct pci_device *pci_find_bar(struct pci_bus *bus, int io, uint64_t addr, unsigned *bar, uint64_t *offset)
{
	uint16_t enable = io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;

	/* every MMIO exit outside the VMM's fixed devices asks: only the
	 * slots with a function 0 are looked at, in order, and of a
	 * single-function device only function 0 (as lookup() decides) */
	for (uint32_t used = bus->slots_used; used; used &= used - 1) {
		unsigned s = (unsigned)__builtin_ctz(used);
		const struct pci_device *f0 = bus->functions[s][0];
		unsigned functions = (f0->config[PCI_HEADER_TYPE] & 0x80) ? PCI_FUNCTIONS : 1;
		for (unsigned f = 0; f < functions; f++) {
			struct pci_device *d = bus->functions[s][f];
			if (!d || !(d->config[PCI_COMMAND] & enable))
				continue;
			for (unsigned b = 0; b < PCI_BARS; b++) {
				uint64_t base = pci_bar_address(d, b);
				int bar_io = (d->config[PCI_BAR0 + 4 * b] & PCI_BAR_IO) != 0;
				if (!d->bar_size[b] || bar_io != !!io || base == 0)
					continue;
				if (addr >= base && addr - base < d->bar_size[b]) {
					*bar = b;
					*offset = addr - base;
					return d;
				}
			}
		}
	}
	return NULL_DEVICE;
}
