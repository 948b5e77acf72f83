#include <berth/errors.h>
#include <berth/object.h>
#include <berth/syscall.h>
#include "retype.h"

int object_bits(uint64_t type, uint64_t size_bits)
{
	switch (type) {
	case OBJ_UNTYPED:
		if (size_bits < UNTYPED_MIN_BITS || size_bits > UNTYPED_MAX_BITS)
			return -E_BAD_ARG;
		return (int)size_bits;
	case OBJ_CNODE:
		if (size_bits < 1 || size_bits > CNODE_MAX_RADIX)
			return -E_BAD_ARG;
		return (int)size_bits + CNODE_SLOT_BITS;
	case OBJ_TCB:
		return TCB_BITS;
	case OBJ_PORT:
		return PORT_BITS;
	case OBJ_GUEST_SPACE:
		return PAGE_BITS;
	case OBJ_VCPU:
		return VCPU_BITS;
	case OBJ_SHADOW_SPACE:
		if (size_bits < SHADOW_MIN_BITS || size_bits > SHADOW_MAX_BITS)
			return -E_BAD_ARG;
		return (int)size_bits;
	case OBJ_FRAME:
		if (size_bits == LARGE_PAGE_BITS)
			return LARGE_PAGE_BITS;
		return size_bits == 0 || size_bits == PAGE_BITS ? PAGE_BITS : -E_BAD_ARG;
	case OBJ_VSPACE:
	case OBJ_PAGE_TABLE:
		return PAGE_BITS;
	default:
		return -E_BAD_ARG;
	}
}

int retype_place(unsigned ut_bits, uint64_t watermark, unsigned obj_bits,
                 uint64_t offset, uint64_t *placed)
{
	if (obj_bits > ut_bits)
		return E_RANGE;
	uint64_t ut_size = 1ULL << ut_bits, obj_size = 1ULL << obj_bits;
	if (offset == RETYPE_NEXT_FREE) {
		offset = (watermark + obj_size - 1) & ~(obj_size - 1);
	} else {
		if (offset & (obj_size - 1))
			return E_ALIGN;
		if (offset < watermark)
			return E_OVERLAP;
	}
	/* offset <= ut_size - obj_size, written so it cannot overflow */
	if (offset > ut_size - obj_size)
		return E_RANGE;
	*placed = offset;
	return E_OK;
}
