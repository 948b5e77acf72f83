/* Host unit tests for kernel/memregion.c: free-range lists and their split
 * into power-of-two Untyped blocks. */
// unit-under-test: kernel/memregion.c
#include <stdint.h>
#include <string.h>
#include "unit.h"
#include "memregion.h"

#define PG 0x1000ULL
#define MAXR ((int)(sizeof(((struct region_list *)0)->r) / sizeof(struct region)))

/* Sorted, non-empty, disjoint ranges with a gap between neighbours (touching
 * ranges must have been merged by regions_add). */
static int well_formed(const struct region_list *l)
{
	if (l->count < 0 || l->count > MAXR)
		return 0;
	for (int i = 0; i < l->count; i++) {
		if (l->r[i].base >= l->r[i].end)
			return 0;
		if (i > 0 && l->r[i - 1].end >= l->r[i].base)
			return 0;
	}
	return 1;
}

/* The list holds exactly the n ranges given as base,end pairs. */
static int list_is(const struct region_list *l, int n, const uint64_t *pairs)
{
	if (l->count != n)
		return 0;
	for (int i = 0; i < n; i++)
		if (l->r[i].base != pairs[2 * i] || l->r[i].end != pairs[2 * i + 1])
			return 0;
	return 1;
}

#define LIST_IS(l, ...)                                                   \
	list_is((l), (int)(sizeof((uint64_t[]){ __VA_ARGS__ }) / (2 * sizeof(uint64_t))), \
	        (uint64_t[]){ __VA_ARGS__ })

static void reset(struct region_list *l)
{
	memset(l, 0xa5, sizeof(*l));   /* garbage beyond count must not matter */
	l->count = 0;
}

/* Any part of [base, end) is in the list. */
static int overlaps_free(const struct region_list *l, uint64_t base, uint64_t end)
{
	for (int i = 0; i < l->count; i++)
		if (l->r[i].base < end && base < l->r[i].end)
			return 1;
	return 0;
}

/* All of [base, end) is inside one range of the list. */
static int wholly_free(const struct region_list *l, uint64_t base, uint64_t end)
{
	for (int i = 0; i < l->count; i++)
		if (l->r[i].base <= base && end <= l->r[i].end)
			return 1;
	return 0;
}

static uint64_t total_bytes(const struct region_list *l)
{
	uint64_t t = 0;
	for (int i = 0; i < l->count; i++)
		t += l->r[i].end - l->r[i].base;
	return t;
}

/* 64 one-page ranges, each with a one-page gap: [0x2000*k+0x1000, +0x1000). */
static void fill_list(struct region_list *l)
{
	reset(l);
	for (int k = 0; k < MAXR; k++)
		regions_add(l, 0x2000ULL * k + PG, 0x2000ULL * k + 2 * PG, 0, UINT64_MAX);
}

static void test_add(void)
{
	struct region_list l;
	int rc;

	reset(&l);
	rc = regions_add(&l, 0x1000, 0x5000, 0, UINT64_MAX);
	CHECK(rc == 0 && LIST_IS(&l, 0x1000, 0x5000), "add: first range into an empty list");

	reset(&l);
	rc = regions_add(&l, 0, 0x100000, 0x2000, 0x8000);
	CHECK(rc == 0 && LIST_IS(&l, 0x2000, 0x8000), "add: clipped to [lo, hi) on both sides");

	reset(&l);
	rc = regions_add(&l, 0x1001, 0x4fff, 0, UINT64_MAX);
	CHECK(rc == 0 && LIST_IS(&l, 0x2000, 0x4000),
	      "add: unaligned base rounded up, unaligned end rounded down");

	reset(&l);
	rc = regions_add(&l, 0x1000, 0x9000, 0x2800, 0x7800);
	CHECK(rc == 0 && LIST_IS(&l, 0x3000, 0x7000),
	      "add: unaligned lo/hi clip then trims to whole pages");

	reset(&l);
	rc = regions_add(&l, 0x1000, 0x4000, 0x10000, 0x20000);
	CHECK(rc == 0 && l.count == 0, "add: range wholly below lo adds nothing");
	rc = regions_add(&l, 0x30000, 0x40000, 0x10000, 0x20000);
	CHECK(rc == 0 && l.count == 0, "add: range wholly above hi adds nothing");
	rc = regions_add(&l, 0x1800, 0x2800, 0, UINT64_MAX);
	CHECK(rc == 0 && l.count == 0, "add: range straddling a page boundary without a whole page adds nothing");
	rc = regions_add(&l, 0x1001, 0x1fff, 0, UINT64_MAX);
	CHECK(rc == 0 && l.count == 0, "add: range inside one page adds nothing");
	rc = regions_add(&l, 0x5000, 0x5000, 0, UINT64_MAX);
	CHECK(rc == 0 && l.count == 0, "add: empty range adds nothing");
	rc = regions_add(&l, 0x9000, 0x3000, 0, UINT64_MAX);
	CHECK(rc == 0 && l.count == 0, "add: inverted range (base > end) adds nothing");

	reset(&l);
	regions_add(&l, 0x10000, 0x11000, 0, UINT64_MAX);
	regions_add(&l, 0x1000, 0x2000, 0, UINT64_MAX);
	regions_add(&l, 0x8000, 0x9000, 0, UINT64_MAX);
	regions_add(&l, 0x20000, 0x21000, 0, UINT64_MAX);
	CHECK(LIST_IS(&l, 0x1000, 0x2000, 0x8000, 0x9000, 0x10000, 0x11000, 0x20000, 0x21000),
	      "add: out-of-order adds are kept sorted (front, middle, back)");

	reset(&l);
	regions_add(&l, 0x1000, 0x2000, 0, UINT64_MAX);
	regions_add(&l, 0x2000, 0x3000, 0, UINT64_MAX);
	CHECK(LIST_IS(&l, 0x1000, 0x3000), "add: range touching the end of another merges");
	regions_add(&l, 0x0, 0x1000, 0, UINT64_MAX);
	CHECK(LIST_IS(&l, 0x0, 0x3000), "add: range touching the start of another merges");

	reset(&l);
	regions_add(&l, 0x1000, 0x2000, 0, UINT64_MAX);
	regions_add(&l, 0x3000, 0x4000, 0, UINT64_MAX);
	CHECK(LIST_IS(&l, 0x1000, 0x2000, 0x3000, 0x4000), "add: a one-page gap keeps ranges apart");
	regions_add(&l, 0x2000, 0x3000, 0, UINT64_MAX);
	CHECK(LIST_IS(&l, 0x1000, 0x4000), "add: range filling the gap bridges both neighbours into one");

	reset(&l);
	regions_add(&l, 0x1000, 0x4000, 0, UINT64_MAX);
	regions_add(&l, 0x3000, 0x6000, 0, UINT64_MAX);
	CHECK(LIST_IS(&l, 0x1000, 0x6000), "add: overlapping the tail of a range merges");
	regions_add(&l, 0x0, 0x2000, 0, UINT64_MAX);
	CHECK(LIST_IS(&l, 0x0, 0x6000), "add: overlapping the head of a range merges");
	regions_add(&l, 0x2000, 0x3000, 0, UINT64_MAX);
	CHECK(LIST_IS(&l, 0x0, 0x6000), "add: range already contained leaves the list unchanged");

	reset(&l);
	regions_add(&l, 0x2000, 0x3000, 0, UINT64_MAX);
	regions_add(&l, 0x5000, 0x6000, 0, UINT64_MAX);
	regions_add(&l, 0x8000, 0x9000, 0, UINT64_MAX);
	regions_add(&l, 0x20000, 0x21000, 0, UINT64_MAX);
	regions_add(&l, 0x1000, 0xa000, 0, UINT64_MAX);
	CHECK(LIST_IS(&l, 0x1000, 0xa000, 0x20000, 0x21000),
	      "add: one range swallowing three ranges merges them and keeps the next");
	regions_add(&l, 0x9800, 0x20800, 0, UINT64_MAX);
	CHECK(LIST_IS(&l, 0x1000, 0x21000),
	      "add: unaligned range overlapping two ranges merges them into one");

	/* A full list: 64 separate ranges. */
	fill_list(&l);
	CHECK(l.count == MAXR && well_formed(&l), "add: 64 separate ranges fit");
	struct region_list saved = l;
	rc = regions_add(&l, 0x200000, 0x201000, 0, UINT64_MAX);
	CHECK(rc == -1 && memcmp(&saved, &l, sizeof(l)) == 0,
	      "add: 65th separate range returns -1 and leaves the list unchanged");
	rc = regions_add(&l, 0x2000, 0x2000 + PG, 0, UINT64_MAX);
	CHECK(rc == 0 && l.count == MAXR - 1 && l.r[0].base == 0x1000 && l.r[0].end == 0x4000 &&
	      well_formed(&l), "add: on a full list, a range bridging two merges and succeeds");
	rc = regions_add(&l, 0x80000 + PG, 0x80000 + 2 * PG, 0, UINT64_MAX);
	CHECK(rc == 0 && l.count == MAXR && l.r[MAXR - 1].base == 0x81000 && well_formed(&l),
	      "add: after a merge freed a slot, a separate range fits again");
	saved = l;
	rc = regions_add(&l, 0x1000, 0x2000, 0, UINT64_MAX);
	CHECK(rc == 0 && memcmp(&saved, &l, sizeof(l)) == 0,
	      "add: on a full list, a range already contained succeeds with no change");

	/* Hostile: ranges at the very top of the address space. */
	reset(&l);
	rc = regions_add(&l, 0xffffffffffffe000ULL, UINT64_MAX, 0, UINT64_MAX);
	CHECK(rc == 0 && LIST_IS(&l, 0xffffffffffffe000ULL, 0xfffffffffffff000ULL),
	      "add: range ending at 2^64-1 keeps only its whole pages");

	/* A memory-map entry inside the last page (multiboot accepts it: its
	 * end does not wrap).  No whole page lies in it, so nothing may be
	 * added; rounding the base up must not wrap to 0. */
	reset(&l);
	rc = regions_add(&l, 0xfffffffffffff800ULL, 0xfffffffffffffc00ULL, 0x100000, 0x100000000ULL);
	CHECK(rc == 0 && l.count == 0,
	      "add: base in the last page with hi=4GiB adds nothing (got count %d, [%#llx, %#llx))",
	      l.count, l.count ? (unsigned long long)l.r[0].base : 0ULL,
	      l.count ? (unsigned long long)l.r[0].end : 0ULL);
	reset(&l);
	rc = regions_add(&l, 0xfffffffffffff001ULL, UINT64_MAX, 0, UINT64_MAX);
	CHECK(rc == 0 && l.count == 0,
	      "add: base 2^64-0xfff, end 2^64-1 adds nothing (got count %d, [%#llx, %#llx))",
	      l.count, l.count ? (unsigned long long)l.r[0].base : 0ULL,
	      l.count ? (unsigned long long)l.r[0].end : 0ULL);
}

static void test_remove(void)
{
	struct region_list l;
	int rc;

	reset(&l);
	regions_add(&l, 0x1000, 0x9000, 0, UINT64_MAX);
	rc = regions_remove(&l, 0x3000, 0x5000);
	CHECK(rc == 0 && LIST_IS(&l, 0x1000, 0x3000, 0x5000, 0x9000), "remove: middle splits a range in two");

	reset(&l);
	regions_add(&l, 0x1000, 0x9000, 0, UINT64_MAX);
	regions_remove(&l, 0x1000, 0x3000);
	CHECK(LIST_IS(&l, 0x3000, 0x9000), "remove: exactly the head trims the base");
	regions_remove(&l, 0x0, 0x4000);
	CHECK(LIST_IS(&l, 0x4000, 0x9000), "remove: starting before the range trims the base");

	reset(&l);
	regions_add(&l, 0x1000, 0x9000, 0, UINT64_MAX);
	regions_remove(&l, 0x7000, 0x9000);
	CHECK(LIST_IS(&l, 0x1000, 0x7000), "remove: exactly the tail trims the end");
	regions_remove(&l, 0x6000, 0x20000);
	CHECK(LIST_IS(&l, 0x1000, 0x6000), "remove: ending past the range trims the end");

	reset(&l);
	regions_add(&l, 0x1000, 0x3000, 0, UINT64_MAX);
	regions_add(&l, 0x5000, 0x6000, 0, UINT64_MAX);
	regions_remove(&l, 0x1000, 0x3000);
	CHECK(LIST_IS(&l, 0x5000, 0x6000), "remove: exactly a whole range deletes it");
	regions_remove(&l, 0x0, 0x100000);
	CHECK(l.count == 0, "remove: a superset of every range empties the list");

	reset(&l);
	regions_add(&l, 0x1000, 0x3000, 0, UINT64_MAX);
	regions_add(&l, 0x4000, 0x6000, 0, UINT64_MAX);
	regions_add(&l, 0x7000, 0x9000, 0, UINT64_MAX);
	regions_add(&l, 0xa000, 0xc000, 0, UINT64_MAX);
	regions_remove(&l, 0x2000, 0x8000);
	CHECK(LIST_IS(&l, 0x1000, 0x2000, 0x8000, 0x9000, 0xa000, 0xc000),
	      "remove: across several ranges trims both ends and deletes the middle one");

	reset(&l);
	regions_add(&l, 0x1000, 0x3000, 0, UINT64_MAX);
	regions_add(&l, 0x4000, 0x6000, 0, UINT64_MAX);
	regions_add(&l, 0x7000, 0x9000, 0, UINT64_MAX);
	regions_add(&l, 0xa000, 0xc000, 0, UINT64_MAX);
	regions_remove(&l, 0x4000, 0x9000);
	CHECK(LIST_IS(&l, 0x1000, 0x3000, 0xa000, 0xc000),
	      "remove: two adjacent whole ranges are both deleted (none skipped)");

	reset(&l);
	regions_add(&l, 0x1000, 0x3000, 0, UINT64_MAX);
	regions_add(&l, 0x4000, 0x6000, 0, UINT64_MAX);
	struct region_list saved = l;
	regions_remove(&l, 0x3000, 0x4000);
	CHECK(memcmp(&saved, &l, sizeof(l)) == 0, "remove: the gap between ranges is a no-op (touching both)");
	regions_remove(&l, 0x10000, 0x20000);
	CHECK(memcmp(&saved, &l, sizeof(l)) == 0, "remove: beyond every range is a no-op");
	regions_remove(&l, 0x2000, 0x2000);
	CHECK(total_bytes(&l) == total_bytes(&saved) && wholly_free(&l, 0x1000, 0x2000) &&
	      wholly_free(&l, 0x2000, 0x3000), "remove: an empty range frees and takes nothing");
	CHECK(memcmp(&saved, &l, sizeof(l)) == 0,
	      "remove: an empty range [0x2000,0x2000) inside [0x1000,0x3000) leaves the list unchanged"
	      " (got %d ranges, first [%#llx,%#llx))", l.count,
	      (unsigned long long)l.r[0].base, (unsigned long long)l.r[0].end);

	reset(&l);
	rc = regions_remove(&l, 0, UINT64_MAX);
	CHECK(rc == 0 && l.count == 0, "remove: from an empty list is a no-op");

	reset(&l);
	regions_add(&l, 0x100000, 0x200000, 0, UINT64_MAX);
	regions_remove(&l, 0x180123, 0x190456);
	CHECK(LIST_IS(&l, 0x100000, 0x180123, 0x190456, 0x200000),
	      "remove: unaligned bounds are removed exactly (no page rounding)");

	/* Hostile: an inverted range is empty and must change nothing; in
	 * particular it must not leave overlapping ranges behind. */
	reset(&l);
	regions_add(&l, 0x1000, 0x9000, 0, UINT64_MAX);
	saved = l;
	regions_remove(&l, 0x6000, 0x3000);
	CHECK(memcmp(&saved, &l, sizeof(l)) == 0 && well_formed(&l),
	      "remove: inverted range (base 0x6000 > end 0x3000) is a no-op (got %d ranges: [%#llx,%#llx) [%#llx,%#llx))",
	      l.count, (unsigned long long)l.r[0].base, (unsigned long long)l.r[0].end,
	      (unsigned long long)(l.count > 1 ? l.r[1].base : 0),
	      (unsigned long long)(l.count > 1 ? l.r[1].end : 0));

	/* Full list: a split cannot insert.  It must fail and leave the list
	 * exactly as it was (the caller treats it as fatal), losing nothing. */
	reset(&l);
	for (int k = 0; k < MAXR; k++)
		regions_add(&l, 0x10000ULL * k + PG, 0x10000ULL * k + 4 * PG, 0, UINT64_MAX);
	saved = l;
	uint64_t sb = l.r[10].base;   /* three pages */
	rc = regions_remove(&l, sb + PG, sb + 2 * PG);
	CHECK(rc == -1 && memcmp(&saved, &l, sizeof(l)) == 0,
	      "remove: split on a full list returns -1 and leaves the list unchanged");
}

static void test_take(void)
{
	struct region_list l;
	uint64_t b;

	reset(&l);
	regions_add(&l, 0x1000, 0x10000, 0, UINT64_MAX);
	b = regions_take(&l, PG, PG);
	CHECK(b == 0x1000 && LIST_IS(&l, 0x2000, 0x10000), "take: one page from the base of a range");

	reset(&l);
	regions_add(&l, 0x1000, 0x100000, 0, UINT64_MAX);
	b = regions_take(&l, 0x2000, 0x4000);
	CHECK(b == 0x4000 && LIST_IS(&l, 0x1000, 0x4000, 0x6000, 0x100000),
	      "take: aligned up inside the range, the rest on both sides stays free");

	reset(&l);
	regions_add(&l, 0x100000, 0x800000, 0, UINT64_MAX);
	b = regions_take(&l, PG, 0x200000);
	CHECK(b == 0x200000 && LIST_IS(&l, 0x100000, 0x200000, 0x201000, 0x800000),
	      "take: 2 MiB alignment");

	reset(&l);
	regions_add(&l, 0x1000, 0x2000, 0, UINT64_MAX);
	regions_add(&l, 0x5000, 0x8000, 0, UINT64_MAX);
	b = regions_take(&l, 0x2000, PG);
	CHECK(b == 0x5000 && LIST_IS(&l, 0x1000, 0x2000, 0x7000, 0x8000),
	      "take: skips a range too small, takes from the next");

	reset(&l);
	regions_add(&l, 0x1000, 0x3000, 0, UINT64_MAX);   /* 2 pages, but 0x2000-aligned start leaves 1 */
	regions_add(&l, 0x10000, 0x20000, 0, UINT64_MAX);
	b = regions_take(&l, 0x2000, 0x2000);
	CHECK(b == 0x10000 && LIST_IS(&l, 0x1000, 0x3000, 0x12000, 0x20000),
	      "take: skips a range big enough but not after alignment");

	reset(&l);
	regions_add(&l, 0x1000, 0x9000, 0, UINT64_MAX);
	regions_add(&l, 0x10000, 0x12000, 0, UINT64_MAX);
	b = regions_take(&l, 0x2000, PG);
	CHECK(b == 0x1000 && LIST_IS(&l, 0x3000, 0x9000, 0x10000, 0x12000),
	      "take: picks the lowest fitting range, not the best fit");

	reset(&l);
	regions_add(&l, 0x1000, 0x3000, 0, UINT64_MAX);
	regions_add(&l, 0x4000, 0x6000, 0, UINT64_MAX);
	struct region_list saved = l;
	b = regions_take(&l, 0x3000, PG);
	CHECK(b == 0 && memcmp(&saved, &l, sizeof(l)) == 0,
	      "take: nothing fits (total would, no single range does) returns 0, list unchanged");
	b = regions_take(&l, UINT64_MAX, PG);
	CHECK(b == 0 && memcmp(&saved, &l, sizeof(l)) == 0, "take: size 2^64-1 returns 0, list unchanged");

	reset(&l);
	CHECK(regions_take(&l, PG, PG) == 0 && l.count == 0, "take: from an empty list returns 0");

	reset(&l);
	regions_add(&l, 0x4000, 0x6000, 0, UINT64_MAX);
	regions_add(&l, 0x9000, 0xa000, 0, UINT64_MAX);
	b = regions_take(&l, 0x2000, PG);
	CHECK(b == 0x4000 && LIST_IS(&l, 0x9000, 0xa000), "take: exact fit consumes the whole range");

	reset(&l);
	regions_add(&l, 0x1000, 0x5000, 0, UINT64_MAX);
	uint64_t got[5];
	for (int i = 0; i < 5; i++)
		got[i] = regions_take(&l, PG, PG);
	int distinct = got[0] && got[1] && got[2] && got[3];
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++)
			if (got[i] == got[j])
				distinct = 0;
	CHECK(distinct && got[4] == 0 && l.count == 0,
	      "take: four pages from a 4-page range are distinct, then exhausted");

	reset(&l);
	regions_add(&l, 0x100000, 0x400000, 0, UINT64_MAX);
	uint64_t before = total_bytes(&l);
	uint64_t a1 = regions_take(&l, 0x3000, PG);
	uint64_t a2 = regions_take(&l, 0x10000, 0x10000);
	uint64_t a3 = regions_take(&l, PG, PG);
	CHECK(a1 && a2 && a3 && !overlaps_free(&l, a1, a1 + 0x3000) &&
	      !overlaps_free(&l, a2, a2 + 0x10000) && !overlaps_free(&l, a3, a3 + PG) &&
	      total_bytes(&l) == before - 0x3000 - 0x10000 - PG && well_formed(&l),
	      "take: taken ranges are no longer free and exactly their bytes are gone");
	CHECK((a2 & 0xffff) == 0 && (a3 + PG <= a1 || a3 >= a1 + 0x3000) &&
	      (a3 + PG <= a2 || a3 >= a2 + 0x10000) && (a2 + 0x10000 <= a1 || a2 >= a1 + 0x3000),
	      "take: mixed takes are aligned and mutually disjoint");

	/* Hostile: alignment so large that rounding up wraps past 2^64. */
	reset(&l);
	regions_add(&l, 0xffffffffffff0000ULL, 0xfffffffffffff000ULL, 0, UINT64_MAX);
	saved = l;
	b = regions_take(&l, PG, 1ULL << 63);
	CHECK(b == 0 && memcmp(&saved, &l, sizeof(l)) == 0,
	      "take: alignment that wraps past 2^64 returns 0, list unchanged");
	/* ... and the wrapped base (0) must not be taken out of a low range */
	reset(&l);
	regions_add(&l, 0x0, 0x1000, 0, UINT64_MAX);
	regions_add(&l, 0xffffffffffff0000ULL, 0xfffffffffffff000ULL, 0, UINT64_MAX);
	saved = l;
	b = regions_take(&l, 0x2000, 1ULL << 63);
	CHECK(b == 0 && memcmp(&saved, &l, sizeof(l)) == 0,
	      "take: wrapped alignment does not remove [0, size) from a range at 0");
}

static void test_block_bits(void)
{
	CHECK(block_bits(0x200000, 0x400000, 12, 47) == 21, "block_bits: 2 MiB aligned base, 2 MiB left -> 21");
	CHECK(block_bits(0x200000, 0x1000000, 12, 47) == 21,
	      "block_bits: limited by base alignment, not by the space left");
	CHECK(block_bits(0x0, 0x3000, 12, 47) == 13, "block_bits: limited by space left (3 pages -> 2^13)");
	CHECK(block_bits(0x3000, 0x100000, 12, 47) == 12, "block_bits: base 0x3000 is only page aligned -> 12");
	CHECK(block_bits(0x4000, 0x100000, 12, 47) == 14, "block_bits: base 0x4000 -> 14");
	CHECK(block_bits(0x800, 0x100000, 12, 47) == 0, "block_bits: base aligned below 2^min_bits -> 0");
	CHECK(block_bits(0x1000, 0x1fff, 12, 47) == 0, "block_bits: less than 2^min_bits left -> 0");
	CHECK(block_bits(0x1000, 0x2000, 12, 47) == 12, "block_bits: exactly 2^min_bits left -> min_bits");
	CHECK(block_bits(0x0, 1ULL << 48, 12, 47) == 47, "block_bits: capped at max_bits 47");
	CHECK(block_bits(0x0, 1ULL << 40, 12, 30) == 30, "block_bits: capped at a smaller max_bits");
	CHECK(block_bits(0x0, 1ULL << 40, 20, 20) == 20, "block_bits: min == max and it fits");
	CHECK(block_bits(0x1000, 1ULL << 40, 20, 20) == 0, "block_bits: min == max and base misaligned -> 0");
	CHECK(block_bits(0x10000, 0x10000, 12, 47) == 0, "block_bits: base == end -> 0");
	CHECK(block_bits(0x20000, 0x10000, 12, 47) == 0, "block_bits: base > end -> 0 (no wrap of end-base)");
	CHECK(block_bits(0xfffffffffffff000ULL, UINT64_MAX, 12, 47) == 0,
	      "block_bits: last partial page below 2^64 -> 0");
	CHECK(block_bits(0xffffffffffffe000ULL, 0xfffffffffffff000ULL, 12, 47) == 12,
	      "block_bits: one page near 2^64 -> 12 (aligned to 2^13 but only 2^12 left)");
	CHECK(block_bits(0xffffffffffffc000ULL, 0xfffffffffffff000ULL, 12, 47) == 13,
	      "block_bits: three pages near 2^64 from a 2^14-aligned base -> 13");
}

/* Split each range into blocks as give_untyped does; check they tile it. */
static void test_tiling(void)
{
	static const uint64_t fixed[][2] = {
		{ 0x100000, 0x7fe0000 },
		{ 0x1000, 0x9f000 },
		{ 0x100000000ULL, 0x240000000ULL },
		{ 0x3000, 0x4000 },
		{ 0x7ffff000, 0x180001000ULL },
		{ 0x0, (1ULL << 48) + 0x5000 },
		{ 0xfffffffffff00000ULL, 0xfffffffffffff000ULL },
	};
	enum { NFIXED = sizeof(fixed) / sizeof(fixed[0]), NRAND = 300 };
	int gaps = 0, misaligned = 0, too_small = 0, too_big = 0, not_greedy = 0, leftover = 0;
	unsigned long blocks = 0;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	for (int n = 0; n < NFIXED + NRAND; n++) {
		uint64_t base, end;
		if (n < NFIXED) {
			base = fixed[n][0];
			end = fixed[n][1];
		} else {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			base = (seed >> 20) & ~(PG - 1) & ((1ULL << 44) - 1);
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			uint64_t len = ((seed >> 24) & ((1ULL << (12 + (seed >> 58) % 28)) - 1)) & ~(PG - 1);
			end = base + len + PG;
		}
		uint64_t cur = base;
		unsigned bits;
		while ((bits = block_bits(cur, end, 12, 47))) {
			uint64_t size = 1ULL << bits;
			blocks++;
			if (cur & (size - 1))
				misaligned++;
			if (bits < 12)
				too_small++;
			if (bits > 47 || size > end - cur)
				too_big++;
			/* greedy: the next larger block would be misaligned or not fit */
			if (bits < 47 && (cur & (2 * size - 1)) == 0 && end - cur >= 2 * size)
				not_greedy++;
			if (cur + size < cur)
				gaps++;
			cur += size;
		}
		if (cur != end)
			leftover++;
	}
	CHECK(blocks > (unsigned long)(NFIXED + NRAND), "tiling: %lu blocks produced", blocks);
	CHECK(leftover == 0 && gaps == 0, "tiling: blocks exactly tile every page-aligned range (%d left over)", leftover);
	CHECK(misaligned == 0, "tiling: every block is aligned to its size (%d not)", misaligned);
	CHECK(too_small == 0 && too_big == 0, "tiling: every block is 2^12..2^47 and inside its range");
	CHECK(not_greedy == 0, "tiling: every block is the largest possible at its base (%d not)", not_greedy);
}

int main(void)
{
	test_add();
	test_remove();
	test_take();
	test_block_bits();
	test_tiling();
	return unit_done();
}
