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
 */
#include <libipc/libipc.h>
#include "tasks.h"
#include "loans.h"

#define LOAN_BITS 21
#define LOANS_MAX 1024   /* 2 GiB: more than Berth's machines have */

struct loan {
	uint64_t chunk;      /* our Untyped; 0: not made yet */
	uint64_t lent;       /* the slot the borrower's child is made in, before it moves */
	unsigned task_id;    /* the borrower's badge; 0: free */
};

static struct loan loans[LOANS_MAX];
static unsigned loans_made;

static unsigned loans_of(unsigned task_id)
{
	unsigned n = 0;
	for (unsigned i = 0; i < loans_made; i++)
		n += loans[i].task_id == task_id;
	return n;
}

long loan_borrow(struct task *t, uint32_t *index, uint64_t *chunk)
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
	long err = sys_untyped_retype(loans[i].chunk, OBJ_UNTYPED, LOAN_BITS, RETYPE_NEXT_FREE, CAP_ROOT_CNODE,
	                              loans[i].lent);
	if (err)
		return err;
	loans[i].task_id = t->id;
	*index = i;
	*chunk = loans[i].lent; /* the reply moves it: the slot is empty again after */
	return E_OK;
}

static void loan_reclaim(struct loan *l)
{
	sys_cnode_revoke(l->chunk);
	sys_cnode_delete(l->lent); /* if the reply could not move it */
	l->task_id = 0;
}

long loan_return(struct task *t, uint32_t index)
{
	if (!t || index >= loans_made || loans[index].task_id != t->id)
		return E_BAD_ARG;
	loan_reclaim(&loans[index]);
	return E_OK;
}

void loans_drop_task(const struct task *t)
{
	for (unsigned i = 0; i < loans_made; i++)
		if (loans[i].task_id == t->id)
			loan_reclaim(&loans[i]);
}

uint64_t loans_held(const struct task *t)
{
	return (uint64_t)loans_of(t->id) << LOAN_BITS;
}

uint64_t loans_free_bytes(void)
{
	return (uint64_t)loans_of(0) << LOAN_BITS;
}
