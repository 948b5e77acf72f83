/* A block device in memory, filled from a boot module: the disk the fs
 * server uses until a block driver serves one (`ramdisk` in its args).
 * What is written lives as long as the server; a restarted server starts
 * again from the module's image. */
#include <stdlib.h>
#include <string.h>
#include <libipc/libipc.h>
#include "fs_server.h"

#define SECTOR 512
#define MODULE_VA 0x0000400000000000UL  /* clear of the heap (posix.c) */

struct ramdisk {
	uint8_t *bytes;
	uint64_t sectors;
};

static struct ramdisk disk;

static int in_range(uint64_t sector, uint32_t count)
{
	return sector <= disk.sectors && count <= disk.sectors - sector;
}

static int rd_read(void *ctx, uint64_t sector, uint32_t count, void *buf)
{
	(void)ctx;
	if (!in_range(sector, count))
		return EXT2_EIO;
	memcpy(buf, disk.bytes + sector * SECTOR, (size_t)count * SECTOR);
	return 0;
}

static int rd_write(void *ctx, uint64_t sector, uint32_t count, const void *buf)
{
	(void)ctx;
	if (!in_range(sector, count))
		return EXT2_EIO;
	memcpy(disk.bytes + sector * SECTOR, buf, (size_t)count * SECTOR);
	return 0;
}

static int rd_flush(void *ctx)
{
	(void)ctx;
	return 0;
}

/* The first boot module, copied into memory of our own. */
long ramdisk_open(const struct bootinfo *bi, struct ext2_blockdev *dev)
{
	if (bi->module_count < 1) {
		debug_printf("fs: ramdisk: no boot module holds an image\n");
		return E_BAD_ARG;
	}
	const struct bootinfo_module *m = &bi->module[0];
	for (uint32_t i = 0; i < m->pages; i++) {
		long err = page_map_with_tables(m->first_slot + i, MODULE_VA + (uint64_t)i * PAGE_SIZE, RIGHT_READ);
		if (err)
			return err;
	}
	disk.sectors = m->size / SECTOR;
	disk.bytes = malloc(disk.sectors * SECTOR);
	if (!disk.bytes) {
		debug_printf("fs: ramdisk: no memory for an image of %lu KiB\n", m->size >> 10);
		return E_RANGE;
	}
	memcpy(disk.bytes, (const void *)MODULE_VA, disk.sectors * SECTOR);
	*dev = (struct ext2_blockdev){ .ctx = &disk, .sector_size = SECTOR, .sectors = disk.sectors,
	                               .read = rd_read, .write = rd_write, .flush = rd_flush };
	return E_OK;
}
