/* The fs server's parts (main.c serves idl/fs.idl; the block devices
 * below it). */
#ifndef FS_SERVER_H
#define FS_SERVER_H

#include <libipc/libipc.h>
#include "ext2.h"

#include "fs_files.h"   /* FS_ERRNO_BASE and the errno numbers of idl/fs.idl */

long ramdisk_open(const struct bootinfo *bi, struct ext2_blockdev *dev);
/* A block driver's device, by its published name ("blk0"). */
long blockdev_open(const char *name, struct ext2_blockdev *dev);

#endif
