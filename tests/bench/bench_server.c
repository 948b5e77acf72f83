/* The far end of the IPC benchmark: answer every call at once with the
 * raw system calls, so the figure is the kernel's path and little else.
 * Its receive right is in slot 8. */
#include <libipc/libipc.h>
#include <libipc/ipc.h>

#define PORT 8
#define REPLY 40

int main(const struct bootinfo *bi)
{
	(void)bi;
	struct msg m = { 0 };
	long err = ipc_syscall(SYS_RECV, PORT, &m, REPLY, 0);
	while (!err) {
		m.w[0]++;
		if (m.w[1]) /* the client measures the general path: answer on it too */
			m.info |= MSG_FLAG_SLOWPATH;
		err = ipc_syscall(SYS_REPLY_RECV, REPLY, &m, REPLY, PORT);
	}
	return (int)err;
}
