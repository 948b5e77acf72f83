/* Host unit tests for servers/vmm/pci.c: configuration mechanism #1, the
 * host bridge, generic BAR sizing on a dummy device, capabilities, and
 * the sequences Linux 6.1's arch/x86/pci/direct.c uses to detect type 1
 * access. */
// unit-under-test: servers/vmm/pci.c
#include <stdint.h>
#include <string.h>
#include "unit.h"
#include "../../servers/vmm/pci.h"

static struct pci_bus bus;

static uint32_t cfg_addr(unsigned b, unsigned dev, unsigned fn, unsigned reg)
{
	return 0x80000000u | b << 16 | dev << 11 | fn << 8 | (reg & 0xfc) | (reg & 0xf00) << 16;
}

/* A config read as Linux's pci_conf1_read makes it. */
static uint32_t conf1_read(unsigned dev, unsigned fn, unsigned reg, unsigned size)
{
	pci_io_write(&bus, 0xcf8, 4, cfg_addr(0, dev, fn, reg));
	return pci_io_read(&bus, 0xcfc + (reg & 3), size);
}

static void conf1_write(unsigned dev, unsigned fn, unsigned reg, unsigned size, uint32_t v)
{
	pci_io_write(&bus, 0xcf8, 4, cfg_addr(0, dev, fn, reg));
	pci_io_write(&bus, 0xcfc + (reg & 3), size, v);
}

static void test_type1_detection(void)
{
	pci_init(&bus);
	/* pci_check_type1(): outb(0x01, 0xcfb); tmp = inl(0xcf8);
	 * outl(0x80000000, 0xcf8); inl(0xcf8) == 0x80000000? */
	pci_io_write(&bus, 0xcfb, 1, 0x01);
	uint32_t tmp = pci_io_read(&bus, 0xcf8, 4);
	CHECK(tmp == 0, "a byte write to 0xcfb does not touch CONFIG_ADDRESS (%08x)", tmp);
	pci_io_write(&bus, 0xcf8, 4, 0x80000000u);
	CHECK(pci_io_read(&bus, 0xcf8, 4) == 0x80000000u, "CONFIG_ADDRESS reads back 0x80000000");
	/* pci_sanity_check(): the class word at 0x0a of some devfn on bus 0
	 * is a host bridge (no DMI year: the scan runs) */
	int found = 0;
	for (unsigned devfn = 0; devfn < 256 && !found; devfn++)
		if (conf1_read(devfn >> 3, devfn & 7, 0x0a, 2) == 0x0600)
			found = 1;
	CHECK(found, "the sanity check finds a host bridge (class 0x0600) on bus 0");
	pci_io_write(&bus, 0xcf8, 4, tmp);
	CHECK(pci_io_read(&bus, 0xcf8, 4) == 0, "CONFIG_ADDRESS restored");
	/* pci_check_type2() is not reached, but byte accesses must not
	 * look like mechanism #2 either */
	pci_io_write(&bus, 0xcf8, 1, 0x00);
	CHECK(pci_io_read(&bus, 0xcf8, 1) == 0xff && pci_io_read(&bus, 0xcfa, 1) == 0xff,
	      "byte reads of 0xcf8/0xcfa reach nothing (mechanism #2 absent)");
	pci_io_write(&bus, 0xcf8, 4, 0xffffffffu);
	CHECK(pci_io_read(&bus, 0xcf8, 4) == PCI_ADDR_MASK, "reserved bits 30-28 and 1-0 read 0 (%08x)",
	      pci_io_read(&bus, 0xcf8, 4));
}

static void test_host_bridge(void)
{
	pci_init(&bus);
	CHECK(conf1_read(0, 0, 0, 4) == 0x12378086u, "00:00.0 is 8086:1237");
	CHECK(conf1_read(0, 0, 0, 2) == 0x8086 && conf1_read(0, 0, 2, 2) == 0x1237, "word reads of the ids");
	CHECK(conf1_read(0, 0, 1, 1) == 0x80 && conf1_read(0, 0, 3, 1) == 0x12, "byte reads at 0xcfd, 0xcff");
	CHECK(conf1_read(0, 0, 8, 4) == 0x06000002u, "class 06 00 00, revision 2");
	CHECK(conf1_read(0, 0, 0x0e, 1) == 0x00, "header type 0, single function");
	CHECK(conf1_read(0, 1, 0, 4) == 0xffffffffu, "00:00.1 absent (single-function device)");
	CHECK(conf1_read(1, 0, 0, 4) == 0xffffffffu && conf1_read(31, 7, 0, 2) == 0xffff &&
	      conf1_read(5, 0, 0x3d, 1) == 0xff, "empty slots read all ones at any size");
	pci_io_write(&bus, 0xcf8, 4, 0x80010000u);  /* bus 1 */
	CHECK(pci_io_read(&bus, 0xcfc, 4) == 0xffffffffu, "bus 1 does not exist");
	pci_io_write(&bus, 0xcf8, 4, 0x00000000u);  /* enable bit clear */
	CHECK(pci_io_read(&bus, 0xcfc, 4) == 0xffffffffu, "enable bit clear: data reads all ones");
	pci_io_write(&bus, 0xcf8, 4, cfg_addr(0, 0, 0, 0x100));
	CHECK(pci_io_read(&bus, 0xcfc, 4) == 0xffffffffu, "extended register 0x100 reads all ones");
	conf1_write(0, 0, 0, 4, 0);
	CHECK(conf1_read(0, 0, 0, 4) == 0x12378086u, "ids are read-only");
	conf1_write(1, 0, 0, 4, 0);
	CHECK(conf1_read(0, 0, 0x10, 4) == 0, "the host bridge has no BARs");
	conf1_write(0, 0, 0x10, 4, 0xffffffffu);
	CHECK(conf1_read(0, 0, 0x10, 4) == 0, "BAR0 of the host bridge stays 0 when sized");
	CHECK(conf1_read(0, 0, 0x30, 4) == 0, "no expansion ROM");
}

/* --- a dummy device with every kind of BAR ---------------------------- */

static struct pci_device dummy;
static unsigned writes_seen, last_reg, last_size;
static uint32_t last_value;

static void dummy_write(struct pci_device *d, unsigned reg, unsigned size, uint32_t value)
{
	(void)d;
	writes_seen++;
	last_reg = reg;
	last_size = size;
	last_value = value;
}

static uint32_t dummy_read(struct pci_device *d, unsigned reg, unsigned size, uint32_t value)
{
	(void)d;
	(void)size;
	return reg == 0x44 ? 0xabcd1234u : value;  /* a register with its own value */
}

static void setup_dummy(void)
{
	pci_init(&bus);
	pci_device_init(&dummy, 0x1af4, 0x1041, 0x020000, 1);
	dummy.config[PCI_INTERRUPT_PIN] = 1;
	dummy.config_write = dummy_write;
	dummy.config_read = dummy_read;
	writes_seen = 0;
}

static void test_bar_sizing(void)
{
	setup_dummy();
	CHECK(pci_device_add_bar(&dummy, 0, 0x100, PCI_BAR_IO) == 0, "BAR0: 256 ports");
	CHECK(pci_device_add_bar(&dummy, 1, 0x1000, PCI_BAR_MEM32) == 0, "BAR1: 4 KiB memory");
	CHECK(pci_device_add_bar(&dummy, 2, 0x4000, PCI_BAR_MEM64 | PCI_BAR_PREFETCH) == 0,
	      "BAR2/3: 16 KiB 64-bit prefetchable");
	CHECK(pci_device_add_bar(&dummy, 5, 0x1000, PCI_BAR_MEM64) == -1, "a 64-bit BAR cannot start at 5");
	CHECK(pci_device_add_bar(&dummy, 4, 0x3000, PCI_BAR_MEM32) == -1, "sizes are powers of two");
	CHECK(pci_device_add_bar(&dummy, 4, 8, PCI_BAR_MEM32) == -1, "memory BARs are at least 16 bytes");
	CHECK(pci_register(&bus, 3, 0, &dummy) == 0, "registered at 00:03.0");
	CHECK(pci_register(&bus, 3, 0, &dummy) == -1, "the place is taken now");
	CHECK(conf1_read(3, 0, 0, 4) == 0x10411af4u, "its ids");
	CHECK(conf1_read(3, 0, 0x3d, 1) == 1, "interrupt pin A");

	/* Linux's __pci_read_base: save, write ~0, read, restore */
	static const struct { unsigned reg; uint32_t expect; const char *what; } bars[] = {
		{ 0x10, 0xffffff01u, "I/O 256: ~0xff | 1" },
		{ 0x14, 0xfffff000u, "mem32 4 KiB: ~0xfff" },
		{ 0x18, 0xffffc00cu, "mem64 16 KiB low: ~0x3fff | 64-bit | prefetch" },
		{ 0x1c, 0xffffffffu, "mem64 high: all ones" },
		{ 0x20, 0x00000000u, "BAR4 unimplemented: 0" },
		{ 0x24, 0x00000000u, "BAR5 unimplemented: 0" },
	};
	for (unsigned i = 0; i < 6; i++) {
		uint32_t saved = conf1_read(3, 0, bars[i].reg, 4);
		conf1_write(3, 0, bars[i].reg, 4, 0xffffffffu);
		uint32_t sized = conf1_read(3, 0, bars[i].reg, 4);
		conf1_write(3, 0, bars[i].reg, 4, saved);
		CHECK(sized == bars[i].expect, "sizing %s (%08x)", bars[i].what, sized);
		CHECK(conf1_read(3, 0, bars[i].reg, 4) == saved, "BAR at 0x%x restored", bars[i].reg);
	}

	/* assign addresses, turn decoding on */
	conf1_write(3, 0, 0x10, 4, 0xc000);
	conf1_write(3, 0, 0x14, 4, 0xfebf1000u);
	conf1_write(3, 0, 0x18, 4, 0x00004000u);
	conf1_write(3, 0, 0x1c, 4, 0x00000008u);
	CHECK(pci_bar_address(&dummy, 0) == 0xc000 && pci_bar_address(&dummy, 1) == 0xfebf1000u &&
	      pci_bar_address(&dummy, 2) == 0x800004000ull, "BAR addresses (64-bit one above 4 GiB)");
	conf1_write(3, 0, 0x14, 4, 0xfebf1234u);
	CHECK(pci_bar_address(&dummy, 1) == 0xfebf1000u, "address bits below the size are not writable");
	unsigned bar = 9;
	uint64_t off = 0;
	CHECK(pci_find_bar(&bus, 0, 0xfebf1010u, &bar, &off) == NULL, "no decode with the command bits off");
	conf1_write(3, 0, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	CHECK(conf1_read(3, 0, PCI_COMMAND, 2) == 7, "command IO|MEM|MASTER");
	CHECK(pci_find_bar(&bus, 0, 0xfebf1010u, &bar, &off) == &dummy && bar == 1 && off == 0x10,
	      "MMIO 0xfebf1010 is BAR1 + 0x10");
	CHECK(pci_find_bar(&bus, 0, 0x800007ffcull, &bar, &off) == &dummy && bar == 2 && off == 0x3ffc,
	      "MMIO in the 64-bit BAR");
	CHECK(pci_find_bar(&bus, 1, 0xc0ff, &bar, &off) == &dummy && bar == 0 && off == 0xff, "port 0xc0ff is BAR0");
	CHECK(pci_find_bar(&bus, 1, 0xc100, &bar, &off) == NULL, "port 0xc100 is past it");
	CHECK(pci_find_bar(&bus, 1, 0xfebf1010u, &bar, &off) == NULL, "a memory address is not a port");
}

static void test_masks_and_callbacks(void)
{
	setup_dummy();
	pci_register(&bus, 4, 0, &dummy);
	conf1_write(4, 0, PCI_COMMAND, 2, 0xffff);
	CHECK(conf1_read(4, 0, PCI_COMMAND, 2) == 0x0507, "only the command bits that exist are writable");
	dummy.config[PCI_STATUS + 1] = 0xf9;  /* error bits up */
	conf1_write(4, 0, PCI_STATUS, 2, 0x0010);
	CHECK(conf1_read(4, 0, PCI_STATUS, 2) == 0xf900, "writing a status bit not W1C changes nothing");
	conf1_write(4, 0, PCI_STATUS, 2, 0x8000);
	CHECK(conf1_read(4, 0, PCI_STATUS, 2) == 0x7900, "writing 1 clears a W1C status bit");
	/* the command and status dword written in one go (Linux never
	 * does, but hardware allows it) */
	conf1_write(4, 0, PCI_COMMAND, 4, 0xffff0000u);
	CHECK(conf1_read(4, 0, PCI_COMMAND, 4) == 0x00000000u, "a dword write clears command and all W1C bits");
	conf1_write(4, 0, PCI_INTERRUPT_LINE, 1, 11);
	CHECK(conf1_read(4, 0, PCI_INTERRUPT_LINE, 1) == 11, "interrupt line is writable");
	conf1_write(4, 0, PCI_INTERRUPT_PIN, 1, 4);
	CHECK(conf1_read(4, 0, PCI_INTERRUPT_PIN, 1) == 1, "interrupt pin is not");
	CHECK(conf1_read(4, 0, 0x3c, 4) == 0x0000010bu, "dword 0x3c: line 11, pin 1");
	/* word write at 0xcfe lands in bytes 2-3 */
	pci_io_write(&bus, 0xcf8, 4, cfg_addr(0, 4, 0, 0x0c));
	pci_io_write(&bus, 0xcfe, 2, 0x1234);
	CHECK(writes_seen && last_reg == 0x0e && last_size == 2 && last_value == 0x1234,
	      "the callback sees reg 0x0e size 2 for a word at 0xcfe");
	CHECK(conf1_read(4, 0, 0x0c, 4) == 0, "header type and BIST are read-only");
	pci_io_write(&bus, 0xcfd, 1, 0x40);
	CHECK(last_reg == 0x0d && last_size == 1, "a byte at 0xcfd is reg 0x0d");
	CHECK(conf1_read(4, 0, 0x44, 4) == 0xabcd1234u && conf1_read(4, 0, 0x48, 4) == 0,
	      "the read hook supplies its own register");
	pci_io_write(&bus, 0xcf8, 4, cfg_addr(0, 4, 0, 0));
	CHECK(pci_io_read(&bus, 0xcff, 2) == 0xffff, "a word at 0xcff runs past the data port: all ones");

	/* capabilities */
	unsigned a = pci_device_add_capability(&dummy, 0x09, 16);
	unsigned b = pci_device_add_capability(&dummy, 0x11, 12);
	CHECK(a == 0x40 && b == 0x50, "capabilities at 0x40 and 0x50 (%x %x)", a, b);
	CHECK(conf1_read(4, 0, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, "status says there is a list");
	CHECK(conf1_read(4, 0, PCI_CAPABILITY_LIST, 1) == 0x40 && conf1_read(4, 0, 0x40, 2) == 0x5009 &&
	      conf1_read(4, 0, 0x50, 2) == 0x0011, "the list: 0x40 (id 9) -> 0x50 (id 0x11) -> end");
	CHECK(pci_device_add_capability(&dummy, 0x05, 200) == 0, "a capability that does not fit is refused");
}

static void test_multifunction(void)
{
	static struct pci_device f0, f2;

	pci_init(&bus);
	pci_device_init(&f0, 0x1234, 1, 0x018000, 0);
	pci_device_init(&f2, 0x1234, 2, 0x018000, 0);
	pci_register(&bus, 6, 2, &f2);
	CHECK(conf1_read(6, 2, 0, 4) == 0xffffffffu, "function 2 without function 0 is not seen");
	pci_register(&bus, 6, 0, &f0);
	CHECK(conf1_read(6, 2, 0, 4) == 0xffffffffu, "nor with a single-function function 0");
	f0.config[PCI_HEADER_TYPE] = 0x80;
	CHECK(conf1_read(6, 2, 0, 4) == 0x00021234u && conf1_read(6, 1, 0, 4) == 0xffffffffu,
	      "multi-function: 6.2 answers, 6.1 is empty");
}

static void test_reset_control(void)
{
	pci_init(&bus);
	CHECK(pci_io_read(&bus, 0xcf9, 1) == 0, "0xcf9 reads 0");
	CHECK(pci_io_write(&bus, 0xcf9, 1, 0x02) == PCI_EVENT_NONE, "SYS_RST alone: no reset");
	CHECK(pci_io_read(&bus, 0xcf9, 1) == 0x02, "0xcf9 keeps SYS_RST");
	/* Linux's BOOT_CF9: cf9 = inb & ~6; outb(cf9|2); outb(cf9|6) */
	uint8_t cf9 = (uint8_t)(pci_io_read(&bus, 0xcf9, 1) & ~0x06);
	CHECK(pci_io_write(&bus, 0xcf9, 1, cf9 | 2) == PCI_EVENT_NONE, "request hard reset");
	CHECK(pci_io_write(&bus, 0xcf9, 1, cf9 | 6) == PCI_EVENT_RESET, "RST_CPU 0->1 resets");
	CHECK(pci_io_write(&bus, 0xcf9, 2, 0x0606) == PCI_EVENT_NONE, "a word access is not the reset register");
	CHECK(pci_io_read(&bus, 0xcf8, 4) == 0, "and did not touch CONFIG_ADDRESS");
}

int main(void)
{
	test_type1_detection();
	test_host_bridge();
	test_bar_sizing();
	test_masks_and_callbacks();
	test_multifunction();
	test_reset_control();
	return unit_done();
}
