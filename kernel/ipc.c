/*
 * Ports and IPC (docs/ipc.md).  A port has a queue of blocked senders and
 * one of blocked receivers; a message moves when a sender meets a
 * receiver.  SYS_CALL sends and then waits for the reply, which comes
 * through a send-once right (a Reply capability) that the kernel puts in
 * the receiver's chosen slot.  Faults travel the same road: the kernel
 * makes the faulting thread call its fault port.
 */
#include <berth/errors.h>
#include <berth/ipc.h>
#include <berth/syscall.h>
#include "object.h"
#include "layout.h"
#include "klib.h"

static struct ipc_buffer *ipcbuf(const struct tcb *t)
{
	return t->ipcbuf_cap.type == OBJ_FRAME ? P2V(t->ipcbuf_cap.obj) : 0;
}

static void queue_append(struct tcb **head, struct tcb **tail, struct tcb *t)
{
	t->ipc_next = 0;
	t->ipc_prev = *tail;
	if (*tail)
		(*tail)->ipc_next = t;
	else
		*head = t;
	*tail = t;
}

static void queue_remove(struct tcb **head, struct tcb **tail, struct tcb *t)
{
	if (t->ipc_prev)
		t->ipc_prev->ipc_next = t->ipc_next;
	else
		*head = t->ipc_next;
	if (t->ipc_next)
		t->ipc_next->ipc_prev = t->ipc_prev;
	else
		*tail = t->ipc_prev;
	t->ipc_next = t->ipc_prev = 0;
	t->ipc_port = 0;
}

/* The head of a port's receive queue leaves it (queue_remove, knowing
 * there is no one before it). */
static inline void queue_pop_receiver(struct port *p, struct tcb *head)
{
	struct tcb *next = head->ipc_next;
	p->recv_head = next;
	if (next)
		next->ipc_prev = 0;
	else
		p->recv_tail = 0;
	head->ipc_next = 0;
	head->ipc_port = 0;
}

static void dequeue(struct tcb *t)
{
	struct port *p = t->ipc_port;
	if (!p)
		return;
	if (t->state == THREAD_BLOCKED_RECV)
		queue_remove(&p->recv_head, &p->recv_tail, t);
	else
		queue_remove(&p->send_head, &p->send_tail, t);
}

static void wake(struct tcb *t, int err, int front)
{
	t->ctx.rax = (uint64_t)err;
	thread_make_runnable(t, front);
}

/* A thread whose fault (or VM exit) nobody will handle stops. */
static void fault_unhandled(struct tcb *t)
{
	if (t->ipc_kmsg == KMSG_VMEXIT) {
		t->ipc_kmsg = 0;
		vcpu_stopped(t, "its exit handler is gone");
		return;
	}
	t->ipc_kmsg = 0;
	t->state = THREAD_FAULTED;
	printk("berth: thread %lu stopped: fault handler gone (vector %lu rip=%lx addr=%lx)\n",
	       t->id, t->fault_vector, t->fault_rip, t->fault_addr);
}

/* Check what the sender asks for before anything moves. */
static int check_message(const struct tcb *s, uint64_t info)
{
	uint64_t n = MSG_WORDS(info), ncaps = MSG_CAPS(info);
	if (n > MSG_MAX_WORDS || ncaps > MSG_MAX_CAPS || (MSG_FLAGS(info) & ~(MSG_FLAG_SLOWPATH >> 12)))
		return E_BAD_MSG;
	if (n <= MSG_REG_WORDS && !ncaps)
		return E_OK;
	const struct ipc_buffer *b = ipcbuf(s);
	if (!b)
		return E_BAD_MSG;
	for (uint64_t i = 0; i < ncaps; i++) {
		const struct cap *c = cspace_lookup(s, b->send_caps[i]);
		if (!c || c->type == OBJ_NONE)
			return E_BAD_MSG;
	}
	return E_OK;
}

/* The message a blocked or calling sender carries: its registers, or the
 * kernel-made one (a fault, a VM exit). */
static uint64_t message_info(const struct tcb *s)
{
	return s->ipc_kmsg ? s->kmsg_info : s->ctx.rsi;
}

static void message_regs(const struct tcb *s, uint64_t w[MSG_REG_WORDS])
{
	if (s->ipc_kmsg) {
		for (int i = 0; i < MSG_REG_WORDS; i++)
			w[i] = s->kmsg[i];
	} else {
		w[0] = s->ctx.rdx;
		w[1] = s->ctx.r10;
		w[2] = s->ctx.r8;
		w[3] = s->ctx.r9;
	}
}

/*
 * Move a message from s to r.  Everything is checked before anything
 * moves; an error is the sender's and leaves r untouched.  `reserved` is a
 * slot of r's that a reply right is about to fill.  Capabilities that may
 * not be copied (receive and reply rights, untyped, page tables) move.
 */
static int transfer(struct tcb *s, struct tcb *r, uint64_t badge, const struct cap *reserved)
{
	uint64_t info = message_info(s), n = MSG_WORDS(info), ncaps = MSG_CAPS(info);
	/* Both buffers are looked up now, not when the sender blocked: its
	 * IPC buffer may have been replaced or revoked since (seL4's
	 * lookupIPCBuffer at transfer time). */
	struct ipc_buffer *sb = ipcbuf(s), *rb = ipcbuf(r);
	struct cap *src[MSG_MAX_CAPS], *dst[MSG_MAX_CAPS];
	int copy[MSG_MAX_CAPS];
	if (!s->ipc_kmsg && (n > MSG_REG_WORDS || ncaps) && !sb)
		return E_BAD_MSG;
	if ((n > MSG_REG_WORDS || ncaps) && !rb)
		return E_RECV_SLOTS;
	for (uint64_t i = 0; i < ncaps; i++) {
		src[i] = cspace_lookup(s, sb->send_caps[i]);
		dst[i] = cspace_lookup(r, rb->recv_slots[i]);
		if (!src[i] || src[i]->type == OBJ_NONE)
			return E_BAD_MSG;
		if (!dst[i] || dst[i]->type != OBJ_NONE || dst[i] == reserved)
			return E_RECV_SLOTS;
		for (uint64_t j = 0; j < i; j++)
			if (dst[j] == dst[i] || src[j] == src[i])
				return E_BAD_MSG;
		/* what cannot be copied moves; a copy too deep is an error now,
		 * before anything moved, never a silent move */
		int err = cap_derive_check(src[i], RIGHTS_ALL, 0);
		copy[i] = err != E_NOT_COPYABLE;
		if (copy[i] && err)
			return E_BAD_MSG;
	}
	for (uint64_t i = 0; i < ncaps; i++) {
		rb->recv_badges[i] = src[i]->type == OBJ_PORT ? src[i]->w0 : 0;
		if (copy[i])
			cap_derive(src[i], dst[i], RIGHTS_ALL, 0, 0);
		else
			cap_move(src[i], dst[i]);
	}
	/* a kernel-made message (a fault, a VM exit) is in the sender's TCB */
	const uint64_t *words = s->ipc_kmsg ? s->kmsg : n > MSG_REG_WORDS ? sb->words : 0;
	for (uint64_t i = MSG_REG_WORDS; i < n; i++)
		rb->words[i] = words[i];
	uint64_t w[MSG_REG_WORDS];
	message_regs(s, w);
	r->ctx.rax = E_OK;
	r->ctx.rdi = badge;
	r->ctx.rsi = info & ~((uint64_t)0xf << 12);
	r->ctx.rdx = w[0];
	r->ctx.r10 = w[1];
	r->ctx.r8 = w[2];
	r->ctx.r9 = w[3];
	kernel_counters[KC_IPC_MESSAGES]++;
	if (__builtin_expect(s->traced | r->traced, 0))
		trace_record(s, r, s->ipc_kmsg ? s->kmsg[0] : MSG_LABEL(info),
		             s->ipc_kmsg == KMSG_VMEXIT ? TRACE_VMEXIT : s->ipc_kmsg ? TRACE_FAULT :
		             r->state == THREAD_BLOCKED_REPLY ? TRACE_REPLY :
		             reserved ? TRACE_CALL : TRACE_SEND);
	return E_OK;
}

/* The slot where server r wants a reply right, if it is usable. */
static struct cap *reply_slot(const struct tcb *r)
{
	struct cap *slot = r->ipc_reply_slot ? cspace_lookup(r, r->ipc_reply_slot) : 0;
	if (!slot || (slot->type != OBJ_NONE && !(slot->type == OBJ_REPLY && !slot->obj)))
		return 0;
	return slot;
}

/* After a call reached server r: give r the reply right, or tell the
 * caller at once that no reply can come. */
static void await_reply(struct tcb *caller, struct cap *slot)
{
	if (!slot) {
		if (caller->ipc_kmsg)
			fault_unhandled(caller);
		else
			wake(caller, E_NO_REPLY, 0);
		return;
	}
	cap_set(slot, OBJ_REPLY, RIGHT_SEND, V2P(caller), 0, 0);
	caller->reply_cap = slot;
	caller->state = THREAD_BLOCKED_REPLY;
}

static void block(struct tcb *t, struct port *p, uint8_t state)
{
	if (t->state == THREAD_RUNNABLE)
		sched_dequeue(t);
	t->state = state;
	t->ipc_port = p;
	if (state == THREAD_BLOCKED_RECV)
		queue_append(&p->recv_head, &p->recv_tail, t);
	else
		queue_append(&p->send_head, &p->send_tail, t);
}

/* t sends (or calls) on port p with the given badge. */
static int port_send(struct tcb *t, struct port *p, uint64_t badge, int blocking, int call)
{
	if (p->dead)
		return E_DEAD_PORT;
	struct tcb *r = p->recv_head;
	if (!r) {
		if (!blocking)
			return E_WOULD_BLOCK;
		t->ipc_badge = badge;
		t->ipc_is_call = (uint8_t)call;
		block(t, p, call ? THREAD_BLOCKED_CALL : THREAD_BLOCKED_SEND);
		return E_OK;
	}
	struct cap *slot = call ? reply_slot(r) : 0;
	int err = transfer(t, r, badge, slot);
	if (err)
		return err;
	queue_remove(&p->recv_head, &p->recv_tail, r);
	thread_make_runnable(r, call);
	if (!call)
		return E_OK;
	if (!slot) /* delivered, but the receiver took no reply right */
		return E_NO_REPLY;
	sched_dequeue(t);
	await_reply(t, slot);
	return E_OK;
}

static int do_send(struct tcb *t, uint64_t cptr, int blocking, int call)
{
	struct cap *c = cspace_lookup(t, cptr);
	if (!c || c->type == OBJ_NONE)
		return E_BAD_CAP;
	if (c->type != OBJ_PORT)
		return E_WRONG_TYPE;
	if (!(c->rights & RIGHT_SEND))
		return E_NO_RIGHTS;
	int err = check_message(t, t->ctx.rsi);
	if (err)
		return err;
	t->ipc_kmsg = 0;
	return port_send(t, P2V(c->obj), c->w0, blocking, call);
}

/* *woken: the caller made runnable, or 0 */
static int do_reply(struct tcb *t, uint64_t cptr, struct tcb **woken)
{
	*woken = 0;
	struct cap *c = cspace_lookup(t, cptr);
	if (!c || c->type == OBJ_NONE)
		return E_BAD_CAP;
	if (c->type != OBJ_REPLY)
		return E_WRONG_TYPE;
	if (!c->obj) {
		if (c->w0) { /* the caller went away: tell the server, so it can
		              * give what it had to someone else */
			cap_clear(c);
			return E_NO_REPLY;
		}
		return E_REPLY_USED;
	}
	int err = check_message(t, t->ctx.rsi);
	if (err)
		return err;
	struct tcb *caller = P2V(c->obj);
	if (caller->ipc_kmsg == KMSG_VMEXIT)
		err = vcpu_apply_reply(caller, t);
	else if (!caller->ipc_kmsg)
		err = transfer(t, caller, 0, 0);
	if (err)
		return err;
	if (__builtin_expect(caller->ipc_kmsg && (t->traced | caller->traced), 0))
		trace_record(t, caller, MSG_LABEL(t->ctx.rsi), TRACE_REPLY); /* a fault or VM exit answered */
	/* a fault reply resumes the thread where it faulted */
	caller->ipc_kmsg = 0;
	caller->reply_cap = 0;
	c->obj = 0;
	thread_make_runnable(caller, 1);
	*woken = caller;
	return E_OK;
}

static int do_recv(struct tcb *t, uint64_t cptr, uint64_t reply_cptr, int blocking)
{
	struct cap *c = cspace_lookup(t, cptr);
	if (!c || c->type == OBJ_NONE)
		return E_BAD_CAP;
	if (c->type != OBJ_PORT)
		return E_WRONG_TYPE;
	if (!(c->rights & RIGHT_RECEIVE))
		return E_NO_RIGHTS;
	t->ipc_reply_slot = reply_cptr;
	struct cap *slot = reply_slot(t);
	if (reply_cptr && !slot)
		return cspace_lookup(t, reply_cptr) ? E_SLOT_FULL : E_BAD_CAP;
	if (slot && slot->type == OBJ_REPLY)
		cap_clear(slot); /* a spent reply right */

	struct port *p = P2V(c->obj);
	if (p->notify_bits) {
		t->ctx.rdi = 0;
		t->ctx.rsi = MSG_INFO(LABEL_NOTIFY, 1, 0);
		t->ctx.rdx = p->notify_bits;
		if (__builtin_expect(t->traced, 0))
			trace_record(0, t, p->notify_bits, TRACE_NOTIFY);
		p->notify_bits = 0;
		kernel_counters[KC_IPC_NOTIFICATIONS]++;
		return E_OK;
	}
	struct tcb *s;
	while ((s = p->send_head)) {
		queue_remove(&p->send_head, &p->send_tail, s);
		int call = s->ipc_is_call || s->ipc_kmsg;
		int err = transfer(s, t, s->ipc_badge, call ? slot : 0);
		if (err) {
			if (s->ipc_kmsg)
				fault_unhandled(s);
			else
				wake(s, err, 0);
			continue;
		}
		if (call) {
			s->state = THREAD_BLOCKED_REPLY;
			await_reply(s, slot);
		} else {
			wake(s, E_OK, 0);
		}
		return E_OK;
	}
	if (!blocking)
		return E_WOULD_BLOCK;
	block(t, p, THREAD_BLOCKED_RECV);
	return E_OK;
}

/* The kernel makes t call its fault port (for a VCPU: its exit port)
 * with the message in t->kmsg.  Returns 0 if no handler can take it. */
int ipc_kernel_call(struct tcb *t, uint64_t info, unsigned kind)
{
	struct cap *f = &t->fault_cap;
	if (f->type != OBJ_PORT || !(f->rights & RIGHT_SEND))
		return 0;
	struct port *p = P2V(f->obj);
	if (p->dead)
		return 0;
	t->kmsg_info = info;
	t->ipc_kmsg = (uint8_t)kind;
	if (port_send(t, p, f->w0, 1, 1) != E_OK) {
		t->ipc_kmsg = 0;
		return 0;
	}
	return 1;
}

/* What the fast paths' lookups find where there is no slot: a type no
 * check accepts, so each lookup needs only its type check after it.
 * Never written: nothing is done to a slot before its type is checked. */
static struct cap no_slot = { .type = OBJ_TYPE_COUNT };

/* await_reply for the fast paths, whose reply slot is empty: cap_set,
 * knowing an empty slot is all zero (the self-check's check_slot holds
 * every slot to that); the caller waits with a kernel-made message of
 * kind kmsg, or none. */
static inline __attribute__((always_inline)) void await_reply_in_empty(struct tcb *caller, struct cap *slot,
                                                                       uint8_t kmsg)
{
	slot->type = OBJ_REPLY;
	slot->rights = RIGHT_SEND;
	slot->obj = V2P(caller);
	caller->reply_cap = slot;
	caller->ipc_kmsg = kmsg;
	caller->state = THREAD_BLOCKED_REPLY;
}

/*
 * The VM exit's fast path (svm.c's send_exit): the VMM already waits on
 * the exit port, with an IPC buffer and an empty slot for the reply
 * right, and neither side is traced.  ipc_exit_receiver finds it (0 when
 * the exit must take ipc_kernel_call's general road); the exit's words
 * then go straight into its buffer, not through the VCPU's kmsg, and
 * ipc_exit_deliver does what port_send, transfer and await_reply would
 * have done, then runs the VMM at once when kernel_exit would pick it.
 * The checks are fastpath_call's, and so is why what they skip is safe
 * (docs/ipc.md): a dead port has no receiver, and an empty slot is all
 * zero.
 */
struct tcb *ipc_exit_receiver(const struct tcb *vcpu, uint64_t **words, struct cap **slot)
{
	const struct cap *f = &vcpu->fault_cap;
	struct tcb *r;
	if (f->type != OBJ_PORT || !(f->rights & RIGHT_SEND) || !(r = ((struct port *)P2V(f->obj))->recv_head) ||
	    (vcpu->traced | r->traced) || r->ipcbuf_cap.type != OBJ_FRAME ||
	    (*slot = cspace_lookup_or(r, r->ipc_reply_slot, &no_slot))->type != OBJ_NONE)
		return 0;
	*words = ((struct ipc_buffer *)P2V(r->ipcbuf_cap.obj))->words;
	return r;
}

_Noreturn void ipc_exit_deliver(struct tcb *vcpu, struct tcb *r, struct cap *slot, uint64_t info,
                                const uint64_t w[4])
{
	queue_pop_receiver(r->ipc_port, r);
	r->ctx.rax = E_OK;
	r->ctx.rdi = vcpu->fault_cap.w0;
	r->ctx.rsi = info;
	r->ctx.rdx = w[0];
	r->ctx.r10 = w[1];
	r->ctx.r8 = w[2];
	r->ctx.r9 = w[3];
	kernel_counters[KC_IPC_MESSAGES]++;
	vcpu->kmsg_info = info;
	await_reply_in_empty(vcpu, slot, KMSG_VMEXIT);
	/* The VMM runs at once when kernel_exit would pick it (the VCPU was
	 * the head of the highest queue, so a VMM of at least its priority
	 * is next) and took the message in a system call, as the IPC fast
	 * path's receiver. */
	if (r->prio >= vcpu->prio && r->ctx.vector == VECTOR_SYSCALL && !log_unannounced) {
		kernel_counters[KC_VMEXIT_HANDOFFS]++;
		sched_handoff_exit(vcpu, r);
	}
	thread_make_runnable(r, 1);
	sched_dequeue(vcpu);
	kernel_exit();
}

void port_notify(struct port *p, uint64_t bits, const struct tcb *from)
{
	if (p->dead || !bits)
		return;
	p->notify_bits |= bits;
	struct tcb *r = p->recv_head;
	/* no receiver waiting: recorded as to 0, and again (from the kernel)
	 * when a traced thread receives the bits (do_recv) */
	if (__builtin_expect((from && from->traced) || (r && r->traced), 0))
		trace_record(from, r, bits, TRACE_NOTIFY);
	if (!r)
		return;
	queue_remove(&p->recv_head, &p->recv_tail, r);
	r->ctx.rdi = 0;
	r->ctx.rsi = MSG_INFO(LABEL_NOTIFY, 1, 0);
	r->ctx.rdx = p->notify_bits;
	p->notify_bits = 0;
	kernel_counters[KC_IPC_NOTIFICATIONS]++;
	wake(r, E_OK, 0);
}

void port_kill(struct port *p)
{
	p->dead = 1;
	struct tcb *t;
	while ((t = p->send_head)) {
		queue_remove(&p->send_head, &p->send_tail, t);
		if (t->ipc_kmsg)
			fault_unhandled(t);
		else
			wake(t, E_DEAD_PORT, 0);
	}
	while ((t = p->recv_head)) {
		queue_remove(&p->recv_head, &p->recv_tail, t);
		wake(t, E_DEAD_PORT, 0);
	}
}

void port_send_ref_dropped(struct port *p)
{
	if (p->send_refs && --p->send_refs == 0)
		port_notify(p, p->nosenders_bits, 0);
}

/* A reply right goes away unused: the caller learns no reply will come. */
void reply_cap_destroyed(struct cap *c)
{
	if (!c->obj)
		return;
	struct tcb *caller = P2V(c->obj);
	caller->reply_cap = 0;
	if (caller->ipc_kmsg)
		fault_unhandled(caller);
	else
		wake(caller, E_NO_REPLY, 0);
}

/* Take t out of any IPC it is blocked in (suspend, destruction). */
void ipc_cancel(struct tcb *t)
{
	switch (t->state) {
	case THREAD_BLOCKED_SEND:
	case THREAD_BLOCKED_CALL:
	case THREAD_BLOCKED_RECV:
		dequeue(t);
		break;
	case THREAD_BLOCKED_REPLY:
		if (t->reply_cap) {
			t->reply_cap->obj = 0;
			t->reply_cap->w0 = 1; /* caller gone */
			t->reply_cap = 0;
		}
		break;
	default:
		return;
	}
	if (!t->ipc_kmsg)
		t->ctx.rax = E_STATE; /* the call was cancelled */
}

int sys_ipc(struct tcb *t, uint64_t op, struct context *r)
{
	int err;
	struct tcb *woken;
	switch (op) {
	case SYS_CALL:
		return do_send(t, r->rdi, 1, 1);
	case SYS_SEND:
		return do_send(t, r->rdi, 1, 0);
	case SYS_NB_SEND:
		return do_send(t, r->rdi, 0, 0);
	case SYS_RECV:
		return do_recv(t, r->rdi, r->r12, 1);
	case SYS_NB_RECV:
		return do_recv(t, r->rdi, r->r12, 0);
	case SYS_REPLY:
		return do_reply(t, r->rdi, &woken);
	case SYS_REPLY_RECV:
		if ((err = do_reply(t, r->rdi, &woken)))
			return err;
		err = do_recv(t, r->r13, r->r12, 1);
		/* A server that did not block (a message or notification was
		 * waiting) keeps the CPU ahead of the caller it answered, which
		 * waits behind it at their common priority: queued calls are
		 * served in one go, not each answered caller first, to call
		 * again into a server still busy, behind the others, every call
		 * on the general path (a convoy the fast path never breaks). */
		if (woken && t->state == THREAD_RUNNABLE && woken->state == THREAD_RUNNABLE)
			sched_requeue_behind(woken, t);
		return err;
	case SYS_NOTIFY: {
		struct cap *c;
		if ((err = cap_get(t, r->rdi, OBJ_PORT, RIGHT_SEND, &c)))
			return err;
		struct port *p = P2V(c->obj);
		if (p->dead) /* as a send would: the poster learns its receiver is gone */
			return E_DEAD_PORT;
		port_notify(p, r->rsi, t);
		return E_OK;
	}
	case SYS_PORT_NOSENDERS: {
		struct cap *c;
		if ((err = cap_get(t, r->rdi, OBJ_PORT, RIGHT_RECEIVE, &c)))
			return err;
		struct port *p = P2V(c->obj);
		p->nosenders_bits = r->rsi;
		if (!p->send_refs)
			port_notify(p, p->nosenders_bits, 0);
		return E_OK;
	}
	}
	return E_BAD_SYSCALL;
}

/*
 * The fast path: SYS_CALL to a waiting receiver and SYS_REPLY_RECV back
 * to a caller, with at most four words, no capabilities and no fault
 * involved, where the thread woken has at least the waker's priority (so
 * running it at once keeps the scheduler's order).  It does what the
 * general path would, in fewer steps, and runs the woken thread itself
 * (sched_handoff); anything else goes to the general path
 * (syscall_dispatch), which starts afresh.
 * docs/ipc.md says what each check stands for and why what it skips is
 * safe; tests/system/ipc.c runs the same traffic both ways
 * (MSG_FLAG_SLOWPATH) and compares, tests/system/ipc_fastpath.c checks
 * which path each kind of message takes (KC_IPC_FASTPATH).
 */

/* At most MSG_REG_WORDS words, no capabilities and no flags (the general
 * path's MSG_FLAG_SLOWPATH among them): the words are the info word's low
 * byte and the capability count and flags the next, so one compare. */
static inline int fast_message(uint64_t info)
{
	return (info & 0xffff) <= MSG_REG_WORDS;
}
_Static_assert(MSG_WORDS(0xffff) == 0xff && MSG_CAPS(0xffff) == 0xf && MSG_FLAGS(0xffff) == 0xf &&
               MSG_LABEL(0xffff) == 0, "the info word's layout");

/* fastpath_exit when a thread is traced: out of line, so that the fast
 * path makes no call that returns and keeps nothing in registers across
 * one. */
__attribute__((noinline)) static _Noreturn void fastpath_exit_traced(struct tcb *from, struct tcb *to, unsigned kind)
{
	trace_record(from, to, MSG_LABEL(from->ctx.rsi), kind | TRACE_FAST << 8);
	sched_handoff(from, to);
}

/* Leave the kernel into `to`, woken by `from`'s message (sched_handoff).
 * The trace ring records it when either is traced: one untaken branch. */
static inline __attribute__((always_inline)) _Noreturn void fastpath_exit(struct tcb *from, struct tcb *to,
                                                                         uint64_t badge, unsigned kind)
{
	kernel_counters[KC_IPC_FASTPATH]++; /* also a KC_IPC_MESSAGES (syscall.c) */
	to->ctx.rdi = badge;
	if (__builtin_expect(from->traced | to->traced, 0))
		fastpath_exit_traced(from, to, kind);
	sched_handoff(from, to);
}

/* The reply fast paths' do_reply and do_recv: the Reply right rc is
 * spent and its slot emptied (a Reply capability has nothing beyond its
 * type, rights, obj and w0, and w0 is 0 while obj names a caller:
 * check_slot), and t waits on p, its next reply right to go where
 * SYS_REPLY_RECV's R12 says. */
static inline __attribute__((always_inline)) void replied_and_waiting(struct tcb *t, struct cap *rc,
                                                                      struct tcb *caller, struct port *p)
{
	caller->reply_cap = 0;
	rc->type = OBJ_NONE;
	rc->rights = 0;
	rc->obj = 0;
	t->ipc_reply_slot = t->ctx.r12;
	t->state = THREAD_BLOCKED_RECV;
	t->ipc_port = p;
	queue_append(&p->recv_head, &p->recv_tail, t);
}

/* A VM exit's reply: VMEXIT_REPLY_WORDS words, no capabilities, no flags
 * (a reply of no words is a fast_message). */
static inline int exit_reply_message(uint64_t info)
{
	return (info & 0xffff) == VMEXIT_REPLY_WORDS;
}

/*
 * The VMM answers a VM exit and waits for the next message, with none
 * waiting: do_reply (vcpu_apply_reply, which checks the reply) and
 * do_recv's blocking, without the general path's lookups again.  The
 * VCPU then runs at once if kernel_exit would pick it
 * (sched_resume_vcpu): it has a lower priority than its VMM, so the
 * scheduler's queues, not a handoff, decide.  Back to the
 * general path (which refuses what vcpu_apply_reply refused) when
 * either side is traced or the reply is not one vcpu_apply_reply takes;
 * vcpu_apply_reply changes nothing when it refuses.
 */
static _Noreturn void exit_reply_recv(struct tcb *t, struct cap *rc, struct tcb *caller, struct port *p)
{
	if ((t->traced | caller->traced) || vcpu_apply_reply(caller, t))
		syscall_dispatch();
	caller->ipc_kmsg = 0;
	replied_and_waiting(t, rc, caller, p);
	sched_resume_vcpu(t, caller);
}

/* entry.S's numbers */
_Static_assert(SYS_CALL == 15 && SYS_REPLY_RECV == 16, "entry.S's SYSCALL_NR_CALL and SYSCALL_NR_REPLY_RECV");

_Noreturn void fastpath_call(void)
{
	struct tcb *t = current;
	const struct context *r = &t->ctx;
	const struct cap *c;
	struct tcb *server;
	struct cap *slot;
	if ((t->flags & TCB_FLAG_SYSCALLS_FAULT) || !fast_message(r->rsi) ||
	    (c = cspace_lookup_or(t, r->rdi, &no_slot))->type != OBJ_PORT ||
	    !(c->rights & RIGHT_SEND) ||
	    !(server = ((struct port *)P2V(c->obj))->recv_head) || /* none on a dead port */
	    server->prio < t->prio || server->ctx.vector != VECTOR_SYSCALL ||
	    (slot = cspace_lookup_or(server, server->ipc_reply_slot, &no_slot))->type != OBJ_NONE)
		syscall_dispatch();
	queue_pop_receiver(P2V(c->obj), server);
	await_reply_in_empty(t, slot, KMSG_NONE);
	fastpath_exit(t, server, c->w0, TRACE_CALL);
}

_Noreturn void fastpath_reply_recv(void)
{
	struct tcb *t = current;
	const struct context *r = &t->ctx;
	struct cap *rc;
	const struct cap *pc;
	if ((t->flags & TCB_FLAG_SYSCALLS_FAULT) ||
	    (rc = cspace_lookup_or(t, r->rdi, &no_slot))->type != OBJ_REPLY || !rc->obj ||
	    (pc = cspace_lookup_or(t, r->r13, &no_slot))->type != OBJ_PORT || !(pc->rights & RIGHT_RECEIVE))
		syscall_dispatch();
	/* the next reply right goes where this one was, or to an empty slot */
	if (r->r12 != r->rdi && cspace_lookup_or(t, r->r12, &no_slot)->type != OBJ_NONE)
		syscall_dispatch();
	struct tcb *caller = P2V(rc->obj);
	struct port *p = P2V(pc->obj);
	/* a caller with a kernel-made message is a VCPU's exit, or a fault
	 * (the general path): tested once, so that the IPC reply pays one
	 * branch for the exit's way */
	if (__builtin_expect(caller->ipc_kmsg != 0, 0)) {
		if (caller->ipc_kmsg == KMSG_VMEXIT && (fast_message(r->rsi) || exit_reply_message(r->rsi)) &&
		    !p->notify_bits && !p->send_head)
			exit_reply_recv(t, rc, caller, p);
		syscall_dispatch();
	}
	if (!fast_message(r->rsi) || caller->prio < t->prio || caller->ctx.vector != VECTOR_SYSCALL ||
	    p->notify_bits || p->send_head)
		syscall_dispatch();
	replied_and_waiting(t, rc, caller, p);
	fastpath_exit(t, caller, 0, TRACE_REPLY);
}
