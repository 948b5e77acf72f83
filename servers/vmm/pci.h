/*
 * PCI configuration space through configuration mechanism #1, one bus
 * (bus 0), with a host bridge at 00:00.0 and a registration API for
 * devices (virtio later).
 *
 * How the VMM uses it
 * -------------------
 *  - Ports 0xcf8-0xcff (8 ports): every guest IN/OUT there becomes
 *    pci_io_read()/pci_io_write() with the port and the size (1, 2 or
 *    4), as the guest made it.  0xcf8 is the 32-bit CONFIG_ADDRESS
 *    register, reached only by 4-byte accesses; byte and word accesses
 *    to 0xcf8-0xcfb do not touch it (Linux's pci_check_type1() depends on
 *    that: it writes a byte to 0xcfb first).  0xcfc-0xcff is CONFIG_DATA:
 *    any size at any offset, which selects the bytes of the dword as on
 *    real hardware (e.g. a word at 0xcfe is bytes 2-3).
 *  - 0xcf9 (a byte access) is the PIIX3/ICH reset control register:
 *    writing it with bit 2 (RST_CPU) going from 0 to 1 makes
 *    pci_io_write() return PCI_EVENT_RESET; the VMM then resets or stops
 *    the VM as for a triple fault.  Linux uses it as its last reboot
 *    method (reboot=pci), and the ACPI tables helper may name it as the
 *    FADT's RESET_REG (system I/O 0xcf9, RESET_VALUE 0x06).
 *  - Device BARs: the VMM asks pci_find_bar() which device decodes a
 *    guest MMIO address or port (command register's MEM/IO bits and the
 *    BAR's current address) and hands the access to that device.
 *
 * The host bridge is an Intel 82441FX (i440FX) PMC, 8086:1237 revision
 * 02, class 06 00 00, the same as QEMU's default "pc" machine, so Linux
 * 6.1 takes the path it takes under QEMU: the type 1 sanity check finds
 * a host-bridge class on bus 0, and its only quirk for this id
 * (quirk_natoma, a PCI-PCI DMA flag) is harmless.  Its chipset registers
 * (PAM, SMRAM) are not modelled: they read 0 and ignore writes.
 *
 * Config space rules, generic for every device (as QEMU's):
 *  - Each device has 256 bytes of config space, a write mask (bits the
 *    guest may change) and a write-1-to-clear mask (status bits).
 *    Extended space (offsets 0x100-0xfff, which Linux's conf1 sends in
 *    CONFIG_ADDRESS bits 27-24) reads all ones and ignores writes.
 *  - A function that is not registered reads all ones (so vendor 0xffff:
 *    "nothing here"), and writes to it are dropped.
 *  - BARs: pci_device_add_bar() records a BAR's size and kind and makes
 *    only its address bits writable, so the sizing sequence (write all
 *    ones, read back, restore) reads ~(size - 1) | kind bits, and a
 *    64-bit BAR takes two slots.  No expansion ROM (0x30 reads 0).
 *  - After a write has been applied, the device's config_write callback
 *    (if any) hears of it, e.g. to notice a BAR moving or bus mastering
 *    turned on.  The config_read callback may replace a value read
 *    (for registers with side effects).
 *
 * This file and pci.c are pure: no system calls, no library calls.
 */
#ifndef PCI_H
#define PCI_H

#include <stdint.h>

#define PCI_PORT_ADDRESS 0xcf8
#define PCI_PORT_RESET   0xcf9
#define PCI_PORT_DATA    0xcfc
#define PCI_PORT_FIRST   0xcf8
#define PCI_PORT_LAST    0xcff

#define PCI_SLOTS      32
#define PCI_FUNCTIONS  8
#define PCI_CONFIG_SIZE 256
#define PCI_BARS       6

/* CONFIG_ADDRESS */
#define PCI_ADDR_ENABLE   0x80000000u
#define PCI_ADDR_EXT_REG  0x0f000000u  /* AMD-style extended register bits 11:8 */
#define PCI_ADDR_MASK     0x8ffffffcu  /* what the register keeps */

/* Config space offsets (type 0 header). */
#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_REVISION_ID    0x08
#define PCI_CLASS_PROG     0x09
#define PCI_CLASS_DEVICE   0x0a
#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_LATENCY_TIMER  0x0d
#define PCI_HEADER_TYPE    0x0e
#define PCI_BAR0           0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID   0x2e
#define PCI_ROM_ADDRESS    0x30
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN  0x3d

#define PCI_COMMAND_IO     0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_SERR   0x0100
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS_CAP_LIST 0x0010
/* error bits, write 1 to clear */
#define PCI_STATUS_W1C     0xf900

/* BAR kinds for pci_device_add_bar() (the low bits of the BAR). */
#define PCI_BAR_IO         0x1
#define PCI_BAR_MEM32      0x0
#define PCI_BAR_MEM64      0x4
#define PCI_BAR_PREFETCH   0x8

/* The host bridge's identity. */
#define PCI_HOST_VENDOR  0x8086
#define PCI_HOST_DEVICE  0x1237
#define PCI_HOST_REV     0x02
#define PCI_HOST_CLASS   0x060000

enum pci_event {
	PCI_EVENT_NONE,
	PCI_EVENT_RESET,  /* the guest asked for a reset through 0xcf9 */
};

struct pci_device {
	uint8_t config[PCI_CONFIG_SIZE];
	uint8_t wmask[PCI_CONFIG_SIZE];    /* 1: the guest may write this bit */
	uint8_t w1cmask[PCI_CONFIG_SIZE];  /* 1: writing 1 clears this bit */
	uint64_t bar_size[PCI_BARS];       /* 0: no BAR; the upper half of a
					    * 64-bit BAR has 0 */
	unsigned next_cap;                 /* where the next capability goes */

	/* Optional hooks.  reg is the offset (0..255), size 1, 2 or 4 and
	 * reg + size never crosses a dword. */
	uint32_t (*config_read)(struct pci_device *d, unsigned reg, unsigned size, uint32_t value);
	void (*config_write)(struct pci_device *d, unsigned reg, unsigned size, uint32_t value);
	void *ctx;
};

struct pci_bus {
	uint32_t address;       /* CONFIG_ADDRESS */
	uint8_t reset_control;  /* 0xcf9 */
	struct pci_device *functions[PCI_SLOTS][PCI_FUNCTIONS];
	uint32_t slots_used;    /* bit s: slot s has a function 0 (pci_find_bar's walk) */
	struct pci_device host_bridge;
};

/* An empty bus with the host bridge at 00:00.0. */
void pci_init(struct pci_bus *bus);

/* Start a device: zeroed config with ids, class (base << 16 | sub << 8 |
 * prog-if), revision and a type 0 header; the usual writable bits
 * (command IO/MEM/MASTER/SERR/INTX_DISABLE, cache line size, interrupt
 * line) and the status error bits as write-1-to-clear.  Set the
 * interrupt pin, subsystem ids etc. in d->config afterwards. */
void pci_device_init(struct pci_device *d, uint16_t vendor, uint16_t device, uint32_t class_code,
		     uint8_t revision);

/* Give BAR `bar` (0..5) `size` bytes (a power of two; at least 16 for
 * memory, 4 for I/O) of kind PCI_BAR_IO, PCI_BAR_MEM32 or PCI_BAR_MEM64,
 * optionally | PCI_BAR_PREFETCH.  A 64-bit BAR also takes bar + 1.
 * Returns 0, or -1 for a bad index, size or kind. */
int pci_device_add_bar(struct pci_device *d, unsigned bar, uint64_t size, unsigned kind);

/* Append a capability with id `id` and `length` bytes (header
 * included) to the capability list, dword aligned after the header (from
 * 0x40).  Returns its offset, or 0 if it does not fit.  The caller fills
 * in and masks the bytes after the 2-byte header. */
unsigned pci_device_add_capability(struct pci_device *d, uint8_t id, unsigned length);

/* Put a device at 00:slot.fn.  Returns 0, or -1 if the place is taken or
 * out of range.  Function 0 must exist for the others to be seen (set
 * bit 7 of function 0's header type for a multi-function device). */
int pci_register(struct pci_bus *bus, unsigned slot, unsigned fn, struct pci_device *d);

/* Guest port accesses (0xcf8..0xcff, size 1/2/4). */
uint32_t pci_io_read(struct pci_bus *bus, unsigned port, unsigned size);
enum pci_event pci_io_write(struct pci_bus *bus, unsigned port, unsigned size, uint32_t value);

/* The address a BAR holds now (both halves for a 64-bit BAR, the kind
 * bits masked off). */
uint64_t pci_bar_address(const struct pci_device *d, unsigned bar);

/* The device whose BAR decodes guest address `addr` (io: a port), with
 * its decoding turned on in the command register and a non-zero
 * address; *bar and *offset say where in it.  NULL if none. */
struct pci_device *pci_find_bar(struct pci_bus *bus, int io, uint64_t addr, unsigned *bar, uint64_t *offset);

/* Config accesses as the guest would make them, for tests and for code
 * inside the VMM (reg + size must not cross a dword). */
uint32_t pci_config_read(struct pci_bus *bus, unsigned slot, unsigned fn, unsigned reg, unsigned size);
void pci_config_write(struct pci_bus *bus, unsigned slot, unsigned fn, unsigned reg, unsigned size, uint32_t value);

#endif
