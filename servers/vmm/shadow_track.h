/* What keeps cached shadows consistent (shadow_track.c; docs/vmm.md,
 * "Shadow paging"): which guest pages are page tables that shadow
 * entries were derived from, where, and which shadow entries map a guest
 * page writable.
 *
 * Every guest page a shadow fill walked through as a table is *tracked*
 * and mapped read-only in every shadow, so the guest's first write to it
 * faults.  That write untracks it: the shadow entries derived from it
 * are dropped (for a table of level L used at gva_base in shadow k: the
 * shadow's level L + 1 entry over gva_base), and the guest writes on
 * natively until a walk tracks the page again.  When a page becomes
 * tracked, the shadow entries that map it writable must go: the reverse
 * map says where they are.
 *
 * Pure C11, no library calls (tests/unit/test_shadow_track.c). */
#ifndef VMM_SHADOW_TRACK_H
#define VMM_SHADOW_TRACK_H

#include <stdint.h>

#define TRACK_SHADOWS 4          /* shadows (k = 0..3) */
#define TRACK_SLOTS 4096         /* tracked table pages: at most three quarters of this */
#define RMAP_SLOTS 32768         /* guest pages the reverse map covers without collisions: 128 MiB */

struct track_use {
	uint64_t gva_base;   /* where the table is used in that shadow */
	uint16_t epoch;      /* the shadow's epoch then (a flush makes it stale) */
	uint8_t level;       /* 1..4 */
	uint8_t state;       /* USE_NONE, USE_ONE, USE_MANY (used at more than one place) */
};
enum { USE_NONE, USE_ONE, USE_MANY };

struct track_page {
	uint64_t key;        /* guest-physical page | 1; 0: a free slot */
	uint32_t writes;     /* writes emulated since a walk last went through it */
	struct track_use use[TRACK_SHADOWS];
};

struct rmap_slot {
	uint64_t page;       /* guest-physical page | 1; 0: free */
	uint64_t gva[2];     /* two guest-virtual pages it is mapped writable at ... */
	uint8_t shadows[2];  /* ... in these shadows (bit k: shadow k); 0: unused */
	uint8_t lost;        /* a mapping did not fit, or another page's record was pushed out:
	                      * until everything is flushed, flush everything to be sure */
};

struct track {
	struct track_page pages[TRACK_SLOTS];
	unsigned count;
	uint16_t epoch[TRACK_SHADOWS];
	struct rmap_slot rmap[RMAP_SLOTS];
};

void track_clear(struct track *t);
/* Shadow k was flushed: its uses and reverse-map entries are stale. */
void track_shadow_flushed(struct track *t, unsigned k);
/* The table page gpa of `level` was walked for gva in shadow k.  Returns
 * 1 if it was not tracked before (its writable mappings must go), 0 if it
 * was, -1 if the table is full (flush everything). */
int track_note(struct track *t, uint64_t gpa, unsigned level, unsigned k, uint64_t gva);
/* Is gpa's page a tracked table page with a live use?  (Its mappings
 * must then be read-only.) */
int track_is_table(const struct track *t, uint64_t gpa);
/* One more write to gpa's table emulated: how many since a walk last
 * went through it (0 if it is not tracked).  A table written again and
 * again without being used is being rebuilt: untracking it is cheaper. */
unsigned track_write(struct track *t, uint64_t gpa);
/* gpa's live uses per shadow, leaving it tracked; 0 if not tracked. */
int track_uses(const struct track *t, uint64_t gpa, struct track_use uses[TRACK_SHADOWS]);
/* Untrack gpa's page: *uses gets its live uses per shadow (state NONE
 * where none), for the caller to drop what was derived from it.  0 if it
 * was not tracked. */
int track_take(struct track *t, uint64_t gpa, struct track_use uses[TRACK_SHADOWS]);
/* Shadow k maps gpa writable at gva. */
void rmap_add(struct track *t, uint64_t gpa, unsigned k, uint64_t gva);
/* gpa's writable mappings, taken out: up to 2 gvas, each with the
 * shadows (bit k) that map it there; returns how many, or -1 when some
 * may have been lost (flush every shadow). */
int rmap_take(struct track *t, uint64_t gpa, uint64_t gva[2], uint8_t shadows[2]);

#endif
