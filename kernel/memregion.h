/* Lists of free physical ranges, and their split into power-of-two
 * aligned blocks for Untyped capabilities.  Pure logic: unit-tested on
 * the host (tests/unit/test_memregion.c). */
#ifndef MEMREGION_H
#define MEMREGION_H

#include <stdint.h>

struct region {
	uint64_t base, end;   /* [base, end) */
};

struct region_list {
	int count;
	struct region r[64];
};

/* Add [base, end) clipped to [lo, hi) and trimmed to whole pages; keeps the
 * list sorted and merges touching ranges.  Returns -1 when full. */
int regions_add(struct region_list *l, uint64_t base, uint64_t end, uint64_t lo, uint64_t hi);
/* Remove [base, end) from every range (splitting where needed).  Returns
 * -1, with the list unchanged, when a split needs a slot and none is free. */
int regions_remove(struct region_list *l, uint64_t base, uint64_t end);
/* Take size bytes aligned to align from the lowest range that fits.
 * Returns the base, or 0 when nothing fits (so page 0 must never be in
 * the list; the kernel adds memory from 1 MiB up). */
uint64_t regions_take(struct region_list *l, uint64_t size, uint64_t align);

/* The largest aligned power-of-two block that starts at base and fits
 * before end, at least 2^min_bits and at most 2^max_bits; 0 if none. */
unsigned block_bits(uint64_t base, uint64_t end, unsigned min_bits, unsigned max_bits);

#endif
