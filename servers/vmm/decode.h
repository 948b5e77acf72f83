/* Decoding the x86 instructions a guest uses to touch memory-mapped I/O.
 *
 * When a guest's access to an MMIO address causes a nested page fault,
 * the hardware tells the VMM the guest-physical address but (QEMU's SVM
 * gives no decode assists) not what the instruction wanted: load or
 * store, how many bytes, which register.  The VMM fetches the bytes at
 * the guest's RIP and calls mmio_decode(); then it performs the access
 * on the emulated device, updates the register with mmio_load_result()
 * or takes the data from mmio_store_value(), and advances RIP by
 * `length`.
 *
 * Only the MOV family is decoded (see decode.c for the list): it is what
 * drivers use on device registers (Linux's readl()/writel() are plain
 * MOVs).  The effective address is not computed, since the hardware has
 * already reported it; only the instruction's exact length is.
 *
 * This file and decode.c are pure C11 with no library calls: they are
 * compiled both for the host (unit tests) and freestanding (the VMM). */
#ifndef VMM_DECODE_H
#define VMM_DECODE_H

#include <stddef.h>
#include <stdint.h>

/* The default operand and address size of the guest's code segment:
 * 16 in real mode and 16-bit protected mode (CS.D = 0), 32 in 32-bit
 * protected mode and compatibility mode (CS.D = 1), 64 in 64-bit mode
 * (CS.L = 1, where the default operand size is still 32). */
enum cpu_mode { MODE_REAL16, MODE_PROT16, MODE_PROT32, MODE_LONG64 };

enum mmio_kind { MMIO_LOAD, MMIO_STORE };

/* Errors returned by mmio_decode(). */
#define DECODE_TRUNCATED   (-1)  /* the instruction goes on past `avail`: fetch more bytes */
#define DECODE_UNSUPPORTED (-2)  /* a real instruction, but not one of the forms decoded here */
#define DECODE_INVALID     (-3)  /* cannot be executed: no memory operand, LOCK on MOV, over 15 bytes */

#define MMIO_MAX_INSN 15         /* the architectural limit on an instruction's length */

struct mmio_insn {
	uint8_t length;        /* bytes, 1..15 */
	uint8_t kind;          /* MMIO_LOAD: memory -> register; MMIO_STORE: register or immediate -> memory */
	uint8_t size;          /* access size in bytes: 1, 2, 4, 8 */
	uint8_t reg;           /* register number 0..15 (rax=0, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15)
	                        * for loads and register stores; 0 for immediate stores */
	uint8_t high_byte;     /* 1 if reg names AH/CH/DH/BH (8-bit, no REX, reg 4..7) */
	uint8_t has_imm;       /* store of an immediate */
	uint8_t extend;        /* loads: 0 plain, 1 zero-extend (movzx), 2 sign-extend (movsx/movsxd) */
	uint8_t dest_size;     /* loads: size of the destination register write: 1, 2, 4 (zero-extends
	                        * to 64), 8; 0 for stores */
	uint64_t imm;          /* the immediate as the instruction stores it: `size` bytes, so an imm8,
	                        * imm16 or imm32 is zero-extended above its size, except that the
	                        * REX.W form of C7 sign-extends its imm32 to 64 bits */
	struct mmio_address {  /* where the memory operand is, to compute its address (mmio_address) */
		uint8_t size;          /* address size in bytes: 2, 4 or 8 */
		int8_t base, index;    /* register numbers as for reg, or ADDR_NO_REG */
		uint8_t scale;         /* 1, 2, 4 or 8 */
		uint8_t rip_relative;  /* disp is relative to the next instruction */
		uint8_t segment;       /* SEG_OVERRIDE_* below: the override, or the default (DS, or SS
		                        * for a base of rSP or rBP) */
		uint64_t disp;         /* the displacement, sign-extended; for moffs, the offset */
	} addr;
};

#define ADDR_NO_REG (-1)
/* Segment registers in the x86 encoding order (ES, CS, SS, DS, FS, GS). */
enum { SEG_OVERRIDE_ES, SEG_OVERRIDE_CS, SEG_OVERRIDE_SS, SEG_OVERRIDE_DS, SEG_OVERRIDE_FS,
       SEG_OVERRIDE_GS };

/* Decode the instruction in bytes[0..avail).  Returns 0 and fills *out,
 * or a negative DECODE_* code and leaves *out alone.  Never reads
 * bytes[avail] or beyond, nor more than 15 bytes. */
int mmio_decode(const uint8_t *bytes, size_t avail, enum cpu_mode mode, struct mmio_insn *out);
/* mmio_decode, the last instruction it decoded kept: bytes (all
 * MMIO_MAX_INSN of the buffer readable, the first `avail` fetched) that
 * begin with that instruction, in the same mode, decode as it did. */
int mmio_decode_again(const uint8_t bytes[MMIO_MAX_INSN], size_t avail, enum cpu_mode mode, struct mmio_insn *out);

/* The value a load writes into the full 64-bit register, given the old
 * register value and the data read (`size` bytes in the low bits; higher
 * bits are ignored), per x86 rules: 8- and 16-bit writes keep the other
 * bits, AH..BH write bits 8..15, 32-bit writes zero bits 32..63. */
uint64_t mmio_load_result(const struct mmio_insn *in, uint64_t old_reg, uint64_t data);

/* The value a store writes (`size` bytes in the low bits, zero above),
 * from the register's value or the immediate. */
uint64_t mmio_store_value(const struct mmio_insn *in, uint64_t reg_value);

/* The memory operand's offset within its segment (the effective address),
 * reduced to the address size.  regs holds the 16 general registers in
 * x86 order; next_rip is the address of the following instruction (for
 * RIP-relative operands). */
uint64_t mmio_address(const struct mmio_insn *in, const uint64_t regs[16], uint64_t next_rip);

/* What the prefixes of any instruction say, for string I/O (whose other
 * operands the exit already describes) and the instructions the VMM
 * decodes by hand (MOV to DRn, LTR): the address size, the segment
 * override, REX.  Returns 0, or DECODE_TRUNCATED / DECODE_INVALID when
 * the prefixes run past `avail` or 15 bytes. */
struct insn_prefixes {
	uint8_t addr_size;     /* 2, 4 or 8 */
	int8_t segment;        /* SEG_OVERRIDE_*, or -1 for none */
	uint8_t length;        /* bytes of prefixes, REX included */
	uint8_t rex;           /* the REX byte right before the opcode, or 0 */
};
int insn_prefixes(const uint8_t *bytes, size_t avail, enum cpu_mode mode, struct insn_prefixes *out);

/* INVLPG m (0F 01 /7, a memory operand): its length and the parts of the
 * address it names (mmio_address computes it; add the segment's base),
 * which shadow paging needs because the exit gives no address (no decode
 * assists).  Returns 0, a DECODE_* code, or DECODE_UNSUPPORTED for
 * another instruction. */
int invlpg_decode(const uint8_t *bytes, size_t avail, enum cpu_mode mode, struct mmio_insn *out);

#endif
