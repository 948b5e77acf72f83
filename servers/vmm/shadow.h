/* Shadow paging in the VMM (mode=shadow; docs/vmm.md, "Shadow paging").
 *
 * The guest runs with nested paging off on shadow page tables (a kernel
 * ShadowSpace) that map its virtual addresses straight to host frames.
 * They start empty; each page fault the guest takes on them exits to us,
 * and shadow_walk() decides, from the guest's own page tables, whether
 * the guest itself would have faulted (the fault is reflected to it) or
 * the shadow merely lacks the entry (it is filled).  The pure half (this
 * walk) is in shadow_walk.c, unit-tested on the host; shadow.c does the
 * exits and the system calls. */
#ifndef VMM_SHADOW_H
#define VMM_SHADOW_H

#include <stddef.h>
#include <stdint.h>

/* What the guest's walk depends on, and how to reach its memory. */
struct shadow_env {
	uint64_t cr0, cr3, cr4, efer, rflags;
	unsigned phys_bits;          /* guest-physical address width: entry bits above are reserved */
	/* an 8-byte entry at gpa (what the bus gives: all ones where nothing is) */
	void (*read)(void *ctx, uint64_t gpa, uint64_t *entry);
	/* write it back with A/D set; only called for entries in RAM */
	void (*write)(void *ctx, uint64_t gpa, uint64_t entry);
	int (*is_ram)(void *ctx, uint64_t gpa);
	void *ctx;
};

/* Page-fault error code bits: what the access was, and why it faulted. */
#define SPF_PRESENT 0x1u
#define SPF_WRITE   0x2u
#define SPF_USER    0x4u
#define SPF_RSVD    0x8u
#define SPF_FETCH   0x10u

struct shadow_fill {
	uint64_t gpa;         /* the guest-physical 4 KiB page behind the address */
	unsigned flags;       /* SHADOW_WRITE | SHADOW_USER | SHADOW_NOEXEC for the shadow entry */
	uint64_t page_size;   /* the guest's page: 4 KiB, 2 MiB or 1 GiB */
	int global;           /* a global page (G with CR4.PGE): a TLB keeps it across CR3 writes */
	int leaf_level;       /* the level of the guest's leaf entry: 1, or 2 / 3 for a large page */
	uint64_t table[4];    /* the guest-physical pages of the tables walked: table[L - 1] at level L */
	uint32_t error;       /* a fault: the error code the guest gets */
};

/* Walk the guest's 4-level tables for an access (SPF_WRITE, SPF_USER,
 * SPF_FETCH as the hardware's error code says) the way the processor
 * does (AMD APM vol. 2, 5.3-5.6), setting Accessed bits on the way and
 * Dirty on a written leaf.  0: *out says what to map (read-only unless
 * the guest's leaf is dirty, so the first write faults again and sets
 * Dirty exactly); -1: the guest's own page fault, out->error. */
int shadow_walk(const struct shadow_env *env, uint64_t gva, unsigned access, struct shadow_fill *out);

/* shadow.c */
struct msg;
long shadow_setup(const char *args);   /* mode=shadow: make the ShadowSpace */
uint64_t shadow_vcpu_space(void);      /* what the VCPU runs on: the ShadowSpace or the GuestSpace */
int shadow_on(void);
int shadow_exit(struct msg *m, int *reply);   /* 1: the exit was shadow paging's; *reply as handle_exit */
void shadow_reset(void);               /* the guest starts afresh (boot, reset) */
uint64_t shadow_efer_view(uint64_t efer);     /* EFER as the guest set it (the kernel forces NXE) */
void shadow_efer_written(uint64_t efer);
void shadow_stats_print(void);

#endif
