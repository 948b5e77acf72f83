/*
 * ShadowSpaces: the mechanism under a VMM's shadow paging.  A VCPU that
 * holds a ShadowSpace instead of a GuestSpace runs with nested paging
 * off and CR3 = the ShadowSpace's top table: host page tables that map
 * the guest's virtual addresses straight to host frames.  The VMM decides
 * what goes in them (it walks the guest's own tables on the guest's page
 * faults); the kernel only makes sure that what it asks for is the
 * guest's own memory: a mapping names a guest-PHYSICAL page, which the
 * kernel looks up in the GuestSpace the shadow is bound to.  A host
 * address is never accepted, and the tables hold nothing of Berth's.
 *
 * The object is its top table followed by a pool of pages for the lower
 * tables, handed out in order and only given back all at once
 * (SHADOW_FLUSH): shadow tables are a cache of the guest's, so when the
 * pool runs out the VMM flushes and refills.  The kernel allocates
 * nothing.  Pool pages past `used` are always zero.
 *
 * Lifetime (docs/kernel-objects.md): the binding is a GuestSpace mapping
 * handle, validated on every use.  Entries point at frames mapped in the
 * bound GuestSpace; any unmap there, and the GuestSpace's death, empties
 * every shadow bound to it (shadow_guest_changed, called from vspace.c),
 * so no entry outlives the mapping it was copied from.  A VCPU holds its
 * ShadowSpace as a capability (its vspace_cap), so the object lives as
 * long as some VCPU can run on it; revoke deletes that capability and
 * the VCPU's next entry is refused (VMRUN_INVALID_NO_SPACE).
 */
#include <berth/errors.h>
#include <berth/object.h>
#include <berth/syscall.h>
#include "object.h"
#include "layout.h"
#include "vspace.h"
#include "klib.h"
#include "shadow.h"

static struct shadow_space shadows[SHADOW_COUNT];
static unsigned shadows_live;   /* so a user space's unmap skips the scan when there are none */

#define TABLE_BITS (PTE_P | PTE_W | PTE_U)   /* tables allow everything; leaves decide */
#define PTE_A 0x20UL
#define PTE_D 0x40UL

int shadow_alloc(uint64_t paddr, unsigned size_bits, uint64_t *id)
{
	for (uint64_t i = 0; i < SHADOW_COUNT; i++) {
		if (!shadows[i].base) {
			shadows[i].base = paddr;
			shadows[i].pages = 1UL << (size_bits - PAGE_BITS);
			shadows[i].used = 0;
			shadows[i].guest = 0;
			shadows[i].generation++;
			shadows_live++;
			*id = i;
			return E_OK;
		}
	}
	return E_LIMIT;
}

/* The object's memory goes back to its Untyped: nothing may point at it.
 * No VCPU does (each holds a capability, and this is the last one gone),
 * and a VMCB's CR3 is set from the capability at every entry. */
void shadow_destroy(uint64_t id)
{
	if (id < SHADOW_COUNT && shadows[id].base) {
		shadows[id].base = 0;
		shadows[id].guest = 0;
		shadows_live--;
		tlb_generation++;   /* a later shadow in the same slot starts with a clean TLB */
	}
}

const struct shadow_space *shadow_at(uint64_t id)
{
	return id < SHADOW_COUNT ? &shadows[id] : 0;
}

/* Only the lower half of the address space (the top table's entries
 * 0..255): what a VMM drops on a guest's CR3 write when it keeps the
 * guest's global pages, which live in the upper half.  The tables that
 * hung there stay handed out, unreachable, until the next whole flush
 * (which zeroes every page handed out), so the pool's rule holds. */
static void flush_lower(struct shadow_space *s)
{
	memset(P2V(s->base), 0, PAGE_SIZE / 2);
	tlb_generation++;
}

/* Empty the tables: the top table and every pool page handed out. */
static void flush(struct shadow_space *s)
{
	memset(P2V(s->base), 0, PAGE_SIZE * (1 + s->used));
	s->used = 0;
	tlb_generation++;
}

void shadow_guest_changed(uint64_t guest_handle)
{
	if (!shadows_live)
		return;
	for (unsigned i = 0; i < SHADOW_COUNT; i++) {
		struct shadow_space *s = &shadows[i];
		if (!s->base || s->guest != guest_handle)
			continue;
		flush(s);
		/* the GuestSpace died (its ID is released already): the
		 * binding goes too, so the shadow says it is unbound */
		if (!handle_pml4(guest_handle))
			s->guest = 0;
	}
}

uint64_t shadow_vcpu_root(const struct cap *c, uint64_t *tag)
{
	const struct shadow_space *s = shadow_at(c->w0);
	if (!s || s->base != c->obj || !s->guest || !handle_pml4(s->guest))
		return 0;
	/* a TLB tag no GuestSpace handle has (those are ID | generation << 16) */
	*tag = (1UL << 63) | c->w0 | s->generation << 16;
	return s->base;
}

static int canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

/* The entry for gva in the table of `level` (1: the page table), making
 * the tables above it from the pool as needed; 0 when the pool is used
 * up, or (alloc 0) when a table is missing. */
static uint64_t *entry_for(struct shadow_space *s, uint64_t gva, int level, int alloc)
{
	uint64_t *table = P2V(s->base);
	for (int l = 4; l > level; l--) {
		uint64_t *e = &table[(gva >> (12 + 9 * (l - 1))) & 511];
		if (!(*e & PTE_P)) {
			if (!alloc || 1 + s->used >= s->pages)
				return 0;
			/* pool pages past `used` are zero already */
			*e = (s->base + PAGE_SIZE * (1 + s->used++)) | TABLE_BITS | PTE_A;
		}
		table = P2V(*e & PTE_ADDR);
	}
	return &table[(gva >> (12 + 9 * (level - 1))) & 511];
}

static int shadow_map(struct shadow_space *s, uint64_t gva, uint64_t gpa, uint64_t flags, uint64_t *left)
{
	if ((gva | gpa) & (PAGE_SIZE - 1))
		return E_ALIGN;
	if (!canonical(gva) || gpa >= GUEST_PHYS_TOP)
		return E_BAD_ADDRESS;
	if (flags & ~(uint64_t)(SHADOW_WRITE | SHADOW_USER | SHADOW_NOEXEC))
		return E_BAD_ARG;
	uint64_t guest = handle_pml4(s->guest), size;
	if (!guest)
		return E_STATE;
	/* the guest's own memory, as its GuestSpace maps it, and nothing else */
	uint64_t g = vspace_leaf(guest, gpa, &size);
	if (!g)
		return E_NOT_MAPPED;
	if ((flags & SHADOW_WRITE) && !(g & PTE_W))
		return E_NO_RIGHTS;
	uint64_t *e = entry_for(s, gva, 1, 1);
	if (!e)
		return E_LIMIT;
	uint64_t host = (g & PTE_ADDR & ~(size - 1)) | (gpa & (size - 1));
	uint64_t leaf = host | PTE_P | PTE_A | ((flags & SHADOW_WRITE) ? PTE_W | PTE_D : 0) |
	                ((flags & SHADOW_USER) ? PTE_U : 0) |
	                (((flags & SHADOW_NOEXEC) || (g & PTE_NX)) ? PTE_NX : 0);
	if (*e & PTE_P)   /* replacing an entry the TLB may hold */
		tlb_generation++;
	*e = leaf;
	*left = s->pages - 1 - s->used;
	return E_OK;
}

int sys_shadow(struct tcb *caller, struct context *r)
{
	struct cap *c, *gs;
	int err = cap_get(caller, r->rdi, OBJ_SHADOW_SPACE, RIGHT_WRITE, &c);
	if (err)
		return err;
	struct shadow_space *s = &shadows[c->w0];
	switch (r->rsi) {
	case SHADOW_BIND:
		if (r->rdx && (err = cap_get(caller, r->rdx, OBJ_GUEST_SPACE, RIGHT_WRITE, &gs)))
			return err;
		flush(s);
		s->guest = r->rdx ? asid_handle(gs->w0) : 0;
		return E_OK;
	case SHADOW_MAP: {
		uint64_t left = 0;
		err = shadow_map(s, r->rdx, r->r10, r->r8, &left);
		r->rdx = left;
		return err;
	}
	case SHADOW_UNMAP: {
		/* level 1: the page's entry; 2..4: the entry of that level over
		 * it, all it maps at once (its tables stay handed out, out of
		 * reach, until the next flush) */
		uint64_t level = r->r10 ? r->r10 : 1;
		if (level > 4)
			return E_BAD_ARG;
		if (r->rdx & ((1UL << (12 + 9 * (level - 1))) - 1))
			return E_ALIGN;
		if (!canonical(r->rdx))
			return E_BAD_ADDRESS;
		uint64_t *e = entry_for(s, r->rdx, (int)level, 0);
		if (!e || !(*e & PTE_P))
			return E_NOT_MAPPED;
		*e = 0;
		tlb_generation++;
		return E_OK;
	}
	case SHADOW_RUN: {
		/* a VCPU already on a ShadowSpace of the same GuestSpace moves to
		 * this one from its next entry: the VMM's shadows cached per
		 * guest address space.  Only between shadows of one guest, so
		 * this call never gives a VCPU memory its VMM did not */
		struct cap *vc;
		if ((err = cap_get(caller, r->rdx, OBJ_VCPU, RIGHT_WRITE, &vc)))
			return err;
		struct tcb *t = P2V(vc->obj);
		const struct shadow_space *now = t->vspace_cap.type == OBJ_SHADOW_SPACE ? shadow_at(t->vspace_cap.w0) : 0;
		if (!now || !s->guest || now->guest != s->guest)
			return E_STATE;
		if (t->vspace_cap.obj == c->obj)
			return E_OK;
		const struct tcb_cap_change ch = { &t->vspace_cap, c };
		if ((err = tcb_caps_swap(&ch, 1)))
			return err;
		tcb_caps_release();   /* the old ShadowSpace may die: nothing is touched after */
		return E_OK;
	}
	case SHADOW_FLUSH:
		if (r->rdx > 1)
			return E_BAD_ARG;
		if (r->rdx)
			flush_lower(s);
		else
			flush(s);
		return E_OK;
	}
	return E_BAD_ARG;
}
