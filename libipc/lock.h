/* The C library's lock (lock.c), inside libipc: posix.c keeps one in each
 * open file.  Not part of <libipc/...>: programs take the library's locks
 * through its own interfaces (flockfile, malloc). */
#ifndef LIBIPC_LOCK_H
#define LIBIPC_LOCK_H

#include <sys/lock.h>

struct __lock {
	void *_Atomic owner; /* the holder's thread_self(), 0: free */
	unsigned depth;      /* recursive locks: times the holder took it */
};

#endif
