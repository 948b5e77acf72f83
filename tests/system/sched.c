/* Scheduling: threads at the same priority are preempted by the timer
 * and all make progress; a higher priority runs first; a lower one waits
 * until nothing above it is runnable; suspend stops a thread. */
#include "tap.h"

static uint8_t stack[4][8192] __attribute__((aligned(16)));
static volatile uint64_t counter[2];
static volatile char order[8];
static volatile int order_len;
static volatile long prio_err = -1;

static void spinner(uint64_t i)
{
	for (;;)
		counter[i]++;
}

static void mark(uint64_t c)
{
	order[order_len++] = (char)c;
	if (c == 'H') /* our max priority is 150: 200 is not ours to give */
		prio_err = sys_tcb_set_priority(CAP_ROOT_TCB, 100, 200);
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(10);
	uint64_t a, b, h, l;
	tap_ok(thread_create(spinner, 0, stack[0], sizeof(stack[0]), 100, &a) == E_OK &&
	       thread_create(spinner, 1, stack[1], sizeof(stack[1]), 100, &b) == E_OK,
	       "two spinning threads at our priority");

	/* none of the three threads ever yields: if all advance, the timer
	 * preempts each of them */
	uint64_t last[2] = { counter[0], counter[1] }, seen[2] = { 0, 0 };
	uint64_t deadline = rdtsc() + 40000000000UL;
	while ((seen[0] < 5 || seen[1] < 5) && rdtsc() < deadline) {
		for (int i = 0; i < 2; i++) {
			if (counter[i] != last[i]) {
				seen[i]++;
				last[i] = counter[i];
			}
		}
	}
	tap_ok(seen[0] >= 5 && seen[1] >= 5, "both spinners were seen advancing 5 times "
	       "between our own time slices (%lu, %lu)", seen[0], seen[1]);

	tap_ok(sys_tcb_suspend(a) == E_OK && sys_tcb_suspend(b) == E_OK, "suspend both");
	uint64_t c0 = counter[0], c1 = counter[1];
	spin_ticks(300000000);
	sys_yield();
	tap_ok(counter[0] == c0 && counter[1] == c1, "suspended threads do not run");

	tap_eq(thread_create(mark, 'H', stack[2], sizeof(stack[2]), 150, &h), E_OK,
	       "create a thread at priority 150");
	tap_ok(order_len == 1 && order[0] == 'H', "it ran before its creation call returned");
	tap_eq(prio_err, E_BAD_ARG, "a thread cannot give a priority above its own maximum");

	tap_eq(thread_create(mark, 'L', stack[3], sizeof(stack[3]), 50, &l), E_OK,
	       "create a thread at priority 50");
	spin_ticks(300000000);
	sys_yield();
	tap_ok(order_len == 1, "it does not run while we are runnable at 100");
	sys_tcb_set_priority(CAP_ROOT_TCB, 40, PRIORITY_MAX);
	tap_ok(order_len == 2 && order[1] == 'L', "it runs as soon as we drop below it");
	tap_done();
}
