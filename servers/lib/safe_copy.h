/* Copies from or into memory another task owns and shares with us (a
 * driver's buffer, a server's), which vanishes from our space when that
 * task dies -- perhaps in the middle of a copy.  A plain memcpy would then
 * fault and end us.  safe_copy has a thread of ours (the copier) do the
 * copy, and the copier's faults come back to the caller as messages: a
 * fault means "that memory is gone", the copier starts again, and the
 * caller gets -1 and treats it as the owner's death.
 *
 * One copier per program; threads that copy at once take turns.
 * safe_copy_start() before the first copy (again is harmless): it gives
 * the copier the highest priority it may (its own), since the caller
 * waits while it copies. */
#ifndef SAFE_COPY_H
#define SAFE_COPY_H

#include <stddef.h>

long safe_copy_start(void);
/* 0 copied, -1 the memory went away (or the copier could not be asked). */
int safe_copy(void *dst, const void *src, size_t n);

#endif
