/* The kernel's self-check (selfcheck.c) and what other parts of the
 * kernel show it.  The accessors are always built; the check itself only
 * into the test kernel (BERTH_SELFCHECK). */
#ifndef SELFCHECK_H
#define SELFCHECK_H

#include <stdint.h>

struct tcb;
struct port;

#ifdef BERTH_SELFCHECK
void selfcheck(void);
#else
static inline void selfcheck(void) {}
#endif
void selfcheck_configure(uint64_t every);

struct tcb *sched_queue_head(unsigned prio);
int sched_running_off_queue(void);   /* the running thread, runnable, is on no queue */
int sched_bitmap_disagrees(void);    /* a priority whose ready bit and queue disagree, or -1 */
const struct tcb *sched_fpu_owner(void);
const struct port *timeout_first(void);
const struct port *irq_handler_port(int line, int index);
uint64_t asid_space(uint64_t asid);   /* the space an address-space ID names, 0: free */
int tcb_scratch_empty(void);

#endif
