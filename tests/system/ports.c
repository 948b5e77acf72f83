/* Ports: non-blocking forms, notification bits (alone and waking a
 * receiver), no-senders, dead ports, and a reply right destroyed unused. */
#include "tap.h"
#include <libipc/ipc.h>

static uint8_t stack[4][8192] __attribute__((aligned(16)));
static volatile long result[4] = { -1, -1, -1, -1 };
static volatile uint64_t got_info, got_word, reply_slot;

static void notified(uint64_t port)
{
	struct msg m;
	result[0] = ipc_recv(port, 0, &m);
	got_info = m.info;
	got_word = m.w[0];
}

static void caller(uint64_t port)
{
	struct msg m = { .info = MSG_INFO(1, 0, 0) };
	result[1] = ipc_call(port, &m);
}

static void dropping_server(uint64_t port)
{
	struct msg m;
	result[2] = ipc_recv(port, reply_slot, &m);
	sys_cnode_delete(reply_slot);
}

static void sender(uint64_t port)
{
	struct msg m = { .info = MSG_INFO(3, 2, 0), .w = { 30, 31 } };
	result[3] = ipc_send(port, &m);
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(19);
	uint64_t port, send = slot_alloc(), t;
	struct msg m;
	object_alloc(OBJ_PORT, 0, &port);
	sys_cnode_mint(port, CAP_ROOT_CNODE, send, RIGHT_SEND, 0);

	m.info = 0;
	tap_eq(ipc_nb_recv(port, 0, &m), E_WOULD_BLOCK, "non-blocking receive on an empty port");
	m.info = MSG_INFO(1, 0, 0);
	tap_eq(ipc_nb_send(send, &m), E_WOULD_BLOCK, "non-blocking send with no receiver");

	/* a blocked sender is picked up by a receive */
	thread_create(sender, send, stack[3], sizeof(stack[3]), 120, &t);
	tap_eq(ipc_nb_recv(port, 0, &m), E_OK, "a receive takes a blocked sender's message");
	tap_ok(MSG_LABEL(m.info) == 3 && MSG_WORDS(m.info) == 2 && m.w[0] == 30 && m.w[1] == 31 &&
	       result[3] == E_OK, "with its label and words, and the sender is released");

	/* notifications accumulate without blocking the notifier */
	uint64_t notes[2] = { 0 };
	sys_kernel_counter(KC_IPC_NOTIFICATIONS, &notes[0]);
	tap_eq(sys_notify(send, 0x5), E_OK, "notify bits 0x5");
	tap_eq(sys_notify(send, 0x8), E_OK, "notify bits 0x8");
	long err = ipc_nb_recv(port, 0, &m);
	sys_kernel_counter(KC_IPC_NOTIFICATIONS, &notes[1]);
	tap_ok(err == E_OK && MSG_LABEL(m.info) == LABEL_NOTIFY && m.w[0] == 0xd && notes[1] - notes[0] == 1,
	       "one receive gets them all, as one notification (%lx; the kernel counted %lu)", m.w[0],
	       notes[1] - notes[0]);
	tap_eq(ipc_nb_recv(port, 0, &m), E_WOULD_BLOCK, "and they are cleared");

	/* a notification wakes a blocked receiver */
	thread_create(notified, port, stack[0], sizeof(stack[0]), 120, &t);
	sys_notify(send, 0x40);
	sys_yield();
	tap_ok(result[0] == E_OK && MSG_LABEL(got_info) == LABEL_NOTIFY && got_word == 0x40,
	       "a blocked receiver wakes with the bits");

	/* no-senders */
	uint64_t s1 = slot_alloc(), s2 = slot_alloc();
	sys_cnode_delete(send);
	tap_eq(sys_port_nosenders(port, 0x100), E_OK, "ask for no-senders (none left: posted at once)");
	tap_ok(ipc_nb_recv(port, 0, &m) == E_OK && m.w[0] == 0x100, "the no-senders bit arrives");
	sys_cnode_mint(port, CAP_ROOT_CNODE, s1, RIGHT_SEND, 1);
	sys_cnode_copy(s1, CAP_ROOT_CNODE, s2, RIGHTS_ALL);
	sys_cnode_delete(s1);
	tap_eq(ipc_nb_recv(port, 0, &m), E_WOULD_BLOCK, "deleting one of two send rights: nothing");
	sys_cnode_delete(s2);
	tap_ok(ipc_nb_recv(port, 0, &m) == E_OK && MSG_LABEL(m.info) == LABEL_NOTIFY && m.w[0] == 0x100,
	       "deleting the last one posts no-senders");

	/* a reply right destroyed unused */
	uint64_t send2 = slot_alloc();
	sys_cnode_mint(port, CAP_ROOT_CNODE, send2, RIGHT_SEND, 0);
	reply_slot = slot_alloc();
	thread_create(dropping_server, port, stack[2], sizeof(stack[2]), 130, &t);
	thread_create(caller, send2, stack[1], sizeof(stack[1]), 120, &t);
	sys_yield();
	tap_ok(result[2] == E_OK && result[1] == E_NO_REPLY,
	       "the caller wakes with E_NO_REPLY when the reply right is deleted (%ld)", result[1]);

	/* dead port: a blocked caller wakes, later sends fail at once */
	result[1] = -1;
	thread_create(caller, send2, stack[1], sizeof(stack[1]), 120, &t);
	struct thread_info info = { .state = 99 };
	sys_tcb_info(t, &info);
	tap_eq(info.state, THREAD_BLOCKED_CALL, "a caller blocks on a port nobody receives on");
	tap_eq(sys_cnode_delete(port), E_OK, "delete the receive right");
	sys_yield();
	tap_eq(result[1], E_DEAD_PORT, "the blocked caller wakes with E_DEAD_PORT");
	m.info = MSG_INFO(1, 0, 0);
	tap_eq(ipc_send(send2, &m), E_DEAD_PORT, "a later send fails at once");
	tap_eq(sys_notify(send2, 1), E_DEAD_PORT, "notifying a dead port is harmless and says so (E_DEAD_PORT, as a send)");
	tap_done();
}
