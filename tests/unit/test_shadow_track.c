/* Host unit tests for servers/vmm/shadow_track.c: the guest table pages
 * behind cached shadows (tracked, their uses per shadow, stale after a
 * flush, removed with probing chains kept whole) and the reverse map of
 * writable shadow entries. */
// unit-under-test: servers/vmm/shadow_track.c
#include <stdint.h>
#include <string.h>
#include "unit.h"
#include "../../servers/vmm/shadow_track.h"

static struct track t;

int main(void)
{
	struct track_use u[TRACK_SHADOWS];
	track_clear(&t);
	CHECK(track_note(&t, 0x5000, 1, 0, 0x400123) == 1, "a table walked for the first time is new");
	CHECK(track_note(&t, 0x5000, 1, 0, 0x400fff) == 0, "walked again at the same place: not new");
	CHECK(track_is_table(&t, 0x5008) && !track_is_table(&t, 0x6000), "it is a table; its neighbour is not");
	CHECK(track_uses(&t, 0x5000, u) && u[0].state == USE_ONE && u[0].gva_base == 0x400000 && u[0].level == 1 &&
	      u[1].state == USE_NONE, "its use: shadow 0, the 2 MiB region at 0x400000, level 1");
	track_note(&t, 0x5000, 1, 0, 0x800000);
	CHECK(track_uses(&t, 0x5000, u) && u[0].state == USE_MANY, "used at a second place: many");
	track_note(&t, 0x7000, 4, 2, 0xffff800000000000UL);
	CHECK(track_uses(&t, 0x7000, u) && u[2].gva_base == 0 && u[2].level == 4, "a top table covers everything");
	track_shadow_flushed(&t, 2);
	CHECK(!track_is_table(&t, 0x7000), "after its shadow's flush its only use is stale");
	CHECK(track_note(&t, 0x7000, 4, 2, 0) == 1, "walked again: new again (its writable mappings must go)");
	CHECK(track_write(&t, 0x7000) == 1 && track_write(&t, 0x7000) == 2, "writes between walks are counted");
	track_note(&t, 0x7000, 4, 2, 0);
	CHECK(track_write(&t, 0x7000) == 1, "a walk starts the count again");

	/* many pages, then removals: every remaining one still found */
	track_clear(&t);
	for (uint64_t i = 0; i < 2000; i++)
		track_note(&t, i << 12, 1, (unsigned)(i & 3), i << 21);
	int all = 1;
	for (uint64_t i = 0; i < 2000; i += 2)
		all &= track_take(&t, i << 12, u) == 1 && u[i & 3].state == USE_ONE && u[i & 3].gva_base == i << 21;
	CHECK(all, "1000 of 2000 tables taken out, each with its use");
	all = 1;
	for (uint64_t i = 0; i < 2000; i++)
		all &= track_is_table(&t, i << 12) == (int)(i & 1);
	CHECK(all && t.count == 1000, "exactly the other 1000 are still found (%u)", t.count);
	for (uint64_t i = 2000; i < TRACK_SLOTS; i++)
		if (track_note(&t, i << 12, 1, 0, 0) < 0)
			break;
	CHECK(track_note(&t, 0x7fffff000UL, 1, 0, 0) == -1, "three quarters full: -1 (flush everything)");

	/* the reverse map */
	track_clear(&t);
	uint64_t gva[2];
	uint8_t in[2];
	rmap_add(&t, 0x9000, 0, 0xffff888000009000UL);
	rmap_add(&t, 0x9000, 1, 0xffff888000009000UL);
	rmap_add(&t, 0x9000, 0, 0x7000000);
	CHECK(rmap_take(&t, 0x9000, gva, in) == 2 && gva[0] == 0xffff888000009000UL && in[0] == 3 &&
	      gva[1] == 0x7000000 && in[1] == 1, "two places, one of them in two shadows");
	CHECK(rmap_take(&t, 0x9000, gva, in) == 0, "taken: none left");
	rmap_add(&t, 0x9000, 0, 0x1000);
	rmap_add(&t, 0x9000, 0, 0x2000);
	rmap_add(&t, 0x9000, 0, 0x3000);
	CHECK(rmap_take(&t, 0x9000, gva, in) == -1, "a third place does not fit: lost, flush everything");
	rmap_add(&t, 0x9000 + ((uint64_t)RMAP_SLOTS << 12), 1, 0x5000);
	CHECK(rmap_take(&t, 0x9000, gva, in) == -1, "still lost until everything is flushed");
	track_clear(&t);
	rmap_add(&t, 0xa000, 0, 0x1000);
	rmap_add(&t, 0xa000 + ((uint64_t)RMAP_SLOTS << 12), 1, 0x5000);
	CHECK(rmap_take(&t, 0xa000, gva, in) == -1, "a page whose record another pushed out: lost");
	return unit_done();
}
