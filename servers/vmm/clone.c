/*
 * vm clone NAME NEWNAME (docs/lifecycle.md, "Clones"): a copy of a running
 * VM that shares its memory with its parent until either writes a page.
 *
 * The clone is a VMM of its own, started by init with clone=NAME.  It
 * asks the parent's VMM (vm.NAME) over vmm.idl:
 *   clone_args    the parent's arguments and RAM size, to build the VM with;
 *   clone_begin   at the parent's next exit, its RAM becomes shared
 *                 (ram.c: every page write-protected for its guest, each
 *                 write then copies the page) and its state is written, as a
 *                 snapshot whose RAM section holds only the pages already
 *                 private to the parent, into frames borrowed from init;
 *                 the parent's VCPU goes on at once;
 *   clone_frame   each 2 MiB frame of the parent's RAM, read-only, and each
 *                 frame of the state; the parent tells init that the clone
 *                 holds them too (mem_share), so neither's end or balloon
 *                 takes them from the other;
 *   clone_end     the parent gives the state's frames back.
 * The clone maps the RAM frames as pieces, read-only (ram_adopt), applies
 * the state as a restore does, which writes the private pages into frames
 * of its own, gives the state's frames back, and runs.
 *
 * What cannot be cloned, and why: a disk (two VMs would write one image),
 * a network card (one MAC twice on the switch), a balloon (its pages are
 * not in the state), mode=shadow, trap, patch and pv (no shared nested
 * paging), RAM from the VMM's own pool (nothing to share through init).
 */
#include <string.h>
#include "vm.h"
#include "init.h"
#include "vmm.h"          /* generated from idl/vmm.idl */
#include "snapfile.h"

#define CLONE_VA 0x0000390000000000UL   /* the state's frames, in the parent and the clone */
#define STATE_FRAMES_MAX 32              /* 64 MiB: the state and the parent's private pages */
#define FRAME_BYTES LARGE_PAGE_SIZE

static struct {
	int pending;                   /* clone_begin waits for the next exit */
	int open;                      /* begun, not ended */
	uint64_t reply;                /* the waiting clone_begin's reply right */
	char child[33];
	unsigned frames;               /* the state's frames */
	uint64_t frame[STATE_FRAMES_MAX];
	uint32_t loan[STATE_FRAMES_MAX];
	uint64_t len;
} C;

/* --- the parent ---------------------------------------------------------- */

static const char *not_cloneable(void)
{
	const char *args = snapshot_args();
	struct balloon_info bi;
	size_t n;
	if (!vm.guest_space || shadow_on())
		return "only a VM of mode=svm can be cloned";
	if (arg_value(args, "disk=", &n))
		return "a VM with a disk cannot be cloned (both would write one image)";
	if (arg_flag(args, "net"))
		return "a VM with a network card cannot be cloned (one MAC address twice)";
	if (!balloon_info(&bi))
		return "a VM with a balloon cannot be cloned";
	if (vm.ram_bytes % LARGE_PAGE_SIZE)
		return "its RAM is not a whole number of 2 MiB";
	if (vm.stopped)
		return "it has stopped";
	return 0;
}

long clone_args(char args[127 + 1], uint64_t *ram_bytes)
{
	const char *why = not_cloneable();
	if (why) {
		debug_printf("vmm: %sclone: refused: %s\n", vm_name, why);
		return E_STATE;
	}
	size_t n = strlen(snapshot_args());
	if (n > 127)
		return E_RANGE;
	memcpy(args, snapshot_args(), n + 1);
	*ram_bytes = vm.ram_bytes;
	return E_OK;
}

static void state_release(void)
{
	for (unsigned k = 0; k < C.frames; k++) {
		sys_cnode_delete(C.frame[k]);   /* its mapping with it */
		slot_free(C.frame[k]);
		init_mem_return(INIT_SLOT, C.loan[k]);
	}
	C.frames = 0;
	C.open = 0;
}

/* snap_writer's: the state goes into frames borrowed as it grows. */
static long state_write(void *ctx, uint64_t offset, const void *bytes, size_t n)
{
	(void)ctx;
	if (offset > STATE_FRAMES_MAX * FRAME_BYTES || n > STATE_FRAMES_MAX * FRAME_BYTES - offset)
		return -1;
	while (C.frames * FRAME_BYTES < offset + n) {
		unsigned k = C.frames;
		if (init_mem_borrow_frame(INIT_SLOT, &C.loan[k], &C.frame[k]))
			return -1;
		if (page_map_with_tables(C.frame[k], CLONE_VA + k * FRAME_BYTES, RIGHT_READ | RIGHT_WRITE)) {
			init_mem_return(INIT_SLOT, C.loan[k]);
			sys_cnode_delete(C.frame[k]);
			slot_free(C.frame[k]);
			return -1;
		}
		C.frames++;
	}
	memcpy((void *)(CLONE_VA + offset), bytes, n);
	return 0;
}

static void answer(long err, uint32_t regions, uint64_t pause_us)
{
	struct msg m;
	m.info = MSG_INFO(VMM_CLONE_BEGIN_LABEL, err ? 1 : 5, 0);
	m.w[0] = (uint64_t)err;
	m.w[1] = regions;
	m.w[2] = C.frames;
	m.w[3] = C.len;
	m.w[4] = pause_us;
	ipc_reply(C.reply, &m);   /* E_NO_REPLY if the clone went away */
	sys_cnode_delete(C.reply);
}

/* The VCPU waits on us (m: the answer to its exit, 0 if parked in HLT). */
static void begin_now(const struct msg *m)
{
	uint64_t t0 = rdtsc();
	C.pending = 0;
	uart_flush(&vm.uart);
	const char *why = not_cloneable();
	long err = why ? E_STATE : ram_share_begin();
	if (!err) {
		struct snap_writer w;
		uint64_t pages, used;
		snap_begin(&w, state_write, 0, vm.ram_bytes);
		snapshot_put_state(&w, m);
		snapshot_put_ram(&w, RAM_PRIVATE, &pages, &used);
		if (snap_finish(&w)) {
			why = "its state and private pages do not fit (64 MiB at most) or init lent no frame for them";
			err = E_RANGE;
		}
		C.len = w.offset;
	}
	if (err) {
		debug_printf("vmm: %sclone for %s: refused: %s (error %ld)\n", vm_name, C.child,
		             why ? why : "its RAM cannot be shared", err);
		state_release();
		answer(err, 0, 0);
		return;
	}
	C.open = 1;
	uint64_t us = clock_cycles_to_ns(rdtsc() - t0) / 1000;
	debug_printf("vmm: %sclone for %s: memory shared, state of %lu bytes in %u frames, the guest stopped %lu us\n",
	             vm_name, C.child, C.len, C.frames, us);
	answer(E_OK, (uint32_t)(vm.ram_bytes / LARGE_PAGE_SIZE), us);
}

long clone_begin_request(const char *child, uint64_t reply_slot)
{
	if (C.pending || !child[0] || strlen(child) >= sizeof(C.child))
		return E_STATE;
	if (not_cloneable())
		return E_STATE;
	if (C.open)
		state_release();   /* the last clone never said it was done */
	if (!C.reply && !(C.reply = slot_alloc()))
		return E_SLOT_FULL;
	if (sys_cnode_move(reply_slot, CAP_ROOT_CNODE, C.reply))
		return E_SLOT_FULL;
	strcpy(C.child, child);
	if (vm.halted) {
		begin_now(0);
		return E_OK;
	}
	C.pending = 1;
	exit_work_ask();
	return E_OK;
}

void clone_at_exit(const struct msg *m)
{
	if (C.pending)
		begin_now(m);
}

long clone_frame(uint32_t index, uint64_t *frame, uint32_t *loan)
{
	if (!C.open)
		return E_STATE;
	uint32_t regions = (uint32_t)(vm.ram_bytes / LARGE_PAGE_SIZE);
	if (index < regions)
		return ram_share_region(index, C.child, frame, loan);
	index -= regions;
	if (index >= C.frames)
		return E_RANGE;
	long err = init_mem_share(INIT_SLOT, C.loan[index], C.child);
	*frame = C.frame[index];
	*loan = C.loan[index];
	return err;
}

long clone_end(void)
{
	if (!C.open)
		return E_STATE;
	state_release();
	return E_OK;
}

/* --- the clone ------------------------------------------------------------ */

static uint64_t parent;      /* a send right to vm.PARENT */
static char parent_name[33];

/* clone=NAME: the parent's arguments and RAM size, before the VM is
 * built.  0, or an error after saying why. */
long clone_open(const char *name, size_t len, char *args, size_t size, uint64_t *ram_bytes)
{
	char service[40];
	if (!len || len > 28) {
		debug_printf("vmm: %sclone=: a VM's name of 1 to 28 characters\n", vm_name);
		return E_BAD_ARG;
	}
	memcpy(parent_name, name, len);
	parent_name[len] = 0;
	debug_snprintf(service, sizeof(service), "vm.%s", parent_name);
	long err = init_lookup(INIT_SLOT, service, &parent);
	if (err) {
		debug_printf("vmm: %sclone of %s: no such VM is running\n", vm_name, parent_name);
		return err;
	}
	char got[128];
	if ((err = vmm_clone_args(parent, got, ram_bytes))) {
		debug_printf("vmm: %sclone of %s: refused (error %ld; %s's console line says why)\n", vm_name,
		             parent_name, err, parent_name);
		return err;
	}
	if (strlen(got) >= size)
		return E_RANGE;
	strcpy(args, got);
	return E_OK;
}

/* The VM built (devices and all): the parent's RAM mapped, its state
 * applied.  0, or an error after saying why. */
long clone_receive(const char *own_name)
{
	uint32_t regions, frames;
	uint64_t len, pause_us;
	long err = vmm_clone_begin(parent, own_name, &regions, &frames, &len, &pause_us);
	if (err || regions != vm.ram_bytes / LARGE_PAGE_SIZE || frames > STATE_FRAMES_MAX ||
	    len > (uint64_t)frames * FRAME_BYTES) {
		debug_printf("vmm: %sclone of %s: refused (error %ld)\n", vm_name, parent_name, err);
		return err ? err : E_BAD_ARG;
	}
	uint32_t loan;
	uint64_t f;
	for (uint32_t r = 0; !err && r < regions; r++) {
		err = vmm_clone_frame(parent, r, &f, &loan);
		if (err == E_STATE) {   /* not backed there: zero when touched here */
			err = E_OK;
			continue;
		}
		err = err ? err : ram_adopt(r, f, loan);
	}
	for (uint32_t k = 0; !err && k < frames; k++) {
		err = vmm_clone_frame(parent, regions + k, &C.frame[k], &C.loan[k]);
		err = err ? err : page_map_with_tables(C.frame[k], CLONE_VA + k * FRAME_BYTES, RIGHT_READ);
		if (!err)
			C.frames = k + 1;
	}
	char what[64], done[64];
	debug_snprintf(what, sizeof(what), "clone of %s", parent_name);
	debug_snprintf(done, sizeof(done), "cloned from %s", parent_name);
	if (err)
		debug_printf("vmm: %s%s: the parent's frames did not come (error %ld)\n", vm_name, what, err);
	else
		err = snapshot_apply_blob((const void *)CLONE_VA, len, what, done);
	state_release();   /* our shares of the state's frames */
	vmm_clone_end(parent);
	if (!err)
		debug_printf("vmm: %s%s: the parent's guest stopped %lu us\n", vm_name, done, pause_us);
	return err;
}
