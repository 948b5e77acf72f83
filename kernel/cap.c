/* CNodes, capability lookup, and making capabilities from capabilities:
 * copy, mint and move.  The lookup itself (cspace_lookup, cnode_slot) is
 * inline in object.h. */
#include <berth/errors.h>
#include <berth/syscall.h>
#include "object.h"
#include "layout.h"
#include "klib.h"

struct cap mdb_root;
uint64_t mdb_generation;

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

/* An empty slot `index` in the CNode that t's slot `cnode` names. */
int dest_slot(const struct tcb *t, uint64_t cnode, uint64_t index, struct cap **out)
{
	struct cap *cn, *d;
	int err = cap_get(t, cnode, OBJ_CNODE, RIGHT_WRITE, &cn);
	if (err)
		return err;
	if (!(d = cnode_slot(cn, index)))
		return E_BAD_CAP;
	if (d->type != OBJ_NONE)
		return E_SLOT_FULL;
	*out = d;
	return E_OK;
}

/* Whether parent may have one more level below it; callers ask before
 * they change anything. */
int cap_can_derive(const struct cap *parent)
{
	return parent->depth < CAP_DEPTH_MAX ? E_OK : E_LIMIT;
}

/* Link child into the tree right after parent, one level deeper. */
void cap_insert_child(struct cap *parent, struct cap *child)
{
	mdb_generation++;
	child->depth = parent->depth + 1;
	child->mdb_prev = parent;
	child->mdb_next = parent->mdb_next;
	if (parent->mdb_next)
		parent->mdb_next->mdb_prev = child;
	parent->mdb_next = child;
}

/*
 * Make dst a capability derived from src with rights reduced to `rights`.
 * A RECEIVE right is never duplicated: minting a receive capability makes
 * a SEND capability (Mach's make-send), copying one is refused.  Objects
 * whose capability carries allocation or mapping state (Untyped,
 * PageTable) and reply rights move only.  A mint of a port capability sets
 * its badge; a copy keeps it.
 */
int cap_derive_check(const struct cap *src, unsigned rights, int mint)
{
	if (rights & ~RIGHTS_ALL)
		return E_BAD_ARG;
	switch (src->type) {
	case OBJ_NONE:
		return E_BAD_CAP;
	case OBJ_UNTYPED:
	case OBJ_PAGE_TABLE:
	case OBJ_REPLY:
		return E_NOT_COPYABLE;
	case OBJ_PORT:
		if (src->rights & RIGHT_RECEIVE) {
			if (!mint || (rights & RIGHT_RECEIVE))
				return E_NOT_COPYABLE;
		}
		break;
	default:
		if (mint)
			return E_BAD_ARG; /* only port capabilities carry a badge */
	}
	return cap_can_derive(src);
}

int cap_derive(const struct cap *src, struct cap *dst, unsigned rights, uint64_t badge, int mint)
{
	int err = cap_derive_check(src, rights, mint);
	if (err)
		return err;
	unsigned r = src->rights & rights;
	uint64_t w0 = src->w0, w1 = src->w1;
	if (src->type == OBJ_FRAME)
		w0 = w1 = 0; /* a copy starts unmapped */
	if (src->type == OBJ_PORT && mint)
		w0 = badge;
	cap_set(dst, src->type, r, src->obj, w0, w1);
	dst->w2 = src->w2;
	dst->flags = src->flags;
	cap_insert_child((struct cap *)src, dst);
	if (dst->type == OBJ_PORT && (r & RIGHT_SEND) && !(r & RIGHT_RECEIVE))
		((struct port *)P2V(dst->obj))->send_refs++;
	return E_OK;
}

/* Move keeps the capability's place in the tree. */
void cap_move(struct cap *src, struct cap *dst)
{
	mdb_generation++;
	if (src->type == OBJ_VSPACE)
		vspace_caps_changed = 1;
	*dst = *src;
	if (dst->mdb_prev)
		dst->mdb_prev->mdb_next = dst;
	if (dst->mdb_next)
		dst->mdb_next->mdb_prev = dst;
	if (dst->type == OBJ_REPLY && dst->obj)
		((struct tcb *)P2V(dst->obj))->reply_cap = dst;
	memset(src, 0, sizeof(*src));
}

/* SYS_CNODE_COPY, _MINT, _MOVE, _DELETE, _REVOKE, SYS_CAP_IDENTIFY,
 * SYS_CAP_RESTRICT */
int sys_cnode(struct tcb *t, uint64_t op, struct context *r)
{
	struct cap *src = cspace_lookup(t, r->rdi), *dst;
	if (!src || src->type == OBJ_NONE)
		return E_BAD_CAP;
	int err;
	switch (op) {
	case SYS_CNODE_COPY:
	case SYS_CNODE_MINT:
		if ((err = dest_slot(t, r->rsi, r->rdx, &dst)))
			return err;
		return cap_derive(src, dst, (unsigned)r->r10, r->r8, op == SYS_CNODE_MINT);
	case SYS_CNODE_MOVE:
		if ((err = dest_slot(t, r->rsi, r->rdx, &dst)))
			return err;
		cap_move(src, dst);
		return E_OK;
	case SYS_CNODE_DELETE:
		cap_delete(src);
		return E_OK;
	case SYS_CNODE_REVOKE:
		cap_revoke(src);
		return E_OK;
	case SYS_CAP_RESTRICT:
		/* Untyped capabilities move only, so dropping a right in place is
		 * how one gives away less (init keeps RIGHT_PHYS from all but
		 * drivers).  Other capabilities are copied or minted with fewer
		 * rights instead; a port's rights also count its senders. */
		if (src->type != OBJ_UNTYPED)
			return E_WRONG_TYPE;
		if (r->rsi & ~(uint64_t)RIGHTS_ALL)
			return E_BAD_ARG;
		src->rights &= (uint8_t)r->rsi;
		return E_OK;
	case SYS_CAP_IDENTIFY:
		r->rdx = src->type;
		r->rsi = src->rights;
		r->rdi = src->type == OBJ_PORT ? src->w0 : src->type == OBJ_UNTYPED ? src->w1 : 0;
		return E_OK;
	}
	return E_BAD_SYSCALL;
}
