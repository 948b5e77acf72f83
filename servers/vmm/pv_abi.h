/*
 * The paravirtual interface of mode=pv: what a guest built for Berth's
 * VMM sees instead of a machine.  This header is the ABI, the one thing
 * the VMM (servers/vmm/pv.c, pv_mmu.c) and a pv guest (guests/teach built
 * with -DTEACH_PV, tests/guests/progs/pv_hostile.c) share, in the manner
 * of Xen's public headers (xen.h, event_channel.h, io/console.h): a guest
 * writer needs nothing else.  docs/vmm.md, "How mode=pv works", has the
 * same table with the reasons.
 *
 * THE GUEST
 * A pv guest kernel runs in ring 3 as an ordinary Berth thread, in 64-bit
 * mode, loaded at guest-physical GUEST_LOAD_GPA (0x100000) and entered
 * there with RSI = the guest-physical (and, in the start tables,
 * guest-virtual) address of its struct pv_start_info, RSP = 0x80000, and
 * events masked.  It has no GDT, IDT, TSS or control registers of its
 * own: the segments are the VMM's (PV_GUEST_CS, PV_GUEST_SS), exceptions
 * go to the trap table it registers, interrupts are events.
 *
 * HYPERCALLS
 * The SYSCALL instruction, with RAX = the number below and the arguments
 * in RDI, RSI, RDX, R10, R8 (the System V order with R10 for RCX, as
 * Linux's system calls).  SYSCALL itself overwrites RCX and R11.  The
 * result is in RAX: 0 or more on success, a PV_E_* (negative) on
 * failure; nothing else changes unless a call's row says so.
 *
 *   nr  name              arguments                       result
 *   0   PV_HC_VERSION     -                               PV_ABI_VERSION
 *   1   PV_HC_EXIT        rdi status                      does not return
 *   2   PV_HC_SET_TRAPS   rdi gva of pv_trap[], rsi count 0
 *   3   PV_HC_SET_CALLBACK rdi gva of the event callback  0
 *   4   PV_HC_MMU_UPDATE  rdi gva of pv_mmu_update[],     0, or the first failure's
 *                         rsi count (<= PV_MMU_BATCH_MAX) error; RDX = updates applied
 *   5   PV_HC_MMUEXT      rdi PV_MMUEXT_*, rsi its arg    0
 *   6   PV_HC_EVENT_SEND  rdi port                        0 (the VMM has acted on it)
 *   7   PV_HC_EVENT_CHECK -                               0 (pending events delivered)
 *   8   PV_HC_BIND_VIRQ   rdi PV_VIRQ_*, rsi port         0
 *   9   PV_HC_SET_TIMER   rdi Hz (0 stops it)             the rate granted
 *   10  PV_HC_BLOCK       -                               0 once an event was delivered
 *   11  PV_HC_IRET        (the stack, below)              returns to the frame
 *   12  PV_HC_MARK        rdi mark id (0..255)            0; the VMM's counters noted,
 *                                                         printed when the VM ends
 *
 * PV_HC_MMU_UPDATE applies the updates in order and stops at the first
 * that fails, as Xen's mmu_update does.  Each is (ptr, val): ptr is the
 * guest-physical address of a page-table entry, val its new value.  It is
 * refused if ptr is not 8-byte aligned in guest RAM (PV_E_INVAL,
 * PV_E_NOT_RAM), ptr's page is not a pinned table (PV_E_NOT_TABLE), or,
 * for a present val: a reserved bit or PS is set (PV_E_RESERVED: bits
 * 52-62 and bit 7; no large pages), val's frame is outside guest RAM
 * (PV_E_NOT_RAM), a leaf maps a pinned table writable
 * (PV_E_WRITABLE_TABLE), a non-leaf entry names a page that is not a
 * table pinned at the level below (PV_E_LEVEL), or a top-level entry is
 * in the upper half (PV_E_HIGH_HALF: that half is the hypervisor's, as
 * the notes say: "cannot overlap with the top end of the linear address
 * space").
 *
 * PV_HC_MMUEXT's operations (Xen's mmuext_op, one at a time):
 *   PV_MMUEXT_PIN_L1..L4  rsi = the gpa of a page to make a page table of
 *                         that level: it must not be mapped writable
 *                         anywhere nor be one of the pages the VMM shares
 *                         (PV_E_BUSY), and every entry in it is checked
 *                         as an update would be.  A pinned page stays a
 *                         page table (no unpin).
 *   PV_MMUEXT_NEW_BASEPTR rsi = the gpa of a pinned L4: the new CR3
 *   PV_MMUEXT_INVLPG      rsi = a gva; PV_MMUEXT_TLB_FLUSH: accepted
 *                         and counted: the VMM applies each update to
 *                         the address spaces at once, so nothing is stale
 *
 * PV_HC_IRET returns from an exception or event frame: at RSP the guest
 * pushes RAX, RCX, R11 (which SYSCALL would destroy), above them the
 * 64-bit interrupt frame RIP, CS, RFLAGS, RSP, SS; the VMM restores those
 * registers, the arithmetic flags and TF, and the event mask from
 * RFLAGS.IF (IF clear: masked).  CS and SS are not looked at: there is
 * one of each.
 *
 * PV_HC_MARK notes the VMM's counters (those of port 0x519 under the
 * other modes, with the hypercalls so far) for a benchmark; they are
 * printed when the VM ends.
 *
 * SINGLE STEP: RFLAGS.TF is the guest's (popf sets it).  Each instruction
 * run with it set is followed by a #DB to trap vector 1, a hypercall too
 * (but PV_HC_IRET); exceptions and events are delivered with TF clear.
 *
 * EVENTS (Xen's event channels, in little)
 * Ports 1..PV_PORTS-1.  The VMM sets a port's bit in port_pending and
 * upcall_pending in the shared page; if upcall_mask is clear it delivers
 * at once: an interrupt frame (RIP, CS, RFLAGS with IF set, RSP, SS, the
 * stack aligned to 16 first) is pushed on the guest's stack, upcall_mask
 * set, and the guest continues at its callback.  While upcall_mask is set
 * the event waits.  So: cli is "upcall_mask = 1" (no hypercall), sti is
 * "upcall_mask = 0, then PV_HC_EVENT_CHECK if upcall_pending", pushf and
 * popf read and write the mask.  The callback takes the bits with an
 * atomic exchange of port_pending (and clears upcall_pending first).
 * PV_VIRQ_TIMER, bound to a port, fires at the PV_HC_SET_TIMER rate (the
 * host's timer ticks at 100 Hz: the rate is 100 divided by a whole
 * number).  Exceptions go to the pv_trap table with the processor's frame
 * (and error code); a page fault's address is in shared_info.cr2.
 *
 * THE CONSOLE (Xen's io/console.h, output only)
 * A byte ring in a shared page: the guest writes out[prod % size] and
 * then advances out_prod; the VMM copies out what lies between its own
 * consumer index and out_prod, and publishes out_cons.  The guest sends
 * an event on start_info.console_port when the ring was empty before it
 * wrote (or is full); the VMM also drains it on every timer tick.
 */
#ifndef BERTH_PV_ABI_H
#define BERTH_PV_ABI_H

/* the numbers are usable from assembly too; the structures are C only */
#ifndef __ASSEMBLER__
#include <stdint.h>
#endif

#define PV_ABI_VERSION 1
#define PV_START_MAGIC 0x3176702068747265  /* "erth pv1" in little-endian bytes */

/* hypercall numbers (RAX) */
#define PV_HC_VERSION      0
#define PV_HC_EXIT         1
#define PV_HC_SET_TRAPS    2
#define PV_HC_SET_CALLBACK 3
#define PV_HC_MMU_UPDATE   4
#define PV_HC_MMUEXT       5
#define PV_HC_EVENT_SEND   6
#define PV_HC_EVENT_CHECK  7
#define PV_HC_BIND_VIRQ    8
#define PV_HC_SET_TIMER    9
#define PV_HC_BLOCK        10
#define PV_HC_IRET         11
#define PV_HC_MARK         12
#define PV_HC_COUNT        13

/* errors (RAX), as Xen's -E... */
#define PV_OK                0
#define PV_E_NOSYS          -1   /* no such hypercall or operation */
#define PV_E_INVAL          -2   /* a bad argument: count, alignment, level, rate */
#define PV_E_FAULT          -3   /* an argument's guest-virtual address cannot be read */
#define PV_E_NOT_RAM        -4   /* a guest-physical address outside guest RAM */
#define PV_E_NOT_TABLE      -5   /* the entry is not in a pinned page table */
#define PV_E_RESERVED       -6   /* reserved bits (or PS) in a present entry */
#define PV_E_WRITABLE_TABLE -7   /* a page table would be mapped writable */
#define PV_E_LEVEL          -8   /* a non-leaf entry names no table of the level below */
#define PV_E_BUSY           -9   /* pin: already a table, or mapped writable */
#define PV_E_LIMIT          -10  /* more tables, address spaces or links than the VMM keeps */
#define PV_E_BAD_PORT       -11  /* an event port out of range, or unbound */
#define PV_E_HIGH_HALF      -12  /* a top-level entry in the hypervisor's half */

/* PV_HC_MMU_UPDATE: at most this many updates per call */
#define PV_MMU_BATCH_MAX 512
#ifndef __ASSEMBLER__
struct pv_mmu_update {
	uint64_t ptr;            /* guest-physical address of the entry */
	uint64_t val;            /* its new value */
};
#endif

/* PV_HC_MMUEXT operations */
#define PV_MMUEXT_PIN_L1      1
#define PV_MMUEXT_PIN_L2      2
#define PV_MMUEXT_PIN_L3      3
#define PV_MMUEXT_PIN_L4      4
#define PV_MMUEXT_NEW_BASEPTR 5
#define PV_MMUEXT_INVLPG      6
#define PV_MMUEXT_TLB_FLUSH   7

/* PV_HC_SET_TRAPS: one entry per exception vector (0..31) to handle */
#define PV_TRAP_MAX 32
#ifndef __ASSEMBLER__
struct pv_trap {
	uint64_t vector;
	uint64_t handler;        /* gva; 0 removes it */
};
#endif

/* events */
#define PV_PORTS 64              /* port 0 is never valid */
#define PV_VIRQ_TIMER 0
#define PV_VIRQ_COUNT 1
#define PV_TIMER_HZ_MAX 100

/* the segments a pv guest's frames carry */
#define PV_GUEST_CS 0x08
#define PV_GUEST_SS 0x10

/* Page-table entry bits the VMM looks at (the x86-64 format). */
#define PV_PTE_P         (1ULL << 0)
#define PV_PTE_W         (1ULL << 1)
#define PV_PTE_PS        (1ULL << 7)
#define PV_PTE_NX        (1ULL << 63)
#define PV_PTE_ADDR      0x000ffffffffff000ULL
#define PV_PTE_RESERVED  (0x7ffULL << 52 | PV_PTE_PS)

/* Where the VMM puts the pages it shares, and the start page tables:
 * PML4 at 0x1000, PDPT 0x2000, PD 0x3000, then one L1 per 2 MiB of RAM
 * from 0x4000, mapping guest RAM 1:1 (the page at 0 not at all, the
 * tables read-only, everything else writable). */
#define PV_START_INFO_GPA 0x10000
#define PV_SHARED_INFO_GPA 0x11000
#define PV_CONSOLE_GPA 0x12000

#define PV_CONSOLE_OUT_SIZE 2048         /* a power of two */

#ifndef __ASSEMBLER__
struct pv_start_info {
	uint64_t magic;          /* PV_START_MAGIC */
	uint64_t version;        /* PV_ABI_VERSION */
	uint64_t ram_bytes;
	uint64_t shared_info;    /* gpa of struct pv_shared_info */
	uint64_t console;        /* gpa of struct pv_console */
	uint64_t console_port;   /* send an event here after writing to an empty ring */
	uint64_t boot_pml4;      /* the pinned start tables */
	uint64_t boot_l1;        /* the entry mapping gpa g is at boot_l1 + (g >> 12) * 8 */
};

struct pv_shared_info {
	volatile uint8_t upcall_pending;   /* some port_pending bit is set */
	volatile uint8_t upcall_mask;      /* 1: events wait (the guest's "interrupts off") */
	uint8_t pad[6];
	volatile uint64_t port_pending;    /* a bit per port */
	volatile uint64_t cr2;             /* the last page fault's address */
};

struct pv_console {
	volatile uint8_t out[PV_CONSOLE_OUT_SIZE];
	volatile uint32_t out_cons;        /* written by the VMM */
	volatile uint32_t out_prod;        /* written by the guest */
};
#endif

#endif
