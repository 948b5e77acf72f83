/* Host unit tests for kernel/prio_bitmap.h: the 256-level ready bitmap
 * the scheduler uses to find the highest runnable priority. */
// unit-under-test:
#include <stdint.h>
#include <string.h>
#include "unit.h"
#include "prio_bitmap.h"

#define LEVELS 256

/* top must have bit w set exactly when word[w] is non-zero. */
static int consistent(const struct prio_bitmap *b)
{
	for (unsigned w = 0; w < 4; w++)
		if (!!(b->top & (1ULL << w)) != !!b->word[w])
			return 0;
	return (b->top >> 4) == 0;
}

static int only(const struct prio_bitmap *b, unsigned p)
{
	for (unsigned w = 0; w < 4; w++)
		if (b->word[w] != (w == p / 64 ? 1ULL << (p % 64) : 0))
			return 0;
	return b->top == 1ULL << (p / 64);
}

static void test_basic(void)
{
	struct prio_bitmap b;
	memset(&b, 0, sizeof(b));
	CHECK(prio_highest(&b) == -1, "empty bitmap -> -1");

	static const unsigned singles[] = { 0, 1, 63, 64, 65, 127, 128, 191, 192, 254, 255 };
	int all_ok = 1, all_only = 1, all_empty = 1;
	for (unsigned i = 0; i < sizeof(singles) / sizeof(singles[0]); i++) {
		unsigned p = singles[i];
		memset(&b, 0, sizeof(b));
		prio_set(&b, p);
		int h = prio_highest(&b);
		if (h != (int)p) {
			all_ok = 0;
			printf("# single %u: highest %d\n", p, h);
		}
		if (!only(&b, p) || !consistent(&b))
			all_only = 0;
		prio_clear(&b, p);
		if (prio_highest(&b) != -1 || b.top || b.word[0] || b.word[1] || b.word[2] || b.word[3])
			all_empty = 0;
	}
	CHECK(all_ok, "a single priority (0,1,63,64,65,127,128,191,192,254,255) is the highest");
	CHECK(all_only, "setting one priority sets exactly one word bit and its top bit");
	CHECK(all_empty, "clearing the only priority empties the bitmap (-1, all words and top zero)");

	memset(&b, 0, sizeof(b));
	prio_set(&b, 0);
	CHECK(prio_highest(&b) == 0, "priority 0 alone -> 0 (distinct from empty)");
	prio_set(&b, 255);
	CHECK(prio_highest(&b) == 255, "priority 255 -> 255");
	prio_set(&b, 64);
	prio_set(&b, 127);
	prio_set(&b, 128);
	CHECK(prio_highest(&b) == 255, "{0,64,127,128,255} -> 255");
	prio_clear(&b, 255);
	CHECK(prio_highest(&b) == 128 && consistent(&b), "clear 255 -> 128 (last of word 3 clears its top bit)");
	CHECK(!(b.top & 8) && b.word[3] == 0, "word 3 empty and top bit 3 clear");
	prio_clear(&b, 128);
	CHECK(prio_highest(&b) == 127 && !(b.top & 4), "clear 128 -> 127 (word 2 and its top bit emptied)");
	prio_clear(&b, 127);
	CHECK(prio_highest(&b) == 64 && (b.top & 2), "clear 127 -> 64 (word 1 still non-empty)");
	prio_clear(&b, 64);
	CHECK(prio_highest(&b) == 0 && b.top == 1, "clear 64 -> 0 (only word 0 left)");
	prio_clear(&b, 0);
	CHECK(prio_highest(&b) == -1 && b.top == 0, "clear 0 -> empty");

	memset(&b, 0, sizeof(b));
	prio_set(&b, 100);
	prio_set(&b, 70);
	prio_set(&b, 127);
	CHECK(prio_highest(&b) == 127, "three in one word -> 127");
	prio_clear(&b, 127);
	CHECK(prio_highest(&b) == 100 && (b.top & 2), "clear the top one in a word -> the next in that word, top bit kept");
	prio_clear(&b, 70);
	CHECK(prio_highest(&b) == 100, "clearing a lower one leaves the highest alone");

	memset(&b, 0, sizeof(b));
	prio_set(&b, 200);
	prio_set(&b, 200);
	CHECK(prio_highest(&b) == 200 && only(&b, 200), "setting twice is the same as once");
	prio_clear(&b, 200);
	CHECK(prio_highest(&b) == -1 && b.top == 0, "one clear after two sets empties it (a set, not a counter)");
	prio_clear(&b, 200);
	CHECK(prio_highest(&b) == -1 && b.top == 0 && consistent(&b), "clearing an absent priority is harmless");

	memset(&b, 0, sizeof(b));
	prio_set(&b, 10);
	prio_clear(&b, 11);
	prio_clear(&b, 74);
	CHECK(prio_highest(&b) == 10 && only(&b, 10), "clearing absent neighbours (same word, other word) changes nothing");

	memset(&b, 0, sizeof(b));
	for (unsigned p = 0; p < LEVELS; p++)
		prio_set(&b, p);
	CHECK(b.top == 0xf && b.word[0] == UINT64_MAX && b.word[3] == UINT64_MAX && prio_highest(&b) == 255,
	      "all 256 set -> every bit set, highest 255");
	int desc_ok = 1;
	for (int p = LEVELS - 1; p >= 0; p--) {
		if (prio_highest(&b) != p || !consistent(&b))
			desc_ok = 0;
		prio_clear(&b, (unsigned)p);
	}
	CHECK(desc_ok && prio_highest(&b) == -1, "clearing 255 down to 0 yields each as highest in turn, then -1");

	memset(&b, 0, sizeof(b));
	int asc_ok = 1;
	for (unsigned p = 0; p < LEVELS; p++) {
		prio_set(&b, p);
		if (prio_highest(&b) != (int)p)
			asc_ok = 0;
	}
	for (unsigned p = 0; p < LEVELS - 1; p++) {
		prio_clear(&b, p);
		if (prio_highest(&b) != LEVELS - 1)
			asc_ok = 0;
	}
	CHECK(asc_ok && only(&b, 255), "ascending sets track the highest; clearing 0..254 leaves 255");
}

static uint64_t rs = 0x853c49e6748fea9bULL;
static uint32_t rnd(void)
{
	rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(rs >> 33);
}

static void test_random(void)
{
	struct prio_bitmap b;
	unsigned char ref[LEVELS];
	memset(&b, 0, sizeof(b));
	memset(ref, 0, sizeof(ref));
	int mismatches = 0, inconsistent = 0, peak = 0, emptied = 0;

	for (int op = 0; op < 20000; op++) {
		/* bias towards a few clusters so words fill and empty often */
		unsigned p;
		switch (rnd() % 4) {
		case 0: p = rnd() % LEVELS; break;
		case 1: p = 60 + rnd() % 8; break;      /* straddles words 0/1 */
		case 2: p = 248 + rnd() % 8; break;     /* top of word 3 */
		default: p = 128 + rnd() % 4; break;    /* bottom of word 2 */
		}
		if (rnd() % 100 < (op % 2000 < 1000 ? 60 : 35)) {
			prio_set(&b, p);
			ref[p] = 1;
		} else {
			prio_clear(&b, p);
			ref[p] = 0;
		}
		int want = -1, n = 0;
		for (int i = 0; i < LEVELS; i++)
			if (ref[i]) {
				want = i;
				n++;
			}
		if (n > peak)
			peak = n;
		if (n == 0 && op > 0)
			emptied++;
		if (prio_highest(&b) != want)
			mismatches++;
		if (!consistent(&b))
			inconsistent++;
		for (int i = 0; i < LEVELS; i++)
			if (!!(b.word[i / 64] & (1ULL << (i % 64))) != ref[i]) {
				mismatches++;
				break;
			}
	}
	CHECK(peak > 30 && emptied > 0, "random: the run both fills (peak %d) and empties (%d times) the set",
	      peak, emptied);
	CHECK(mismatches == 0, "random: 20000 set/clear ops match a 256-flag reference (%d mismatches)", mismatches);
	CHECK(inconsistent == 0, "random: top bits always match non-empty words (%d not)", inconsistent);
}

int main(void)
{
	test_basic();
	test_random();
	return unit_done();
}
