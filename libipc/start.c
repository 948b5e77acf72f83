/* Start-up, exit and the heartbeat for programs that were started with a
 * boot info: libipc's own protocol with the parent (interface 0). */
#include <libipc/libipc.h>
#include <libipc/ipc.h>

void program_exit(int code);

int heartbeat_filter(struct msg *m)
{
	if (MSG_LABEL(m->info) != LABEL_NOTIFY || !(m->w[0] & NOTIFY_HEARTBEAT))
		return 0;
	const struct bootinfo *bi = libipc_bootinfo();
	if (bi && bi->exit_slot) {
		/* the parent (init) receives at once and answers nobody: a send,
		 * not a call, and a short wait at most */
		struct msg pong = { .info = MSG_INFO(LABEL_HEARTBEAT, 0, 0) };
		ipc_send(bi->exit_slot, &pong);
	}
	m->w[0] &= ~NOTIFY_HEARTBEAT;
	return m->w[0] == 0;
}

/* Tell the parent, if it asked to be told, then stop for good. */
void program_exit(int code)
{
	const struct bootinfo *bi = libipc_bootinfo();
	if (bi && bi->exit_slot) {
		struct msg m = { .info = MSG_INFO(LABEL_PROGRAM_EXIT, 1, 0), .w = { (uint64_t)(int64_t)code } };
		ipc_send(bi->exit_slot, &m);
	} else {
		debug_printf("program exited with status %d\n", code);
	}
	for (;;)
		sys_tcb_suspend(CAP_ROOT_TCB);
}
