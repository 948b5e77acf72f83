/* Berth's <sys/dirent.h>.  newlib's <dirent.h> declares opendir,
 * readdir, closedir, ... and takes DIR and struct dirent from this file,
 * which each system supplies (newlib's own copy is an #error).  They
 * are implemented in libipc/dirent.c over the file-system server. */
#ifndef BERTH_SYS_DIRENT_H
#define BERTH_SYS_DIRENT_H

#include <sys/types.h>

/* d_type, as BSD and Linux number them */
#define DT_UNKNOWN 0
#define DT_FIFO 1
#define DT_CHR 2
#define DT_DIR 4
#define DT_BLK 6
#define DT_REG 8
#define DT_LNK 10
#define DT_SOCK 12

struct dirent {
	ino_t d_ino;
	unsigned char d_type;
	char d_name[256];
};

typedef struct berth_dir DIR;

#endif
