/* Decoding the privileged and sensitive instructions a deprivileged guest
 * kernel executes (mode=trap and mode=patch, docs/vmm.md).  The guest runs
 * in ring 3; these instructions fault there (#GP or #UD), or, for pushf
 * and popf, are replaced by int3 in mode=patch, and the VMM emulates them.
 * Only 64-bit code is decoded: the guest the modes run is a 64-bit kernel.
 *
 * Pure C11 with no library calls: built for the host (unit tests) and
 * freestanding (the VMM). */
#ifndef VMM_TRAP_DECODE_H
#define VMM_TRAP_DECODE_H

#include <stddef.h>
#include <stdint.h>

enum priv_op {
	PRIV_CLI, PRIV_STI, PRIV_HLT,
	PRIV_IN, PRIV_OUT,                 /* size, port (or port_in_dx) */
	PRIV_LGDT, PRIV_LIDT, PRIV_INVLPG, /* a memory operand */
	PRIV_LTR, PRIV_LLDT,               /* a register or memory operand, 16 bits */
	PRIV_MOV_FROM_CR, PRIV_MOV_TO_CR,  /* cr, reg */
	PRIV_MOV_TO_SREG,                  /* sreg, from a register or memory (16 bits) */
	PRIV_IRET,                         /* size 8 (iretq) or 4 (iretd) */
	PRIV_LRET,                         /* size 8 (lretq) or 4 */
	PRIV_VMMCALL,
	PRIV_PUSHF, PRIV_POPF,             /* size 8, or 2 with 0x66 */
	PRIV_INT3,
};

struct priv_insn {
	uint8_t op;            /* enum priv_op */
	uint8_t length;        /* bytes, 1..15 */
	uint8_t size;          /* operand bytes (I/O, iret, pushf, popf, sreg loads) */
	uint8_t port_in_dx;    /* in/out: the port is DX */
	uint8_t port;          /* in/out with an immediate port */
	uint8_t cr;            /* mov to/from CRn: n */
	uint8_t sreg;          /* mov to sreg: ES 0, CS 1, SS 2, DS 3, FS 4, GS 5 */
	uint8_t reg;           /* the general register (0 rax .. 15 r15) of a register operand */
	uint8_t has_mem;       /* the operand is in memory, at the address below */
	int8_t base, index;    /* registers of the memory operand, or -1 */
	uint8_t scale;
	uint8_t rip_relative;
	uint64_t disp;         /* sign-extended */
};

#define PRIV_TRUNCATED   (-1)  /* the bytes end before the instruction does */
#define PRIV_UNSUPPORTED (-2)  /* not an instruction these modes emulate */

/* Decode bytes[0..avail) (never more than 15).  0 and *out filled, or a
 * negative PRIV_* code. */
int priv_decode(const uint8_t *bytes, size_t avail, struct priv_insn *out);

/* The memory operand's address (64-bit addressing; segment bases are 0
 * in 64-bit mode for every segment but FS and GS, which the guest's
 * decoded instructions do not use).  regs: the 16 general registers in
 * x86 order. */
uint64_t priv_address(const struct priv_insn *in, const uint64_t regs[16], uint64_t next_rip);

/* The length of any instruction of 64-bit general-purpose code (what a
 * compiler emits with -mgeneral-regs-only, and the system instructions),
 * for mode=patch's scan of code pages; *opcode gets the first opcode byte
 * (0x0f for two-byte ones) and *prefixed whether legacy prefixes or REX
 * came first.  A negative PRIV_* code for bytes it does not know (x87,
 * SSE, VEX and the like) or that run past avail. */
int insn_length(const uint8_t *bytes, size_t avail, uint8_t *opcode, int *prefixed);

#endif
