/*
 * Guest memory on loan (init.idl's mem_borrow and mem_return).  A VMM
 * that may give memory back (a balloon) cannot take its guest's RAM from
 * its own pool: an Untyped hands memory out upwards (the kernel's
 * watermark), so a frame freed in the middle of the pool is lost until
 * the whole pool is.  Instead it borrows 2 MiB chunks from us.
 *
 * Each chunk is two Untypeds: one we keep (the loan's own), and a child
 * of the same size, made from it, that moves to the borrower.  Revoking
 * ours takes the borrower's and everything made from it, wherever it is,
 * so a chunk comes back whole when it is returned or its borrower ends,
 * whatever the borrower did with it.  Returned chunks are kept and lent
 * again; they count as free memory.
 *
 * A chunk may instead be lent as one 2 MiB frame (mem_borrow_frame), the
 * form a VMM's guest RAM takes.  Such a frame can be shared: a VMM that
 * clones its VM gives the clone read-only copies of its frames and tells
 * us (mem_share), and the loan then has sharers besides its owner.  We
 * revoke it only when the last of them is done with it; when the owner
 * returns it or ends first, a sharer becomes the owner, so every loan in
 * use counts against exactly one borrow line.  A shared Untyped would make
 * no sense (its holder could retype it), so only frames are shared.  A
 * frame is copied, not moved, by the reply that lends it: our copy stays
 * in `lent` until the loan is reclaimed.
 */
#include <libipc/libipc.h>
#include "tasks.h"
#include "loans.h"

#define LOAN_BITS 21
#define LOANS_MAX 1024   /* 2 GiB: more than Berth's machines have */

struct loan {
	uint64_t chunk;      /* our Untyped; 0: not made yet */
	uint64_t lent;       /* the slot the borrower's child is made in, before it moves */
	unsigned task_id;    /* the owner's badge; 0: free */
	int frame;           /* lent as a 2 MiB frame, not an Untyped */
	uint32_t sharers;    /* bit i: task i holds copies of the frame too */
};

_Static_assert(MANIFEST_MAX_SERVERS < 32, "a task's badge is a bit of a loan's sharers");

static struct loan loans[LOANS_MAX];
static unsigned loans_made;

static unsigned loans_of(unsigned task_id)
{
	unsigned n = 0;
	for (unsigned i = 0; i < loans_made; i++)
		n += loans[i].task_id == task_id;
	return n;
}

long loan_borrow(struct task *t, int frame, uint32_t *index, uint64_t *chunk)
{
	if (!t || !t->m->borrow_mib)
		return E_NO_RIGHTS;
	if (loans_of(t->id) * 2 >= t->m->borrow_mib)
		return E_LIMIT;
	unsigned i = 0;
	while (i < loans_made && loans[i].task_id)
		i++;
	if (i == loans_made) {
		if (loans_made == LOANS_MAX)
			return E_RANGE;
		uint64_t lent = slot_alloc();
		if (!lent)
			return E_SLOT_FULL;
		long err = object_alloc(OBJ_UNTYPED, LOAN_BITS, &loans[i].chunk);
		if (err) {
			slot_free(lent);
			return err;
		}
		loans[i].lent = lent;
		loans_made++;
	}
	long err = sys_untyped_retype(loans[i].chunk, frame ? OBJ_FRAME : OBJ_UNTYPED, LOAN_BITS, RETYPE_NEXT_FREE,
	                              CAP_ROOT_CNODE, loans[i].lent);
	if (err)
		return err;
	loans[i].task_id = t->id;
	loans[i].frame = frame;
	loans[i].sharers = 0;
	*index = i;
	*chunk = loans[i].lent; /* the reply moves it: the slot is empty again after */
	return E_OK;
}

static void loan_reclaim(struct loan *l)
{
	sys_cnode_revoke(l->chunk);
	sys_cnode_delete(l->lent); /* a frame's, or an Untyped the reply could not move */
	l->task_id = 0;
}

static int holds(const struct loan *l, unsigned task_id)
{
	return l->task_id && (l->task_id == task_id || ((l->sharers >> task_id) & 1));
}

/* task_id is done with the loan: a sharer drops out; an owner hands the
 * loan to the sharer with the lowest badge, or it comes back to us. */
static void loan_let_go(struct loan *l, unsigned task_id)
{
	l->sharers &= ~(1u << task_id);
	if (l->task_id != task_id)
		return;
	if (!l->sharers) {
		loan_reclaim(l);
		return;
	}
	l->task_id = (unsigned)__builtin_ctz(l->sharers);
	l->sharers &= l->sharers - 1;
}

long loan_return(struct task *t, uint32_t index)
{
	if (!t || index >= loans_made || !holds(&loans[index], t->id))
		return E_BAD_ARG;
	loan_let_go(&loans[index], t->id);
	return E_OK;
}

long loan_share(struct task *t, uint32_t index, struct task *with)
{
	if (!t || index >= loans_made || !holds(&loans[index], t->id))
		return E_BAD_ARG;
	if (!loans[index].frame)
		return E_WRONG_TYPE;
	if (!with || with == t || !with->running || !task_is_vm(with))
		return E_BAD_ARG;
	if (!holds(&loans[index], with->id))
		loans[index].sharers |= 1u << with->id;
	return E_OK;
}

/* Our copy of the frame of a loan t holds, for reading (pages.c), or 0. */
uint64_t loan_frame(const struct task *t, uint32_t index)
{
	if (!t || index >= loans_made || !holds(&loans[index], t->id) || !loans[index].frame)
		return 0;
	return loans[index].lent;
}

void loans_drop_task(const struct task *t)
{
	for (unsigned i = 0; i < loans_made; i++)
		if (holds(&loans[i], t->id))
			loan_let_go(&loans[i], t->id);
}

void loans_sharing(uint64_t *shared, uint64_t *saved)
{
	*shared = *saved = 0;
	for (unsigned i = 0; i < loans_made; i++)
		if (loans[i].task_id && loans[i].sharers) {
			*shared += 1ULL << LOAN_BITS;
			*saved += (uint64_t)__builtin_popcount(loans[i].sharers) << LOAN_BITS;
		}
}

uint64_t loans_held(const struct task *t)
{
	return (uint64_t)loans_of(t->id) << LOAN_BITS;
}

uint64_t loans_free_bytes(void)
{
	return (uint64_t)loans_of(0) << LOAN_BITS;
}
