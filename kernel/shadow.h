/* ShadowSpaces: shadow page tables a VMM fills for a VCPU that runs with
 * nested paging off (shadow.c, docs/vmm.md "Shadow paging"). */
#ifndef SHADOW_H
#define SHADOW_H

#include <stdint.h>

struct cap;
struct tcb;
struct context;

/* Live ShadowSpaces: a fixed table, as address-space IDs are (E_LIMIT
 * when full).  A capability's w0 is its index. */
#define SHADOW_COUNT 64

struct shadow_space {
	uint64_t base;        /* physical address of the object (its top table); 0: free slot */
	uint64_t pages;       /* pages in the object, the top table included */
	uint64_t used;        /* pool pages handed out as tables, after the top table */
	uint64_t guest;       /* mapping handle of the bound GuestSpace (vspace.h); 0: none */
	uint64_t generation;  /* counts the slot's reuses: part of the handle the TLB is tagged with */
};

int shadow_alloc(uint64_t paddr, unsigned size_bits, uint64_t *id);
void shadow_destroy(uint64_t id);
/* A GuestSpace (by mapping handle) lost a mapping or died: every shadow
 * bound to it is emptied, and one whose GuestSpace died is unbound. */
void shadow_guest_changed(uint64_t guest_handle);
/* For VMRUN: the top table and the TLB tag of the ShadowSpace a VCPU
 * holds, or 0 when it is bound to no live GuestSpace. */
uint64_t shadow_vcpu_root(const struct cap *c, uint64_t *tag);
const struct shadow_space *shadow_at(uint64_t id);   /* the self-check */
int sys_shadow(struct tcb *caller, struct context *r);

#endif
