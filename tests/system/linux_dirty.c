/* The dirty log of a Linux guest (issue 16, docs/lifecycle.md "Guest RAM by the page,
 * and the dirty log"; what live migration's pre-copy rounds read): started, every
 * page of its 112 MiB is write-protected and clean; the guest then
 * writes a 16 MB file into its tmpfs, and the log holds at least its
 * 3907 pages, most of them found by write faults; an idle round holds
 * far fewer.  Stopped, the guest runs on with every page writable, and
 * the file's checksum comes out right.  Bad requests get E_STATE and
 * E_BAD_ARG.  The guest's commands are typed into its serial port (vmm.idl
 * console_input); results are lines of their own, as in
 * linux_balloon.c (the guest's prompt may hold the console's line). */
// test-root: build/init.elf
// test-module: tests/system/manifests/linux_dirty.manifest
// test-module: build/serial.elf
// test-module: build/rtc.elf
// test-module: build/vmm.elf
// test-module: cache/linux/guest/bzImage
// test-module: cache/linux/guest/initramfs.cpio.gz
// test-exit: none
// test-timeout: 400
// test-selfcheck: 1000000
// test-expect: dirty-test: ok - the log starts
// test-expect: dirty-test: ok - a second start is refused while it runs
// test-expect: dirty-test: ok - an unknown operation is refused
// test-expect: dirty-test: ok - an idle round: \d+ pages
// test-expect: dirty-test: ok - writing a 16 MB file: \d+ pages dirty, \d+ by write faults
// test-expect: dirty-test: ok - the next round, idle again: \d+ pages
// test-expect: dirty-test: ok - the log stops; reading it then is refused
// test-expect: dirty-test: ok - it starts and stops again
// test-expect: dirty-test: done
// test-expect: \[linux\] d8cb860ac8d564afab54d6dbebecd746  /tmp/d[\s\S]*\[linux\] dirty-guest: after stop
// test-reject: dirty-test: FAIL|\[linux\].*(Oops|BUG:|Kernel panic|Out of memory|soft lockup)|vmm: \[linux\] guest stopped
#include <string.h>
#include <libipc/libipc.h>
#include "init.h"
#include "vmm.h"
#include "vm_drive.h"

static const char WHO[] = "dirty-test";   /* what each result line starts with */

#define INIT 8
#define SECONDS 100   /* ticks */
#define FILE_PAGES 3907   /* 16,000,000 bytes */

struct round {
	uint64_t pages, faults, us;
};

static long dirty(uint64_t vm, uint32_t op, struct round *r)
{
	return vmm_dirty(vm, op, &r->pages, &r->faults, &r->us);
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	uint64_t vm = 0;
	for (unsigned i = 0; i < 600 && init_lookup(INIT, "vm.linux", &vm); i++)
		vm_nap(SECONDS / 10);
	vm_nap(40 * SECONDS);   /* its boot writes everywhere: let it settle to its shell */
	struct round r;
	if (!vm_check(WHO, dirty(vm, 0, &r) == E_OK, "the log starts"))
		return 1;
	vm_check(WHO, dirty(vm, 0, &r) == E_STATE, "a second start is refused while it runs");
	vm_check(WHO, dirty(vm, 7, &r) == E_BAD_ARG, "an unknown operation is refused");
	vm_nap(3 * SECONDS);
	long err = dirty(vm, 1, &r);
	uint64_t idle = r.pages;
	vm_check(WHO, err == E_OK && idle < FILE_PAGES, "an idle round: %lu pages (%lu write faults, %lu ms)", idle, r.faults,
	      r.us / 1000);

	vm_type(vm, "head -c 16000000 /dev/zero > /tmp/d && echo dirty-guest: wr\"\"itten\n");
	vm_nap(15 * SECONDS);
	err = dirty(vm, 1, &r);
	vm_check(WHO, err == E_OK && r.pages >= FILE_PAGES && r.faults + 64 >= FILE_PAGES,
	      "writing a 16 MB file: %lu pages dirty, %lu by write faults (%lu ms)", r.pages, r.faults, r.us / 1000);
	vm_nap(3 * SECONDS);
	err = dirty(vm, 1, &r);
	vm_check(WHO, err == E_OK && r.pages < FILE_PAGES, "the next round, idle again: %lu pages (%lu write faults)", r.pages,
	      r.faults);

	vm_check(WHO, dirty(vm, 2, &r) == E_OK && dirty(vm, 1, &r) == E_STATE && dirty(vm, 2, &r) == E_STATE,
	      "the log stops; reading it then is refused");
	vm_check(WHO, dirty(vm, 0, &r) == E_OK && dirty(vm, 2, &r) == E_OK, "it starts and stops again");
	vm_type(vm, "md5sum /tmp/d; rm /tmp/d; echo dirty-guest: after st\"\"op\n");
	vm_nap(10 * SECONDS);
	debug_printf("dirty-test: done\n");
	return 0;
}
