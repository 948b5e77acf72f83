/* The virtio-blk driver's sessions end with their clients (issue 17).
 * A client holding a session with a read in flight is killed by init
 * six times, more than the driver's four sessions; each new instance
 * attaches under a new name and still gets one.  Then, the holder
 * stopped, the test attaches four sessions (the whole table: nothing of
 * the dead clients is left) and a fifth is refused; a session dropped
 * without detach (its right deleted) frees its slot, and the client's
 * copies of the buffer are revoked; a detached session's right is
 * revoked; and the driver still reads and writes right. */
// test-root: build/init.elf
// test-module: tests/system/manifests/virtio_blk_sessions.manifest
// test-module: build/pci.elf
// test-module: build/virtio_blk.elf
// test-module: build/tests/system/progs/blk_holder.elf
// test-disk: a 4096 1
// test-disk-check: a 2048 16 5
// test-qemu: -drive if=none,id=da,format=raw,file={disk:a},throttling.iops-total=400 -device virtio-blk-pci,disable-legacy=on,drive=da,addr=4
// test-expect: blk-holder: 'holder-[0-9a-f]+' attached \(0\)
// test-expect: virtio-blk: session \d \('holder-[0-9a-f]+'\) ended \(the client is gone\)
// test-timeout: 180
#include "tap.h"
#include "block.h"
#include "init.h"
#include "blk_client.h"
#include "disk_pattern.h"

#define INIT 8
#define KILLS 6          /* more than the driver's MAX_CLIENTS (4) */
#define TABLE 4

static struct blk_client me = { .disk = "blk0", .name = "tester", .vaddr = 0x40000000 };

/* Wait up to ms for the name to be published (1) or gone (0). */
static int wait_name(const char *name, int published, unsigned ms)
{
	uint64_t t0 = clock_ms();
	for (;;) {
		uint64_t port;
		long err = init_lookup(INIT, name, &port);
		if (!err) {
			sys_cnode_delete(port);
			slot_free(port);
		}
		if ((err == E_OK) == published)
			return 1;
		if (clock_ms() - t0 > ms)
			return 0;
		clock_nap(1);
	}
}

/* attach, waiting up to a second for a slot whose client is gone (its
 * no-senders is handled by the session's thread, a moment after) */
static long attach_waiting(uint64_t published, const char *name, uint64_t *session)
{
	uint32_t pages;
	long err = E_LIMIT;
	for (int i = 0; i < 100 && err == E_LIMIT; i++) {
		err = block_attach(published, name, session, &pages);
		if (err == E_LIMIT)
			clock_nap(1);
	}
	return err;
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(9);
	int held = 0;
	for (int k = 0; k < KILLS; k++) {
		if (!wait_name("blk-holder", 1, 20000))
			break;
		clock_nap(5); /* into its reads */
		if (init_kill(INIT, "holder") != E_OK || !wait_name("blk-holder", 0, 5000))
			break;
		held++;
	}
	tap_eq(held, KILLS, "a holder killed with a read in flight, %d times", KILLS);
	tap_ok(wait_name("blk-holder", 1, 20000), "its next instance still got a session");
	tap_eq(init_stop(INIT, "holder"), E_OK, "the holder is stopped");

	long err = blk_connect(&me);
	for (int i = 0; err == E_LIMIT && i < 100; i++) {
		blk_forget(&me);
		clock_nap(1);
		err = blk_connect(&me);
	}
	uint64_t s[TABLE] = { 0 }, extra = 0; /* s[0] is me.session */
	long a1 = err ? err : attach_waiting(me.published, "t1", &s[1]);
	long a2 = a1 ? a1 : attach_waiting(me.published, "t2", &s[2]);
	long a3 = a2 ? a2 : attach_waiting(me.published, "t3", &s[3]);
	uint32_t pages;
	long a4 = block_attach(me.published, "t4", &extra, &pages);
	tap_ok(!err && !a1 && !a2 && !a3 && a4 == E_LIMIT,
	       "then four sessions of ours fit, the whole table, and a fifth gets E_LIMIT (%ld %ld %ld %ld %ld)", err,
	       a1, a2, a3, a4);

	/* a session dropped without detach: its slot and buffer come back */
	uint64_t frame = 0;
	err = block_buffer_frame(s[3], 0, &frame);
	sys_cnode_delete(s[3]);
	slot_free(s[3]);
	s[3] = 0;
	long again = attach_waiting(me.published, "t5", &s[3]);
	tap_ok(!err && !again, "a session dropped without detach frees its slot (%ld %ld)", err, again);
	tap_ok(frame && cspace_slot_type(frame) == OBJ_NONE, "and the driver revoked our copy of its buffer");

	/* detach: the right is revoked, the slot comes back */
	err = block_detach(s[2]);
	long after = block_read(s[2], 0, 1, 0);
	again = attach_waiting(me.published, "t6", &extra);
	tap_ok(!err && after == E_BAD_CAP && !again,
	       "a detached session's right is gone (%ld) and its slot is free again (%ld %ld)", after, err, again);

	/* and the driver serves: a write, a flush, reads back (the runner
	 * checks the image afterwards) */
	pattern_fill(me.buf, 5, 2048, 16);
	err = block_write(me.session, 2048, 16, 0);
	err = err ? err : block_flush(me.session);
	memset(me.buf, 0, 16 * 512);
	err = err ? err : block_read(me.session, 2048, 16, 0);
	tap_ok(!err && pattern_check(me.buf, 5, 2048, 16) < 0, "the driver reads and writes right (%ld)", err);
	memset(me.buf, 0, 16 * 512);
	err = block_read(me.session, 0, 1, 0);
	tap_ok(!err && pattern_check(me.buf, 1, 0, 1) < 0, "a sector the holders read holds what the runner wrote");
	tap_done();
}
