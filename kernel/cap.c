/* CNodes and capability lookup.  Each thread has one root CNode and a
 * capability pointer is a slot index in it (a single level for now). */
#include <berth/errors.h>
#include "object.h"
#include "layout.h"
#include "klib.h"

struct cap *cnode_slot(const struct cap *cnode, uint64_t index)
{
	if (index >= (1ULL << cnode->w0))
		return 0;
	return (struct cap *)P2V(cnode->obj) + index;
}

struct cap *cspace_lookup(const struct tcb *t, uint64_t cptr)
{
	if (!t->cspace || cptr >= (1ULL << t->cspace_radix))
		return 0;
	return (struct cap *)P2V(t->cspace) + cptr;
}

/* Resolve cptr in t's space and check type and rights. */
int cap_get(const struct tcb *t, uint64_t cptr, unsigned type, unsigned rights, struct cap **out)
{
	struct cap *c = cspace_lookup(t, cptr);
	if (!c || c->type == OBJ_NONE)
		return E_BAD_CAP;
	if (c->type != type)
		return E_WRONG_TYPE;
	if ((c->rights & rights) != rights)
		return E_NO_RIGHTS;
	*out = c;
	return E_OK;
}

void cap_set(struct cap *slot, unsigned type, unsigned rights, uint64_t obj, uint64_t w0, uint64_t w1)
{
	memset(slot, 0, sizeof(*slot));
	slot->type = (uint8_t)type;
	slot->rights = (uint8_t)rights;
	slot->obj = obj;
	slot->w0 = w0;
	slot->w1 = w1;
}

/* Copy with rights reduced to `rights`.  Untyped and page-table caps carry
 * allocation and mapping state that only one copy may own until the
 * derivation tree arrives, so they are refused. */
int sys_cnode_copy(struct tcb *t, uint64_t src, uint64_t dest_cnode, uint64_t dest, uint64_t rights)
{
	struct cap *s = cspace_lookup(t, src), *cn, *d;
	if (!s || s->type == OBJ_NONE)
		return E_BAD_CAP;
	if (s->type == OBJ_UNTYPED || s->type == OBJ_PAGE_TABLE)
		return E_WRONG_TYPE;
	if (rights & ~(uint64_t)RIGHTS_ALL)
		return E_BAD_ARG;
	int err = cap_get(t, dest_cnode, OBJ_CNODE, RIGHT_WRITE, &cn);
	if (err)
		return err;
	if (!(d = cnode_slot(cn, dest)))
		return E_BAD_CAP;
	if (d->type != OBJ_NONE)
		return E_SLOT_FULL;
	uint64_t w0 = s->w0, w1 = s->w1;
	if (s->type == OBJ_FRAME)
		w0 = w1 = 0; /* a copy starts unmapped */
	cap_set(d, s->type, s->rights & (unsigned)rights, s->obj, w0, w1);
	return E_OK;
}
