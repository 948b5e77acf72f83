/* The workload and its report.  Two worker tasks, each in its own address
 * space, add to one shared counter inside critical sections, for a fixed
 * number of timer ticks per phase; a third task (the controller, in the
 * kernel's space) sets each phase up and checks it.  A critical section
 * here is only as good as "interrupts are off": with one CPU, no timer
 * interrupt means no task switch, so the read-modify-write of the counter
 * cannot interleave.  Each phase guards it a different way:
 *
 *   cli/sti     cli; update; sti
 *   irqsave     flags = pushf; cli; ... a nested helper saves the flags
 *               again (IF=0), opens a window with sti, and closes it
 *               with popf of what it saved; update; popf flags
 *
 * The invariants, checked at the end of each phase: the counter equals the
 * operations done, no timer interrupt arrived while the guest believed
 * interrupts were off (the timer checks the guest's own irqs_off flag),
 * all the phase's ticks came, and each task's private page counted that
 * task's operations.  It also reports when pushf, right after cli, shows
 * IF set: no invariant of the workload, but the reason one may break.  A VMM that virtualizes the CPU correctly keeps
 * all of them; one that runs this kernel deprivileged without dealing
 * with popf and pushf (mode=trap) breaks the second phase, and is never
 * told. */
#include "teach.h"

#define HZ 100
#define PHASE_TICKS 50          /* half a second of timer per phase */
#define CRITICAL_SPIN 20000     /* the window inside the critical section: most of an operation */
#define STACK_SIZE 16384

static uint8_t stacks[NTASKS][STACK_SIZE] __attribute__((aligned(16)));
static uint8_t private_pages[NTASKS][4096] __attribute__((aligned(4096)));

static volatile uint64_t counter;         /* the shared state */
static volatile uint64_t ops[NTASKS];
static volatile uint64_t pushf_lied;      /* pushf right after cli showed IF set */
static volatile int stop, phase_running, done[NTASKS];
static volatile uint64_t phase_end_tick, deadline;
static void (*volatile phase_op)(void);
static volatile unsigned window = CRITICAL_SPIN;   /* the spin inside the critical section */
volatile uint64_t guest_steps;            /* #DB traps taken (entry.S's debug_entry) */

static void spin(unsigned n)
{
	for (volatile unsigned i = 0; i < n; i++)
		;
}

/* A read-modify-write with a window in it: if a task switch lands in the
 * window, the other task's updates in between are lost. */
static void update_counter(void)
{
	if (pushf() & RFLAGS_IF)
		pushf_lied++;
	uint64_t v = counter;
	spin(window);
	counter = v + 1;
}

static void op_cli_sti(void)
{
	cli();
	irqs_off = 1;
	update_counter();
	irqs_off = 0;
	sti();
}

/* Called with interrupts off; lets them in for a moment (a helper that
 * waits with interrupts on, say) and leaves them as it found them: off.
 * That last popf is the restore that must DISABLE interrupts. */
static void nested_helper(void)
{
	uint64_t flags = irq_save();    /* IF was clear: flags says so */
	irqs_off = 0;
	sti();
	spin(window / 4);
	irq_restore(flags);             /* popf with IF=0: off again */
	irqs_off = 1;
}

static void op_irqsave(void)
{
	uint64_t flags = irq_save();
	irqs_off = 1;
	nested_helper();
	update_counter();
	irqs_off = 0;
	irq_restore(flags);             /* popf with IF=1: on again */
}

static const struct phase {
	const char *name;
	void (*op)(void);
} phases[] = {
	{ "cli/sti", op_cli_sti },
	{ "irqsave", op_irqsave },
};

/* Called by the timer: end the phase after its ticks, and let the
 * controller run only when it has nothing to wait for. */
void workload_tick(void)
{
	if (phase_running && ticks >= phase_end_tick)
		stop = 1;
	tasks[0].runnable = !phase_running || (done[1] && done[2]);
}

static void worker(void)
{
	unsigned me = current;
	volatile uint64_t *mine = (volatile uint64_t *)PRIVATE_VA; /* this space's own page */
	/* the TSC bound ends the phase even if the timer never comes back
	 * (interrupts left off for good by a restore that did not restore) */
	while (!stop && rdtsc() < deadline) {
		phase_op();
		ops[me]++;
		(*mine)++;
	}
	done[me] = 1;
	tasks[me].runnable = 0;
	for (;;)
		sti_hlt();
}

static uint64_t tsc_per_tick;

static void measure_tsc(void)
{
	sti();
	uint64_t start = ticks;
	while (ticks == start)
		hlt();
	uint64_t t0 = rdtsc();
	start = ticks;
	while (ticks < start + 10)
		hlt();
	tsc_per_tick = (rdtsc() - t0) / 10;
	cli();
}

/* --- the guest's own instructions ------------------------------------------- */

/* An empty operation: the call and its ret, two instructions. */
__asm__(".text\n.globl op_empty\nop_empty:\n\tret\n");
void op_empty(void);

/* Single-step one call of op with RFLAGS.TF: the #DBs counted, which are
 * op's instructions plus the same fixed cost of turning TF on and off. */
static uint64_t steps_of(void (*op)(void))
{
	void (*volatile call)(void) = op;
	guest_steps = 0;
	trap_flag_set();
	call();
	trap_flag_clear();
	return guest_steps;
}

/* The guest's own instructions in one call of op (the call and the ret
 * included), counted by the guest itself: whatever the VMM and Berth's
 * kernel execute for it is not counted, which is what tells them apart
 * from the TSC's figure under -icount (the whole machine).  An operation
 * spends most of its instructions in the spin of its window: stepping
 * 20 000 spins would take 10^5 traps, so op is stepped with windows of 4
 * and 8 and the count extrapolated to the real one.  That is exact, since
 * each turn of the spin loop is the same instructions: the count is
 * a + b * window for some a and b, window a multiple of 4 (the nested
 * helper spins window / 4). */
static uint64_t guest_instructions(void (*op)(void))
{
	uint64_t empty = steps_of(op_empty);
	window = 4;
	uint64_t at4 = steps_of(op) - empty + 2;
	window = 8;
	uint64_t at8 = steps_of(op) - empty + 2;
	window = CRITICAL_SPIN;
	return at4 + (at8 - at4) * (CRITICAL_SPIN - 4) / 4;
}

/* Each phase's operation, counted before the phases run: no worker has
 * started, and the timer is paused (a tick that came between two steps
 * would be handled with TF clear, so not counted, but the VMMs without
 * hardware help stop the guest's thread to deliver it, and a single-step
 * trap already on its way would be lost with the stop). */
static void count_instructions(void)
{
	timer_pause(1);
	uint64_t quiet = rdtsc() + 2 * tsc_per_tick;
	sti();                          /* a tick raised before the pause comes now */
	while (rdtsc() < quiet)
		;
	cli();
	for (unsigned i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
		uint64_t n = guest_instructions(phases[i].op);
		print("teach: phase %u (%s): %lu guest instructions per operation (single-stepped)\n", i + 1,
		      phases[i].name, n);
	}
	cli();
	counter = 0;
	irqs_off = 0;
	timer_pause(0);
}

/* One phase: both workers run op until PHASE_TICKS ticks have passed.
 * Returns 1 if every invariant held. */
static int run_phase(unsigned n, const struct phase *p)
{
	cli();
	counter = 0;
	pushf_lied = 0;
	irqs_while_off = 0;
	first_bad_rip = 0;
	stop = 0;
	phase_op = p->op;
	for (unsigned t = 1; t < NTASKS; t++) {
		ops[t] = 0;
		done[t] = 0;
		*(volatile uint64_t *)private_pages[t] = 0;
		task_start(t, worker, stacks[t] + STACK_SIZE);
		tasks[t].runnable = 1;
	}
	uint64_t first_tick = ticks;
	phase_end_tick = ticks + PHASE_TICKS;
	deadline = rdtsc() + 4 * PHASE_TICKS * tsc_per_tick;
	phase_running = 1;
	tasks[0].runnable = 0;
	mark((uint8_t)(2 * n - 1));     /* the VMM's count as the phase starts ... */
	uint64_t t0 = rdtsc();
	while (!(done[1] && done[2]))
		sti_hlt();
	cli();
	mark((uint8_t)(2 * n));         /* ... and as it ends */
	uint64_t tsc = rdtsc() - t0, elapsed = ticks - first_tick;
	phase_running = 0;
	tasks[0].runnable = 1;

	uint64_t total = ops[1] + ops[2];
	print("teach: phase %u (%s): %lu operations in %lu ticks, %lu TSC cycles per operation\n", n, p->name,
	      total, elapsed, total ? tsc / total : 0);
	int held = 1;
	if (counter != total) {
		print("teach: phase %u (%s): counter %lu of %lu: %lu updates lost\n", n, p->name, counter, total,
		      total - counter);
		held = 0;
	}
	if (irqs_while_off) {
		print("teach: phase %u (%s): %lu timer interrupts while interrupts were believed off (first at rip %lx)\n",
		      n, p->name, irqs_while_off, first_bad_rip);
		held = 0;
	}
	if (pushf_lied) /* not an invariant of the workload, but the reason one may break */
		print("teach: phase %u (%s): pushf showed IF set after cli %lu times: the flags read back are not "
		      "the ones set\n", n, p->name, pushf_lied);
	if (elapsed < PHASE_TICKS) {
		print("teach: phase %u (%s): only %lu of %u ticks came: interrupts stayed off\n", n, p->name, elapsed,
		      PHASE_TICKS);
		held = 0;
	}
	for (unsigned t = 1; t < NTASKS; t++) {
		uint64_t own = *(volatile uint64_t *)private_pages[t];
		if (own != ops[t]) {
			print("teach: phase %u (%s): task %u's private page counted %lu of its %lu operations\n", n,
			      p->name, t, own, ops[t]);
			held = 0;
		}
	}
	print("teach: phase %u (%s): invariant %s\n", n, p->name, held ? "held" : "BROKEN");
	return held;
}

void __attribute__((noreturn)) main(void)
{
	cpu_init();
	paging_init();
	tasks[0].cr3 = space_create(0);
	for (unsigned t = 1; t < NTASKS; t++)
		tasks[t].cr3 = space_create(private_pages[t]);
	write_cr3(tasks[0].cr3);
	tasks[0].runnable = 1;
	timer_init(HZ);
	print("teach: Berth's teaching guest: %u worker tasks in their own address spaces, timer at %u Hz\n",
	      NTASKS - 1, HZ);
#ifdef TEACH_PV
	print("teach: built paravirtualized (mode: pv): hypercalls for the privileged work, events for interrupts\n");
#endif
	measure_tsc();
	print("teach: %lu TSC cycles per timer tick\n", tsc_per_tick);
	count_instructions();
	unsigned broken = 0;
	for (unsigned i = 0; i < sizeof(phases) / sizeof(phases[0]); i++)
		if (!run_phase(i + 1, &phases[i]))
			broken++;
	print("teach: %lu timer ticks in all; result: %s\n", ticks,
	      broken ? "an invariant was BROKEN" : "every invariant held");
	guest_exit(broken ? 3 : 0);
}
