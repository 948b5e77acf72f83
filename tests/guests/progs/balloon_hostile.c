/* A guest that drives the VMM's virtio-balloon (balloon) by hand, first as
 * Linux's driver does, then as a hostile one would (issue 16): it gives a
 * whole 2 MiB region and goes on touching it without taking it back,
 * names pages that are not its memory, puts its page list outside its
 * memory, in a device-writable buffer and in a descriptor loop.  The
 * VMM must give the region back to init (tests/system/balloon_hostile.c
 * watches with vmm.idl's balloon), give the guest zeroed memory when it
 * touches the region again, count the bad page numbers, stop the device
 * on the bad lists (DEVICE_NEEDS_RESET), and work again after a reset.
 * Prints TAP.
 *
 * The device is where firmware left it: 00:04.0 with BAR 4 at 0xfe008000
 * (servers/vmm/balloon.c); the layout inside BAR 4 is virtio_pci.h's.
 * mem=8: region 0 holds this program, its stack and its rings; regions 1
 * to 3 (2..8 MiB) are for the balloon. */
#define BAR        0xfe008000UL
#include "virtio_guest.h"

#define DEVCFG     ((volatile uint32_t *)(BAR + 0x2000))
#define REGION     0x200000UL
#define RAM_PAGES  (0x800000UL / 4096)

#define QSIZE 8
#define RINGS 0x180000UL          /* queue q's: desc at + q * 0x1000, avail +0x100, used +0x200 */
#define LISTS 0x190000UL          /* page lists, 4 KiB each */

static volatile struct desc *desc_of(unsigned q) { return (volatile struct desc *)(RINGS + q * 0x1000); }
static volatile uint16_t *avail_of(unsigned q) { return (volatile uint16_t *)(RINGS + q * 0x1000 + 0x100); }
static volatile uint16_t *used_of(unsigned q) { return (volatile uint16_t *)(RINGS + q * 0x1000 + 0x200); }
static uint16_t avail_idx[2];

/* Reset; VERSION_1 and MUST_TELL_HOST; both queues; DRIVER_OK.  The status read back. */
static uint8_t setup(void)
{
	w8(STATUS, 0);
	w8(STATUS, S_ACK | S_DRIVER);
	w32(GFSELECT, 0);
	w32(GF, 1);                     /* MUST_TELL_HOST */
	w32(GFSELECT, 1);
	w32(GF, 1);                     /* VERSION_1 */
	w8(STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	for (unsigned q = 0; q < 2; q++) {
		for (unsigned i = 0; i < 0x300; i++)
			((volatile uint8_t *)(RINGS + q * 0x1000))[i] = 0;
		w16(Q_SELECT, (uint16_t)q);
		w16(Q_SIZE, QSIZE);
		w64(Q_DESC, RINGS + q * 0x1000);
		w64(Q_AVAIL, RINGS + q * 0x1000 + 0x100);
		w64(Q_USED, RINGS + q * 0x1000 + 0x200);
		w16(Q_ENABLE, 1);
		avail_idx[q] = 0;
	}
	w8(STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	return r8(STATUS);
}

/* Offer chain `head` on queue q, kick, wait for the used index or the
 * device giving up.  1: used, 0: not. */
static int submit(unsigned q, uint16_t head)
{
	volatile uint16_t *avail = avail_of(q), *used = used_of(q);
	uint16_t before = used[1];
	avail[2 + avail_idx[q] % QSIZE] = head;
	__asm__ volatile("" ::: "memory");
	avail[1] = ++avail_idx[q];
	NOTIFY[2 * q] = (uint16_t)q;    /* notify_off_multiplier 4: queue q at 4q */
	for (unsigned long i = 0; i < 200000000UL; i++) {
		if (used[1] != before)
			return 1;
		if (r8(STATUS) & S_NEEDS_RESET)
			return 0;
		__asm__ volatile("pause");
	}
	return 0;
}

/* Queue q gets the pages first..first+n-1 in one list at LISTS + slot * 4 KiB. */
static int pages(unsigned q, unsigned slot, uint32_t first, uint32_t n)
{
	volatile uint32_t *list = (volatile uint32_t *)(LISTS + slot * 0x1000UL);
	for (uint32_t i = 0; i < n; i++)
		list[i] = first + i;
	desc_of(q)[0] = (struct desc){ LISTS + slot * 0x1000UL, 4 * n, 0, 0 };
	return submit(q, 0);
}

static volatile unsigned ticks;

__attribute__((interrupt)) static void timer(struct frame *f)
{
	(void)f;
	ticks++;
	outb(0x20, 0x20);
}

static void wait_ticks(unsigned n)
{
	unsigned until = ticks + n;
	__asm__ volatile("sti");
	while (ticks < until)
		__asm__ volatile("hlt");
	__asm__ volatile("cli");
}

int main(void)
{
	plan(12);
	timer_start(timer);
	ok(pci_id(4) == 0x10451af4, "00:04.0 is a virtio-balloon (1af4:1045)");
	pci_enable(4);
	ok(setup() == (S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK), "the probe completes");

	volatile uint64_t *r1 = (volatile uint64_t *)REGION;
	*r1 = 0xabababababababab;
	ok(pages(0, 0, REGION / 4096, 512), "region 1's 512 pages into the balloon");
	gprintf("balloon-hostile: region 1 given\n");
	wait_ticks(300); /* the test looks at what went back to init */

	/* hostile: touch it without taking it back */
	ok(*r1 == 0, "region 1 touched while in the balloon reads zero: it had gone back (%lx)", (unsigned long)*r1);
	*r1 = 0x1234;
	ok(*r1 == 0x1234, "and it is memory again: a write reads back");

	volatile uint32_t *list = (volatile uint32_t *)LISTS;
	list[0] = (uint32_t)RAM_PAGES;
	list[1] = 0xffffffffu;
	list[2] = 3 * 512;                /* one good page of region 3 */
	desc_of(0)[0] = (struct desc){ LISTS, 12, 0, 0 };
	ok(submit(0, 0) && !(r8(STATUS) & S_NEEDS_RESET), "page numbers beyond its memory: refused, the device goes on");

	desc_of(0)[0] = (struct desc){ 0x10000000UL, 64, 0, 0 };
	ok(!submit(0, 0) && (r8(STATUS) & S_NEEDS_RESET), "a page list outside its memory: the device needs a reset");
	ok(setup() == (S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK), "reset and probed again");

	desc_of(0)[0] = (struct desc){ LISTS, 64, F_WRITE, 0 };
	ok(!submit(0, 0) && (r8(STATUS) & S_NEEDS_RESET), "a device-writable page list: the device needs a reset");
	setup();
	desc_of(0)[0] = (struct desc){ LISTS, 4, F_NEXT, 1 };
	desc_of(0)[1] = (struct desc){ LISTS, 4, F_NEXT, 0 };
	ok(!submit(0, 0) && (r8(STATUS) & S_NEEDS_RESET), "a descriptor loop: the device needs a reset");

	/* as Linux does it: give region 2, take it back */
	setup();
	volatile uint64_t *r2 = (volatile uint64_t *)(2 * REGION);
	*r2 = 0xcdcdcdcdcdcdcdcd;
	int gave = pages(0, 0, 2 * REGION / 4096, 512);
	int took = pages(1, 1, 2 * REGION / 4096, 512);
	ok(gave && took && *r2 == 0, "region 2 given and taken back: zeroed memory (%lx)", (unsigned long)*r2);
	DEVCFG[1] = 0;
	*r2 = 7;
	ok(*r2 == 7 && !(r8(STATUS) & S_NEEDS_RESET), "it is memory again, the device is fine");
	gprintf("balloon-hostile: done\n");
	return 0;
}
