/* The server loop (see include/libipc/server.h). */
#include <libipc/libipc.h>
#include <libipc/server.h>

long server_init(struct server *s, uint64_t port, server_handler handle, void *ctx)
{
	s->port = port;
	s->handle = handle;
	s->ctx = ctx;
	s->after_reply = 0;
	s->reply_slot = slot_alloc();
	for (int i = 0; i < MSG_MAX_CAPS; i++)
		s->recv_slots[i] = slot_alloc();
	return s->reply_slot && s->recv_slots[MSG_MAX_CAPS - 1] ? E_OK : E_SLOT_FULL;
}

uint64_t server_defer(struct server *s)
{
	uint64_t slot = slot_alloc();
	if (slot && sys_cnode_move(s->reply_slot, CAP_ROOT_CNODE, slot)) {
		slot_free(slot);
		return 0;
	}
	return slot;
}

/* Received caps nobody took leave their slots free for the next message. */
static void clear_recv_slots(const struct server *s)
{
	for (int i = 0; i < MSG_MAX_CAPS; i++)
		if (cspace_slot_type(s->recv_slots[i]) != OBJ_NONE)
			sys_cnode_delete(s->recv_slots[i]);
}

static void run_after_reply(struct server *s)
{
	void (*hook)(struct server *) = s->after_reply;
	s->after_reply = 0;
	if (hook)
		hook(s);
}

long server_run(struct server *s)
{
	struct msg req, reply;
	ipc_set_recv_slots(s->recv_slots, MSG_MAX_CAPS);
	long err = ipc_recv(s->port, s->reply_slot, &req);
	for (;;) {
		if (err == E_STATE) {
			/* the thread was suspended and resumed (a debugger, the
			 * fault injector): the receive was cancelled, nothing lost */
			err = ipc_recv(s->port, s->reply_slot, &req);
			continue;
		}
		if (err)
			return err;
		if (heartbeat_filter(&req)) {
			err = ipc_recv(s->port, s->reply_slot, &req);
			continue;
		}
		reply.info = 0;
		int r = s->handle(s, &req, &reply);
		if (r == SERVER_UNKNOWN) {
			reply.info = MSG_INFO(MSG_LABEL(req.info), 1, 0);
			reply.w[0] = (uint64_t)E_BAD_SYSCALL;
		}
		clear_recv_slots(s);
		ipc_set_recv_slots(s->recv_slots, MSG_MAX_CAPS);
		if (r == SERVER_NO_REPLY || cspace_slot_type(s->reply_slot) != OBJ_REPLY) {
			/* nothing to answer: a send, a notification, a deferred call */
			if (cspace_slot_type(s->reply_slot) != OBJ_NONE)
				sys_cnode_delete(s->reply_slot);
			ipc_set_send_caps(0, 0);
			run_after_reply(s);
			err = ipc_recv(s->port, s->reply_slot, &req);
			continue;
		}
		if (s->after_reply) {
			/* the reply alone, then the handler's follow-up, then the
			 * next receive (the caller gone or without a slot for a cap:
			 * the right is dropped, as below) */
			if (ipc_reply(s->reply_slot, &reply) && cspace_slot_type(s->reply_slot) != OBJ_NONE)
				sys_cnode_delete(s->reply_slot);
			ipc_set_send_caps(0, 0);
			run_after_reply(s);
			err = ipc_recv(s->port, s->reply_slot, &req);
			continue;
		}
		req = reply; /* one message goes out as the reply, the next comes in */
		err = ipc_reply_recv(s->reply_slot, s->port, s->reply_slot, &req);
		ipc_set_send_caps(0, 0);
		if (err && err != E_DEAD_PORT) {
			/* the reply could not be delivered (the caller had no slot
			 * for a cap): drop the right, so the caller learns that no
			 * answer comes, and go on */
			sys_cnode_delete(s->reply_slot);
			err = ipc_recv(s->port, s->reply_slot, &req);
		}
	}
}
