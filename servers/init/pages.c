/*
 * Pages shared by content (init.idl's mem_page_find and mem_page_take;
 * docs/lifecycle.md, "Pages shared by content"), the way VMware's ESX
 * shares them: identical guest pages, in one VM or in VMs booted apart,
 * found by a hash, compared in full, kept once read-only.
 *
 * The pages live here, not in a VMM, because a page two VMs map must
 * outlive either of them: a frame made from a VMM's memory would go, and
 * out of the other guest, when that VMM ended.  We read the guests' pages
 * ourselves, through our own copy of each frame we lent (loans.c), so a
 * VMM cannot claim a content its guest does not hold; it only says which
 * page of which of its loans it asks about.
 *
 * - mem_page_find hashes the page and answers whether the store holds a
 *   page alike (compared in full) or, a hint only, whether a page with the
 *   same hash was asked about at another place (`seen`: a four-way table
 *   of the places asked about last).  A VMM deciding whether to give a 2 MiB
 *   region back counts both.
 * - mem_page_take answers a read-only copy of the store's page alike, or
 *   makes one from the caller's page.  The caller then holds it.
 *
 * A task holds at most as many pages as its borrow line (a VM's RAM), so
 * that one cannot fill the store for all.  A store page lives while a task
 * that took it runs: when the last one ends its copies are revoked and its
 * frame waits for the next page.  A VMM that stops mapping a page (its
 * guest wrote it) still counts as holding it until it ends: a task's bit,
 * not a count.
 *
 * What sharing across VMs gives away: a VMM learns whether a page like
 * one of its guest's is held elsewhere (mem_page_find), and a guest can
 * time a write to learn whether its page was shared, the side channel for
 * which VMware turned sharing between VMs off by default.  Only a VMM
 * that asks shares (vm share is the operator's choice, per VM).
 */
#include <libipc/libipc.h>
#include <string.h>
#include "tasks.h"
#include "loans.h"
#include "pages.h"

#define LOAN_WINDOW 0x0000300000000000UL   /* loan i's frame, read-only, at + i * 2 MiB */
#define STORE_WINDOW 0x0000310000000000UL  /* store page i at + i * 4 KiB */
#define TABLES_VA 0x0000318000000000UL     /* the tables below, in one 2 MiB frame */
#define STORE_MAX 16384u                   /* 64 MiB of pages kept once */
#define SEEN_BITS 16
#define SEEN_WAYS 4
#define BUCKET_BITS 14
#define NONE 0xffffffffu

struct stored {
	uint64_t hash;
	uint64_t frame;      /* ours, mapped at STORE_WINDOW; 0: not made yet */
	uint64_t ro;         /* its read-only copy, which replies copy */
	uint32_t holders;    /* bit i: task i took it; 0: free */
	uint32_t next;       /* in its bucket's chain, or the free list */
};

struct seen {
	uint64_t hash;
	uint32_t loan, index;
};

struct tables {
	struct seen seen[1u << SEEN_BITS];
	uint8_t seen_next[(1u << SEEN_BITS) / SEEN_WAYS];   /* the way each set replaces next */
	struct stored store[STORE_MAX];
	uint32_t bucket[1u << BUCKET_BITS];
};

_Static_assert(sizeof(struct tables) <= 1UL << LARGE_PAGE_BITS, "the tables fit their frame");
_Static_assert(MANIFEST_MAX_SERVERS < 32, "a task's badge is a bit of a page's holders");

static struct tables *T;
static uint32_t store_made, free_list = NONE, chunk_left;
static uint32_t held[MANIFEST_MAX_SERVERS + 1];   /* by badge: pages a task holds, at most its borrow line */
static uint64_t chunk;   /* the Untyped store frames come from now */

static long tables_make(void)
{
	if (T)
		return E_OK;
	uint64_t f;
	long err = object_alloc(OBJ_FRAME, LARGE_PAGE_BITS, &f);
	err = err ? err : page_map_with_tables(f, TABLES_VA, RIGHT_READ | RIGHT_WRITE);
	if (err)
		return err;
	T = (struct tables *)TABLES_VA;
	memset(T->seen, 0, sizeof(T->seen));
	memset(T->seen_next, 0, sizeof(T->seen_next));
	memset(T->bucket, 0xff, sizeof(T->bucket));
	return E_OK;
}

/* FNV-1a over 64-bit words, cheap (every candidate is compared in full),
 * then mixed: FNV's low bits depend only on the words' low bits, and the
 * tables are indexed by them. */
static uint64_t page_hash(const uint64_t *p)
{
	uint64_t h = 0xcbf29ce484222325UL;
	for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
		h = (h ^ p[i]) * 0x100000001b3UL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdUL;
	return h ^ (h >> 33);
}

/* Page `index` of the caller's frame loan, mapped for us to read. */
static const uint64_t *loan_page(struct task *t, uint32_t loan, uint32_t index)
{
	uint64_t frame = index < LARGE_PAGE_SIZE / PAGE_SIZE ? loan_frame(t, loan) : 0;
	if (!frame)
		return 0;
	uint64_t va = LOAN_WINDOW + (uint64_t)loan * LARGE_PAGE_SIZE;
	/* our copy maps once, here; a reclaimed loan's frame went with its mapping */
	long err = page_map_with_tables(frame, va, RIGHT_READ);
	if (err && err != E_MAPPED)
		return 0;
	return (const uint64_t *)(va + (uint64_t)index * PAGE_SIZE);
}

static const void *store_page(uint32_t i)
{
	return (const void *)(STORE_WINDOW + (uint64_t)i * PAGE_SIZE);
}

/* The store's page with p's bytes, or NONE. */
static uint32_t store_find(const uint64_t *p, uint64_t hash)
{
	for (uint32_t i = T->bucket[hash & ((1u << BUCKET_BITS) - 1)]; i != NONE; i = T->store[i].next)
		if (T->store[i].hash == hash && !memcmp(store_page(i), p, PAGE_SIZE))
			return i;
	return NONE;
}

/* Whether a page with this hash was seen at another place; this one is
 * remembered.  Four ways a set: the place seen last stays, and the one
 * replaced goes in turn. */
static int seen_note(uint64_t hash, uint32_t loan, uint32_t index)
{
	struct seen *set = &T->seen[hash & ((1u << SEEN_BITS) - SEEN_WAYS)];
	int elsewhere = 0;
	unsigned slot = SEEN_WAYS;
	for (unsigned w = 0; w < SEEN_WAYS; w++) {
		if (set[w].hash != hash)
			continue;
		if (set[w].loan == loan && set[w].index == index)
			slot = w;
		else
			elsewhere = 1;
	}
	if (slot == SEEN_WAYS) {
		slot = T->seen_next[(hash & ((1u << SEEN_BITS) - 1)) / SEEN_WAYS]++ % SEEN_WAYS;
		for (unsigned w = 0; w < SEEN_WAYS; w++)
			if (!set[w].hash) {
				slot = w;
				break;
			}
	}
	set[slot] = (struct seen){ hash, loan, index };
	return elsewhere;
}

/* The page a request names, mapped for us, and its hash. */
static long asked_page(struct task *t, uint32_t loan, uint32_t index, const uint64_t **p, uint64_t *hash)
{
	long err = tables_make();
	if (err)
		return err;
	if (!(*p = loan_page(t, loan, index)))
		return E_BAD_ARG;
	*hash = page_hash(*p);
	return E_OK;
}

long pages_find(struct task *t, uint32_t loan, uint32_t index, uint32_t *stored, uint32_t *seen)
{
	const uint64_t *p;
	uint64_t hash;
	long err = asked_page(t, loan, index, &p, &hash);
	if (err)
		return err;
	*stored = store_find(p, hash) != NONE;
	*seen = seen_note(hash, loan, index);
	return E_OK;
}

/* A free store entry with its frame made and mapped, or NONE. */
static uint32_t store_alloc(void)
{
	if (free_list != NONE) {
		uint32_t i = free_list;
		free_list = T->store[i].next;
		return i;
	}
	if (store_made == STORE_MAX)
		return NONE;
	uint32_t i = store_made;
	struct stored *s = &T->store[i];
	if (!s->frame) {   /* made once: a map that failed is tried again on the same frame */
		if (!chunk_left && object_alloc(OBJ_UNTYPED, LARGE_PAGE_BITS, &chunk))
			return NONE;
		if (!chunk_left)
			chunk_left = LARGE_PAGE_SIZE / PAGE_SIZE;   /* kept: its frames are reused, never freed */
		if (object_alloc_from(chunk, OBJ_FRAME, PAGE_BITS, &s->frame))
			return NONE;
		chunk_left--;
	}
	if (!s->ro && !(s->ro = slot_alloc()))
		return NONE;
	if (page_map_with_tables(s->frame, (uint64_t)store_page(i), RIGHT_READ | RIGHT_WRITE))
		return NONE;
	store_made++;
	return i;
}

long pages_take(struct task *t, uint32_t loan, uint32_t index, uint64_t *ro)
{
	const uint64_t *p;
	uint64_t hash;
	long err = asked_page(t, loan, index, &p, &hash);
	if (err)
		return err;
	uint32_t i = store_find(p, hash);
	int taken = i != NONE && (T->store[i].holders >> t->id & 1);
	/* a VM's pages, at most: one task cannot fill the store for all */
	if (!taken && held[t->id] >= (uint64_t)t->m->borrow_mib << (20 - PAGE_BITS))
		return E_LIMIT;
	if (i == NONE) {
		if ((i = store_alloc()) == NONE)
			return E_LIMIT;
		struct stored *s = &T->store[i];
		memcpy((void *)store_page(i), p, PAGE_SIZE);
		err = sys_cnode_copy(s->frame, CAP_ROOT_CNODE, s->ro, RIGHT_READ | RIGHT_EXEC);
		if (err) {
			s->next = free_list;
			free_list = i;
			return err;
		}
		s->hash = hash;
		s->holders = 0;
		uint32_t *b = &T->bucket[hash & ((1u << BUCKET_BITS) - 1)];
		s->next = *b;
		*b = i;
	}
	held[t->id] += !taken;
	T->store[i].holders |= 1u << t->id;
	*ro = T->store[i].ro;
	return E_OK;
}

/* Store page i, held by no one now: every copy of it revoked, out of its
 * bucket, its frame kept for the next page. */
static void store_free(uint32_t i)
{
	struct stored *s = &T->store[i];
	uint32_t *link = &T->bucket[s->hash & ((1u << BUCKET_BITS) - 1)];
	while (*link != i)
		link = &T->store[*link].next;
	*link = s->next;
	sys_cnode_revoke(s->frame);   /* the VMMs' copies, our read-only one too */
	s->next = free_list;
	free_list = i;
}

void pages_drop_task(const struct task *t)
{
	if (!T)
		return;
	for (uint32_t i = 0; i < store_made; i++) {
		struct stored *s = &T->store[i];
		if (!(s->holders >> t->id & 1))
			continue;
		s->holders &= ~(1u << t->id);
		held[t->id]--;
		if (!s->holders)
			store_free(i);
	}
}

void pages_sharing(uint64_t *pages, uint64_t *holdings)
{
	*pages = *holdings = 0;
	for (uint32_t i = 0; T && i < store_made; i++)
		if (T->store[i].holders) {
			++*pages;
			*holdings += (uint64_t)__builtin_popcount(T->store[i].holders);
		}
}
