/* A guest that drives the VMM's virtio-blk device (disk=PATH) by hand,
 * first correctly, then as a hostile driver would (issue 13): a queue size
 * that is not a power of two, rings outside its memory, buffers outside
 * its memory, descriptor loops, lengths that wrap, an avail index that
 * jumps, then seeded random rings.  Each violation must stop the device
 * (DEVICE_NEEDS_RESET) or be refused, never touch anything but the guest,
 * and after a reset the device must work again.  Booted by
 * tests/system/virtio_hostile.c, whose disk file holds sector n's number
 * in the sector's first 8 bytes.  Prints TAP.
 *
 * The device is found the way firmware left it: 00:02.0 with BAR 4 at
 * 0xfe000000 (servers/vmm/disk.c); the layout inside BAR 4 is
 * virtio_pci.h's (a driver would read it from the capabilities; the probe
 * of them is Linux's part, tested by tests/system/guest_disk.c). */
#define BAR        0xfe000000UL
#include "virtio_guest.h"

#define ISR        ((volatile uint8_t *)(BAR + 0x1000))
#define RAM_END    0x200000UL     /* mem=2 */

#define QSIZE 8
#define RING  0x180000UL          /* desc table; avail at +0x100, used at +0x200 */
#define BUF   0x190000UL          /* request headers, data, status bytes */

#define DESC  ((volatile struct desc *)RING)
#define AVAIL ((volatile uint16_t *)(RING + 0x100))   /* flags, idx, ring[] */
#define USED  ((volatile uint16_t *)(RING + 0x200))   /* flags, idx, then {id, len} */

static uint16_t avail_idx;

/* Reset, negotiate VERSION_1 only, set up queue 0 with `size` entries at
 * the given ring addresses and enable it.  Returns the status read back. */
static uint8_t setup(uint16_t size, uint64_t desc, uint64_t avail, uint64_t used)
{
	w8(STATUS, 0);
	w8(STATUS, S_ACK | S_DRIVER);
	w32(GFSELECT, 0);
	w32(GF, 0);
	w32(GFSELECT, 1);
	w32(GF, 1);                     /* VERSION_1 */
	w8(STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	w16(Q_SELECT, 0);
	w16(Q_SIZE, size);
	w64(Q_DESC, desc);
	w64(Q_AVAIL, avail);
	w64(Q_USED, used);
	for (unsigned i = 0; i < 0x300; i++)
		((volatile uint8_t *)RING)[i] = 0;
	avail_idx = 0;
	w16(Q_ENABLE, 1);
	w8(STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	return r8(STATUS);
}

static uint8_t good_setup(void)
{
	return setup(QSIZE, RING, RING + 0x100, RING + 0x200);
}

/* Offer chain `head`, kick, and wait (bounded) for the used index to move
 * or the device to give up.  1: completed, 0: not. */
static int submit(uint16_t head)
{
	uint16_t before = USED[1];
	AVAIL[2 + avail_idx % QSIZE] = head;
	__asm__ volatile("" ::: "memory");
	AVAIL[1] = ++avail_idx;
	NOTIFY[0] = 0;
	for (unsigned long i = 0; i < 200000000UL; i++) {
		if (USED[1] != before)
			return 1;
		if (r8(STATUS) & S_NEEDS_RESET)
			return 0;
		__asm__ volatile("pause");
	}
	return 0;
}

/* A request: header (type, sector) at BUF, data at BUF+0x1000 (n bytes),
 * status at BUF+0x100.  Descriptors 0, 1, 2. */
static void request(uint32_t type, uint64_t sector, uint32_t n)
{
	volatile uint32_t *h = (volatile uint32_t *)BUF;
	h[0] = type;
	h[1] = 0;
	*(volatile uint64_t *)(BUF + 8) = sector;
	*(volatile uint8_t *)(BUF + 0x100) = 0xff;
	DESC[0] = (struct desc){ BUF, 16, F_NEXT, 1 };
	DESC[1] = (struct desc){ BUF + 0x1000, n, (uint16_t)(F_NEXT | (type == 0 ? F_WRITE : 0)), 2 };
	DESC[2] = (struct desc){ BUF + 0x100, 1, F_WRITE, 0 };
}

static uint8_t status_byte(void)
{
	return *(volatile uint8_t *)(BUF + 0x100);
}

static uint64_t data_word(unsigned i)
{
	return ((volatile uint64_t *)(BUF + 0x1000))[i];
}

/* After an attack: the device said NEEDS_RESET (or refused), and after
 * a reset a good read of sector 5 works. */
static int recovers(void)
{
	if (!(good_setup() & S_DRIVER_OK))
		return 0;
	request(0, 5, 512);
	return submit(0) && status_byte() == 0 && data_word(0) == 5;
}

static uint64_t seed = 0x5eed;

static uint64_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

int main(void)
{
	plan(17);
	if (!ok(pci_id(2) == 0x10421af4, "a virtio-blk function (1af4:1042) at 00:02.0")) {
		return 1;
	}
	pci_enable(2);
	w32(DFSELECT, 1);
	ok(r32(DF) & 1, "it offers VERSION_1");

	uint8_t st = good_setup();
	ok((st & S_DRIVER_OK) && !(st & S_NEEDS_RESET), "the queue is set up and the driver ready");
	request(0, 7, 1024);
	ok(submit(0) && status_byte() == 0 && data_word(0) == 7 && data_word(64) == 8,
	   "a read of sectors 7-8 gives what the disk file holds");
	for (unsigned i = 0; i < 64; i++)
		((volatile uint64_t *)(BUF + 0x1000))[i] = 0xabcd0000UL + i;
	request(1, 3, 512);
	int wrote = submit(0) && status_byte() == 0;
	request(0, 3, 512);
	ok(wrote && submit(0) && status_byte() == 0 && data_word(0) == 0xabcd0000UL && data_word(63) == 0xabcd003fUL,
	   "a write of sector 3 reads back");
	request(0, 1UL << 40, 512);
	ok(submit(0) && status_byte() == 1, "a read past the disk's end completes with IOERR");
	request(4, 0, 0);
	DESC[0].flags = F_NEXT;
	DESC[0].next = 2;                       /* header, then status: no data */
	ok(submit(0) && status_byte() == 0, "a flush completes OK");

	/* the attacks */
	st = setup(3, RING, RING + 0x100, RING + 0x200);
	ok(!(st & S_DRIVER_OK) || (st & S_NEEDS_RESET) || r32(Q_ENABLE) == 0,
	   "a queue size of 3 (not a power of two) is refused");
	ok(recovers(), "after a reset the device works again");

	st = setup(QSIZE, 0x7ff00000UL, RING + 0x100, RING + 0x200);
	ok(!(st & S_DRIVER_OK) || (st & S_NEEDS_RESET) || r32(Q_ENABLE) == 0,
	   "a descriptor table outside guest memory is refused");

	good_setup();
	request(0, 0, 512);
	DESC[1].addr = RAM_END + 0x1000;        /* past the end of RAM */
	ok(!submit(0) && (r8(STATUS) & S_NEEDS_RESET), "a buffer outside guest memory stops the device");
	ok(recovers(), "after a reset the device works again");

	good_setup();
	request(0, 0, 512);
	DESC[2].flags = F_WRITE | F_NEXT;
	DESC[2].next = 0;                       /* 0 -> 1 -> 2 -> 0 ... */
	int loop = !submit(0) && (r8(STATUS) & S_NEEDS_RESET);
	good_setup();
	request(0, 0, 512);
	DESC[1].addr = 0xfffffffffffff000UL;    /* addr + len wraps */
	DESC[1].len = 0x2000;
	int wrap = !submit(0) && (r8(STATUS) & S_NEEDS_RESET);
	ok(loop && wrap, "a descriptor loop and a buffer whose end wraps each stop the device");

	good_setup();
	request(0, 0, 512);
	AVAIL[2] = 0;
	AVAIL[1] = 1000;                        /* more heads than the queue holds */
	NOTIFY[0] = 0;
	for (unsigned long i = 0; i < 50000000UL && !(r8(STATUS) & S_NEEDS_RESET); i++)
		__asm__ volatile("pause");
	ok(r8(STATUS) & S_NEEDS_RESET, "an avail index that jumps past the queue size stops the device");
	ok(recovers(), "after a reset the device works again");

	/* random rings: whatever they hold, the device completes, refuses or
	 * stops, and comes back after a reset */
	int alive = 1;
	for (unsigned round = 0; round < 200 && alive; round++) {
		good_setup();
		for (unsigned i = 0; i < QSIZE; i++) {
			uint64_t r = rnd();
			uint64_t addr = (r & 1) ? BUF + (rnd() & 0xffff) : rnd();
			DESC[i] = (struct desc){ addr, (uint32_t)((r >> 8) & ((r & 2) ? 0xffffffffu : 0x3fff)),
			                         (uint16_t)((r >> 40) & 7), (uint16_t)((r >> 44) & 0xffff) };
		}
		AVAIL[0] = (uint16_t)(rnd() & 1);
		submit((uint16_t)(rnd() % (QSIZE + 2)));
		if ((round & 31) == 31)
			alive = recovers();
	}
	ok(alive, "200 rounds of random descriptors: the device comes back after each reset");
	ok(recovers(), "and still reads the disk correctly");
	return 0;
}
