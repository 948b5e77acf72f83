/* How long a thread has been ready to run without running (SYS_TCB_INFO's
 * ready_ticks), as a supervisor reads it to tell a starved thread from
 * a busy one.  A thread that naps from tick to tick is woken by the same
 * tick as the looker, so it is ready at every look; the kernel says it
 * waited under a tick each time.  One held off by a spinner above it
 * waits as long as it is held off; threads sharing a level, preempted
 * in turn, wait no longer than the others' time slices; a suspended
 * thread, and the looker itself, wait not at all. */
#include "tap.h"

#define LOOKS 20
#define LOOK_TICKS 10

static uint8_t stack[5][8192] __attribute__((aligned(16)));
static volatile uint64_t naps, held_runs, turns[2];

static void napper(uint64_t arg)
{
	(void)arg;
	for (;;) {
		clock_nap(1);
		naps++;
	}
}

static void spinner(uint64_t i)
{
	for (;;)
		turns[i]++;
}

static void held(uint64_t arg)
{
	(void)arg;
	for (;;)
		held_runs++;
}

static struct thread_info info_of(uint64_t tcb)
{
	struct thread_info info = { 0 };
	if (sys_tcb_info(tcb, &info))
		info.state = 0xff;
	return info;
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(10);
	clock_ms();   /* calibrates on the timer before any thread runs */
	tap_eq(sys_tcb_set_priority(CAP_ROOT_TCB, 140, 140), E_OK, "the looker runs at 140, above every thread here");
	struct thread_info me = info_of(CAP_ROOT_TCB);
	tap_ok(me.state == THREAD_RUNNABLE && me.ready_ticks == 0, "the running thread itself: ready, waiting 0 ticks "
	       "(state %u, %u ticks)", me.state, me.ready_ticks);

	/* the napper at 100: at each look (every 10 ticks) it is ready, woken
	 * by the tick that woke us, and has waited less than one tick */
	uint64_t n;
	tap_eq(thread_create(napper, 0, stack[0], sizeof(stack[0]), 100, &n), E_OK, "a thread that naps one tick at a time");
	unsigned ready_looks = 0, worst = 0;
	struct thread_info t;
	uint64_t naps_before = naps;
	for (int i = 0; i < LOOKS; i++) {
		clock_nap(LOOK_TICKS);
		t = info_of(n);
		ready_looks += t.state == THREAD_RUNNABLE;
		worst = t.ready_ticks > worst ? t.ready_ticks : worst;
	}
	tap_ok(ready_looks >= LOOKS - 2 && worst <= 1 && naps - naps_before >= LOOKS * LOOK_TICKS / 2,
	       "it was ready at %u of %d looks, but never waited more than %u tick (%lu naps between): it runs, "
	       "it is not starved", ready_looks, LOOKS, worst, naps - naps_before);
	sys_tcb_suspend(n);
	t = info_of(n);
	tap_ok(t.state == THREAD_INACTIVE && t.ready_ticks == 0, "suspended, it waits 0 ticks (state %u, %u ticks)",
	       t.state, t.ready_ticks);

	/* held at 100 under a spinner at 120: ready all along, never run */
	uint64_t s, h;
	tap_ok(thread_create(held, 0, stack[1], sizeof(stack[1]), 100, &h) == E_OK &&
	       thread_create(spinner, 0, stack[2], sizeof(stack[2]), 120, &s) == E_OK,
	       "a thread at 100 and a spinner at 120 above it");
	uint64_t runs_before = held_runs;
	clock_nap(50);
	t = info_of(h);
	tap_ok(t.state == THREAD_RUNNABLE && t.ready_ticks >= 45 && t.ready_ticks <= 60 && held_runs == runs_before,
	       "after 50 ticks it has waited %u ticks ready (state %u) and not run", t.ready_ticks, t.state);
	sys_tcb_suspend(s);
	clock_nap(5);
	t = info_of(h);
	tap_ok(held_runs != runs_before && t.ready_ticks <= 2,
	       "once the spinner stops it runs, and waits %u ticks at most", t.ready_ticks);
	sys_tcb_suspend(h);

	/* two spinners at 100, preempted in turn (a time slice is 2 ticks):
	 * each, ready behind the other, waits a time slice, never longer */
	uint64_t a, b;
	turns[0] = turns[1] = 0;
	tap_ok(thread_create(spinner, 0, stack[3], sizeof(stack[3]), 100, &a) == E_OK &&
	       thread_create(spinner, 1, stack[4], sizeof(stack[4]), 100, &b) == E_OK,
	       "two spinners at 100");
	worst = 0;
	for (int i = 0; i < LOOKS; i++) {
		clock_nap(LOOK_TICKS);
		struct thread_info ta = info_of(a), tb = info_of(b);
		worst = ta.ready_ticks > worst ? ta.ready_ticks : worst;
		worst = tb.ready_ticks > worst ? tb.ready_ticks : worst;
	}
	tap_ok(worst <= 3 && turns[0] && turns[1],
	       "each waited %u ticks at most, and both ran (%lu, %lu)", worst, turns[0], turns[1]);
	tap_done();
}
