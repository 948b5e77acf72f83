/* Fixed-priority round-robin scheduling.  Runnable threads, the running
 * one included, sit in one queue per priority; the head of the highest
 * non-empty queue runs.  The timer tick rotates the running thread to the
 * tail of its queue when its time slice is used up. */
#include <berth/syscall.h>
#include "object.h"
#include "prio_bitmap.h"
#include "cpu.h"
#include "vspace.h"
#include "selfcheck.h"
#include "klib.h"

#define TIMESLICE_TICKS 2

struct tcb *current;
static struct tcb *fpu_owner;
static struct tcb *queue_head[256], *queue_tail[256];
static struct prio_bitmap ready;

void sched_enqueue(struct tcb *t)
{
	unsigned p = t->prio;
	t->rq_next = 0;
	t->rq_prev = queue_tail[p];
	if (queue_tail[p])
		queue_tail[p]->rq_next = t;
	else
		queue_head[p] = t;
	queue_tail[p] = t;
	prio_set(&ready, p);
}

void sched_enqueue_front(struct tcb *t)
{
	unsigned p = t->prio;
	t->rq_prev = 0;
	t->rq_next = queue_head[p];
	if (queue_head[p])
		queue_head[p]->rq_prev = t;
	else
		queue_tail[p] = t;
	queue_head[p] = t;
	prio_set(&ready, p);
}

/* t is going away: never switch from it or save its FPU state again. */
void sched_forget(const struct tcb *t)
{
	if (fpu_owner == t)
		fpu_owner = 0;
	if (current == t)
		current = 0;
}

void sched_dequeue(struct tcb *t)
{
	unsigned p = t->prio;
	if (t->rq_prev)
		t->rq_prev->rq_next = t->rq_next;
	else if (queue_head[p] == t)
		queue_head[p] = t->rq_next;
	else
		return; /* not queued */
	if (t->rq_next)
		t->rq_next->rq_prev = t->rq_prev;
	else
		queue_tail[p] = t->rq_prev;
	t->rq_next = t->rq_prev = 0;
	if (!queue_head[p])
		prio_clear(&ready, p);
}

struct tcb *sched_queue_head(unsigned prio)
{
	return prio < 256 ? queue_head[prio] : 0;
}

const struct tcb *sched_fpu_owner(void)
{
	return fpu_owner;
}

void sched_yield(struct tcb *t)
{
	sched_dequeue(t);
	t->timeslice = TIMESLICE_TICKS;
	sched_enqueue(t);
}

void sched_tick(void)
{
	if (current && current->state == THREAD_RUNNABLE && --current->timeslice == 0)
		sched_yield(current);
}

extern _Noreturn void context_restore(struct context *c);
extern void idle_enter(void) __attribute__((noreturn));

/* The address space is looked up from the thread's capability, not
 * cached: a thread whose VSpace was deleted runs on the kernel's tables,
 * so its next user access faults instead of walking freed memory (seL4's
 * rule).  A VCPU's guest runs on its own nested tables; the host's do not
 * matter.  It is looked up on a switch, and on any exit after a VSpace
 * capability moved or went (vspace_caps_changed), which is when the
 * running thread's could have. */
uint8_t vspace_caps_changed;

static void load_address_space(const struct tcb *t)
{
	if (t->is_vcpu)
		return;
	uint64_t root = tcb_vspace_root(t);
	if (!root)
		root = kernel_pml4_paddr();
	if (read_cr3() != root) { /* the kernel never sets CR3's flag bits */
		write_cr3(root);
		kernel_counters[KC_SPACE_SWITCHES]++;
	}
}

/* When the idle loop last started waiting; 0 while it is not waiting. */
static uint64_t idle_since;

void idle_account(void)
{
	if (idle_since) {
		kernel_counters[KC_IDLE_TSC] += rdtsc() - idle_since;
		idle_since = 0;
	}
}

/* Leave the kernel: run the highest-priority runnable thread, or idle. */
_Noreturn void kernel_exit(void)
{
	log_announce();
	selfcheck();
	int p = prio_highest(&ready);
	struct tcb *t = p >= 0 ? queue_head[p] : 0;
	if (!t) {
		current = 0;
		idle_since = rdtsc();
		idle_enter();
	}
	if (t != current || vspace_caps_changed) {
		load_address_space(t);
		vspace_caps_changed = 0;
	}
	if (t != current) {
		cpu_set_kernel_entry_stack((uintptr_t)(&t->ctx + 1));
		wrmsr(MSR_FS_BASE, t->fs_base);
		current = t;
	}
	if (fpu_owner != t) {
		fpu_switch(fpu_owner ? fpu_owner->fpu : 0, t->fpu);
		fpu_owner = t;
	}
	if (!t->timeslice)
		t->timeslice = TIMESLICE_TICKS;
	if (t->is_vcpu)
		vcpu_enter(t);
	context_restore(&t->ctx);
}
