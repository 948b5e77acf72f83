/*
 * Software shadow paging for mode=trap: the guest's page tables are only
 * data in its memory; the page tables the processor walks for the guest's
 * thread are its Berth VSpace, which holds what this file maps there.
 * On the thread's page fault we walk the guest's tables (memory.c's
 * gva_translate, with the guest in ring 0 as it believes), and either
 * give the guest the #PF it would have taken, or map the guest-physical
 * page it names, a frame of ours, at the faulting guest-virtual address
 * (a copy of the frame's capability per mapping: a frame maps once, and
 * a guest page may be mapped at several addresses).  Pages are mapped
 * read-only until the first write, so the guest's Dirty bits are set
 * exactly when the walk for a write sets them.
 *
 * The shadow is a cache of the guest's tables, kept consistent the
 * simplest way: every CR3 write, CR0/CR4 write and INVLPG drops it (all
 * of it, or the one page), as a processor drops its TLB.  The guest
 * changing an entry without INVLPG sees the old mapping, as on hardware.
 *
 * Safety: the walk reads the guest's tables through guest_ptr/phys_read,
 * which stay inside guest memory; a leaf outside guest RAM, or a
 * guest-virtual address in the high half, which a Berth thread cannot
 * use, stops the VM.  Nothing the guest writes names our memory.
 */
#include "trap.h"

#define MAX_SHADOW 256     /* mappings at once; then everything is dropped */

static struct shadow {
	uint64_t page, gpa, slot;
	int writable;
} shadows[MAX_SHADOW];
static unsigned shadow_count;

static void drop(unsigned i)
{
	sys_cnode_delete(shadows[i].slot); /* the copy's deletion unmaps it */
	slot_free(shadows[i].slot);
	shadows[i] = shadows[--shadow_count];
}

void shadow_flush(void)
{
	tv.stats.shadow_flushes++;
	while (shadow_count)
		drop(shadow_count - 1);
}

void shadow_flush_page(uint64_t gva)
{
	uint64_t page = gva & ~(PAGE_SIZE - 1);
	for (unsigned i = 0; i < shadow_count; i++)
		if (shadows[i].page == page) {
			drop(i);
			return;
		}
}

/* every mapping of one guest-physical page (mode=patch changes what it may be) */
static void drop_frame(uint64_t gpa_page)
{
	for (unsigned i = 0; i < shadow_count;)
		if (shadows[i].gpa == gpa_page)
			drop(i);
		else
			i++;
}

enum trap_action shadow_fault(struct tcb_regs *r, uint64_t gva, uint64_t error)
{
	uint64_t page = gva & ~(PAGE_SIZE - 1);
	unsigned access = (error & PF_WRITE ? ACCESS_WRITE : 0) | (error & PF_FETCH ? ACCESS_FETCH : 0);
	struct guest_paging p = trap_paging();
	struct page_fault pf;
	uint64_t gpa;
	if (gva_translate(&p, gva, access, &gpa, &pf)) {
		/* the guest's own page fault: its handler's business */
		tv.stats.reflected++;
		tv.cpu.cr2 = pf.addr;
		if (trap_deliver(r, 14, 1, pf.error))
			return trap_stop("a page fault at %lx (rip %lx) cannot be delivered (a triple fault)", gva, r->rip);
		return TRAP_RESUME;
	}
	if (page < USER_BASE || page >= USER_TOP)
		return trap_stop("the guest used address %lx: in mode=trap a guest lives below %lx", gva, USER_TOP);
	if (gpa >= vm.ram_bytes)
		return trap_stop("guest page %lx maps guest-physical %lx, outside its %lu MiB (no MMIO in mode=trap)",
		                 page, gpa, vm.ram_bytes >> 20);
	int writable = (access & ACCESS_WRITE) != 0;
	for (unsigned i = 0; i < shadow_count; i++)
		if (shadows[i].page == page) { /* a write to a page mapped read-only: map it again */
			writable |= shadows[i].writable;
			drop(i);
			break;
		}
	uint64_t gpa_page = gpa & ~(PAGE_SIZE - 1);
	unsigned rights = RIGHT_READ | RIGHT_EXEC | (writable ? RIGHT_WRITE : 0);
	if (tv.mode == VMM_MODE_PATCH) {
		/* patch.c: a page runs only once scanned and then is not written */
		int code = patch_page_is_code(gpa_page);
		if ((access & ACCESS_FETCH) && !code) {
			drop_frame(gpa_page);
			patch_scan(page, gpa_page, r->rip);
			code = 1;
		} else if ((access & ACCESS_WRITE) && code) {
			if ((r->rip & ~(PAGE_SIZE - 1)) == page) /* it writes the page it runs from */
				return patch_code_store(r, gva, page, gpa_page);
			drop_frame(gpa_page);
			patch_unscan(gpa_page);
			code = 0;
		}
		writable = !code && writable;
		rights = code ? RIGHT_READ | RIGHT_EXEC : RIGHT_READ | (writable ? RIGHT_WRITE : 0);
	}
	if (shadow_count == MAX_SHADOW)
		shadow_flush();
	uint64_t slot = slot_alloc();
	if (!slot)
		return trap_stop("out of capability slots for the shadow mappings");
	long err = sys_cnode_copy(tv.frames[gpa / PAGE_SIZE], CAP_ROOT_CNODE, slot, RIGHTS_ALL);
	err = err ? err : page_map_in(tv.vspace, slot, page, rights);
	if (err) {
		sys_cnode_delete(slot);
		slot_free(slot);
		return trap_stop("cannot map guest page %lx: error %ld", page, err);
	}
	shadows[shadow_count++] = (struct shadow){ page, gpa_page, slot, writable };
	tv.stats.shadow_fills++;
	return TRAP_RESUME;
}
