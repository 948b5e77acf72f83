/* Start-up and exit for programs that were started with a boot info. */
#include <libipc/libipc.h>

void program_exit(int code);

void program_exit(int code)
{
	debug_printf("program exited with status %d\n", code);
	for (;;)
		sys_tcb_suspend(CAP_ROOT_TCB);
}
