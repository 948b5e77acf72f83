/* init's side of message tracing (init.idl's trace and trace_read,
 * docs/trace.md).  init alone holds the kernel's TRACE_CONTROL capability
 * (CAP_TRACE_CONTROL); it marks the main thread of the tasks it is asked
 * to trace and hands the kernel's records out with the thread ids turned
 * into task indexes, which the caller names with task_info. */
#include <libipc/libipc.h>
#include <libipc/sys.h>
#include "tasks.h"

static uint64_t thread_id[MANIFEST_MAX_SERVERS];  /* each task's main thread, 0: unknown */
static unsigned char traced[MANIFEST_MAX_SERVERS];
#define TRACE_WHO_INIT 0x7fffffffu  /* init.idl's trace_read: init itself */
static uint32_t lost_unread;

/* Mark (or unmark) task t's main thread; learn its thread id either way. */
static long mark(struct task *t, unsigned on)
{
	unsigned i = (unsigned)(t - tasks);
	long err = sys_trace_thread(CAP_TRACE_CONTROL, t->proc.tcb, on, &thread_id[i]);
	if (!err)
		traced[i] = (unsigned char)on;
	return err;
}

/* A task (re)started: its new thread is traced if the task was, and
 * init learns its id so that records can name it. */
void trace_task_started(struct task *t)
{
	mark(t, traced[t - tasks]);
}

long trace_task(const char *name, uint32_t on)
{
	if (on > 1)
		return E_BAD_ARG;
	if (!name[0] && !on) {
		for (unsigned i = 0; i < task_count; i++)
			if (tasks[i].running && traced[i])
				mark(&tasks[i], 0);
		memset(traced, 0, sizeof(traced));
		return E_OK;
	}
	struct task *t = task_by_name(name);
	if (!t)
		return E_BAD_ARG;
	if (!t->running) { /* remembered: trace_task_started marks its next thread */
		traced[t - tasks] = (unsigned char)on;
		return E_OK;
	}
	return mark(t, on);
}

static uint64_t init_id;  /* our own thread's */

static uint32_t who(uint32_t id)
{
	if (!id)
		return 0;
	if (id == init_id)
		return TRACE_WHO_INIT;
	for (unsigned i = 0; i < task_count; i++)
		if (thread_id[i] == id)
			return i + 1;
	return 0x80000000u | id;
}

long trace_read(uint32_t *count, uint32_t *lost, uint64_t *per_ms, uint64_t tsc[16],
                uint64_t label[16], uint32_t from[16], uint32_t to[16], uint8_t kind[16])
{
	if (!init_id) /* init is never traced: marking it off only tells its id */
		sys_trace_thread(CAP_TRACE_CONTROL, CAP_ROOT_TCB, 0, &init_id);
	unsigned n = 0;
	struct trace_entry e;
	while (n < 16 && sys_trace_read(CAP_TRACE_CONTROL, &e) == E_OK) {
		lost_unread += e.lost;
		tsc[n] = e.tsc;
		label[n] = e.label;
		from[n] = who(e.from);
		to[n] = who(e.to);
		kind[n] = (uint8_t)(e.kind | (e.fast ? 0x80 : 0));
		n++;
	}
	*count = n;
	*lost = lost_unread;
	lost_unread = 0;
	*per_ms = tsc_per_ms();
	return E_OK;
}
