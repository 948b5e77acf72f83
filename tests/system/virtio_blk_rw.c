/* The virtio-blk driver on one disk the runner made with known content:
 * the whole disk reads back exactly as the host wrote it; a write, then
 * a flush, reads back, and after QEMU ends the runner finds it in the
 * image with every other sector untouched; two clients (two threads)
 * with requests in flight at once; and malformed requests, which get
 * errors while the driver keeps serving. */
// test-root: build/init.elf
// test-module: tests/system/manifests/virtio_blk.manifest
// test-module: build/pci.elf
// test-module: build/virtio_blk.elf
// test-disk: a 8192 1
// test-disk-check: a 1000 128 7
// test-qemu: -drive if=none,id=da,format=raw,file={disk:a},throttling.iops-total=4000 -device virtio-blk-pci,disable-legacy=on,drive=da,addr=4
// test-expect: virtio-blk blk0: 8192 sectors, block 512, read-write, flush
// test-expect: virtio-blk: 'second' detached; at most [2-9]\d* requests were in flight
// test-timeout: 120
#include "tap.h"
#include "block.h"
#include "blk_client.h"
#include "disk_pattern.h"

#define CAPACITY 8192
#define CHUNK 128   /* sectors per request: the whole 64 KiB buffer */

static struct blk_client one = { .disk = "blk0", .name = "first", .vaddr = 0x40000000 };
static struct blk_client two = { .disk = "blk0", .name = "second", .vaddr = 0x40100000 };

/* The second client: reads sectors 4096..6143 twice, 8 sectors at a
 * time into four places in its buffer, while the first does the same on
 * 2048..4095.  The drive is throttled (test-qemu) so QEMU completes
 * requests later rather than at once, and both are in flight together. */
static volatile int worker_done, worker_bad, worker_errors;
static _Alignas(16) uint8_t worker_stack[16384];

static int sweep(struct blk_client *c, uint64_t first, int rounds)
{
	int bad = 0;
	for (int r = 0; r < rounds; r++)
		for (uint64_t s = first; s < first + 2048; s += 32) {
			for (uint32_t k = 0; k < 4; k++)
				if (block_read(c->session, s + k * 8, 8, k * 8 * 512))
					return -1;
			if (pattern_check(c->buf, 1, s, 32) >= 0)
				bad++;
		}
	return bad;
}

static void worker(uint64_t arg)
{
	(void)arg;
	worker_bad = sweep(&two, 4096, 2);
	worker_done = 1;
	for (;;)
		sys_yield();
}

static long raw_call(uint64_t port, uint32_t label, unsigned words)
{
	struct msg m = { 0 };
	m.info = MSG_INFO(label, words, 0);
	long err = ipc_call(port, &m);
	return err ? err : (long)m.w[0];
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(22);
	long err = blk_connect(&one);
	tap_ok(!err && one.pages == 16, "attach and map the 64 KiB buffer (%ld, %u pages)", err, one.pages);
	uint64_t sectors = 0;
	uint32_t bsize = 0, flags = 0;
	err = block_info(one.published, &sectors, &bsize, &flags);
	tap_ok(!err && sectors == CAPACITY && bsize == 512 && !(flags & 1),
	       "info: %lu sectors of 512, writable (flags %u)", sectors, flags);

	/* the host's content, all of it */
	long bad = -1, errs = 0;
	for (uint64_t s = 0; s < CAPACITY; s += CHUNK) {
		memset(one.buf, 0, CHUNK * 512);
		if (block_read(one.session, s, CHUNK, 0)) {
			errs++;
			continue;
		}
		long at = pattern_check(one.buf, 1, s, CHUNK);
		if (at >= 0 && bad < 0)
			bad = (long)s + at;
	}
	tap_ok(errs == 0 && bad < 0, "the whole disk reads back as the host wrote it (first bad sector %ld)", bad);
	err = block_read(one.session, 4097, 3, 512 * 5);
	tap_ok(!err && pattern_check(one.buf + 5 * 64, 1, 4097, 3) < 0,
	       "an unaligned small read lands at its buffer offset");

	/* write, flush, read back */
	pattern_fill(one.buf, 7, 1000, CHUNK);
	err = block_write(one.session, 1000, CHUNK, 0);
	tap_eq(err, E_OK, "write 128 sectors at 1000");
	tap_eq(block_flush(one.session), E_OK, "flush");
	memset(one.buf, 0, CHUNK * 512);
	err = block_read(one.session, 1000, CHUNK, 0);
	tap_ok(!err && pattern_check(one.buf, 7, 1000, CHUNK) < 0, "they read back");
	err = block_read(one.session, 999, 1, 0);
	long err2 = block_read(one.session, 1128, 1, 512);
	tap_ok(!err && !err2 && pattern_check(one.buf, 1, 999, 1) < 0 && pattern_check(one.buf + 64, 1, 1128, 1) < 0,
	       "their neighbours are untouched");

	/* two clients at once */
	err = blk_connect(&two);
	uint64_t tcb;
	err = err ? err : thread_create(worker, 0, worker_stack, sizeof(worker_stack), 100, &tcb);
	tap_eq(err, E_OK, "a second client, in a second thread");
	int mine = sweep(&one, 2048, 2);
	while (!worker_done)
		sys_yield();
	tap_ok(mine == 0 && worker_bad == 0, "both clients' interleaved reads are right (%d, %d bad)", mine, worker_bad);

	/* malformed requests */
	long r1 = block_read(one.session, 0, 0, 0), r2 = block_read(one.session, 0, 1, 100);
	long r3 = block_read(one.session, 0, 1, 65536), r4 = block_read(one.session, 0, 2, 65536 - 512);
	tap_ok(r1 == E_BAD_ARG && r2 == E_BAD_ARG && r3 == E_BAD_ARG && r4 == E_BAD_ARG,
	       "count 0, offset 100, offset past the buffer, a run past it: E_BAD_ARG (%ld %ld %ld %ld)", r1, r2, r3,
	       r4);
	r1 = block_read(one.session, CAPACITY, 1, 0);
	r2 = block_write(one.session, CAPACITY - 1, 2, 0);
	r3 = block_read(one.session, ~0UL, 2, 0);
	tap_ok(r1 == E_BAD_ARG && r2 == E_BAD_ARG && r3 == E_BAD_ARG,
	       "past the disk's end, across it, a sector that wraps: E_BAD_ARG (%ld %ld %ld)", r1, r2, r3);
	tap_eq(block_read(one.published, 0, 1, 0), E_STATE, "read on the published port (no session): E_STATE");
	uint64_t s2;
	uint32_t pages;
	tap_eq(block_attach(one.session, "x", &s2, &pages), E_STATE, "attach through a session: E_STATE");
	uint64_t f;
	tap_eq(block_buffer_frame(one.session, 16, &f), E_BAD_ARG, "buffer page 16 of 16: E_BAD_ARG");
	tap_eq(raw_call(one.session, BLOCK_READ_LABEL, 2), E_BAD_MSG, "a read a word short: E_BAD_MSG");
	tap_eq(raw_call(one.session, 0x0bff, 0), E_BAD_SYSCALL, "an unknown method: E_BAD_SYSCALL");
	tap_eq(block_detach(two.session), E_OK, "the second client detaches");
	tap_eq(block_read(two.session, 0, 1, 0), E_BAD_CAP, "its old session right is revoked: E_BAD_CAP");
	uint64_t s3, s4, s5, s6;
	/* the detached session's slot is free once its thread has seen
	 * no-senders, a moment after the detach */
	long a1 = E_LIMIT;
	for (int i = 0; i < 100 && a1 == E_LIMIT; i++)
		if ((a1 = block_attach(one.published, "c3", &s3, &pages)) == E_LIMIT)
			clock_nap(1);
	long a2 = block_attach(one.published, "c4", &s4, &pages);
	long a3 = block_attach(one.published, "c5", &s5, &pages), a4 = block_attach(one.published, "c6", &s6, &pages);
	tap_ok(!a1 && !a2 && !a3 && a4 == E_LIMIT, "four clients fit, a fifth gets E_LIMIT (%ld %ld %ld %ld)", a1, a2,
	       a3, a4);
	err = block_attach(one.published, "c5", &s6, &pages);
	tap_eq(err, E_LIMIT, "a name in use is only a name: attaching under it ends no one's session");
	memset(one.buf, 0, 512);
	err = block_read(one.session, 1000, 1, 0);
	tap_ok(!err && pattern_check(one.buf, 7, 1000, 1) < 0, "and the driver still serves the first client");
	tap_done();
}
