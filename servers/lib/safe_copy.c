/* safe_copy: see safe_copy.h. */
#include <string.h>
#include <libipc/libipc.h>
#include <libipc/ipc.h>
#include <libipc/lock.h>
#include "safe_copy.h"

#define COPY_DONE 1
#define FAULT_BADGE 1

static uint8_t copier_stack[8192] __attribute__((aligned(16)));
static struct {
	uint64_t port, send;         /* the copier waits on port */
	uint64_t done, done_send;    /* the caller waits on done: the answer, or the fault */
	uint64_t fault_reply, tcb;
	void *dst;
	const void *src;
	size_t n;
} copier;
/* One copy at a time: the sockets library copies from whichever thread
 * calls it, beside a server's own loop. */
static struct ipc_lock copy_lock;
static int started;   /* the copier runs: safe_copy may use it */
static struct ipc_lock starting;

static void copier_loop(uint64_t arg)
{
	(void)arg;
	for (;;) {
		struct msg m;
		ipc_recv(copier.port, 0, &m);
		memcpy(copier.dst, copier.src, copier.n);
		m.info = MSG_INFO(COPY_DONE, 0, 0);
		ipc_send(copier.done_send, &m);
	}
}

static long start(void)
{
	if (copier.tcb)
		return E_OK;
	uint64_t fault_send = slot_alloc();
	copier.send = slot_alloc();
	copier.done_send = slot_alloc();
	copier.fault_reply = slot_alloc();
	if (!fault_send || !copier.send || !copier.done_send || !copier.fault_reply)
		return E_SLOT_FULL;
	long err = object_alloc(OBJ_PORT, 0, &copier.port);
	err = err ? err : object_alloc(OBJ_PORT, 0, &copier.done);
	err = err ? err : sys_cnode_mint(copier.port, CAP_ROOT_CNODE, copier.send, RIGHT_SEND, 0);
	err = err ? err : sys_cnode_mint(copier.done, CAP_ROOT_CNODE, copier.done_send, RIGHT_SEND, 0);
	err = err ? err : sys_cnode_mint(copier.done, CAP_ROOT_CNODE, fault_send, RIGHT_SEND, FAULT_BADGE);
	err = err ? err : thread_create(copier_loop, 0, copier_stack, sizeof(copier_stack), 1, &copier.tcb);
	/* our own priority, the highest the kernel lets us give */
	for (unsigned p = 255; !err && p > 1 && sys_tcb_set_priority(copier.tcb, p, p); p--)
		;
	err = err ? err : sys_tcb_configure(copier.tcb, 0, 0, fault_send);
	if (!err)
		__atomic_store_n(&started, 1, __ATOMIC_RELEASE);
	return err;
}

long safe_copy_start(void)
{
	ipc_lock(&starting);
	long err = start();
	ipc_unlock(&starting);
	return err;
}

static int copy(void *dst, const void *src, size_t n)
{
	struct msg m;
	copier.dst = dst;
	copier.src = src;
	copier.n = n;
	m.info = MSG_INFO(COPY_DONE, 0, 0);
	if (ipc_send(copier.send, &m) || ipc_recv(copier.done, copier.fault_reply, &m))
		return -1;
	if (MSG_LABEL(m.info) != LABEL_FAULT)
		return 0;
	/* start it again at its loop, on a fresh stack */
	uint64_t top = ((uint64_t)copier_stack + sizeof(copier_stack)) & ~15UL;
	sys_tcb_set_regs(copier.tcb, (uint64_t)copier_loop, top - 8, 0);
	m.info = MSG_INFO(0, 0, 0);
	ipc_reply(copier.fault_reply, &m);
	return -1;
}

int safe_copy(void *dst, const void *src, size_t n)
{
	if (!__atomic_load_n(&started, __ATOMIC_ACQUIRE))
		return -1;
	ipc_lock(&copy_lock);
	int r = copy(dst, src, n);
	ipc_unlock(&copy_lock);
	return r;
}
