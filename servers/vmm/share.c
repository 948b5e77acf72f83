/*
 * vm share NAME (docs/lifecycle.md, "Pages shared by content"): guest
 * pages alike kept once, as VMware's ESX does, in this VM and across VMs.
 *
 * At the VCPU's next exit (or at once if it waits in HLT), with the disk's
 * requests finished, every 2 MiB region of guest RAM is read page by page
 * (ram_share_content).  A page all zero goes on a frame of zeroes of our
 * own; a page whose bytes init keeps, or has seen at another place (in
 * this VM or another), goes on init's kept copy, which every VM that asks
 * shares (init compares in full).  A region of which at least SHARE_MIN of
 * its 512 pages need no memory of their own so is remapped: its other
 * pages copied into frames of our own, its own 2 MiB back to init.  A
 * write to a page on the zero frame or on a kept page then copies it, as
 * copy-on-write does for clones.
 *
 * Two passes: the first shows every page to init, which remembers where
 * it saw each, so that in the second two pages alike in this VM find each
 * other.  Pages of other VMs are found if their own scan showed them:
 * two VMs booted apart share when the second one's scan finds the first
 * one's pages (kept from then on), and the first one's next scan finds
 * them kept.  A region mostly unlike anything else keeps its frame.  One scan
 * a request.
 */
#include "vm.h"
#include "vmm.h"          /* generated from idl/vmm.idl: the reply's label */

#define SHARE_MIN 384     /* of 512: at most 128 pages copied for 2 MiB given back */

static struct {
	int pending;
	uint64_t reply;
} S;

static void scan(void)
{
	uint64_t t0 = rdtsc();
	uint32_t done = 0;
	uint64_t zeros = 0, alike = 0, copied = 0;
	long err = snapshot_disk_settle() ? E_STATE : E_OK;
	for (unsigned r = 0; !err && r < vm.ram_bytes / LARGE_PAGE_SIZE; r++)
		err = ram_share_note(r);
	for (unsigned r = 0; !err && r < vm.ram_bytes / LARGE_PAGE_SIZE; r++) {
		unsigned z, a, c;
		long k = ram_share_content(r, SHARE_MIN, &z, &a, &c);
		if (k < 0)
			err = k;
		if (k == 1) {
			done++;
			zeros += z;
			alike += a;
			copied += c;
		}
	}
	uint64_t us = clock_cycles_to_ns(rdtsc() - t0) / 1000;
	if (err)
		debug_printf("vmm: %sshare: stopped after %u regions (error %ld)\n", vm_name, done, err);
	else
		debug_printf("vmm: %sshare: %u regions given back, %lu zero pages on the zero frame, %lu pages on "
		             "init's kept pages, %lu copied, %lu KiB back with Berth, the guest stopped %lu us\n", vm_name,
		             done, zeros, alike, copied, (uint64_t)done * (LARGE_PAGE_SIZE >> 10), us);
	struct msg m;
	m.info = MSG_INFO(VMM_SHARE_LABEL, err ? 1 : 6, 0);
	m.w[0] = (uint64_t)err;
	m.w[1] = done;
	m.w[2] = zeros;
	m.w[3] = alike;
	m.w[4] = copied;
	m.w[5] = us;
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
	exit_work_ask();
	return E_OK;
}

void share_at_exit(void)
{
	if (S.pending) {
		S.pending = 0;
		scan();
	}
}
