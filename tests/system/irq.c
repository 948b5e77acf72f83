/* An IRQ delivered to a user task and acknowledged, and I/O-port
 * capabilities.  The device is the CMOS RTC (ports 0x70/0x71, IRQ 8) in
 * periodic mode: we drive it only through an I/O-port capability, take
 * its interrupts as notifications on a port, and see that the line stays
 * masked from one interrupt until sys_irq_ack.  A second handler of the
 * line (SYS_IRQ_SHARE, as PCI drivers on one INTx line have) is notified
 * too, and the line stays masked until both acknowledged.  A thread without I/O
 * rights that executes `inb` itself gets #GP, which reaches us as a fault
 * message. */
#include "tap.h"
#include <libipc/ipc.h>

#define RTC_INDEX 0x70
#define RTC_DATA 0x71
#define RTC_IRQ 8
#define RTC_A 0x0a
#define RTC_B 0x0b
#define RTC_C 0x0c
#define RTC_A_RATE_1024HZ 0x06
#define RTC_B_PIE 0x40            /* periodic interrupt enable */
#define RTC_B_AIE_UIE 0x30        /* alarm and update interrupts: kept off */
#define RTC_C_IRQF 0x80
#define RTC_C_PF 0x40

#define IRQ_BIT 0x10UL
#define WATCHDOG_BIT 0x1000UL
#define FAULT_BADGE 0xf1UL
#define ROUNDS 5
#define IRQ_WAIT_TICKS 3000000000UL  /* ~1 s: a 1024 Hz device fires many times */
#define QUIET_TICKS 150000000UL      /* some tens of ms: dozens of RTC periods */

static uint64_t io;                 /* our I/O-port capability for 0x70..0x71 */
static uint64_t watchdog_send;
static volatile uint64_t watchdog_deadline; /* 0: disarmed */
static volatile int watchdog_stop;
static uint8_t watchdog_stack[8192] __attribute__((aligned(16)));
static uint8_t inb_stack[4096] __attribute__((aligned(16)));

/* The thread that tries port I/O on its own. */
extern char inb_site[];
__asm__(".text\n.globl inb_site\ninb_site:\n\tinb $0x71, %al\n\tjmp inb_site\n");

static long rtc_read(unsigned reg, uint64_t *v)
{
	long err = sys_ioport_out(io, RTC_INDEX, 1, reg);
	return err ? err : sys_ioport_in(io, RTC_DATA, 1, v);
}

static long rtc_write(unsigned reg, uint64_t v)
{
	long err = sys_ioport_out(io, RTC_INDEX, 1, reg);
	return err ? err : sys_ioport_out(io, RTC_DATA, 1, v);
}

/* Below our priority: it runs only while we are blocked in a receive,
 * and wakes us with WATCHDOG_BIT if the interrupt is late. */
static void watchdog(uint64_t arg)
{
	(void)arg;
	while (!watchdog_stop) {
		uint64_t d = watchdog_deadline;
		if (d && rdtsc() > d &&
		    __atomic_compare_exchange_n(&watchdog_deadline, &d, 0, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			sys_notify(watchdog_send, WATCHDOG_BIT);
	}
}

struct wait_result {
	long err;
	int got;           /* a notification with IRQ_BIT came */
	uint64_t label, bits, badge;
};

/* Block in ipc_recv until the interrupt's notification comes, or the
 * watchdog says it is late. */
static struct wait_result wait_irq(uint64_t port)
{
	struct wait_result w = { 0 };
	uint64_t deadline = rdtsc() + IRQ_WAIT_TICKS;
	watchdog_deadline = deadline;
	for (;;) {
		struct msg m;
		w.err = ipc_recv(port, 0, &m);
		w.label = MSG_LABEL(m.info);
		w.bits = m.w[0];
		w.badge = m.badge;
		if (w.err || w.label != LABEL_NOTIFY)
			break;
		if (w.bits & IRQ_BIT) {
			w.got = 1;
			break;
		}
		if (rdtsc() >= deadline)
			break;
		/* a watchdog bit from an earlier wait: wait on */
	}
	watchdog_deadline = 0;
	return w;
}

/* Poll without blocking for `ticks`; the number of messages that came. */
static unsigned count_arrivals(uint64_t port, uint64_t ticks, uint64_t *bits)
{
	unsigned n = 0;
	uint64_t end = rdtsc() + ticks;
	*bits = 0;
	while (rdtsc() < end) {
		struct msg m;
		long err = ipc_nb_recv(port, 0, &m);
		if (err != E_WOULD_BLOCK) {
			n++;
			*bits |= m.w[0];
		}
	}
	return n;
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(28);
	uint64_t v = 0;
	unsigned type, rights;
	uint64_t badge;

	/* I/O-port capabilities */
	io = slot_alloc();
	long err = sys_ioport_issue(CAP_IOPORT_CONTROL, RTC_INDEX, RTC_DATA, CAP_ROOT_CNODE, io);
	tap_ok(!err && !sys_cap_identify(io, &type, &rights, &badge) && type == OBJ_IOPORT,
	       "issue an I/O-port capability for 0x70..0x71 (err %ld)", err);
	uint64_t spare = slot_alloc();
	long inverted = sys_ioport_issue(CAP_IOPORT_CONTROL, 0x71, 0x70, CAP_ROOT_CNODE, spare);
	long too_far = sys_ioport_issue(CAP_IOPORT_CONTROL, 0xfff0, 0x10000, CAP_ROOT_CNODE, spare);
	tap_ok(inverted == E_BAD_ARG && too_far == E_BAD_ARG && cspace_slot_type(spare) == OBJ_NONE,
	       "an inverted range and one past 0xffff are refused (%ld, %ld)", inverted, too_far);

	uint64_t a0 = 0, a1 = 0, b0 = 0;
	err = rtc_read(RTC_A, &a0);
	err = err ? err : rtc_write(RTC_A, (a0 & 0x70) | RTC_A_RATE_1024HZ);
	err = err ? err : rtc_read(RTC_A, &a1);
	err = err ? err : rtc_read(RTC_B, &b0);
	tap_ok(!err && (a1 & 0x7f) == ((a0 & 0x70) | RTC_A_RATE_1024HZ),
	       "RTC register A written and read back through the capability (was %lx, now %lx, err %ld)",
	       a0, a1, err);

	long r1 = sys_ioport_in(io, 0x72, 1, &v), r2 = sys_ioport_in(io, 0x6f, 1, &v);
	long r3 = sys_ioport_in(io, RTC_DATA, 2, &v), r4 = sys_ioport_in(io, RTC_INDEX, 4, &v);
	long r5 = sys_ioport_out(io, 0x80, 1, 0), r6 = sys_ioport_out(io, 0xffff, 1, 0);
	tap_ok(r1 == E_RANGE && r2 == E_RANGE && r3 == E_RANGE && r4 == E_RANGE && r5 == E_RANGE &&
	       r6 == E_RANGE,
	       "ports outside the capability's range give E_RANGE (%ld %ld %ld %ld %ld %ld)", r1, r2, r3, r4,
	       r5, r6);
	r1 = sys_ioport_in(io, RTC_DATA, 0, &v);
	r2 = sys_ioport_in(io, RTC_DATA, 3, &v);
	r3 = sys_ioport_in(io, RTC_DATA, 8, &v);
	r4 = sys_ioport_out(io, RTC_DATA, 5, 0);
	tap_ok(r1 == E_BAD_ARG && r2 == E_BAD_ARG && r3 == E_BAD_ARG && r4 == E_BAD_ARG,
	       "sizes other than 1, 2 and 4 give E_BAD_ARG (%ld %ld %ld %ld)", r1, r2, r3, r4);
	tap_eq(sys_ioport_in(CAP_IRQ_CONTROL, RTC_DATA, 1, &v), E_WRONG_TYPE,
	       "port I/O through a capability of another type is refused");

	/* the IRQ handler */
	uint64_t handler = slot_alloc(), other = slot_alloc();
	err = sys_irq_get(CAP_IRQ_CONTROL, RTC_IRQ, CAP_ROOT_CNODE, handler);
	tap_ok(!err && !sys_cap_identify(handler, &type, &rights, &badge) && type == OBJ_IRQ_HANDLER,
	       "get the handler for IRQ 8 (err %ld)", err);
	r1 = sys_irq_get(CAP_IRQ_CONTROL, 0, CAP_ROOT_CNODE, other);
	tap_ok(r1 == E_BAD_ARG && cspace_slot_type(other) == OBJ_NONE,
	       "line 0, the kernel's timer, is refused (%ld)", r1);
	r1 = sys_irq_get(CAP_IRQ_CONTROL, RTC_IRQ, CAP_ROOT_CNODE, other);
	tap_ok(r1 == E_STATE && cspace_slot_type(other) == OBJ_NONE,
	       "a line already issued is refused (%ld)", r1);
	r1 = sys_irq_get(CAP_IRQ_CONTROL, 2, CAP_ROOT_CNODE, other);
	r2 = sys_irq_get(CAP_IRQ_CONTROL, 16, CAP_ROOT_CNODE, other);
	r3 = sys_irq_get(CAP_IOPORT_CONTROL, 9, CAP_ROOT_CNODE, other);
	tap_ok(r1 == E_BAD_ARG && r2 == E_BAD_ARG && r3 == E_WRONG_TYPE && cspace_slot_type(other) == OBJ_NONE,
	       "the cascade line, line 16 and the wrong control capability are refused (%ld %ld %ld)", r1, r2, r3);
	tap_eq(sys_irq_ack(handler), E_STATE, "acknowledging an unbound line is refused");

	/* bind it to a port; a watchdog thread below us guards every wait */
	uint64_t port, send = slot_alloc(), wd_tcb = 0;
	watchdog_send = slot_alloc();
	err = object_alloc(OBJ_PORT, 0, &port);
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, send, RIGHT_SEND, 0);
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, watchdog_send, RIGHT_SEND, 0);
	r1 = err ? err : sys_irq_bind(handler, send, 0);
	r2 = err ? err : sys_irq_bind(handler, CAP_ROOT_VSPACE, IRQ_BIT);
	err = err ? err : sys_irq_bind(handler, send, IRQ_BIT);
	err = err ? err : thread_create(watchdog, 0, watchdog_stack, sizeof(watchdog_stack), 50, &wd_tcb);
	tap_ok(!err && r1 == E_BAD_ARG && r2 == E_WRONG_TYPE,
	       "bind IRQ 8 to a port; no bits or a non-port are refused (err %ld; %ld, %ld)", err, r1, r2);

	/* the RTC's periodic interrupt on: each one arrives, we read
	 * register C (which lets the RTC raise the next) and acknowledge */
	uint64_t c;
	err = rtc_read(RTC_C, &c);
	err = err ? err : rtc_write(RTC_B, (b0 | RTC_B_PIE) & ~(uint64_t)RTC_B_AIE_UIE);
	unsigned got = 0, good_msgs = 0, flagged = 0, acked = 0;
	for (int i = 0; i < ROUNDS && !err; i++) {
		struct wait_result w = wait_irq(port);
		if (!w.got)
			break;
		got++;
		good_msgs += w.label == LABEL_NOTIFY && w.badge == 0 && (w.bits & IRQ_BIT);
		if (rtc_read(RTC_C, &c) == E_OK && (c & (RTC_C_IRQF | RTC_C_PF)) == (RTC_C_IRQF | RTC_C_PF))
			flagged++;
		acked += sys_irq_ack(handler) == E_OK;
	}
	tap_ok(!err && got == ROUNDS, "%d interrupts arrive, each waking us from ipc_recv (%u came, err %ld)",
	       ROUNDS, got, err);
	tap_ok(got && good_msgs == got, "each is a LABEL_NOTIFY with the bound bits (%u of %u)", good_msgs, got);
	tap_ok(got && flagged == got && acked == got,
	       "each time RTC register C shows a periodic interrupt, and the ack succeeds (%u, %u of %u)",
	       flagged, acked, got);

	/* one more, acknowledged at the RTC but not at the kernel */
	struct wait_result w = wait_irq(port);
	uint64_t c1 = 0, c2 = 0, bits = 0;
	rtc_read(RTC_C, &c1);
	unsigned quiet = count_arrivals(port, QUIET_TICKS, &bits);
	rtc_read(RTC_C, &c2);
	tap_ok(w.got && quiet == 0, "without sys_irq_ack nothing arrives for a while (%u arrived, bits %lx)",
	       quiet, bits);
	tap_ok(w.got && (c2 & RTC_C_IRQF), "although the RTC raised its interrupt meanwhile (C %lx then %lx)",
	       c1, c2);
	err = sys_irq_ack(handler);
	w = wait_irq(port);
	tap_ok(!err && w.got, "after sys_irq_ack one arrives again (ack %ld, err %ld, bits %lx)", err, w.err,
	       w.bits);

	/* a second handler of the line, on a port of its own */
	uint64_t shared = slot_alloc(), port2 = 0, send2 = slot_alloc(), more[4];
	rtc_read(RTC_C, &c);
	err = sys_irq_share(handler, CAP_ROOT_CNODE, shared);
	err = err ? err : object_alloc(OBJ_PORT, 0, &port2);
	err = err ? err : sys_cnode_mint(port2, CAP_ROOT_CNODE, send2, RIGHT_SEND, 0);
	err = err ? err : sys_irq_bind(shared, send2, IRQ_BIT);
	err = err ? err : sys_irq_ack(handler);
	w = wait_irq(port);
	unsigned second = err ? 0 : count_arrivals(port2, QUIET_TICKS, &bits);
	tap_ok(!err && w.got && second == 1 && (bits & IRQ_BIT),
	       "a shared handler of the line: one interrupt notifies both (err %ld, %u on the second)", err, second);
	rtc_read(RTC_C, &c1);
	err = sys_irq_ack(handler);
	quiet = count_arrivals(port, QUIET_TICKS, &bits) + count_arrivals(port2, QUIET_TICKS / 4, &bits);
	rtc_read(RTC_C, &c2);
	tap_ok(!err && quiet == 0 && (c2 & RTC_C_IRQF),
	       "with one of two acknowledged the line stays masked, though the RTC fired (%u arrived, C %lx)",
	       quiet, c2);
	err = sys_irq_ack(shared);
	w = wait_irq(port);
	second = count_arrivals(port2, QUIET_TICKS, &bits);
	tap_ok(!err && w.got && second == 1, "after the second acknowledgement both are notified again (%u)",
	       second);
	unsigned made = 0;
	for (int i = 0; i < 4; i++) {
		more[i] = slot_alloc();
		made += sys_irq_share(shared, CAP_ROOT_CNODE, more[i]) == E_OK;
	}
	r1 = sys_irq_get(CAP_IRQ_CONTROL, RTC_IRQ, CAP_ROOT_CNODE, other);
	tap_ok(made == IRQ_HANDLERS_PER_LINE - 2 && r1 == E_STATE,
	       "at most %d handlers a line (%u more made); the control capability issues no second first one (%ld)",
	       IRQ_HANDLERS_PER_LINE, made, r1);
	sys_cnode_revoke(shared); /* its children, the extra handlers, go */
	sys_cnode_delete(shared);
	for (int i = 0; i < 4; i++)
		if (cspace_slot_type(more[i]) == OBJ_NONE)
			slot_free(more[i]);
	rtc_read(RTC_C, &c);
	sys_irq_ack(handler);

	/* the RTC off, the line unbound */
	uint64_t b1 = 0;
	err = rtc_write(RTC_B, b0 & ~(uint64_t)RTC_B_PIE);
	err = err ? err : rtc_read(RTC_C, &c);
	err = err ? err : rtc_read(RTC_B, &b1);
	err = err ? err : sys_irq_ack(handler);
	err = err ? err : sys_irq_bind(handler, 0, 0);
	count_arrivals(port, QUIET_TICKS / 4, &bits); /* one may have been on its way */
	quiet = count_arrivals(port, QUIET_TICKS, &bits);
	tap_ok(!err && !(b1 & RTC_B_PIE) && quiet == 0,
	       "the RTC's interrupt off and the line unbound: no more arrive (err %ld, B %lx, %u arrived)", err,
	       b1, quiet);
	tap_eq(sys_irq_ack(handler), E_STATE, "acknowledging the unbound line is refused");
	err = sys_cnode_delete(handler);
	err = err ? err : sys_irq_get(CAP_IRQ_CONTROL, RTC_IRQ, CAP_ROOT_CNODE, other);
	err = err ? err : sys_cnode_delete(other);
	tap_eq(err, E_OK, "deleting the handler gives the line back: it can be issued again");

	watchdog_stop = 1;
	if (wd_tcb)
		sys_tcb_suspend(wd_tcb);

	/* `inb` without I/O rights: #GP, delivered to the thread's fault port */
	uint64_t fport, fsend = slot_alloc(), reply = slot_alloc(), tcb = 0;
	err = object_alloc(OBJ_PORT, 0, &fport);
	err = err ? err : sys_cnode_mint(fport, CAP_ROOT_CNODE, fsend, RIGHT_SEND, FAULT_BADGE);
	err = err ? err : object_alloc(OBJ_TCB, 0, &tcb);
	err = err ? err : sys_tcb_configure(tcb, CAP_ROOT_CNODE, CAP_ROOT_VSPACE, fsend);
	err = err ? err : sys_tcb_set_priority(tcb, 150, 150);
	err = err ? err : sys_tcb_set_regs(tcb, (uint64_t)inb_site, (uint64_t)inb_stack + sizeof(inb_stack) - 8, 0);
	err = err ? err : sys_tcb_resume(tcb); /* above us: it runs and faults at once */
	struct msg m = { 0 };
	uint64_t end = rdtsc() + IRQ_WAIT_TICKS;
	long rerr = E_STATE;
	while (!err && (rerr = ipc_nb_recv(fport, reply, &m)) == E_WOULD_BLOCK && rdtsc() < end)
		sys_yield();
	tap_ok(!err && !rerr && MSG_LABEL(m.info) == LABEL_FAULT && m.badge == FAULT_BADGE && m.w[0] == 13 &&
	       m.w[2] == (uint64_t)inb_site && m.w[3] == 0,
	       "inb in a thread without an I/O-port capability is #GP, sent to its fault port (err %ld/%ld, "
	       "label %lx, badge %lx, vector %lu, rip %lx, error %lx)", err, rerr, MSG_LABEL(m.info), m.badge,
	       m.w[0], m.w[2], m.w[3]);
	struct thread_info ti = { .state = 99 };
	sys_tcb_info(tcb, &ti);
	tap_ok(ti.state == THREAD_BLOCKED_REPLY && ti.fault_vector == 13,
	       "the thread waits for the fault's reply (state %u, vector %u)", ti.state, ti.fault_vector);
	sys_tcb_suspend(tcb);
	sys_cnode_delete(tcb);

	uint64_t b_end = 0;
	err = rtc_read(RTC_B, &b_end);
	tap_ok(!err && !(b_end & RTC_B_PIE) && sys_null() == E_OK,
	       "at the end the RTC's periodic interrupt is off and the kernel answers (B %lx)", b_end);
	tap_done();
}
