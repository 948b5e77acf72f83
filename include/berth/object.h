/* Kernel object types, their sizes, and capability rights. */
#ifndef BERTH_OBJECT_H
#define BERTH_OBJECT_H

enum berth_object_type {
	OBJ_NONE = 0,        /* an empty slot */
	OBJ_UNTYPED = 1,     /* size_bits = log2 of bytes, 4 KiB .. 2^47 */
	OBJ_CNODE = 2,       /* size_bits = log2 of slots (radix), 1 .. 16 */
	OBJ_TCB = 3,         /* fixed size */
	OBJ_VSPACE = 4,      /* top-level page table (PML4) */
	OBJ_PAGE_TABLE = 5,  /* one paging structure below the PML4 */
	OBJ_FRAME = 6,       /* size_bits 0 or 12: a 4 KiB page; 21: a 2 MiB page */
	OBJ_PORT = 7,        /* a message rendezvous with notification bits */
	OBJ_GUEST_SPACE = 8, /* a guest's physical memory: a nested page table root */
	OBJ_VCPU = 9,        /* a virtual CPU: scheduled like a thread, runs a guest */
	OBJ_SHADOW_SPACE = 10, /* shadow page tables for a VCPU without nested paging:
	                        * size_bits SHADOW_MIN_BITS..SHADOW_MAX_BITS, a pool of tables */
	OBJ_TYPE_COUNT,      /* types below can be retyped; those below are made by the kernel */
	OBJ_REPLY = 16,      /* a send-once right made by SYS_CALL */
	OBJ_IRQ_CONTROL = 17,
	OBJ_IRQ_HANDLER = 18,
	OBJ_IOPORT_CONTROL = 19,
	OBJ_IOPORT = 20,     /* a range of I/O ports */
	OBJ_TRACE_CONTROL = 21, /* SYS_TRACE: turn message tracing on and read it */
};

/* Handlers one interrupt line can have (SYS_IRQ_SHARE). */
#define IRQ_HANDLERS_PER_LINE 4

#define PAGE_BITS 12
#define PAGE_SIZE (1UL << PAGE_BITS)
#define LARGE_PAGE_BITS 21     /* a large frame, mapped by one page-directory entry */
#define LARGE_PAGE_SIZE (1UL << LARGE_PAGE_BITS)
#define CNODE_SLOT_BITS 6       /* a slot is 64 bytes */
#define CNODE_MAX_RADIX 16
#define TCB_BITS 11             /* a TCB is 2 KiB */
#define PORT_BITS 7
#define VCPU_BITS 15            /* VMCB, state, MSR and I/O bitmaps: 32 KiB */
#define GUEST_PHYS_TOP (1UL << 39)  /* guest-physical addresses below 512 GiB */
/* A ShadowSpace: its top table and a pool of 2^(size_bits - 12) - 1 pages
 * for the tables below it (4 pages at least: one 4 KiB mapping needs 3). */
#define SHADOW_MIN_BITS 14
#define SHADOW_MAX_BITS 24
#define UNTYPED_MIN_BITS 12
#define UNTYPED_MAX_BITS 47

/* Rights on a capability. */
#define RIGHT_READ  0x1u
#define RIGHT_WRITE 0x2u
#define RIGHT_EXEC  0x4u
#define RIGHT_SEND  0x8u    /* ports: send and call */
#define RIGHT_RECEIVE 0x10u /* ports: receive; one holder, moved never copied */
/* Untyped and frames: a frame's physical address may be read
 * (SYS_FRAME_PHYS), to program a device's DMA.  Objects retyped from an
 * Untyped carry it only if the Untyped's capability does; init keeps it
 * for drivers only (docs/drivers.md). */
#define RIGHT_PHYS  0x20u
#define RIGHTS_ALL  0x3fu

/* User virtual addresses: [USER_BASE, USER_TOP).  The top page below the
 * canonical hole is never mappable, so SYSCALL's return address is always
 * canonical. */
#define USER_BASE 0x1000UL
#define USER_TOP  0x00007ffffffff000UL

/* Thread states reported by SYS_TCB_INFO. */
enum berth_thread_state {
	THREAD_INACTIVE = 0,  /* created or suspended */
	THREAD_RUNNABLE = 1,
	THREAD_FAULTED = 2,   /* stopped by a fault it had no handler for */
	THREAD_BLOCKED_SEND = 3,
	THREAD_BLOCKED_CALL = 4,  /* queued to send a call */
	THREAD_BLOCKED_REPLY = 5, /* call delivered, waiting for the reply */
	THREAD_BLOCKED_RECV = 6,
};

#define PRIORITY_MAX 255

#endif
