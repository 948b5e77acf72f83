/* Loading a Linux bzImage through the x86 64-bit boot protocol: the
 * setup header's checks, the guest memory layout, the zero page.  See
 * linux_boot.h for the steps; the protocol is Linux's
 * Documentation/arch/x86/boot.rst, the zero page zero-page.rst.
 *
 * A bzImage is a boot sector, setup_sects sectors of 16-bit setup code
 * and then the protected-mode kernel (a self-decompressing stub with the
 * compressed kernel inside).  A 64-bit boot loader skips the 16-bit code:
 * it copies the setup header into a zero page, fills in what a BIOS and
 * the setup code would have found (the memory map above all), loads the
 * protected-mode part and jumps to its 64-bit entry.
 *
 * The guest-physical layout this file chooses:
 *
 *   0x0000_0000  RAM        the VMM's page tables and GDT (0x1000-0x7fff),
 *                           the zero page (0x10000), the command line
 *                           (0x11000), the VMM's start-up stack
 *   0x000a_0000  reserved   the legacy VGA and BIOS hole; the VMM may put
 *                           an MP floating pointer or an ACPI RSDP here,
 *                           where Linux looks for them
 *   0x0010_0000  RAM        the kernel at pref_address (16 MiB for Debian's),
 *                           the initrd as high as the kernel allows
 *   mem - 64 KiB reserved   tables the VMM may build (ACPI, MP)
 *
 * All numbers in the image are little-endian, as the VMM and the host
 * tests are; the structures below are read and written in place. */
#include <stdio.h>
#include <string.h>
#include "linux_boot.h"

/* In the VMM, newlib's integer-only snprintf: the full one brings its
 * floating point along and doubles the VMM's code.  The host unit tests'
 * libc has only the full one, and picolibc (which says __NEWLIB__ too)
 * has no such variant by name. */
#if defined(__NEWLIB__) && !defined(__PICOLIBC__)
#define snprintf sniprintf
#endif

/* The setup header, at offset 0x1f1 of the image and of the zero page.
 * Only the fields up to protocol 2.15 are named; a longer header from a
 * newer kernel is copied whole all the same. */
struct setup_header {
	uint8_t setup_sects;
	uint16_t root_flags;
	uint32_t syssize;          /* the protected-mode kernel, in 16-byte units */
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag;        /* 0xAA55, the old boot-sector signature */
	uint8_t jump[2];           /* a short jump; jump[1] + 0x202 ends the header */
	uint32_t header;           /* "HdrS" */
	uint16_t version;
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t type_of_loader;
	uint8_t loadflags;
	uint16_t setup_move_size;
	uint32_t code32_start;
	uint32_t ramdisk_image;
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;
	uint8_t ext_loader_ver;
	uint8_t ext_loader_type;
	uint32_t cmd_line_ptr;
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint8_t relocatable_kernel;
	uint8_t min_alignment;
	uint16_t xloadflags;
	uint32_t cmdline_size;
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t handover_offset;
	uint32_t kernel_info_offset;
} __attribute__((packed));

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

#define E820_MAX 128   /* the zero page's table; more would go in setup_data */

/* struct boot_params, the zero page.  The parts a BIOS-less 64-bit loader
 * leaves zero are kept as opaque reserved bytes. */
struct boot_params {
	uint8_t reserved_0[0x70];      /* screen, APM, tboot, IST information */
	uint64_t acpi_rsdp_addr;
	uint8_t reserved_78[0x48];     /* legacy disk and system tables, OLPC */
	uint32_t ext_ramdisk_image;    /* bits 63:32 of the header's fields */
	uint32_t ext_ramdisk_size;
	uint32_t ext_cmd_line_ptr;
	uint8_t reserved_cc[0x11c];    /* EDID, EFI information, alt_mem_k and more */
	uint8_t e820_entries;
	uint8_t reserved_1e9[6];
	/* Nonzero when a loader copied a whole sector over the zero page;
	 * Linux then clears fields it cannot trust.  We leave it 0. */
	uint8_t sentinel;
	uint8_t reserved_1f0;
	struct setup_header hdr;
	uint8_t reserved_26c[0x64];    /* up to and including the MBR signatures */
	struct e820_entry e820_table[E820_MAX];
	uint8_t reserved_cd0[0x330];   /* EDD information */
} __attribute__((packed));

_Static_assert(sizeof(struct setup_header) == 0x26c - 0x1f1, "setup header size");
_Static_assert(sizeof(struct e820_entry) == 20, "e820 entry size");
_Static_assert(offsetof(struct boot_params, acpi_rsdp_addr) == 0x70, "acpi_rsdp_addr");
_Static_assert(offsetof(struct boot_params, ext_ramdisk_image) == 0xc0, "ext_ramdisk_image");
_Static_assert(offsetof(struct boot_params, ext_cmd_line_ptr) == 0xc8, "ext_cmd_line_ptr");
_Static_assert(offsetof(struct boot_params, e820_entries) == 0x1e8, "e820_entries");
_Static_assert(offsetof(struct boot_params, sentinel) == 0x1ef, "sentinel");
_Static_assert(offsetof(struct boot_params, hdr) == 0x1f1, "hdr");
_Static_assert(offsetof(struct boot_params, hdr.type_of_loader) == 0x210, "type_of_loader");
_Static_assert(offsetof(struct boot_params, hdr.cmd_line_ptr) == 0x228, "cmd_line_ptr");
_Static_assert(offsetof(struct boot_params, hdr.xloadflags) == 0x236, "xloadflags");
_Static_assert(offsetof(struct boot_params, hdr.pref_address) == 0x258, "pref_address");
_Static_assert(offsetof(struct boot_params, e820_table) == 0x2d0, "e820_table");
_Static_assert(sizeof(struct boot_params) == LINUX_ZERO_PAGE_BYTES, "boot_params size");

#define HDR_OFFSET      0x1f1
#define HDR_MAGIC       0x53726448u   /* "HdrS" */
#define BOOT_FLAG       0xaa55
#define PROTOCOL_64BIT  0x020c        /* 2.12: xloadflags and XLF_KERNEL_64 */
#define SECTOR          512
/* the end of the zero page's room for the header: the MBR signatures follow */
#define HDR_ROOM_END    0x290

#define LOADED_HIGH     (1 << 0)      /* loadflags: the kernel runs at 1 MiB or above */
#define CAN_USE_HEAP    (1 << 7)      /* loadflags: heap_end_ptr is valid */
#define XLF_KERNEL_64   (1 << 0)      /* xloadflags: there is a 64-bit entry at +0x200 */
#define ENTRY_64        0x200         /* startup_64 from the start of the kernel */
#define LOADER_UNDEFINED 0xff         /* type_of_loader for a loader without an ID */
/* heap_end_ptr: the end of the setup code's heap, relative to the setup
 * code.  Only the 16-bit setup code reads it, and a 64-bit entry skips that
 * code, but boot.rst asks loaders to set it with CAN_USE_HEAP. */
#define HEAP_END        0xfe00

#define MiB(x)          ((unsigned long long)(x) >> 20)

static uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) & ~(a - 1); }
static uint64_t align_down(uint64_t x, uint64_t a) { return x & ~(a - 1); }
static int power_of_two(uint64_t x) { return x != 0 && (x & (x - 1)) == 0; }

int linux_parse(const uint8_t *image, size_t len, struct linux_kernel *k,
		char error[LINUX_ERROR_MAX])
{
	struct setup_header h;

	memset(k, 0, sizeof(*k));
	/* Anything shorter cannot even hold the signatures, so it is not
	 * recognisably a kernel, truncated or not. */
	if (len < offsetof(struct boot_params, hdr.header) + 4) {
		snprintf(error, LINUX_ERROR_MAX,
			 "not a Linux kernel: %zu bytes is too short for a boot sector and setup header",
			 len);
		return LINUX_NOT_LINUX;
	}
	memset(&h, 0, sizeof(h));
	memcpy(&h, image + HDR_OFFSET,
	       len - HDR_OFFSET < sizeof(h) ? len - HDR_OFFSET : sizeof(h));
	if (h.boot_flag != BOOT_FLAG || h.header != HDR_MAGIC) {
		snprintf(error, LINUX_ERROR_MAX,
			 "not a Linux kernel: no 0xAA55 boot flag and \"HdrS\" setup header");
		return LINUX_NOT_LINUX;
	}
	if (len < offsetof(struct boot_params, hdr.version) + 2) {
		snprintf(error, LINUX_ERROR_MAX,
			 "truncated Linux kernel: %zu bytes end inside the setup header", len);
		return LINUX_TRUNCATED;
	}
	if (h.version < PROTOCOL_64BIT) {
		snprintf(error, LINUX_ERROR_MAX,
			 "Linux boot protocol %u.%02u is too old: the 64-bit entry needs 2.12",
			 (unsigned)h.version >> 8, (unsigned)h.version & 0xff);
		return LINUX_TOO_OLD;
	}

	/* The header says how long it is; it must be in the file, and it
	 * must end within the zero page's room for it. */
	uint32_t header_end = 0x202 + h.jump[1];
	if (header_end < offsetof(struct boot_params, hdr.init_size) + 4 ||
	    header_end > HDR_ROOM_END) {
		snprintf(error, LINUX_ERROR_MAX,
			 "bad Linux setup header: it ends at 0x%x, outside 0x%zx..0x%x for protocol 2.12",
			 header_end, offsetof(struct boot_params, hdr.init_size) + 4, HDR_ROOM_END);
		return LINUX_BAD_HEADER;
	}
	uint32_t setup_sects = h.setup_sects ? h.setup_sects : 4;   /* 0 meant 4 long ago */
	uint32_t setup_bytes = (setup_sects + 1) * SECTOR;
	if (len < header_end || len < setup_bytes) {
		snprintf(error, LINUX_ERROR_MAX,
			 "truncated Linux kernel: %zu bytes, but its setup code alone is %u",
			 len, setup_bytes);
		return LINUX_TRUNCATED;
	}
	if (!(h.xloadflags & XLF_KERNEL_64)) {
		snprintf(error, LINUX_ERROR_MAX,
			 "Linux kernel has no 64-bit entry point (xloadflags 0x%x lacks XLF_KERNEL_64)",
			 h.xloadflags);
		return LINUX_NO_64BIT;
	}

	uint64_t syssize = (uint64_t)h.syssize * 16;
	uint64_t kernel_bytes = len - setup_bytes;
	if (syssize == 0) {
		snprintf(error, LINUX_ERROR_MAX, "bad Linux setup header: syssize is 0");
		return LINUX_BAD_HEADER;
	}
	if (syssize > kernel_bytes) {
		snprintf(error, LINUX_ERROR_MAX,
			 "truncated Linux kernel: %zu bytes, but its header says %llu",
			 len, (unsigned long long)(setup_bytes + syssize));
		return LINUX_TRUNCATED;
	}
	/* The loader copies every byte after the setup code (a signature may
	 * follow the syssize bytes); all of them belong in init_size. */
	if (kernel_bytes > h.init_size) {
		snprintf(error, LINUX_ERROR_MAX,
			 "bad Linux setup header: init_size 0x%x is smaller than the kernel's 0x%llx bytes",
			 h.init_size, (unsigned long long)kernel_bytes);
		return LINUX_BAD_HEADER;
	}
	/* The compressed kernel sits inside the protected-mode part. */
	if ((uint64_t)h.payload_offset + h.payload_length > syssize) {
		snprintf(error, LINUX_ERROR_MAX,
			 "bad Linux setup header: payload 0x%x+0x%x lies beyond the kernel's 0x%llx bytes",
			 h.payload_offset, h.payload_length, (unsigned long long)syssize);
		return LINUX_BAD_HEADER;
	}
	/* 64-bit Linux runs from 2 MiB-aligned addresses; a relocatable
	 * kernel aligns its load address to kernel_alignment itself, a fixed
	 * one must be given an aligned pref_address. */
	if (!power_of_two(h.kernel_alignment) || h.pref_address % h.kernel_alignment != 0) {
		snprintf(error, LINUX_ERROR_MAX,
			 "bad Linux setup header: pref_address 0x%llx, kernel_alignment 0x%x",
			 (unsigned long long)h.pref_address, h.kernel_alignment);
		return LINUX_BAD_HEADER;
	}
	if (h.pref_address < LINUX_HIGH_RAM_START || !(h.loadflags & LOADED_HIGH)) {
		snprintf(error, LINUX_ERROR_MAX,
			 "bad Linux setup header: not a bzImage loaded at 1 MiB or above (pref_address 0x%llx)",
			 (unsigned long long)h.pref_address);
		return LINUX_BAD_HEADER;
	}

	k->version = h.version;
	k->setup_bytes = setup_bytes;
	k->kernel_bytes = (uint32_t)kernel_bytes;
	k->header_end = header_end;
	k->loadflags = h.loadflags;
	k->xloadflags = h.xloadflags;
	k->relocatable = h.relocatable_kernel;
	k->kernel_alignment = h.kernel_alignment;
	k->pref_address = h.pref_address;
	k->init_size = h.init_size;
	k->initrd_addr_max = h.initrd_addr_max;
	k->cmdline_max = h.cmdline_size;
	return LINUX_OK;
}

int linux_place(const struct linux_kernel *k, uint64_t mem_bytes, uint64_t initrd_bytes,
		size_t cmdline_len, struct linux_layout *l, char error[LINUX_ERROR_MAX])
{
	memset(l, 0, sizeof(*l));
	if (mem_bytes < LINUX_MEM_MIN || mem_bytes > LINUX_MEM_MAX || mem_bytes % 4096) {
		snprintf(error, LINUX_ERROR_MAX,
			 "guest memory of %llu bytes: need whole pages from %llu MiB to %llu MiB",
			 (unsigned long long)mem_bytes, MiB(LINUX_MEM_MIN), MiB(LINUX_MEM_MAX));
		return LINUX_BAD_MEMORY;
	}
	uint64_t cmdline_max = k->cmdline_max < LINUX_CMDLINE_AREA - 1 ?
		k->cmdline_max : LINUX_CMDLINE_AREA - 1;
	if (cmdline_len > cmdline_max) {
		snprintf(error, LINUX_ERROR_MAX,
			 "Linux command line too long: %zu bytes, at most %llu",
			 cmdline_len, (unsigned long long)cmdline_max);
		return LINUX_CMDLINE_TOO_LONG;
	}

	/* RAM the kernel may have: below the tables at the top. */
	uint64_t ram_end = mem_bytes - LINUX_TABLES_BYTES;
	/* Always pref_address: a relocatable 64-bit kernel loaded lower would
	 * still decompress itself to its build address (16 MiB for Debian's),
	 * so loading lower saves no memory. */
	uint64_t kernel_end = k->pref_address + k->init_size;
	if (kernel_end > ram_end) {
		snprintf(error, LINUX_ERROR_MAX,
			 "Linux kernel does not fit in %llu MiB: it needs up to %llu MiB (0x%llx + init_size 0x%x)",
			 MiB(mem_bytes), MiB(align_up(kernel_end + LINUX_TABLES_BYTES, 1 << 20)),
			 (unsigned long long)k->pref_address, k->init_size);
		return LINUX_KERNEL_TOO_BIG;
	}

	if (initrd_bytes) {
		/* As high as allowed, below initrd_addr_max and the tables, and
		 * page aligned, so that the kernel's own growth stays clear of it. */
		uint64_t top = (uint64_t)k->initrd_addr_max + 1;
		if (top > ram_end)
			top = ram_end;
		uint64_t room = top > kernel_end ? top - kernel_end : 0;
		uint64_t gpa = initrd_bytes <= top ? align_down(top - initrd_bytes, 4096) : 0;
		if (initrd_bytes > room || gpa < kernel_end) {
			snprintf(error, LINUX_ERROR_MAX,
				 "initrd of %llu KiB does not fit: %llu KiB free between the kernel and 0x%llx in %llu MiB",
				 (unsigned long long)(initrd_bytes >> 10), (unsigned long long)(room >> 10),
				 (unsigned long long)top, MiB(mem_bytes));
			return LINUX_INITRD_TOO_BIG;
		}
		l->initrd_gpa = gpa;
		l->initrd_bytes = initrd_bytes;
	}

	l->mem_bytes = mem_bytes;
	l->kernel_gpa = k->pref_address;
	l->kernel_end = kernel_end;
	l->entry_gpa = k->pref_address + ENTRY_64;
	l->zero_page_gpa = LINUX_ZERO_PAGE_GPA;
	l->cmdline_gpa = LINUX_CMDLINE_GPA;
	l->tables_gpa = ram_end;
	return LINUX_OK;
}

static void e820_add(struct boot_params *bp, uint64_t addr, uint64_t size, uint32_t type)
{
	struct e820_entry *e = &bp->e820_table[bp->e820_entries++];

	e->addr = addr;
	e->size = size;
	e->type = type;
}

void linux_zero_page(const uint8_t *image, const struct linux_kernel *k,
		     const struct linux_layout *l, uint8_t zp[LINUX_ZERO_PAGE_BYTES])
{
	struct boot_params *bp = (struct boot_params *)zp;

	/* boot.rst: start from zeros, copy the setup header as the image has
	 * it (its length from the jump), then change the loader's fields. */
	memset(zp, 0, LINUX_ZERO_PAGE_BYTES);
	memcpy(zp + HDR_OFFSET, image + HDR_OFFSET, k->header_end - HDR_OFFSET);

	bp->hdr.type_of_loader = LOADER_UNDEFINED;
	bp->hdr.loadflags |= CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = HEAP_END;
	bp->hdr.cmd_line_ptr = (uint32_t)l->cmdline_gpa;
	bp->ext_cmd_line_ptr = (uint32_t)(l->cmdline_gpa >> 32);
	bp->hdr.ramdisk_image = (uint32_t)l->initrd_gpa;
	bp->ext_ramdisk_image = (uint32_t)(l->initrd_gpa >> 32);
	bp->hdr.ramdisk_size = (uint32_t)l->initrd_bytes;
	bp->ext_ramdisk_size = (uint32_t)(l->initrd_bytes >> 32);

	/* The memory map a BIOS would report: no EBDA (there is no BIOS),
	 * so the whole first 640 KiB is RAM. */
	e820_add(bp, 0, LINUX_LOW_RAM_END, E820_RAM);
	e820_add(bp, LINUX_LOW_RAM_END, LINUX_HIGH_RAM_START - LINUX_LOW_RAM_END, E820_RESERVED);
	e820_add(bp, LINUX_HIGH_RAM_START, l->tables_gpa - LINUX_HIGH_RAM_START, E820_RAM);
	e820_add(bp, l->tables_gpa, l->mem_bytes - l->tables_gpa, E820_RESERVED);
}
