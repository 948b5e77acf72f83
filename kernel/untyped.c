/* Untyped retype: the only way kernel objects come into being after boot.
 * An Untyped hands out its memory in order (seL4's watermark): an object
 * goes at or above the watermark, aligned to its own size, and the
 * watermark moves past it, so two live objects can never overlap.  When
 * objects die the watermark falls back (cap_delete.c). */
#include <berth/errors.h>
#include "object.h"
#include "retype.h"
#include "layout.h"
#include "vspace.h"
#include "klib.h"
#include "shadow.h"

void object_init(unsigned type, uint64_t paddr, uint64_t bytes)
{
	if (type != OBJ_UNTYPED) /* an untyped's content is nobody's yet */
		memset(P2V(paddr), 0, bytes);
	if (type == OBJ_VSPACE)
		vspace_init(paddr);
	else if (type == OBJ_TCB)
		tcb_init(P2V(paddr));
	else if (type == OBJ_VCPU) {
		tcb_init(P2V(paddr));
		vcpu_init(P2V(paddr));
	}
}

/* Bytes the object a capability names occupies (retypable types only). */
uint64_t object_size(const struct cap *c)
{
	uint64_t size_bits = c->type == OBJ_UNTYPED || c->type == OBJ_CNODE ? c->w0
	                     : c->type == OBJ_FRAME || c->type == OBJ_SHADOW_SPACE ? c->w2 : 0;
	int bits = object_bits(c->type, size_bits);
	return bits < 0 ? 0 : 1ULL << bits;
}

int sys_untyped_retype(struct tcb *t, uint64_t ut_cptr, uint64_t type, uint64_t size_bits,
                       uint64_t offset, uint64_t dest_cnode, uint64_t dest_index)
{
	struct cap *ut, *dest;
	int err = cap_get(t, ut_cptr, OBJ_UNTYPED, RIGHT_WRITE, &ut);
	if (err)
		return err;
	int bits = object_bits(type, size_bits);
	if (bits < 0)
		return -bits;
	/* device memory holds registers, not kernel objects */
	int device = (ut->flags & CAP_DEVICE) != 0;
	if (device && type != OBJ_FRAME && type != OBJ_UNTYPED)
		return E_WRONG_TYPE;
	if ((err = dest_slot(t, dest_cnode, dest_index, &dest)) || (err = cap_can_derive(ut)))
		return err;
	uint64_t placed;
	if ((err = retype_place((unsigned)ut->w0, ut->w1, (unsigned)bits, offset, &placed)))
		return err;

	uint64_t paddr = ut->obj + placed, bytes = 1ULL << bits, w0 = 0;
	if ((type == OBJ_VSPACE || type == OBJ_GUEST_SPACE) && (err = asid_alloc(paddr, &w0)))
		return err;
	if (type == OBJ_SHADOW_SPACE && (err = shadow_alloc(paddr, (unsigned)bits, &w0)))
		return err;
	if (type == OBJ_UNTYPED || type == OBJ_CNODE)
		w0 = size_bits;
	ut->w1 = placed + bytes;
	if (!device)
		object_init((unsigned)type, paddr, bytes);
	/* the right to learn physical addresses passes only from an Untyped
	 * that has it; on other objects it means nothing */
	unsigned rights = (RIGHTS_ALL & ~RIGHT_PHYS) |
	                  ((type == OBJ_FRAME || type == OBJ_UNTYPED) ? ut->rights & RIGHT_PHYS : 0);
	cap_set(dest, (unsigned)type, rights, paddr, w0, 0);
	dest->flags = ut->flags & CAP_DEVICE;
	if (type == OBJ_FRAME || type == OBJ_SHADOW_SPACE)
		dest->w2 = (uint64_t)bits;
	cap_insert_child(ut, dest);
	return E_OK;
}
