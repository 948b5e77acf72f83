/* Killing the virtio-blk driver during a write workload.  A thread
 * writes 64 records of 8 sectors, each acknowledged write counted; the
 * writer, after 20 acknowledged, wakes the main thread (below its
 * priority) and sends its next write: the main thread runs while that
 * write is in flight (the drive is throttled, so the device holds it)
 * and has init kill the driver.  (A client's mapping of the driver's
 * buffer dies with the driver, so touching it then would fault: the
 * writer re-attaches before it touches the buffer again; see
 * docs/drivers.md.)  The
 * writer's request in flight (or its next) fails with an error it can
 * retry; it looks the disk up again once init restarted the driver,
 * attaches, maps the new buffer and goes on.  Every record acknowledged
 * before the kill reads back intact from the new driver, and after QEMU
 * ends the runner finds all 64 in the image. */
// test-root: build/init.elf
// test-module: tests/system/manifests/virtio_blk_restart.manifest
// test-module: build/pci.elf
// test-module: build/virtio_blk.elf
// test-disk: a 4096 1
// test-disk: b 4096 2
// test-disk-check: a 2048 512 9
// test-qemu: -drive if=none,id=da,format=raw,file={disk:a},throttling.iops-total=20 -device virtio-blk-pci,disable-legacy=on,drive=da,addr=4
// test-qemu: -drive if=none,id=db,format=raw,file={disk:b} -device virtio-blk-pci,disable-legacy=on,drive=db,addr=8
// test-expect: init: 'blk0' was killed; restarting it
// test-expect: pci: 00:04.0 released by 'blk0'
// test-timeout: 120
#include "tap.h"
#include "tasks.h"
#include "block.h"
#include "init.h"
#include "blk_client.h"
#include "disk_pattern.h"

#define INIT 8
#define FIRST 2048
#define RECORDS 64

static struct blk_client c = { .disk = "blk0", .name = "writer", .vaddr = 0x40000000 };
static volatile int acked, retries, reconnects, gave_up, killed, seen_kill;
static volatile long first_error, connect_error;
static _Alignas(16) uint8_t stack[16384];
static uint64_t park, wake, wake_send;

static int retryable(long err)
{
	return err == E_NO_REPLY || err == E_DEAD_PORT || err == E_BAD_CAP;
}

static void writer(uint64_t arg)
{
	(void)arg;
	for (int k = 0; k < RECORDS && !gave_up;) {
		if (killed && !seen_kill && k > 20) {
			/* the old buffer is gone with the old driver */
			seen_kill = 1;
			blk_forget(&c);
			if ((connect_error = blk_connect(&c)) == E_OK)
				reconnects++;
		}
		pattern_fill(c.buf, 9, FIRST + k * 8, 8);
		if (k == 20 && !killed) {
			killed = 1;
			sys_notify(wake_send, 1);
		}
		long err = block_write(c.session, FIRST + k * 8, 8, 0);
		if (err == E_OK) {
			acked = ++k;
			continue;
		}
		if (!first_error)
			first_error = err;
		if (!retryable(err) || retries++ > 5) {
			gave_up = 1;
			break;
		}
		/* the driver is gone: the new instance, a new buffer */
		if (!seen_kill) {
			seen_kill = 1;
			blk_forget(&c);
			if (blk_connect(&c) == E_OK)
				reconnects++;
		}
	}
	if (!gave_up)
		gave_up = block_flush(c.session) != E_OK;
	acked = acked | 0x1000; /* done */
	/* park (above the main thread's priority, a yield loop would starve it) */
	struct msg m;
	for (;;)
		ipc_recv(park, 0, &m);
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(7);
	tap_eq(blk_connect(&c), E_OK, "attached to blk0");
	uint64_t tcb;
	/* the manifest gives us 110; the main thread steps down to 100 */
	long err = sys_tcb_set_priority(CAP_ROOT_TCB, 100, 110);
	err = err ? err : object_alloc(OBJ_PORT, 0, &park);
	err = err ? err : object_alloc(OBJ_PORT, 0, &wake);
	wake_send = slot_alloc();
	err = err ? err : sys_cnode_mint(wake, CAP_ROOT_CNODE, wake_send, RIGHT_SEND, 0);
	err = err ? err : thread_create(writer, 0, stack, sizeof(stack), 110, &tcb);
	if (err)
		tap_done(); /* the plan's count fails the run */
	struct msg m;
	ipc_recv(wake, 0, &m);
	struct thread_info ti = { 0 };
	sys_tcb_info(tcb, &ti);
	debug_printf("restart-test: the writer is %s\n", ti.state == THREAD_BLOCKED_REPLY ? "waiting for its write" : "not in a call");
	int before = acked & 0xfff;
	tap_eq(init_kill(INIT, "blk0"), E_OK, "init kills the driver while a write is in flight, after %d acknowledged",
	       before);
	while (!(acked & 0x1000))
		sys_yield();
	tap_ok(first_error && retryable(first_error), "the writer's write in flight failed with an error to retry (%ld)",
	       first_error);
	tap_ok(reconnects >= 1 && !gave_up, "it reconnected to the restarted driver and finished (%d reconnects, %ld)",
	       reconnects, connect_error);
	tap_eq(acked & 0xfff, RECORDS, "all records acknowledged in the end");
	/* read back from the new driver, through the writer's new buffer */
	long bad = -1, errs = 0;
	for (int k = 0; k < RECORDS; k++) {
		memset(c.buf, 0, 8 * 512);
		if (block_read(c.session, FIRST + k * 8, 8, 0))
			errs++;
		else if (pattern_check(c.buf, 9, FIRST + k * 8, 8) >= 0 && bad < 0)
			bad = k;
	}
	tap_ok(errs == 0 && bad < 0 && before >= 20,
	       "the %d records acknowledged before the kill, and the rest, read back intact (first bad %ld)", before,
	       bad);
	uint32_t restarts = 0;
	task_find("blk0", 0, &restarts, 0);
	tap_eq(restarts, 1, "init restarted blk0 once");
	tap_done();
}
