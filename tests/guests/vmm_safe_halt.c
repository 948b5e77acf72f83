/* Interrupts are acknowledged when the guest takes them, not when the
 * VMM sees them arrive.  Linux's safe_halt is `sti; hlt`: the HLT sits in
 * STI's interrupt shadow, so a timer interrupt that arrived while the
 * guest ran with IF = 0 must still be pending at the HLT and wake it.
 * And an interrupt pending across a re-initialisation of the 8259 must
 * not arrive afterwards with the old vector. */
// test-timeout: 40
#include "guest.h"

static volatile unsigned ticks, stale, other;

__attribute__((interrupt)) static void timer(struct frame *f)
{
	(void)f;
	ticks++;
	outb(0x20, 0x20);
}

__attribute__((interrupt)) static void old_vector(struct frame *f)
{
	(void)f;
	stale++;
	outb(0x20, 0x20);
}

__attribute__((interrupt)) static void new_vector(struct frame *f)
{
	(void)f;
	other++;
	outb(0x20, 0x20);
}

/* Spin, making no exits at all, for about n timer periods. */
static void spin_periods(uint64_t per_tick, unsigned n)
{
	uint64_t t0 = rdtsc();
	while (rdtsc() - t0 < per_tick * n)
		__asm__ volatile("pause");
}

int main(void)
{
	plan(3);
	timer_start(timer);
	uint64_t per_tick = tsc_per_tick(&ticks, 5);

	/* interrupts off: three ticks come and go without an exit */
	unsigned before = ticks;
	spin_periods(per_tick, 3);
	/* a lost wakeup hangs here, and the run times out */
	__asm__ volatile("sti; hlt; cli");
	ok(ticks > before, "sti; hlt after ticks with interrupts off woke on the pending tick (%u)", ticks - before);
	uint8_t isr;
	outb(0x20, 0x0b);
	isr = inb(0x20);
	ok(isr == 0, "nothing left in service (ISR %x)", isr);

	/* a tick pending, then the 8259s re-initialised at 0x30 with every
	 * line masked: no interrupt may arrive, neither at 0x20 nor at 0x30 */
	idt_set(0x20, old_vector);
	idt_set(0x30, new_vector);
	spin_periods(per_tick, 3);
	outb(0x20, 0x11); outb(0x21, 0x30); outb(0x21, 4); outb(0x21, 1); outb(0x21, 0xff);
	outb(0xa0, 0x11); outb(0xa1, 0x38); outb(0xa1, 2); outb(0xa1, 1); outb(0xa1, 0xff);
	__asm__ volatile("sti");
	for (int i = 0; i < 200; i++)
		outb(0x80, 0);
	spin_periods(per_tick, 3);
	__asm__ volatile("cli");
	ok(stale == 0 && other == 0, "no interrupt after the 8259s were re-initialised and masked (old vector %u, new %u)",
	   stale, other);
	return 0;
}
