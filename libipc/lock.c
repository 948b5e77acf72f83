/* The C library's locks (newlib's and picolibc's retargetable locking,
 * __retarget_lock_*), made of what Berth offers.
 *
 * A lock is a word naming the thread that holds it (its control block,
 * <libipc/tls.h>) and, for the recursive kind, a depth.  Taking a free lock
 * is one compare-and-swap and no system call.  A thread that finds it held
 * yields (SYS_YIELD: the holder may be waiting for the processor at the
 * same priority) and, after a few rounds, sleeps a timer tick on its own
 * wake port (SYS_NOTIFY_AFTER): a holder of lower priority gets to run and
 * release it.  No release ever has to wake anyone, so no wake-up can be
 * lost; the price is no fairness and up to a tick of delay for a waiter
 * that had to sleep.  The libraries hold these locks for short stretches
 * (a malloc, a stdio call), where waiting is rare. */
#include <libipc/libipc.h>
#include <libipc/ipc.h>
#include <libipc/tls.h>
#include <libipc/lock.h>
#include <stdlib.h>
#include <sys/lock.h>

struct __lock {
	void *_Atomic owner; /* the holder's thread_self(), 0: free */
	unsigned depth;      /* recursive locks: times the holder took it */
};

/* The libraries' static locks: they name these and expect the system to
 * define them (a missing one would bring the library's empty ones in). */
#ifdef __PICOLIBC__
struct __lock __lock___libc_recursive_mutex;
#else
struct __lock __lock___sinit_recursive_mutex, __lock___sfp_recursive_mutex, __lock___atexit_recursive_mutex,
	__lock___at_quick_exit_mutex, __lock___malloc_recursive_mutex, __lock___env_recursive_mutex,
	__lock___tz_mutex, __lock___dd_hash_mutex, __lock___arc4random_mutex;
#endif

/* for a lock the heap had no room for: correct, only coarser */
static struct __lock shared_fallback;

/* sleep after this many yields */
#define LOCK_YIELDS 32

static void wait_turn(unsigned *round)
{
	uint64_t port = thread_wake_port();
	struct msg m;
	if (++*round < LOCK_YIELDS || !port) {
		sys_yield();
		return;
	}
	sys_notify_after(port, 1, 1);
	ipc_recv(port, 0, &m);
}

static void take(void *_Atomic *owner, void *me)
{
	unsigned round = 0;
	for (;;) {
		void *none = 0;
		if (__atomic_compare_exchange_n(owner, &none, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
		wait_turn(&round);
	}
}

void ipc_lock(struct ipc_lock *l)
{
	take(&l->owner, thread_self());
}

void ipc_unlock(struct ipc_lock *l)
{
	__atomic_store_n(&l->owner, 0, __ATOMIC_RELEASE);
}

static struct __lock *new_lock(void)
{
	struct __lock *l = calloc(1, sizeof(*l));
	return l ? l : &shared_fallback;
}

void __retarget_lock_init(_LOCK_T *lock)
{
	*lock = new_lock();
}

void __retarget_lock_init_recursive(_LOCK_T *lock)
{
	*lock = new_lock();
}

void __retarget_lock_close(_LOCK_T lock)
{
	if (lock != &shared_fallback)
		free(lock);
}

void __retarget_lock_close_recursive(_LOCK_T lock)
{
	__retarget_lock_close(lock);
}

void __retarget_lock_acquire(_LOCK_T lock)
{
	take(&lock->owner, thread_self());
}

void __retarget_lock_acquire_recursive(_LOCK_T lock)
{
	void *me = thread_self();
	if (__atomic_load_n(&lock->owner, __ATOMIC_RELAXED) != me)
		take(&lock->owner, me);
	lock->depth++;
}

int __retarget_lock_try_acquire(_LOCK_T lock)
{
	void *none = 0;
	return __atomic_compare_exchange_n(&lock->owner, &none, thread_self(), 0, __ATOMIC_ACQUIRE,
	                                   __ATOMIC_RELAXED);
}

int __retarget_lock_try_acquire_recursive(_LOCK_T lock)
{
	void *me = thread_self();
	if (__atomic_load_n(&lock->owner, __ATOMIC_RELAXED) != me && !__retarget_lock_try_acquire(lock))
		return 0;
	lock->depth++;
	return 1;
}

void __retarget_lock_release(_LOCK_T lock)
{
	__atomic_store_n(&lock->owner, 0, __ATOMIC_RELEASE);
}

void __retarget_lock_release_recursive(_LOCK_T lock)
{
	if (--lock->depth == 0)
		__atomic_store_n(&lock->owner, 0, __ATOMIC_RELEASE);
}
