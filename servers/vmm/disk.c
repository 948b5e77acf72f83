/*
 * The guest's disk: a virtio-blk device (virtio_blk.c) whose sectors are
 * a file on Berth's file system (`disk=PATH`), as a Xen guest's disk is a
 * file its driver domain serves.  docs/guest-io.md tells the whole path.
 *
 * The file system is another process and a request can take long (a
 * cold read goes to the disk), while the VCPU's exits must keep being
 * served.  So a worker thread of ours makes the fs calls and the main
 * loop only hands it requests and takes back the results:
 *
 *   main loop                         worker
 *   virtio_blk -> backend read/write/flush
 *     job into `submit`, sys_notify --> fs_read_at / fs_write_at / fs_fsync
 *                                       job into `done`, DISK_BIT
 *   DISK_BIT: virtio_blk_complete <--
 *
 * The data crosses a 64 KiB buffer the fs server shares with us
 * (fs.idl's buffer_attach): the worker copies between it and the guest's
 * buffers, and one call moves up to 64 KiB.  The two rings each have one
 * writer, so they need no lock; the worker allocates nothing (libipc's
 * slot allocator is not thread-safe), which is why only the main loop
 * looks the fs server up again, and only while no job is with the worker.
 *
 * The buffer is the fs server's memory: when it dies, the frames vanish
 * from our space, perhaps while the worker copies.  The worker's faults
 * come to our port (DISK_FAULT_BADGE); a fault inside the buffer restarts
 * the worker at worker_recover, which hands its job back as "fs gone"
 * (as an error return would have).  Any other fault of the worker is a
 * bug of ours and stops it, with a line on the console.
 *
 * When the fs server dies (a call fails with E_NO_REPLY, E_DEAD_PORT or
 * E_BAD_CAP) the job comes back marked so; the main loop looks "fs" up and
 * opens the file again, every 100 ms for up to DISK_RETRY_MS, and sends
 * the jobs again: the guest sees a disk that stalled.  After that they
 * fail with an I/O error.  Writes the fs server had acknowledged but not
 * yet written back die with it, as a disk's volatile cache does in a power
 * cut; the guest is told at its next flush, which then fails, so a flush
 * that succeeds always means every write acknowledged before it is on the
 * disk.
 */
#include "vm.h"
#include "virtio_blk.h"
#include "acpi.h"
#include "fs.h"
#include "fs_files.h"
#include "init.h"
#include "fsbuf.h"

#define INIT_SLOT 8
#define DISK_SLOT 2                   /* its PCI slot: 00:02.0 */
#define DISK_BAR_GPA 0xfe000000UL      /* where "firmware" put BAR 4 (in the _CRS window) */
#define DISK_RETRY_MS 10000
#define DISK_JOBS (VBLK_QUEUE_SIZE + 1) /* one per request, and the retry nap */
#define NAP_JOB VBLK_QUEUE_SIZE
#define RING 128                       /* a power of two >= DISK_JOBS: indexes wrap cleanly */
#define DISK_BUF_BYTES FSBUF_BYTES

enum job_op { JOB_READ, JOB_WRITE, JOB_FLUSH, JOB_NAP };
enum job_result { JOB_OK, JOB_IOERR, JOB_FS_GONE };

struct job {
	struct vblk_req *req;
	uint8_t op, result;
	uint8_t waiting;               /* for the fs server to come back */
	uint64_t sector;
	const struct vblk_iov *iov;
	unsigned niov;
	uint64_t fs, session;          /* the fs server, our buffer and the file, as the job was sent */
	uint32_t ino;
	uint64_t acked_before;         /* flush: writes acknowledged when it was sent */
	uint64_t since_ms;             /* when the fs server was first found gone */
	long status;                   /* the failed call's, for the report */
};

static struct {
	int present;
	struct virtio_blk blk;
	char path[128];
	uint64_t fs, fs_slot;          /* our right to the fs server (0: none now) */
	struct fsbuf buf;              /* our buffer's session with it, and its frames */
	uint32_t ino;
	uint64_t bytes;
	struct job jobs[DISK_JOBS];
	/* job indexes; each ring has one writer */
	uint32_t submit[RING], submit_head, submit_tail;  /* main -> worker */
	uint32_t done[RING], done_head, done_tail;        /* worker -> main */
	uint64_t wake;                 /* send right to the worker's port */
	uint64_t to_main;              /* send right to our main port */
	uint64_t worker_port, worker_tcb;
	uint32_t current;              /* the job the worker runs */
	unsigned in_flight;            /* jobs with the worker (the nap too) */
	int napping;
	uint64_t acked_writes;         /* writes acknowledged to the guest */
	uint64_t flushed_writes;       /* of those, the ones a successful flush covered */
	int lost;                      /* acknowledged writes may have died with an fs server */
	const char *said;              /* the device's last error, reported */
	uint64_t reads, writes, flushes, errors, retries;
	uint64_t guest_errors;         /* times the guest broke the device */
} disk;

static uint8_t worker_stack[16384] __attribute__((aligned(16)));

static void ring_put(uint32_t *ring, uint32_t *tail, uint32_t job)
{
	uint32_t t = __atomic_load_n(tail, __ATOMIC_RELAXED);
	ring[t % RING] = job;
	__atomic_store_n(tail, t + 1, __ATOMIC_RELEASE);
}

static int ring_take(const uint32_t *ring, uint32_t *head, const uint32_t *tail, uint32_t *job)
{
	uint32_t h = __atomic_load_n(head, __ATOMIC_RELAXED);
	if (h == __atomic_load_n(tail, __ATOMIC_ACQUIRE))
		return 0;
	*job = ring[h % RING];
	__atomic_store_n(head, h + 1, __ATOMIC_RELEASE);
	return 1;
}

/* --- the worker ------------------------------------------------------ */

/* Copy between the shared buffer and the request's segments, bytes
 * [from, from + n) of the request. */
static void copy_segments(const struct job *j, uint64_t from, uint64_t n, int to_guest)
{
	uint8_t *buf = (uint8_t *)DISK_BUF_VA;
	uint64_t pos = 0;
	for (unsigned s = 0; s < j->niov && n; s++) {
		uint64_t len = j->iov[s].len;
		if (from >= pos + len) {
			pos += len;
			continue;
		}
		uint64_t skip = from - pos, take = len - skip < n ? len - skip : n;
		uint8_t *g = (uint8_t *)j->iov[s].base + skip;
		if (to_guest)
			memcpy(g, buf, take);
		else
			memcpy(buf, g, take);
		buf += take;
		from += take;
		n -= take;
		pos += len;
	}
}

/* Move one request's bytes, 64 KiB per call.  E_OK, an fs status, or a
 * kernel error. */
static long job_transfer(struct job *j)
{
	uint64_t total = 0;
	for (unsigned s = 0; s < j->niov; s++)
		total += j->iov[s].len;
	/* A short count is not an error (the next call says if there is
	 * one); none at all is: the file ended under us. */
	for (uint64_t done = 0; done < total;) {
		uint32_t n = total - done > DISK_BUF_BYTES ? DISK_BUF_BYTES : (uint32_t)(total - done), got = 0;
		long err;
		if (j->op == JOB_READ) {
			err = fs_read_at(j->session, j->ino, j->sector * 512 + done, n, 0, &got);
			if (!err && got)
				copy_segments(j, done, got < n ? got : n, 1);
		} else {
			copy_segments(j, done, n, 0);
			err = fs_write_at(j->session, j->ino, j->sector * 512 + done, n, 0, &got);
		}
		if (!err && (!got || got > n))
			err = E_RANGE;
		if (err) {
			j->status = err;
			return err;
		}
		done += got;
	}
	return E_OK;
}

static void job_run(struct job *j)
{
	struct msg m;
	long err = E_OK;
	switch (j->op) {
	case JOB_READ:
	case JOB_WRITE:
		err = job_transfer(j);
		break;
	case JOB_FLUSH:
		err = j->status = fs_fsync(j->fs, j->ino);
		break;
	case JOB_NAP: /* the main loop wants to try the fs server again later */
		sys_notify_after(disk.worker_port, 1, 10);
		ipc_recv(disk.worker_port, 0, &m);
		break;
	}
	j->result = !err ? JOB_OK : fs_gone(err) ? JOB_FS_GONE : JOB_IOERR;
}

static void worker(uint64_t arg)
{
	(void)arg;
	for (;;) {
		uint32_t k;
		int any = 0;
		while (ring_take(disk.submit, &disk.submit_head, &disk.submit_tail, &k)) {
			disk.current = k;
			job_run(&disk.jobs[k]);
			ring_put(disk.done, &disk.done_tail, k);
			any = 1;
		}
		if (any)
			sys_notify(disk.to_main, DISK_BIT);
		struct msg m;
		ipc_recv(disk.worker_port, 0, &m);
	}
}

/* Where the main loop restarts the worker after it faulted in the
 * buffer (the fs server died under the copy): its job failed as if a call
 * had said so. */
static void worker_recover(uint64_t arg)
{
	(void)arg;
	disk.jobs[disk.current].result = JOB_FS_GONE;
	ring_put(disk.done, &disk.done_tail, disk.current);
	sys_notify(disk.to_main, DISK_BIT);
	worker(0);
}

/* --- the main loop's side --------------------------------------------- */

static void job_send(uint32_t k)
{
	struct job *j = &disk.jobs[k];
	j->fs = disk.fs;
	j->session = disk.buf.session;
	j->ino = disk.ino;
	j->waiting = 0;
	disk.in_flight++;
	ring_put(disk.submit, &disk.submit_tail, k);
	sys_notify(disk.wake, 1);
}

static void job_start(struct vblk_req *req, enum job_op op, uint64_t sector, const struct vblk_iov *iov,
                      unsigned niov)
{
	uint32_t k = (uint32_t)(req - disk.blk.reqs);
	struct job *j = &disk.jobs[k];
	j->req = req;
	j->op = (uint8_t)op;
	j->sector = sector;
	j->iov = iov;
	j->niov = niov;
	j->since_ms = 0;
	j->acked_before = disk.acked_writes;
	if (!disk.fs) { /* still looking for the fs server: wait with the others */
		j->waiting = 1;
		j->since_ms = clock_ms();
		return;
	}
	job_send(k);
}

static void blk_read(void *ctx, struct vblk_req *req, uint64_t sector, const struct vblk_iov *iov, unsigned niov)
{
	(void)ctx;
	disk.reads++;
	job_start(req, JOB_READ, sector, iov, niov);
}

static void blk_write(void *ctx, struct vblk_req *req, uint64_t sector, const struct vblk_iov *iov, unsigned niov)
{
	(void)ctx;
	disk.writes++;
	job_start(req, JOB_WRITE, sector, iov, niov);
}

static void blk_flush(void *ctx, struct vblk_req *req)
{
	(void)ctx;
	disk.flushes++;
	job_start(req, JOB_FLUSH, 0, 0, 0);
}

static const struct vblk_backend_ops file_ops = { blk_read, blk_write, blk_flush };

/* Find the fs server, the file and a shared buffer.  E_OK or why not.
 * Only while no job is with the worker: it would use what goes here. */
static long disk_connect(void)
{
	fsbuf_unmap(&disk.buf);
	cap_drop(&disk.fs_slot);
	disk.fs = 0;
	uint64_t fs;
	long err = init_lookup(INIT_SLOT, "fs", &fs);
	if (err)
		return err;
	disk.fs_slot = fs;
	uint32_t ino, kind;
	uint64_t size;
	err = fs_open(fs, disk.path, 0, 0, &ino, &kind, &size);
	if (!err && kind != 1)
		err = FS_ERRNO_BASE + 21; /* EISDIR: not a regular file */
	if (err)
		return err;
	if (disk.bytes && size < disk.bytes)
		return FS_ERRNO_BASE + 5; /* it shrank: the guest's disk would too */
	char client[32];
	debug_snprintf(client, sizeof(client), "vmm %s", vm_name[0] ? vm_name : "disk");
	disk.buf.va = DISK_BUF_VA;
	if ((err = fsbuf_attach(&disk.buf, fs, client)))
		return err;
	disk.fs = fs;
	disk.ino = ino;
	disk.bytes = disk.bytes ? disk.bytes : size;
	return E_OK;
}

/* The fs server was lost: note what that may have cost, and wait for it. */
static void fs_lost(void)
{
	if (disk.fs) {
		debug_printf("vmm: %sdisk %s: the file system went away; waiting for it\n", vm_name, disk.path);
		if (disk.acked_writes != disk.flushed_writes)
			disk.lost = 1;
		disk.fs = 0;
	}
}

static void complete(struct job *j, uint8_t status)
{
	if (status != VIRTIO_BLK_S_OK)
		disk.errors++;
	else if (j->op == JOB_WRITE)
		disk.acked_writes++;
	virtio_blk_complete(&disk.blk, j->req, status);
}

/* A flush that succeeded is a promise about every write acknowledged
 * before it; if some of those may have died with an fs server, it fails
 * (once: the guest has been told). */
static void complete_flush(struct job *j)
{
	uint8_t status = VIRTIO_BLK_S_OK;
	if (disk.lost) {
		disk.lost = 0;
		debug_printf("vmm: %sdisk %s: writes may have been lost with the file system: the flush fails\n",
		             vm_name, disk.path);
		status = VIRTIO_BLK_S_IOERR;
	}
	disk.flushed_writes = j->acked_before;
	complete(j, status);
}

/* Try the fs server again; send the waiting jobs, fail the too old ones. */
static void retry_waiting(void)
{
	uint64_t now = clock_ms();
	int any = 0;
	for (uint32_t k = 0; k < VBLK_QUEUE_SIZE; k++)
		any |= disk.jobs[k].waiting;
	if (!any)
		return;
	if (!disk.fs && !disk.in_flight && disk_connect() == E_OK)
		debug_printf("vmm: %sdisk %s: the file system is back\n", vm_name, disk.path);
	for (uint32_t k = 0; k < VBLK_QUEUE_SIZE; k++) {
		struct job *j = &disk.jobs[k];
		if (!j->waiting)
			continue;
		if (disk.fs) {
			disk.retries++;
			job_send(k);
		} else if (now - j->since_ms > DISK_RETRY_MS) {
			j->waiting = 0;
			complete(j, VIRTIO_BLK_S_IOERR);
		}
	}
	if (!disk.fs && !disk.napping) { /* look again in 100 ms */
		disk.napping = 1;
		disk.in_flight++;
		disk.jobs[NAP_JOB].op = JOB_NAP;
		ring_put(disk.submit, &disk.submit_tail, NAP_JOB);
		sys_notify(disk.wake, 1);
	}
}

/* The guest broke the device's rules (virtio_pci.h): say so once per
 * breakage, and only the first few times: a guest that breaks and resets
 * the device in a loop must not flood the console. */
#define ERROR_REPORTS 8

void disk_report(void)
{
	if (!disk.present || disk.blk.vp.error == disk.said)
		return;
	disk.said = disk.blk.vp.error;
	if (!disk.said)
		return;
	disk.guest_errors++;
	if (disk.guest_errors <= ERROR_REPORTS)
		debug_printf("vmm: %sdisk %s: the guest's driver broke the device (%s); it needs a reset\n", vm_name,
		             disk.path, disk.said);
	if (disk.guest_errors == ERROR_REPORTS)
		debug_printf("vmm: %sdisk %s: no more reports of the guest breaking the device\n", vm_name,
		             disk.path);
}

void disk_completions(void)
{
	if (!disk.present)
		return;
	uint32_t k;
	while (ring_take(disk.done, &disk.done_head, &disk.done_tail, &k)) {
		struct job *j = &disk.jobs[k];
		disk.in_flight--;
		if (k == NAP_JOB) {
			disk.napping = 0;
			continue;
		}
		if (j->result == JOB_FS_GONE) {
			if (j->fs == disk.fs || !disk.fs)
				fs_lost();
			j->waiting = 1;
			if (!j->since_ms)
				j->since_ms = clock_ms();
			continue;
		}
		if (j->result == JOB_IOERR) {
			if (disk.errors < ERROR_REPORTS)
				debug_printf("vmm: %sdisk %s: a %s failed (status %ld); the guest gets an I/O error\n",
				             vm_name, disk.path, j->op == JOB_READ ? "read" : j->op == JOB_WRITE ? "write" : "flush",
				             j->status);
			complete(j, VIRTIO_BLK_S_IOERR);
		}
		else if (j->op == JOB_FLUSH)
			complete_flush(j);
		else
			complete(j, VIRTIO_BLK_S_OK);
	}
	retry_waiting();
	disk_report();
}

/* A fault of the worker (LABEL_FAULT, badge DISK_FAULT_BADGE): 1 if it
 * was in the shared buffer and the worker is set to recover (reply to
 * resume it), 0 if not (leave it stopped). */
int disk_worker_fault(const struct msg *m)
{
	uint64_t addr = m->w[1];
	if (m->w[0] != 14 || !fsbuf_holds(&disk.buf, addr)) {
		debug_printf("vmm: %sdisk: the worker thread faulted (vector %lu at %lx, rip %lx); the disk stops\n",
		             vm_name, m->w[0], addr, m->w[2]);
		return 0;
	}
	uint64_t top = ((uint64_t)worker_stack + sizeof(worker_stack)) & ~15UL;
	return sys_tcb_set_regs(disk.worker_tcb, (uint64_t)worker_recover, top - 8, 0) == E_OK;
}

/* --- the device on the VM's bus ---------------------------------------- */

static void *disk_guest_ptr(void *ctx, uint64_t gpa, size_t n)
{
	(void)ctx;
	return guest_ptr(gpa, n);
}

static void disk_irq(void *ctx, int level)
{
	(void)ctx;
	ioapic_set_irq(&vm.ioapic, ACPI_PCI_GSI(DISK_SLOT, 0), level);
}

void disk_power_on(void)
{
	if (disk.present)
		virtio_place(&disk.blk.vp, DISK_SLOT, DISK_BAR_GPA);
}

/* `disk=PATH`: a file of the file system as the guest's disk.  0 without
 * one; E_OK with the device made; an error (said on the console) if the
 * file cannot be the guest's disk. */
long disk_setup(const char *args, uint64_t main_port)
{
	size_t len;
	const char *path = arg_value(args, "disk=", &len);
	if (!path)
		return E_OK;
	if (!len || len >= sizeof(disk.path)) {
		debug_printf("vmm: %sdisk= needs a path of 1 to %zu characters\n", vm_name, sizeof(disk.path) - 1);
		return E_BAD_ARG;
	}
	memcpy(disk.path, path, len);
	disk.path[len] = 0;
	long err = disk_connect();
	if (err) {
		debug_printf("vmm: %sdisk %s: %s\n", vm_name, disk.path,
		             err >= FS_ERRNO_BASE ? strerror((int)(err - FS_ERRNO_BASE))
		                                  : "there is no file system (the fs server is not running)");
		return E_BAD_ARG;
	}
	if (disk.bytes < 512 || disk.bytes % 512) {
		debug_printf("vmm: %sdisk %s: %lu bytes is not a whole number of 512-byte sectors\n", vm_name,
		             disk.path, disk.bytes);
		return E_BAD_ARG;
	}
	uint64_t faults = slot_alloc();
	disk.wake = slot_alloc();
	disk.to_main = slot_alloc();
	err = object_alloc(OBJ_PORT, 0, &disk.worker_port);
	err = err ? err : sys_cnode_mint(disk.worker_port, CAP_ROOT_CNODE, disk.wake, RIGHT_SEND, 0);
	err = err ? err : sys_cnode_mint(main_port, CAP_ROOT_CNODE, disk.to_main, RIGHT_SEND, 0);
	err = err ? err : sys_cnode_mint(main_port, CAP_ROOT_CNODE, faults, RIGHT_SEND, DISK_FAULT_BADGE);
	/* it runs below us (priority 100 < 120): configured before it starts */
	err = err ? err : thread_create(worker, 0, worker_stack, sizeof(worker_stack), 100, &disk.worker_tcb);
	err = err ? err : sys_tcb_configure(disk.worker_tcb, 0, 0, faults);
	if (err) {
		debug_printf("vmm: %sdisk %s: no worker thread (error %ld)\n", vm_name, disk.path, err);
		return err;
	}
	struct vblk_backend backend = { &file_ops, 0, disk.bytes / 512, 0 };
	virtio_blk_init(&disk.blk, &backend, disk.path);
	virtio_pci_set_memory(&disk.blk.vp, disk_guest_ptr, 0);
	virtio_pci_set_irq(&disk.blk.vp, disk_irq, 0);
	disk.present = 1;
	debug_printf("vmm: %sdisk %s: %lu KiB as virtio-blk at 00:%02x.0\n", vm_name, disk.path, disk.bytes >> 10,
	             DISK_SLOT);
	return E_OK;
}

/* The guest powered off: what it wrote goes to the disk, as QEMU flushes
 * an image it closes. */
void disk_close(void)
{
	if (disk.present && disk.fs)
		fs_fsync(disk.fs, disk.ino);
}

uint64_t disk_requests(void)
{
	return disk.reads + disk.writes + disk.flushes;
}

/* --- snapshots (snapshot.c) ------------------------------------------- */

struct virtio_pci *disk_transport(void)
{
	return disk.present ? &disk.blk.vp : 0;
}

/* No request of the guest's is with us or the fs server: a snapshot of
 * the device's queues is then the whole of its state. */
int disk_idle(void)
{
	if (!disk.present)
		return 1;
	for (unsigned i = 0; i < VBLK_QUEUE_SIZE; i++)
		if (disk.blk.reqs[i].state != VBLK_FREE)
			return 0;
	return disk.in_flight == (disk.napping ? 1u : 0u);
}
