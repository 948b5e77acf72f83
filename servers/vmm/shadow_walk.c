/* The guest's page-table walk that shadow paging decides by (shadow.h).
 *
 * It must agree with the processor exactly: the hardware checks the
 * guest's accesses against the shadow entries this walk produces, with
 * the guest's own CR0, CR4 and RFLAGS.  A walk that allowed what the
 * processor refuses would fill the same entry forever; one that refused
 * what it allows would give the guest faults a real machine never
 * raises.  So every rule the processor applies to a leaf (U/S, R/W with
 * CR0.WP, NX with EFER.NXE, SMEP, SMAP with RFLAGS.AC) is applied here
 * too, and the shadow entry carries the guest's effective permissions:
 * the AND of R/W and U/S over the four levels, the OR of NX.
 *
 * Pure C11, no library calls: built for the host (tests/unit/test_shadow_walk.c)
 * and for the VMM. */
#include <berth/syscall.h>
#include "shadow.h"

#define E_P   (1UL << 0)
#define E_RW  (1UL << 1)
#define E_US  (1UL << 2)
#define E_A   (1UL << 5)
#define E_D   (1UL << 6)
#define E_PS  (1UL << 7)
#define E_G   (1UL << 8)
#define CR4_PGE (1UL << 7)
#define E_NX  (1UL << 63)
#define CR0_WP (1UL << 16)
#define CR4_SMEP (1UL << 20)
#define CR4_SMAP (1UL << 21)
#define EFER_NXE (1UL << 11)
#define RFLAGS_AC (1UL << 18)

int shadow_walk(const struct shadow_env *env, uint64_t gva, unsigned access, struct shadow_fill *out)
{
	int user = (access & SPF_USER) != 0, write = (access & SPF_WRITE) != 0, fetch = (access & SPF_FETCH) != 0;
	int nxe = (env->efer & EFER_NXE) != 0;
	/* the error code's access bits: I only where NX or SMEP make fetches matter */
	uint32_t error = (write ? SPF_WRITE : 0) | (user ? SPF_USER : 0) |
	                 (fetch && (nxe || (env->cr4 & CR4_SMEP)) ? SPF_FETCH : 0);
	unsigned bits = env->phys_bits > 52 ? 52 : env->phys_bits;
	uint64_t addr_mask = ((1UL << bits) - 1) & ~0xfffUL;
	uint64_t reserved = ~addr_mask & 0x000ffffffffff000UL;
	if (!nxe)
		reserved |= E_NX;
	uint64_t table = env->cr3 & addr_mask;
	int writable = 1, usable = 1, executable = 1;
	for (int level = 4; level >= 1; level--) {
		uint64_t where = table + ((gva >> (12 + 9 * (level - 1))) & 511) * 8, e;
		out->table[level - 1] = table;
		env->read(env->ctx, where, &e);
		if (!(e & E_P)) {
			out->error = error;
			return -1;
		}
		uint64_t bad = reserved;
		if (level == 4)
			bad |= E_PS;                                   /* no pages at the top */
		else if (level > 1 && (e & E_PS))
			bad |= ((1UL << (12 + 9 * (level - 1))) - 1) & ~0x1fffUL;  /* a large page's low bits */
		if (e & bad) {
			out->error = error | SPF_PRESENT | SPF_RSVD;
			return -1;
		}
		writable &= (e & E_RW) != 0;
		usable &= (e & E_US) != 0;
		executable &= !(nxe && (e & E_NX));
		int leaf = level == 1 || (e & E_PS);
		if (!leaf) {
			if (!(e & E_A) && env->is_ram(env->ctx, where))
				env->write(env->ctx, where, e | E_A);
			table = e & addr_mask;
			continue;
		}
		/* the leaf's permissions, as the processor checks them */
		int wp = (env->cr0 & CR0_WP) != 0;
		int denied = (user && !usable) ||
		             (write && !writable && (user || wp)) ||
		             (fetch && !executable) ||
		             (fetch && !user && usable && (env->cr4 & CR4_SMEP)) ||
		             (!fetch && !user && usable && (env->cr4 & CR4_SMAP) && !(env->rflags & RFLAGS_AC));
		if (denied) {
			out->error = error | SPF_PRESENT;
			return -1;
		}
		/* the walk that found the entry usable sets A, a write sets D */
		uint64_t set = E_A | (write ? E_D : 0);
		if ((e & set) != set && env->is_ram(env->ctx, where)) {
			e |= set;
			env->write(env->ctx, where, e);
		}
		uint64_t size = 1UL << (12 + 9 * (level - 1));
		out->page_size = size;
		out->gpa = ((e & addr_mask & ~(size - 1)) | (gva & (size - 1))) & ~0xfffUL;
		out->flags = (usable ? SHADOW_USER : 0) | (executable ? 0 : SHADOW_NOEXEC);
		out->global = (e & E_G) && (env->cr4 & CR4_PGE);
		out->leaf_level = level;
		/* writable only once dirty: the first write faults and sets D */
		if (writable && (e & E_D))
			out->flags |= SHADOW_WRITE;
		/* CR0.WP clear: the kernel may write a read-only page.  Writable
		 * for it alone (no U/S), so a user access faults and remaps */
		if (write && !user && !writable && !wp)
			out->flags = (out->flags & ~SHADOW_USER) | SHADOW_WRITE;
		out->error = 0;
		return 0;
	}
	out->error = error;
	return -1; /* not reached: level 1 is always a leaf */
}
