/* A Linux guest whose kernel and initrd the VMM reads from files of the
 * fs server (kernel=PATH initrd=PATH, issue 11), not from boot modules;
 * and a VM that names a file that is not there: one clear line, and init
 * does not restart it.  init runs the console driver, the fs server (on
 * a RAM disk made by tools/mkdisk.sh), the two VMMs and this program. */
// test-root: build/init.elf
// test-module: tests/system/manifests/vm_files.manifest
// test-module: build/serial.elf
// test-module: build/fs.elf
// test-module: build/tests/data/vm.img
// test-module: build/vmm.elf
// test-exit: none
// test-timeout: 240
// test-selfcheck: 256
// test-expect: ^vmm: \[nothing\] kernel /vm/nothing: No such file or directory\r?$
// test-expect: init: 'nothing' exited with status 3: it cannot start as configured; not restarting it
// test-expect: ^vmm: Linux boot protocol 2\.\d+, kernel \d+ bytes at 1000000, initrd 1\d\d\d\d\d\d bytes
// test-expect: ^\[linux\] berth-guest: init started
#include <libipc/libipc.h>

int main(const struct bootinfo *bi)
{
	(void)bi;
	debug_printf("vm-files: started\n");
	return 0;
}
