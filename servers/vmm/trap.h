/* mode=trap, mode=patch and mode=pv: the guest kernel as an ordinary
 * Berth thread (docs/vmm.md, "Modes").  What trap.c, trap_emulate.c,
 * trap_shadow.c, patch.c and pv.c share. */
#ifndef VMM_TRAP_H
#define VMM_TRAP_H

#include "vm.h"
#include "mode.h"

#define TRAP_RAM_MAX (16UL << 20)  /* 4 KiB frames, each a capability: keep it small */
/* Our tables for these modes live in pages of our pool at run time, not
 * in the image's bss: init makes every VMM's image out of the 256 slots
 * of its window for the task, with little to spare (tv.frames: at
 * TRAP_FRAMES_VA; pv.c's: from TRAP_FRAMES_VA + 1 GiB). */
#define RFLAGS_IF (1UL << 9)

/* The CPU state the guest believes it has: what ring 3 does not let it
 * hold for real.  The general registers, RIP and the arithmetic flags
 * are the thread's own (SYS_TCB_REGS). */
struct soft_cpu {
	uint64_t cr0, cr2, cr3, cr4, efer;
	uint64_t gdt_base, idt_base;
	uint16_t gdt_limit, idt_limit;
	uint16_t sel[6];          /* ES CS SS DS FS GS, as the guest loaded them */
	uint16_t tr, ldtr;
	int vif;                  /* the guest's IF */
	int sti_shadow;           /* the instruction after STI runs before any interrupt */
	uint64_t sti_next;        /* its address */
};

struct trap_stats {
	uint64_t faults, emulated, shadow_fills, shadow_flushes, interrupts, reflected, patched, pushf_popf;
};

struct trap_vm {
	enum vmm_mode mode;
	uint64_t tcb, vspace, cnode;
	uint64_t fault_send;      /* the thread's fault port: our port, badge TRAP_BADGE */
	struct soft_cpu cpu;
	struct trap_stats stats;
	int parked;               /* in HLT: its fault's reply waits in vm.parked */
	uint64_t *frames;         /* the guest's frame at each guest-physical page, at TRAP_FRAMES_VA */
};
extern struct trap_vm tv;

/* what a fault handler decides */
enum trap_action { TRAP_RESUME, TRAP_PARK, TRAP_STOP };

/* trap.c */
#define TRAP_BADGE 5          /* of the guest thread's fault port (1-4: main.c, control.c, disk.c) */
int trap_build(const struct bootinfo *bi, enum vmm_mode mode);   /* 0, or the VMM's exit status */
long trap_image_copy(const struct bootinfo_module *mod);
struct guest_paging trap_paging(void);
enum trap_action trap_stop(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int trap_deliver(struct tcb_regs *r, unsigned vector, int has_error, uint64_t error);
int trap_push_frame(struct tcb_regs *r, uint64_t target, uint16_t cs, int has_error, uint64_t error);
uint64_t *trap_gpr(struct tcb_regs *r, unsigned n);   /* x86 order: rax rcx rdx rbx rsp rbp rsi rdi r8.. */

/* trap_emulate.c: #GP, #UD, #BP and the rest; the guest's SYSCALL */
enum trap_action trap_emulate(struct tcb_regs *r, uint64_t vector, uint64_t error);
enum trap_action trap_syscall(struct tcb_regs *r);

/* trap_shadow.c: the guest's page tables, shadowed into its thread's VSpace */
enum trap_action shadow_fault(struct tcb_regs *r, uint64_t gva, uint64_t error);
void shadow_flush(void);
void shadow_flush_page(uint64_t gva);

/* patch.c: mode=patch */
int patch_page_is_code(uint64_t gpa);                 /* scanned, patched, to run and not be written */
void patch_scan(uint64_t page_gva, uint64_t gpa_page, uint64_t rip);  /* its first fetch */
void patch_unscan(uint64_t gpa_page);                 /* a write to it: the original bytes back */
enum trap_action patch_code_store(struct tcb_regs *r, uint64_t gva, uint64_t page_gva, uint64_t gpa_page);
int patch_lookup(uint64_t gva);   /* the PRIV_PUSHF or PRIV_POPF an int3 at gva replaced, or -1 */

/* main.c */
void uart_output(void *ctx, const uint8_t *bytes, size_t n);

#endif
