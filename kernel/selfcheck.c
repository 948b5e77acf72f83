/*
 * The kernel's self-check: after every kernel entry (in kernel_exit) it
 * walks every object and every reference between objects and panics,
 * naming what broke, when an invariant of docs/kernel-objects.md does not
 * hold.  It is built only into the test kernel (BERTH_SELFCHECK; the
 * command-line word selfcheck=N runs it on every Nth exit instead); the
 * kernels of make run and make bench do not contain it.
 *
 * What it checks:
 *  - the derivation list: one list from mdb_root, links both ways, depths
 *    that only grow one level at a time, every capability stored in a live
 *    CNode slot or in a live thread's own capability fields;
 *  - memory: every object lies inside the used part of the Untyped it was
 *    retyped from, objects with the same parent never overlap, the
 *    capabilities to one object are next to each other, every Untyped's
 *    watermark is the end of its highest child;
 *  - threads: the run queues hold exactly the runnable threads (but the
 *    running one, which may be off them), and the ready bitmap has a bit
 *    for exactly the non-empty queues; a blocked
 *    thread is on the queue of a live port, a caller waiting for its reply
 *    is named by exactly the reply capability it points at;
 *  - reply capabilities in every CNode name live callers waiting on them,
 *    and hold nothing else; empty slots are all zero (what the IPC fast
 *    path relies on);
 *  - ports: queues, timer list and interrupt bindings name live objects;
 *  - address spaces: every entry of every live VSpace and GuestSpace that
 *    points into memory handed out as Untyped names a live page table or
 *    frame; every address-space ID names a live space (walked again only
 *    when an entry or the list changed: vspace_generation, mdb_generation);
 *  - shadow spaces: each live one is the table slot its capability names,
 *    every slot in use names a live one; its tables point only into its
 *    own pool (below the part handed out) and its leaves only at live
 *    frames; one bound to no live GuestSpace is empty.
 */
#include <berth/object.h>
#include "object.h"
#include "selfcheck.h"
#include "layout.h"
#include "vspace.h"
#include "klib.h"
#include "shadow.h"

#ifdef BERTH_SELFCHECK

#define MAX_OBJECTS (1 << 16)
#define HASH_BITS 17                /* twice MAX_OBJECTS: short probes */
#define MAX_BOOT_OBJECTS 8192        /* the root CNode's slots: no more boot capabilities fit */
#define MAX_UNTYPED_NESTING 64

struct object {
	uint64_t start, end;        /* physical, [start, end) */
	const struct cap *cap;      /* its first capability on the list */
};

/* Every live object but Untypeds, found by its start address (a hash
 * table whose entries count as empty unless they carry this walk's
 * epoch, so it never needs clearing). */
static struct object objects[MAX_OBJECTS];
static struct { uint64_t start; uint32_t epoch, index; } by_start[1 << HASH_BITS];
static struct object boot_objects[MAX_BOOT_OBJECTS];  /* children of mdb_root */
static struct object boot_untyped[256];
static int nobjects, nboot, nboot_untyped;
static uint64_t list_length;
static uint16_t epoch;
static uint64_t check_every = 1, exits, walked_generation = ~0UL;
static uint64_t spaces_walked_at[2] = { ~0UL, ~0UL };  /* mdb and vspace generations */

__attribute__((noreturn)) static void broken(const char *what, const struct cap *c)
{
	if (c)
		panic("selfcheck: %s (capability at %p: type %u rights %x obj %lx w0 %lx w1 %lx depth %u)",
		      what, (const void *)c, c->type, c->rights, c->obj, c->w0, c->w1, c->depth);
	panic("selfcheck: %s", what);
}

static int has_memory(unsigned type)
{
	return type != OBJ_NONE && type < OBJ_TYPE_COUNT;
}

static unsigned hash_slot(uint64_t start)
{
	return (unsigned)(((start >> 7) * 0x9e3779b97f4a7c15UL) >> (64 - HASH_BITS));
}

static void remember(const struct cap *c)
{
	if (nobjects == MAX_OBJECTS)
		broken("more live objects than the self-check can hold (raise MAX_OBJECTS)", c);
	unsigned h = hash_slot(c->obj);
	while (by_start[h].epoch == epoch) {
		if (by_start[h].start == c->obj)
			broken("two objects on the same memory", c);
		h = (h + 1) & ((1u << HASH_BITS) - 1);
	}
	by_start[h].start = c->obj;
	by_start[h].epoch = epoch;
	by_start[h].index = (uint32_t)nobjects;
	objects[nobjects++] = (struct object){ c->obj, c->obj + object_size(c), c };
}

/* The live object (not an Untyped) that starts at pa, or 0. */
static const struct object *object_at(uint64_t pa)
{
	for (unsigned h = hash_slot(pa); by_start[h].epoch == epoch; h = (h + 1) & ((1u << HASH_BITS) - 1))
		if (by_start[h].start == pa)
			return &objects[by_start[h].index];
	return 0;
}

static int in_untyped_memory(uint64_t pa)
{
	for (int i = 0; i < nboot_untyped; i++)
		if (pa >= boot_untyped[i].start && pa < boot_untyped[i].end)
			return 1;
	return 0;
}

static const struct tcb *live_tcb(const void *p)
{
	const struct object *o = p ? object_at(V2P(p)) : 0;
	return o && (o->cap->type == OBJ_TCB || o->cap->type == OBJ_VCPU) ? p : 0;
}

static const struct port *live_port(const void *p)
{
	const struct object *o = p ? object_at(V2P(p)) : 0;
	return o && o->cap->type == OBJ_PORT ? p : 0;
}

/* --- the derivation list and memory --- */

/*
 * An Untyped hands out memory upwards from its start and puts each new
 * child first after itself on the list, so its direct children appear in
 * descending order of address, the first one ending exactly at the
 * watermark.  Checking that order as the walk meets them proves siblings
 * never overlap and the watermark is right, without sorting.
 */
struct untyped_frame {
	const struct cap *cap;
	uint64_t limit;     /* the next child must end at or below this */
	int seen_child;
};

static void new_child(struct untyped_frame *f, const struct cap *c)
{
	uint64_t end = c->obj + object_size(c);
	if (c->obj < f->cap->obj || end <= c->obj)
		broken("an object outside its Untyped", c);
	if (!f->seen_child && end != f->cap->obj + f->cap->w1)
		broken("an Untyped's watermark is not the end of its highest child", f->cap);
	if (f->seen_child && end > f->limit)
		broken("two objects on the same memory (or children of an Untyped out of order)", c);
	f->limit = c->obj;
	f->seen_child = 1;
}

static void close_untyped(const struct untyped_frame *f)
{
	if (!f->seen_child && f->cap->w1)
		broken("an Untyped with memory in use but no children", f->cap);
}

static int by_start_less(const struct object *a, const struct object *b)
{
	return a->start < b->start;
}

/* Boot memory is few objects in no particular order: sort and compare
 * neighbours (heapsort: bounded stack, no allocation). */
static void sift(struct object *r, int root, int n)
{
	for (;;) {
		int child = 2 * root + 1;
		if (child >= n)
			return;
		if (child + 1 < n && by_start_less(&r[child], &r[child + 1]))
			child++;
		if (!by_start_less(&r[root], &r[child]))
			return;
		struct object tmp = r[root];
		r[root] = r[child];
		r[child] = tmp;
		root = child;
	}
}

static void check_boot_objects(void)
{
	struct object *r = boot_objects;
	int n = nboot;
	for (int i = n / 2 - 1; i >= 0; i--)
		sift(r, i, n);
	for (int end = n - 1; end > 0; end--) {
		struct object tmp = r[0];
		r[0] = r[end];
		r[end] = tmp;
		sift(r, 0, end);
	}
	for (int i = 1; i < n; i++)
		if (r[i].start < r[i - 1].end)
			broken("two boot objects on the same memory", r[i].cap);
}

static void walk_derivations(void)
{
	static struct untyped_frame stack[MAX_UNTYPED_NESTING];
	int top = 0;
	const struct cap *prev = &mdb_root, *last_object = 0;
	if (mdb_root.mdb_prev || mdb_root.depth || mdb_root.type != OBJ_NONE)
		broken("mdb_root is not the head of the list", &mdb_root);
	nobjects = nboot = nboot_untyped = 0;
	list_length = 0;
	for (const struct cap *c = mdb_root.mdb_next; c; prev = c, c = c->mdb_next) {
		if (++list_length > (1UL << 26))
			broken("the derivation list does not end", c);
		if (c->mdb_prev != prev)
			broken("a derivation link that does not point back", c);
		if (c->type == OBJ_NONE || c->type == OBJ_REPLY || (c->type >= OBJ_TYPE_COUNT && c->type < OBJ_REPLY) ||
		    c->type > OBJ_TRACE_CONTROL)
			broken("an empty or impossible capability on the derivation list", c);
		if (c->depth == 0 || c->depth > prev->depth + 1)
			broken("a depth out of order on the derivation list", c);
		((struct cap *)c)->check_mark = epoch;
		while (top > 0 && stack[top].cap->depth >= c->depth)
			close_untyped(&stack[top--]);
		if (!has_memory(c->type))
			continue;
		int same = last_object && last_object->type == c->type && last_object->obj == c->obj &&
		           c->type != OBJ_UNTYPED;
		last_object = c;
		if (same)
			continue;
		/* the first capability to an object: its parent is an Untyped,
		 * or the list's head for boot memory */
		if (top > 0 && stack[top].cap->depth + 1 == c->depth) {
			new_child(&stack[top], c);
		} else if (c->depth == 1) {
			if (nboot == MAX_BOOT_OBJECTS)
				broken("more boot objects than the self-check can hold", c);
			boot_objects[nboot++] = (struct object){ c->obj, c->obj + object_size(c), c };
		} else {
			broken("an object whose first capability is not a child of an Untyped", c);
		}
		if (c->type != OBJ_UNTYPED) {
			remember(c);
			continue;
		}
		if (c->w1 > object_size(c))
			broken("an Untyped's watermark beyond its end", c);
		if (c->depth == 1) {
			if (nboot_untyped == (int)ARRAY_SIZE(boot_untyped))
				broken("more boot Untypeds than the self-check can hold", c);
			boot_untyped[nboot_untyped++] = (struct object){ c->obj, c->obj + object_size(c), c };
		}
		if (top + 1 == MAX_UNTYPED_NESTING)
			broken("Untypeds nested deeper than the self-check can follow", c);
		stack[++top] = (struct untyped_frame){ c, c->obj + c->w1, 0 };
	}
	while (top > 0)
		close_untyped(&stack[top--]);
	check_boot_objects();
}

/* What the IPC fast path writes without looking (ipc.c): an empty slot
 * is all zero, and a Reply capability holds nothing but its type,
 * rights, caller (obj) and gone-caller flag (w0), that flag clear while
 * it names a caller. */
static void check_slot(const struct cap *c)
{
	/* every slot of every CNode on every exit: words, not memcmp's bytes */
	if (c->type == OBJ_NONE && ((uint64_t)c->rights | c->check_mark | c->depth | c->obj | c->w0 | c->w1 |
	                            (uintptr_t)c->mdb_prev | (uintptr_t)c->mdb_next | c->w2 | c->flags))
		broken("an empty slot that is not all zero", c);
	if (c->type == OBJ_REPLY && (c->check_mark || c->depth || c->w1 || c->mdb_prev || c->mdb_next || c->w2 ||
	                             c->flags || (c->obj && c->w0)))
		broken("a Reply capability with more than its type, rights, caller and flag", c);
}

/* Every capability lives in a slot of a live CNode or in a live thread's
 * own fields, and every capability there is on the list (the walk marked
 * it): the storage and the list hold exactly the same capabilities. */
static void check_storage(void)
{
	uint64_t stored = 0;
	for (int i = 0; i < nobjects; i++) {
		const struct cap *k = objects[i].cap;
		if (k->type == OBJ_CNODE) {
			const struct cap *slot = P2V(objects[i].start);
			if (slot[0].type != OBJ_NONE)
				broken("slot 0 of a CNode holds a capability", &slot[0]);
			for (uint64_t s = 1; s < (1ULL << k->w0); s++) {
				check_slot(&slot[s]);
				if (slot[s].type == OBJ_NONE || slot[s].type == OBJ_REPLY)
					continue;
				if (slot[s].check_mark != epoch)
					broken("a capability in a CNode that is not on the derivation list", &slot[s]);
				stored++;
			}
		} else if (k->type == OBJ_TCB || k->type == OBJ_VCPU) {
			const struct tcb *t = P2V(objects[i].start);
			const struct cap *own[4] = { &t->cspace_cap, &t->vspace_cap, &t->fault_cap, &t->ipcbuf_cap };
			for (int j = 0; j < 4; j++) {
				if (own[j]->type == OBJ_NONE)
					continue;
				if (own[j]->check_mark != epoch)
					broken("a capability in a thread that is not on the derivation list", own[j]);
				stored++;
			}
		}
	}
	if (stored != list_length)
		broken("a capability on the derivation list that is stored in no live CNode or thread", 0);
}

/* --- threads, ports, reply rights --- */

static int queue_holds(const struct tcb *head, const struct tcb *t)
{
	int n = 0;
	for (const struct tcb *q = head; q; q = q->ipc_next)
		if (q == t || ++n > MAX_OBJECTS)
			return q == t;
	return 0;
}

static void check_thread(const struct tcb *t, const struct cap *c)
{
	switch (t->state) {
	case THREAD_INACTIVE:
	case THREAD_RUNNABLE:
	case THREAD_FAULTED:
		break;
	case THREAD_BLOCKED_SEND:
	case THREAD_BLOCKED_CALL:
	case THREAD_BLOCKED_RECV: {
		const struct port *p = live_port(t->ipc_port);
		if (!p)
			broken("a thread blocked on a port that is no live port", c);
		if (!queue_holds(t->state == THREAD_BLOCKED_RECV ? p->recv_head : p->send_head, t))
			broken("a thread blocked on a port whose queue does not hold it", c);
		break;
	}
	case THREAD_BLOCKED_REPLY: {
		/* the reply right names t; check_reply_rights finds it in a
		 * live CNode, and that it is the one t points at */
		const struct cap *r = t->reply_cap;
		if (!r || r->type != OBJ_REPLY || r->obj != V2P(t))
			broken("a caller waiting for a reply right that does not name it", c);
		break;
	}
	default:
		broken("a live thread in an impossible state", c);
	}
	if (t->state != THREAD_BLOCKED_REPLY && t->reply_cap)
		broken("a thread that points at a reply right while not waiting for a reply", c);
}

static void check_port(const struct port *p, const struct cap *c)
{
	for (int q = 0; q < 2; q++) {
		const struct tcb *prev = 0, *head = q ? p->recv_head : p->send_head;
		int n = 0;
		for (const struct tcb *t = head; t; prev = t, t = t->ipc_next) {
			if (!live_tcb(t))
				broken("a port queue holding something that is no live thread", c);
			if (t->ipc_prev != prev || t->ipc_port != p || ++n > MAX_OBJECTS)
				broken("a port queue whose links are inconsistent", c);
			int recv = t->state == THREAD_BLOCKED_RECV;
			if (recv != q || (!recv && t->state != THREAD_BLOCKED_SEND && t->state != THREAD_BLOCKED_CALL))
				broken("a thread on a port queue that is not blocked on it", c);
		}
		if ((q ? p->recv_tail : p->send_tail) != prev)
			broken("a port queue whose tail is wrong", c);
	}
	if (p->dead && (p->send_head || p->recv_head))
		broken("a dead port with threads waiting on it", c);
}

/* Reply rights are not on the derivation list: find them in every CNode.
 * Each names a live thread waiting on exactly that right; with the count
 * of waiting threads equal, every waiting thread's right is in a live
 * CNode. */
static int check_reply_rights(void)
{
	int n = 0;
	for (int i = 0; i < nobjects; i++) {
		const struct cap *k = objects[i].cap;
		if (k->type != OBJ_CNODE)
			continue;
		const struct cap *slot = P2V(objects[i].start);
		for (uint64_t s = 1; s < (1ULL << k->w0); s++) {
			const struct cap *r = &slot[s];
			if (r->type != OBJ_REPLY || !r->obj)
				continue;
			const struct tcb *t = live_tcb(P2V(r->obj));
			if (!t)
				broken("a reply right naming something that is no live thread", r);
			if (t->state != THREAD_BLOCKED_REPLY || t->reply_cap != r)
				broken("a reply right naming a thread that does not wait on it", r);
			n++;
		}
	}
	return n;
}

static void check_threads_and_ports(void)
{
	int runnable = 0, waiting = 0;
	for (int i = 0; i < nobjects; i++) {
		const struct cap *c = objects[i].cap;
		if (c->type == OBJ_TCB || c->type == OBJ_VCPU) {
			const struct tcb *t = P2V(objects[i].start);
			check_thread(t, c);
			runnable += t->state == THREAD_RUNNABLE;
			waiting += t->state == THREAD_BLOCKED_REPLY;
		} else if (c->type == OBJ_PORT) {
			check_port(P2V(objects[i].start), c);
		}
	}
	int queued = 0;
	for (unsigned prio = 0; prio <= PRIORITY_MAX; prio++) {
		const struct tcb *prev = 0;
		for (const struct tcb *t = sched_queue_head(prio); t; prev = t, t = t->rq_next) {
			if (!live_tcb(t))
				broken("a run queue holding something that is no live thread", 0);
			if (t->state != THREAD_RUNNABLE || t->prio != prio || t->rq_prev != prev)
				broken("a run queue holding a thread that is not runnable there", 0);
			if (++queued > runnable)
				break;
		}
	}
	/* the running thread may be off the queues (sched.c) */
	if (queued + sched_running_off_queue() != runnable)
		broken("the run queues do not hold exactly the runnable threads", 0);
	int level = sched_bitmap_disagrees();
	if (level >= 0) {
		printk("berth: selfcheck: priority %d\n", level);
		broken("the ready bitmap disagrees with the run queues", 0);
	}
	if (current && !live_tcb(current))
		broken("the current thread is no live thread", 0);
	if (sched_fpu_owner() && !live_tcb(sched_fpu_owner()))
		broken("the FPU's owner is no live thread", 0);
	int n = 0;
	for (const struct port *p = timeout_first(); p; p = p->timer_next)
		if (!live_port(p) || !p->timer_armed || ++n > MAX_OBJECTS)
			broken("the timer list holds something that is no armed live port", 0);
	for (int line = 0; line < 16; line++)
		for (int i = 0; i < IRQ_HANDLERS_PER_LINE; i++)
			if (irq_handler_port(line, i) && !live_port(irq_handler_port(line, i)))
				broken("an interrupt line bound to something that is no live port", 0);
	if (log_reader() && !live_port(log_reader()))
		broken("the kernel's log goes to something that is no live port", 0);
	if (check_reply_rights() != waiting)
		broken("a caller waiting for a reply whose reply right is in no live CNode", 0);
}

/* --- address spaces --- */

static void check_table(const uint64_t *table, int level, int first, int last, const struct cap *space)
{
	uint64_t live_large = ~0UL;   /* a 2 MiB frame found live here: its other pieces need no lookup */
	for (int i = first; i < last; i++) {
		uint64_t e = table[i];
		if (!(e & PTE_P))
			continue;
		uint64_t pa = e & PTE_ADDR;
		/* a page directory's entry with PS maps a 2 MiB frame */
		int leaf = level == 1 || (level == 2 && (e & PTE_PS));
		if (level > 2 && (e & PTE_PS))
			broken("a 1 GiB page in an address space", space);
		/* boot memory (the root task's image, stack and tables) is no
		 * object, but never goes back either */
		if (level == 1 && (e & PTE_AVL_PIECE)) {
			/* a piece of a 2 MiB frame, or a 4 KiB frame as one (MAP_PIECES) */
			uint64_t large = pa & ~(LARGE_PAGE_SIZE - 1);
			if (large == live_large)
				continue;
			const struct object *o = object_at(large), *small = object_at(pa);
			if (o && o->cap->type == OBJ_FRAME && o->end - o->start == LARGE_PAGE_SIZE)
				live_large = large;
			else if (!small || small->cap->type != OBJ_FRAME || small->end - small->start != PAGE_SIZE)
				broken("a space mapping a piece of what is no live frame", space);
		} else if (in_untyped_memory(pa)) {
			const struct object *o = object_at(pa);
			unsigned want = leaf ? OBJ_FRAME : OBJ_PAGE_TABLE;
			if (!o || o->cap->type != want || o->start != pa)
				broken(!leaf ? "an address space pointing at a page table that is not live"
				             : "an address space mapping memory that is no live frame", space);
			if (leaf && o->end - o->start != (level == 2 ? LARGE_PAGE_SIZE : PAGE_SIZE))
				broken("a frame mapped with a page size that is not its own", space);
		}
		if (!leaf)
			check_table(P2V(pa), level - 1, 0, 512, space);
	}
}

static void check_spaces(void)
{
	for (int i = 0; i < nobjects; i++) {
		const struct cap *c = objects[i].cap;
		if (c->type != OBJ_VSPACE && c->type != OBJ_GUEST_SPACE)
			continue;
		if (asid_space(c->w0) != c->obj)
			broken("a live address space whose ID names another", c);
		check_table(P2V(c->obj), 4, 0, c->type == OBJ_VSPACE ? 256 : 512, c);
	}
	for (uint64_t asid = 1; asid < ASID_COUNT; asid++) {
		uint64_t pml4 = asid_space(asid);
		const struct object *o = pml4 ? object_at(pml4) : 0;
		if (pml4 && (!o || (o->cap->type != OBJ_VSPACE && o->cap->type != OBJ_GUEST_SPACE)))
			broken("an address-space ID naming something that is no live space", 0);
	}
}

/* --- shadow spaces (shadow.c) --- */

/* A shadow leaf names a 4 KiB page of a live frame, a small one or part
 * of a large one. */
static int in_live_frame(uint64_t pa)
{
	const struct object *o = object_at(pa & ~(PAGE_SIZE - 1));
	if (!o || o->cap->type != OBJ_FRAME)
		o = object_at(pa & ~(LARGE_PAGE_SIZE - 1));
	return o && o->cap->type == OBJ_FRAME && pa >= o->start && pa < o->end;
}

static void check_shadow_table(const struct shadow_space *s, const uint64_t *table, int level,
                               const struct cap *c, int bound)
{
	uint64_t pool = s->base + PAGE_SIZE, pool_end = pool + PAGE_SIZE * s->used;
	for (int i = 0; i < 512; i++) {
		uint64_t e = table[i], pa = e & PTE_ADDR;
		if (!(e & PTE_P))
			continue;
		if (!bound)
			broken("a shadow space bound to no live guest space that is not empty", c);
		if (e & (PTE_PS | 0x100UL))
			broken("a large or global page in a shadow space", c);
		if (level == 1) {
			if (!in_live_frame(pa))
				broken("a shadow space mapping memory that is no live frame", c);
			continue;
		}
		if (pa < pool || pa >= pool_end)
			broken("a shadow table pointing outside its own pool", c);
		check_shadow_table(s, P2V(pa), level - 1, c, bound);
	}
}

static void check_shadows(void)
{
	for (int i = 0; i < nobjects; i++) {
		const struct cap *c = objects[i].cap;
		if (c->type != OBJ_SHADOW_SPACE)
			continue;
		const struct shadow_space *s = shadow_at(c->w0);
		if (!s || s->base != c->obj || s->pages * PAGE_SIZE != object_size(c) || 1 + s->used > s->pages)
			broken("a live shadow space whose table slot names another", c);
		check_shadow_table(s, P2V(s->base), 4, c, s->guest && handle_pml4(s->guest));
	}
	for (uint64_t id = 0; id < SHADOW_COUNT; id++) {
		const struct shadow_space *s = shadow_at(id);
		const struct object *o = s->base ? object_at(s->base) : 0;
		if (s->base && (!o || o->cap->type != OBJ_SHADOW_SPACE || o->cap->w0 != id))
			broken("a shadow-space slot naming something that is no live shadow space", 0);
	}
}

void selfcheck_configure(uint64_t every)
{
	check_every = every ? every : 1;
}

void selfcheck(void)
{
	if (++exits % check_every)
		return;
	/* the list and the memory it describes change only with the list;
	 * everything else is checked on every exit */
	if (walked_generation != mdb_generation) {
		epoch++;
		if (epoch == 0)   /* 0 is what a slot holds that no walk marked */
			epoch = 1;
		walk_derivations();
		check_storage();
		walked_generation = mdb_generation;
	}
	if (!tcb_scratch_empty())
		broken("a capability left in a kernel slot between calls", 0);
	check_threads_and_ports();
	/* page tables change only through vspace.c, which counts each change,
	 * and what they may point at only with the list: walking every space
	 * on every exit made the self-check kernel too slow for two VMs */
	if (spaces_walked_at[0] != mdb_generation || spaces_walked_at[1] != vspace_generation) {
		check_spaces();
		spaces_walked_at[0] = mdb_generation;
		spaces_walked_at[1] = vspace_generation;
	}
	check_shadows();
}

#else

void selfcheck_configure(uint64_t every)
{
	(void)every;
}

#endif
