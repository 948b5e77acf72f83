/* The 8254's access modes: "high byte only" writes the divisor's high
 * byte (the low byte is 0), and a counter-latch command leaves the
 * access mode alone.  Rates are measured against the TSC, calibrated at
 * the runtime's 100 Hz. */
// test-timeout: 60
#include "guest.h"

static volatile unsigned ticks;

__attribute__((interrupt)) static void timer(struct frame *f)
{
	(void)f;
	ticks++;
	outb(0x20, 0x20);
}

/* Divisor 0xff00 is 65280 / 1193182 s, about 55 ms: 5 of the VMM's
 * 10 ms periods.  The bounds are wide because the host may be busy; the
 * faults this catches give a ratio of 1. */
static int about_five_times(uint64_t slow, uint64_t fast)
{
	return slow > fast * 3 && slow < fast * 10;
}

int main(void)
{
	plan(2);
	timer_start(timer);
	uint64_t fast = tsc_per_tick(&ticks, 10);

	outb(0x43, 0x24);            /* channel 0, high byte only, mode 2 */
	outb(0x40, 0xff);            /* divisor 0xff00 */
	uint64_t slow = tsc_per_tick(&ticks, 4);
	ok(about_five_times(slow, fast), "high byte only: divisor 0xff00 ticks 5 times slower (%lu vs %lu)",
	   slow / 1000, fast / 1000);

	outb(0x43, 0x34);            /* low then high byte, mode 2 */
	outb(0x40, (uint8_t)11932); outb(0x40, (uint8_t)(11932 >> 8));
	outb(0x43, 0x00);            /* latch channel 0 */
	outb(0x40, 0x00); outb(0x40, 0xff);   /* still low then high: 0xff00 */
	slow = tsc_per_tick(&ticks, 4);
	ok(about_five_times(slow, fast), "a latch command keeps low-then-high (%lu vs %lu)", slow / 1000, fast / 1000);
	return 0;
}
