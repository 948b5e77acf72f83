/* Message tracing (SYS_TRACE, docs/trace.md): the root task holds the
 * TRACE_CONTROL capability; it traces one server task, calls it and a
 * second, untraced one, and reads the ring back: the calls and replies in
 * order with increasing timestamps, fast and general path marked, a
 * notification from the kernel, nothing of the untraced server, nothing
 * while tracing is off, the lost count after an overflow, no harm when a
 * traced task dies, and refusals without the capability or with bad
 * arguments. */
// test-module: build/tests/system/progs/server.elf
#include "tap.h"
#include <libipc/ipc.h>
#include "protocol.h"

static long spawn_server(const struct bootinfo *bi, struct process *p, uint64_t *send)
{
	const struct bootinfo_module *mod = &bi->module[0];
	uint64_t port;
	*send = slot_alloc();
	long err = object_alloc(OBJ_PORT, 0, &port);
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, *send, RIGHT_SEND, 0);
	err = err ? err : process_spawn((const void *)mod->vaddr, mod->size, 100, 0, 20, p);
	err = err ? err : sys_cnode_move(port, p->cnode, SERVER_PORT_SLOT);
	return err ? err : process_start(p);
}

static long echo(uint64_t port, unsigned flags)
{
	struct msg m = { .info = MSG_INFO(LABEL_ECHO, 2, 0) | flags, .w = { 10, 20 } };
	long err = ipc_call(port, &m);
	return err ? err : (m.w[0] == 11 ? 0 : -1);
}

/* Read everything; returns how many, the first n kept in e[]. */
static unsigned drain(struct trace_entry *e, unsigned n, uint32_t *lost)
{
	struct trace_entry x;
	unsigned got = 0;
	*lost = 0;
	while (!sys_trace_read(CAP_TRACE_CONTROL, &x)) {
		if (got < n)
			e[got] = x;
		*lost += x.lost;
		got++;
	}
	return got;
}

int main(const struct bootinfo *bi)
{
	tap_plan(19);
	struct process a, b;
	uint64_t pa, pb, aid = 0, me = 0;
	long err = spawn_server(bi, &a, &pa);
	err = err ? err : spawn_server(bi, &b, &pb);
	err = err ? err : echo(pa, 0);
	err = err ? err : echo(pb, 0);
	tap_eq(err, E_OK, "two echo servers answer");

	struct trace_entry e[8], x;
	uint32_t lost;
	tap_eq(sys_trace_read(CAP_TRACE_CONTROL, &x), E_WOULD_BLOCK, "tracing off: nothing was recorded");

	/* refusals */
	tap_eq(sys_trace_thread(CAP_ROOT_VSPACE, a.tcb, 1, 0), E_WRONG_TYPE, "a caller without TRACE_CONTROL is refused");
	tap_eq(sys_trace_read(slot_alloc(), &x), E_BAD_CAP, "an empty slot for TRACE_CONTROL is refused");
	tap_eq(sys_trace_thread(CAP_TRACE_CONTROL, a.tcb, 2, 0), E_BAD_ARG, "on must be 0 or 1");
	tap_eq(berth_syscall(SYS_TRACE, CAP_TRACE_CONTROL, 9, 0, 0, 0, 0).err, E_BAD_ARG, "an unknown operation: E_BAD_ARG");
	tap_eq(sys_trace_thread(CAP_TRACE_CONTROL, pa, 1, 0), E_WRONG_TYPE, "a port is not a thread");

	err = sys_trace_thread(CAP_TRACE_CONTROL, a.tcb, 1, &aid);
	err = err ? err : sys_trace_thread(CAP_TRACE_CONTROL, CAP_ROOT_TCB, 0, &me);
	tap_ok(!err && aid && me && aid != me, "trace server a (thread %lu; we are %lu)", aid, me);

	uint64_t t0 = rdtsc();
	err = echo(pa, 0);
	err = err ? err : echo(pb, 0);                    /* untraced on both sides */
	err = err ? err : echo(pa, MSG_FLAG_SLOWPATH);
	unsigned n = drain(e, 8, &lost);
	tap_ok(!err && n == 4 && !lost, "two traced calls: four records (got %u, lost %u)", n, lost);
	int order = n == 4;
	for (unsigned i = 0; order && i < 4; i++) {
		uint32_t from = i % 2 ? (uint32_t)aid : (uint32_t)me, to = i % 2 ? (uint32_t)me : (uint32_t)aid;
		order = e[i].from == from && e[i].to == to && e[i].label == LABEL_ECHO &&
		        e[i].kind == (i % 2 ? TRACE_REPLY : TRACE_CALL) && e[i].tsc > (i ? e[i - 1].tsc : t0);
	}
	tap_ok(order, "call, reply, call, reply between us and a, labels and timestamps in order");
	tap_ok(n == 4 && e[0].fast && e[1].fast && !e[2].fast, "fast paths marked; the forced general call is not (%u %u %u %u)",
	       e[0].fast, e[1].fast, e[2].fast, e[3].fast);

	/* a traced thread posts to a port where nobody waits: the post (to
	 * 0), then the delivery, from the kernel, when it receives */
	uint64_t port;
	struct msg m;
	err = object_alloc(OBJ_PORT, 0, &port);
	err = err ? err : sys_trace_thread(CAP_TRACE_CONTROL, CAP_ROOT_TCB, 1, 0);
	err = err ? err : sys_notify(port, 0x5);
	err = err ? err : ipc_recv(port, 0, &m);
	n = drain(e, 8, &lost);
	tap_ok(!err && n == 2 && e[0].kind == TRACE_NOTIFY && e[0].from == me && e[0].to == 0 && e[0].label == 5 &&
	       e[1].kind == TRACE_NOTIFY && e[1].from == 0 && e[1].to == me && e[1].label == 5,
	       "a notification: posted by us to nobody waiting, then from the kernel to us, its bits as label (n %u)", n);
	/* a thread a traced thread configures is traced too */
	struct process c;
	uint64_t pc, cid = 0;
	err = spawn_server(bi, &c, &pc);
	sys_trace_thread(CAP_TRACE_CONTROL, CAP_ROOT_TCB, 0, 0);
	err = err ? err : echo(pc, 0);
	n = drain(e, 8, &lost);
	sys_trace_thread(CAP_TRACE_CONTROL, c.tcb, 0, &cid);
	tap_ok(!err && n == 2 && e[0].to == cid && e[1].from == cid,
	       "a task spawned by a traced thread is traced (%u records)", n);
	process_destroy(&c);

	/* overflow: the oldest go, counted */
	for (unsigned i = 0; i < TRACE_RING; i++)
		echo(pa, 0);
	n = drain(e, 1, &lost);
	tap_ok(n == TRACE_RING && lost == TRACE_RING, "%u calls: the ring holds %u records, %u counted lost",
	       TRACE_RING, n, lost);

	/* clear, then off */
	echo(pa, 0);
	tap_eq(sys_trace_clear(CAP_TRACE_CONTROL), E_OK, "clear");
	tap_eq(sys_trace_read(CAP_TRACE_CONTROL, &x), E_WOULD_BLOCK, "nothing left after clear");
	sys_trace_thread(CAP_TRACE_CONTROL, a.tcb, 0, 0);
	echo(pa, 0);
	tap_eq(sys_trace_read(CAP_TRACE_CONTROL, &x), E_WOULD_BLOCK, "tracing turned off records nothing");

	/* a traced task that dies leaves records of plain ids, nothing dangling */
	sys_trace_thread(CAP_TRACE_CONTROL, a.tcb, 1, 0);
	echo(pa, 0);
	process_destroy(&a);
	n = drain(e, 8, &lost);
	tap_ok(n == 2 && e[0].to == aid, "records of a destroyed task still read (%u)", n);
	sys_trace_thread(CAP_TRACE_CONTROL, b.tcb, 1, 0);
	echo(pb, 0);
	n = drain(e, 8, &lost);
	tap_ok(n == 2 && e[1].from != aid, "tracing goes on with another task (%u)", n);
	process_destroy(&b);
	tap_done();
}
