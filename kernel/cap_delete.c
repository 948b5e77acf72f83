/*
 * Delete and revoke.  Deleting a capability undoes what it alone stands
 * for (a frame mapping, a send right, a receive right); deleting the last
 * capability to an object destroys the object and gives its memory back
 * to the Untyped it came from.
 *
 * Destroying a CNode or a TCB means deleting the capabilities inside it,
 * which may destroy further CNodes and TCBs.  To keep the kernel stack
 * bounded whatever user space built, those objects become zombies on a
 * list and are emptied in a loop at the end of the operation (slot 0 of a
 * CNode, which never holds a capability, keeps the list link and cursor).
 * Nothing reuses their memory before the loop ends: it runs inside one
 * system call.
 */
#include <berth/errors.h>
#include "object.h"
#include "layout.h"
#include "vspace.h"
#include "klib.h"
#include "shadow.h"

static struct cap *cnode_zombies; /* slot 0 of each: obj = next, w0 = cursor, w1 = radix */
static struct tcb *tcb_zombies;

static void revoke_range(struct cap *c);

static int same_object(const struct cap *a, const struct cap *b)
{
	return a && b && a->type == b->type && a->obj == b->obj && a->type != OBJ_UNTYPED;
}

static int is_final(const struct cap *c)
{
	return !same_object(c, c->mdb_prev) && !same_object(c, c->mdb_next);
}

/* The Untyped an object's memory came from: the nearest entry before it
 * with a smaller depth, if that is an Untyped. */
static struct cap *parent_untyped(const struct cap *c)
{
	struct cap *p = c->mdb_prev;
	while (p && p->depth >= c->depth)
		p = p->mdb_prev;
	return p && p->type == OBJ_UNTYPED ? p : 0;
}

/* After a child is gone, the watermark falls back to the end of the
 * highest child still alive (0 when none is), so freed memory at the top
 * can be retyped again. */
static void untyped_recompute(struct cap *u)
{
	uint64_t mark = 0;
	for (struct cap *c = u->mdb_next; c && c->depth > u->depth; c = c->mdb_next) {
		if (c->depth != u->depth + 1)
			continue;
		uint64_t end = c->obj - u->obj + object_size(c);
		if (end > mark)
			mark = end;
	}
	u->w1 = mark;
}

static void mdb_unlink(struct cap *c)
{
	mdb_generation++;
	/* children move up a level so revoke of c's parent still finds them */
	for (struct cap *d = c->mdb_next; d && d->depth > c->depth; d = d->mdb_next)
		d->depth--;
	if (c->mdb_prev)
		c->mdb_prev->mdb_next = c->mdb_next;
	if (c->mdb_next)
		c->mdb_next->mdb_prev = c->mdb_prev;
}

static void tcb_zombify(struct tcb *t)
{
	thread_stop(t);
	sched_forget(t);
	t->state = THREAD_DEAD;
	t->zombie_next = tcb_zombies;
	tcb_zombies = t;
}

static void cnode_zombify(const struct cap *c)
{
	struct cap *head = P2V(c->obj);
	head->obj = (uint64_t)cnode_zombies;
	head->w0 = 1;
	head->w1 = c->w0;
	cnode_zombies = head;
}

/* What this one capability stands for, whether or not it is the last. */
static void release_cap(struct cap *c)
{
	switch (c->type) {
	case OBJ_FRAME:
		frame_unmap(c);
		break;
	case OBJ_PORT: {
		struct port *p = P2V(c->obj);
		if (c->rights & RIGHT_RECEIVE)
			port_kill(p);
		else if (c->rights & RIGHT_SEND)
			port_send_ref_dropped(p);
		break;
	}
	default:
		break;
	}
}

/* The object itself, when its last capability is gone. */
static void destroy_object(struct cap *c)
{
	switch (c->type) {
	case OBJ_CNODE:
		cnode_zombify(c);
		break;
	case OBJ_TCB:
	case OBJ_VCPU:
		tcb_zombify(P2V(c->obj));
		break;
	case OBJ_VSPACE:
	case OBJ_GUEST_SPACE:
		vspace_destroy(c->obj, c->w0);
		break;
	case OBJ_SHADOW_SPACE:
		shadow_destroy(c->w0);
		break;
	case OBJ_PAGE_TABLE:
		if (c->w0)
			vspace_unmap_table_handle(c->w0, c->w1, c->obj);
		break;
	case OBJ_IRQ_HANDLER:
		irq_handler_destroyed(c);
		break;
	case OBJ_PORT:
		irq_port_destroyed(P2V(c->obj));
		timeout_port_destroyed(P2V(c->obj));
		log_port_destroyed(P2V(c->obj));
		break;
	default:
		break;
	}
}

/* Delete one capability; never deletes another synchronously except the
 * descendants of an Untyped, whose memory is going away. */
static void delete_one(struct cap *c, int update_parent)
{
	if (c->type == OBJ_NONE)
		return;
	if (c->type == OBJ_REPLY) { /* not in the tree */
		reply_cap_destroyed(c);
		memset(c, 0, sizeof(*c));
		return;
	}
	if (c->type == OBJ_UNTYPED)
		revoke_range(c);
	if (c->type == OBJ_VSPACE)
		vspace_caps_changed = 1;
	struct cap *parent = update_parent ? parent_untyped(c) : 0;
	int final = is_final(c);
	release_cap(c);
	if (final)
		destroy_object(c);
	mdb_unlink(c);
	memset(c, 0, sizeof(*c));
	if (final && parent)
		untyped_recompute(parent);
}

static void run_zombies(void)
{
	while (tcb_zombies || cnode_zombies) {
		if (tcb_zombies) {
			struct tcb *t = tcb_zombies;
			tcb_zombies = t->zombie_next;
			delete_one(&t->cspace_cap, 1);
			delete_one(&t->vspace_cap, 1);
			delete_one(&t->fault_cap, 1);
			delete_one(&t->ipcbuf_cap, 1);
			continue;
		}
		struct cap *head = cnode_zombies;
		uint64_t slots = 1ULL << head->w1;
		while (head->w0 < slots) {
			struct cap *slot = head + head->w0++;
			delete_one(slot, 1); /* may push zombies; head stays first */
		}
		/* new zombies went in front of us: unlink wherever we are */
		struct cap **pp = &cnode_zombies;
		while (*pp != head)
			pp = (struct cap **)&(*pp)->obj;
		*pp = (struct cap *)head->obj;
		memset(head, 0, sizeof(*head));
	}
}

void cap_delete(struct cap *c)
{
	delete_one(c, 1);
	run_zombies();
}

/* Delete every capability derived from c, deepest and last first, so no
 * deletion has to move children up.  delete_one never removes anything
 * before the entry it deletes, so `prev` stays valid. */
static void revoke_range(struct cap *c)
{
	struct cap *last = c;
	while (last->mdb_next && last->mdb_next->depth > c->depth)
		last = last->mdb_next;
	while (last != c) {
		struct cap *prev = last->mdb_prev;
		delete_one(last, 0);
		last = prev;
	}
	if (c->type == OBJ_UNTYPED)
		c->w1 = 0;
}

void cap_revoke(struct cap *c)
{
	revoke_range(c);
	run_zombies();
}
