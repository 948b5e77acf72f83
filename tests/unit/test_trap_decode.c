/* Host unit tests for servers/vmm/trap_decode.c: the privileged
 * instructions mode=trap decodes (operands, lengths, memory operands and
 * their addresses), what it refuses, truncation, and insn_length, which
 * mode=patch's scan uses to find instruction boundaries.  The bytes were
 * written from the AMD APM vol. 3 opcode maps and checked with objdump. */
// unit-under-test: servers/vmm/trap_decode.c
#include <stdint.h>
#include <string.h>
#include "unit.h"
#include "../../servers/vmm/trap_decode.h"

static int decode(const uint8_t *b, size_t n, struct priv_insn *in)
{
	memset(in, 0xa5, sizeof(*in));
	return priv_decode(b, n, in);
}

static void test_simple(void)
{
	struct priv_insn in;
	static const struct { uint8_t bytes[4]; size_t n; unsigned op, length, size; } v[] = {
		{ { 0xfa }, 1, PRIV_CLI, 1, 0 },
		{ { 0xfb }, 1, PRIV_STI, 1, 0 },
		{ { 0xf4 }, 1, PRIV_HLT, 1, 0 },
		{ { 0xcc }, 1, PRIV_INT3, 1, 0 },
		{ { 0x9c }, 1, PRIV_PUSHF, 1, 8 },
		{ { 0x66, 0x9d }, 2, PRIV_POPF, 2, 2 },
		{ { 0x48, 0xcf }, 2, PRIV_IRET, 2, 8 },       /* iretq */
		{ { 0xcf }, 1, PRIV_IRET, 1, 4 },             /* iretd */
		{ { 0x48, 0xcb }, 2, PRIV_LRET, 2, 8 },       /* lretq */
		{ { 0x0f, 0x01, 0xd9 }, 3, PRIV_VMMCALL, 3, 0 },
		{ { 0xec }, 1, PRIV_IN, 1, 1 },               /* in (%dx), %al */
		{ { 0x66, 0xed }, 2, PRIV_IN, 2, 2 },         /* in (%dx), %ax */
		{ { 0xef }, 1, PRIV_OUT, 1, 4 },              /* out %eax, (%dx) */
	};
	for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		CHECK(decode(v[i].bytes, v[i].n, &in) == 0 && in.op == v[i].op && in.length == v[i].length &&
		      (v[i].size == 0 || in.size == v[i].size), "vector %u decodes (op %u length %u size %u)", i, in.op,
		      in.length, in.size);
	}
	static const uint8_t out_imm[] = { 0xe6, 0x43 };      /* out %al, $0x43 */
	CHECK(decode(out_imm, 2, &in) == 0 && in.op == PRIV_OUT && in.port == 0x43 && !in.port_in_dx && in.size == 1,
	      "out with an immediate port");
	static const uint8_t in_dx[] = { 0xec };
	CHECK(decode(in_dx, 1, &in) == 0 && in.port_in_dx, "in from DX");
}

static void test_registers_and_memory(void)
{
	struct priv_insn in;
	static const uint8_t mov_cr3_rax[] = { 0x0f, 0x22, 0xd8 };       /* mov %rax, %cr3 */
	CHECK(decode(mov_cr3_rax, 3, &in) == 0 && in.op == PRIV_MOV_TO_CR && in.cr == 3 && in.reg == 0 && in.length == 3,
	      "mov %%rax, %%cr3");
	static const uint8_t mov_r9_cr0[] = { 0x41, 0x0f, 0x20, 0xc1 };  /* mov %cr0, %r9 */
	CHECK(decode(mov_r9_cr0, 4, &in) == 0 && in.op == PRIV_MOV_FROM_CR && in.cr == 0 && in.reg == 9 &&
	      in.length == 4, "mov %%cr0, %%r9 (REX.B)");
	static const uint8_t mov_cr5[] = { 0x0f, 0x22, 0xe8 };           /* mov %rax, %cr5: no such register */
	CHECK(decode(mov_cr5, 3, &in) == PRIV_UNSUPPORTED, "CR5 refused");
	static const uint8_t lgdt_rip[] = { 0x0f, 0x01, 0x15, 0x10, 0x00, 0x00, 0x00 }; /* lgdt 0x10(%rip) */
	CHECK(decode(lgdt_rip, 7, &in) == 0 && in.op == PRIV_LGDT && in.has_mem && in.rip_relative && in.length == 7,
	      "lgdt rip-relative");
	uint64_t regs[16] = { 0 };
	CHECK(priv_address(&in, regs, 0x100007) == 0x100017, "its address is next RIP + 0x10");
	static const uint8_t lidt_sib[] = { 0x0f, 0x01, 0x5c, 0x8b, 0xf8 }; /* lidt -8(%rbx,%rcx,4) */
	regs[3] = 0x2000;
	regs[1] = 0x10;
	CHECK(decode(lidt_sib, 5, &in) == 0 && in.op == PRIV_LIDT && in.length == 5 &&
	      priv_address(&in, regs, 0) == 0x2000 + 0x40 - 8, "lidt with SIB and disp8");
	static const uint8_t invlpg[] = { 0x41, 0x0f, 0x01, 0x38 };      /* invlpg (%r8) */
	regs[8] = 0x800000;
	CHECK(decode(invlpg, 4, &in) == 0 && in.op == PRIV_INVLPG && priv_address(&in, regs, 0) == 0x800000,
	      "invlpg (%%r8)");
	static const uint8_t ltr[] = { 0x0f, 0x00, 0xd8 };               /* ltr %ax */
	CHECK(decode(ltr, 3, &in) == 0 && in.op == PRIV_LTR && !in.has_mem && in.reg == 0, "ltr %%ax");
	static const uint8_t mov_ds[] = { 0x8e, 0xd8 };                  /* mov %eax, %ds */
	CHECK(decode(mov_ds, 2, &in) == 0 && in.op == PRIV_MOV_TO_SREG && in.sreg == 3 && in.reg == 0, "mov to DS");
	static const uint8_t mov_cs[] = { 0x8e, 0xc8 };                  /* mov to CS: #UD on hardware */
	CHECK(decode(mov_cs, 2, &in) == PRIV_UNSUPPORTED, "mov to CS refused");
	static const uint8_t swapgs[] = { 0x0f, 0x01, 0xf8 };
	CHECK(decode(swapgs, 3, &in) == PRIV_UNSUPPORTED, "swapgs is not emulated");
	static const uint8_t wrmsr[] = { 0x0f, 0x30 };
	CHECK(decode(wrmsr, 2, &in) == PRIV_UNSUPPORTED, "wrmsr is not emulated");
}

static void test_truncated_and_long(void)
{
	struct priv_insn in;
	static const uint8_t lgdt_rip[] = { 0x0f, 0x01, 0x15, 0x10, 0x00, 0x00, 0x00 };
	for (size_t n = 0; n < sizeof(lgdt_rip); n++)
		CHECK(decode(lgdt_rip, n, &in) == PRIV_TRUNCATED, "lgdt cut to %zu bytes: truncated", n);
	uint8_t prefixes[20];
	memset(prefixes, 0x2e, sizeof(prefixes));
	CHECK(decode(prefixes, sizeof(prefixes), &in) == PRIV_TRUNCATED, "15 prefixes and no opcode: never past 15");
}

static void test_lengths(void)
{
	static const struct { uint8_t bytes[15]; int length; } v[] = {
		{ { 0x9c }, 1 },                                            /* pushfq */
		{ { 0x48, 0x89, 0xe5 }, 3 },                                /* mov %rsp, %rbp */
		{ { 0x48, 0x8b, 0x05, 1, 2, 3, 4 }, 7 },                    /* mov disp32(%rip), %rax */
		{ { 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8 }, 10 },             /* movabs $imm64, %rax */
		{ { 0xb8, 1, 2, 3, 4 }, 5 },                                /* mov $imm32, %eax */
		{ { 0x66, 0xb8, 1, 2 }, 4 },                                /* mov $imm16, %ax */
		{ { 0xc6, 0x05, 0, 0, 0, 0, 0x9d }, 7 },                    /* movb $0x9d, 0(%rip) */
		{ { 0x48, 0xc7, 0x44, 0x24, 0x08, 1, 2, 3, 4 }, 9 },        /* movq $imm32, 8(%rsp) */
		{ { 0x0f, 0x1f, 0x44, 0, 0 }, 5 },                          /* nopl 0(%rax,%rax) */
		{ { 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0 }, 10 },    /* nopw %cs:0(%rax,%rax) */
		{ { 0x0f, 0x85, 1, 2, 3, 4 }, 6 },                          /* jne rel32 */
		{ { 0xe8, 1, 2, 3, 4 }, 5 },                                /* call rel32 */
		{ { 0xf6, 0x05, 1, 2, 3, 4, 0x20 }, 7 },                    /* testb $0x20, disp32(%rip) */
		{ { 0xf7, 0xd8 }, 2 },                                      /* neg %eax */
		{ { 0x0f, 0xb6, 0xc0 }, 3 },                                /* movzbl %al, %eax */
		{ { 0x0f, 0x01, 0xd9 }, 3 },                                /* vmmcall */
	};
	for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t op;
		int prefixed;
		int n = insn_length(v[i].bytes, sizeof(v[i].bytes), &op, &prefixed);
		CHECK(n == v[i].length, "length vector %u: %d, not %d", i, n, v[i].length);
	}
	static const uint8_t x87[] = { 0xd9, 0xc0 };
	uint8_t op;
	int prefixed;
	CHECK(insn_length(x87, 2, &op, &prefixed) == PRIV_UNSUPPORTED, "x87 is not known");
	static const uint8_t cut[] = { 0xe8, 1, 2 };
	CHECK(insn_length(cut, 3, &op, &prefixed) == PRIV_TRUNCATED, "a call cut short: truncated");
	static const uint8_t popf66[] = { 0x66, 0x9d };
	CHECK(insn_length(popf66, 2, &op, &prefixed) == 2 && op == 0x9d && prefixed, "popfw: prefixed");
}

int main(void)
{
	test_simple();
	test_registers_and_memory();
	test_truncated_and_long();
	test_lengths();
	return unit_done();
}
