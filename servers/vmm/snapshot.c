/* Snapshots: a running VM saved to a file of the fs server, and a VM
 * started from one (docs/lifecycle.md).
 *
 * When.  The VM is saved at a moment its VCPU waits on us: parked in
 * HLT (at once), or else at its next exit, after we handled it and
 * before we answer (control.c asks; main.c calls snapshot_at_exit).  The
 * VCPU is then still, and its registers are the ones our answer gives
 * it.  The guest pauses for the save: its time does not stop, so it
 * sees the pause as time that passed.
 *
 * What.  Sections of the container (snapfile.h): CONF (the VMM's
 * arguments, so the restored VM gets the same devices), TIME (the VM's
 * time and TSC), VCPU (every field of <berth/vcpu.h> that can be read,
 * the FPU's FXSAVE area among them), each device model's (snapdev.h),
 * MISC (the VMM's own: interrupt lines, MTRR default, test registers),
 * then RAM (a bitmap of the pages that are not all zero, and those
 * pages).  A disk's requests are let finish first; the disk's contents
 * are its file's, not the snapshot's.
 *
 * Restoring.  The VMM started with restore=PATH reads the header for the
 * RAM size, builds the VM as usual with the snapshot's arguments, checks
 * the whole file and every device's state before applying any, then
 * loads them instead of booting a guest.
 *
 * The file.  Its bytes go through a buffer the fs server shares with us
 * (fsbuf.h), 64 KiB an fs call, where the C library's files took 448
 * bytes a call.  Writing, the container's bytes gather in `stage`, our
 * own memory, and each 64 KiB go to the shared buffer and then the file;
 * reading, 64 KiB of the file come into the shared buffer and on to
 * `stage`, from which the reader takes what it asks for.  The shared
 * buffer is the fs server's memory and vanishes if it dies, so we never
 * touch it ourselves: safe_copy's copier thread does (its faults come
 * back to us as messages), and a fault or a failed call ends the
 * snapshot or the restore with a line saying the file system went away,
 * while the VMM goes on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include "vm.h"
#include "snapfile.h"
#include "snapdev.h"
#include "fs_files.h"
#include "fsbuf.h"
#include "safe_copy.h"
#include "fs.h"      /* generated from idl/fs.idl */
#include "init.h"
#include "vmm.h"     /* generated from idl/vmm.idl: the reply's label */

#define INIT_SLOT 8
#define VCPU_SECTION_VERSION 1
#define TIME_SECTION_VERSION 1
#define MISC_SECTION_VERSION 1
#define RAM_SECTION_VERSION 1
#define BALLOON_SECTION_VERSION 1
#define CONF_SECTION_VERSION 1
#define PAGE 4096UL

static char conf_args[128];        /* the VMM's own arguments (main.c) */

static int pending;                 /* a save waits for the VCPU's next exit */
static char pending_path[201];
static uint64_t pending_reply;      /* the requester's reply right */
struct snapshot_result {
	long err;
	uint64_t bytes, pause_us;
};

const char *snapshot_args(void)
{
	return conf_args;
}

void snapshot_set_args(const char *args)
{
	size_t n = strlen(args);
	n = n < sizeof(conf_args) - 1 ? n : sizeof(conf_args) - 1;
	memcpy(conf_args, args, n);
	conf_args[n] = 0;
}

/* --- the file, through the fs server's shared buffer ----------------- */

static struct {
	uint64_t fs;                /* our right to the fs server (0: none) */
	uint32_t ino;
	uint64_t size;              /* as it was opened */
	struct fsbuf buf;
	uint64_t at, len;           /* stage holds the file's bytes [at, at + len) */
	long status;                /* the first failure: an fs status or a kernel error */
	uint64_t calls;             /* fs calls that moved data */
} file;
/* FSBUF_BYTES from the heap on first use: static, it would grow the
 * image past the slots init gives a task's pages (servers/init/tasks.c) */
static uint8_t *stage;

/* A failure in words. */
static const char *failure(long status)
{
	if (fs_gone(status))
		return "the file system went away";
	if (status == E_STATE)
		return "the fs server gave our buffer to another client";
	if (status > FS_ERRNO_BASE && status < FS_ERRNO_BASE + 35)
		return strerror((int)(status - FS_ERRNO_BASE));
	return "the fs server answered nonsense";
}

static void file_close(void)
{
	if (file.buf.session)
		fs_buffer_detach(file.buf.session); /* its buffer to other clients */
	fsbuf_unmap(&file.buf);
	cap_drop(&file.fs);
}

/* Open path (create: made or emptied) and a buffer for it: E_OK, or an
 * error after a line saying why (what: "snapshot", "restore"). */
static long file_open(const char *what, const char *path, int create)
{
	char client[32];
	uint32_t kind;
	long err;
	memset(&file, 0, sizeof(file));
	file.buf.va = SNAP_BUF_VA;
	if (!stage && !(stage = malloc(FSBUF_BYTES))) {
		debug_printf("vmm: %s%s %s: no memory for a buffer\n", vm_name, what, path);
		return E_STATE;
	}
	if (init_lookup(INIT_SLOT, "fs", &file.fs)) {
		file.fs = 0;
		debug_printf("vmm: %s%s %s: there is no file system (the fs server is not running)\n", vm_name, what, path);
		return E_STATE;
	}
	err = fs_open(file.fs, path, create ? FS_OPEN_CREATE | FS_OPEN_TRUNC : 0, 0644, &file.ino, &kind, &file.size);
	if (!err && kind != 1)
		err = FS_ERRNO_BASE + FS_EISDIR;
	if (err) {
		debug_printf("vmm: %s%s %s: %s\n", vm_name, what, path,
		             err == FS_ERRNO_BASE + FS_EISDIR ? "it is not a regular file" : failure(err));
		file_close();
		return E_BAD_ARG;
	}
	debug_snprintf(client, sizeof(client), "snap %s", vm_name);
	if ((err = safe_copy_start()) || (err = fsbuf_attach(&file.buf, file.fs, client))) {
		debug_printf("vmm: %s%s %s: no buffer shared with the fs server (%s)\n", vm_name, what, path,
		             failure(err));
		file_close();
		return E_STATE;
	}
	return E_OK;
}

/* The staged bytes into the file: through the shared buffer, one call
 * (or a few, if the server writes less). */
static long stage_flush(void)
{
	if (!file.len || file.status)
		return file.status;
	if (safe_copy((void *)file.buf.va, stage, file.len)) {
		file.status = E_DEAD_PORT;    /* the buffer vanished: its server is gone */
		return file.status;
	}
	for (uint64_t done = 0; done < file.len;) {
		uint32_t got = 0;
		long err = fs_write_at(file.buf.session, file.ino, file.at + done, (uint32_t)(file.len - done),
		                       (uint32_t)done, &got);
		file.calls++;
		if (!err && (!got || got > file.len - done))
			err = FS_ERRNO_BASE + FS_EIO;
		if (err) {
			file.status = err;
			return err;
		}
		done += got;
	}
	file.len = 0;
	return E_OK;
}

static long write_at(void *ctx, uint64_t offset, const void *bytes, size_t n)
{
	(void)ctx;
	const uint8_t *from = bytes;
	while (n) {
		if (file.len && (offset != file.at + file.len || file.len == FSBUF_BYTES) && stage_flush())
			return -EIO;
		if (!file.len)
			file.at = offset;
		size_t take = FSBUF_BYTES - file.len < n ? FSBUF_BYTES - file.len : n;
		memcpy(stage + file.len, from, take);
		file.len += take;
		offset += take;
		from += take;
		n -= take;
	}
	return 0;
}

static long read_at(void *ctx, uint64_t offset, void *bytes, size_t n)
{
	(void)ctx;
	uint8_t *to = bytes;
	while (n) {
		if (offset < file.at || offset >= file.at + file.len) { /* the next 64 KiB from here */
			uint64_t want = file.size - offset < FSBUF_BYTES ? file.size - offset : FSBUF_BYTES;
			uint32_t got = 0;
			file.len = 0;
			file.at = offset;
			if (offset >= file.size || file.status)
				return -EIO;
			long err = fs_read_at(file.buf.session, file.ino, offset, (uint32_t)want, 0, &got);
			file.calls++;
			if (!err && (!got || got > want))
				err = FS_ERRNO_BASE + FS_EIO;
			if (!err && safe_copy(stage, (const void *)file.buf.va, got))
				err = E_DEAD_PORT;
			if (err) {
				file.status = err;
				return -EIO;
			}
			file.len = got;
		}
		uint64_t take = file.at + file.len - offset < n ? file.at + file.len - offset : n;
		memcpy(to, stage + (offset - file.at), take);
		to += take;
		offset += take;
		n -= take;
	}
	return 0;
}

/* --- the VCPU ---------------------------------------------------------- */

/* Every readable field; the general registers, RIP, RFLAGS and the event
 * to inject from the answer to its exit (m), when there is one. */
static void vcpu_read_all(uint64_t *v, const struct msg *m)
{
	for (unsigned f = 0; f < VCPU_FIELD_COUNT; f++) {
		v[f] = 0;
		if (f != VCPU_V_IRQ)   /* write-only: the VMM asks again on restore */
			sys_vcpu_read(vm.vcpu, f, &v[f]);
	}
	if (!m)
		return;
	/* only the words the exit carried (exit_mtd): the others are the
	 * VCPU's, read above */
	uint32_t mtd = exit_mtd(m->w[VMEXIT_W_CODE]);
	for (unsigned r = VCPU_RAX; r <= VCPU_RFLAGS; r++)
		if (mtd & VMEXIT_MTD_REG(r))
			v[r] = m->w[VMEXIT_W_RAX + r];
	v[VCPU_EVENT_INJ] = m->w[VMEXIT_W_INJECT];
}

/* --- the device models ----------------------------------------------- */

typedef const char *(*model_fn)(struct snap_io *io, void *model);

struct model {
	const char *tag;
	uint32_t version;
	model_fn fn;
	void *state;     /* the VMM's instance (0: not in this VM) */
	size_t size;     /* its size, for a scratch copy while checking */
};

static unsigned models(struct model *out)
{
	unsigned n = 0;
	struct virtio_pci *blk = disk_transport(), *net = net_transport(), *bal = balloon_transport();
#define MODEL(t, v, f, s) out[n++] = (struct model){ t, v, (model_fn)(f), s, sizeof(*(s)) }
	MODEL("UART", SNAPDEV_UART_VERSION, snapdev_uart, &vm.uart);
	MODEL("PIC", SNAPDEV_PIC_VERSION, snapdev_pic, &vm.pic);
	MODEL("PIT", SNAPDEV_PIT_VERSION, snapdev_pit, &vm.pit);
	MODEL("RTC", SNAPDEV_RTC_VERSION, snapdev_rtc, &vm.rtc);
	MODEL("LAPIC", SNAPDEV_LAPIC_VERSION, snapdev_lapic, &vm.lapic);
	MODEL("IOAPIC", SNAPDEV_IOAPIC_VERSION, snapdev_ioapic, &vm.ioapic);
	MODEL("PM", SNAPDEV_PM_VERSION, snapdev_pm, &vm.pm);
	MODEL("KBC", SNAPDEV_KBC_VERSION, snapdev_kbc, &vm.kbc);
	MODEL("PVCLOCK", SNAPDEV_PVCLOCK_VERSION, snapdev_pvclock, &vm.pvclock);
	MODEL("PCIHOST", SNAPDEV_PCI_VERSION, snapdev_pci_config, &vm.pci.host_bridge);
	if (blk)
		MODEL("VIRTBLK", SNAPDEV_VIRTIO_VERSION, snapdev_virtio, blk);
	if (net)
		MODEL("VIRTNET", SNAPDEV_VIRTIO_VERSION, snapdev_virtio, net);
	if (bal)
		MODEL("VIRTBAL", SNAPDEV_VIRTIO_VERSION, snapdev_virtio, bal);
#undef MODEL
	return n;
}

/* --- saving ------------------------------------------------------------ */

static uint8_t field_buf[8192];

static void put_model(struct snap_writer *w, const struct model *md)
{
	struct snap_io io = { { field_buf, sizeof(field_buf), 0, 0 }, 0, 0 };
	md->fn(&io, md->state);
	snap_section(w, md->tag, md->version, field_buf, io.b.at);
}

/* The disk's requests finished, the guest waiting, not them (up to 10 s;
 * a nap, so that the disk's worker runs whatever its priority): 0, or -1
 * if they did not. */
int snapshot_disk_settle(void)
{
	static uint64_t nap_port;
	if (!disk_idle() && !nap_port && object_alloc(OBJ_PORT, 0, &nap_port))
		nap_port = 0;
	for (int ticks = 0; !disk_idle() && nap_port && ticks < 1000; ticks++) {
		struct msg nm;
		sys_notify_after(nap_port, 1, 1);
		ipc_recv(nap_port, 0, &nm);
		disk_completions();
	}
	return disk_idle() ? 0 : -1;
}

/* The whole VM into path, the VCPU waiting on us (m: the answer to its
 * exit, 0 if it is parked in HLT). */
static struct snapshot_result save(const char *path, const struct msg *m)
{
	struct snapshot_result res = { 0, 0, 0 };
	uint64_t t0 = rdtsc();
	uart_flush(&vm.uart); /* its output buffer is the VMM's, not the guest's state */
	if (snapshot_disk_settle()) {
		debug_printf("vmm: %ssnapshot: the disk's requests did not finish (is the fs server down?)\n", vm_name);
		res.err = E_STATE;
		return res;
	}
	long err = file_open("snapshot", path, 1);
	if (err) {
		res.err = err;
		return res;
	}
	struct snap_writer w;
	snap_begin(&w, write_at, 0, vm.ram_bytes);
	snapshot_put_state(&w, m);
	uint64_t pages, used;
	snapshot_put_ram(&w, RAM_NONZERO, &pages, &used);
	err = snap_finish(&w);
	if (!file.status && stage_flush() == E_OK && (err = fs_fsync(file.fs, file.ino)))
		file.status = err;
	uint64_t calls = file.calls;
	file_close();
	if (file.status || err) {
		debug_printf("vmm: %ssnapshot %s: writing failed: %s; the file is incomplete: remove it\n", vm_name,
		             path, file.status ? failure(file.status) : "a section's length is wrong");
		res.err = E_STATE;
		return res;
	}
	res.bytes = w.offset;
	res.pause_us = clock_cycles_to_ns(rdtsc() - t0) / 1000;
	uint64_t kib_s = res.bytes * 1000000 / 1024 / (res.pause_us ? res.pause_us : 1);
	debug_printf("vmm: %ssnapshot %s: %lu bytes (%lu of %lu pages in use), the guest paused %lu ms, "
	             "%lu.%02lu MiB/s in %lu calls of the fs server\n", vm_name, path, res.bytes, used, pages,
	             res.pause_us / 1000, kib_s / 1024, kib_s % 1024 * 100 / 1024, calls);
	return res;
}

/* Every section but RAM: the VMM's arguments, time, the VCPU (m: the
 * answer to its exit, 0 if it is parked in HLT), each device model, the
 * VMM's own state.  Also what live migration sends last (migrate.c). */
void snapshot_put_state(struct snap_writer *w, const struct msg *m)
{
	snap_section(w, "CONF", CONF_SECTION_VERSION, conf_args, strlen(conf_args));

	static uint64_t v[VCPU_FIELD_COUNT];
	vcpu_read_all(v, m);
	uint8_t t[16];
	struct snap_buf tb = { t, sizeof(t), 0, 0 };
	snap_put64(&tb, clock_ns());
	snap_put64(&tb, clock_guest_tsc());
	snap_section(w, "TIME", TIME_SECTION_VERSION, t, tb.at);
	struct snap_buf vb = { field_buf, sizeof(field_buf), 0, 0 };
	snap_put32(&vb, VCPU_FIELD_COUNT);
	for (unsigned i = 0; i < VCPU_FIELD_COUNT; i++)
		snap_put64(&vb, v[i]);
	snap_section(w, "VCPU", VCPU_SECTION_VERSION, field_buf, vb.at);

	struct model md[16];
	unsigned n = models(md);
	for (unsigned i = 0; i < n; i++)
		put_model(w, &md[i]);
	if (balloon_transport()) { /* the pages in the balloon (balloon.c) */
		snap_section_begin(w, "BALLOON", BALLOON_SECTION_VERSION, balloon_state_bytes());
		balloon_state_put(w);
	}

	struct snap_buf mb = { field_buf, sizeof(field_buf), 0, 0 };
	snap_put32(&mb, irq_levels());
	snap_put64(&mb, vm.mtrr_def_type);
	snap_put64(&mb, vm.test_reg);
	snap_put64(&mb, vm.test_sum);
	snap_put64(&mb, vm.test_counter);
	snap_putn(&mb, vm.mmio_test, sizeof(vm.mmio_test));
	snap_section(w, "MISC", MISC_SECTION_VERSION, field_buf, mb.at);
}

/* The RAM section's bitmap, one bit per page of the most RAM there can
 * be (96 KiB), from the heap on first use: static, it would grow the
 * image past the slots init gives a task's pages (servers/init/tasks.c). */
static uint8_t *ram_bitmap(void)
{
	static uint8_t *bitmap;
	if (!bitmap)
		bitmap = malloc((GUEST_RAM_MAX / PAGE + 7) / 8);
	return bitmap;
}

/* The RAM section: the bitmap of the pages stored, then those pages.
 * with: RAM_NONZERO every page that is not all zero (a restore starts
 * from zeroed RAM); RAM_NONE none (migration sent them all before);
 * RAM_PRIVATE every page private to this VM, zero or not (a clone maps
 * the rest from the frames it shares with us, clone.c). */
void snapshot_put_ram(struct snap_writer *w, enum ram_pages with, uint64_t *pages_out, uint64_t *used_out)
{
	uint64_t pages = vm.ram_bytes / PAGE, used = 0;
	uint8_t *bitmap = ram_bitmap();
	if (!bitmap) {   /* no memory: a section whose length is wrong fails the save */
		w->error = w->error ? w->error : -ENOMEM;
		*pages_out = pages;
		*used_out = 0;
		return;
	}
	memset(bitmap, 0, (pages + 7) / 8);
	for (uint64_t p = 0; with != RAM_NONE && p < pages; p++) {
		const uint64_t *q = guest_ptr_read(p * PAGE, PAGE);
		int keep = with == RAM_PRIVATE && ram_page_private(p * PAGE);
		for (unsigned k = 0; !keep && with == RAM_NONZERO && q && k < PAGE / 8; k++)
			keep = q[k] != 0;
		if (keep) {
			bitmap[p / 8] |= (uint8_t)(1u << (p % 8));
			used++;
		}
	}
	snap_section_begin(w, "RAM", RAM_SECTION_VERSION, 8 + (pages + 7) / 8 + used * PAGE);
	uint64_t count = pages;
	snap_put(w, &count, 8);
	snap_put(w, bitmap, (pages + 7) / 8);
	for (uint64_t p = 0; p < pages; p++)
		if (bitmap[p / 8] & (1u << (p % 8)))
			snap_put(w, guest_ptr_read(p * PAGE, PAGE), PAGE);
	*pages_out = pages;
	*used_out = used;
}

static void answer(struct snapshot_result r)
{
	struct msg m;
	m.info = MSG_INFO(VMM_SNAPSHOT_LABEL, r.err ? 1 : 3, 0); /* a failure: its status alone, as the stub wants */
	m.w[0] = (uint64_t)r.err;
	m.w[1] = r.bytes;
	m.w[2] = r.pause_us;
	ipc_reply(pending_reply, &m); /* E_NO_REPLY if the requester went away */
	sys_cnode_delete(pending_reply);
}

long snapshot_request(const char *path, uint64_t reply_slot)
{
	if (pending)
		return E_STATE;       /* one at a time */
	if (vm.stopped)
		return E_STATE;
	size_t n = strlen(path);
	if (!n || n >= sizeof(pending_path) || path[0] != '/')
		return E_BAD_ARG;
	if (!pending_reply)
		pending_reply = slot_alloc();
	if (!pending_reply || sys_cnode_move(reply_slot, CAP_ROOT_CNODE, pending_reply))
		return E_SLOT_FULL;
	memcpy(pending_path, path, n + 1);
	if (vm.halted) {          /* parked: the VCPU waits on us already */
		answer(save(pending_path, 0));
		return E_OK;
	}
	pending = 1;              /* at the next exit (main.c) */
	exit_work_ask();
	return E_OK;
}

void snapshot_at_exit(const struct msg *m)
{
	if (!pending)
		return;
	pending = 0;
	answer(save(pending_path, m));
}

/* --- restoring --------------------------------------------------------- */

static struct snap_reader reader;
static uint64_t restore_cycles;     /* spent reading and applying the file */

/* The snapshot's guest RAM and arguments, before the VM is built: 0, or
 * an error after saying why. */
long snapshot_open(const char *path, uint64_t *ram_bytes, char *args, size_t args_size)
{
	uint64_t t0 = rdtsc();
	long err = file_open("restore", path, 0);
	if (err)
		return err;
	const char *why = "";
	if (snap_check(&reader, read_at, 0, file.size, GUEST_RAM_MAX, &why)) {
		if (file.status)
			why = failure(file.status);
		debug_printf("vmm: %srestore %s: refused: %s\n", vm_name, path, why);
		file_close();
		return E_BAD_ARG;
	}
	struct snap_section_info s;
	if (!snap_find(&reader, "CONF", &s) || s.len >= args_size || read_at(0, s.offset, args, s.len)) {
		debug_printf("vmm: %srestore %s: refused: its arguments are missing or too long\n", vm_name, path);
		file_close();
		return E_BAD_ARG;
	}
	args[s.len] = 0;
	*ram_bytes = reader.ram_bytes;
	restore_cycles = rdtsc() - t0;
	return E_OK;
}

static const char *load_section(const char *tag, uint32_t version, uint8_t *buf, size_t size, size_t *len)
{
	struct snap_section_info s;
	if (!snap_find(&reader, tag, &s))
		return "a section is missing";
	if (s.version != version)
		return "a section has a version this VMM does not read";
	if (s.len > size)
		return "a section is too long";
	if (reader.read(reader.ctx, s.offset, buf, s.len))
		return file.status ? failure(file.status) : "a read of the file failed";
	*len = s.len;
	return 0;
}

/* Check every device's state on scratch copies, then apply them all. */
static const char *restore_models(void)
{
	struct model md[16];
	unsigned n = models(md);
	static uint8_t scratch[16384] __attribute__((aligned(16)));
	for (int apply = 0; apply < 2; apply++)
		for (unsigned i = 0; i < n; i++) {
			size_t len;
			const char *bad = load_section(md[i].tag, md[i].version, field_buf, sizeof(field_buf), &len);
			if (bad)
				return bad;
			if (md[i].size > sizeof(scratch))
				return "a device model is larger than the VMM's scratch space";
			void *into = md[i].state;
			if (!apply) { /* on a copy: callbacks and contexts as the VMM's */
				memcpy(scratch, md[i].state, md[i].size);
				into = scratch;
			}
			struct snap_io io = { { field_buf, len, 0, 0 }, 1, 0 };
			if ((bad = md[i].fn(&io, into)))
				return bad;
		}
	return 0;
}

/* A snapshot in memory (live migration's last message, migrate.c): 0, or
 * -1 with *why saying what is wrong with it. */
static long blob_read(void *ctx, uint64_t offset, void *bytes, size_t n)
{
	const struct { const uint8_t *p; uint64_t len; } *b = ctx;
	if (offset > b->len || n > b->len - offset)
		return -EIO;
	memcpy(bytes, b->p + offset, n);
	return 0;
}

static struct { const uint8_t *p; uint64_t len; } blob;

static long apply(const char *what, const char *done);

long snapshot_apply_blob(const void *bytes, uint64_t len, const char *what, const char *done)
{
	const char *why = "";
	blob.p = bytes;
	blob.len = len;
	memset(&file, 0, sizeof(file));
	if (snap_check(&reader, blob_read, &blob, len, GUEST_RAM_MAX, &why)) {
		debug_printf("vmm: %s%s: refused: %s\n", vm_name, what, why);
		return E_BAD_ARG;
	}
	if (reader.ram_bytes != vm.ram_bytes) {
		debug_printf("vmm: %s%s: refused: its RAM size is not this VM's\n", vm_name, what);
		return E_BAD_ARG;
	}
	restore_cycles = 0;
	return apply(what, done);
}

long snapshot_restore(const char *path)
{
	char what[220], done[220];
	debug_snprintf(what, sizeof(what), "restore %s", path);
	debug_snprintf(done, sizeof(done), "restored from %s", path);
	long err = apply(what, done);
	file_close();
	return err;
}

/* The checked snapshot in `reader` applied: devices, the VMM's own state,
 * the RAM it stores, then the VCPU.  what: "restore PATH" or the like,
 * for a refusal; done: what the line says when it worked. */
static long apply(const char *what, const char *done)
{
	uint64_t t0 = rdtsc();
	const char *bad;
	size_t len;
	static uint64_t v[VCPU_FIELD_COUNT];
	uint64_t vm_ns = 0, guest_tsc = 0;
	struct snap_buf b = { field_buf, 0, 0, 0 };
	if ((bad = load_section("TIME", TIME_SECTION_VERSION, field_buf, sizeof(field_buf), &len)))
		goto refused;
	b.len = len;
	vm_ns = snap_get64(&b);
	guest_tsc = snap_get64(&b);
	if ((bad = load_section("VCPU", VCPU_SECTION_VERSION, field_buf, sizeof(field_buf), &len)))
		goto refused;
	b = (struct snap_buf){ field_buf, len, 0, 0 };
	uint32_t count = snap_get32(&b);
	if (count != VCPU_FIELD_COUNT || len != 4 + 8UL * count) {
		bad = "its VCPU has another number of fields";
		goto refused;
	}
	for (unsigned i = 0; i < count; i++)
		v[i] = snap_get64(&b);
	if ((bad = restore_models()))
		goto refused;
	if (balloon_transport()) {
		static uint8_t *bal;
		if (!bal && !(bal = malloc(balloon_state_bytes()))) {
			bad = "no memory for its balloon section";
			goto refused;
		}
		if ((bad = load_section("BALLOON", BALLOON_SECTION_VERSION, bal, balloon_state_bytes(), &len)) ||
		    (bad = balloon_state_load(bal, len)))
			goto refused;
	}
	if ((bad = load_section("MISC", MISC_SECTION_VERSION, field_buf, sizeof(field_buf), &len)))
		goto refused;
	b = (struct snap_buf){ field_buf, len, 0, 0 };
	irq_levels_restore(snap_get32(&b));
	vm.mtrr_def_type = snap_get64(&b);
	vm.test_reg = snap_get64(&b);
	vm.test_sum = snap_get64(&b);
	vm.test_counter = snap_get64(&b);
	snap_getn(&b, vm.mmio_test, sizeof(vm.mmio_test));
	if (b.overflow) {
		bad = "its VMM section is short";
		goto refused;
	}

	/* RAM: the pages in the bitmap, the rest zero (as memory_setup left it) */
	struct snap_section_info s;
	uint64_t pages = vm.ram_bytes / PAGE, bitmap_len = (pages + 7) / 8, stored = 0;
	uint8_t *bitmap = ram_bitmap();
	if (!bitmap) {
		bad = "no memory for its RAM bitmap";
		goto refused;
	}
	if (!snap_find(&reader, "RAM", &s) || s.version != RAM_SECTION_VERSION || s.len < 8 + bitmap_len ||
	    reader.read(reader.ctx, s.offset, &stored, 8) || stored != pages || reader.read(reader.ctx, s.offset + 8, bitmap, bitmap_len)) {
		bad = "its RAM section does not match its RAM size";
		goto refused;
	}
	uint64_t used = 0;
	for (uint64_t p = 0; p < pages; p++)
		used += (bitmap[p / 8] >> (p % 8)) & 1;
	if (s.len != 8 + bitmap_len + used * PAGE) {
		bad = "its RAM section's length does not match its bitmap";
		goto refused;
	}
	uint64_t at = s.offset + 8 + bitmap_len;
	for (uint64_t p = 0; p < pages; p++)
		if ((bitmap[p / 8] >> (p % 8)) & 1) {
			if (reader.read(reader.ctx, at, guest_ptr(p * PAGE, PAGE), PAGE)) {
				bad = file.status ? failure(file.status) : "a read of its RAM failed";
				goto refused;
			}
			at += PAGE;
		}

	/* the VCPU last: time goes on from the snapshot's */
	v[VCPU_TSC_OFFSET] = clock_restore(vm_ns, guest_tsc);
	vm.lapic.tsc0 = clock_tsc0();
	for (unsigned f = 0; f < VCPU_FIELD_COUNT; f++) {
		if (f == VCPU_V_IRQ)
			continue;
		long err = sys_vcpu_write(vm.vcpu, f, v[f]);
		if (err) {
			debug_printf("vmm: %s%s: refused: the kernel takes no VCPU field %u = %lx (error %ld)\n",
			             vm_name, what, f, v[f], err);
			return E_BAD_ARG;
		}
	}
	balloon_tick();   /* the regions wholly in the balloon go back, as at the source */
	restore_cycles += rdtsc() - t0;
	debug_printf("vmm: %s%s: %lu of %lu pages, the guest's time goes on from %lu ms; read, checked and "
	             "applied in %lu ms (%lu calls of the fs server)\n", vm_name, done, used, pages,
	             vm_ns / 1000000, clock_cycles_to_ns(restore_cycles) / 1000000, file.calls);
	return E_OK;
refused:
	debug_printf("vmm: %s%s: refused: %s\n", vm_name, what, bad);
	return E_BAD_ARG;
}
