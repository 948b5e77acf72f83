/* A 256-bit set of non-empty priority levels: find the highest in O(1).
 * Pure logic: unit-tested on the host (tests/unit/test_prio_bitmap.c). */
#ifndef PRIO_BITMAP_H
#define PRIO_BITMAP_H

#include <stdint.h>

struct prio_bitmap {
	uint64_t top;        /* bit w set when word w is non-zero */
	uint64_t word[4];
};

static inline __attribute__((always_inline)) void prio_set(struct prio_bitmap *b, unsigned p)
{
	b->word[p >> 6] |= 1ULL << (p & 63);
	b->top |= 1ULL << (p >> 6);
}

static inline __attribute__((always_inline)) void prio_clear(struct prio_bitmap *b, unsigned p)
{
	b->word[p >> 6] &= ~(1ULL << (p & 63));
	if (!b->word[p >> 6])
		b->top &= ~(1ULL << (p >> 6));
}

/* The highest priority set, or -1 when empty. */
static inline __attribute__((always_inline)) int prio_highest(const struct prio_bitmap *b)
{
	if (!b->top)
		return -1;
	unsigned w = 63 - (unsigned)__builtin_clzll(b->top);
	return (int)(w * 64 + 63 - (unsigned)__builtin_clzll(b->word[w]));
}

#endif
