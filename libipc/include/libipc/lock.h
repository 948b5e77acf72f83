/* A lock for the threads of one program (lock.c; the C library's locks
 * are made the same way).  Taking a free lock is one compare-and-swap and
 * no system call; a thread that finds it held yields, and after a few
 * rounds sleeps a timer tick at a time on its own wake port, so that a
 * holder of lower priority gets to run (a thread that only yielded would
 * keep it from running for ever).  Not recursive.  All zeroes is a free
 * lock. */
#ifndef LIBIPC_LOCK_H
#define LIBIPC_LOCK_H

struct ipc_lock {
	void *_Atomic owner; /* the holder's thread_self(), 0: free */
};

void ipc_lock(struct ipc_lock *l);
void ipc_unlock(struct ipc_lock *l);

#endif
