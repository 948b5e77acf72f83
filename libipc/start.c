/* Start-up and exit for programs that were started with a boot info. */
#include <libipc/libipc.h>
#include <libipc/ipc.h>

void program_exit(int code);

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
