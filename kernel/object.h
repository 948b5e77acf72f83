/* In-kernel layout of capabilities, ports and thread control blocks.
 * Every object lives in memory retyped from an Untyped; the kernel reaches
 * it through the physical map. */
#ifndef OBJECT_H
#define OBJECT_H

#include <stdint.h>
#include <berth/object.h>
#include <berth/vcpu.h>   /* VMEXIT_STATE_WORDS: the longest kernel-made message */
#include "context.h"
#include "layout.h"

/*
 * One CNode slot (64 bytes).  The derivation tree is a doubly linked list
 * in preorder with a depth per entry (as in seL4's mapping database): the
 * capabilities derived from C are the entries after C whose depth is
 * greater than C's.  Copies and mints are children of their source,
 * retyped objects children of their Untyped.  All capabilities to one
 * object therefore sit next to each other, which is how deletion knows it
 * removed the last one.
 */
struct cap {
	uint8_t type;       /* enum berth_object_type; OBJ_NONE when empty */
	uint8_t rights;
	uint16_t check_mark; /* the self-check's walk marks what it saw (selfcheck.c) */
	uint32_t depth;     /* bounded by CAP_DEPTH_MAX: a derivation past it is refused */
	uint64_t obj;       /* physical address of the object, or see below */
	/* Per type:
	 *   Untyped:    w0 = size_bits, w1 = watermark (bytes in use)
	 *   CNode:      w0 = radix
	 *   VSpace:     w0 = address-space ID
	 *   Frame:      w0 = mapping handle (ASID and generation), w1 = vaddr,
 *               w2 = its size_bits as retyped (0 or 12: 4 KiB; 21: 2 MiB)
	 *   PageTable:  w0 = mapping handle, w1 = vaddr | level
	 *   Port:       w0 = badge
	 *   Reply:      obj = the waiting caller (0: spent), w0 = 1 if the
	 *               caller went away rather than being answered
	 *   IRQ handler: obj = index << 8 | line (irq.c)
	 *   I/O ports:  obj = first | last << 16 */
	uint64_t w0, w1;
	struct cap *mdb_prev, *mdb_next;
	uint64_t w2;
	uint64_t flags;        /* CAP_DEVICE; and pads the slot to 64 bytes */
};

/* Untyped and Frame: device memory (not RAM).  A device Untyped becomes
 * only Frames and smaller device Untypeds, is never zeroed, and its
 * frames map uncached and never as kernel-read memory (IPC buffers) or
 * guest RAM.  Inherited by everything retyped or copied from it. */
#define CAP_DEVICE 0x1UL
_Static_assert(sizeof(struct cap) == (1 << CNODE_SLOT_BITS), "slot size");
/* Far more than memory can hold (2^32 slots are 256 GiB of CNodes), but
 * checked all the same: a depth that wrapped would hide a copy from revoke. */
#define CAP_DEPTH_MAX 0xfffffff0u

/* The head of the one derivation list every capability is on (depth 0,
 * never in a CNode): the boot capabilities are its children. */
extern struct cap mdb_root;
/* Counts changes to the derivation list (insert, unlink, move), so the
 * self-check re-walks it only when it changed. */
extern uint64_t mdb_generation;
/* Set when a VSpace capability moves or is deleted: kernel_exit then looks
 * up the running thread's address space again (sched.c). */
extern uint8_t vspace_caps_changed;

struct tcb;

struct port {
	struct tcb *send_head, *send_tail;   /* blocked senders and callers */
	struct tcb *recv_head, *recv_tail;   /* blocked receivers */
	uint64_t notify_bits;                /* posted, not yet received */
	uint64_t nosenders_bits;             /* posted when send_refs drops to 0 */
	uint32_t send_refs;                  /* caps with SEND but not RECEIVE */
	uint8_t dead;                        /* the receive right is gone */
	uint8_t timer_armed;
	uint64_t timer_deadline, timer_bits; /* SYS_NOTIFY_AFTER */
	struct port *timer_next;
};
_Static_assert(sizeof(struct port) <= (1 << PORT_BITS), "port size");

struct tcb {
	struct context ctx;            /* first: its end is RSP0 */
	uint8_t fpu[512] __attribute__((aligned(16)));
	/* capabilities the thread holds while it uses them; in the tree as
	 * children of the caps that configured it */
	struct cap cspace_cap, vspace_cap, fault_cap, ipcbuf_cap;
	uint64_t id;
	uint64_t fs_base;              /* loaded into FS base: the IPC buffer's address or
	                                * what SYS_TCB_SET_FS_BASE gave (a thread's TLS) */
	uint8_t state;                 /* enum berth_thread_state, or THREAD_DEAD */
	uint8_t prio, max_prio;
	uint8_t timeslice;
	uint8_t ipc_is_call;
	uint8_t ipc_kmsg;              /* calling with a kernel-made message: KMSG_* */
	uint8_t is_vcpu;               /* a VCPU: runs a guest instead of user code */
	uint8_t traced;                /* SYS_TRACE records its messages */
	uint8_t flags;                 /* TCB_FLAG_* (SYS_TCB_SET_FLAGS) */
	uint64_t ready_since;          /* the tick it last became ready to run and did not
	                                * run (made runnable, or switched from): SYS_TCB_INFO */
	struct tcb *rq_next, *rq_prev; /* run queue */
	struct port *ipc_port;         /* the port whose queue holds us */
	struct tcb *ipc_next, *ipc_prev;
	uint64_t ipc_badge;            /* badge of the cap we are sending with */
	uint64_t ipc_reply_slot;       /* receiving: where a reply right goes */
	struct cap *reply_cap;         /* calling: the slot holding our reply right */
	struct tcb *zombie_next;
	uint64_t fault_vector, fault_addr, fault_rip, fault_error;
	uint64_t kmsg_info;            /* the kernel-made message */
	uint64_t kmsg[VMEXIT_STATE_WORDS];   /* the longest: a VM exit with its state words */
};
_Static_assert(sizeof(struct tcb) <= (1 << TCB_BITS), "TCB size");
#define THREAD_DEAD 0xff
enum { KMSG_NONE, KMSG_FAULT, KMSG_VMEXIT };

/* cap.c */
/* A capability pointer is a slot index in the thread's root CNode (one
 * level for now); slot 0 of every CNode is reserved, so 0 is the null
 * capability everywhere.  Inline: every system call looks one up, the IPC
 * fast path three (docs/ipc.md). */
static inline __attribute__((always_inline)) struct cap *cnode_slot_or(const struct cap *cnode, uint64_t index,
                                                                      struct cap *none)
{
	if (index - 1 >= (1ULL << cnode->w0) - 1) /* 0 wraps around */
		return none;
	return (struct cap *)P2V(cnode->obj) + index;
}
static inline __attribute__((always_inline)) struct cap *cnode_slot(const struct cap *cnode, uint64_t index)
{
	return cnode_slot_or(cnode, index, 0);
}
/* The slot cptr names in t's space, or `none` (the IPC fast path's is a
 * slot no type check accepts, which saves it a test per lookup). */
static inline __attribute__((always_inline)) struct cap *cspace_lookup_or(const struct tcb *t, uint64_t cptr,
                                                                         struct cap *none)
{
	if (t->cspace_cap.type != OBJ_CNODE)
		return none;
	return cnode_slot_or(&t->cspace_cap, cptr, none);
}
static inline __attribute__((always_inline)) struct cap *cspace_lookup(const struct tcb *t, uint64_t cptr)
{
	return cspace_lookup_or(t, cptr, 0);
}
int cap_get(const struct tcb *t, uint64_t cptr, unsigned type, unsigned rights, struct cap **out);
int dest_slot(const struct tcb *t, uint64_t cnode, uint64_t index, struct cap **out);
/* Fill a slot, or empty it: every field written, one store per word (a
 * struct assignment or memset becomes rep stos, which counts once per
 * repetition under icount; docs/ipc.md counts the fast path's). */
static inline void cap_set(struct cap *slot, unsigned type, unsigned rights, uint64_t obj, uint64_t w0,
                           uint64_t w1)
{
	slot->type = (uint8_t)type;
	slot->rights = (uint8_t)rights;
	slot->check_mark = 0;
	slot->depth = 0;
	slot->obj = obj;
	slot->w0 = w0;
	slot->w1 = w1;
	slot->mdb_prev = slot->mdb_next = 0;
	slot->w2 = 0;
	slot->flags = 0;
}
static inline void cap_clear(struct cap *slot)
{
	cap_set(slot, OBJ_NONE, 0, 0, 0, 0);
}
int cap_can_derive(const struct cap *parent);
void cap_insert_child(struct cap *parent, struct cap *child);
int cap_derive_check(const struct cap *src, unsigned rights, int mint);
int cap_derive(const struct cap *src, struct cap *dst, unsigned rights, uint64_t badge, int mint);
void cap_move(struct cap *src, struct cap *dst);
int sys_cnode(struct tcb *t, uint64_t op, struct context *r);

/* cap_delete.c */
void cap_delete(struct cap *c);
int frame_unmap(struct cap *f);   /* mapping.c */
void cap_revoke(struct cap *c);

/* untyped.c */
int sys_untyped_retype(struct tcb *t, uint64_t ut, uint64_t type, uint64_t size_bits,
                       uint64_t offset, uint64_t dest_cnode, uint64_t dest_slot);
void object_init(unsigned type, uint64_t paddr, uint64_t bytes);
uint64_t object_size(const struct cap *c);

/* thread.c */
void tcb_init(struct tcb *t);
/* The top-level page table t runs on, or 0 when it has none.  Read from
 * the capability each time: revoke deletes that capability, and a cached
 * copy of the pointer would outlive the table. */
static inline uint64_t tcb_vspace_root(const struct tcb *t)
{
	return t->vspace_cap.type == OBJ_VSPACE ? t->vspace_cap.obj : 0;
}
/* What a VCPU runs on: a GuestSpace (nested paging) or a ShadowSpace
 * (shadow paging, shadow.c). */
static inline int vcpu_space_type(unsigned type)
{
	return type == OBJ_GUEST_SPACE || type == OBJ_SHADOW_SPACE;
}
/* Replacing the capabilities a thread holds: see thread.c. */
struct tcb_cap_change {
	struct cap *slot;        /* one of the TCB's own capability fields */
	const struct cap *src;   /* its new value is derived from this; 0: empty */
};
int tcb_caps_swap(const struct tcb_cap_change *changes, int n);
void tcb_caps_release(void);
void vcpu_init(struct tcb *t);
void thread_fault(struct tcb *t, uint64_t vector, uint64_t error, uint64_t addr);
void thread_stop(struct tcb *t);
int sys_tcb(struct tcb *caller, uint64_t op, struct context *args);
int sys_tcb_regs(struct tcb *caller, struct context *args);   /* tcb_regs.c */

/* ipc.c */
int sys_ipc(struct tcb *t, uint64_t op, struct context *r);
void port_kill(struct port *p);
void port_send_ref_dropped(struct port *p);
void port_notify(struct port *p, uint64_t bits, const struct tcb *from); /* from 0: the kernel */
void ipc_cancel(struct tcb *t);
void reply_cap_destroyed(struct cap *c);
/* Called by entry.S for SYS_CALL and SYS_REPLY_RECV: run the thread the
 * message woke, or, when the fast path does not apply, the general path
 * (syscall_dispatch, syscall.c). */
_Noreturn void fastpath_call(void);
_Noreturn void fastpath_reply_recv(void);
_Noreturn void syscall_dispatch(void);
int ipc_kernel_call(struct tcb *t, uint64_t info, unsigned kind);
struct tcb *ipc_exit_receiver(const struct tcb *vcpu, uint64_t **words, struct cap **slot);
_Noreturn void ipc_exit_deliver(struct tcb *vcpu, struct tcb *r, struct cap *slot, uint64_t info,
                                const uint64_t w[4]);

/* svm.c */
int sys_vcpu(struct tcb *t, uint64_t op, struct context *r);
_Noreturn void vcpu_enter(struct tcb *t);
int vcpu_apply_reply(struct tcb *vcpu, const struct tcb *replier);
void vcpu_stopped(struct tcb *vcpu, const char *why);

/* timeout.c */
int sys_notify_after(struct tcb *t, struct context *r);
void timeouts_tick(uint64_t now);
void timeout_port_destroyed(struct port *p);

/* irq.c, ioport.c */
int sys_irq(struct tcb *t, uint64_t op, struct context *r);
/* trace.c */
void trace_record(const struct tcb *from, const struct tcb *to, uint64_t label, unsigned kind);
int sys_trace(struct tcb *t, struct context *r);
int sys_ioport(struct tcb *t, uint64_t op, struct context *r);
void irq_handle(int line);
void irq_handler_destroyed(struct cap *c);
void irq_port_destroyed(const struct port *p);

/* log.c: the kernel's console output (docs/console.md) */
void log_putc(char c);
void log_announce(void);
/* Set by what log_announce has to post (with no reader, nothing; it is
 * cleared all the same): a way out of the kernel that skips kernel_exit
 * tests it first. */
extern int log_unannounced;
void log_direct(void);
void log_flush(void);
void log_port_destroyed(const struct port *p);
const struct port *log_reader(void);
int sys_log(struct tcb *t, struct context *r);

/* trap.c */
extern uint64_t timer_ticks;   /* TIMER_HZ per second, since boot */

/* sched.c */
extern struct tcb *current;
void sched_enqueue(struct tcb *t);
void sched_enqueue_front(struct tcb *t);
void sched_dequeue(struct tcb *t);
void sched_requeue_behind(struct tcb *t, struct tcb *ahead);
void sched_yield(struct tcb *t);
void sched_tick(void);
void sched_forget(const struct tcb *t);
void thread_make_runnable(struct tcb *t, int front);
_Noreturn void kernel_exit(void);
_Noreturn void sched_handoff(struct tcb *from, struct tcb *to);
_Noreturn void sched_handoff_exit(struct tcb *vcpu, struct tcb *vmm);
_Noreturn void sched_resume_vcpu(struct tcb *from, struct tcb *vcpu);
/* An interrupt woke the idle loop: count the time it waited (KC_IDLE_TSC). */
void idle_account(void);

#endif
