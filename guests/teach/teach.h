/* Berth's teaching guest: a small kernel written to show what a hypervisor
 * must get right (guests/teach/README.md).  Everything here runs in the
 * guest's ring 0; under mode=trap and mode=patch the VMM runs it in ring 3
 * and emulates what that changes.  The instructions the lesson is about
 * (cli, sti, pushf, popf, hlt, in/out, mov to CR3) are written out in these
 * inline functions so that each one is plainly visible in the code.
 *
 * Built with -DTEACH_PV (build/guests/teach/teach_pv.bin, for mode=pv)
 * the same functions are the paravirtual operations of servers/vmm/pv_abi.h
 * instead: the guest knows it runs in ring 3 under a hypervisor and asks
 * it, and its "interrupt flag" is a byte in a page shared with the VMM. */
#ifndef TEACH_H
#define TEACH_H

#include <stdint.h>
#include <stddef.h>

#define RFLAGS_IF 0x200UL

#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_TSS 0x18

#ifndef TEACH_PV
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void hlt(void) { __asm__ volatile("hlt" ::: "memory"); }
/* sti's one-instruction shadow covers the hlt: no interrupt can slip in
 * between and leave us asleep with the wake-up already handled */
static inline void sti_hlt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }

static inline uint64_t pushf(void)
{
	uint64_t f;
	__asm__ volatile("pushfq; popq %0" : "=r"(f) :: "memory");
	return f;
}

static inline void popf(uint64_t f)
{
	__asm__ volatile("pushq %0; popfq" :: "r"(f) : "memory", "cc");
}
#else
#include "pv_abi.h"

/* A hypercall: SYSCALL with the number in RAX, which the kernel turns
 * into a message to the VMM.  SYSCALL itself overwrites RCX and R11, and
 * PV_HC_MMU_UPDATE answers in RDX too. */
static inline long hypercall(uint64_t nr, uint64_t a, uint64_t b)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret), "+D"(a), "+S"(b) : "a"(nr) : "rcx", "r11", "rdx", "memory");
	return ret;
}

extern struct pv_shared_info *pv_shared;   /* pv.c: the page the VMM shares */

/* cli is a store: events wait while the mask is set.  No hypercall. */
static inline void cli(void)
{
	pv_shared->upcall_mask = 1;
	__asm__ volatile("" ::: "memory");
}

/* sti clears the mask, then asks for what came while it was set, if
 * anything did: the only time enabling "interrupts" costs a hypercall. */
static inline void sti(void)
{
	pv_shared->upcall_mask = 0;
	__asm__ volatile("" ::: "memory");
	if (pv_shared->upcall_pending)
		hypercall(PV_HC_EVENT_CHECK, 0, 0);
}

/* hlt: block until an event, with events enabled (Xen's SCHEDOP_block),
 * which is what sti; hlt means */
static inline void hlt(void) { hypercall(PV_HC_BLOCK, 0, 0); }
static inline void sti_hlt(void) { hypercall(PV_HC_BLOCK, 0, 0); }

/* pushf and popf: the real flags for the arithmetic bits, the mask for IF */
static inline uint64_t pushf(void)
{
	uint64_t f;
	__asm__ volatile("pushfq; popq %0" : "=r"(f) :: "memory");
	return (f & ~RFLAGS_IF) | (pv_shared->upcall_mask ? 0 : RFLAGS_IF);
}

static inline void popf(uint64_t f)
{
	__asm__ volatile("pushq %0; popfq" :: "r"(f) : "memory", "cc");
	if (f & RFLAGS_IF)
		sti();
	else
		cli();
}
#endif

/* Linux's names for the two halves of a critical section that may nest */
static inline uint64_t irq_save(void)
{
	uint64_t f = pushf();
	cli();
	return f;
}

static inline void irq_restore(uint64_t f) { popf(f); }

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* RFLAGS.TF on and off: while it is set the CPU raises #DB after every
 * instruction (debug_entry counts them).  Plain pushfq/popfq in every
 * build: TF is not the interrupt flag. */
#define RFLAGS_TF 0x100UL
static inline void trap_flag_set(void)
{
	__asm__ volatile("pushfq; orq %0, (%%rsp); popfq" :: "i"(RFLAGS_TF) : "memory", "cc");
}

static inline void trap_flag_clear(void)
{
	__asm__ volatile("pushfq; andq %0, (%%rsp); popfq" :: "i"(~(long)RFLAGS_TF) : "memory", "cc");
}

/* A mark: the VMM notes its own count of what the guest cost it so far
 * (VM exits, faults or hypercalls) and prints the marks when the run
 * ends (docs/guest-io.md, port 0x519; pv: PV_HC_MARK). */
#ifndef TEACH_PV
static inline void mark(uint8_t id) { __asm__ volatile("outb %0, %1" :: "a"(id), "Nd"((uint16_t)0x519) : "memory"); }
#else
static inline void mark(uint8_t id) { hypercall(PV_HC_MARK, id, 0); }
#endif

static inline uint64_t read_cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

#ifndef TEACH_PV
static inline void write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" :: "r"(v) : "memory"); }

/* The end of the run: hypercall 2 (exit) with the status, as the test
 * guests' runtime does (docs/vmm.md, "Hypercalls"). */
static inline void __attribute__((noreturn)) guest_exit(uint64_t status)
{
	__asm__ volatile("vmmcall" :: "a"(2UL), "b"(status) : "memory");
	for (;;)
		hlt();
}
#else
/* a new address space: one of our pinned top-level tables */
static inline void write_cr3(uint64_t v) { hypercall(PV_HC_MMUEXT, PV_MMUEXT_NEW_BASEPTR, v); }

static inline void __attribute__((noreturn)) guest_exit(uint64_t status)
{
	hypercall(PV_HC_EXIT, status, 0);
	for (;;)
		;
}

/* pv.c: the rest of the paravirtual interface */
#define TIMER_PORT 2                  /* the event port we bind the timer to */
void pv_start(uint64_t start_info);   /* entry.S, before main */
extern const struct pv_start_info *pv_info;
long pv_check(const char *what, long result);   /* a failed hypercall ends the run */
void mmu_queue(uint64_t entry_gpa, uint64_t value);   /* batched page-table writes */
void mmu_flush(void);
void pv_pin(void *table, unsigned level);
int pv_timer_event(void);             /* the upcall: take the pending events; was the timer's one? */
int pv_console_begin(void);           /* print: was the ring empty? */
void pv_console_putc(char c);
void pv_console_end(int was_empty);
#endif

/* console.c: the 16550 at 0x3f8, polled */
void print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* cpu.c: the machine's tables */
void cpu_init(void);
void idt_set(unsigned vector, void (*handler)(void));
void timer_init(unsigned hz);
void timer_pause(int paused);   /* no timer interrupts (events) while paused */

/* paging.c: one address space per task */
void paging_init(void);
uint64_t space_create(void *private_page);
#define PRIVATE_VA 0x800000UL   /* each task's own page, at the same address in every space */

/* sched.c: tasks switched round robin on the timer */
#define NTASKS 3                /* the controller (task 0) and two workers */
struct task {
	uint64_t rsp;           /* saved stack pointer while not running */
	uint64_t cr3;           /* its address space */
	int runnable;
};
extern struct task tasks[NTASKS];
extern volatile unsigned current;
extern volatile uint64_t ticks;
void task_start(unsigned t, void (*entry)(void), void *stack_top);
uint64_t timer_tick(uint64_t rsp);   /* entry.S calls it with the interrupted stack */

/* what the timer checks: the guest's own belief that interrupts are off */
extern volatile int irqs_off;
extern volatile uint64_t irqs_while_off, first_bad_rip;
void workload_tick(void);

/* entry.S */
void timer_entry(void);
void debug_entry(void);                  /* #DB: counts guest_steps */
extern volatile uint64_t guest_steps;
extern void (*const exception_stubs[32])(void);

#endif
