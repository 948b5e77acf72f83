/* Mapping frames and page tables into address spaces.  A Frame or
 * PageTable capability records where it is mapped (as a mapping handle,
 * see vspace.h), so each capability maps its object at most once (copy a
 * frame capability to share the frame).  A frame's record is w0 = the
 * handle, w1 = the address, with FRAME_MAPPED_AS_PIECES in bit 0 for a
 * 2 MiB frame mapped with MAP_PIECES (a 4 KiB frame so mapped is recorded
 * as any 4 KiB mapping: its one entry is found by its address). */
#include <berth/errors.h>
#include <berth/syscall.h>
#include "object.h"
#include "layout.h"
#include "vspace.h"
#include "klib.h"

/* An address space to map into: a VSpace (user addresses) or a guest's
 * physical memory (a GuestSpace). */
static int space_get(const struct tcb *t, uint64_t cptr, struct cap **out)
{
	int err = cap_get(t, cptr, OBJ_VSPACE, RIGHT_WRITE, out);
	if (err == E_WRONG_TYPE)
		err = cap_get(t, cptr, OBJ_GUEST_SPACE, RIGHT_WRITE, out);
	return err;
}

/* [vaddr, vaddr + size) must be aligned to size and lie wholly in the space. */
static int check_vaddr(const struct cap *space, uint64_t vaddr, uint64_t size)
{
	if (vaddr & (size - 1))
		return E_ALIGN;
	uint64_t top = space->type == OBJ_GUEST_SPACE ? GUEST_PHYS_TOP : USER_TOP;
	if ((space->type != OBJ_GUEST_SPACE && vaddr < USER_BASE) || vaddr >= top || size > top - vaddr)
		return E_BAD_ADDRESS;
	return E_OK;
}

#define FRAME_MAPPED_AS_PIECES 1UL

static int frame_is_large(const struct cap *f)
{
	return f->w2 == LARGE_PAGE_BITS;
}

/* How the frame is mapped, as vspace_mapping_entry's level. */
static int frame_level(const struct cap *f)
{
	if (f->w1 & FRAME_MAPPED_AS_PIECES)
		return LEVEL_PIECES;
	return frame_is_large(f) ? LEVEL_LARGE_FRAME : 0;
}

static uint64_t frame_vaddr(const struct cap *f)
{
	return f->w1 & ~FRAME_MAPPED_AS_PIECES;
}

/* Where a frame capability's mapping record says it is mapped, if it
 * still is (vspace_mapping_entry). */
static uint64_t *frame_mapping(const struct cap *f)
{
	return f->w0 ? vspace_mapping_entry(f->w0, frame_vaddr(f), frame_level(f), f->obj) : 0;
}

static int page_table_map(struct tcb *t, uint64_t pt_cptr, uint64_t vs_cptr, uint64_t vaddr, uint64_t *level)
{
	struct cap *pt, *vs;
	int err = cap_get(t, pt_cptr, OBJ_PAGE_TABLE, RIGHT_WRITE, &pt);
	if (err || (err = space_get(t, vs_cptr, &vs)))
		return err;
	vaddr &= ~(PAGE_SIZE - 1);
	if ((err = check_vaddr(vs, vaddr, PAGE_SIZE)))
		return err;
	if (pt->w0 && vspace_mapping_entry(pt->w0, pt->w1 & ~0xfffUL, (int)(pt->w1 & 7), pt->obj))
		return E_MAPPED;
	/* A table that was mapped before and is not any more lost its place
	 * with its address space or its parent table, not by an unmap: it
	 * still holds entries for frames and tables that may be gone or mapped
	 * elsewhere since.  Nothing reaches it now; empty it before anything
	 * can again (seL4 clears a table when it is unmapped).  Emptying an
	 * unreachable table loses nothing if the map below then fails. */
	if (pt->w0)
		memset(P2V(pt->obj), 0, PAGE_SIZE);
	pt->w0 = pt->w1 = 0;
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
	int large = frame_is_large(f), pieces = (rights & MAP_PIECES) != 0;
	if ((err = check_vaddr(vs, vaddr, large ? LARGE_PAGE_SIZE : PAGE_SIZE)))
		return err;
	rights &= ~(uint64_t)MAP_PIECES;
	if (rights & ~(uint64_t)(RIGHT_READ | RIGHT_WRITE | RIGHT_EXEC) || !(rights & RIGHT_READ))
		return E_BAD_ARG;
	if ((rights & f->rights) != rights)
		return E_NO_RIGHTS;
	if (frame_mapping(f))
		return E_MAPPED;
	/* device memory is no guest's RAM (a device given to a guest is later
	 * work) */
	int device = (f->flags & CAP_DEVICE) != 0;
	if (device && vs->type == OBJ_GUEST_SPACE)
		return E_WRONG_TYPE;
	if (device && pieces)
		return E_BAD_ARG;
	/* pieces are for guest RAM that a VMM tracks or shares by the page,
	 * in the guest's space and in its own view of it; a 4 KiB frame so
	 * mapped is one piece, which another 4 KiB frame may replace */
	unsigned how = (pieces ? (large ? MAP_AS_PIECES : MAP_REPLACEABLE) : large ? MAP_LARGE : 0) |
	               (device ? MAP_UNCACHED : 0);
	uint64_t handle = asid_handle(vs->w0);
	int took_piece;
	if ((err = vspace_map_frame(vs->obj, vaddr, f->obj, (unsigned)rights, how, missing, &took_piece)))
		return err;
	/* a 4 KiB frame took a piece's place: nothing may keep the piece */
	if (took_piece)
		vspace_flush(handle, vaddr, 0);
	f->w0 = handle;
	/* a 4 KiB piece is found by its own address, as any 4 KiB mapping */
	f->w1 = vaddr | (pieces && large ? FRAME_MAPPED_AS_PIECES : 0);
	return E_OK;
}

/* Remove the mapping a frame capability made, if it is still there (an
 * unmap, or the capability's deletion), and forget the record. */
int frame_unmap(struct cap *f)
{
	int err = f->w0 ? vspace_unmap_frame_handle(f->w0, frame_vaddr(f), f->obj, frame_level(f)) : E_NOT_MAPPED;
	f->w0 = f->w1 = 0;
	return err;
}

static int page_unmap(struct tcb *t, uint64_t frame_cptr)
{
	struct cap *f;
	int err = cap_get(t, frame_cptr, OBJ_FRAME, 0, &f);
	return err ? err : frame_unmap(f);
}

/* SYS_GUEST_PROTECT (include/berth/syscall.h) */
static int guest_protect(struct tcb *t, uint64_t gs_cptr, uint64_t gpa, uint64_t pages, uint64_t allow,
                         uint64_t *changed)
{
	struct cap *gs;
	int err = cap_get(t, gs_cptr, OBJ_GUEST_SPACE, RIGHT_WRITE, &gs);
	if (err)
		return err;
	if (allow > 1 || pages == 0 || pages > GUEST_PROTECT_MAX_PAGES)
		return E_BAD_ARG;
	if (gpa & (PAGE_SIZE - 1))
		return E_ALIGN;
	if (gpa >= GUEST_PHYS_TOP || pages * PAGE_SIZE > GUEST_PHYS_TOP - gpa)
		return E_BAD_ADDRESS;
	return vspace_write_protect(asid_handle(gs->w0), gpa, pages, (int)allow, changed);
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
	case SYS_GUEST_PROTECT:
		err = guest_protect(t, r->rdi, r->rsi, r->rdx, r->r10, &out);
		break;
	case SYS_FRAME_PHYS: {
		/* for DMA: only with the right, which init gives drivers alone */
		struct cap *f;
		err = cap_get(t, r->rdi, OBJ_FRAME, RIGHT_PHYS, &f);
		out = err ? 0 : f->obj;
		break;
	}
	default:
		return page_unmap(t, r->rdi);
	}
	r->rdx = out;
	return err;
}
