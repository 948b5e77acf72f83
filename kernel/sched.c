/* Fixed-priority round-robin scheduling.  Runnable threads sit in one
 * queue per priority; the head of the highest non-empty queue runs.  The
 * timer tick rotates the running thread to the tail of its queue when its
 * time slice is used up.
 *
 * The running thread may be off its queue: the fast switches (the IPC
 * handoff, a VM exit's handoff and its resume) leave the thread they
 * switch to off the queues, as seL4's "Benno" scheduling does, and save
 * a dequeue and an enqueue each way.  Such a thread stands where
 * kernel_exit would find it, in front of its queue's head, and goes back
 * in (requeue_running) as soon as anything needs the queue to show its
 * place: a thread put in front at its priority, one queued behind it, a
 * higher one to run. */
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

static inline __attribute__((always_inline)) void enqueue_front(struct tcb *t)
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

static inline __attribute__((always_inline)) int queued(const struct tcb *t)
{
	return t->rq_prev || queue_head[t->prio] == t;
}

/* Set by the fast switches, cleared when the running thread is one
 * kernel_exit took from a queue or goes back to its own: while it is
 * clear, the running thread is on its queue or not runnable, and the
 * general paths pay one test for all this. */
static uint8_t maybe_off_queue;

static inline __attribute__((always_inline)) int running_off_queue(void)
{
	return maybe_off_queue && current && current->state == THREAD_RUNNABLE && !queued(current);
}

int sched_running_off_queue(void)
{
	return running_off_queue();
}

/* The running thread, if it is off its queue, back at the queue's head,
 * where it stands. */
static inline __attribute__((always_inline)) void requeue_running(void)
{
	if (running_off_queue()) {
		enqueue_front(current);
		maybe_off_queue = 0;
	}
}

void sched_enqueue_front(struct tcb *t)
{
	/* t goes in front of the running thread when they share a level;
	 * above it, kernel_exit puts the running thread back; below, its
	 * place does not matter.  (t may be the running thread itself, woken
	 * in the system call it blocked in: then it is not queued twice.) */
	if (maybe_off_queue && current != t && current && current->prio == t->prio)
		requeue_running();
	enqueue_front(t);
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

/* sched_dequeue, knowing t heads its queue (the running thread does, when
 * it is on it) */
static inline __attribute__((always_inline)) void dequeue_head(struct tcb *t)
{
	unsigned p = t->prio;
	struct tcb *next = t->rq_next;
	queue_head[p] = next;
	if (next) {
		next->rq_prev = 0;
		t->rq_next = 0;
	} else {
		queue_tail[p] = 0;
		prio_clear(&ready, p);
	}
}

/* t, runnable, waits right behind `ahead`, runnable too, when they share
 * a priority (SYS_REPLY_RECV, ipc.c); else nothing changes. */
void sched_requeue_behind(struct tcb *t, struct tcb *ahead)
{
	unsigned p = t->prio;
	if (t == ahead || p != ahead->prio)
		return;
	requeue_running();   /* ahead may be it */
	sched_dequeue(t);
	t->rq_prev = ahead;
	t->rq_next = ahead->rq_next;
	if (ahead->rq_next)
		ahead->rq_next->rq_prev = t;
	else
		queue_tail[p] = t;
	ahead->rq_next = t;
}

struct tcb *sched_queue_head(unsigned prio)
{
	return prio < 256 ? queue_head[prio] : 0;
}

/* The first priority whose bit in the ready bitmap disagrees with its
 * queue (set for an empty one, which kernel_exit would pick and find no
 * thread in: it would idle while threads below wait; clear for a full
 * one, whose threads would never run), or -1. */
int sched_bitmap_disagrees(void)
{
	for (unsigned p = 0; p < 256; p++) {
		uint64_t set = (ready.word[p >> 6] >> (p & 63)) & 1;
		if (set != (queue_head[p] != 0))
			return (int)p;
	}
	for (unsigned w = 0; w < 4; w++)
		if (((ready.top >> w) & 1) != (ready.word[w] != 0))
			return (int)(w * 64);
	return -1;
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
extern _Noreturn void context_restore_message(const struct context *to, const struct context *from);
extern void idle_enter(void) __attribute__((noreturn));

/* The address space is looked up from the thread's capability, not
 * cached: a thread whose VSpace was deleted runs on the kernel's tables,
 * so its next user access faults instead of walking freed memory (seL4's
 * rule).  A VCPU's guest runs on its own nested tables; the host's do not
 * matter.  It is looked up on a switch, and on any exit after a VSpace
 * capability moved or went (vspace_caps_changed), which is when the
 * running thread's could have. */
uint8_t vspace_caps_changed;

static inline __attribute__((always_inline)) void load_address_space(const struct tcb *t, int maybe_vcpu)
{
	if (maybe_vcpu && t->is_vcpu)
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

/* Make t, the head of the highest non-empty queue, the running thread:
 * its address space, its kernel entry stack, its FS base and FPU state;
 * its registers are the caller's to restore.  `other` says t is not the
 * thread that entered the kernel. */
static inline __attribute__((always_inline)) void switch_to(struct tcb *t, int other)
{
	if (other || vspace_caps_changed) {
		load_address_space(t, 1);
		vspace_caps_changed = 0;
	}
	if (other) {
		cpu_set_kernel_entry_stack((uintptr_t)(&t->ctx + 1));
		wrmsr(MSR_FS_BASE, t->fs_base);
		/* from now on, if it is still runnable, the thread switched
		 * from waits (a blocked one is stamped again when woken) */
		if (current)
			current->ready_since = timer_ticks;
		current = t;
	}
	if (fpu_owner != t) {
		fpu_switch(fpu_owner ? fpu_owner->fpu : 0, t->fpu);
		fpu_owner = t;
	}
	if (!t->timeslice)
		t->timeslice = TIMESLICE_TICKS;
}

/* Leave the kernel: run the highest-priority runnable thread, or idle. */
_Noreturn void kernel_exit(void)
{
	log_announce();
	selfcheck();
	int p = prio_highest(&ready);
	struct tcb *t = p >= 0 ? queue_head[p] : 0;
	/* t heads a queue: when it is the running thread, that is on it */
	if (t != current && running_off_queue()) {
		if (p > (int)current->prio)
			enqueue_front(current);
		else
			t = current;   /* in front of every queued thread it could share a level with */
	}
	if (t != current)
		maybe_off_queue = 0;   /* t is from a queue */
	if (!t) {
		current = 0;
		idle_since = rdtsc();
		idle_enter();
	}
	switch_to(t, t != current);
	if (t->is_vcpu)
		vcpu_enter(t);
	context_restore(&t->ctx);
}

/*
 * The fast paths' way out (ipc.c): `from`, the running thread, has just
 * blocked, and `to`, of at least its priority, has just been woken by
 * from's message.
 * The running thread stands at the head of the highest non-empty queue
 * (kernel_exit chose it so, and the queues change only inside the
 * kernel), on it or off it, so `to` takes its place, off the queues: it
 * is the thread kernel_exit would pick, and runs without the search.
 * `to` is no VCPU: a VCPU calls only with a kernel-made message (ipc_kmsg),
 * which no fast path answers this way, and never receives.  `to` blocked
 * in a system call (the fast paths check its context was saved by
 * SYSCALL).  The callers have made sure there is no log to announce
 * (kernel_exit's first step): the IPC fast path prints nothing and every
 * earlier exit announced what was printed; a VM exit checks.
 */
/* The rest of switch_to for a fast path's switch from the running thread
 * `from`, which owns the FPU, to `to` (its address space already
 * loaded, or none needed). */
static inline __attribute__((always_inline)) void switch_from_owner(struct tcb *from, struct tcb *to)
{
	vspace_caps_changed = 0;
	cpu_set_kernel_entry_stack((uintptr_t)(&to->ctx + 1));
	wrmsr(MSR_FS_BASE, to->fs_base);
	current = to;
	fpu_switch(from->fpu, to->fpu);
	fpu_owner = to;
}

static inline __attribute__((always_inline)) void handoff_switch(struct tcb *from, struct tcb *to)
{
#ifdef BERTH_SELFCHECK
	if (prio_highest(&ready) > (int)to->prio || queued(from) || queued(to) || fpu_owner != from ||
	    from != current || !to->timeslice || to->is_vcpu || to->state != THREAD_RUNNABLE)
		panic("selfcheck: the handoff from thread %lu to %lu is not kernel_exit's", from->id, to->id);
#endif
	/* switch_to, knowing more: `to` is not current and no VCPU; the FPU
	 * holds from's state (every exit makes the thread it runs the FPU's
	 * owner); `to` has run, so its time slice is set (sched_tick refills
	 * it when it reaches 0) */
	load_address_space(to, 0);
	switch_from_owner(from, to);
	maybe_off_queue = 1;
	selfcheck();   /* once `to` runs: off the queues, it is counted as the running thread */
}

/* The IPC fast path: `to`'s result registers, the message, come straight
 * from from's saved ones (context_restore_message, entry.S) rather than
 * through its own saved context; nothing else of its registers changed. */
_Noreturn void sched_handoff(struct tcb *from, struct tcb *to)
{
	to->state = THREAD_RUNNABLE;
	if (queued(from))
		dequeue_head(from);
	handoff_switch(from, to);
	context_restore_message(&to->ctx, &from->ctx);
}

/* A VM exit to its waiting VMM (ipc_exit_deliver): the exit's registers
 * are already in the VMM's saved context. */
_Noreturn void sched_handoff_exit(struct tcb *vcpu, struct tcb *vmm)
{
	vmm->state = THREAD_RUNNABLE;
	if (queued(vcpu))
		dequeue_head(vcpu);
	handoff_switch(vcpu, vmm);
	context_restore(&vmm->ctx);
}

/*
 * The VMM `from`, running, has answered its VCPU's exit and blocked:
 * run the VCPU if kernel_exit would (nothing above its priority is ready
 * and there is no log to announce), without the search and the general
 * switch, off the queues; else leave through kernel_exit, the VCPU made
 * runnable at the front of its queue.
 */
_Noreturn void sched_resume_vcpu(struct tcb *from, struct tcb *vcpu)
{
	if (queued(from))
		dequeue_head(from);
	if (log_unannounced || prio_highest(&ready) > (int)vcpu->prio) {
		thread_make_runnable(vcpu, 1);
		kernel_exit();
	}
	vcpu->state = THREAD_RUNNABLE;
	kernel_counters[KC_VMEXIT_RESUMES]++;
#ifdef BERTH_SELFCHECK
	if (prio_highest(&ready) > (int)vcpu->prio || queued(from) || queued(vcpu) || fpu_owner != from ||
	    from != current || !vcpu->is_vcpu)
		panic("selfcheck: the resume of VCPU %lu from thread %lu is not kernel_exit's", vcpu->id, from->id);
#endif
	/* switch_to, knowing that a VCPU loads no address space and that
	 * `from` owns the FPU */
	switch_from_owner(from, vcpu);
	maybe_off_queue = 1;
	if (!vcpu->timeslice)
		vcpu->timeslice = TIMESLICE_TICKS;
	selfcheck();   /* once the VCPU runs, as in handoff_switch */
	vcpu_enter(vcpu);
}
