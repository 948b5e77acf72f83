/* Threads in the caller's own address space and CNode, each with its own
 * IPC buffer and thread-local storage (tls.c). */
#include <libipc/libipc.h>
#include <libipc/tls.h>
#include <stdlib.h>

/* IPC buffers of threads after the first, a guard page apart */
#define THREAD_IPCBUF_BASE 0x00007fff00000000UL

struct thread_start {
	void (*fn)(uint64_t);
	uint64_t arg, tcb;
};

static void thread_entry(struct thread_start *s)
{
	s->fn(s->arg);
	for (;;)
		sys_tcb_suspend(s->tcb);
}

long thread_create(void (*fn)(uint64_t), uint64_t arg, void *stack, size_t stack_size,
                   unsigned prio, uint64_t *tcb_slot)
{
	/* The TLS area comes from the heap, not the given stack: a thread
	 * restarted on a fresh stack (servers/lib/safe_copy.c) keeps its errno
	 * and control block.  Threads never end, so it is never freed. */
	void *tls = malloc(thread_tls_size());
	if (!tls)
		return E_RANGE; /* no heap left for it */
	uint64_t tcb;
	long err = object_alloc(OBJ_TCB, 0, &tcb);
	if (err) {
		free(tls);
		return err;
	}
	/* the start record sits at the top of the new stack; below it the
	 * stack is 16-byte aligned minus a return address, as after a call */
	uintptr_t top = ((uintptr_t)stack + stack_size) & ~15UL;
	struct thread_start *s = (struct thread_start *)(top - 32);
	*s = (struct thread_start){ fn, arg, tcb };
	uintptr_t sp = (uintptr_t)s - 8;
	static uint64_t buffers;
	uint64_t ipcbuf = THREAD_IPCBUF_BASE + (buffers++) * 2 * PAGE_SIZE;
	/* a fault goes where the main thread's goes (init's right to hear
	 * of our end: the same port and badge), so the task ends whole and
	 * its supervisor's policy applies, rather than the thread stopping
	 * alone, perhaps holding a lock or owing a client an answer */
	const struct bootinfo *bi = libipc_bootinfo();
	uint64_t fault = bi ? bi->exit_slot : 0;
	if ((err = sys_tcb_configure(tcb, CAP_ROOT_CNODE, CAP_ROOT_VSPACE, fault)) ||
	    (err = ipc_buffer_setup(tcb, CAP_ROOT_VSPACE, ipcbuf)) ||
	    (err = thread_tls_start(tcb, tls, ipcbuf)) ||
	    (err = sys_tcb_set_priority(tcb, prio, prio)) ||
	    (err = sys_tcb_set_regs(tcb, (uint64_t)thread_entry, sp, (uint64_t)s)) ||
	    (err = sys_tcb_resume(tcb)))
		return err;
	if (tcb_slot)
		*tcb_slot = tcb;
	return E_OK;
}
