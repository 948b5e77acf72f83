/* Untyped retype: the only way kernel objects come into being after boot.
 * An Untyped hands out its memory in order (seL4's watermark): an object
 * goes at or above the watermark, aligned to its own size, and the
 * watermark moves past it, so two objects can never overlap. */
#include <berth/errors.h>
#include "object.h"
#include "retype.h"
#include "layout.h"
#include "vspace.h"
#include "klib.h"

void object_init(unsigned type, uint64_t paddr, uint64_t bytes)
{
	if (type != OBJ_UNTYPED) /* an untyped's content is nobody's yet */
		memset(P2V(paddr), 0, bytes);
	if (type == OBJ_VSPACE)
		vspace_init(paddr);
	else if (type == OBJ_TCB)
		tcb_init(P2V(paddr));
}

int sys_untyped_retype(struct tcb *t, uint64_t ut_cptr, uint64_t type, uint64_t size_bits,
                       uint64_t offset, uint64_t dest_cnode, uint64_t dest_slot)
{
	struct cap *ut, *cn, *dest;
	int err = cap_get(t, ut_cptr, OBJ_UNTYPED, RIGHT_WRITE, &ut);
	if (err)
		return err;
	int bits = object_bits(type, size_bits);
	if (bits < 0)
		return -bits;
	if ((err = cap_get(t, dest_cnode, OBJ_CNODE, RIGHT_WRITE, &cn)))
		return err;
	if (!(dest = cnode_slot(cn, dest_slot)))
		return E_BAD_CAP;
	if (dest->type != OBJ_NONE)
		return E_SLOT_FULL;
	uint64_t placed;
	if ((err = retype_place((unsigned)ut->w0, ut->w1, (unsigned)bits, offset, &placed)))
		return err;

	uint64_t paddr = ut->obj + placed, bytes = 1ULL << bits;
	ut->w1 = placed + bytes;
	object_init((unsigned)type, paddr, bytes);
	uint64_t w0 = type == OBJ_UNTYPED || type == OBJ_CNODE ? size_bits : 0;
	cap_set(dest, (unsigned)type, RIGHTS_ALL, paddr, w0, 0);
	return E_OK;
}
