/*
 * vm share NAME (docs/lifecycle.md, "Zero pages shared"): content-based
 * sharing of the one content idle guests hold most, the zero page.
 *
 * At the VCPU's next exit (or at once if it waits in HLT), with the disk's
 * requests finished, every 2 MiB region of guest RAM is read page by page;
 * a region of which at least ZERO_MIN of its 512 pages are all zero,
 * compared in full, is mapped on a frame of zeroes shared by every such
 * region, read-only, and its other pages are copied into frames of our
 * own (ram_share_zero).  The region's own 2 MiB go back to init.  A write
 * to a zero page then copies it, as copy-on-write does for clones.
 *
 * What it is not: pages alike in other contents are not merged, nor pages
 * of different VMs (clones share because they start from one set of
 * frames); a region mostly in use keeps its frame.  One scan a request.
 */
#include "vm.h"
#include "vmm.h"          /* generated from idl/vmm.idl: the reply's label */

#define ZERO_MIN 448      /* of 512: at most 64 pages copied for 2 MiB given back */

static struct {
	int pending;
	uint64_t reply;
} S;

static void scan(void)
{
	uint64_t t0 = rdtsc();
	uint32_t done = 0;
	uint64_t zeros = 0, kept = 0;
	long err = snapshot_disk_settle() ? E_STATE : E_OK;
	for (unsigned r = 0; !err && r < vm.ram_bytes / LARGE_PAGE_SIZE; r++) {
		unsigned z;
		long k = ram_share_zero(r, ZERO_MIN, &z);
		if (k < 0)
			err = k;
		if (k == 1) {
			done++;
			zeros += z;
			kept += LARGE_PAGE_SIZE / PAGE_SIZE - z;
		}
	}
	uint64_t us = clock_cycles_to_ns(rdtsc() - t0) / 1000;
	if (err)
		debug_printf("vmm: %sshare: stopped after %u regions (error %ld)\n", vm_name, done, err);
	else
		debug_printf("vmm: %sshare: %u regions on the zero frame, %lu zero pages shared, %lu copied, "
		             "%lu KiB back with Berth, the guest stopped %lu us\n", vm_name, done, zeros, kept,
		             (uint64_t)done * (LARGE_PAGE_SIZE >> 10), us);
	struct msg m;
	m.info = MSG_INFO(VMM_SHARE_ZERO_LABEL, err ? 1 : 5, 0);
	m.w[0] = (uint64_t)err;
	m.w[1] = done;
	m.w[2] = zeros;
	m.w[3] = kept;
	m.w[4] = us;
	ipc_reply(S.reply, &m);
	sys_cnode_delete(S.reply);
}

long share_request(uint64_t reply_slot)
{
	if (S.pending || vm.stopped)
		return E_STATE;
	/* nested paging only, and not under the dirty log, which would give
	 * write access back to a shared page */
	if (!vm.guest_space || shadow_on() || dirty_tracking())
		return E_STATE;
	if (!S.reply && !(S.reply = slot_alloc()))
		return E_SLOT_FULL;
	if (sys_cnode_move(reply_slot, CAP_ROOT_CNODE, S.reply))
		return E_SLOT_FULL;
	if (vm.halted) {
		scan();
		return E_OK;
	}
	S.pending = 1;
	return E_OK;
}

void share_at_exit(void)
{
	if (S.pending) {
		S.pending = 0;
		scan();
	}
}
