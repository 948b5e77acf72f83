/* Several client threads hammer one server for a few seconds; no message
 * is lost or duplicated.  Four clients at our priority call the server
 * (progs/server.c, its own address space) in a loop with their id and
 * increasing sequence numbers; the server checks each client's numbers
 * arrive in order and echoes them.  Two clients take the fast path where
 * it applies, two force the general path.  At the end the server's count
 * must equal the sum of the clients' calls. */
// test-module: build/tests/system/progs/server.elf
// test-selfcheck: 4
#include "tap.h"
#include <libipc/ipc.h>
#include "protocol.h"

#define CLIENTS 4
#define RUN_TICKS 5000000000UL      /* about 2 s under QEMU (TSC at the host's rate) */
#define MIN_CALLS 500               /* each client does far more; fewer is starvation */
#define PRIO 100                    /* the root task's own */

static uint64_t server_send;
static volatile uint64_t start;
static uint8_t stacks[CLIENTS][16384] __attribute__((aligned(16)));
static volatile uint64_t calls[CLIENTS], mismatches[CLIENTS];
static volatile long errors[CLIENTS];
static volatile int finished[CLIENTS];

static void client(uint64_t id)
{
	uint64_t flags = id & 1 ? MSG_FLAG_SLOWPATH : 0;
	uint64_t end = start + RUN_TICKS;
	for (uint64_t seq = 0; rdtsc() < end; seq++) {
		struct msg m = { .info = MSG_INFO(LABEL_COUNT, 2, 0) | flags };
		m.w[0] = id;
		m.w[1] = seq;
		long err = ipc_call(server_send, &m);
		if (err) { /* the server may or may not have counted it: stop here */
			errors[id] = err;
			break;
		}
		calls[id]++;
		if (MSG_LABEL(m.info) != LABEL_COUNT || MSG_WORDS(m.info) != 1 || m.w[0] != seq)
			mismatches[id]++;
	}
	finished[id] = 1;
}

int main(const struct bootinfo *bi)
{
	tap_plan(10);
	struct process server;
	uint64_t port;
	server_send = slot_alloc();
	long err = bi->module_count >= 1 ? E_OK : E_BAD_ARG;
	err = err ? err : object_alloc(OBJ_PORT, 0, &port);
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, server_send, RIGHT_SEND, 0);
	err = err ? err : process_spawn((const void *)bi->module[0].vaddr, bi->module[0].size, PRIO, 0, 20,
	                                &server);
	err = err ? err : sys_cnode_move(port, server.cnode, SERVER_PORT_SLOT);
	err = err ? err : process_start(&server);
	tap_eq(err, E_OK, "spawn the server and move it the receive right");

	start = rdtsc();
	uint64_t tcb[CLIENTS] = { 0 };
	int started = 0;
	for (int i = 0; i < CLIENTS && !err; i++)
		if (!(err = thread_create(client, (uint64_t)i, stacks[i], sizeof(stacks[i]), PRIO, &tcb[i])))
			started++;
	tap_ok(!err && started == CLIENTS, "start %d client threads at our priority (err %ld)", CLIENTS, err);

	/* wait with them, not above them: yielding lets them run */
	uint64_t deadline = start + 4 * RUN_TICKS;
	int all = 0;
	while (!all && rdtsc() < deadline) {
		sys_yield();
		all = 1;
		for (int i = 0; i < started; i++)
			all &= finished[i];
	}
	uint64_t elapsed = rdtsc() - start;
	tap_ok(all && started == CLIENTS, "every client finished (after %lu M ticks)", elapsed / 1000000);

	uint64_t total = 0, min = ~0UL, bad_echo = 0;
	long first_err = E_OK;
	for (int i = 0; i < CLIENTS; i++) {
		total += calls[i];
		bad_echo += mismatches[i];
		if (calls[i] < min)
			min = calls[i];
		if (errors[i] && !first_err)
			first_err = errors[i];
	}
	debug_printf("# calls per client: %lu %lu %lu %lu (total %lu)\n", calls[0], calls[1], calls[2],
	             calls[3], total);
	tap_eq(first_err, E_OK, "no call returned an error");
	tap_eq((long)bad_echo, 0, "every reply echoed the sequence number sent");
	tap_ok(min >= MIN_CALLS, "every client made progress (the fewest calls: %lu)", min);

	struct msg m = { .info = MSG_INFO(LABEL_STATS, 0, 0) };
	err = ipc_call(server_send, &m);
	tap_ok(!err && MSG_LABEL(m.info) == LABEL_STATS && MSG_WORDS(m.info) == 3,
	       "ask the server for its statistics (err %ld)", err);
	tap_ok(!err && m.w[0] == total && total > 0,
	       "the server counted as many messages as the clients made calls (%lu, clients %lu)", m.w[0], total);
	tap_eq(err ? -1 : (long)m.w[1], 0, "none arrived out of order");
	tap_eq(err ? -1 : (long)m.w[2], CLIENTS, "the server saw every client");

	for (int i = 0; i < CLIENTS; i++)
		if (tcb[i])
			sys_tcb_suspend(tcb[i]);
	process_destroy(&server);
	tap_done();
}
