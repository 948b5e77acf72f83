/* In-kernel layout of capabilities and thread control blocks.  Every
 * object lives in memory retyped from an Untyped; the kernel reaches it
 * through the physical map. */
#ifndef OBJECT_H
#define OBJECT_H

#include <stdint.h>
#include <berth/object.h>
#include "context.h"

/* One CNode slot (64 bytes).  obj is the object's physical address. */
struct cap {
	uint8_t type;       /* enum berth_object_type; OBJ_NONE when empty */
	uint8_t rights;
	uint16_t pad16;
	uint32_t pad32;
	uint64_t obj;
	/* Per type:
	 *   Untyped:    w0 = size_bits, w1 = watermark (bytes in use)
	 *   CNode:      w0 = radix
	 *   Frame:      w0 = vspace it is mapped in (0: none), w1 = vaddr
	 *   PageTable:  w0 = vspace it is mapped in (0: none), w1 = vaddr */
	uint64_t w0, w1;
	uint64_t reserved[4];  /* the derivation tree (next issue) */
};
_Static_assert(sizeof(struct cap) == (1 << CNODE_SLOT_BITS), "slot size");

struct tcb {
	struct context ctx;            /* first: its end is RSP0 */
	uint8_t fpu[512] __attribute__((aligned(16)));
	uint64_t id;
	uint64_t cr3;                  /* VSpace (PML4) physical address, 0: none */
	uint64_t cspace;               /* root CNode physical address, 0: none */
	uint32_t cspace_radix;
	uint8_t state;                 /* enum berth_thread_state */
	uint8_t prio, max_prio;
	uint8_t timeslice;
	struct tcb *rq_next, *rq_prev; /* run queue */
	uint64_t fault_vector, fault_addr, fault_rip, fault_error;
};
_Static_assert(sizeof(struct tcb) <= (1 << TCB_BITS), "TCB size");

/* cap.c */
struct cap *cspace_lookup(const struct tcb *t, uint64_t cptr);
int cap_get(const struct tcb *t, uint64_t cptr, unsigned type, unsigned rights, struct cap **out);
struct cap *cnode_slot(const struct cap *cnode, uint64_t index);
void cap_set(struct cap *slot, unsigned type, unsigned rights, uint64_t obj, uint64_t w0, uint64_t w1);
int sys_cnode_copy(struct tcb *t, uint64_t src, uint64_t dest_cnode, uint64_t dest, uint64_t rights);

/* untyped.c */
int sys_untyped_retype(struct tcb *t, uint64_t ut, uint64_t type, uint64_t size_bits,
                       uint64_t offset, uint64_t dest_cnode, uint64_t dest_slot);
void object_init(unsigned type, uint64_t paddr, uint64_t bytes);

/* thread.c */
void tcb_init(struct tcb *t);
void thread_fault(struct tcb *t, uint64_t vector, uint64_t error, uint64_t addr);
int sys_tcb(struct tcb *caller, uint64_t op, struct context *args);

/* sched.c */
extern struct tcb *current;
void sched_enqueue(struct tcb *t);
void sched_dequeue(struct tcb *t);
void sched_yield(struct tcb *t);
void sched_tick(void);
_Noreturn void kernel_exit(void);

#endif
