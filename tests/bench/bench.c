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
#define SCALE_CALLS 19200    /* calls per scaling run, shared by its clients (divides by 64) */
#define MAX_CLIENTS 64

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

/*
 * Scaling: n client threads of ours (priority 100, in our address space),
 * each making SCALE_CALLS / n calls, against one server or one server
 * each (bench_server.elf, priority 100, each in its own address space).
 * We wait above them for the last one's notification; the figure is the
 * elapsed count over all SCALE_CALLS calls, so a cost that grew with the
 * number of clients or servers (a queue walked, a search) would show.
 */
static uint8_t client_stacks[MAX_CLIENTS][8192] __attribute__((aligned(16)));
static uint64_t client_port[MAX_CLIENTS]; /* the send right client i calls */
static unsigned calls_each, clients_left;
static uint64_t done_port;

static void client(uint64_t i)
{
	struct msg m = { 0 };
	for (unsigned k = 0; k < calls_each; k++) {
		m.info = MSG_INFO(1, 2, 0);
		m.w[0] = k;
		m.w[1] = 0;
		long err = ipc_syscall(SYS_CALL, client_port[i], &m, 0, 0);
		if (err || m.w[0] != (uint64_t)k + 1)
			fail("scaling call", err);
	}
	if (__atomic_sub_fetch(&clients_left, 1, __ATOMIC_SEQ_CST) == 0)
		sys_notify(done_port, 1);
}

static void time_clients(const char *name, unsigned n)
{
	calls_each = SCALE_CALLS / n;
	clients_left = n;
	uint64_t fast0 = 0, msgs0 = 0, fast1 = 0, msgs1 = 0;
	/* above the clients while we start them, so none runs before all are there */
	long err = sys_tcb_set_priority(CAP_ROOT_TCB, 110, PRIORITY_MAX);
	for (unsigned i = 0; !err && i < n; i++)
		err = thread_create(client, i, client_stacks[i], sizeof(client_stacks[i]), 100, 0);
	if (err)
		fail("starting the clients", err);
	sys_kernel_counter(KC_IPC_FASTPATH, &fast0);
	sys_kernel_counter(KC_IPC_MESSAGES, &msgs0);
	struct msg m;
	uint64_t t = rdtsc();
	if ((err = ipc_recv(done_port, 0, &m)))
		fail("waiting for the clients", err);
	t = rdtsc() - t;
	sys_kernel_counter(KC_IPC_FASTPATH, &fast1);
	sys_kernel_counter(KC_IPC_MESSAGES, &msgs1);
	sys_tcb_set_priority(CAP_ROOT_TCB, ROOT_TASK_PRIORITY, PRIORITY_MAX);
	report(name, t, SCALE_CALLS);
	char fast_name[64];
	debug_snprintf(fast_name, sizeof(fast_name), "%s_fastpath_percent", name);
	debug_printf("BENCH name=%s value=%lu unit=percent\n", fast_name,
	             msgs1 > msgs0 ? (fast1 - fast0) * 100 / (msgs1 - msgs0) : 0);
}

static void start_server(const struct bootinfo_module *mod, struct process *server, uint64_t *send)
{
	uint64_t port;
	*send = slot_alloc();
	long err = object_alloc(OBJ_PORT, 0, &port);
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, *send, RIGHT_SEND, 0);
	err = err ? err : process_spawn((const void *)mod->vaddr, mod->size, 100, 0, 0, server);
	err = err ? err : sys_cnode_move(port, server->cnode, PROCESS_FIRST_GIVEN);
	err = err ? err : process_start(server);
	if (err)
		fail("starting a server", err);
}

static void bench_ipc(const struct bootinfo_module *mod)
{
	static struct process servers[MAX_CLIENTS];
	uint64_t send;
	start_server(mod, &servers[0], &send);
	report("ipc_call_reply", time_calls(send, 0), ITERATIONS);
	report("ipc_call_reply_slowpath", time_calls(send, MSG_FLAG_SLOWPATH), ITERATIONS);

	long err = object_alloc(OBJ_PORT, 0, &done_port);
	if (err)
		fail("the clients' port", err);
	static const unsigned counts[] = { 1, 4, 16, 64 };
	static const char *const names[] = { "ipc_clients_1", "ipc_clients_4", "ipc_clients_16", "ipc_clients_64" };
	for (unsigned c = 0; c < 4; c++) {
		for (unsigned i = 0; i < counts[c]; i++)
			client_port[i] = send;
		time_clients(names[c], counts[c]);
	}
	client_port[0] = send;
	for (unsigned i = 1; i < MAX_CLIENTS; i++)
		start_server(mod, &servers[i], &client_port[i]);
	time_clients("ipc_servers_64", MAX_CLIENTS);
	for (unsigned i = 0; i < MAX_CLIENTS; i++)
		process_destroy(&servers[i]);
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
