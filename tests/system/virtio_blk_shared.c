/* Two virtio-blk disks on one level-triggered interrupt line: QEMU slots
 * 4 and 8 both reach PIRQ D, which SeaBIOS routes to line 11.  Two
 * drivers, each with its own handler of the shared line, serve them
 * while two threads write and read both disks with their requests
 * interleaved; afterwards the runner checks both images. */
// test-root: build/init.elf
// test-module: tests/system/manifests/virtio_blk_shared.manifest
// test-module: build/pci.elf
// test-module: build/virtio_blk.elf
// test-disk: a 4096 1
// test-disk: b 4096 2
// test-disk-check: a 512 1024 11
// test-disk-check: b 1024 1024 12
// test-qemu: -drive if=none,id=da,format=raw,file={disk:a},throttling.iops-total=4000 -device virtio-blk-pci,disable-legacy=on,drive=da,addr=4
// test-qemu: -drive if=none,id=db,format=raw,file={disk:b},throttling.iops-total=4000 -device virtio-blk-pci,disable-legacy=on,drive=db,addr=8
// test-expect: virtio-blk blk0: 4096 sectors, .*irq 11
// test-expect: virtio-blk blk1: 4096 sectors, .*irq 11
// test-timeout: 120
#include "tap.h"
#include "block.h"
#include "pci.h"
#include "blk_client.h"
#include "disk_pattern.h"

#define PCI 9

static struct blk_client a = { .disk = "blk0", .name = "shared-a", .vaddr = 0x40000000 };
static struct blk_client b = { .disk = "blk1", .name = "shared-b", .vaddr = 0x40100000 };

struct job {
	struct blk_client *c;
	uint64_t first, seed, old_seed;
	volatile int done, bad, errors;
};

/* Write 1024 sectors in 16-sector pieces, then read them and their old
 * neighbours back, 16 at a time. */
static void run_job(struct job *j)
{
	for (uint64_t s = j->first; s < j->first + 1024; s += 16) {
		pattern_fill(j->c->buf, j->seed, s, 16);
		j->errors += block_write(j->c->session, s, 16, 0) != E_OK;
	}
	j->errors += block_flush(j->c->session) != E_OK;
	for (uint64_t s = j->first; s < j->first + 1024; s += 16) {
		memset(j->c->buf, 0, 16 * 512);
		j->errors += block_read(j->c->session, s, 16, 0) != E_OK;
		j->bad += pattern_check(j->c->buf, j->seed, s, 16) >= 0;
	}
	j->errors += block_read(j->c->session, j->first - 16, 16, 0) != E_OK;
	j->bad += pattern_check(j->c->buf, j->old_seed, j->first - 16, 16) >= 0;
	j->done = 1;
}

static struct job ja = { .c = &a, .first = 512, .seed = 11, .old_seed = 1 };
static struct job jb = { .c = &b, .first = 1024, .seed = 12, .old_seed = 2 };
static _Alignas(16) uint8_t stack[16384];

static void worker(uint64_t arg)
{
	(void)arg;
	run_job(&jb);
	for (;;)
		sys_yield();
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(6);
	uint32_t addr[2] = { 0 }, irq[2] = { 0 }, ids, cls, sub;
	char owner[2][32] = { "", "" };
	long e1 = blk_connect(&a), e2 = blk_connect(&b);
	tap_ok(!e1 && !e2, "both disks attached (%ld, %ld)", e1, e2);
	unsigned found = 0;
	for (uint32_t i = 0; found < 2; i++) {
		uint32_t ad, ir;
		char ow[32];
		if (pci_list(PCI, i, &ad, &ids, &cls, &sub, &ir, ow))
			break;
		if (ids == 0x10421af4) {
			addr[found] = ad;
			irq[found] = ir;
			memcpy(owner[found], ow, 32);
			found++;
		}
	}
	tap_ok(found == 2 && addr[0] == 4 << 3 && addr[1] == 8 << 3 && (irq[0] & 0xff) == 11 && irq[1] == irq[0],
	       "00:04.0 and 00:08.0 share line %u (irq words %#x %#x)", irq[0] & 0xff, irq[0], irq[1]);
	tap_ok(!strcmp(owner[0], "blk0") && !strcmp(owner[1], "blk1"), "owned by blk0 and blk1 ('%s', '%s')", owner[0],
	       owner[1]);
	uint64_t tcb;
	tap_eq(thread_create(worker, 0, stack, sizeof(stack), 100, &tcb), E_OK, "a thread for the second disk");
	run_job(&ja);
	while (!jb.done)
		sys_yield();
	tap_ok(ja.errors == 0 && jb.errors == 0, "every request on both disks completed (%d, %d errors)", ja.errors,
	       jb.errors);
	tap_ok(ja.bad == 0 && jb.bad == 0, "and everything read back right (%d, %d bad)", ja.bad, jb.bad);
	tap_done();
}
