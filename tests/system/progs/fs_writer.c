/* The workload of tools/fs_crash_test.py: writes files through the fs
 * server without end, each fsynced, and says so on the console only once
 * fsync returned, so the runner (which kills QEMU at a random moment)
 * knows which files must survive.  Record K is /crash/fK.txt holding
 * "record K " repeated (K * 37) % 3000 + 1 times; every fifth record is
 * also renamed into /crash/moved, every seventh directory made and the
 * one before removed, and record K - KEEP unlinked, so the namespace
 * changes and blocks and inodes are freed too. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <libipc/libipc.h>
#include "fs.h"
#include "fs_files.h"

#define FS 9
#define KEEP 50

int main(const struct bootinfo *bi)
{
	(void)bi;
	files_use_fs(FS);
	fs_mkdir(FS, "/crash", 0755);
	fs_mkdir(FS, "/crash/moved", 0755);
	debug_printf("fs-writer: started\n");
	for (unsigned k = 0;; k++) {
		char path[64], record[32];
		snprintf(path, sizeof(path), "/crash/f%u.txt", k);
		snprintf(record, sizeof(record), "record %u ", k);
		FILE *f = fopen(path, "w");
		unsigned times = (k * 37) % 3000 + 1;
		int ok = f != 0;
		for (unsigned i = 0; ok && i < times; i++)
			ok = fputs(record, f) >= 0;
		ok = ok && !fflush(f) && !fsync(fileno(f));
		if (f)
			fclose(f);
		if (!ok) {
			debug_printf("fs-writer: record %u failed\n", k);
			continue;
		}
		if (k % 5 == 4) {
			char to[64];
			snprintf(to, sizeof(to), "/crash/moved/f%u.txt", k);
			if (fs_rename(FS, path, to)) {
				debug_printf("fs-writer: rename of %u failed\n", k);
				continue;
			}
		}
		if (k % 7 == 6) {
			char dir[64];
			snprintf(dir, sizeof(dir), "/crash/d%u", k);
			fs_mkdir(FS, dir, 0755);
			snprintf(dir, sizeof(dir), "/crash/d%u", k - 7);
			fs_rmdir(FS, dir);
		}
		if (k >= KEEP) {
			snprintf(path, sizeof(path), (k - KEEP) % 5 == 4 ? "/crash/moved/f%u.txt" : "/crash/f%u.txt", k - KEEP);
			if (fs_unlink(FS, path))
				debug_printf("fs-writer: unlink of %u failed\n", k - KEEP);
		}
		debug_printf("fs-writer: fsynced %u\n", k);
	}
}
