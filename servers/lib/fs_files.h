/* The C library's files on the file-system server: after
 * files_use_fs, fopen, fread, fprintf, stat, unlink, ... reach the
 * server named by the slot (a send right to "fs", idl/fs.idl).  A call
 * that finds the server gone fails (EIO); the next call looks "fs" up
 * again in init's name service, and files opened before are stale
 * (ESTALE: their unsynced writes may be lost; open them again). */
#ifndef FS_FILES_H
#define FS_FILES_H

#include <stdint.h>

/* idl/fs.idl: a failure's status is FS_ERRNO_BASE + an errno in Linux's
 * numbering (as ext2.h's), which is not newlib's beyond 34. */
#define FS_ERRNO_BASE 1000
#define FS_ENOENT 2
#define FS_EIO 5
#define FS_EEXIST 17
#define FS_ENOTDIR 20
#define FS_EISDIR 21
#define FS_EINVAL 22
#define FS_ENOSPC 28
#define FS_EROFS 30
#define FS_ENAMETOOLONG 36
#define FS_ENOTEMPTY 39
#define FS_ELOOP 40
#define FS_ENOTSUP 95
#define FS_ESTALE 116
#define FS_EUCLEAN 117

void files_use_fs(uint64_t fs_slot);
/* An fs call's status as a negative errno of the C library's numbering
 * (a dead server: -EIO; damage: -EIO). */
int fs_errno(long status);

#endif
