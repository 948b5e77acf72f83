/* init's heartbeat tells a hung task from a starved one by where the
 * threads run now, not by the manifest's priorities.  The client here is
 * started at 200 and lowers its own thread to 90 (as the fault campaign
 * does); the server "looper" (120) is told to loop.  The client stays
 * ready to run, starved by the loop.  Judged by the manifest, the looper
 * would look starved by the client (200 above 120) and never be found
 * hung: the whole test would wait for ever (the hang the fault campaign
 * met in CI).  Judged by the threads, the looper is hung, and init
 * restarts it.  "low" (80), which busy-polls its port, is starved by the
 * loop as well and must not be taken for hung.
 *
 * One image, three roles (the manifest's args): role=looper, role=low,
 * and the client (no role). */
// test-root: build/init.elf
// test-module: tests/system/manifests/heartbeat.manifest
// test-module: build/serial.elf
// test-expect: init: 'looper' hung: 3 heartbeats of 200 ms unanswered; restarting it
// test-reject: init: 'low' hung
// test-timeout: 60
#include "tap.h"
#include <string.h>
#include <libipc/libipc.h>
#include <libipc/ipc.h>
#include "init.h"

#define INIT 8
#define LABEL_LOOP 1     /* to the looper: loop from now on (a send) */
#define LABEL_ANSWER 2   /* to the looper: answer 42 (a call) */

static uint64_t serve_as(const char *name)
{
	uint64_t port = 0, send = slot_alloc();
	if (!send || object_alloc(OBJ_PORT, 0, &port) || sys_cnode_mint(port, CAP_ROOT_CNODE, send, RIGHT_SEND, 0) ||
	    init_publish(INIT, name, send)) {
		debug_printf("heartbeat: %s cannot publish itself\n", name);
		sys_debug_exit(1);
	}
	return port;
}

static void looper(void)
{
	uint64_t reply = slot_alloc();
	uint64_t port = serve_as("looper");
	for (;;) {
		struct msg m;
		long err = ipc_recv(port, reply, &m);
		if (err) {
			debug_printf("heartbeat: the looper's receive failed (%ld)\n", err);
			sys_debug_exit(1);
		}
		if (heartbeat_filter(&m))
			continue;
		if (MSG_LABEL(m.info) == LABEL_LOOP)
			for (;;)
				__asm__ volatile("pause");
		if (MSG_LABEL(m.info) == LABEL_ANSWER) {
			m.info = MSG_INFO(0, 1, 0);
			m.w[0] = 42;
			ipc_reply(reply, &m);
		}
	}
}

/* Always ready to run: it polls its port and answers pings between. */
static void low(void)
{
	uint64_t port = serve_as("low");
	for (;;) {
		struct msg m;
		if (ipc_nb_recv(port, 0, &m) == E_OK)
			heartbeat_filter(&m);
	}
}

struct row {
	uint32_t restarts, end, state;
};

static int ps_row(const char *name, struct row *r)
{
	for (uint32_t i = 2;; i++) {
		char n[33];
		uint32_t kind, flags, thread, prio;
		int32_t policy;
		int64_t detail;
		uint64_t memory, up, idle;
		if (init_ps_entry(INIT, i, n, &kind, &flags, &r->state, &thread, &r->end, &detail, &prio, &r->restarts,
		                  &policy, &memory, &up, &idle))
			return 0;
		if (!strcmp(n, name))
			return 1;
	}
}

int main(const struct bootinfo *bi)
{
	char role[16] = "";
	arg_string(bi->cmdline, "role=", role, sizeof(role));
	if (!strcmp(role, "looper"))
		looper();
	if (!strcmp(role, "low"))
		low();

	tap_plan(7);
	struct thread_info info;
	long err = sys_tcb_info(CAP_ROOT_TCB, &info);
	tap_ok(!err && info.state == THREAD_RUNNABLE && info.priority == 200,
	       "SYS_TCB_INFO gives a thread's priority: 200, the manifest's (state %u, priority %u)", info.state,
	       info.priority);
	err = sys_tcb_set_priority(CAP_ROOT_TCB, 90, 200);
	err = err ? err : sys_tcb_info(CAP_ROOT_TCB, &info);
	tap_ok(!err && info.priority == 90, "and 90 once the thread lowered itself (priority %u)", info.priority);

	uint64_t looper_port = 0, low_port = 0;
	for (int tries = 0; tries < 500 && (init_lookup(INIT, "looper", &looper_port) ||
	                                    init_lookup(INIT, "low", &low_port)); tries++)
		clock_nap(1);
	struct row before, low_before;
	int found = ps_row("looper", &before) && ps_row("low", &low_before);
	tap_ok(looper_port && low_port && found, "the looper and low serve");

	/* from here this thread is starved until init finds the loop */
	uint64_t t0 = clock_ms();
	struct msg m = { .info = MSG_INFO(LABEL_LOOP, 0, 0) };
	err = ipc_send(looper_port, &m);
	uint64_t ms = clock_ms() - t0;
	struct row after, low_after;
	found = ps_row("looper", &after) && ps_row("low", &low_after);
	tap_ok(!err && found && after.restarts == before.restarts + 1 && after.end == 5,
	       "the looper was found hung while a thread of a task above it in the manifest was ready below it "
	       "(after %lu ms; restarts %u to %u, end %u)", ms, before.restarts, after.restarts, after.end);
	tap_ok(found && low_after.restarts == low_before.restarts,
	       "low, ready to run but starved meanwhile, was not (restarts %u to %u)", low_before.restarts,
	       low_after.restarts);

	/* the new instance serves */
	uint64_t fresh = 0;
	for (int tries = 0; tries < 500; tries++) {
		if (!init_lookup(INIT, "looper", &fresh)) {
			m.info = MSG_INFO(LABEL_ANSWER, 0, 0);
			if (ipc_call(fresh, &m) == E_OK && m.w[0] == 42)
				break;
			sys_cnode_delete(fresh);
			slot_free(fresh);
			fresh = 0;
		}
		clock_nap(1);
	}
	tap_ok(fresh != 0, "the looper's next instance answers");
	tap_ok(ps_row("low", &low_after) && low_after.restarts == low_before.restarts && low_after.state == 1,
	       "low still runs, never restarted");
	tap_done();
}
