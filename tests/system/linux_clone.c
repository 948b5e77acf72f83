/* vm clone of a Linux guest (issue 16, docs/lifecycle.md "Clones"): the
 * guest writes a 4 MB file into its tmpfs (its RAM) and starts a loop
 * that checks the file's checksum every second.  A clone starts from it
 * (init starts linuxb with clone=linux, as the shell's vm clone does) and
 * goes on where the parent was: the same loop, the same file, in both.
 * Nearly all of the clone's RAM is shared with the parent, and init counts
 * what that saves; writes in either are copied and stay theirs (a file the
 * clone makes is not in the parent; each keeps checking its file).  Then
 * the parent ends: the clone runs on from the frames it shared, whose
 * loans init kept for it, and when the clone ends too every loan comes
 * back.  Before the clone, the parent's nearly-zero regions are put on
 * its zero frame (vm share): memory goes back to Berth, the guest's file
 * and loop are untouched, and the clone shares those regions too.  The
 * guests' commands are typed into their serial ports; results are lines
 * of their own (vm_drive.h). */
// test-root: build/init.elf
// test-module: tests/system/manifests/linux_clone.manifest
// test-module: build/serial.elf
// test-module: build/rtc.elf
// test-module: build/vmm.elf
// test-module: cache/linux/guest/bzImage
// test-module: cache/linux/guest/initramfs.cpio.gz
// test-exit: none
// test-timeout: 500
// test-selfcheck: 1000000
// test-expect: clone-test: ok - vm share: \d+ regions given back, \d+ zero pages, \d+ on kept pages, \d+ copied; free memory grew by \d+ KiB
// test-expect: clone-test: ok - the clone started from the running parent
// test-expect: clone-test: ok - the clone shares \d+ of its \d+ pages with the parent, \d+ copied
// test-expect: clone-test: ok - init counts \d+ KiB shared, \d+ KiB saved
// test-expect: clone-test: ok - writing 8 MB in the clone copies \d+ pages, each out of the shared ones
// test-expect: clone-test: ok - the parent ends; its frames stay the clone's
// test-expect: clone-test: ok - nothing is shared any more
// test-expect: clone-test: ok - the clone ends: every loan is back \(\d+ KiB free, \d+ KiB while both ran\)
// test-expect: clone-test: done
// test-expect: \[linux\] mem-ok-\d+[\s\S]*\[linuxb\] mem-ok-\d+
// test-expect: \[linuxb\] clone-only-\d+[\s\S]*\[linux\] parent-has-no-c
// test-expect: \[linuxb\] 35bfd8cc0fa5e1f0c95c026fb6069d08  /tmp/d[\s\S]*\[linuxb\] after-parent-end[\s\S]*\[linuxb\] mem-ok-\d+
// test-reject: clone-test: FAIL|mem-BAD-\d|parent-sees-c|\[linuxb?\].*(Oops|BUG:|Kernel panic|Out of memory|soft lockup)|vmm: \[linuxb\] guest stopped
#include <string.h>
#include <libipc/libipc.h>
#include "init.h"
#include "vmm.h"
#include "vm_drive.h"

static const char WHO[] = "clone-test";

#define INIT 8
#define SECONDS 100   /* ticks */
#define RAM_PAGES (112 * 256)

static uint64_t lookup(const char *name)
{
	uint64_t vm = 0;
	for (unsigned i = 0; i < 600 && init_lookup(INIT, name, &vm); i++)
		vm_nap(SECONDS / 10);
	return vm;
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	uint64_t parent = lookup("vm.linux"), total, free_before, free_after, shared, saved, pages, copied;
	vm_nap(40 * SECONDS);   /* to its shell */
	vm_type(parent, "yes berth-clone-test | head -c 4000000 > /tmp/d; md5sum /tmp/d > /tmp/sum; i=0; "
	                "while true; do i=$((i+1)); md5sum /tmp/d | cmp -s - /tmp/sum && echo mem-ok-$i || "
	                "echo mem-BAD-$i; sleep 1; done &\n");
	vm_nap(10 * SECONDS);
	init_mem(INIT, &total, &free_before);

	/* the zero pages first: whole regions back with Berth */
	uint32_t zero_regions;
	uint64_t zeros, kept, pause_us, free_shared;
	uint64_t alike, stored, kept_pages, takes;
	long err = vmm_share(parent, &zero_regions, &zeros, &alike, &kept, &pause_us);
	init_mem(INIT, &total, &free_shared);
	vm_check(WHO, !err && zero_regions > 0 && zeros + alike >= zero_regions * 384UL &&
	         /* less the zero frame, the chunks the copies came from and
	          * those of init's kept pages */
	         free_shared + ((2 + (kept + 511) / 512 * 2 + (alike + 511) / 512 * 2) << 20) >=
	                 free_before + ((uint64_t)zero_regions << 21),
	         "vm share: %u regions given back, %lu zero pages, %lu on kept pages, %lu copied; free memory grew by "
	         "%lu KiB", zero_regions, zeros, alike, kept, (free_shared - free_before) >> 10);
	free_before = free_shared;
	vm_nap(5 * SECONDS);

	err = init_start(INIT, "linuxb", "clone=linux");
	uint64_t clone = err ? 0 : lookup("vm.linuxb");
	if (!vm_check(WHO, clone != 0, "the clone started from the running parent (error %ld)", err))
		return 1;
	uint64_t zero_pages, on_zero;
	err = vmm_sharing(clone, &pages, &copied, &zero_pages, &on_zero, &stored);
	vm_check(WHO, !err && pages + zero_pages > RAM_PAGES * 8 / 10 && on_zero == 0,
	         "the clone shares %lu of its %u pages with the parent, %lu copied", pages + zero_pages, RAM_PAGES, copied);
	uint64_t free_cloned;
	init_mem(INIT, &total, &free_cloned);
	debug_printf("clone-test: free %lu KiB before the clone, %lu KiB with it\n", free_before >> 10, free_cloned >> 10);
	err = init_mem_sharing(INIT, &shared, &saved, &kept_pages, &takes);
	/* each frame once: the regions on the zero frame are one loan */
	vm_check(WHO, !err && saved == shared && saved >= ((56UL - zero_regions) << 21),
	         "init counts %lu KiB shared, %lu KiB saved", shared >> 10, saved >> 10);
	vm_nap(5 * SECONDS);

	/* writes stay where they were made.  Some of the pages the guest
	 * writes may be the clone's own already (the parent's pages on kept
	 * pages came as copies), so what is checked is that every page the
	 * writes copied left the shared ones, and that they copied many */
	uint64_t pages_before, zero_before, copied_before;
	err = vmm_sharing(clone, &pages_before, &copied_before, &zero_before, &on_zero, &stored);
	vm_type(clone, "echo clone-only-$((6*7)) > /tmp/c; cat /tmp/c; head -c 8000000 /dev/zero > /tmp/e\n");
	vm_nap(10 * SECONDS);
	vm_type(parent, "test -e /tmp/c && echo parent-se\"\"es-c || echo parent-has-\"\"no-c\n");
	err = err ? err : vmm_sharing(clone, &pages, &copied, &zero_pages, &on_zero, &stored);
	vm_check(WHO, !err && copied >= copied_before + 512 &&
	                 pages + zero_pages + copied == pages_before + zero_before + copied_before,
	         "writing 8 MB in the clone copies %lu pages, each out of the shared ones", copied - copied_before);
	vm_nap(5 * SECONDS);

	/* the parent ends; the clone keeps its memory */
	err = init_kill(INIT, "linux");
	vm_nap(3 * SECONDS);
	vm_type(clone, "md5sum /tmp/d; echo after-parent-\"\"end\n");
	vm_nap(5 * SECONDS);
	err = err ? err : vmm_sharing(clone, &pages, &copied, &zero_pages, &on_zero, &stored);
	vm_check(WHO, !err, "the parent ends; its frames stay the clone's (error %ld)", err);
	uint64_t free_orphan;
	init_mem(INIT, &total, &free_orphan);
	debug_printf("clone-test: free %lu KiB with the parent gone\n", free_orphan >> 10);
	err = init_mem_sharing(INIT, &shared, &saved, &kept_pages, &takes);
	vm_check(WHO, !err && !shared && !saved, "nothing is shared any more (%lu KiB)", shared >> 10);

	err = init_kill(INIT, "linuxb");
	vm_nap(3 * SECONDS);
	init_mem(INIT, &total, &free_after);
	/* the parent's RAM and whatever the clone borrowed are back; the
	 * clone's pool, which init keeps for its next start, is not */
	vm_check(WHO, !err && free_after >= free_cloned + ((56UL - zero_regions) << 21),
	         "the clone ends: every loan is back (%lu KiB free, %lu KiB while both ran)", free_after >> 10,
	         free_cloned >> 10);
	debug_printf("clone-test: done\n");
	return 0;
}
