/* Which path each message takes: the kernel's fast-path counter
 * (KC_IPC_FASTPATH) around single calls shows the fast path moving a
 * plain call and its reply, and the general path moving every message
 * the fast path must leave alone (docs/ipc.md, "The fast path"): a long
 * message, a capability, MSG_FLAG_SLOWPATH, a receiver not yet waiting, a
 * woken thread of lower priority than the waker, a notification or
 * another caller waiting on the port; the replies are right either way. */
#include "tap.h"
#include <libipc/ipc.h>

#define STACK_SIZE 16384
#define NSERVERS 5
#define REPLY_SLOT_BASE 200
#define LABEL_ECHO 1         /* reply: the words plus one, as many */
#define LABEL_LONG_REPLY 2   /* reply: six words */
#define LABEL_SLOW_REPLY 3   /* reply with MSG_FLAG_SLOWPATH */
#define LABEL_NOTIFY_FIRST 4 /* post a notification on the port, then reply */
#define LABEL_YIELD_FIRST 5  /* reply once a second caller waits on the port */
#define LABEL_TAKE_CAP 6     /* the request carries a capability: delete it, reply */

enum { SAME, LOW, HIGH, LATE, SECOND };
static uint8_t stacks[NSERVERS + 1][STACK_SIZE] __attribute__((aligned(16)));
static uint64_t ports[NSERVERS], sends[NSERVERS], cap_slot[NSERVERS];
static volatile int ready[NSERVERS];
static volatile uint64_t second_tcb;
static volatile int second_go;

static unsigned state_of(uint64_t tcb)
{
	struct thread_info info = { .state = 99 };
	sys_tcb_info(tcb, &info);
	return info.state;
}

/* Yield until thread tcb waits to deliver a call: then it is on the
 * port's queue of senders.  (Yielding, not timing, so the timer's
 * preemption cannot reorder what the counts depend on.) */
static void wait_until_calling(uint64_t tcb)
{
	while (state_of(tcb) != THREAD_BLOCKED_CALL)
		sys_yield();
}

static void server(uint64_t i)
{
	uint64_t port = ports[i], reply = REPLY_SLOT_BASE + i;
	ipc_set_recv_slots(&cap_slot[i], 1);
	struct msg m;
	ready[i] = 1;
	if (i == LATE) /* receive only once the root task's call waits */
		wait_until_calling(CAP_ROOT_TCB);
	long err = ipc_recv(port, reply, &m);
	for (;;) {
		if (err)
			debug_printf("ipc_fastpath: server %lu: %ld\n", (unsigned long)i, err);
		if (MSG_LABEL(m.info) == LABEL_NOTIFY) { /* the bits we posted ourselves */
			err = ipc_recv(port, reply, &m);
			continue;
		}
		uint64_t label = MSG_LABEL(m.info), words = MSG_WORDS(m.info);
		for (uint64_t k = 0; k < words; k++)
			m.w[k]++;
		m.info = MSG_INFO(label, words, 0);
		if (label == LABEL_LONG_REPLY) {
			for (uint64_t k = 0; k < 6; k++)
				m.w[k] = 100 + k;
			m.info = MSG_INFO(label, 6, 0);
		}
		if (label == LABEL_SLOW_REPLY)
			m.info |= MSG_FLAG_SLOWPATH;
		if (label == LABEL_NOTIFY_FIRST)
			sys_notify(port, 1);
		if (label == LABEL_YIELD_FIRST) { /* let the second caller queue */
			second_go = 1;
			wait_until_calling(second_tcb);
		}
		if (label == LABEL_TAKE_CAP)
			sys_cnode_delete(cap_slot[i]);
		err = ipc_reply_recv(reply, port, reply, &m);
	}
}

static uint64_t counter(unsigned which)
{
	uint64_t v = 0;
	sys_kernel_counter(which, &v);
	return v;
}

/* One call of `words` words on server i's port: err, the reply checked
 * against what the server does, and how many of the messages it took the
 * fast path moved (and, in *msgs, how many messages moved in all). */
static long call(int i, uint64_t label, uint64_t words, uint64_t flags, uint64_t *fast, uint64_t *msgs)
{
	struct msg m = { .info = MSG_INFO(label, words, 0) | flags };
	for (uint64_t k = 0; k < words; k++)
		m.w[k] = 10 * k + 7;
	uint64_t f0 = counter(KC_IPC_FASTPATH), m0 = counter(KC_IPC_MESSAGES);
	long err = ipc_call(sends[i], &m);
	*fast = counter(KC_IPC_FASTPATH) - f0;
	if (msgs)
		*msgs = counter(KC_IPC_MESSAGES) - m0;
	if (err)
		return err;
	if (label == LABEL_LONG_REPLY) {
		for (uint64_t k = 0; k < 6; k++)
			if (m.w[k] != 100 + k)
				return -1000;
		return MSG_WORDS(m.info) == 6 ? 0 : -1001;
	}
	if (MSG_LABEL(m.info) != label || MSG_WORDS(m.info) != words)
		return -1002;
	for (uint64_t k = 0; k < words; k++)
		if (m.w[k] != 10 * k + 8)
			return -1003;
	return 0;
}

/* The second caller of the LABEL_YIELD_FIRST case: it calls only once
 * the server is busy with the first. */
static volatile long second_err = -1;
static void second_caller(uint64_t i)
{
	uint64_t fast;
	while (!second_go)
		sys_yield();
	second_err = call((int)i, LABEL_ECHO, 2, 0, &fast, 0);
}

static long start_server(int i, unsigned prio)
{
	long err = object_alloc(OBJ_PORT, 0, &ports[i]);
	sends[i] = slot_alloc();
	cap_slot[i] = slot_alloc();
	err = err ? err : sys_cnode_mint(ports[i], CAP_ROOT_CNODE, sends[i], RIGHT_SEND, 0x100 + i);
	return err ? err : thread_create(server, (uint64_t)i, stacks[i], STACK_SIZE, prio, 0);
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(17);
	uint64_t fast, msgs;
	long err;

	/* servers at our priority (100), below it and above it, each waiting
	 * on its own port; the one below runs while we sit at 40 */
	err = start_server(SAME, 100);
	err = err ? err : start_server(HIGH, 120);
	err = err ? err : start_server(LOW, 50);
	err = err ? err : sys_tcb_set_priority(CAP_ROOT_TCB, 40, 150);
	err = err ? err : sys_tcb_set_priority(CAP_ROOT_TCB, 100, 150);
	sys_yield(); /* the one at our priority reaches its receive */
	tap_ok(!err && ready[SAME] && ready[LOW] && ready[HIGH], "three servers wait on their ports (err %ld)", err);

	err = call(SAME, LABEL_ECHO, 2, 0, &fast, &msgs);
	tap_ok(!err && fast == 2 && msgs == 2, "a two-word call and its reply: both fast (%lu of %lu; err %ld)",
	       fast, msgs, err);
	err = call(SAME, LABEL_ECHO, 0, 0, &fast, 0);
	tap_ok(!err && fast == 2, "no words: both fast (%lu; err %ld)", fast, err);
	err = call(SAME, LABEL_ECHO, MSG_REG_WORDS, 0, &fast, 0);
	tap_ok(!err && fast == 2, "four words, all in registers: both fast (%lu; err %ld)", fast, err);
	uint64_t total = 0;
	for (int k = 0; k < 100 && !err; k++) {
		err = call(SAME, LABEL_ECHO, 3, 0, &fast, 0);
		total += fast;
	}
	tap_ok(!err && total == 200, "100 calls in a row: all 200 messages fast (%lu; err %ld)", total, err);

	err = call(SAME, LABEL_ECHO, MSG_REG_WORDS + 1, 0, &fast, &msgs);
	tap_ok(!err && fast == 0 && msgs == 2, "five words (one in the IPC buffer) each way: both general "
	       "(%lu of %lu; err %ld)", fast, msgs, err);
	err = call(SAME, LABEL_LONG_REPLY, 1, 0, &fast, 0);
	tap_ok(!err && fast == 1, "a six-word reply: the call fast, the reply general (%lu; err %ld)", fast, err);

	uint64_t give = CAP_ROOT_VSPACE;
	ipc_set_send_caps(&give, 1);
	struct msg m = { .info = MSG_INFO(LABEL_TAKE_CAP, 1, 1), .w = { 5 } };
	uint64_t f0 = counter(KC_IPC_FASTPATH);
	err = ipc_call(sends[SAME], &m);
	fast = counter(KC_IPC_FASTPATH) - f0;
	ipc_set_send_caps(0, 0);
	tap_ok(!err && m.w[0] == 6 && fast == 1, "a capability in the call: general; the reply fast (%lu; err %ld)",
	       fast, err);

	err = call(SAME, LABEL_ECHO, 2, MSG_FLAG_SLOWPATH, &fast, 0);
	tap_ok(!err && fast == 1, "MSG_FLAG_SLOWPATH on the call: general; the reply fast (%lu; err %ld)", fast, err);
	err = call(SAME, LABEL_SLOW_REPLY, 2, 0, &fast, 0);
	tap_ok(!err && fast == 1, "MSG_FLAG_SLOWPATH on the reply: the call fast, the reply general (%lu; err %ld)",
	       fast, err);
	err = call(SAME, LABEL_SLOW_REPLY, 2, MSG_FLAG_SLOWPATH, &fast, &msgs);
	tap_ok(!err && fast == 0 && msgs == 2, "on both: neither fast (%lu of %lu; err %ld)", fast, msgs, err);

	err = call(LOW, LABEL_ECHO, 2, 0, &fast, 0);
	tap_ok(!err && fast == 1, "a server below our priority: the call general (running it first would not be the "
	       "scheduler's order), its reply to us fast (%lu; err %ld)", fast, err);
	err = call(HIGH, LABEL_ECHO, 2, 0, &fast, 0);
	tap_ok(!err && fast == 1, "a server above our priority: the call fast, its reply to us general (%lu; err %ld)",
	       fast, err);

	err = call(SAME, LABEL_NOTIFY_FIRST, 2, 0, &fast, 0);
	tap_ok(!err && fast == 1, "notification bits pending on the port at the reply: the reply general (%lu; err %ld)",
	       fast, err);

	/* a server that has not reached its receive yet: we block on the
	 * port; it finds us there (general), then replies (fast) */
	err = start_server(LATE, 100);
	err = err ? err : call(LATE, LABEL_ECHO, 2, 0, &fast, &msgs);
	tap_ok(!err && fast == 1 && msgs == 2, "a receiver not yet waiting: the call general, the reply fast (%lu of "
	       "%lu; err %ld)", fast, msgs, err);

	/* another caller queues while the server works on our call: its reply
	 * and its next receive go the general way (a sender waits) */
	uint64_t t2 = 0;
	err = thread_create(second_caller, SAME, stacks[NSERVERS], STACK_SIZE, 100, &t2);
	second_tcb = t2;
	f0 = counter(KC_IPC_FASTPATH);
	uint64_t fast_first = 0;
	err = err ? err : call(SAME, LABEL_YIELD_FIRST, 2, 0, &fast_first, 0);
	for (int k = 0; k < 100 && second_err == -1; k++)
		sys_yield();
	fast = counter(KC_IPC_FASTPATH) - f0;
	tap_ok(!err && second_err == 0 && fast == 2,
	       "a second caller queued at the reply: the reply general, then the second call (taken from the queue) "
	       "general and its reply fast: 2 of 4 fast (%lu; errs %ld, %ld)", fast, err, second_err);

	err = call(SAME, LABEL_ECHO, 2, 0, &fast, 0);
	tap_ok(!err && fast == 2, "and a plain call is fast again (%lu; err %ld)", fast, err);
	tap_done();
}
