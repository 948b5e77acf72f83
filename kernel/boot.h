/* Boot-time state: what multiboot told us, and the free memory that is
 * left for the root task's Untyped capabilities. */
#ifndef BOOT_H
#define BOOT_H

#include <stdint.h>
#include <berth/bootinfo.h>
#include "memregion.h"

struct boot_module {
	uint64_t start, end;
	char name[BOOTINFO_NAME_LEN];
};

struct boot_state {
	struct region_list free;   /* physical memory nobody owns yet */
	struct region_list device; /* physical addresses that are not RAM: device memory */
	int module_count;
	struct boot_module module[BOOTINFO_MAX_MODULES];
	char cmdline[BOOTINFO_NAME_LEN * 2];
};

extern struct boot_state boot;

void multiboot_parse(uint32_t magic, uint64_t mbi_phys);
uint64_t boot_alloc(uint64_t size);  /* zeroed, aligned to its size up to 4 KiB */
void root_task_create(void);

#endif
