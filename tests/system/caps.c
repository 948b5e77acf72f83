/* Capabilities: rights are enforced with distinct errors; revoke removes
 * exactly the derived capabilities and wakes threads blocked on the
 * objects it destroys; deleting the last capability frees the memory for
 * the same Untyped to retype again; move and copy. */
#include "tap.h"
#include <libipc/ipc.h>

static uint8_t stack[4][8192] __attribute__((aligned(16)));
static volatile long result[4] = { -1, -1, -1, -1 };
static volatile uint64_t server_port, server_reply;

static void receiver(uint64_t port)
{
	struct msg m;
	result[0] = ipc_recv(port, 0, &m);
}

static void caller(uint64_t port)
{
	struct msg m = { .info = MSG_INFO(1, 0, 0) };
	result[1] = ipc_call(port, &m);
}

/* receives one call into server_reply and stops without answering */
static void silent_server(uint64_t port)
{
	struct msg m;
	result[2] = ipc_recv(port, server_reply, &m);
}

static void one_caller(uint64_t port)
{
	struct msg m = { .info = MSG_INFO(9, 1, 0), .w = { 5 } };
	result[3] = ipc_call(port, &m);
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(27);
	uint64_t port, send, norights, frame, s1 = slot_alloc(), s2 = slot_alloc(), s3 = slot_alloc(),
	     t1 = slot_alloc(), moved = slot_alloc();
	struct msg m = { .info = MSG_INFO(1, 0, 0) };

	/* rights */
	object_alloc(OBJ_PORT, 0, &port);
	object_alloc(OBJ_FRAME, 0, &frame);
	send = slot_alloc();
	norights = slot_alloc();
	tap_eq(sys_cnode_mint(port, CAP_ROOT_CNODE, send, RIGHT_SEND, 7), E_OK, "mint a send right from a receive right");
	tap_eq(sys_cnode_copy(port, CAP_ROOT_CNODE, slot_alloc(), RIGHTS_ALL), E_NOT_COPYABLE,
	       "copying a receive right is refused");
	tap_eq(sys_cnode_mint(port, CAP_ROOT_CNODE, slot_alloc(), RIGHT_RECEIVE | RIGHT_SEND, 1), E_NOT_COPYABLE,
	       "minting a second receive right is refused");
	tap_eq(sys_cnode_mint(send, CAP_ROOT_CNODE, norights, RIGHT_READ, 0), E_OK, "mint a port cap without SEND");
	tap_eq(ipc_nb_send(norights, &m), E_NO_RIGHTS, "sending without SEND is refused");
	m.info = MSG_INFO(1, 0, 0);
	tap_eq(ipc_nb_send(slot_alloc(), &m), E_BAD_CAP, "sending on an empty slot is refused");
	m.info = MSG_INFO(1, 0, 0);
	tap_eq(ipc_nb_send(frame, &m), E_WRONG_TYPE, "sending on a frame is refused");
	tap_eq(sys_cnode_mint(frame, CAP_ROOT_CNODE, slot_alloc(), RIGHT_READ, 5), E_BAD_ARG,
	       "a badge on a non-port capability is refused");

	/* send-once: a reply right works once */
	server_port = port;
	server_reply = slot_alloc();
	uint64_t tcb;
	thread_create(silent_server, port, stack[2], sizeof(stack[2]), 120, &tcb);
	thread_create(one_caller, send, stack[3], sizeof(stack[3]), 110, &tcb);
	sys_yield();
	tap_ok(result[2] == E_OK && cspace_slot_type(server_reply) == OBJ_REPLY,
	       "a call leaves a reply right in the receiver's slot");
	m.info = MSG_INFO(0, 1, 0);
	m.w[0] = 99;
	tap_eq(ipc_reply(server_reply, &m), E_OK, "the reply right works once");
	tap_eq(result[3], E_OK, "the caller got its reply");
	m.info = MSG_INFO(0, 1, 0);
	tap_eq(ipc_reply(server_reply, &m), E_REPLY_USED, "using it a second time is refused");
	tap_eq(sys_cnode_copy(server_reply, CAP_ROOT_CNODE, slot_alloc(), RIGHTS_ALL), E_NOT_COPYABLE,
	       "a reply right cannot be copied");

	/* revoke removes exactly what was derived */
	sys_cnode_mint(port, CAP_ROOT_CNODE, s1, RIGHT_SEND, 1);
	sys_cnode_copy(s1, CAP_ROOT_CNODE, s2, RIGHTS_ALL);
	sys_cnode_copy(s2, CAP_ROOT_CNODE, s3, RIGHTS_ALL);
	sys_cnode_mint(port, CAP_ROOT_CNODE, t1, RIGHT_SEND, 2);
	tap_eq(sys_cnode_revoke(s1), E_OK, "revoke a send right with two generations below it");
	tap_ok(cspace_slot_type(s1) == OBJ_PORT && cspace_slot_type(s2) == OBJ_NONE &&
	       cspace_slot_type(s3) == OBJ_NONE && cspace_slot_type(t1) == OBJ_PORT &&
	       cspace_slot_type(send) == OBJ_PORT && cspace_slot_type(port) == OBJ_PORT,
	       "its copies are gone; it, its siblings and its parent remain");

	/* move */
	tap_eq(sys_cnode_move(port, CAP_ROOT_CNODE, moved), E_OK, "move the receive right");
	tap_ok(cspace_slot_type(port) == OBJ_NONE && cspace_slot_type(moved) == OBJ_PORT,
	       "the old slot is empty, the new one holds it");
	tap_eq(sys_cnode_revoke(moved), E_OK, "revoke it where it moved to");
	tap_ok(cspace_slot_type(send) == OBJ_NONE && cspace_slot_type(s1) == OBJ_NONE &&
	       cspace_slot_type(t1) == OBJ_NONE, "every send right minted from it is gone");

	/* revoking an untyped destroys its objects and wakes their waiters */
	uint64_t ut, q1 = slot_alloc(), q2 = slot_alloc(), q2send = slot_alloc(), rt, ct;
	object_alloc(OBJ_UNTYPED, 14, &ut);
	sys_untyped_retype(ut, OBJ_PORT, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, q1);
	sys_untyped_retype(ut, OBJ_PORT, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, q2);
	sys_cnode_mint(q2, CAP_ROOT_CNODE, q2send, RIGHT_SEND, 0);
	thread_create(receiver, q1, stack[0], sizeof(stack[0]), 120, &rt);
	thread_create(caller, q2send, stack[1], sizeof(stack[1]), 120, &ct);
	struct thread_info ri, ci;
	sys_tcb_info(rt, &ri);
	sys_tcb_info(ct, &ci);
	tap_ok(ri.state == THREAD_BLOCKED_RECV && ci.state == THREAD_BLOCKED_CALL,
	       "one thread blocked receiving, one calling (%u, %u)", ri.state, ci.state);
	tap_eq(sys_cnode_revoke(ut), E_OK, "revoke the untyped both ports came from");
	sys_yield();
	tap_ok(result[0] == E_DEAD_PORT && result[1] == E_DEAD_PORT,
	       "both woke with a dead-port error (%ld, %ld)", result[0], result[1]);
	tap_ok(cspace_slot_type(q1) == OBJ_NONE && cspace_slot_type(q2send) == OBJ_NONE,
	       "the ports' capabilities are gone");
	tap_eq(sys_untyped_retype(ut, OBJ_UNTYPED, 14, 0, CAP_ROOT_CNODE, slot_alloc()), E_OK,
	       "the whole untyped can be retyped again");

	/* deleting the last capability frees an object's memory */
	uint64_t page, f1 = slot_alloc(), f2 = slot_alloc();
	object_alloc(OBJ_UNTYPED, 12, &page);
	sys_untyped_retype(page, OBJ_FRAME, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, f1);
	sys_cnode_copy(f1, CAP_ROOT_CNODE, f2, RIGHTS_ALL);
	tap_eq(sys_untyped_retype(page, OBJ_FRAME, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, slot_alloc()), E_RANGE,
	       "a one-page untyped holding a frame is full");
	sys_cnode_delete(f1);
	tap_eq(sys_untyped_retype(page, OBJ_FRAME, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, slot_alloc()), E_RANGE,
	       "deleting the original while a copy lives frees nothing");
	sys_cnode_delete(f2);
	tap_eq(sys_untyped_retype(page, OBJ_FRAME, 0, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, slot_alloc()), E_OK,
	       "deleting the last copy frees the page for a new frame");
	tap_done();
}
