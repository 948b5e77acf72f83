/* Pages shared by content across VMs booted apart (issue 16,
 * docs/lifecycle.md "Pages shared by content").  Two small VMs run the
 * same guest (tests/guests/progs/alike.c): 6 MiB of pages, each page
 * unlike the others but alike in both VMs, checked twice a second.
 * vm share on a remembers its pages; on b it finds them seen, so b's
 * regions go on pages init keeps and their 2 MiB go back; on a again it
 * finds them kept.  Then one copy of each page serves both VMs.  a's
 * guest rewrites 2 MiB of it: its writes are copied on write and stay its
 * own, while b keeps reading the kept pages.  a's VMM ends: b runs on
 * from the kept pages; when b's ends too, init frees them. */
// test-root: build/init.elf
// test-module: tests/system/manifests/page_sharing.manifest
// test-module: build/serial.elf
// test-module: build/vmm.elf
// test-module: build/tests/guests/progs/alike_writer.bin
// test-module: build/tests/guests/progs/alike.bin
// test-exit: none
// test-timeout: 300
// test-selfcheck: 64
// test-expect: share-test: ok - vm share a first: its pages remembered, \d+ regions given back \(\d+ alike\)
// test-expect: share-test: ok - vm share b: \d+ regions given back, \d+ pages on kept pages
// test-expect: share-test: ok - vm share a again: \d+ regions given back, \d+ pages on kept pages
// test-expect: share-test: ok - init keeps \d+ pages once, taken \d+ times
// test-expect: share-test: ok - both VMs read \d+ and \d+ pages from kept pages
// test-expect: share-test: ok - a's guest rewrote 2 MiB: \d+ pages copied, b untouched
// test-expect: share-test: ok - a's VMM ends: b still holds its kept pages
// test-expect: share-test: ok - b's VMM ends: init keeps no page
// test-expect: share-test: done
// test-expect: \[a\] rewrote 6..8 MiB[\s\S]*\[a\] check \d+ ok[\s\S]*\[b\] check \d+ ok
// test-expect: share-test: ok - a's VMM ends[\s\S]*\[b\] check \d+ ok
// test-reject: share-test: FAIL|BAD at
#include <libipc/libipc.h>
#include "init.h"
#include "vmm.h"
#include "vm_drive.h"

static const char WHO[] = "share-test";

#define INIT 8
#define SECONDS 100   /* ticks */
#define DATA_PAGES (6 * 256)     /* 2 MiB..8 MiB: alike in both VMs */
/* init's table of pages seen is a hint that may have lost some */
#define MOST(n) ((n) * 95 / 100)
#define REWRITTEN_PAGES 512      /* 6 MiB..8 MiB, rewritten by a's guest */

static uint64_t lookup(const char *name)
{
	uint64_t vm = 0;
	for (unsigned i = 0; i < 600 && init_lookup(INIT, name, &vm); i++)
		vm_nap(SECONDS / 10);
	return vm;
}

struct shared {
	uint32_t regions;
	uint64_t zero, alike, copied, us;
};

static long share(uint64_t vm, struct shared *s)
{
	return vmm_share(vm, &s->regions, &s->zero, &s->alike, &s->copied, &s->us);
}

/* Pages the VM reads from init's kept pages, and pages it copied. */
static uint64_t on_kept(uint64_t vm, uint64_t *copied)
{
	uint64_t shared = 0, zero = 0, zero_regions = 0, stored = 0;
	*copied = 0;
	return vmm_sharing(vm, &shared, copied, &zero, &zero_regions, &stored) ? ~0UL : stored;
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	uint64_t a = lookup("vm.a"), b = lookup("vm.b"), shared, saved, kept, takes, copied;
	struct shared s;
	vm_nap(3 * SECONDS);   /* both guests filled their pages */

	long err = share(a, &s);
	/* only its first region, the guest's code and zero pages, may go */
	vm_check(WHO, !err && s.regions <= 1, "vm share a first: its pages remembered, %u regions given back (%lu alike)",
	         s.regions, s.alike);
	err = share(b, &s);
	vm_check(WHO, !err && s.regions >= 3 && s.alike >= MOST(DATA_PAGES),
	         "vm share b: %u regions given back, %lu pages on kept pages", s.regions, s.alike);
	err = share(a, &s);
	vm_check(WHO, !err && s.regions >= 3 && s.alike >= MOST(DATA_PAGES),
	         "vm share a again: %u regions given back, %lu pages on kept pages", s.regions, s.alike);
	err = init_mem_sharing(INIT, &shared, &saved, &kept, &takes);
	vm_check(WHO, !err && kept >= MOST(DATA_PAGES) && takes >= 2 * MOST(DATA_PAGES), "init keeps %lu pages once, taken %lu times",
	         kept, takes);
	uint64_t on_a = on_kept(a, &copied), copied_before = copied, on_b = on_kept(b, &copied);
	vm_check(WHO, on_a >= MOST(DATA_PAGES) && on_a != ~0UL && on_b >= MOST(DATA_PAGES) && on_b != ~0UL,
	         "both VMs read %lu and %lu pages from kept pages", on_a, on_b);

	/* a's guest rewrites 6..8 MiB at its check 24, 12 s after it started */
	uint64_t b_copied, on_a2 = on_a;
	for (unsigned i = 0; i < 40 && on_a2 + MOST(REWRITTEN_PAGES) > on_a; i++) {
		vm_nap(SECONDS);
		on_a2 = on_kept(a, &copied);
	}
	uint64_t on_b2 = on_kept(b, &b_copied);
	/* each of its pages there on a kept page was copied, and only those */
	vm_check(WHO, on_a2 + MOST(REWRITTEN_PAGES) <= on_a && copied - copied_before == on_a - on_a2 && on_b2 == on_b,
	         "a's guest rewrote 2 MiB: %lu pages copied, b untouched (%lu and %lu on kept pages)",
	         copied - copied_before, on_a2, on_b2);
	vm_nap(2 * SECONDS);

	err = init_kill(INIT, "vmm-a");
	vm_nap(2 * SECONDS);
	err = err ? err : init_mem_sharing(INIT, &shared, &saved, &kept, &takes);
	vm_check(WHO, !err && kept >= MOST(DATA_PAGES) && takes == kept, "a's VMM ends: b still holds its kept pages (%lu, %lu)",
	         kept, takes);
	vm_nap(3 * SECONDS);   /* b checks its pages meanwhile */

	err = init_kill(INIT, "vmm-b");
	vm_nap(2 * SECONDS);
	err = err ? err : init_mem_sharing(INIT, &shared, &saved, &kept, &takes);
	vm_check(WHO, !err && kept == 0 && takes == 0, "b's VMM ends: init keeps no page (%lu)", kept);
	debug_printf("share-test: done\n");
	return 0;
}
