/* Berth's micro-benchmarks, run as the root task under QEMU with
 * -icount shift=0, where RDTSC counts guest instructions: every figure is
 * an average instruction count per operation and repeats exactly from run
 * to run.  See docs/benchmarks.md for what each one covers. */
// module 0: bench_server.elf, module 1: bench_faulter.elf
#include <libipc/libipc.h>
#include <libipc/ipc.h>

#define ITERATIONS 20000
#define WARMUP 1000
#define FAULT_PAGES 512
#define REGION 0x40000000UL
#define LABEL_RESULT 100
#define BADGE_FAULT 1
#define BADGE_CONTROL 2

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* make bench boots this only under -icount shift=0, where the TSC
 * advances one tick per guest instruction (docs/benchmarks.md) */
static void report(const char *name, uint64_t total, uint64_t n)
{
	debug_printf("BENCH name=%s value=%lu unit=instructions\n", name, (total + n / 2) / n);
}

static void fail(const char *what, long err)
{
	debug_printf("bench: %s failed: %ld\n", what, err);
	sys_debug_exit(1);
	for (;;)
		;
}

static uint64_t time_null(void)
{
	for (int i = 0; i < WARMUP; i++)
		sys_null();
	uint64_t t = rdtsc();
	for (int i = 0; i < ITERATIONS; i++)
		sys_null();
	return rdtsc() - t;
}

static uint64_t time_calls(uint64_t port, uint64_t flags)
{
	struct msg m = { 0 };
	uint64_t t = 0;
	for (int i = 0; i < WARMUP + ITERATIONS; i++) {
		if (i == WARMUP)
			t = rdtsc();
		m.info = MSG_INFO(1, 2, 0) | flags;
		m.w[0] = (uint64_t)i;
		m.w[1] = flags != 0;
		long err = ipc_syscall(SYS_CALL, port, &m, 0, 0);
		if (err || m.w[0] != (uint64_t)i + 1)
			fail("call", err);
	}
	return rdtsc() - t;
}

static void bench_ipc(const struct bootinfo_module *mod)
{
	struct process server;
	uint64_t port, send = slot_alloc();
	long err = object_alloc(OBJ_PORT, 0, &port);
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, send, RIGHT_SEND, 0);
	err = err ? err : process_spawn((const void *)mod->vaddr, mod->size, 100, 0, 0, &server);
	err = err ? err : sys_cnode_move(port, server.cnode, PROCESS_FIRST_GIVEN);
	err = err ? err : process_start(&server);
	if (err)
		fail("starting the server", err);
	report("ipc_call_reply", time_calls(send, 0), ITERATIONS);
	report("ipc_call_reply_slowpath", time_calls(send, MSG_FLAG_SLOWPATH), ITERATIONS);
	process_destroy(&server);
}

/*
 * The pager side of the fault benchmark.  Each round the faulter asks for
 * work, touches `pages` fresh pages and reports its time; we serve its
 * faults by mapping a frame, either made beforehand (the fault path
 * alone) or retyped on the spot (with allocation and zeroing, like a
 * Linux anonymous fault).
 */
static uint64_t serve_round(uint64_t port, uint64_t reply, struct process *child, uint64_t first,
                            uint64_t pages, int retype_each)
{
	static uint64_t pool[FAULT_PAGES];
	long err;
	if (!retype_each)
		for (uint64_t i = 0; i < pages; i++)
			if ((err = object_alloc(OBJ_FRAME, 0, &pool[i])))
				fail("frame pool", err);
	struct msg m = { .info = MSG_INFO(LABEL_RESULT, 2, 0), .w = { pages, first } };
	uint64_t used = 0;
	err = ipc_reply_recv(reply, port, reply, &m);
	for (;;) {
		if (err)
			fail("pager receive", err);
		if (m.badge == BADGE_CONTROL)
			return m.w[0];
		if (MSG_LABEL(m.info) != LABEL_FAULT || used == pages)
			fail("unexpected fault", (long)m.w[1]);
		uint64_t f = 0;
		if (retype_each && (err = object_alloc(OBJ_FRAME, 0, &f)))
			fail("frame", err);
		if (!retype_each)
			f = pool[used];
		used++;
		if ((err = sys_page_map(f, child->vspace, m.w[1] & ~(PAGE_SIZE - 1), RIGHT_READ | RIGHT_WRITE, 0)))
			fail("map", err);
		m.info = MSG_INFO(0, 0, 0);
		err = ipc_reply_recv(reply, port, reply, &m);
	}
}

static void bench_faults(const struct bootinfo_module *mod)
{
	struct process child;
	uint64_t port, fault_send = slot_alloc(), control = slot_alloc(), reply = slot_alloc(), f;
	long err = object_alloc(OBJ_PORT, 0, &port);
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, fault_send, RIGHT_SEND, BADGE_FAULT);
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, control, RIGHT_SEND, BADGE_CONTROL);
	err = err ? err : process_spawn((const void *)mod->vaddr, mod->size, 100, fault_send, 0, &child);
	err = err ? err : process_give(&child, control, RIGHT_SEND, BADGE_CONTROL, 0);
	/* page tables for the whole region exist before timing starts */
	for (uint64_t a = REGION; !err && a < REGION + 3 * FAULT_PAGES * PAGE_SIZE; a += 512 * PAGE_SIZE) {
		err = object_alloc(OBJ_FRAME, 0, &f);
		err = err ? err : page_map_in(child.vspace, f, a, RIGHT_READ);
		err = err ? err : sys_page_unmap(f);
	}
	err = err ? err : process_start(&child);
	if (err)
		fail("starting the faulter", err);
	struct msg m;
	if ((err = ipc_recv(port, reply, &m)) || m.badge != BADGE_CONTROL)
		fail("first message", err);
	serve_round(port, reply, &child, 0, 64, 1); /* warm-up */
	uint64_t bare = serve_round(port, reply, &child, 64, FAULT_PAGES, 0);
	uint64_t alloc = serve_round(port, reply, &child, 64 + FAULT_PAGES, FAULT_PAGES, 1);
	report("fault_roundtrip", bare, FAULT_PAGES);
	report("fault_roundtrip_alloc", alloc, FAULT_PAGES);
	m.info = MSG_INFO(LABEL_RESULT, 2, 0);
	m.w[0] = 0;
	ipc_reply(reply, &m);
	process_destroy(&child);
}

int main(const struct bootinfo *bi)
{
	if (bi->module_count < 2)
		fail("modules", bi->module_count);
	debug_printf("# berth: iterations=%d warmup=%d fault_pages=%d\n", ITERATIONS, WARMUP, FAULT_PAGES);
	report("null_syscall", time_null(), ITERATIONS);
	bench_ipc(&bi->module[0]);
	bench_faults(&bi->module[1]);
	sys_debug_exit(0x10);
	return 0;
}
