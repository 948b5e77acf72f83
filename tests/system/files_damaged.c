/* Damaged file systems never crash the fs server (issue 11): an image
 * whose superblock magic is wrong is refused at mount with one line and
 * not restarted in a loop; on an image whose /docs directory holds an
 * entry with an impossible length, the operations that touch it fail with
 * EUCLEAN and `why` names the damage, while the rest of the file system
 * still works and the server keeps answering.  (The ext2 library's own
 * tests fuzz many more damages: tests/unit/test_ext2_fuzz.c.) */
// test-root: build/init.elf
// test-module: tests/system/manifests/files_damaged.manifest
// test-module: build/fs.elf
// test-module: build/tests/data/files-baddir.img
// test-module: build/tests/data/files-badmagic.img
// test-expect: ^fs: cannot mount: [^\r\n]*magic
// test-expect: init: 'fsbad' exited with status 3: it cannot start as configured; not restarting it
// test-timeout: 120
// the self-check on every 16th exit: each walks the two RAM disks' thousands
// of frame capabilities, and on every exit that made the run ~60 s
// test-selfcheck: 16
#include "tap.h"
#include "tasks.h"
#include <string.h>
#include "fs.h"
#include "fs_files.h"
#include "init.h"

#define INIT 8

#define FS 9

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(6);
	uint64_t fs = FS;
	uint32_t ino, kind, more, child, ck, got;
	uint64_t size, cookie = 0;
	char name[256], why[201] = "";
	long st = fs_open(fs, "/docs", 0, 0, &ino, &kind, &size);
	long r = st ? st : fs_readdir(fs, ino, &cookie, &more, &child, &ck, name);
	fs_why(fs, why);
	tap_ok(r == FS_ERRNO_BASE + FS_EUCLEAN, "readdir of the damaged directory: EUCLEAN (%ld %ld)", st, r);
	tap_ok(why[0] && strstr(why, "docs") == 0 && (strstr(why, "entry") || strstr(why, "rec_len")),
	       "and why names the damage: '%s'", why);
	r = fs_open(fs, "/docs/readme.txt", 0, 0, &ino, &kind, &size);
	tap_ok(r == FS_ERRNO_BASE + FS_EUCLEAN, "a path through it fails the same way (%ld)", r);
	static uint8_t buf[448];
	st = fs_open(fs, "/hello.txt", 0, 0, &ino, &kind, &size);
	r = st ? st : fs_read(fs, ino, 0, sizeof(buf), buf, &got);
	tap_ok(!r && got == 20 && !memcmp(buf, "hello from the host\n", 20),
	       "the rest of the file system still reads (%ld)", r);
	r = fs_mkdir(fs, "/docs/new", 0755);
	long s2 = fs_mkdir(fs, "/fine", 0755);
	tap_ok(r == FS_ERRNO_BASE + FS_EUCLEAN && !s2,
	       "creating in the damaged directory fails, elsewhere it works (%ld %ld)", r, s2);

	/* the server on the image with the bad magic ended, and stays so */
	int ended = 0;
	uint32_t state = 0, restarts = 99, threads = 1;
	for (int tries = 0; tries < 100 && !ended; tries++) {
		if (task_find("fsbad", &state, &restarts, &threads))
			ended = threads == 0;
		spin_ticks(50000000UL);
	}
	spin_ticks(500000000UL);
	tap_ok(ended && restarts == 0, "the server on the bad superblock ended and was not restarted (restarts %u)",
	       restarts);
	tap_done();
}
