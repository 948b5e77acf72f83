/* Host unit tests for kernel/retype.c: object sizes and where a retyped
 * object is placed inside its Untyped. */
// unit-under-test: kernel/retype.c
#include <stdint.h>
#include <berth/errors.h>
#include <berth/object.h>
#include <berth/syscall.h>
#include "unit.h"
#include "retype.h"

#define NF ((uint64_t)RETYPE_NEXT_FREE)
#define SENTINEL 0x5a5a5a5a5a5a5a5aULL

static void test_object_bits(void)
{
	CHECK(object_bits(OBJ_UNTYPED, 12) == 12, "object_bits: untyped 12 (minimum) -> 12");
	CHECK(object_bits(OBJ_UNTYPED, 47) == 47, "object_bits: untyped 47 (maximum) -> 47");
	CHECK(object_bits(OBJ_UNTYPED, 30) == 30, "object_bits: untyped 30 -> 30");
	CHECK(object_bits(OBJ_UNTYPED, 11) == -E_BAD_ARG, "object_bits: untyped 11 -> -E_BAD_ARG");
	CHECK(object_bits(OBJ_UNTYPED, 48) == -E_BAD_ARG, "object_bits: untyped 48 -> -E_BAD_ARG");
	CHECK(object_bits(OBJ_UNTYPED, 0) == -E_BAD_ARG, "object_bits: untyped 0 -> -E_BAD_ARG");
	CHECK(object_bits(OBJ_UNTYPED, (1ULL << 32) + 12) == -E_BAD_ARG,
	      "object_bits: untyped 2^32+12 is not truncated to 12");
	CHECK(object_bits(OBJ_UNTYPED, UINT64_MAX) == -E_BAD_ARG, "object_bits: untyped 2^64-1 -> -E_BAD_ARG");

	CHECK(object_bits(OBJ_CNODE, 1) == 1 + CNODE_SLOT_BITS, "object_bits: CNode radix 1 -> 7");
	CHECK(object_bits(OBJ_CNODE, CNODE_MAX_RADIX) == CNODE_MAX_RADIX + CNODE_SLOT_BITS,
	      "object_bits: CNode radix 16 -> 22");
	CHECK(object_bits(OBJ_CNODE, 8) == 14, "object_bits: CNode radix 8 -> 14 (256 slots of 64 bytes)");
	CHECK(object_bits(OBJ_CNODE, 0) == -E_BAD_ARG, "object_bits: CNode radix 0 -> -E_BAD_ARG");
	CHECK(object_bits(OBJ_CNODE, CNODE_MAX_RADIX + 1) == -E_BAD_ARG, "object_bits: CNode radix 17 -> -E_BAD_ARG");
	CHECK(object_bits(OBJ_CNODE, (1ULL << 32) + 1) == -E_BAD_ARG,
	      "object_bits: CNode radix 2^32+1 is not truncated to 1");

	CHECK(object_bits(OBJ_TCB, 0) == TCB_BITS, "object_bits: TCB -> TCB_BITS");
	CHECK(object_bits(OBJ_TCB, 0xdeadbeef) == TCB_BITS, "object_bits: TCB ignores size_bits");
	CHECK(object_bits(OBJ_VSPACE, 0) == PAGE_BITS, "object_bits: VSpace -> 12");
	CHECK(object_bits(OBJ_PAGE_TABLE, 0) == PAGE_BITS, "object_bits: page table -> 12");
	CHECK(object_bits(OBJ_FRAME, 0) == PAGE_BITS, "object_bits: frame -> 12");
	CHECK(object_bits(OBJ_FRAME, 12) == PAGE_BITS, "object_bits: frame of 12 bits -> 12");
	CHECK(object_bits(OBJ_FRAME, 21) == LARGE_PAGE_BITS, "object_bits: large frame -> 21");
	CHECK(object_bits(OBJ_FRAME, 99) == -E_BAD_ARG, "object_bits: frame of 99 bits -> -E_BAD_ARG");
	CHECK(object_bits(OBJ_FRAME, 13) == -E_BAD_ARG, "object_bits: frame of 13 bits -> -E_BAD_ARG");

	CHECK(object_bits(OBJ_NONE, 12) == -E_BAD_ARG, "object_bits: OBJ_NONE -> -E_BAD_ARG");
	CHECK(object_bits(OBJ_TYPE_COUNT, 12) == -E_BAD_ARG, "object_bits: OBJ_TYPE_COUNT -> -E_BAD_ARG");
	CHECK(object_bits((1ULL << 32) + OBJ_FRAME, 0) == -E_BAD_ARG,
	      "object_bits: type 2^32+OBJ_FRAME is not truncated to a frame");
	CHECK(object_bits(UINT64_MAX, 12) == -E_BAD_ARG, "object_bits: type 2^64-1 -> -E_BAD_ARG");

	/* Every answer is an error or a size an untyped can hold. */
	int bad = 0;
	for (uint64_t type = 0; type < OBJ_TYPE_COUNT + 3; type++)
		for (uint64_t sb = 0; sb < 70; sb++) {
			int b = object_bits(type, sb);
			if (b != -E_BAD_ARG && (b < 1 || b > UNTYPED_MAX_BITS))
				bad++;
			if (b >= 0 && (type == OBJ_NONE || type >= OBJ_TYPE_COUNT))
				bad++;
		}
	CHECK(bad == 0, "object_bits: over all types x size_bits 0..69, each is -E_BAD_ARG or 1..47 (%d bad)", bad);
}

/* Reference for retype_place in 128-bit arithmetic (no overflow). */
static int ref_place(unsigned ut_bits, uint64_t wm, unsigned obj_bits, uint64_t offset, uint64_t *placed)
{
	if (obj_bits > ut_bits)
		return E_RANGE;
	unsigned __int128 ut = (unsigned __int128)1 << ut_bits, sz = (unsigned __int128)1 << obj_bits;
	unsigned __int128 off;
	if (offset == NF) {
		off = ((wm + sz - 1) / sz) * sz;
	} else {
		off = offset;
		if (off % sz)
			return E_ALIGN;
		if (off < wm)
			return E_OVERLAP;
	}
	if (off + sz > ut)
		return E_RANGE;
	*placed = (uint64_t)off;
	return E_OK;
}

static uint64_t rng_state = 0x243f6a8885a308d3ULL;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void test_place(void)
{
	uint64_t p;
	int rc;

	p = SENTINEL;
	rc = retype_place(12, 0, 13, NF, &p);
	CHECK(rc == E_RANGE && p == SENTINEL, "place: object larger than untyped (NEXT_FREE) -> E_RANGE, *placed untouched");
	rc = retype_place(12, 0, 13, 0, &p);
	CHECK(rc == E_RANGE, "place: object larger than untyped (offset 0) -> E_RANGE");
	rc = retype_place(20, 0, 47, NF, &p);
	CHECK(rc == E_RANGE, "place: 2^47 object in a 2^20 untyped -> E_RANGE");

	rc = retype_place(12, 0, 12, NF, &p);
	CHECK(rc == E_OK && p == 0, "place: object exactly the untyped's size fits at 0");
	rc = retype_place(12, 1, 12, NF, &p);
	CHECK(rc == E_RANGE, "place: same-size object with 1 byte used -> E_RANGE");

	rc = retype_place(20, 0, 12, NF, &p);
	CHECK(rc == E_OK && p == 0, "place: NEXT_FREE on a fresh untyped -> 0");
	rc = retype_place(20, 0x1400, 12, NF, &p);
	CHECK(rc == E_OK && p == 0x2000, "place: NEXT_FREE aligns watermark 0x1400 up to 0x2000 for a page");
	rc = retype_place(20, 0x1000, 12, NF, &p);
	CHECK(rc == E_OK && p == 0x1000, "place: NEXT_FREE keeps an already aligned watermark");
	rc = retype_place(20, 0x1400, 10, NF, &p);
	CHECK(rc == E_OK && p == 0x1400, "place: NEXT_FREE with a 1 KiB object at 0x1400 -> 0x1400");
	rc = retype_place(20, 0x401, 10, NF, &p);
	CHECK(rc == E_OK && p == 0x800, "place: NEXT_FREE watermark 0x401 for a 1 KiB object -> 0x800");
	rc = retype_place(22, 0x1000, 22 - 1, NF, &p);
	CHECK(rc == E_OK && p == 0x200000, "place: NEXT_FREE for a half-size object jumps to the middle");

	p = SENTINEL;
	rc = retype_place(20, 0, 12, 0x1800, &p);
	CHECK(rc == E_ALIGN && p == SENTINEL, "place: explicit offset 0x1800 for a page -> E_ALIGN, *placed untouched");
	rc = retype_place(20, 0, 12, 1, &p);
	CHECK(rc == E_ALIGN, "place: explicit offset 1 -> E_ALIGN");
	rc = retype_place(20, 0, 10, 0x400, &p);
	CHECK(rc == E_OK && p == 0x400, "place: explicit offset 0x400 is aligned for a 1 KiB object");

	p = SENTINEL;
	rc = retype_place(20, 0x2000, 12, 0x1000, &p);
	CHECK(rc == E_OVERLAP && p == SENTINEL, "place: explicit offset below the watermark -> E_OVERLAP");
	rc = retype_place(20, 0x1001, 12, 0x1000, &p);
	CHECK(rc == E_OVERLAP, "place: explicit offset one byte below the watermark -> E_OVERLAP");
	rc = retype_place(20, 0x2000, 12, 0x2000, &p);
	CHECK(rc == E_OK && p == 0x2000, "place: explicit offset equal to the watermark is OK");
	rc = retype_place(20, 0x2000, 12, 0x8000, &p);
	CHECK(rc == E_OK && p == 0x8000, "place: explicit offset above the watermark is OK (leaves a hole)");

	rc = retype_place(16, 0, 12, 0xf000, &p);
	CHECK(rc == E_OK && p == 0xf000, "place: exact fit at the end of the untyped is OK");
	p = SENTINEL;
	rc = retype_place(16, 0, 12, 0x10000, &p);
	CHECK(rc == E_RANGE && p == SENTINEL, "place: offset at the end of the untyped -> E_RANGE");
	rc = retype_place(16, 0, 13, 0xf000 - 0x1000, &p);
	CHECK(rc == E_OK && p == 0xe000, "place: 8 KiB object exactly at the end is OK");
	rc = retype_place(16, 0x10000, 10, NF, &p);
	CHECK(rc == E_RANGE, "place: NEXT_FREE on a full untyped -> E_RANGE");
	rc = retype_place(16, 0xf001, 12, NF, &p);
	CHECK(rc == E_RANGE, "place: NEXT_FREE whose aligned watermark is the end -> E_RANGE");
	rc = retype_place(47, 0, 12, (1ULL << 47) - 0x1000, &p);
	CHECK(rc == E_OK && p == (1ULL << 47) - 0x1000, "place: last page of a 2^47 untyped is OK");
	rc = retype_place(47, (1ULL << 47) - 0x1000, 12, NF, &p);
	CHECK(rc == E_OK && p == (1ULL << 47) - 0x1000, "place: NEXT_FREE into the last page of a 2^47 untyped");
	rc = retype_place(47, 0, 47, NF, &p);
	CHECK(rc == E_OK && p == 0, "place: a 2^47 untyped in a 2^47 untyped");

	/* Hostile offsets near 2^64 must never be accepted. */
	static const unsigned objs[] = { 7, 10, 12, 13, 21, 22, 30, 47 };
	static const unsigned uts[] = { 12, 16, 22, 30, 47 };
	int accepted = 0, wrong_code = 0;
	for (unsigned i = 0; i < sizeof(objs) / sizeof(objs[0]); i++)
		for (unsigned j = 0; j < sizeof(uts) / sizeof(uts[0]); j++) {
			uint64_t sz = 1ULL << objs[i];
			const uint64_t offs[] = {
				0 - sz, 0 - 2 * sz, 1ULL << 63, (1ULL << 63) + sz, UINT64_MAX - 1,
				UINT64_MAX - sz, 0 - (1ULL << uts[j]), (1ULL << 47), (1ULL << uts[j]),
				(1ULL << uts[j]) - sz + 1, (1ULL << 48) - sz,
			};
			for (unsigned k = 0; k < sizeof(offs) / sizeof(offs[0]); k++)
				for (int wmi = 0; wmi < 2; wmi++) {
					uint64_t out = SENTINEL;
					rc = retype_place(uts[j], wmi ? 0x1000 : 0, objs[i], offs[k], &out);
					if (rc == E_OK)
						accepted++;
					else if (rc != E_RANGE && rc != E_ALIGN)
						wrong_code++;
					if (rc != E_OK && out != SENTINEL)
						wrong_code++;
				}
		}
	CHECK(accepted == 0, "place: no offset near 2^64 or past the end is accepted (%d were)", accepted);
	CHECK(wrong_code == 0, "place: such offsets give E_RANGE or E_ALIGN and leave *placed alone (%d not)", wrong_code);
	rc = retype_place(47, 0, 12, 0 - 0x1000ULL, &p);
	CHECK(rc == E_RANGE, "place: page-aligned offset 2^64-4096 in a 2^47 untyped -> E_RANGE (no wrap)");
	rc = retype_place(12, 0, 12, 0 - 0x1000ULL, &p);
	CHECK(rc == E_RANGE, "place: offset 2^64-4096 for a page in a one-page untyped -> E_RANGE");
}

/* Allocate mixed objects with NEXT_FREE until even the smallest fails;
 * every placement must be aligned, inside and disjoint from the others. */
static void test_sequence(void)
{
	static const unsigned sizes[] = { TCB_BITS, PAGE_BITS, 7, 8, 14, 16, 13, 20, 22 };
	static const unsigned uts[] = { 12, 16, 20, 23 };
	enum { MAXOBJ = 20000 };
	static uint64_t at[MAXOBJ];
	static unsigned bits_at[MAXOBJ];
	int misaligned = 0, outside = 0, below_wm = 0, overlap = 0, bad_fail = 0, bad_code = 0;
	int total = 0, runs = 0, ended_full = 0;

	for (unsigned u = 0; u < sizeof(uts) / sizeof(uts[0]); u++)
		for (int rep = 0; rep < 3; rep++) {
			unsigned ut = uts[u];
			uint64_t ut_size = 1ULL << ut, wm = 0;
			int n = 0, smallest_failed = 0;
			runs++;
			while (!smallest_failed && n < MAXOBJ) {
				unsigned ob = sizes[rnd() % (sizeof(sizes) / sizeof(sizes[0]))];
				if (rnd() % 8 == 0)
					ob = 7;        /* the smallest object ends the run */
				uint64_t sz = 1ULL << ob, p = SENTINEL;
				int rc = retype_place(ut, wm, ob, NF, &p);
				if (rc != E_OK) {
					if (rc != E_RANGE)
						bad_code++;
					/* failing is only right if no aligned slot is left */
					uint64_t next = (wm + sz - 1) / sz * sz;
					if (ob <= ut && next + sz <= ut_size)
						bad_fail++;
					if (ob == 7)
						smallest_failed = 1;
					continue;
				}
				if (p & (sz - 1))
					misaligned++;
				if (p + sz > ut_size || p + sz < p)
					outside++;
				if (p < wm)
					below_wm++;
				/* a linear scan would be slow for 20000; the watermark
				 * rule already orders them, so compare with the last */
				if (n > 0 && p < at[n - 1] + (1ULL << bits_at[n - 1]))
					overlap++;
				at[n] = p;
				bits_at[n] = ob;
				n++;
				wm = p + sz;
			}
			/* full pairwise check on the first objects of the run */
			int lim = n < 400 ? n : 400;
			for (int a = 0; a < lim; a++)
				for (int b = a + 1; b < lim; b++)
					if (at[a] < at[b] + (1ULL << bits_at[b]) && at[b] < at[a] + (1ULL << bits_at[a]))
						overlap++;
			total += n;
			if (smallest_failed && wm + 128 > ut_size)
				ended_full++;
		}
	CHECK(total > 150, "sequence: %d objects placed over %d runs", total, runs);
	CHECK(misaligned == 0, "sequence: every placement is aligned to its size (%d not)", misaligned);
	CHECK(outside == 0, "sequence: every object lies inside its untyped (%d not)", outside);
	CHECK(below_wm == 0 && overlap == 0, "sequence: objects never overlap (%d below watermark, %d overlapping)",
	      below_wm, overlap);
	CHECK(bad_fail == 0 && bad_code == 0, "sequence: failures are E_RANGE and only when nothing fits (%d, %d)",
	      bad_fail, bad_code);
	CHECK(ended_full == runs, "sequence: every run ends with the untyped full to within 128 bytes (%d of %d)",
	      ended_full, runs);
}

/* Random inputs biased to edges, compared with the 128-bit reference. */
static void test_random_reference(void)
{
	int mismatches = 0, oks = 0, errs = 0;
	for (int i = 0; i < 200000; i++) {
		unsigned ut = 12 + (unsigned)(rnd() % 36);          /* 12..47 */
		unsigned ob = 7 + (unsigned)(rnd() % 41);           /* 7..47 */
		uint64_t ut_size = 1ULL << ut, sz = 1ULL << ob;
		uint64_t wm;
		switch (rnd() % 4) {
		case 0: wm = 0; break;
		case 1: wm = ut_size; break;
		case 2: wm = rnd() % (ut_size + 1); break;
		default: wm = (rnd() % (ut_size / 4096 + 1)) * 4096; break;
		}
		uint64_t off;
		switch (rnd() % 7) {
		case 0: off = NF; break;
		case 1: off = rnd(); break;
		case 2: off = (rnd() % (ut_size + 1)) & ~(sz - 1); break;
		case 3: off = ut_size - sz; break;
		case 4: off = 0 - sz * (1 + rnd() % 4); break;
		case 5: off = wm & ~(sz - 1); break;
		default: off = rnd() % (ut_size + 1); break;
		}
		uint64_t got = SENTINEL, want = SENTINEL;
		int rg = retype_place(ut, wm, ob, off, &got);
		int rw = ref_place(ut, wm, ob, off, &want);
		/* when several errors apply, any of them is acceptable */
		if ((rg == E_OK) != (rw == E_OK) || (rw == E_OK && got != want) ||
		    (rg != E_OK && got != SENTINEL))
			mismatches++;
		if (rw == E_OK)
			oks++;
		else
			errs++;
	}
	CHECK(oks > 10000 && errs > 10000, "random: both outcomes exercised (%d ok, %d errors)", oks, errs);
	CHECK(mismatches == 0, "random: retype_place agrees with a 128-bit reference on 200000 inputs (%d differ)",
	      mismatches);
}

int main(void)
{
	test_object_bits();
	test_place();
	test_sequence();
	test_random_reference();
	return unit_done();
}
