/* Host unit tests for servers/vmm/virtq_dev.c: the device side of a
 * split virtqueue in guest memory -- enable checks, pop/push, interrupt
 * suppression, every hostile-guest check, and a seeded random walk. */
// unit-under-test: servers/vmm/virtq_dev.c
#include <stdint.h>
#include <string.h>
#include "unit.h"
#include "../../servers/vmm/virtq_dev.h"

#define MEM_BASE 0x100000ull
#define MEM_SIZE (1u << 20)
#define BIG_BASE 0x100000000ull       /* pretend 16 GiB of RAM here (never dereferenced) */
#define BIG_SIZE 0x400000000ull
static uint8_t mem[MEM_SIZE];
static int big_ok;

static void *gptr(void *ctx, uint64_t gpa, size_t n)
{
	(void)ctx;
	if (gpa >= MEM_BASE && gpa - MEM_BASE <= MEM_SIZE && n <= MEM_SIZE - (gpa - MEM_BASE))
		return mem + (gpa - MEM_BASE);
	if (big_ok && gpa >= BIG_BASE && gpa - BIG_BASE <= BIG_SIZE && n <= BIG_SIZE - (gpa - BIG_BASE))
		return mem;  /* only checked for NULL by virtq_dev */
	return NULL;
}

static uint8_t *at(uint64_t gpa) { return mem + (gpa - MEM_BASE); }
static void w16(uint64_t gpa, uint16_t v) { memcpy(at(gpa), &v, 2); }
static void w32(uint64_t gpa, uint32_t v) { memcpy(at(gpa), &v, 4); }
static void w64(uint64_t gpa, uint64_t v) { memcpy(at(gpa), &v, 8); }
static uint16_t r16(uint64_t gpa) { uint16_t v; memcpy(&v, at(gpa), 2); return v; }
static uint32_t r32(uint64_t gpa) { uint32_t v; memcpy(&v, at(gpa), 4); return v; }

/* a guest driver's view */
#define DESC  (MEM_BASE + 0x0)
#define AVAIL (MEM_BASE + 0x80000)
#define USED  (MEM_BASE + 0x90000)
#define BUF   (MEM_BASE + 0xc0000)
static uint16_t qsize, avail_idx;

static void desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	w64(DESC + 16ull * i, addr);
	w32(DESC + 16ull * i + 8, len);
	w16(DESC + 16ull * i + 12, flags);
	w16(DESC + 16ull * i + 14, next);
}

static void post(uint16_t head)
{
	w16(AVAIL + 4 + 2 * (avail_idx % qsize), head);
	avail_idx++;
	w16(AVAIL + 2, avail_idx);
}

static struct vqd q;

static void setup(uint16_t size)
{
	memset(mem, 0, sizeof mem);
	big_ok = 0;
	qsize = size;
	avail_idx = 0;
	vqd_init(&q, gptr, 0);
	q.size = size;
	q.desc_gpa = DESC;
	q.avail_gpa = AVAIL;
	q.used_gpa = USED;
}

static int enable_with(uint16_t size, uint64_t d, uint64_t a, uint64_t u)
{
	vqd_init(&q, gptr, 0);
	q.size = size;
	q.desc_gpa = d;
	q.avail_gpa = a;
	q.used_gpa = u;
	return vqd_enable(&q);
}

static void test_enable(void)
{
	CHECK(enable_with(256, DESC, AVAIL, USED) == 0 && q.ready, "enable: size 256, rings in RAM");
	CHECK(enable_with(1, DESC, AVAIL, USED) == 0, "enable: size 1");
	CHECK(enable_with(32768, DESC, AVAIL, USED) == 0, "enable: size 32768 (rings fit in 1 MiB)");
	CHECK(enable_with(0, DESC, AVAIL, USED) < 0 && q.error && q.broken, "enable: size 0 refused (%s)", q.error);
	CHECK(enable_with(3, DESC, AVAIL, USED) < 0, "enable: size 3 (not a power of two) refused");
	CHECK(enable_with(65535, DESC, AVAIL, USED) < 0, "enable: size 65535 refused");
	CHECK(enable_with(256, DESC + 8, AVAIL, USED) < 0, "enable: misaligned descriptor table refused");
	CHECK(enable_with(256, DESC, AVAIL + 1, USED) < 0, "enable: misaligned avail ring refused");
	CHECK(enable_with(256, DESC, AVAIL, USED + 2) < 0, "enable: misaligned used ring refused");
	CHECK(enable_with(256, 0x1000, AVAIL, USED) < 0, "enable: descriptor table below RAM refused");
	CHECK(enable_with(256, MEM_BASE + MEM_SIZE - 16 * 128, AVAIL, USED) < 0,
	      "enable: descriptor table running past the end of RAM refused");
	CHECK(enable_with(256, DESC, MEM_BASE + MEM_SIZE - 4, USED) < 0, "enable: avail ring past RAM refused");
	CHECK(enable_with(256, DESC, AVAIL, MEM_BASE + MEM_SIZE - 8) < 0, "enable: used ring past RAM refused");
	CHECK(enable_with(256, DESC, AVAIL, 0xfffffffffffffff0ull) < 0, "enable: used ring address wrapping refused");
	CHECK(vqd_pop(&q, &(struct vqd_chain){0}, (struct vqd_seg[1]){{0}}, 1) < 0, "a broken queue stays broken");
	vqd_reset(&q);
	CHECK(!q.broken && !q.error && !q.ready, "vqd_reset clears the error");
}

static void test_basic(void)
{
	struct vqd_seg segs[8];
	struct vqd_chain c;
	setup(8);
	CHECK(vqd_enable(&q) == 0, "basic: enabled");
	CHECK(vqd_pop(&q, &c, segs, 8) == 0, "basic: nothing available");
	desc(5, BUF, 16, VQD_DESC_F_NEXT, 2);
	desc(2, BUF + 0x100, 512, VQD_DESC_F_NEXT | VQD_DESC_F_WRITE, 7);
	desc(7, BUF + 0x400, 1, VQD_DESC_F_WRITE, 0);
	post(5);
	CHECK(vqd_pending(&q) == 1, "basic: one pending");
	CHECK(vqd_pop(&q, &c, segs, 8) == 1, "basic: a chain");
	CHECK(c.head == 5 && c.nsegs == 3 && c.out_bytes == 16 && c.in_bytes == 513, "basic: head, count, lengths");
	CHECK(segs[0].gpa == BUF && segs[0].len == 16 && !segs[0].writable &&
	      segs[1].gpa == BUF + 0x100 && segs[1].len == 512 && segs[1].writable &&
	      segs[2].gpa == BUF + 0x400 && segs[2].len == 1 && segs[2].writable, "basic: segments");
	CHECK(vqd_seg_ptr(&q, &segs[1]) == at(BUF + 0x100), "basic: segment host pointer");
	CHECK(vqd_pop(&q, &c, segs, 8) == 0, "basic: then empty");
	CHECK(vqd_push(&q, 5, 513) == 0, "basic: push");
	CHECK(r16(USED + 2) == 1 && r32(USED + 4) == 5 && r32(USED + 8) == 513, "basic: used ring element and idx");
	CHECK(vqd_need_interrupt(&q) == 1, "basic: interrupt wanted");
	w16(AVAIL, VQD_AVAIL_F_NO_INTERRUPT);
	CHECK(vqd_need_interrupt(&q) == 0, "basic: VIRTQ_AVAIL_F_NO_INTERRUPT honoured");
	w16(AVAIL, 0);
	/* wrap the 16-bit indexes around */
	int ok = 1;
	for (unsigned n = 0; n < 70000 && ok; n++) {
		desc(n % 8, BUF, 4, 0, 0);
		post(n % 8);
		ok = vqd_pop(&q, &c, segs, 8) == 1 && c.head == n % 8 && vqd_push(&q, c.head, 0) == 0;
	}
	CHECK(ok && r16(USED + 2) == (uint16_t)(70001), "basic: 70000 chains through 16-bit index wrap");
	/* a zero-length buffer is allowed */
	desc(0, 0, 0, 0, 0);
	post(0);
	CHECK(vqd_pop(&q, &c, segs, 8) == 1 && c.nsegs == 1 && segs[0].len == 0, "basic: zero-length buffer");
}

/* One hostile chain, posted at head: pop must fail with a message. */
static int hostile(const char *what, uint16_t head)
{
	struct vqd_seg segs[16];
	struct vqd_chain c;
	post(head);
	int r = vqd_pop(&q, &c, segs, 16);
	CHECK(r < 0 && q.broken && q.error, "hostile: %s -> %s", what, q.error ? q.error : "(no error)");
	return r;
}

static void test_hostile(void)
{
	setup(16); vqd_enable(&q);
	hostile("head index out of range", 16);
	setup(16); vqd_enable(&q);
	desc(0, BUF, 8, VQD_DESC_F_NEXT, 99);
	hostile("next index out of range", 0);
	setup(16); vqd_enable(&q);
	desc(0, BUF, 8, VQD_DESC_F_NEXT, 1);
	desc(1, BUF, 8, VQD_DESC_F_NEXT, 0);
	hostile("a loop of two", 0);
	setup(16); vqd_enable(&q);
	desc(3, BUF, 8, VQD_DESC_F_NEXT, 3);
	hostile("a descriptor pointing at itself", 3);
	setup(16); vqd_enable(&q);
	desc(0, BUF, 16 * 4, VQD_DESC_F_INDIRECT, 0);
	hostile("indirect descriptor", 0);
	setup(16); vqd_enable(&q);
	desc(0, 0x1000, 8, 0, 0);
	hostile("buffer below guest RAM", 0);
	setup(16); vqd_enable(&q);
	desc(0, MEM_BASE + MEM_SIZE - 4, 8, 0, 0);
	hostile("buffer running off the end of RAM", 0);
	setup(16); vqd_enable(&q);
	desc(0, 0xfffffffffffffff0ull, 0x20, 0, 0);
	hostile("gpa + len wrapping", 0);
	setup(16); vqd_enable(&q);
	big_ok = 1;
	desc(0, BIG_BASE, 0xffffffffu, VQD_DESC_F_NEXT, 1);
	desc(1, BIG_BASE, 0xffffffffu, VQD_DESC_F_NEXT | VQD_DESC_F_WRITE, 2);
	desc(2, BIG_BASE, 2, VQD_DESC_F_WRITE, 0);
	hostile("chain totalling more than 4 GiB", 0);
	setup(16); vqd_enable(&q);
	big_ok = 1;
	{
		struct vqd_seg segs[4];
		struct vqd_chain c;
		desc(0, BIG_BASE, 0xffffffffu, 0, 0);
		post(0);
		CHECK(vqd_pop(&q, &c, segs, 4) == 1 && c.out_bytes == 0xffffffffu, "4 GiB - 1 in one chain is fine");
	}
	setup(16); vqd_enable(&q);
	for (int i = 0; i < 5; i++)
		desc((uint16_t)i, BUF, 8, i < 4 ? VQD_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	post(0);
	{
		struct vqd_seg segs[4];
		struct vqd_chain c;
		int r = vqd_pop(&q, &c, segs, 4);
		CHECK(r < 0 && q.error, "hostile: more segments than the caller takes -> %s", q.error);
	}
	setup(16); vqd_enable(&q);
	desc(0, BUF, 8, 0, 0);
	avail_idx = 17;
	w16(AVAIL + 2, avail_idx);
	{
		struct vqd_seg segs[4];
		struct vqd_chain c;
		int r = vqd_pop(&q, &c, segs, 4);
		CHECK(r < 0 && q.error, "hostile: avail idx jumping by 17 on a queue of 16 -> %s", q.error);
	}
	setup(16); vqd_enable(&q);
	desc(0, BUF, 8, 0, 0);
	avail_idx = 16;
	w16(AVAIL + 2, avail_idx);
	{
		struct vqd_seg segs[4];
		struct vqd_chain c;
		CHECK(vqd_pending(&q) == 16 && vqd_pop(&q, &c, segs, 4) == 1, "avail idx moving by exactly the size is fine");
	}
	/* a queue that is not enabled does nothing */
	setup(16);
	{
		struct vqd_seg segs[4];
		struct vqd_chain c;
		post(0);
		CHECK(vqd_pop(&q, &c, segs, 4) == 0 && vqd_push(&q, 0, 0) < 0 && !vqd_need_interrupt(&q),
		      "a queue not enabled: no pop, no push, no interrupt");
	}
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Random rings: whatever the guest writes, pop either fails cleanly or
 * returns segments that are all inside guest RAM and well formed. */
static void test_fuzz_hostile(void)
{
	unsigned errors = 0, chains = 0, bad = 0;
	for (unsigned round = 0; round < 2000; round++) {
		uint16_t size = (uint16_t)(1u << (rnd() % 8));
		setup(size);
		vqd_enable(&q);
		for (unsigned i = 0; i < size; i++) {
			uint64_t r = rnd();
			uint64_t addr = (r & 31) == 0 ? rnd() : BUF + (rnd() % 0x40000);
			uint32_t len = ((r >> 5) & 31) == 0 ? (uint32_t)rnd() : (uint32_t)(rnd() % 0x2000);
			uint16_t flags = (uint16_t)(rnd() & (((r >> 10) & 63) == 0 ? 7 : 3));
			if ((rnd() & 3) == 0)
				flags &= (uint16_t)~VQD_DESC_F_NEXT;
			uint16_t next = (uint16_t)(rnd() % (size + (((r >> 16) & 31) == 0 ? 4 : 0)));
			desc((uint16_t)i, addr, len, flags, next);
		}
		for (unsigned step = 0; step < 64 && !q.broken; step++) {
			uint64_t r = rnd();
			unsigned n = (r & 0xf) == 0 ? (unsigned)(rnd() % (2u * size + 2)) : (unsigned)(rnd() % 3);
			for (unsigned k = 0; k < n; k++)
				post((uint16_t)(rnd() % (size + ((r & 0x10) ? 1 : 0))));
			struct vqd_seg segs[256];
			struct vqd_chain c;
			int got;
			while ((got = vqd_pop(&q, &c, segs, 256)) == 1) {
				chains++;
				uint64_t sum = 0;
				for (unsigned s = 0; s < c.nsegs; s++) {
					sum += segs[s].len;
					if (segs[s].len && !gptr(0, segs[s].gpa, segs[s].len))
						bad++;
				}
				if (c.head >= size || c.nsegs > size || sum != c.out_bytes + c.in_bytes || sum > 0xffffffffull)
					bad++;
				if (rnd() & 1)
					vqd_push(&q, c.head, (uint32_t)rnd());
			}
			if (got < 0) {
				errors++;
				if (!q.error)
					bad++;
			}
		}
	}
	CHECK(bad == 0, "fuzz: 2000 random rings, %u chains popped, %u errors caught, 0 bad results", chains, errors);
	CHECK(chains > 5000 && errors > 500, "fuzz: the walk exercised both valid chains and violations");
}

/* Random legal traffic: the device sees exactly what the driver posted. */
static void test_fuzz_legal(void)
{
	unsigned mismatches = 0, done = 0;
	setup(64);
	vqd_enable(&q);
	uint16_t free_head[64], nfree = 64, used_seen = 0;
	uint16_t expect[64];
	unsigned exp_segs[64];
	for (uint16_t i = 0; i < 64; i++)
		free_head[i] = i;
	/* descriptors are handed out one chain = consecutive block of 4 (16 chains max) */
	nfree = 16;
	for (uint16_t i = 0; i < 16; i++)
		free_head[i] = (uint16_t)(i * 4);
	unsigned inflight = 0, head_q = 0, tail_q = 0;
	for (unsigned step = 0; step < 20000; step++) {
		if (nfree && (rnd() & 1)) {
			uint16_t h = free_head[--nfree];
			unsigned n = 1 + (unsigned)(rnd() % 4);
			for (unsigned k = 0; k < n; k++)
				desc((uint16_t)(h + k), BUF + 0x1000 * h + k * 64, (uint32_t)(k + 1),
				     (uint16_t)((k + 1 < n ? VQD_DESC_F_NEXT : 0) | (k ? VQD_DESC_F_WRITE : 0)),
				     (uint16_t)(h + k + 1));
			post(h);
			expect[tail_q % 64] = h;
			exp_segs[tail_q % 64] = n;
			tail_q++;
			inflight++;
		} else {
			struct vqd_seg segs[64];
			struct vqd_chain c;
			int r = vqd_pop(&q, &c, segs, 64);
			if (r == 1) {
				if (head_q == tail_q || c.head != expect[head_q % 64] || c.nsegs != exp_segs[head_q % 64] ||
				    segs[0].gpa != BUF + 0x1000ull * c.head)
					mismatches++;
				head_q++;
				vqd_push(&q, c.head, c.nsegs);
			} else if (r < 0 || inflight != (unsigned)(tail_q - head_q) + 0)
				mismatches++;
			/* the driver reaps used entries */
			while (used_seen != r16(USED + 2)) {
				uint32_t id = r32(USED + 4 + 8 * (used_seen % 64));
				free_head[nfree++] = (uint16_t)id;
				used_seen++;
				inflight--;
				done++;
			}
		}
	}
	CHECK(mismatches == 0 && !q.broken, "legal random traffic: %u chains in order, intact, 0 mismatches", done);
}

int main(void)
{
	test_enable();
	test_basic();
	test_hostile();
	test_fuzz_hostile();
	test_fuzz_legal();
	return unit_done();
}
