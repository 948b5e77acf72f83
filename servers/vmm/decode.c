/* Decoding the MOV instructions guests use on memory-mapped I/O (see
 * decode.h for why and for the interface).
 *
 * An x86 instruction is laid out as (Intel SDM vol. 2, chapter 2; AMD
 * APM vol. 3, chapter 1)
 *
 *   [legacy prefixes] [REX] opcode [ModRM [SIB] [displacement]] [immediate]
 *
 * and may be at most 15 bytes long.  The forms decoded here, from the
 * manuals' pages for MOV, MOVZX, MOVSX and MOVSXD ("r/m" is the memory
 * operand, found through ModRM; "/r" means ModRM.reg names a register,
 * "/0" that ModRM.reg must be 0):
 *
 *   88 /r          MOV r/m8, r8        store 1 byte from a register
 *   89 /r          MOV r/m, r          store 2, 4 or 8 bytes from a register
 *   8A /r          MOV r8, r/m8        load 1 byte into a register
 *   8B /r          MOV r, r/m          load 2, 4 or 8 bytes into a register
 *   C6 /0 ib       MOV r/m8, imm8      store an immediate byte
 *   C7 /0 iw/id    MOV r/m, imm16/32   store an immediate; with REX.W the
 *                                      imm32 is sign-extended to 8 bytes
 *   A0 moffs       MOV AL, moffs       load AL       (no ModRM: the address
 *   A1 moffs       MOV rAX, moffs      load rAX       is a plain offset of
 *   A2 moffs       MOV moffs, AL       store AL       the address size)
 *   A3 moffs       MOV moffs, rAX      store rAX
 *   0F B6 /r       MOVZX r, r/m8       load 1 byte, zero-extended
 *   0F B7 /r       MOVZX r, r/m16      load 2 bytes, zero-extended
 *   0F BE /r       MOVSX r, r/m8       load 1 byte, sign-extended
 *   0F BF /r       MOVSX r, r/m16      load 2 bytes, sign-extended
 *   REX.W 63 /r    MOVSXD r64, r/m32   load 4 bytes, sign-extended to 8
 *
 * Every byte of the address is counted, because the VMM must advance
 * RIP by the exact length, and its parts are kept: the nested page fault
 * gives only the guest-physical page that faulted, while an access that
 * straddles two pages, or one whose translation itself faulted, needs the
 * address the instruction meant (mmio_address).
 *
 * Pure C11, no library calls: built for the host and freestanding. */
#include "decode.h"

/* The bits of a REX prefix (0100WRXB). */
#define REX_W 0x8  /* 64-bit operand size */
#define REX_R 0x4  /* extends ModRM.reg to r8..r15 */
#define REX_X 0x2  /* extends SIB.index: does not change the length */
#define REX_B 0x1  /* extends ModRM.rm / SIB.base: does not change the length */

/* Return early with an error code. */
#define TRY(expr)                          \
	do {                               \
		int err_ = (expr);         \
		if (err_)                  \
			return err_;       \
	} while (0)

/* The bytes being decoded and how many have been consumed. */
struct cursor {
	const uint8_t *bytes;
	size_t avail;
	size_t pos;
};

/* Is it possible to consume n more bytes?  Any byte at offset 15 or
 * later would make the instruction too long (#GP on hardware), whatever
 * `avail` is; otherwise, a byte at `avail` or later has not been fetched.
 * Every read below is preceded by this check, so the decoder never looks
 * at bytes[avail] or beyond. */
static int need(const struct cursor *c, size_t n)
{
	if (c->pos + n > MMIO_MAX_INSN)
		return DECODE_INVALID;
	if (c->pos + n > c->avail)
		return DECODE_TRUNCATED;
	return 0;
}

/* Consume one byte. */
static int next_byte(struct cursor *c, uint8_t *b)
{
	TRY(need(c, 1));
	*b = c->bytes[c->pos++];
	return 0;
}

/* Consume an n-byte little-endian value (a displacement, an immediate or
 * a memory offset; n <= 8). */
static int next_value(struct cursor *c, size_t n, uint64_t *v)
{
	TRY(need(c, n));
	*v = 0;
	for (size_t i = 0; i < n; i++)
		*v |= (uint64_t)c->bytes[c->pos + i] << (8 * i);
	c->pos += n;
	return 0;
}

/* v's low `bytes` bytes, zero above. */
static uint64_t zero_extend(uint64_t v, unsigned bytes)
{
	if (bytes >= 8)
		return v;
	return v & ((1ULL << (8 * bytes)) - 1);
}

/* v's low `bytes` bytes, with their top bit copied into all the bits
 * above.  Flipping the sign bit and subtracting it maps 0..2^(n-1)-1 to
 * itself and 2^(n-1)..2^n-1 to the negative values, in unsigned
 * arithmetic (no implementation-defined signed conversions). */
static uint64_t sign_extend(uint64_t v, unsigned bytes)
{
	if (bytes == 0 || bytes >= 8)
		return zero_extend(v, bytes);
	uint64_t sign = 1ULL << (8 * bytes - 1);
	return (zero_extend(v, bytes) ^ sign) - sign;
}

/* ---- prefixes ------------------------------------------------------- */

struct prefixes {
	uint8_t opsize;   /* 66: the other of 16/32-bit operand size */
	uint8_t adsize;   /* 67: the other address size */
	uint8_t lock;     /* F0 */
	uint8_t rex;      /* the REX byte (40..4F) right before the opcode, or 0 */
	int8_t segment;   /* the last segment override (SEG_OVERRIDE_*), or -1 */
};

/* Consume the prefixes, leaving the cursor on the opcode.  Prefixes may
 * come in any order and repeat; only the 15-byte limit bounds them.
 *
 * REX exists only in 64-bit mode (elsewhere 40..4F are INC and DEC) and
 * counts only when it immediately precedes the opcode: a REX followed by
 * a legacy prefix or by another REX is ignored (SDM vol. 2, 2.2.1).
 * When several segment overrides are given, the last one counts. */
static int read_prefixes(struct cursor *c, enum cpu_mode mode, struct prefixes *p)
{
	p->segment = -1;
	for (;;) {
		TRY(need(c, 1));
		uint8_t b = c->bytes[c->pos];
		switch (b) {
		case 0x66:
			p->opsize = 1;
			break;
		case 0x67:
			p->adsize = 1;
			break;
		case 0xF0:
			p->lock = 1;
			break;
		case 0xF2: /* REPNE, REP: no meaning on these MOVs (F3 on C6/C7 is */
		case 0xF3: /* XRELEASE, a hint without LOCK): ignored */
			break;
		case 0x26: /* ES, CS, SS, DS: 001sss110 */
		case 0x2E:
		case 0x36:
		case 0x3E:
			p->segment = (int8_t)((b >> 3) & 3);
			break;
		case 0x64: /* FS, GS */
		case 0x65:
			p->segment = (int8_t)(SEG_OVERRIDE_FS + (b & 1));
			break;
		default:
			if (mode == MODE_LONG64 && (b & 0xF0) == 0x40) {
				p->rex = b;
				c->pos++;
				continue;
			}
			return 0;  /* not a prefix: the opcode */
		}
		p->rex = 0;        /* a legacy prefix after a REX cancels it */
		c->pos++;
	}
}

/* The operand size in bytes: 2 in 16-bit code segments, 4 in 32- and
 * 64-bit ones; 66 switches between 2 and 4; REX.W makes 8 and overrides
 * 66. */
static unsigned operand_size(enum cpu_mode mode, const struct prefixes *p)
{
	if (p->rex & REX_W)
		return 8;
	unsigned dflt = (mode == MODE_REAL16 || mode == MODE_PROT16) ? 2 : 4;
	if (p->opsize)
		return dflt == 2 ? 4 : 2;
	return dflt;
}

/* The address size in bytes: the code segment's default (64-bit mode
 * addresses with 8 bytes), 67 switching 2 <-> 4 and, in 64-bit mode,
 * 8 -> 4 (there are no 16-bit addresses in 64-bit mode). */
static unsigned address_size(enum cpu_mode mode, const struct prefixes *p)
{
	switch (mode) {
	case MODE_LONG64:
		return p->adsize ? 4 : 8;
	case MODE_PROT32:
		return p->adsize ? 2 : 4;
	case MODE_REAL16:
	case MODE_PROT16:
	default:
		return p->adsize ? 4 : 2;
	}
}

/* ---- ModRM ------------------------------------------------------------ */

/* Consume the SIB byte and the displacement that follow a ModRM byte
 * whose mod is 0, 1 or 2 (a memory operand), and note the registers and
 * displacement that make its address.  The forms come from the manuals'
 * ModRM and SIB tables (SDM vol. 2, tables 2-1 to 2-3):
 *
 *   16-bit addresses (rm: BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP, BX):
 *     no SIB;  mod 1: disp8;  mod 2: disp16;
 *     mod 0, rm 6: disp16 alone (so [BP] needs mod 1 with disp8 0).
 *
 *   32- and 64-bit addresses:
 *     rm 4: a SIB byte follows (base + index * scale);
 *     mod 1: disp8;  mod 2: disp32;
 *     mod 0, rm 5: disp32 alone, RIP-relative in 64-bit mode;
 *     mod 0, SIB.base 5: disp32 and no base register;
 *     SIB.index 4 (without REX.X): no index.
 *
 * REX.B and REX.X choose r8..r15 but do not change the length: rm 4
 * always means SIB (so R12 as a base needs a SIB byte) and base 5 with
 * mod 0 always means disp32 (so [R13] needs mod 1 with disp8 0).  A base
 * of rSP or rBP makes SS the default segment. */
static int read_address(struct cursor *c, enum cpu_mode mode, const struct prefixes *p, unsigned adsize,
                        unsigned mod, unsigned rm, struct mmio_address *a)
{
	static const int8_t base16[8] = { 3, 3, 5, 5, 6, 7, 5, 3 };   /* BX BX BP BP SI DI BP BX */
	static const int8_t index16[8] = { 6, 7, 6, 7, ADDR_NO_REG, ADDR_NO_REG, ADDR_NO_REG, ADDR_NO_REG };
	size_t disp;

	a->size = (uint8_t)adsize;
	a->scale = 1;
	a->base = a->index = ADDR_NO_REG;
	if (adsize == 2) {
		if (mod == 0 && rm == 6) {
			disp = 2;
		} else {
			disp = mod == 0 ? 0 : mod == 1 ? 1 : 2;
			a->base = base16[rm];
			a->index = index16[rm];
		}
	} else {
		disp = mod == 0 ? 0 : mod == 1 ? 1 : 4;
		if (rm == 4) {
			uint8_t sib;
			TRY(next_byte(c, &sib));
			unsigned index = ((sib >> 3) & 7) | ((p->rex & REX_X) ? 8 : 0);
			a->scale = (uint8_t)(1u << (sib >> 6));
			if (index != 4)
				a->index = (int8_t)index;
			if (mod == 0 && (sib & 7) == 5)
				disp = 4;
			else
				a->base = (int8_t)((sib & 7) | ((p->rex & REX_B) ? 8 : 0));
		} else if (mod == 0 && rm == 5) {
			disp = 4;
			a->rip_relative = mode == MODE_LONG64;
		} else {
			a->base = (int8_t)(rm | ((p->rex & REX_B) ? 8 : 0));
		}
	}
	uint64_t v;
	TRY(next_value(c, disp, &v));
	a->disp = sign_extend(v, (unsigned)disp);
	a->segment = (uint8_t)(p->segment >= 0 ? p->segment
	                       : (a->base == 4 || a->base == 5) ? SEG_OVERRIDE_SS : SEG_OVERRIDE_DS);
	return 0;
}

/* ---- the decoder ------------------------------------------------------ */

/* How an opcode finds its operands. */
enum operands {
	REG_MODRM,   /* ModRM.reg is the register, ModRM.rm the memory */
	IMM_MODRM,   /* ModRM.reg must be 0, ModRM.rm is the memory, an immediate follows */
	ACC_MOFFS,   /* the accumulator (AL/AX/EAX/RAX) and a memory offset, no ModRM */
};

int mmio_decode(const uint8_t *bytes, size_t avail, enum cpu_mode mode, struct mmio_insn *out)
{
	struct cursor c = { .bytes = bytes, .avail = avail, .pos = 0 };
	struct prefixes p = { 0 };
	struct mmio_insn d = { 0 };
	enum operands how = REG_MODRM;
	int byte_reg = 0;      /* ModRM.reg is an 8-bit register (88, 8A) */
	uint8_t op;

	if (mode != MODE_REAL16 && mode != MODE_PROT16 && mode != MODE_PROT32 &&
	    mode != MODE_LONG64)
		return DECODE_INVALID;

	TRY(read_prefixes(&c, mode, &p));
	unsigned opsize = operand_size(mode, &p);
	unsigned adsize = address_size(mode, &p);

	/* The opcode: what is accessed, how big, and where the operands are. */
	TRY(next_byte(&c, &op));
	switch (op) {
	case 0x88:                           /* MOV r/m8, r8 */
	case 0x8A:                           /* MOV r8, r/m8 */
		d.kind = op == 0x88 ? MMIO_STORE : MMIO_LOAD;
		d.size = 1;
		byte_reg = 1;
		break;
	case 0x89:                           /* MOV r/m, r */
	case 0x8B:                           /* MOV r, r/m */
		d.kind = op == 0x89 ? MMIO_STORE : MMIO_LOAD;
		d.size = (uint8_t)opsize;
		break;
	case 0xC6:                           /* MOV r/m8, imm8 */
	case 0xC7:                           /* MOV r/m, imm16/imm32 */
		d.kind = MMIO_STORE;
		d.size = op == 0xC6 ? 1 : (uint8_t)opsize;
		d.has_imm = 1;
		how = IMM_MODRM;
		break;
	case 0xA0:                           /* MOV AL, moffs */
	case 0xA1:                           /* MOV rAX, moffs */
	case 0xA2:                           /* MOV moffs, AL */
	case 0xA3:                           /* MOV moffs, rAX */
		d.kind = op <= 0xA1 ? MMIO_LOAD : MMIO_STORE;
		d.size = (op & 1) ? (uint8_t)opsize : 1;
		how = ACC_MOFFS;
		break;
	case 0x63:
		/* Outside 64-bit mode 63 is ARPL.  Without REX.W it is MOVSXD
		 * with a 16- or 32-bit destination, which does no extension,
		 * is discouraged by both manuals and is not what compilers
		 * emit: left out. */
		if (mode != MODE_LONG64 || !(p.rex & REX_W))
			return DECODE_UNSUPPORTED;
		d.kind = MMIO_LOAD;                  /* MOVSXD r64, r/m32 */
		d.size = 4;
		d.extend = 2;
		d.dest_size = 8;
		break;
	case 0x0F:                           /* two-byte opcodes */
		TRY(next_byte(&c, &op));
		switch (op) {
		case 0xB6:                   /* MOVZX r, r/m8 */
		case 0xB7:                   /* MOVZX r, r/m16 */
		case 0xBE:                   /* MOVSX r, r/m8 */
		case 0xBF:                   /* MOVSX r, r/m16 */
			d.kind = MMIO_LOAD;
			d.size = (op & 1) ? 2 : 1;
			d.extend = op <= 0xB7 ? 1 : 2;
			d.dest_size = (uint8_t)opsize;
			break;
		default:
			return DECODE_UNSUPPORTED;
		}
		break;
	default:
		return DECODE_UNSUPPORTED;
	}

	/* LOCK is allowed only on read-modify-write instructions; on MOV the
	 * processor raises #UD. */
	if (p.lock)
		return DECODE_INVALID;

	/* A plain MOV writes the register at the size it reads; MOVZX,
	 * MOVSX and MOVSXD (which set dest_size above) write it wider. */
	if (d.kind == MMIO_LOAD && d.dest_size == 0)
		d.dest_size = d.size;

	if (how == ACC_MOFFS) {
		/* The register is always the accumulator (REX.B does not apply)
		 * and the offset is as wide as an address: 2, 4 or 8 bytes.
		 * Like a displacement, it is only skipped. */
		d.reg = 0;
		d.addr.size = (uint8_t)adsize;
		d.addr.scale = 1;
		d.addr.base = d.addr.index = ADDR_NO_REG;
		d.addr.segment = (uint8_t)(p.segment >= 0 ? p.segment : SEG_OVERRIDE_DS);
		TRY(next_value(&c, adsize, &d.addr.disp));
	} else {
		uint8_t modrm;
		TRY(next_byte(&c, &modrm));
		unsigned mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;

		if (how == IMM_MODRM) {
			/* C6 and C7 with reg != 0 are not MOVs (C6 F8 / C7 F8 are
			 * XABORT / XBEGIN, the rest #UD). */
			if (reg != 0)
				return DECODE_UNSUPPORTED;
		} else {
			d.reg = (uint8_t)(reg | ((p.rex & REX_R) ? 8 : 0));
			/* Without any REX prefix, 8-bit registers 4..7 are AH, CH,
			 * DH, BH; with one (even 40), they are SPL, BPL, SIL, DIL. */
			d.high_byte = byte_reg && !p.rex && reg >= 4;
		}

		/* mod 3 makes r/m a register: no memory access, nothing an
		 * MMIO fault could come from. */
		if (mod == 3)
			return DECODE_INVALID;
		TRY(read_address(&c, mode, &p, adsize, mod, rm, &d.addr));

		if (how == IMM_MODRM) {
			/* imm8 for C6; imm16 or imm32 for C7, never imm64: with
			 * REX.W the imm32 is sign-extended. */
			unsigned imm_size = d.size == 8 ? 4 : d.size;
			uint64_t imm;
			TRY(next_value(&c, imm_size, &imm));
			d.imm = d.size == 8 ? sign_extend(imm, 4) : imm;
		}
	}

	d.length = (uint8_t)c.pos;
	*out = d;
	return 0;
}

/* ---- applying the access ---------------------------------------------- */

uint64_t mmio_load_result(const struct mmio_insn *in, uint64_t old_reg, uint64_t data)
{
	uint64_t v = in->extend == 2 ? sign_extend(data, in->size) : zero_extend(data, in->size);

	if (in->high_byte)                            /* AH, CH, DH, BH: bits 8..15 */
		return (old_reg & ~0xFF00ULL) | ((v & 0xFF) << 8);
	switch (in->dest_size) {
	case 1:                                       /* 8- and 16-bit writes merge */
		return (old_reg & ~0xFFULL) | (v & 0xFF);
	case 2:
		return (old_reg & ~0xFFFFULL) | (v & 0xFFFF);
	case 4:
		/* 32-bit writes zero bits 32..63 in 64-bit mode.  Outside it
		 * the guest cannot see those bits and the manuals leave them
		 * undefined, so zeroing them is right in every mode. */
		return v & 0xFFFFFFFFULL;
	default:
		return v;
	}
}

uint64_t mmio_store_value(const struct mmio_insn *in, uint64_t reg_value)
{
	uint64_t v;

	if (in->has_imm)
		v = in->imm;
	else if (in->high_byte)
		v = reg_value >> 8;                   /* AH, CH, DH, BH */
	else
		v = reg_value;
	return zero_extend(v, in->size);
}

/* ---- the operand's address ---------------------------------------------- */

uint64_t mmio_address(const struct mmio_insn *in, const uint64_t regs[16], uint64_t next_rip)
{
	const struct mmio_address *a = &in->addr;
	uint64_t ea = a->disp;
	if (a->rip_relative)
		ea += next_rip;
	if (a->base != ADDR_NO_REG)
		ea += regs[a->base];
	if (a->index != ADDR_NO_REG)
		ea += regs[a->index] * a->scale;
	return zero_extend(ea, a->size);
}

/* The last instruction decoded, its bytes as two words (bytes 0..7 and
 * 7..14) and masks for the bytes that are the instruction's.  The
 * decoder is a function of the instruction's bytes and the mode alone
 * (it reads no byte past the instruction's end, need()), so bytes that
 * begin with the same instruction decode the same way: an access made
 * again and again from one place (a loop, a driver's register accessor)
 * is decoded once. */
static struct {
	uint64_t w[2], mask[2];
	enum cpu_mode mode;
	struct mmio_insn in;
	int valid;
} last_decoded;

static void insn_words(const uint8_t *bytes, uint64_t w[2])
{
	__builtin_memcpy(&w[0], bytes, 8);
	__builtin_memcpy(&w[1], bytes + 7, 8);
}

int mmio_decode_again(const uint8_t bytes[MMIO_MAX_INSN], size_t avail, enum cpu_mode mode, struct mmio_insn *out)
{
	uint64_t w[2];
	insn_words(bytes, w);
	if (last_decoded.valid && last_decoded.mode == mode && avail >= last_decoded.in.length &&
	    !((w[0] ^ last_decoded.w[0]) & last_decoded.mask[0]) && !((w[1] ^ last_decoded.w[1]) & last_decoded.mask[1])) {
		*out = last_decoded.in;
		return 0;
	}
	int err = mmio_decode(bytes, avail, mode, out);
	if (err)
		return err;
	unsigned len = out->length;   /* 1..15 */
	last_decoded.mask[0] = len >= 8 ? ~0UL : (1UL << (8 * len)) - 1;
	last_decoded.mask[1] = len <= 7 ? 0 : len == 15 ? ~0UL : (1UL << (8 * (len - 7))) - 1;
	last_decoded.w[0] = w[0];
	last_decoded.w[1] = w[1];
	last_decoded.mode = mode;
	last_decoded.in = *out;
	last_decoded.valid = 1;
	return 0;
}

int insn_prefixes(const uint8_t *bytes, size_t avail, enum cpu_mode mode, struct insn_prefixes *out)
{
	struct cursor c = { .bytes = bytes, .avail = avail, .pos = 0 };
	struct prefixes p = { 0 };
	if (mode != MODE_REAL16 && mode != MODE_PROT16 && mode != MODE_PROT32 &&
	    mode != MODE_LONG64)
		return DECODE_INVALID;
	TRY(read_prefixes(&c, mode, &p));
	out->addr_size = (uint8_t)address_size(mode, &p);
	out->segment = p.segment;
	out->length = (uint8_t)c.pos;
	out->rex = p.rex;
	return 0;
}

/* ---- INVLPG ------------------------------------------------------------- */

/* 0F 01 /7 with a memory operand (mod 3 with reg 7 is SWAPGS or RDTSCP,
 * not INVLPG).  Only the length and the operand's address parts are
 * filled; the address is computed with mmio_address. */
int invlpg_decode(const uint8_t *bytes, size_t avail, enum cpu_mode mode, struct mmio_insn *out)
{
	struct cursor c = { .bytes = bytes, .avail = avail, .pos = 0 };
	struct prefixes p = { 0 };
	struct mmio_insn d = { 0 };
	uint8_t op0, op1, modrm;
	if (mode != MODE_REAL16 && mode != MODE_PROT16 && mode != MODE_PROT32 && mode != MODE_LONG64)
		return DECODE_INVALID;
	TRY(read_prefixes(&c, mode, &p));
	TRY(next_byte(&c, &op0));
	TRY(next_byte(&c, &op1));
	TRY(next_byte(&c, &modrm));
	if (op0 != 0x0F || op1 != 0x01 || ((modrm >> 3) & 7) != 7 || (modrm >> 6) == 3)
		return DECODE_UNSUPPORTED;
	if (p.lock)
		return DECODE_INVALID;
	TRY(read_address(&c, mode, &p, address_size(mode, &p), modrm >> 6, modrm & 7, &d.addr));
	d.length = (uint8_t)c.pos;
	*out = d;
	return 0;
}
