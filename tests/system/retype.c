/* Untyped retype: size, alignment and overlap are checked; bad types,
 * sizes, capabilities and slots are refused; new objects are usable and
 * zeroed. */
#include "tap.h"

#define UT_BITS 16
#define SCRATCH 0x20000000UL

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(27);
	uint64_t ut, ut2, s = slot_alloc(), s2 = slot_alloc(), s3 = slot_alloc();
	tap_eq(object_alloc(OBJ_UNTYPED, UT_BITS, &ut), E_OK, "a 64 KiB child untyped");
	tap_eq(object_alloc(OBJ_UNTYPED, UT_BITS, &ut2), E_OK, "a second 64 KiB child untyped");

	/* size */
	tap_eq(sys_untyped_retype(ut, OBJ_UNTYPED, UT_BITS + 1, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, s),
	       E_RANGE, "an object bigger than the untyped is refused");
	tap_eq(sys_untyped_retype(ut, OBJ_FRAME, 0, 1UL << UT_BITS, CAP_ROOT_CNODE, s),
	       E_RANGE, "an offset at the end is refused");
	tap_eq(sys_untyped_retype(ut, OBJ_FRAME, 0, ~0UL - 4095, CAP_ROOT_CNODE, s),
	       E_RANGE, "an offset near 2^64 is refused without wrapping");

	/* alignment */
	tap_eq(sys_untyped_retype(ut, OBJ_FRAME, 0, 0x800, CAP_ROOT_CNODE, s),
	       E_ALIGN, "a frame at a 2 KiB offset is refused");
	tap_eq(sys_untyped_retype(ut, OBJ_TCB, 0, 0x1100, CAP_ROOT_CNODE, s),
	       E_ALIGN, "a TCB off its 2 KiB alignment is refused");

	/* overlap: the watermark moves past each object */
	tap_eq(sys_untyped_retype(ut, OBJ_FRAME, 0, 0x2000, CAP_ROOT_CNODE, s), E_OK,
	       "a frame at offset 0x2000");
	tap_eq(sys_untyped_retype(ut, OBJ_FRAME, 0, 0x2000, CAP_ROOT_CNODE, s2), E_OVERLAP,
	       "a second object at the same offset is refused");
	tap_eq(sys_untyped_retype(ut, OBJ_TCB, 0, 0x1800, CAP_ROOT_CNODE, s2), E_OVERLAP,
	       "an object below the watermark is refused");
	tap_eq(sys_untyped_retype(ut, OBJ_FRAME, 0, 0xf000, CAP_ROOT_CNODE, s2), E_OK,
	       "an exact fit in the last page");
	tap_eq(sys_untyped_retype(ut, OBJ_TCB, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, s3), E_RANGE,
	       "a full untyped has no room left");

	/* bad types, sizes, caps and slots */
	uint64_t s4 = slot_alloc();
	tap_eq(sys_untyped_retype(ut2, 99, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, s4), E_BAD_ARG,
	       "an unknown object type is refused");
	tap_eq(sys_untyped_retype(ut2, OBJ_UNTYPED, 11, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, s4), E_BAD_ARG,
	       "an untyped smaller than a page is refused");
	tap_eq(sys_untyped_retype(ut2, OBJ_CNODE, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, s4), E_BAD_ARG,
	       "a CNode of radix 0 is refused");
	tap_eq(sys_untyped_retype(ut2, OBJ_CNODE, 17, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, s4), E_BAD_ARG,
	       "a CNode of radix 17 is refused");
	tap_eq(sys_untyped_retype(s, OBJ_FRAME, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, s4), E_WRONG_TYPE,
	       "a frame cap used as untyped is refused");
	tap_eq(sys_untyped_retype(s4, OBJ_FRAME, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, s4), E_BAD_CAP,
	       "an empty slot used as untyped is refused");
	tap_eq(sys_untyped_retype(1UL << 40, OBJ_FRAME, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, s4), E_BAD_CAP,
	       "a slot index past the CNode is refused");
	tap_eq(sys_untyped_retype(ut2, OBJ_FRAME, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, s), E_SLOT_FULL,
	       "an occupied destination slot is refused");
	tap_eq(sys_untyped_retype(ut2, OBJ_FRAME, 0, RETYPE_NEXT_FREE, CAP_ROOT_VSPACE, 0), E_WRONG_TYPE,
	       "a destination that is not a CNode is refused");

	/* a CNode as destination */
	uint64_t cn;
	tap_eq(sys_untyped_retype(ut2, OBJ_CNODE, 4, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, s4), E_OK,
	       "a CNode of 16 slots");
	cn = s4;
	tap_eq(sys_untyped_retype(ut2, OBJ_FRAME, 0, RETYPE_NEXT_FREE, cn, 3), E_OK,
	       "a frame retyped into slot 3 of the new CNode");
	tap_eq(sys_untyped_retype(ut2, OBJ_FRAME, 0, RETYPE_NEXT_FREE, cn, 16), E_BAD_CAP,
	       "slot 16 of a 16-slot CNode is refused");
	tap_eq(sys_untyped_retype(ut2, OBJ_FRAME, 0, RETYPE_NEXT_FREE, cn, 3), E_SLOT_FULL,
	       "the occupied slot 3 is refused");

	/* the objects are real: a fresh frame maps, reads as zero, writes */
	tap_eq(page_map_with_tables(s2, SCRATCH, RIGHT_READ | RIGHT_WRITE), E_OK,
	       "the retyped frame maps");
	volatile uint64_t *p = (volatile uint64_t *)SCRATCH;
	int zero = 1;
	for (int i = 0; i < 512; i++)
		zero &= p[i] == 0;
	p[7] = 0x1234;
	tap_ok(zero && p[7] == 0x1234, "a new frame is zeroed and writable");
	tap_done();
}
