/* A thread calls every system call with garbage arguments, thousands of
 * times; every call returns a defined error code (or succeeds harmlessly)
 * and the kernel keeps answering.  The fuzzing thread has its own small
 * CNode holding a few real objects, so the checks after the capability
 * lookup are reached too; it cannot reach our own objects.  SYS_DEBUG_EXIT
 * is left out because it would end the run; SYS_DEBUG_WRITE is tried only
 * with bad buffers so that no random memory reaches the TAP stream. */
#include "tap.h"

#define ITERATIONS 30000
#define FUZZ_RADIX 4

static uint8_t fuzz_stack[16384] __attribute__((aligned(16)));
static volatile int finished;
static volatile uint64_t done_calls, bad_results, by_error[E_COUNT];
static volatile uint64_t last_bad_call, last_bad_result;

static uint64_t rng = 0x9e3779b97f4a7c15UL;
static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Mostly plausible-but-wrong values: small slot numbers, addresses around
 * the interesting boundaries, misaligned and huge numbers. */
static uint64_t garbage(void)
{
	static const uint64_t specials[] = {
		0, 1, 2, 3, 4, 5, 6, 7, 15, 16, 17, 63, 64, 4095, 4096, 4097,
		0x400000, 0x400008, 0x7fffffffd000UL, 0x7ffffffff000UL, 0x7fffffffffffUL,
		0x800000000000UL, 0xffff800000000000UL, 0xffffffff80100000UL,
		~0UL, ~0UL - 4095, 1UL << 63, 0x8000000000000000UL - 1, 47, 48, 255, 256,
	};
	uint64_t r = next_random();
	switch (r % 5) {
	case 0: return specials[(r >> 8) % (sizeof(specials) / sizeof(specials[0]))];
	case 1: return (r >> 8) % 20;                                /* a slot or type */
	case 4: return 1 + (r >> 8) % 7;                             /* a real slot */
	case 2: return 0x10000000UL + ((r >> 8) & 0xffffff000UL);    /* user page */
	default: return next_random();
	}
}

static void fuzz(uint64_t arg)
{
	(void)arg;
	for (uint64_t i = 0; i < ITERATIONS; i++) {
		uint64_t n = next_random() % (SYS_COUNT + 4);
		if (i % 97 == 0)
			n = next_random();      /* a wild call number */
		if (n == SYS_DEBUG_EXIT)
			continue;
		uint64_t a[6];
		for (int k = 0; k < 6; k++)
			a[k] = garbage();
		if (n == SYS_DEBUG_WRITE) /* only unreadable buffers */
			a[0] = (i & 1) ? 0xffff800000000000UL + a[0] : 0x50000000UL + (a[0] & 0xfff);
		struct sysret r = berth_syscall(n, a[0], a[1], a[2], a[3], a[4], a[5]);
		if (r.err < 0 || r.err >= E_COUNT) {
			bad_results++;
			last_bad_call = n;
			last_bad_result = (uint64_t)r.err;
		} else {
			by_error[r.err]++;
		}
		done_calls++;
	}
	finished = 1;
	for (;;) /* it has no capability to its own TCB; main suspends it */
		sys_yield();
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(9);
	uint64_t cn, tcb, victim;
	/* the fuzzer's CNode: 1 itself, 2 a VSpace, 3 an idle TCB, 4 an
	 * untyped, 5 a frame, 6 a page table, 7 a second CNode */
	long err = object_alloc(OBJ_CNODE, FUZZ_RADIX, &cn);
	uint64_t ut;
	err = err ? err : object_alloc(OBJ_UNTYPED, 16, &ut);
	err = err ? err : sys_cnode_copy(cn, cn, 1, RIGHTS_ALL);
	err = err ? err : sys_untyped_retype(ut, OBJ_VSPACE, 0, RETYPE_NEXT_FREE, cn, 2);
	err = err ? err : sys_untyped_retype(ut, OBJ_TCB, 0, RETYPE_NEXT_FREE, cn, 3);
	err = err ? err : sys_untyped_retype(ut, OBJ_UNTYPED, 13, RETYPE_NEXT_FREE, cn, 4);
	err = err ? err : sys_untyped_retype(ut, OBJ_FRAME, 0, RETYPE_NEXT_FREE, cn, 5);
	err = err ? err : sys_untyped_retype(ut, OBJ_PAGE_TABLE, 0, RETYPE_NEXT_FREE, cn, 6);
	err = err ? err : sys_untyped_retype(ut, OBJ_CNODE, 2, RETYPE_NEXT_FREE, cn, 7);
	tap_eq(err, E_OK, "a CNode with real objects for the fuzzer");

	/* the fuzzer thread: our address space, its own CNode */
	uint64_t top = ((uint64_t)fuzz_stack + sizeof(fuzz_stack)) & ~15UL;
	err = object_alloc(OBJ_TCB, 0, &tcb);
	err = err ? err : sys_tcb_configure(tcb, cn, CAP_ROOT_VSPACE, 0);
	err = err ? err : sys_tcb_set_priority(tcb, 100, 100);
	err = err ? err : sys_tcb_set_regs(tcb, (uint64_t)fuzz, top - 8, 0);
	err = err ? err : sys_tcb_resume(tcb);
	tap_eq(err, E_OK, "start the fuzzer at our priority");

	uint64_t deadline = rdtsc() + 200000000000UL;
	struct thread_info info = { 0 };
	while (!finished && rdtsc() < deadline) {
		sys_yield();
		sys_tcb_info(tcb, &info);
		if (info.state != THREAD_RUNNABLE)
			break; /* it suspended or faulted itself: also fine */
	}
	sys_tcb_info(tcb, &info);
	debug_printf("# fuzzer made %lu calls, state %u; results:", done_calls, info.state);
	for (int e = 0; e < E_COUNT; e++)
		debug_printf(" %d:%lu", e, by_error[e]);
	debug_printf("\n");
	tap_ok(finished && done_calls > ITERATIONS * 9 / 10, "the fuzzer finished %lu calls", done_calls);
	tap_ok(bad_results == 0, "every call returned a defined error code (bad: %lu, last call %lu "
	       "gave %lu)", bad_results, last_bad_call, last_bad_result);
	tap_ok(by_error[E_BAD_CAP] > 0 && by_error[E_BAD_SYSCALL] > 0 && by_error[E_BAD_ARG] > 0,
	       "garbage was refused as bad caps, calls and arguments");
	sys_tcb_suspend(tcb);

	/* the kernel still answers, and our own objects are untouched */
	tap_eq(sys_yield(), E_OK, "yield still works");
	tap_eq(object_alloc(OBJ_FRAME, 0, &victim), E_OK, "retype still works");
	tap_eq(page_map_with_tables(victim, 0x70000000, RIGHT_READ | RIGHT_WRITE), E_OK,
	       "mapping still works");
	*(volatile uint64_t *)0x70000000 = 42;
	tap_eq(sys_debug_write("# still printing\n", 17), E_OK, "debug output still works");
	tap_done();
}
