#include "memregion.h"

#define PAGE 4096ULL

static void remove_at(struct region_list *l, int i)
{
	for (; i + 1 < l->count; i++)
		l->r[i] = l->r[i + 1];
	l->count--;
}

static int insert_at(struct region_list *l, int i, uint64_t base, uint64_t end)
{
	if (l->count == (int)(sizeof(l->r) / sizeof(l->r[0])))
		return -1;
	for (int j = l->count; j > i; j--)
		l->r[j] = l->r[j - 1];
	l->r[i] = (struct region){ base, end };
	l->count++;
	return 0;
}

int regions_add(struct region_list *l, uint64_t base, uint64_t end, uint64_t lo, uint64_t hi)
{
	if (base < lo)
		base = lo;
	if (end > hi)
		end = hi;
	if (base > ~0ULL - (PAGE - 1))
		return 0; /* rounding up would wrap: no whole page here */
	base = (base + PAGE - 1) & ~(PAGE - 1);
	end &= ~(PAGE - 1);
	if (base >= end)
		return 0;
	int i = 0;
	while (i < l->count && l->r[i].end < base)
		i++;
	/* merge with every range it touches or overlaps */
	while (i < l->count && l->r[i].base <= end) {
		if (l->r[i].base < base)
			base = l->r[i].base;
		if (l->r[i].end > end)
			end = l->r[i].end;
		remove_at(l, i);
	}
	return insert_at(l, i, base, end);
}

int regions_remove(struct region_list *l, uint64_t base, uint64_t end)
{
	if (base >= end)
		return 0;
	for (int i = 0; i < l->count; i++) {
		struct region *r = &l->r[i];
		if (r->end <= base || r->base >= end)
			continue;
		if (r->base < base && r->end > end) {
			/* split: insert the tail first so a full list loses nothing */
			if (insert_at(l, i + 1, end, r->end))
				return -1;
			l->r[i].end = base;
			return 0;
		}
		if (r->base >= base && r->end <= end) {
			remove_at(l, i);
			i--;
		} else if (r->base < base) {
			r->end = base;
		} else {
			r->base = end;
		}
	}
	return 0;
}

uint64_t regions_take(struct region_list *l, uint64_t size, uint64_t align)
{
	for (int i = 0; i < l->count; i++) {
		uint64_t b = (l->r[i].base + align - 1) & ~(align - 1);
		if (b >= l->r[i].base && b < l->r[i].end && l->r[i].end - b >= size) {
			if (regions_remove(l, b, b + size))
				return 0;
			return b;
		}
	}
	return 0;
}

unsigned block_bits(uint64_t base, uint64_t end, unsigned min_bits, unsigned max_bits)
{
	if (base >= end)
		return 0;
	unsigned bits = max_bits;
	while (bits >= min_bits) {
		uint64_t size = 1ULL << bits;
		if ((base & (size - 1)) == 0 && end - base >= size)
			return bits;
		bits--;
	}
	return 0;
}
