/* Host unit tests for servers/drivers/lib/virtq.c, the split virtqueue's
 * driver side, against a simulated device that reads the rings as a
 * virtio 1.x device does (virtio 1.1 spec 2.6): layout, chains, the
 * readable-before-writable rule, running out of descriptors, completion
 * in any order, index wrap-around past 65535, NO_NOTIFY, and a device
 * that reports heads it was never given. */
// unit-under-test: servers/drivers/lib/virtq.c
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "../../servers/drivers/lib/virtq.h"

static _Alignas(4096) uint8_t ring_mem[3 * 4096];

/* The simulated device: what it has taken from the driver ring, and the
 * chains it holds (head -> descriptor count) until it completes them. */
struct device {
	struct virtq *q;             /* only for the ring addresses */
	uint16_t seen;               /* avail index consumed */
	uint16_t used_idx;
	uint16_t held[VIRTQ_MAX_SIZE];
	unsigned nheld;
	int owner[VIRTQ_MAX_SIZE];   /* descriptor -> chain head + 1 while held */
	int errors;                  /* chains that broke a rule */
};

/* Take every new chain; check each descriptor is in one chain only. */
static void device_poll(struct device *dv)
{
	struct virtq *q = dv->q;
	while (dv->seen != q->avail->idx) {
		uint16_t head = q->avail->ring[dv->seen & (q->size - 1)];
		dv->seen++;
		uint16_t d = head;
		int writable = 0;
		for (unsigned n = 0;; n++) {
			if (d >= q->size || n >= q->size || dv->owner[d]) {
				dv->errors++;
				break;
			}
			dv->owner[d] = head + 1;
			struct virtq_desc *e = &q->desc[d];
			if (!(e->flags & VIRTQ_DESC_F_WRITE) && writable)
				dv->errors++;
			writable |= (e->flags & VIRTQ_DESC_F_WRITE) != 0;
			if (!(e->flags & VIRTQ_DESC_F_NEXT))
				break;
			d = e->next;
		}
		dv->held[dv->nheld++] = head;
	}
}

/* Complete the i-th held chain, reporting `written` bytes. */
static void device_complete(struct device *dv, unsigned i, uint32_t written)
{
	struct virtq *q = dv->q;
	uint16_t head = dv->held[i];
	dv->held[i] = dv->held[--dv->nheld];
	for (unsigned d = 0; d < q->size; d++)
		if (dv->owner[d] == head + 1)
			dv->owner[d] = 0;
	q->used->ring[dv->used_idx & (q->size - 1)] = (struct virtq_used_elem){ head, written };
	dv->used_idx++;
	q->used->idx = dv->used_idx;
}

/* A raw used entry, as a broken device might write it. */
static void device_report(struct device *dv, uint32_t id)
{
	dv->q->used->ring[dv->used_idx & (dv->q->size - 1)] = (struct virtq_used_elem){ id, 0 };
	dv->used_idx++;
	dv->q->used->idx = dv->used_idx;
}

static void test_layout(void)
{
	struct virtq q;
	CHECK(virtq_init(&q, ring_mem, 0x1000, 0) == -1, "size 0 is refused");
	CHECK(virtq_init(&q, ring_mem, 0x1000, 12) == -1, "a size that is no power of 2 is refused");
	CHECK(virtq_init(&q, ring_mem, 0x1000, 512) == -1, "a size above VIRTQ_MAX_SIZE is refused");
	CHECK(virtq_avail_offset(128) == 2048, "the driver ring follows 128 descriptors at 2048");
	CHECK(virtq_used_offset(128) == 2312, "the device ring is at 2312 (2048 + 6 + 256, 4-aligned)");
	CHECK(virtq_bytes(128) == 2312 + 6 + 8 * 128, "128 entries take %zu bytes", virtq_bytes(128));
	CHECK(virtq_bytes(128) <= 4096, "so a queue of 128 fits in one page");
	CHECK(virtq_used_offset(1) % 4 == 0 && virtq_used_offset(2) % 4 == 0, "the device ring is 4-aligned");
	memset(ring_mem, 0xee, sizeof(ring_mem));
	CHECK(virtq_init(&q, ring_mem, 0x1000, 256) == 0 && q.num_free == 256 && q.avail->idx == 0 &&
	          q.used->idx == 0 && q.avail->flags == 0,
	      "init: all 256 descriptors free, rings zeroed");
}

static void test_chain(void)
{
	struct virtq q;
	struct device dv = { .q = &q };
	virtq_init(&q, ring_mem, 0x1000, 8);
	struct virtq_buf req[3] = { { 0x5000, 16, 0 }, { 0x6000, 512, 1 }, { 0x7000, 1, 1 } };
	uint16_t head = 99;
	CHECK(virtq_add(&q, req, 3, &head) == 0 && head == 0, "a chain of three goes in at head 0");
	CHECK(q.num_free == 5 && q.avail->idx == 1 && q.avail->ring[0] == 0, "driver ring index 1, 5 left");
	struct virtq_desc *d0 = &q.desc[0], *d1 = &q.desc[d0->next], *d2 = &q.desc[d1->next];
	CHECK(d0->addr == 0x5000 && d0->len == 16 && d0->flags == VIRTQ_DESC_F_NEXT, "the header: readable, linked");
	CHECK(d1->addr == 0x6000 && d1->len == 512 && d1->flags == (VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE),
	      "the data: device-writable, linked");
	CHECK(d2->addr == 0x7000 && d2->len == 1 && d2->flags == VIRTQ_DESC_F_WRITE, "the status: writable, last");
	struct virtq_buf bad[2] = { { 0x6000, 512, 1 }, { 0x5000, 16, 0 } };
	CHECK(virtq_add(&q, bad, 2, &head) == -1 && q.num_free == 5 && q.avail->idx == 1,
	      "readable after writable is refused, nothing changes");
	CHECK(virtq_add(&q, req, 0, &head) == -1, "an empty chain is refused");
	struct virtq_buf six[6] = { { 1, 1, 0 }, { 2, 1, 0 }, { 3, 1, 0 }, { 4, 1, 0 }, { 5, 1, 0 }, { 6, 1, 0 } };
	CHECK(virtq_add(&q, six, 6, &head) == -1 && q.num_free == 5, "six descriptors with five free: refused");
	uint32_t written = 0;
	CHECK(virtq_take_used(&q, &head, &written) == 0, "nothing completed yet");
	device_poll(&dv);
	CHECK(dv.nheld == 1 && dv.errors == 0, "the device sees one well-formed chain");
	device_complete(&dv, 0, 513);
	CHECK(virtq_take_used(&q, &head, &written) == 1 && head == 0 && written == 513,
	      "its completion comes back: head 0, 513 bytes");
	CHECK(q.num_free == 8, "and its descriptors are free again");
	CHECK(virtq_add(&q, six, 6, &head) == 0 && q.num_free == 2, "now six fit");
}

static void test_notify_flag(void)
{
	struct virtq q;
	virtq_init(&q, ring_mem, 0x1000, 4);
	CHECK(virtq_kick_needed(&q), "a kick is needed while the device does not say otherwise");
	q.used->flags = VIRTQ_USED_F_NO_NOTIFY;
	CHECK(!virtq_kick_needed(&q), "none while it sets NO_NOTIFY");
}

static void test_bogus_heads(void)
{
	struct virtq q;
	struct device dv = { .q = &q };
	virtq_init(&q, ring_mem, 0x1000, 8);
	struct virtq_buf two[2] = { { 0x5000, 16, 0 }, { 0x7000, 1, 1 } };
	uint16_t head, h2;
	uint32_t written;
	virtq_add(&q, two, 2, &head);
	virtq_add(&q, two, 2, &h2);
	device_poll(&dv);
	device_report(&dv, 8);
	CHECK(virtq_take_used(&q, &head, &written) == -1, "a head past the table is caught");
	virtq_init(&q, ring_mem, 0x1000, 8);
	dv = (struct device){ .q = &q };
	virtq_add(&q, two, 2, &head);
	device_report(&dv, q.desc[head].next);
	CHECK(virtq_take_used(&q, &head, &written) == -1, "the middle of a chain is no head");
	virtq_init(&q, ring_mem, 0x1000, 8);
	dv = (struct device){ .q = &q };
	virtq_add(&q, two, 2, &head);
	device_report(&dv, head);
	uint16_t got;
	CHECK(virtq_take_used(&q, &got, &written) == 1 && got == head, "a real completion is taken");
	device_report(&dv, head);
	CHECK(virtq_take_used(&q, &got, &written) == -1 && q.num_free == 8,
	      "the same head reported twice is caught, the free count stays right");
	/* a device that rewrote the shared links cannot steer our free list */
	virtq_init(&q, ring_mem, 0x1000, 8);
	virtq_add(&q, two, 2, &head);
	q.desc[head].next = 7;
	q.desc[q.next[head]].next = 200;
	dv = (struct device){ .q = &q };
	device_report(&dv, head);
	CHECK(virtq_take_used(&q, &got, &written) == 1 && q.num_free == 8, "links rewritten by the device are ignored");
	struct virtq_buf eight[8];
	for (int i = 0; i < 8; i++)
		eight[i] = (struct virtq_buf){ (uint64_t)i << 12, 4096, 0 };
	CHECK(virtq_add(&q, eight, 8, &head) == 0 && q.num_free == 0, "and all 8 descriptors are usable after");
}

/* Many rounds of random chains completed in random order, past the
 * 16-bit index wrap: the driver and the device never disagree. */
static void test_random(void)
{
	struct virtq q;
	static struct device dv;
	dv = (struct device){ .q = &q };
	virtq_init(&q, ring_mem, 0x1000, 64);
	srand(7);
	unsigned added = 0, taken = 0, refused = 0, mismatched = 0;
	static uint32_t expect[VIRTQ_MAX_SIZE];
	while (taken < 150000) {
		unsigned n = 1 + (unsigned)rand() % 5;
		struct virtq_buf b[5];
		for (unsigned i = 0; i < n; i++)
			b[i] = (struct virtq_buf){ 0x100000 + i * 512, 512, i + 1 == n };
		uint16_t head;
		if (rand() % 3 && virtq_add(&q, b, n, &head) == 0) {
			expect[head] = n;
			added++;
		} else {
			refused++;
		}
		device_poll(&dv);
		while (dv.nheld && rand() % 2) {
			unsigned i = (unsigned)rand() % dv.nheld;
			uint16_t h = dv.held[i];
			device_complete(&dv, i, expect[h] * 1000);
		}
		uint16_t h;
		uint32_t w;
		int r;
		while ((r = virtq_take_used(&q, &h, &w)) == 1) {
			taken++;
			mismatched += w != expect[h] * 1000;
		}
		mismatched += r != 0;
	}
	CHECK(dv.errors == 0, "the device never saw a descriptor in two chains or a broken chain");
	CHECK(mismatched == 0, "every completion matched its chain (%u added, %u refused)", added, refused);
	CHECK(q.avail_idx == (uint16_t)added && added > 65536, "the driver index wrapped (%u chains)", added);
	unsigned in_device = 0;
	for (unsigned i = 0; i < dv.nheld; i++)
		in_device += expect[dv.held[i]];
	CHECK(q.num_free == 64 - in_device && taken + dv.nheld == added,
	      "free descriptors are exactly those the device does not hold (%u held)", in_device);
	while (dv.nheld)
		device_complete(&dv, 0, 0);
	uint16_t h;
	uint32_t w;
	while (virtq_take_used(&q, &h, &w) == 1)
		;
	CHECK(q.num_free == 64, "when the device is done every descriptor is free");
}

int main(void)
{
	test_layout();
	test_chain();
	test_notify_flag();
	test_bogus_heads();
	test_random();
	return unit_done();
}
