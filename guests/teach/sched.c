/* Tasks and the timer: each tick, round robin among the runnable tasks,
 * switching stacks and address spaces.  The timer is also where the
 * guest checks its own belief about interrupts: an interrupt that arrives
 * while irqs_off is set means a critical section was not one. */
#include "teach.h"

struct task tasks[NTASKS];
volatile unsigned current;
volatile uint64_t ticks;
volatile int irqs_off;
volatile uint64_t irqs_while_off, first_bad_rip;

#define SAVED_REGS 15   /* what timer_entry pushes */

/* Make task t start at entry on its stack: the frame timer_entry's
 * return path pops (zeroed registers, then an interrupt frame in ring 0
 * with interrupts on). */
void task_start(unsigned t, void (*entry)(void), void *stack_top)
{
	uint64_t *sp = (uint64_t *)stack_top;
	*--sp = SEL_DATA;                 /* SS */
	*--sp = (uint64_t)stack_top;      /* RSP */
	*--sp = RFLAGS_IF | 2;            /* RFLAGS (bit 1 is always set) */
	*--sp = SEL_CODE;                 /* CS */
	*--sp = (uint64_t)entry;          /* RIP */
	for (int i = 0; i < SAVED_REGS; i++)
		*--sp = 0;
	tasks[t].rsp = (uint64_t)sp;
}

uint64_t timer_tick(uint64_t rsp)
{
#ifdef TEACH_PV
	if (!pv_timer_event()) /* an upcall for some other port: not a tick */
		return rsp;
#endif
	ticks++;
	if (irqs_off) {
		/* the interrupted RIP is the first word of the CPU's frame */
		if (!irqs_while_off++)
			first_bad_rip = ((uint64_t *)rsp)[SAVED_REGS];
	}
	workload_tick();
#ifndef TEACH_PV
	outb(0x20, 0x20); /* end of interrupt to the 8259 (pv: taking the pending bits was the acknowledgement) */
#endif

	tasks[current].rsp = rsp;
	unsigned next = current;
	for (unsigned i = 1; i <= NTASKS; i++) {
		unsigned t = (current + i) % NTASKS;
		if (tasks[t].runnable) {
			next = t;
			break;
		}
	}
	if (tasks[next].cr3 != tasks[current].cr3)
		write_cr3(tasks[next].cr3);
	current = next;
	return tasks[next].rsp;
}
