/*
 * The heartbeat: a task whose manifest entry says `heartbeat MS MISSES`
 * is pinged every MS ms, as MINIX's reincarnation server pings its
 * drivers.  The ping is a notification bit (NOTIFY_HEARTBEAT) posted on
 * the port of the first name the task published, so init never waits on
 * the task; libipc's receive loops answer it with a send to init
 * (LABEL_HEARTBEAT).  A task that leaves MISSES pings in a row
 * unanswered for MS ms each is hung: init destroys it and its restart
 * policy applies, as for a crash.  A task that has published nothing yet
 * is not pinged (it is still starting, or serves nobody); nor is one
 * counted as missing pings while a service its entry needs is down.
 *
 * init's own timer is SYS_NOTIFY_AFTER on its port; and init runs above
 * every task while any heartbeat is on, or a task looping at a higher
 * priority than init's would never be found out.
 */
#include <libipc/libipc.h>
#include <berth/ipc.h>
#include "tasks.h"

#define TICK_BIT 1UL                 /* init's timer, on its own port */
#define HEARTBEAT_INIT_PRIORITY 255  /* above every task (the manifest allows 254) */

static uint64_t timer_send;  /* our send right to our port, for the timer */
static unsigned tick_ticks;  /* the timer's period in kernel ticks (10 ms) */

void heartbeat_init(void)
{
	unsigned shortest = 0;
	for (unsigned i = 0; i < task_count; i++) {
		unsigned ms = tasks[i].m->heartbeat_ms;
		if (ms && (!shortest || ms < shortest))
			shortest = ms;
	}
	if (!shortest)
		return;
	/* four looks per period: a missed deadline is seen within a quarter
	 * period of passing */
	tick_ticks = shortest / 40 ? shortest / 40 : 1;
	timer_send = slot_alloc();
	long err = timer_send ? sys_cnode_mint(init_port, CAP_ROOT_CNODE, timer_send, RIGHT_SEND, 0) : E_SLOT_FULL;
	err = err ? err : sys_tcb_set_priority(CAP_ROOT_TCB, HEARTBEAT_INIT_PRIORITY, HEARTBEAT_INIT_PRIORITY);
	err = err ? err : sys_notify_after(timer_send, TICK_BIT, tick_ticks);
	if (err)
		debug_printf("init: no heartbeat timer (error %ld): hung tasks will not be found\n", err);
	else
		debug_printf("init: heartbeats on, looked at every %u ms\n", tick_ticks * 10);
}

void heartbeat_answered(struct task *t)
{
	t->ping_sent = 0;
	t->pings_missed = 0;
}

/* A task ends, however (hung, faulted, exited, killed, stopped): it may
 * have been what kept those below it from answering (a loop at its
 * priority), and a task found starved is not counted hung while it
 * lasts; once it is gone they count afresh, or the misses they gathered
 * while starved would make them hung at the next look (a looping fs
 * server killed by a client left the network server below it "hung"). */
void heartbeat_task_ended(const struct task *t)
{
	for (unsigned j = 0; j < task_count; j++)
		if (tasks[j].m->priority < t->m->priority)
			heartbeat_answered(&tasks[j]);
}

/* Count a ping unanswered past its deadline. */
static void missed(struct task *t, uint64_t now)
{
	if (t->ping_sent && now - t->ping_sent >= tsc_per_ms() * t->m->heartbeat_ms) {
		t->ping_sent = 0;
		t->pings_missed++;
	}
}

static void ping(struct task *t, uint64_t now)
{
	if (t->ping_sent || now < t->ping_next)
		return;
	uint64_t port = names_first_of(t->id);
	if (!port)
		return;
	/* a dead port (the task dropped its receive right) counts as a
	 * ping that will not be answered */
	sys_notify(port, NOTIFY_HEARTBEAT);
	t->ping_sent = now;
	t->ping_next = now + tsc_per_ms() * t->m->heartbeat_ms;
}

/* A task that loops keeps every task of lower priority from running, and
 * so from answering.  So a task that missed too many pings while ready to
 * run is hung only if no task above it is ready to run as well (the
 * looping one, or one busy starting); when one is found hung, those below
 * it start counting afresh (they are found out on their own if they are
 * hung as well).  A task that missed them blocked or stopped is hung.
 * "Above" is where the threads run now, not the manifest's priority: a
 * task may lower its own (the fault campaign runs below the servers it
 * probes), and a task ready to run but below the looping one is starved
 * itself, not the reason the other does not answer. */
static int runnable(const struct task *t, unsigned *priority)
{
	struct thread_info info = { .state = THREAD_INACTIVE };
	if (!t->running || sys_tcb_info(t->proc.tcb, &info) || info.state != THREAD_RUNNABLE)
		return 0;
	*priority = info.priority;
	return 1;
}

static int starved(const struct task *t)
{
	unsigned mine, theirs;
	if (!runnable(t, &mine))
		return 0;
	for (unsigned i = 0; i < task_count; i++)
		if (&tasks[i] != t && runnable(&tasks[i], &theirs) && theirs > mine)
			return 1;
	return 0;
}

static int need_missing(const struct task *t)
{
	for (unsigned i = 0; i < t->m->ncaps; i++) {
		if (t->m->caps[i].kind != MCAP_NEEDS)
			continue;
		const struct task *owner = task_by_badge(names_owner(t->m->caps[i].name));
		if (owner && owner != t && owner->running && owner->pings_missed)
			return 1;
	}
	return 0;
}

void heartbeat_tick(void)
{
	uint64_t now = tsc_now();
	for (unsigned i = 0; i < task_count; i++) {
		if (!tasks[i].running || !tasks[i].m->heartbeat_ms)
			continue;
		missed(&tasks[i], now);
		/* a service it needs is down, or its server is missing pings: it
		 * may be waiting for that, not hung itself (the fs server for its
		 * block driver, a VMM writing to a hung console) */
		if (!needs_met(&tasks[i]) || need_missing(&tasks[i]))
			heartbeat_answered(&tasks[i]);
	}
	for (unsigned i = 0; i < task_count; i++) {
		struct task *t = &tasks[i];
		if (!t->running || !t->m->heartbeat_ms || t->pings_missed < t->m->heartbeat_misses || starved(t))
			continue;
		char why[80];
		debug_snprintf(why, sizeof(why), "hung: %u heartbeats of %u ms unanswered", t->pings_missed,
		               t->m->heartbeat_ms);
		task_died(t, TASK_END_HUNG, (long)t->pings_missed, why); /* those below count afresh */
	}
	for (unsigned i = 0; i < task_count; i++)
		if (tasks[i].running && tasks[i].m->heartbeat_ms)
			ping(&tasks[i], now);
	sys_notify_after(timer_send, TICK_BIT, tick_ticks);
}

const char *fault_kind(unsigned long vector)
{
	static const char *const names[20] = {
		"divide error", "debug", "NMI", "breakpoint", "overflow", "bound range", "invalid opcode",
		"device not available", "double fault", "coprocessor overrun", "invalid TSS",
		"segment not present", "stack fault", "general protection", "page fault", "reserved",
		"x87 error", "alignment check", "machine check", "SIMD error",
	};
	if (vector < 20)
		return names[vector];
	return vector == FAULT_VECTOR_SYSCALL ? "system call trapped" : "unknown";
}
