/* Message tracing (SYS_TRACE, docs/trace.md): for threads whose TCB has
 * the traced flag, every message that crosses the kernel to or from them
 * lands in a fixed ring, the oldest overwritten first and counted lost.
 * Records hold thread ids, never pointers, so a traced thread may die at
 * any time.  The holder of the TRACE_CONTROL capability (the root task)
 * chooses the threads and reads the ring. */
#include <berth/errors.h>
#include <berth/ipc.h>
#include <berth/syscall.h>
#include "object.h"
#include "layout.h"
#include "cpu.h"

struct trace_rec {
	uint64_t tsc;
	uint32_t from, to;   /* thread ids; 0: the kernel */
	uint64_t word;       /* label | kind << 48 | flags << 56 */
};

static struct trace_rec ring[TRACE_RING];
static uint64_t written, taken, lost;

void trace_record(const struct tcb *from, const struct tcb *to, uint64_t label, unsigned kind)
{
	struct trace_rec *e = &ring[written % TRACE_RING];
	e->tsc = rdtsc();
	e->from = from ? (uint32_t)from->id : 0;
	e->to = to ? (uint32_t)to->id : 0;
	e->word = (label & 0xffffffffffffUL) | (uint64_t)kind << 48;
	if (++written - taken > TRACE_RING) {
		taken++;
		lost++;
	}
}

int sys_trace(struct tcb *t, struct context *r)
{
	struct cap *c, *tc;
	int err = cap_get(t, r->rdi, OBJ_TRACE_CONTROL, 0, &c);
	if (err)
		return err;
	switch (r->rsi) {
	case TRACE_THREAD: {
		if (r->r10 > 1)
			return E_BAD_ARG;
		if ((err = cap_get(t, r->rdx, OBJ_TCB, RIGHT_WRITE, &tc)))
			return err;
		struct tcb *target = P2V(tc->obj);
		target->traced = (uint8_t)r->r10;
		r->rdx = target->id;
		return E_OK;
	}
	case TRACE_READ: {
		if (taken == written)
			return E_WOULD_BLOCK;
		const struct trace_rec *e = &ring[taken++ % TRACE_RING];
		r->rdx = e->tsc;
		r->rsi = e->from | (uint64_t)e->to << 32;
		r->rdi = e->word;
		r->r8 = (lost & 0xffffffffUL) | (written - taken) << 32;
		lost = 0;
		return E_OK;
	}
	case TRACE_CLEAR:
		taken = written;
		lost = 0;
		return E_OK;
	}
	return E_BAD_ARG;
}
