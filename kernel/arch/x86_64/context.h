/* A user thread's saved registers.  It sits at the start of the TCB and
 * its end is the TSS's RSP0, so the CPU pushes the interrupt frame straight
 * into it and the entry stubs push the rest (seL4's layout trick: no
 * per-thread kernel stack).  Field order matches entry.S. */
#ifndef CONTEXT_H
#define CONTEXT_H

#include <stdint.h>

struct context {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;     /* the interrupt frame */
};

#define CONTEXT_SIZE (22 * 8UL)
_Static_assert(sizeof(struct context) == CONTEXT_SIZE, "context layout");
_Static_assert(CONTEXT_SIZE % 16 == 0, "the CPU aligns RSP0 to 16 bytes");
/* the offsets entry.S's context_restore_message uses (n*8 there) */
_Static_assert(__builtin_offsetof(struct context, r12) == 24 && __builtin_offsetof(struct context, r10) == 40 &&
               __builtin_offsetof(struct context, r9) == 48 && __builtin_offsetof(struct context, r8) == 56 &&
               __builtin_offsetof(struct context, rbp) == 64 && __builtin_offsetof(struct context, rdi) == 72 && __builtin_offsetof(struct context, rsi) == 80 &&
               __builtin_offsetof(struct context, rdx) == 88 && __builtin_offsetof(struct context, rbx) == 104 &&
               __builtin_offsetof(struct context, rip) == 136 &&
               __builtin_offsetof(struct context, rflags) == 152 && __builtin_offsetof(struct context, rsp) == 160,
               "struct context as entry.S reads it");

#define VECTOR_SYSCALL 0x100   /* marks a context saved by SYSCALL */

#endif
