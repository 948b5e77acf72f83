/* Guest memory on loan from init (init.idl's mem_borrow and mem_return,
 * the manifest's borrow line; docs/lifecycle.md "Memory"): a task with
 * `borrow 4` gets two 2 MiB Untypeds and no third; each can be retyped
 * into a 2 MiB frame that maps and holds data; `mem` counts a returned
 * chunk as free again; a loan that is not the caller's, or given back
 * twice, is refused, and giving one back takes the caller's Untyped and
 * what it made from it.  The task then dies with a loan held: init takes
 * it back (its restart finds the same free memory and borrows again).
 * A task without a borrow line is refused. */
// test-root: build/init.elf
// test-module: tests/system/manifests/loans.manifest
// test-module: build/serial.elf
// test-exit: none
// test-timeout: 60
// test-expect: ^ok 13 - 
// test-expect: loans: free before any loan (\d+) KiB[\s\S]*loans: restarted: free before any loan \1 KiB
// test-expect: loans: restarted: borrowed and gave back: 0 0
// test-expect: loans: other: borrow refused: 4
// test-reject: not ok
#include <string.h>
#include "tap.h"
#include "init.h"

#define INIT 8
#define VA 0x500000000000UL

static uint64_t mem_free(void)
{
	uint64_t total, free = 0;
	init_mem(INIT, &total, &free);
	return free;
}

static int borrower_first_run(void)
{
	tap_plan(13);
	uint32_t a, b, c;
	uint64_t ua, ub, uc;
	uint64_t free0 = mem_free();
	debug_printf("loans: free before any loan %lu KiB\n", free0 >> 10);
	tap_eq(init_mem_borrow(INIT, &a, &ua), E_OK, "a first loan");
	tap_eq(init_mem_borrow(INIT, &b, &ub), E_OK, "a second loan");
	tap_eq(init_mem_borrow(INIT, &c, &uc), E_LIMIT, "no third: borrow 4 is two chunks");
	unsigned type = 0, rights;
	uint64_t used = 1;
	tap_ok(!sys_cap_identify(ua, &type, &rights, &used) && type == OBJ_UNTYPED && used == 0,
	       "a loan is an empty Untyped of ours (type %u, used %lu)", type, used);
	uint64_t frame;
	tap_eq(object_alloc_from(ua, OBJ_FRAME, LARGE_PAGE_BITS, &frame), E_OK, "retyped into a 2 MiB frame");
	tap_eq(page_map_with_tables(frame, VA, RIGHT_READ | RIGHT_WRITE), E_OK, "mapped");
	volatile uint64_t *p = (volatile uint64_t *)VA;
	p[0] = 42;
	p[LARGE_PAGE_SIZE / 8 - 1] = 43;
	tap_ok(p[0] == 42 && p[LARGE_PAGE_SIZE / 8 - 1] == 43, "it holds data, end to end");
	tap_ok(mem_free() == free0 - (4UL << 20), "mem: 4 MiB less free (%lu MiB, was %lu)", mem_free() >> 20, free0 >> 20);
	tap_eq(init_mem_return(INIT, a), E_OK, "the first given back");
	long gone = sys_cap_identify(frame, &type, &rights, &used);
	tap_eq(gone, E_BAD_CAP, "the frame made from it is gone with it: its slot is empty");
	tap_ok(mem_free() == free0 - (2UL << 20), "mem counts it free again");
	tap_eq(init_mem_return(INIT, a), E_BAD_ARG, "given back twice: refused");
	tap_eq(init_mem_return(INIT, 1000), E_BAD_ARG, "a loan that is not ours: refused");
	/* die with the second loan held: init must take it back */
	*(volatile int *)0 = 0;
	return 0;
}

int main(const struct bootinfo *bi)
{
	uint64_t u;
	uint32_t l;
	if (arg_flag(bi->cmdline, "role=other")) {
		/* E_NO_RIGHTS is 4 (printed, not TAP: one plan per test) */
		debug_printf("loans: other: borrow refused: %ld\n", init_mem_borrow(INIT, &l, &u));
		return 0;
	}
	uint32_t state, restarts = 0, threads;
	char name[33];
	uint64_t mem;
	for (uint32_t i = 0; !init_task_info(INIT, i, name, &state, &restarts, &threads, &mem); i++)
		if (!strcmp(name, "borrower"))
			break;
	if (restarts == 0)
		return borrower_first_run();
	/* restarted: the loans of the crashed instance are back with init */
	debug_printf("loans: restarted: free before any loan %lu KiB\n", mem_free() >> 10);
	long b = init_mem_borrow(INIT, &l, &u);
	debug_printf("loans: restarted: borrowed and gave back: %ld %ld\n", b, b ? -1L : init_mem_return(INIT, l));
	return 0;
}
