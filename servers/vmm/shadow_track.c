/* The guest table pages behind cached shadows and the reverse map of
 * writable shadow entries (shadow_track.h says what for).  Open
 * addressing with linear probing; removal shifts the entries after it
 * back, so there are no tombstones.  Pure C11. */
#include "shadow_track.h"

#define PAGE_MASK (~0xfffUL)

static unsigned slot_of(uint64_t key)
{
	return (unsigned)(((key >> 12) * 0x9e3779b97f4a7c15UL) >> 40) & (TRACK_SLOTS - 1);
}

static void zero(void *p, unsigned long n)
{
	for (unsigned char *c = p; n--; c++)
		*c = 0;
}

void track_clear(struct track *t)
{
	zero(t->pages, sizeof(t->pages));
	zero(t->rmap, sizeof(t->rmap));
	t->count = 0;
}

void track_shadow_flushed(struct track *t, unsigned k)
{
	if (k < TRACK_SHADOWS)
		t->epoch[k]++;
}

static struct track_page *find(const struct track *t, uint64_t gpa)
{
	uint64_t key = (gpa & PAGE_MASK) | 1;
	for (unsigned i = slot_of(key), n = 0; n < TRACK_SLOTS; i = (i + 1) & (TRACK_SLOTS - 1), n++) {
		if (t->pages[i].key == key)
			return (struct track_page *)&t->pages[i];
		if (!t->pages[i].key)
			return 0;
	}
	return 0;
}

static int live(const struct track *t, const struct track_use *u, unsigned k)
{
	return u->state != USE_NONE && u->epoch == t->epoch[k];
}

int track_note(struct track *t, uint64_t gpa, unsigned level, unsigned k, uint64_t gva)
{
	uint64_t key = (gpa & PAGE_MASK) | 1;
	/* the part of the address space the table maps */
	uint64_t base = level >= 4 ? 0 : gva & ~((1UL << (12 + 9 * level)) - 1);
	struct track_page *p = find(t, gpa);
	int fresh = 0;
	if (!p) {
		if (t->count >= TRACK_SLOTS * 3 / 4)
			return -1;
		unsigned i = slot_of(key);
		while (t->pages[i].key)
			i = (i + 1) & (TRACK_SLOTS - 1);
		p = &t->pages[i];
		zero(p, sizeof(*p));
		p->key = key;
		t->count++;
		fresh = 1;
	} else {
		/* tracked, but only by uses a flush made stale: as good as new */
		fresh = 1;
		for (unsigned j = 0; j < TRACK_SHADOWS; j++)
			if (live(t, &p->use[j], j))
				fresh = 0;
	}
	p->writes = 0;
	struct track_use *u = &p->use[k];
	if (!live(t, u, k)) {
		u->state = USE_ONE;
		u->gva_base = base;
		u->level = (uint8_t)level;
		u->epoch = t->epoch[k];
	} else if (u->gva_base != base || u->level != level) {
		u->state = USE_MANY;
	}
	return fresh;
}

int track_is_table(const struct track *t, uint64_t gpa)
{
	const struct track_page *p = find(t, gpa);
	if (!p)
		return 0;
	for (unsigned j = 0; j < TRACK_SHADOWS; j++)
		if (live(t, &p->use[j], j))
			return 1;
	return 0;
}

unsigned track_write(struct track *t, uint64_t gpa)
{
	struct track_page *p = find(t, gpa);
	return p ? ++p->writes : 0;
}

int track_uses(const struct track *t, uint64_t gpa, struct track_use uses[TRACK_SHADOWS])
{
	const struct track_page *p = find(t, gpa);
	if (!p)
		return 0;
	for (unsigned j = 0; j < TRACK_SHADOWS; j++) {
		uses[j] = p->use[j];
		if (!live(t, &p->use[j], j))
			uses[j].state = USE_NONE;
	}
	return 1;
}

int track_take(struct track *t, uint64_t gpa, struct track_use uses[TRACK_SHADOWS])
{
	struct track_page *p = find(t, gpa);
	if (!p)
		return 0;
	for (unsigned j = 0; j < TRACK_SHADOWS; j++) {
		uses[j] = p->use[j];
		if (!live(t, &p->use[j], j))
			uses[j].state = USE_NONE;
	}
	/* remove it, shifting back what probed past it */
	unsigned i = (unsigned)(p - t->pages), j = i;
	for (;;) {
		j = (j + 1) & (TRACK_SLOTS - 1);
		if (!t->pages[j].key)
			break;
		unsigned home = slot_of(t->pages[j].key);
		/* j's entry may move to i if its home is not in (i, j] cyclically */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			t->pages[i] = t->pages[j];
			i = j;
		}
	}
	zero(&t->pages[i], sizeof(t->pages[i]));
	t->count--;
	return 1;
}

static struct rmap_slot *rslot(struct track *t, uint64_t gpa)
{
	return &t->rmap[(gpa >> 12) & (RMAP_SLOTS - 1)];
}

void rmap_add(struct track *t, uint64_t gpa, unsigned k, uint64_t gva)
{
	struct rmap_slot *r = rslot(t, gpa);
	uint64_t page = (gpa & PAGE_MASK) | 1;
	gva &= PAGE_MASK;
	if (r->page != page) {
		if (r->page && (r->shadows[0] || r->shadows[1]))
			r->lost = 1;   /* another page's record is pushed out */
		r->page = page;
		r->shadows[0] = r->shadows[1] = 0;
	}
	for (int i = 0; i < 2; i++) {
		if (r->shadows[i] && r->gva[i] == gva) {
			r->shadows[i] |= (uint8_t)(1u << k);
			return;
		}
	}
	for (int i = 0; i < 2; i++) {
		if (!r->shadows[i]) {
			r->gva[i] = gva;
			r->shadows[i] = (uint8_t)(1u << k);
			return;
		}
	}
	r->lost = 1;
}

int rmap_take(struct track *t, uint64_t gpa, uint64_t gva[2], uint8_t shadows[2])
{
	struct rmap_slot *r = rslot(t, gpa);
	int n = 0;
	if (r->page == ((gpa & PAGE_MASK) | 1)) {
		for (int i = 0; i < 2; i++) {
			if (r->shadows[i]) {
				gva[n] = r->gva[i];
				shadows[n++] = r->shadows[i];
			}
		}
		r->shadows[0] = r->shadows[1] = 0;
	}
	return r->lost ? -1 : n;
}
