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

/* Buffers shared with bulk clients (buffers.c; idl/fs.idl's buffer_*):
 * port is ours, to mint their sessions from. */
void buffers_init(uint64_t port);
long buffers_attach(const char *name, uint64_t *session, uint32_t *pages);
long buffers_frame(uint64_t badge, uint32_t page, uint64_t *frame);
/* Where a session's buffer holds bytes [at, at + count): E_STATE for a
 * badge that names no live buffer, E_BAD_ARG outside the buffer. */
long buffers_data(uint64_t badge, uint32_t at, uint32_t count, uint8_t **data);
long buffers_detach(uint64_t badge);

#endif
