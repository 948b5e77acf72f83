/* Read the multiboot information into boot_state before any memory is
 * handed out: the memory map, the modules and the command line. */
#include <berth/object.h>
#include "boot.h"
#include "layout.h"
#include "klib.h"
#include "cpu.h"

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002
#define MBI_CMDLINE (1 << 2)
#define MBI_MODS    (1 << 3)
#define MBI_MMAP    (1 << 6)

struct mbi {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
};

struct mb_module {
	uint32_t start, end, string, reserved;
};

struct mb_mmap_entry {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

struct boot_state boot;
extern char kernel_phys_start[], kernel_phys_end[];

/* Memory below 1 MiB holds firmware tables and the multiboot data; memory
 * above the physical map is not reachable by the kernel yet. */
#define FREE_LO 0x100000UL
#define FREE_HI PHYSMAP_SIZE

/* The interrupt controllers and timers (I/O APIC, HPET, local APIC) are
 * the kernel's to own, whether it uses them yet or not: a driver that
 * could map them could send interrupts anywhere. */
#define KERNEL_DEVICES_LO 0xfec00000UL
#define KERNEL_DEVICES_HI 0xfef00000UL

/* The top of physical addresses, from CPUID (36 bits if it does not say). */
static uint64_t phys_top(void)
{
	unsigned bits = cpuid(0x80000000u, 0).a >= 0x80000008u ? cpuid(0x80000008u, 0).a & 0xff : 36;
	if (bits > UNTYPED_MAX_BITS)
		bits = UNTYPED_MAX_BITS;
	return 1UL << bits;
}


static void copy_string(char *dst, size_t size, uint32_t phys)
{
	const char *s = phys ? P2V(phys) : "";
	size_t n = strnlen(s, size - 1);
	memcpy(dst, s, n);
	dst[n] = 0;
}

void multiboot_parse(uint32_t magic, uint64_t mbi_phys)
{
	if (magic != MULTIBOOT_BOOTLOADER_MAGIC)
		panic("not started by a multiboot loader (magic %x)", magic);
	const struct mbi *mbi = P2V(mbi_phys);
	if (!(mbi->flags & MBI_MMAP))
		panic("the boot loader gave no memory map");

	/* RAM (type 1) is free memory; device memory is every physical address
	 * above 1 MiB that is not RAM, less the kernel's own devices (reserved
	 * ranges, ACPI tables and firmware, are in it: nothing of the kernel's
	 * lives there) */
	if (regions_add(&boot.device, FREE_LO, phys_top(), FREE_LO, phys_top()) ||
	    regions_remove(&boot.device, KERNEL_DEVICES_LO, KERNEL_DEVICES_HI))
		panic("device memory: no room in the region list");
	for (uint64_t off = 0; off + sizeof(struct mb_mmap_entry) <= mbi->mmap_length;) {
		const struct mb_mmap_entry *e = P2V(mbi->mmap_addr + off);
		if (e->type == 1 && e->addr + e->len > e->addr &&
		    (regions_add(&boot.free, e->addr, e->addr + e->len, FREE_LO, FREE_HI) ||
		     regions_remove(&boot.device, ALIGN_DOWN(e->addr, PAGE_SIZE), ALIGN_UP(e->addr + e->len, PAGE_SIZE))))
			panic("memory map has too many ranges");
		off += e->size + 4;
	}

	if (mbi->flags & MBI_CMDLINE)
		copy_string(boot.cmdline, sizeof(boot.cmdline), mbi->cmdline);

	if (regions_remove(&boot.free, (uintptr_t)kernel_phys_start, (uintptr_t)kernel_phys_end))
		panic("memory map has too many ranges");
	if (mbi->flags & MBI_MODS) {
		const struct mb_module *m = P2V(mbi->mods_addr);
		if (mbi->mods_count > BOOTINFO_MAX_MODULES)
			panic("%u boot modules; at most %d are supported", mbi->mods_count,
			      BOOTINFO_MAX_MODULES);
		for (uint32_t i = 0; i < mbi->mods_count; i++) {
			struct boot_module *b = &boot.module[i];
			if (m[i].end < m[i].start)
				panic("boot module %u has a bad address range", i);
			b->start = m[i].start;
			b->end = m[i].end;
			copy_string(b->name, sizeof(b->name), m[i].string);
			if (regions_remove(&boot.free, ALIGN_DOWN(b->start, PAGE_SIZE),
			                   ALIGN_UP(b->end, PAGE_SIZE)))
				panic("memory map has too many ranges");
		}
		boot.module_count = (int)mbi->mods_count;
	}
}

uint64_t boot_alloc(uint64_t size)
{
	uint64_t align = size < PAGE_SIZE ? PAGE_SIZE : size;
	if (align > (1UL << 21))
		align = 1UL << 21;
	size = ALIGN_UP(size, PAGE_SIZE);
	uint64_t pa = regions_take(&boot.free, size, align);
	if (!pa)
		panic("out of memory while building the root task");
	memset(P2V(pa), 0, size);
	return pa;
}
