/* The decoder of trap_decode.h.  x86-64 encodings from the AMD64
 * Architecture Programmer's Manual, vol. 3: legacy prefixes, REX, then
 * the opcode, then ModRM (mod, reg, rm), SIB and a displacement. */
#include "trap_decode.h"

#define MAX_INSN 15

/* ModRM and what follows it, from bytes[at]: fills the register or
 * memory operand, returns the bytes after it or a PRIV_* error. */
static int modrm(const uint8_t *b, size_t avail, size_t at, uint8_t rex, struct priv_insn *out, unsigned *reg_field)
{
	if (at >= avail)
		return PRIV_TRUNCATED;
	uint8_t m = b[at++];
	unsigned mod = m >> 6, reg = (m >> 3) & 7, rm = m & 7;
	*reg_field = reg | ((rex & 4) ? 8 : 0);
	if (mod == 3) {
		out->has_mem = 0;
		out->reg = (uint8_t)(rm | ((rex & 1) ? 8 : 0));
		return (int)at;
	}
	out->has_mem = 1;
	out->base = out->index = -1;
	out->scale = 1;
	out->rip_relative = 0;
	out->disp = 0;
	unsigned disp_bytes = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	if (rm == 4) { /* a SIB byte */
		if (at >= avail)
			return PRIV_TRUNCATED;
		uint8_t sib = b[at++];
		unsigned base = sib & 7, index = ((sib >> 3) & 7) | ((rex & 2) ? 8 : 0);
		out->scale = (uint8_t)(1u << (sib >> 6));
		if (index != 4)
			out->index = (int8_t)index;
		if (base == 5 && mod == 0)
			disp_bytes = 4; /* no base, disp32 */
		else
			out->base = (int8_t)(base | ((rex & 1) ? 8 : 0));
	} else if (rm == 5 && mod == 0) {
		out->rip_relative = 1;
		disp_bytes = 4;
	} else {
		out->base = (int8_t)(rm | ((rex & 1) ? 8 : 0));
	}
	if (at + disp_bytes > avail)
		return PRIV_TRUNCATED;
	if (disp_bytes == 1) {
		out->disp = (uint64_t)(int64_t)(int8_t)b[at];
	} else if (disp_bytes == 4) {
		uint32_t d = (uint32_t)b[at] | (uint32_t)b[at + 1] << 8 | (uint32_t)b[at + 2] << 16 |
			     (uint32_t)b[at + 3] << 24;
		out->disp = (uint64_t)(int64_t)(int32_t)d;
	}
	return (int)(at + disp_bytes);
}

int priv_decode(const uint8_t *b, size_t avail, struct priv_insn *out)
{
	if (avail > MAX_INSN)
		avail = MAX_INSN;
	struct priv_insn in = { 0 };
	size_t at = 0;
	int opsize16 = 0;
	uint8_t rex = 0;
	/* legacy prefixes: operand size matters; segment overrides and
	 * the rest do not change what these instructions do here */
	for (;; at++) {
		if (at >= avail)
			return PRIV_TRUNCATED;
		uint8_t p = b[at];
		if (p == 0x66)
			opsize16 = 1;
		else if (!(p == 0x26 || p == 0x2e || p == 0x36 || p == 0x3e || p == 0x64 || p == 0x65 ||
			   p == 0x67 || p == 0xf2 || p == 0xf3))
			break;
	}
	if ((b[at] & 0xf0) == 0x40)
		rex = b[at++];
	if (at >= avail)
		return PRIV_TRUNCATED;
	uint8_t op = b[at++];
	int n = (int)at;
	unsigned reg;
	switch (op) {
	case 0xfa: in.op = PRIV_CLI; break;
	case 0xfb: in.op = PRIV_STI; break;
	case 0xf4: in.op = PRIV_HLT; break;
	case 0xcc: in.op = PRIV_INT3; break;
	case 0x9c: in.op = PRIV_PUSHF; in.size = opsize16 ? 2 : 8; break;
	case 0x9d: in.op = PRIV_POPF; in.size = opsize16 ? 2 : 8; break;
	case 0xcf: in.op = PRIV_IRET; in.size = (rex & 8) ? 8 : 4; break;
	case 0xcb: in.op = PRIV_LRET; in.size = (rex & 8) ? 8 : 4; break;
	case 0xe4: case 0xe5: case 0xe6: case 0xe7:
		if (at >= avail)
			return PRIV_TRUNCATED;
		in.op = (op & 2) ? PRIV_OUT : PRIV_IN;
		in.size = (op & 1) ? (opsize16 ? 2 : 4) : 1;
		in.port = b[at];
		n = (int)at + 1;
		break;
	case 0xec: case 0xed: case 0xee: case 0xef:
		in.op = (op & 2) ? PRIV_OUT : PRIV_IN;
		in.size = (op & 1) ? (opsize16 ? 2 : 4) : 1;
		in.port_in_dx = 1;
		break;
	case 0x8e: /* mov sreg, r/m16 */
		n = modrm(b, avail, at, rex, &in, &reg);
		if (n < 0)
			return n;
		reg &= 7;
		if (reg > 5 || reg == 1) /* no such segment register; CS cannot be loaded so */
			return PRIV_UNSUPPORTED;
		in.op = PRIV_MOV_TO_SREG;
		in.sreg = (uint8_t)reg;
		in.size = 2;
		break;
	case 0x0f:
		if (at >= avail)
			return PRIV_TRUNCATED;
		op = b[at++];
		if (op == 0x01) {
			if (at >= avail)
				return PRIV_TRUNCATED;
			if (b[at] == 0xd9) { /* vmmcall */
				in.op = PRIV_VMMCALL;
				n = (int)at + 1;
				break;
			}
			n = modrm(b, avail, at, rex, &in, &reg);
			if (n < 0)
				return n;
			if (!in.has_mem)
				return PRIV_UNSUPPORTED; /* swapgs, rdtscp, monitor...: not emulated */
			reg &= 7;
			if (reg == 2)
				in.op = PRIV_LGDT;
			else if (reg == 3)
				in.op = PRIV_LIDT;
			else if (reg == 7)
				in.op = PRIV_INVLPG;
			else
				return PRIV_UNSUPPORTED;
		} else if (op == 0x00) {
			n = modrm(b, avail, at, rex, &in, &reg);
			if (n < 0)
				return n;
			reg &= 7;
			if (reg == 2)
				in.op = PRIV_LLDT;
			else if (reg == 3)
				in.op = PRIV_LTR;
			else
				return PRIV_UNSUPPORTED;
			in.size = 2;
		} else if (op == 0x20 || op == 0x22) {
			/* mov to or from CRn: always a register operand, whatever mod says */
			if (at >= avail)
				return PRIV_TRUNCATED;
			uint8_t m = b[at];
			in.op = op == 0x20 ? PRIV_MOV_FROM_CR : PRIV_MOV_TO_CR;
			in.cr = (uint8_t)(((m >> 3) & 7) | ((rex & 4) ? 8 : 0));
			in.reg = (uint8_t)((m & 7) | ((rex & 1) ? 8 : 0));
			if (in.cr != 0 && in.cr != 2 && in.cr != 3 && in.cr != 4 && in.cr != 8)
				return PRIV_UNSUPPORTED;
			n = (int)at + 1;
		} else {
			return PRIV_UNSUPPORTED;
		}
		break;
	default:
		return PRIV_UNSUPPORTED;
	}
	if (n > MAX_INSN)
		return PRIV_UNSUPPORTED;
	in.length = (uint8_t)n;
	*out = in;
	return 0;
}

uint64_t priv_address(const struct priv_insn *in, const uint64_t regs[16], uint64_t next_rip)
{
	uint64_t a = in->disp;
	if (in->rip_relative)
		a += next_rip;
	if (in->base >= 0)
		a += regs[in->base];
	if (in->index >= 0)
		a += regs[in->index] * in->scale;
	return a;
}

/* --- instruction lengths (mode=patch) -------------------------------------- */

/* ModRM, SIB and displacement bytes from bytes[at], or -1 past avail. */
static int modrm_bytes(const uint8_t *b, size_t avail, size_t at)
{
	if (at >= avail)
		return -1;
	unsigned m = b[at], mod = m >> 6, rm = m & 7, n = 1;
	if (mod == 3)
		return 1;
	if (rm == 4) {
		if (at + 1 >= avail)
			return -1;
		n++;
		if (mod == 0 && (b[at + 1] & 7) == 5)
			n += 4;
	} else if (mod == 0 && rm == 5) {
		n += 4; /* RIP-relative */
	}
	n += mod == 1 ? 1 : mod == 2 ? 4 : 0;
	return (int)n;
}

/* The two-byte map (0f xx): 1 with ModRM, 2 with ModRM and imm8, 3 with
 * a rel32, 0 with nothing, -1 unknown here. */
static int two_byte_form(uint8_t op)
{
	if (op == 0x05 || op == 0x06 || op == 0x07 || op == 0x08 || op == 0x09 || op == 0x0b || op == 0x30 ||
	    op == 0x31 || op == 0x32 || op == 0x33 || op == 0xa2 || op == 0xa0 || op == 0xa1 || op == 0xa8 ||
	    op == 0xa9 || (op >= 0xc8 && op <= 0xcf))
		return 0;
	if (op == 0x00 || op == 0x01 || op == 0x0d || (op >= 0x18 && op <= 0x1f) || (op >= 0x20 && op <= 0x23) ||
	    (op >= 0x40 && op <= 0x4f) || (op >= 0x90 && op <= 0x9f) || op == 0xa3 || op == 0xa5 || op == 0xab ||
	    op == 0xad || op == 0xaf || op == 0xb0 || op == 0xb1 || op == 0xb3 || (op >= 0xb6 && op <= 0xbf && op != 0xb8 && op != 0xb9 && op != 0xba) ||
	    op == 0xbb || op == 0xc0 || op == 0xc1 || op == 0xc7)
		return 1;
	if (op == 0xa4 || op == 0xac || op == 0xba)
		return 2;
	if (op >= 0x80 && op <= 0x8f)
		return 3;
	return -1;
}

int insn_length(const uint8_t *b, size_t avail, uint8_t *opcode, int *prefixed)
{
	if (avail > MAX_INSN)
		avail = MAX_INSN;
	size_t at = 0;
	int opsize16 = 0, addr32 = 0, rex_w = 0;
	*prefixed = 0;
	for (;; at++) {
		if (at >= avail)
			return PRIV_TRUNCATED;
		uint8_t p = b[at];
		if (p == 0x66)
			opsize16 = 1;
		else if (p == 0x67)
			addr32 = 1;
		else if (!(p == 0xf0 || p == 0xf2 || p == 0xf3 || p == 0x26 || p == 0x2e || p == 0x36 || p == 0x3e ||
			   p == 0x64 || p == 0x65))
			break;
		*prefixed = 1;
	}
	if ((b[at] & 0xf0) == 0x40) {
		rex_w = (b[at] & 8) != 0;
		at++;
		*prefixed = 1;
		if (at >= avail)
			return PRIV_TRUNCATED;
	}
	uint8_t op = b[at++];
	*opcode = op;
	unsigned imm = 0, imm_z = opsize16 ? 2 : 4; /* Iz: 16 or 32 bits */
	int has_modrm = 0;
	if (op == 0x0f) {
		if (at >= avail)
			return PRIV_TRUNCATED;
		uint8_t op2 = b[at++];
		if (op2 == 0x38 || op2 == 0x3a) { /* three-byte maps: ModRM (and imm8) */
			if (at >= avail)
				return PRIV_TRUNCATED;
			at++;
			has_modrm = 1;
			imm = op2 == 0x3a;
		} else {
			int form = two_byte_form(op2);
			if (form < 0)
				return PRIV_UNSUPPORTED;
			has_modrm = form == 1 || form == 2;
			imm = form == 2 ? 1 : form == 3 ? 4 : 0;
		}
	} else if (op < 0x40) {
		unsigned low = op & 7;
		if (op == 0x26 || op == 0x2e || op == 0x36 || op == 0x3e || op == 0x06 || op == 0x07 || op == 0x0e ||
		    op == 0x16 || op == 0x17 || op == 0x1e || op == 0x1f || op == 0x27 || op == 0x2f || op == 0x37 ||
		    op == 0x3f)
			return PRIV_UNSUPPORTED; /* invalid in 64-bit mode */
		if (low < 4)
			has_modrm = 1;
		else
			imm = low == 4 ? 1 : imm_z;
	} else if (op >= 0x50 && op <= 0x5f) {
		/* push, pop */
	} else if (op == 0x63) {
		has_modrm = 1;
	} else if (op == 0x68) {
		imm = imm_z;
	} else if (op == 0x69) {
		has_modrm = 1;
		imm = imm_z;
	} else if (op == 0x6a || (op >= 0x70 && op <= 0x7f)) {
		imm = 1;
	} else if (op == 0x6b) {
		has_modrm = 1;
		imm = 1;
	} else if (op >= 0x6c && op <= 0x6f) {
		/* ins, outs */
	} else if (op == 0x80 || op == 0x83 || op == 0xc0 || op == 0xc1 || op == 0xc6) {
		has_modrm = 1;
		imm = 1;
	} else if (op == 0x81 || op == 0xc7) {
		has_modrm = 1;
		imm = imm_z;
	} else if ((op >= 0x84 && op <= 0x8f) || (op >= 0xd0 && op <= 0xd3) || op == 0xfe || op == 0xff) {
		has_modrm = 1;
	} else if ((op >= 0x90 && op <= 0x99) || op == 0x9b || op == 0x9c || op == 0x9d || op == 0x9e || op == 0x9f ||
		   (op >= 0xa4 && op <= 0xa7) || (op >= 0xaa && op <= 0xaf) || op == 0xc3 || op == 0xc9 ||
		   op == 0xcb || op == 0xcc || op == 0xcf || (op >= 0xec && op <= 0xef) || op == 0xf1 || op == 0xf4 ||
		   op == 0xf5 || (op >= 0xf8 && op <= 0xfd)) {
		/* no operands in the instruction */
	} else if (op >= 0xa0 && op <= 0xa3) {
		imm = addr32 ? 4 : 8; /* moffs */
	} else if (op == 0xa8 || op == 0xcd || (op >= 0xe0 && op <= 0xe7) || op == 0xeb) {
		imm = 1;
	} else if (op == 0xa9) {
		imm = imm_z;
	} else if (op >= 0xb0 && op <= 0xb7) {
		imm = 1;
	} else if (op >= 0xb8 && op <= 0xbf) {
		imm = rex_w ? 8 : imm_z;
	} else if (op == 0xc2 || op == 0xca) {
		imm = 2;
	} else if (op == 0xc8) {
		imm = 3;
	} else if (op == 0xe8 || op == 0xe9) {
		imm = 4;
	} else if (op == 0xf6 || op == 0xf7) {
		has_modrm = 1;
		if (at >= avail)
			return PRIV_TRUNCATED;
		if (((b[at] >> 3) & 7) < 2) /* test r/m, imm */
			imm = op == 0xf6 ? 1 : imm_z;
	} else {
		return PRIV_UNSUPPORTED; /* x87, VEX, far forms, invalid */
	}
	if (has_modrm) {
		int n = modrm_bytes(b, avail, at);
		if (n < 0)
			return PRIV_TRUNCATED;
		at += (size_t)n;
	}
	at += imm;
	if (at > avail)
		return at > MAX_INSN ? PRIV_UNSUPPORTED : PRIV_TRUNCATED;
	return (int)at;
}
