/* Mapping frames and page tables into address spaces.  A Frame or
 * PageTable capability records where it is mapped (as a mapping handle,
 * see vspace.h), so each capability maps its object at most once (copy a
 * frame capability to share the frame). */
#include <berth/errors.h>
#include <berth/syscall.h>
#include "object.h"
#include "layout.h"
#include "vspace.h"

/* An address space to map into: a VSpace (user addresses) or a guest's
 * physical memory (a GuestSpace). */
static int space_get(const struct tcb *t, uint64_t cptr, struct cap **out)
{
	int err = cap_get(t, cptr, OBJ_VSPACE, RIGHT_WRITE, out);
	if (err == E_WRONG_TYPE)
		err = cap_get(t, cptr, OBJ_GUEST_SPACE, RIGHT_WRITE, out);
	return err;
}

static int check_vaddr(const struct cap *space, uint64_t vaddr)
{
	if (vaddr & (PAGE_SIZE - 1))
		return E_ALIGN;
	if (space->type == OBJ_GUEST_SPACE ? vaddr >= GUEST_PHYS_TOP : vaddr < USER_BASE || vaddr >= USER_TOP)
		return E_BAD_ADDRESS;
	return E_OK;
}

static int page_table_map(struct tcb *t, uint64_t pt_cptr, uint64_t vs_cptr, uint64_t vaddr, uint64_t *level)
{
	struct cap *pt, *vs;
	int err = cap_get(t, pt_cptr, OBJ_PAGE_TABLE, RIGHT_WRITE, &pt);
	if (err || (err = space_get(t, vs_cptr, &vs)))
		return err;
	vaddr &= ~(PAGE_SIZE - 1);
	if ((err = check_vaddr(vs, vaddr)))
		return err;
	if (pt->w0 && handle_pml4(pt->w0))
		return E_MAPPED; /* a record whose VSpace died is no mapping */
	if ((err = vspace_map_table(vs->obj, vaddr, pt->obj, level)))
		return err;
	pt->w0 = asid_handle(vs->w0);
	pt->w1 = vaddr | *level;
	return E_OK;
}

static int page_map(struct tcb *t, uint64_t frame_cptr, uint64_t vs_cptr, uint64_t vaddr,
                    uint64_t rights, uint64_t *missing)
{
	struct cap *f, *vs;
	int err = cap_get(t, frame_cptr, OBJ_FRAME, 0, &f);
	if (err || (err = space_get(t, vs_cptr, &vs)))
		return err;
	if ((err = check_vaddr(vs, vaddr)))
		return err;
	if (rights & ~(uint64_t)(RIGHT_READ | RIGHT_WRITE | RIGHT_EXEC) || !(rights & RIGHT_READ))
		return E_BAD_ARG;
	if ((rights & f->rights) != rights)
		return E_NO_RIGHTS;
	if (f->w0 && handle_pml4(f->w0))
		return E_MAPPED;
	if ((err = vspace_map_frame(vs->obj, vaddr, f->obj, (unsigned)rights, missing)))
		return err;
	f->w0 = asid_handle(vs->w0);
	f->w1 = vaddr;
	return E_OK;
}

static int page_unmap(struct tcb *t, uint64_t frame_cptr)
{
	struct cap *f;
	int err = cap_get(t, frame_cptr, OBJ_FRAME, 0, &f);
	if (err)
		return err;
	if (!f->w0)
		return E_NOT_MAPPED;
	uint64_t pml4 = handle_pml4(f->w0);
	err = pml4 ? vspace_unmap_frame(pml4, f->w1, f->obj) : E_NOT_MAPPED;
	f->w0 = f->w1 = 0;
	return err;
}

int sys_mapping(struct tcb *t, uint64_t op, struct context *r)
{
	uint64_t out = 0;
	int err;
	switch (op) {
	case SYS_PAGE_TABLE_MAP:
		err = page_table_map(t, r->rdi, r->rsi, r->rdx, &out);
		break;
	case SYS_PAGE_MAP:
		err = page_map(t, r->rdi, r->rsi, r->rdx, r->r10, &out);
		break;
	default:
		return page_unmap(t, r->rdi);
	}
	r->rdx = out;
	return err;
}
