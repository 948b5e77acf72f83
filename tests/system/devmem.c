/* Device memory and the physical-address right (issue 11).  The root
 * task gets every physical range that is not RAM, less the interrupt
 * controllers, as device Untypeds after the RAM ones; they become only
 * frames (and smaller device Untypeds), which map uncached and are never
 * an IPC buffer, guest RAM or memory the kernel reads for us.  A frame's
 * physical address is given only with RIGHT_PHYS, which frames inherit
 * from their Untyped and which SYS_CAP_RESTRICT can take from one. */
#include "tap.h"

#define SCRATCH 0x50000000UL          /* nothing of ours near */
#define PCI_HOLE 0xe0000000UL          /* QEMU's i440fx: PCI devices live above here */
#define KERNEL_DEVICES_LO 0xfec00000UL /* I/O APIC, HPET, local APIC */
#define KERNEL_DEVICES_HI 0xfef00000UL

static int overlaps(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
	return a < b_end && b < a_end;
}

int main(const struct bootinfo *bi)
{
	tap_plan(20);
	const struct bootinfo_untyped *hole = 0;
	int apart = 1, kernel_kept = 1;
	for (unsigned i = 0; i < bi->untyped_count; i++) {
		const struct bootinfo_untyped *d = &bi->untyped[i];
		uint64_t d_end = d->paddr + (1UL << d->size_bits);
		if (!d->is_device)
			continue;
		if (d->paddr <= PCI_HOLE && PCI_HOLE < d_end)
			hole = d;
		kernel_kept &= !overlaps(d->paddr, d_end, KERNEL_DEVICES_LO, KERNEL_DEVICES_HI);
		for (unsigned j = 0; j < bi->untyped_count; j++) {
			const struct bootinfo_untyped *r = &bi->untyped[j];
			if (!r->is_device)
				apart &= !overlaps(d->paddr, d_end, r->paddr, r->paddr + (1UL << r->size_bits));
		}
	}
	tap_ok(hole != 0, "a device Untyped covers the PCI hole at %#lx", PCI_HOLE);
	tap_ok(apart && kernel_kept, "device memory overlaps no RAM Untyped and not the interrupt controllers");
	if (!hole)
		tap_done(); /* the plan's count fails the run */

	/* what a device Untyped may become */
	uint64_t s = slot_alloc(), child = slot_alloc(), frame = slot_alloc(), big = slot_alloc();
	unsigned type = 0, rights = 0;
	uint64_t used = 0;
	long r1 = sys_untyped_retype(hole->slot, OBJ_TCB, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, s);
	long r2 = sys_untyped_retype(hole->slot, OBJ_CNODE, 4, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, s);
	long r3 = sys_untyped_retype(hole->slot, OBJ_PORT, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, s);
	long r4 = sys_untyped_retype(hole->slot, OBJ_VSPACE, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, s);
	long r5 = sys_untyped_retype(hole->slot, OBJ_PAGE_TABLE, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, s);
	tap_ok(r1 == E_WRONG_TYPE && r2 == E_WRONG_TYPE && r3 == E_WRONG_TYPE && r4 == E_WRONG_TYPE &&
	       r5 == E_WRONG_TYPE && cspace_slot_type(s) == OBJ_NONE,
	       "a device Untyped becomes no thread, CNode, port, VSpace or page table (%ld %ld %ld %ld %ld)", r1,
	       r2, r3, r4, r5);
	long err = sys_untyped_retype(hole->slot, OBJ_UNTYPED, 22, 0, CAP_ROOT_CNODE, child);
	r1 = err ? err : sys_untyped_retype(child, OBJ_TCB, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, s);
	tap_ok(!err && r1 == E_WRONG_TYPE, "a smaller Untyped carved from it is device memory too (%ld, %ld)", err,
	       r1);
	err = sys_untyped_retype(child, OBJ_FRAME, 0, 0x3000, CAP_ROOT_CNODE, frame);
	uint64_t pa = 0;
	r1 = err ? err : sys_frame_phys(frame, &pa);
	tap_ok(!err && !r1 && pa == hole->paddr + 0x3000,
	       "a frame of it at offset 0x3000 has physical address %#lx (%ld, %ld)", pa, err, r1);
	err = sys_untyped_retype(child, OBJ_FRAME, LARGE_PAGE_BITS, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, big);
	err = err ? err : sys_cap_identify(child, &type, &rights, &used);
	tap_ok(!err && used == 2 * LARGE_PAGE_SIZE,
	       "and a 2 MiB frame after it (%ld; %lu bytes used)", err, used);

	/* where it may be mapped */
	tap_eq(page_map_with_tables(frame, SCRATCH, RIGHT_READ | RIGHT_WRITE), E_OK,
	       "a device frame maps into our address space");
	volatile uint32_t *reg = (volatile uint32_t *)SCRATCH;
	uint32_t v = reg[0]; /* a read through the mapping: no fault */
	(void)v;
	/* the kernel refuses exactly the pages it mapped with PCD, so this
	 * also shows the mapping is uncached */
	tap_eq(sys_debug_write((const char *)SCRATCH, 4), E_BAD_ADDRESS,
	       "the kernel does not read it on our behalf (debug_write): the page is mapped uncached");
	uint64_t tcb;
	err = object_alloc(OBJ_TCB, 0, &tcb);
	uint64_t copy = slot_alloc();
	err = err ? err : sys_cnode_copy(frame, CAP_ROOT_CNODE, copy, RIGHTS_ALL);
	tap_eq(err ? err : sys_tcb_set_ipc_buffer(tcb, copy, SCRATCH + 0x200000), E_WRONG_TYPE,
	       "a device frame is no IPC buffer");
	uint64_t gs;
	err = object_alloc(OBJ_GUEST_SPACE, 0, &gs);
	tap_eq(err ? err : page_map_in(gs, copy, 0x100000, RIGHT_READ | RIGHT_WRITE), E_WRONG_TYPE,
	       "nor a guest's memory");
	tap_ok(sys_page_unmap(frame) == E_OK && sys_cnode_delete(frame) == E_OK && sys_cnode_delete(copy) == E_OK &&
	       sys_cnode_delete(big) == E_OK &&
	       sys_untyped_retype(child, OBJ_FRAME, 0, 0x3000, CAP_ROOT_CNODE, frame) == E_OK,
	       "unmapped and deleted, the same device frame can be made again");
	sys_cnode_revoke(child);
	sys_cnode_delete(child);

	/* RIGHT_PHYS on memory */
	uint64_t ut, f1 = slot_alloc(), f2 = slot_alloc(), weak = slot_alloc(), sub = slot_alloc(), f3 = slot_alloc();
	err = object_alloc(OBJ_UNTYPED, 16, &ut);
	err = err ? err : sys_untyped_retype(ut, OBJ_FRAME, 0, 0x3000, CAP_ROOT_CNODE, f1);
	err = err ? err : sys_untyped_retype(ut, OBJ_FRAME, 0, 0x5000, CAP_ROOT_CNODE, f2);
	uint64_t p1 = 0, p2 = 0;
	r1 = err ? err : sys_frame_phys(f1, &p1);
	r2 = err ? err : sys_frame_phys(f2, &p2);
	tap_ok(!err && !r1 && !r2 && p1 && p2 == p1 + 0x2000 && !(p1 & 0xfff),
	       "frames of our memory tell their physical addresses (%#lx, %#lx)", p1, p2);
	err = sys_cnode_copy(f1, CAP_ROOT_CNODE, weak, RIGHTS_ALL & ~RIGHT_PHYS);
	tap_eq(err ? err : sys_frame_phys(weak, &p1), E_NO_RIGHTS, "a copy without RIGHT_PHYS does not");
	tap_eq(sys_frame_phys(ut, &p1), E_WRONG_TYPE, "an Untyped is no frame");
	r1 = sys_cap_restrict(f1, RIGHT_READ);
	r2 = sys_cap_restrict(ut, 0x40);
	tap_ok(r1 == E_WRONG_TYPE && r2 == E_BAD_ARG,
	       "restrict works on Untypeds only, with known rights (%ld, %ld)", r1, r2);
	err = sys_cap_restrict(ut, RIGHTS_ALL & ~RIGHT_PHYS);
	err = err ? err : sys_cap_restrict(ut, RIGHTS_ALL);
	err = err ? err : sys_cap_identify(ut, &type, &rights, &used);
	tap_ok(!err && rights == (RIGHTS_ALL & ~RIGHT_PHYS),
	       "restricting an Untyped takes RIGHT_PHYS for good (rights %#x)", rights);
	err = sys_untyped_retype(ut, OBJ_FRAME, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, f3);
	tap_eq(err ? err : sys_frame_phys(f3, &p1), E_NO_RIGHTS, "its new frames have no RIGHT_PHYS");
	err = sys_untyped_retype(ut, OBJ_UNTYPED, 12, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, sub);
	err = err ? err : sys_cap_identify(sub, &type, &rights, &used);
	tap_ok(!err && !(rights & RIGHT_PHYS),
	       "nor its child Untypeds (rights %#x)", rights);
	err = sys_cap_identify(f2, &type, &rights, &used);
	tap_ok(!err && (rights & RIGHT_PHYS),
	       "frames made before keep theirs (rights %#x)", rights);
	sys_cnode_revoke(ut);
	tap_eq(sys_null(), E_OK, "the kernel answers at the end");
	tap_done();
}
