/* Timer notifications: SYS_NOTIFY_AFTER posts bits on a port after a
 * number of timer ticks (TIMER_HZ per second).  One timer per port; the
 * armed ports form a list sorted by deadline, linked through the ports
 * themselves, so the kernel allocates nothing.  A VMM uses this for its
 * guests' timers. */
#include <berth/errors.h>
#include "object.h"
#include "layout.h"
#include "selfcheck.h"

static struct port *armed;   /* soonest first */
static uint64_t now_ticks;

static void disarm(struct port *p)
{
	if (!p->timer_armed)
		return;
	struct port **pp = &armed;
	while (*pp && *pp != p)
		pp = &(*pp)->timer_next;
	if (*pp)
		*pp = p->timer_next;
	p->timer_armed = 0;
	p->timer_next = 0;
}

int sys_notify_after(struct tcb *t, struct context *r)
{
	struct cap *c;
	int err = cap_get(t, r->rdi, OBJ_PORT, RIGHT_SEND, &c);
	if (err)
		return err;
	struct port *p = P2V(c->obj);
	disarm(p);
	if (!r->rdx || !r->rsi)
		return E_OK; /* cancelled */
	if (r->rdx > (1UL << 40))
		return E_BAD_ARG;
	p->timer_deadline = now_ticks + r->rdx;
	p->timer_bits = r->rsi;
	p->timer_armed = 1;
	struct port **pp = &armed;
	while (*pp && (*pp)->timer_deadline <= p->timer_deadline)
		pp = &(*pp)->timer_next;
	p->timer_next = *pp;
	*pp = p;
	return E_OK;
}

void timeouts_tick(uint64_t now)
{
	now_ticks = now;
	while (armed && armed->timer_deadline <= now) {
		struct port *p = armed;
		disarm(p);
		port_notify(p, p->timer_bits, 0);
	}
}

void timeout_port_destroyed(struct port *p)
{
	disarm(p);
}

const struct port *timeout_first(void)
{
	return armed;
}
