/* Host unit tests for servers/vmm/decode.c: the decoder of the MOV forms
 * the VMM emulates on MMIO faults, and the register/data arithmetic of
 * loads and stores.
 *
 * The vectors below were written by hand from the opcode, ModRM and SIB
 * tables of the Intel SDM vol. 2 and AMD APM vol. 3.  Each carries the
 * instruction as GNU as/objdump spell it in AT&T syntax, and all were
 * cross-checked by disassembling the bytes with objdump (same length and
 * operands) and, for the encodings as itself produces, by assembling the
 * text with `as --64`, `as --32` or `.code16` and comparing the bytes.  A
 * name starting with '*' marks an encoding as does not produce (redundant
 * or ignored prefixes), checked against objdump only. */
// unit-under-test: servers/vmm/decode.c
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "../../servers/vmm/decode.h"

/* Modes a vector applies to, as a mask. */
#define R16 (1 << MODE_REAL16)
#define P16 (1 << MODE_PROT16)
#define P32 (1 << MODE_PROT32)
#define L64 (1 << MODE_LONG64)
#define M16 (R16 | P16)

static const char *const mode_name[] = { "real16", "prot16", "prot32", "long64" };

struct vec {
	unsigned modes;
	const char *att;
	const char *bytes;       /* a string of \x escapes; the instruction is all of it */
	size_t len;
	int ret;                 /* 0 or a DECODE_* error */
	struct mmio_insn want;   /* when ret is 0 (want.length is len) */
};

#define V(m, att, b, w)  { m, att, b, sizeof(b) - 1, 0, w }
#define E(m, att, b, e)  { m, att, b, sizeof(b) - 1, e, { 0 } }

/* The expected fields, by kind of access. */
#define LD(sz, r, dsz)   { .kind = MMIO_LOAD, .size = sz, .reg = r, .dest_size = dsz }
#define LDH(r)           { .kind = MMIO_LOAD, .size = 1, .reg = r, .dest_size = 1, .high_byte = 1 }
#define LDZ(sz, r, dsz)  { .kind = MMIO_LOAD, .size = sz, .reg = r, .dest_size = dsz, .extend = 1 }
#define LDS(sz, r, dsz)  { .kind = MMIO_LOAD, .size = sz, .reg = r, .dest_size = dsz, .extend = 2 }
#define ST(sz, r)        { .kind = MMIO_STORE, .size = sz, .reg = r }
#define STH(r)           { .kind = MMIO_STORE, .size = 1, .reg = r, .high_byte = 1 }
#define STI(sz, i)       { .kind = MMIO_STORE, .size = sz, .has_imm = 1, .imm = i }

#define TRUNC   DECODE_TRUNCATED
#define UNSUP   DECODE_UNSUPPORTED
#define INVAL   DECODE_INVALID

/* the offsets of the moffs forms */
#define OFF64 "\x88\x77\x66\x55\x44\x33\x22\x11"
#define OFF32 "\x44\x33\x22\x11"

static const struct vec vecs[] = {
	/* ---- 64-bit mode: 88/89 register stores --------------------------- */
	V(L64, "mov %eax,(%rbx)",                      "\x89\x03",                 ST(4, 0)),
	V(L64, "mov %rax,(%rbx)",                      "\x48\x89\x03",             ST(8, 0)),
	V(L64, "mov %ax,(%rbx)",                       "\x66\x89\x03",             ST(2, 0)),
	V(L64, "mov %al,(%rbx)",                       "\x88\x03",                 ST(1, 0)),
	V(L64, "mov %ah,(%rbx)",                       "\x88\x23",                 STH(4)),
	V(L64, "mov %ch,(%rbx)",                       "\x88\x2b",                 STH(5)),
	V(L64, "mov %dh,(%rbx)",                       "\x88\x33",                 STH(6)),
	V(L64, "mov %bh,(%rbx)",                       "\x88\x3b",                 STH(7)),
	V(L64, "mov %spl,(%rbx)",                      "\x40\x88\x23",             ST(1, 4)),
	V(L64, "mov %dil,(%rbx)",                      "\x40\x88\x3b",             ST(1, 7)),
	V(L64, "mov %r8b,(%rbx)",                      "\x44\x88\x03",             ST(1, 8)),
	V(L64, "mov %r15b,(%rbx)",                     "\x44\x88\x3b",             ST(1, 15)),
	V(L64, "mov %r15,(%r12)",                      "\x4d\x89\x3c\x24",         ST(8, 15)),
	V(L64, "mov %r9d,(%r8)",                       "\x45\x89\x08",             ST(4, 9)),
	V(L64, "mov %r10w,(%rax)",                     "\x66\x44\x89\x10",         ST(2, 10)),
	V(L64, "mov %ecx,(%rsp)",                      "\x89\x0c\x24",             ST(4, 1)),
	V(L64, "mov %edx,-0x8(%rsp)",                  "\x89\x54\x24\xf8",         ST(4, 2)),
	V(L64, "mov %esi,0x100(%rbp)",                 "\x89\xb5\x00\x01\x00\x00", ST(4, 6)),
	V(L64, "mov %edi,0x12345678(%rax,%r9,8)",      "\x42\x89\xbc\xc8\x78\x56\x34\x12", ST(4, 7)),
	V(L64, "mov %ebx,0x10(%rax,%rcx,2)",           "\x89\x5c\x48\x10",         ST(4, 3)),
	V(L64, "mov %ebp,(%rax,%rcx,1)",               "\x89\x2c\x08",             ST(4, 5)),
	V(L64, "mov %esp,0x12345678",                  "\x89\x24\x25\x78\x56\x34\x12", ST(4, 4)),
	V(L64, "mov %eax,0x12345678(,%rdx,8)",         "\x89\x04\xd5\x78\x56\x34\x12", ST(4, 0)),
	V(L64, "mov %eax,0x0(%r13)",                   "\x41\x89\x45\x00",         ST(4, 0)),
	V(L64, "mov %eax,0x0(%r13,%rax,1)",            "\x41\x89\x44\x05\x00",     ST(4, 0)),
	V(L64, "mov %rax,0x12345678(%rip)",            "\x48\x89\x05\x78\x56\x34\x12", ST(8, 0)),
	V(L64, "mov %eax,0x12345678(%eip)",            "\x67\x89\x05\x78\x56\x34\x12", ST(4, 0)),
	V(L64, "mov %eax,(%ebx)",                      "\x67\x89\x03",             ST(4, 0)),
	V(L64, "mov %eax,0x10(%esp)",                  "\x67\x89\x44\x24\x10",     ST(4, 0)),
	V(L64, "mov %eax,%fs:(%rax)",                  "\x64\x89\x00",             ST(4, 0)),
	V(L64, "mov %rax,%gs:0x10",                    "\x65\x48\x89\x04\x25\x10\x00\x00\x00", ST(8, 0)),

	/* ---- 64-bit mode: 8A/8B register loads ----------------------------- */
	V(L64, "mov (%rbx),%eax",                      "\x8b\x03",                 LD(4, 0, 4)),
	V(L64, "mov (%rbx),%rax",                      "\x48\x8b\x03",             LD(8, 0, 8)),
	V(L64, "mov (%rbx),%ax",                       "\x66\x8b\x03",             LD(2, 0, 2)),
	V(L64, "mov (%rsi),%dl",                       "\x8a\x16",                 LD(1, 2, 1)),
	V(L64, "mov (%rsi),%ah",                       "\x8a\x26",                 LDH(4)),
	V(L64, "mov (%rsi),%bh",                       "\x8a\x3e",                 LDH(7)),
	V(L64, "mov (%rsi),%spl",                      "\x40\x8a\x26",             LD(1, 4, 1)),
	V(L64, "mov (%rsi),%dil",                      "\x40\x8a\x3e",             LD(1, 7, 1)),
	V(L64, "mov (%rax),%r9b",                      "\x44\x8a\x08",             LD(1, 9, 1)),
	V(L64, "mov (%rax),%r10w",                     "\x66\x44\x8b\x10",         LD(2, 10, 2)),
	V(L64, "mov (%rax),%r10",                      "\x4c\x8b\x10",             LD(8, 10, 8)),
	V(L64, "mov 0x0(%r13),%eax",                   "\x41\x8b\x45\x00",         LD(4, 0, 4)),
	V(L64, "mov 0x12345678(%rip),%ecx",            "\x8b\x0d\x78\x56\x34\x12", LD(4, 1, 4)),
	V(L64, "mov 0x1000(,%rcx,4),%edx",             "\x8b\x14\x8d\x00\x10\x00\x00", LD(4, 2, 4)),
	V(L64, "mov 0x1000,%eax",                      "\x8b\x04\x25\x00\x10\x00\x00", LD(4, 0, 4)),
	V(L64, "mov 0x0(%r13,%rax,1),%eax",            "\x41\x8b\x44\x05\x00",     LD(4, 0, 4)),
	V(L64, "mov 0x7f(%r12,%r15,4),%r14",           "\x4f\x8b\x74\xbc\x7f",     LD(8, 14, 8)),
	V(L64, "mov -0x80(%rbp),%r8",                  "\x4c\x8b\x45\x80",         LD(8, 8, 8)),
	V(L64, "mov 0x80(%rbp),%r8d",                  "\x44\x8b\x85\x80\x00\x00\x00", LD(4, 8, 4)),
	V(L64, "mov (%ebx),%eax",                      "\x67\x8b\x03",             LD(4, 0, 4)),
	V(L64, "mov %fs:(%rax),%eax",                  "\x64\x8b\x00",             LD(4, 0, 4)),
	V(L64, "mov %gs:0x10,%rax",                    "\x65\x48\x8b\x04\x25\x10\x00\x00\x00", LD(8, 0, 8)),

	/* ---- 64-bit mode: C6/C7 immediate stores --------------------------- */
	V(L64, "movb $0x80,(%rdi)",                    "\xc6\x07\x80",             STI(1, 0x80)),
	V(L64, "movb $0x12,0x10(%rsp)",                "\xc6\x44\x24\x10\x12",     STI(1, 0x12)),
	V(L64, "movb $0xff,(%r12)",                    "\x41\xc6\x04\x24\xff",     STI(1, 0xff)),
	V(L64, "movw $0x8001,(%rdi)",                  "\x66\xc7\x07\x01\x80",     STI(2, 0x8001)),
	V(L64, "movw $0x1234,(%r8)",                   "\x66\x41\xc7\x00\x34\x12", STI(2, 0x1234)),
	V(L64, "movl $0x80000001,(%rdi)",              "\xc7\x07\x01\x00\x00\x80", STI(4, 0x80000001)),
	V(L64, "movq $0xfffffffffffffffe,(%rdi)",      "\x48\xc7\x07\xfe\xff\xff\xff", STI(8, 0xfffffffffffffffe)),
	V(L64, "movq $0x7fffffff,(%rdi)",              "\x48\xc7\x07\xff\xff\xff\x7f", STI(8, 0x7fffffff)),
	V(L64, "movq $0xffffffff80000000,(%rdi)",      "\x48\xc7\x07\x00\x00\x00\x80", STI(8, 0xffffffff80000000)),
	V(L64, "movl $0x11223344,0x10(%rip)",          "\xc7\x05\x10\x00\x00\x00\x44\x33\x22\x11", STI(4, 0x11223344)),
	V(L64, "xrelease movl $0x1,(%rax)",            "\xf3\xc7\x00\x01\x00\x00\x00", STI(4, 1)),
	V(L64, "movq $0x11223344,%fs:0x12345678(%eax,%ebx,4)",
	       "\x64\x67\x48\xc7\x84\x98\x78\x56\x34\x12\x44\x33\x22\x11",             STI(8, 0x11223344)),

	/* ---- 64-bit mode: A0-A3 with a 64-bit (or, after 67, 32-bit) offset - */
	V(L64, "movabs 0x1122334455667788,%al",        "\xa0" OFF64,               LD(1, 0, 1)),
	V(L64, "movabs 0x1122334455667788,%ax",        "\x66\xa1" OFF64,           LD(2, 0, 2)),
	V(L64, "movabs 0x1122334455667788,%eax",       "\xa1" OFF64,               LD(4, 0, 4)),
	V(L64, "movabs 0x1122334455667788,%rax",       "\x48\xa1" OFF64,           LD(8, 0, 8)),
	V(L64, "movabs %al,0x1122334455667788",        "\xa2" OFF64,               ST(1, 0)),
	V(L64, "movabs %ax,0x1122334455667788",        "\x66\xa3" OFF64,           ST(2, 0)),
	V(L64, "movabs %eax,0x1122334455667788",       "\xa3" OFF64,               ST(4, 0)),
	V(L64, "movabs %rax,0x1122334455667788",       "\x48\xa3" OFF64,           ST(8, 0)),
	V(L64, "movabs %fs:0x1122334455667788,%eax",   "\x64\xa1" OFF64,           LD(4, 0, 4)),
	V(L64, "addr32 mov 0x11223344,%eax",           "\x67\xa1" OFF32,           LD(4, 0, 4)),
	V(L64, "addr32 mov 0x11223344,%rax",           "\x67\x48\xa1" OFF32,       LD(8, 0, 8)),
	V(L64, "addr32 mov %al,0x11223344",            "\x67\xa2" OFF32,           ST(1, 0)),
	V(L64, "*rex.WB movabs 0x1122334455667788,%rax", "\x49\xa1" OFF64,         LD(8, 0, 8)),

	/* ---- 64-bit mode: MOVZX, MOVSX, MOVSXD ----------------------------- */
	V(L64, "movzbl (%rax),%ecx",                   "\x0f\xb6\x08",             LDZ(1, 1, 4)),
	V(L64, "movzbw (%rax),%cx",                    "\x66\x0f\xb6\x08",         LDZ(1, 1, 2)),
	V(L64, "movzbq (%rax),%r11",                   "\x4c\x0f\xb6\x18",         LDZ(1, 11, 8)),
	V(L64, "movzbl (%rax),%esp",                   "\x0f\xb6\x20",             LDZ(1, 4, 4)),
	V(L64, "movzwl (%rax),%edx",                   "\x0f\xb7\x10",             LDZ(2, 2, 4)),
	V(L64, "movzwq (%rax),%rdx",                   "\x48\x0f\xb7\x10",         LDZ(2, 2, 8)),
	V(L64, "movzwl 0x10(%rip),%r9d",               "\x44\x0f\xb7\x0d\x10\x00\x00\x00", LDZ(2, 9, 4)),
	V(L64, "*movzww (%rax),%ax",                   "\x66\x0f\xb7\x00",         LDZ(2, 0, 2)),
	V(L64, "movsbl (%rax),%eax",                   "\x0f\xbe\x00",             LDS(1, 0, 4)),
	V(L64, "movsbw (%rax),%ax",                    "\x66\x0f\xbe\x00",         LDS(1, 0, 2)),
	V(L64, "movsbq (%rax),%r15",                   "\x4c\x0f\xbe\x38",         LDS(1, 15, 8)),
	V(L64, "movswl (%rax),%esi",                   "\x0f\xbf\x30",             LDS(2, 6, 4)),
	V(L64, "movswq (%rax),%rsi",                   "\x48\x0f\xbf\x30",         LDS(2, 6, 8)),
	V(L64, "*movsww (%rax),%si",                   "\x66\x0f\xbf\x30",         LDS(2, 6, 2)),
	V(L64, "movslq (%rax),%rdx",                   "\x48\x63\x10",             LDS(4, 2, 8)),
	V(L64, "movslq 0x8(%r14),%r12",                "\x4d\x63\x66\x08",         LDS(4, 12, 8)),
	V(L64, "*data16 movslq (%rax),%rdx",           "\x66\x48\x63\x10",         LDS(4, 2, 8)),

	/* ---- 64-bit mode: prefix rules ------------------------------------- */
	/* REX.W wins over 66 */
	V(L64, "*data16 mov (%rbx),%rax",              "\x66\x48\x8b\x03",         LD(8, 0, 8)),
	/* a REX followed by another prefix is ignored ... */
	V(L64, "*rex.W data16 mov (%rbx),%ax",         "\x48\x66\x8b\x03",         LD(2, 0, 2)),
	V(L64, "*rex.WR ds mov (%rax),%eax",           "\x4c\x3e\x8b\x00",         LD(4, 0, 4)),
	V(L64, "*rex.R data16 mov %ah,(%rax)",         "\x44\x66\x88\x20",         STH(4)),
	/* ... including by another REX: the last one counts */
	V(L64, "*rex.W mov (%r8),%eax",                "\x48\x41\x8b\x00",         LD(4, 0, 4)),
	V(L64, "*rex.B mov (%rax),%rax",               "\x41\x48\x8b\x00",         LD(8, 0, 8)),
	/* F2/F3 and every segment override are ignored */
	V(L64, "*repnz mov %eax,(%rbx)",               "\xf2\x89\x03",             ST(4, 0)),
	V(L64, "*repz mov (%rbx),%eax",                "\xf3\x8b\x03",             LD(4, 0, 4)),
	V(L64, "*cs ss ds es fs gs mov (%rbx),%eax",   "\x2e\x36\x3e\x26\x64\x65\x8b\x03", LD(4, 0, 4)),
	/* REX.B does not change the special ModRM/SIB cases */
	V(L64, "*rex.B mov 0x12345678(%rip),%eax",     "\x41\x8b\x05\x78\x56\x34\x12", LD(4, 0, 4)),
	V(L64, "*rex.B mov 0x12345678(,%rax,1),%eax",  "\x41\x8b\x04\x05\x78\x56\x34\x12", LD(4, 0, 4)),
	V(L64, "*rex.XB mov 0x12345678(,%r12,1),%eax", "\x43\x8b\x04\x25\x78\x56\x34\x12", LD(4, 0, 4)),
	/* exactly 15 bytes */
	V(L64, "*ds x13 mov %eax,(%rbx)",
	       "\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x89\x03",       ST(4, 0)),
	V(L64, "*many prefixes mov (%rbx),%rax",
	       "\x66\x67\xf3\x2e\x36\x3e\x26\x64\x65\x66\x67\xf2\x48\x8b\x03",       LD(8, 0, 8)),
	V(L64, "*ds x5 movabs 0x1122334455667788,%rax", "\x3e\x3e\x3e\x3e\x3e\x48\xa1" OFF64, LD(8, 0, 8)),
	V(L64, "*ds movq $0x11223344,%fs:0x12345678(%eax,%ebx,4)",
	       "\x3e\x64\x67\x48\xc7\x84\x98\x78\x56\x34\x12\x44\x33\x22\x11",       STI(8, 0x11223344)),

	/* ---- 64-bit mode: not decoded -------------------------------------- */
	E(L64, "add %eax,(%rbx)",                      "\x01\x03",                 UNSUP),
	E(L64, "or %al,(%rbx)",                        "\x08\x03",                 UNSUP),
	E(L64, "movsb %ds:(%rsi),%es:(%rdi)",          "\xa4",                     UNSUP),
	E(L64, "movsl %ds:(%rsi),%es:(%rdi)",          "\xa5",                     UNSUP),
	E(L64, "rep movsl %ds:(%rsi),%es:(%rdi)",      "\xf3\xa5",                 UNSUP),
	E(L64, "stos %al,%es:(%rdi)",                  "\xaa",                     UNSUP),
	E(L64, "lods %ds:(%rsi),%eax",                 "\xad",                     UNSUP),
	E(L64, "cmpxchg %ecx,(%rbx)",                  "\x0f\xb1\x0b",             UNSUP),
	E(L64, "lock cmpxchg %ecx,(%rbx)",             "\xf0\x0f\xb1\x0b",         UNSUP),
	E(L64, "cmpxchg8b (%rbx)",                     "\x0f\xc7\x0b",             UNSUP),
	E(L64, "xchg %eax,(%rbx)",                     "\x87\x03",                 UNSUP),
	E(L64, "lea (%rbx),%eax",                      "\x8d\x03",                 UNSUP),
	E(L64, "mov %es,(%rax)",                       "\x8c\x00",                 UNSUP),
	E(L64, "movsxd (%rbx),%eax",                   "\x63\x03",                 UNSUP),
	E(L64, "ud2",                                  "\x0f\x0b",                 UNSUP),
	E(L64, "movnti %eax,(%rbx)",                   "\x0f\xc3\x03",             UNSUP),
	E(L64, "movbe (%rbx),%eax",                    "\x0f\x38\xf0\x03",         UNSUP),
	E(L64, "mov %cr0,%rax",                        "\x0f\x20\xc0",             UNSUP),
	E(L64, "xabort $0x1",                          "\xc6\xf8\x01",             UNSUP),
	E(L64, "*xbegin .+6",                           "\xc7\xf8\x00\x00\x00\x00", UNSUP),
	E(L64, "*(bad) C7 /1",                         "\xc7\x08\x00\x00\x00\x00", UNSUP),
	E(L64, "*(bad) C6 /7",                         "\xc6\x38\x00",             UNSUP),
	E(L64, "vmovd (%rax),%xmm0",                   "\xc5\xf9\x6e\x00",         UNSUP),
	E(L64, "push (%rax)",                          "\xff\x30",                 UNSUP),

	/* ---- 64-bit mode: invalid ------------------------------------------ */
	/* a register where memory is needed (mod 3) */
	E(L64, "mov %eax,%ebx",                        "\x89\xc3",                 INVAL),
	E(L64, "*mov %eax,%ebx (8B form)",             "\x8b\xd8",                 INVAL),
	E(L64, "mov %ah,%al",                          "\x88\xe0",                 INVAL),
	E(L64, "*mov %al,%ah (8A form)",               "\x8a\xe0",                 INVAL),
	E(L64, "*movb $0x12,%al (C6 form)",            "\xc6\xc0\x12",             INVAL),
	E(L64, "*movl $0x12345678,%eax (C7 form)",     "\xc7\xc0\x78\x56\x34\x12", INVAL),
	E(L64, "movq $0x12345678,%r8",                 "\x49\xc7\xc0\x78\x56\x34\x12", INVAL),
	E(L64, "movzbl %al,%eax",                      "\x0f\xb6\xc0",             INVAL),
	E(L64, "movsbl %al,%eax",                      "\x0f\xbe\xc0",             INVAL),
	E(L64, "movslq %eax,%rax",                     "\x48\x63\xc0",             INVAL),
	/* LOCK on a MOV */
	E(L64, "*lock mov %eax,(%rbx)",                "\xf0\x89\x03",             INVAL),
	E(L64, "*lock mov (%rbx),%eax",                "\xf0\x8b\x03",             INVAL),
	E(L64, "*lock movb $0x1,(%rax)",               "\xf0\xc6\x00\x01",         INVAL),
	E(L64, "*lock movabs 0x1122334455667788,%eax", "\xf0\xa1" OFF64,           INVAL),
	E(L64, "*lock movzbl (%rax),%eax",             "\xf0\x0f\xb6\x00",         INVAL),
	E(L64, "*lock mov %rax,(%rbx)",                "\xf0\x48\x89\x03",         INVAL),
	/* over 15 bytes */
	E(L64, "*ds x14 mov %eax,(%rbx)",
	       "\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x89\x03",   INVAL),
	E(L64, "*ds x15 mov %eax,(%rbx)",
	       "\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x89\x03", INVAL),
	E(L64, "*ds x6 movabs 0x1122334455667788,%rax", "\x3e\x3e\x3e\x3e\x3e\x3e\x48\xa1" OFF64, INVAL),
	E(L64, "*ds ds movq $0x11223344,%fs:0x12345678(%eax,%ebx,4)",
	       "\x3e\x3e\x64\x67\x48\xc7\x84\x98\x78\x56\x34\x12\x44\x33\x22\x11",   INVAL),
	E(L64, "*ds x12 movl $0x1,(%rax)",
	       "\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\xc7\x00\x01\x00\x00\x00", INVAL),
	/* not enough bytes to tell */
	E(L64, "*(nothing)",                           "",                         TRUNC),
	E(L64, "*data16",                              "\x66",                     TRUNC),
	E(L64, "*rex.W",                               "\x48",                     TRUNC),
	E(L64, "*0F escape",                           "\x0f",                     TRUNC),

	/* ---- 32-bit mode ----------------------------------------------------- */
	V(P32, "mov %eax,(%ebx)",                      "\x89\x03",                 ST(4, 0)),
	V(P32, "mov %ax,(%ebx)",                       "\x66\x89\x03",             ST(2, 0)),
	V(P32, "mov %al,(%ebx)",                       "\x88\x03",                 ST(1, 0)),
	V(P32, "mov %bh,(%ebx)",                       "\x88\x3b",                 STH(7)),
	V(P32, "mov (%esi),%ah",                       "\x8a\x26",                 LDH(4)),
	V(P32, "mov (%esi),%dl",                       "\x8a\x16",                 LD(1, 2, 1)),
	V(P32, "mov (%ebx),%eax",                      "\x8b\x03",                 LD(4, 0, 4)),
	V(P32, "mov (%ebx),%cx",                       "\x66\x8b\x0b",             LD(2, 1, 2)),
	V(P32, "mov %ecx,0x10(%esp)",                  "\x89\x4c\x24\x10",         ST(4, 1)),
	V(P32, "mov 0x12345678(,%eax,8),%ebx",         "\x8b\x1c\xc5\x78\x56\x34\x12", LD(4, 3, 4)),
	V(P32, "mov 0x12345678,%ecx",                  "\x8b\x0d\x78\x56\x34\x12", LD(4, 1, 4)),
	V(P32, "mov 0x12345678(%ebp),%edi",            "\x8b\xbd\x78\x56\x34\x12", LD(4, 7, 4)),
	V(P32, "mov 0x0(%ebp),%eax",                   "\x8b\x45\x00",             LD(4, 0, 4)),
	V(P32, "mov (%esp),%eax",                      "\x8b\x04\x24",             LD(4, 0, 4)),
	V(P32, "mov -0x4(%ebp,%esi,4),%edx",           "\x8b\x54\xb5\xfc",         LD(4, 2, 4)),
	V(P32, "mov 0x11223344(%ebp,%esi,4),%edx",     "\x8b\x94\xb5\x44\x33\x22\x11", LD(4, 2, 4)),
	V(P32, "mov 0x11223344(,%esi,4),%edx",         "\x8b\x14\xb5\x44\x33\x22\x11", LD(4, 2, 4)),
	V(P32, "movl $0x12345678,0x4(%ebx,%esi,2)",    "\xc7\x44\x73\x04\x78\x56\x34\x12", STI(4, 0x12345678)),
	V(P32, "movw $0xffff,(%eax)",                  "\x66\xc7\x00\xff\xff",     STI(2, 0xffff)),
	V(P32, "movb $0x7f,(%eax)",                    "\xc6\x00\x7f",             STI(1, 0x7f)),
	V(P32, "movl $0xffffffff,(%eax)",              "\xc7\x00\xff\xff\xff\xff", STI(4, 0xffffffff)),
	V(P32, "mov 0x11223344,%al",                   "\xa0" OFF32,               LD(1, 0, 1)),
	V(P32, "mov 0x11223344,%ax",                   "\x66\xa1" OFF32,           LD(2, 0, 2)),
	V(P32, "mov 0x11223344,%eax",                  "\xa1" OFF32,               LD(4, 0, 4)),
	V(P32, "mov %al,0x11223344",                   "\xa2" OFF32,               ST(1, 0)),
	V(P32, "mov %eax,0x11223344",                  "\xa3" OFF32,               ST(4, 0)),
	V(P32, "mov %es:0x11223344,%eax",              "\x26\xa1" OFF32,           LD(4, 0, 4)),
	V(P32, "addr16 mov 0x1234,%eax",               "\x67\xa1\x34\x12",         LD(4, 0, 4)),
	V(P32, "addr16 mov 0x1234,%ax",                "\x67\x66\xa1\x34\x12",     LD(2, 0, 2)),
	V(P32, "*data16 addr16 mov 0x1234,%ax",        "\x66\x67\xa1\x34\x12",     LD(2, 0, 2)),
	V(P32, "addr16 mov %al,0x1234",                "\x67\xa2\x34\x12",         ST(1, 0)),
	V(P32, "mov (%bx,%si),%eax",                   "\x67\x8b\x00",             LD(4, 0, 4)),
	V(P32, "mov 0x12(%bp),%eax",                   "\x67\x8b\x46\x12",         LD(4, 0, 4)),
	V(P32, "mov 0x1234(%bx,%di),%ecx",             "\x67\x8b\x89\x34\x12",     LD(4, 1, 4)),
	V(P32, "addr16 mov 0x1234,%edx",               "\x67\x8b\x16\x34\x12",     LD(4, 2, 4)),
	V(P32, "movzbl (%eax),%edi",                   "\x0f\xb6\x38",             LDZ(1, 7, 4)),
	V(P32, "movzwl (%eax),%edi",                   "\x0f\xb7\x38",             LDZ(2, 7, 4)),
	V(P32, "movzbw (%eax),%di",                    "\x66\x0f\xb6\x38",         LDZ(1, 7, 2)),
	V(P32, "movsbw (%eax),%di",                    "\x66\x0f\xbe\x38",         LDS(1, 7, 2)),
	V(P32, "movswl 0x10(%esp),%ebp",               "\x0f\xbf\x6c\x24\x10",     LDS(2, 5, 4)),
	V(P32, "movsbl 0x11223344,%eax",               "\x0f\xbe\x05\x44\x33\x22\x11", LDS(1, 0, 4)),
	V(P32, "mov %eax,%fs:(%ebx)",                  "\x64\x89\x03",             ST(4, 0)),
	V(P32, "*repz mov %eax,(%ebx)",                "\xf3\x89\x03",             ST(4, 0)),
	E(P32, "*dec %eax; mov %eax,(%ebx)",           "\x48\x89\x03",             UNSUP),
	E(P32, "inc %eax",                             "\x40",                     UNSUP),
	E(P32, "arpl %ax,(%ebx)",                      "\x63\x03",                 UNSUP),
	E(P32, "lds (%eax),%eax",                      "\xc5\x00",                 UNSUP),
	E(P32, "add (%ebx),%eax",                      "\x03\x03",                 UNSUP),
	E(P32, "mov %eax,%ebx",                        "\x89\xc3",                 INVAL),
	E(P32, "*lock mov %eax,(%ebx)",                "\xf0\x89\x03",             INVAL),

	/* ---- 16-bit modes (real and 16-bit protected decode alike) ---------- */
	V(M16, "mov %ax,(%bx)",                        "\x89\x07",                 ST(2, 0)),
	V(M16, "mov %eax,(%bx)",                       "\x66\x89\x07",             ST(4, 0)),
	V(M16, "mov %al,(%bx)",                        "\x88\x07",                 ST(1, 0)),
	V(M16, "mov %ah,(%bx)",                        "\x88\x27",                 STH(4)),
	V(M16, "mov (%bx,%si),%al",                    "\x8a\x00",                 LD(1, 0, 1)),
	V(M16, "mov (%bp,%di),%cl",                    "\x8a\x0b",                 LD(1, 1, 1)),
	V(M16, "mov (%bx,%di),%ch",                    "\x8a\x29",                 LDH(5)),
	V(M16, "mov (%bp,%si),%dh",                    "\x8a\x32",                 LDH(6)),
	V(M16, "mov (%si),%bx",                        "\x8b\x1c",                 LD(2, 3, 2)),
	V(M16, "mov (%di),%sp",                        "\x8b\x25",                 LD(2, 4, 2)),
	V(M16, "mov 0x1234,%dx",                       "\x8b\x16\x34\x12",         LD(2, 2, 2)),
	V(M16, "mov 0x12(%bp),%ax",                    "\x8b\x46\x12",             LD(2, 0, 2)),
	V(M16, "mov 0x0(%bp),%ax",                     "\x8b\x46\x00",             LD(2, 0, 2)),
	V(M16, "mov -0x2(%si),%bx",                    "\x8b\x5c\xfe",             LD(2, 3, 2)),
	V(M16, "mov 0x1234(%bx,%si),%sp",              "\x8b\xa0\x34\x12",         LD(2, 4, 2)),
	V(M16, "mov 0x1234(%bp,%di),%esi",             "\x66\x8b\xb3\x34\x12",     LD(4, 6, 4)),
	V(M16, "mov %es:(%di),%ax",                    "\x26\x8b\x05",             LD(2, 0, 2)),
	V(M16, "movb $0x12,(%di)",                     "\xc6\x05\x12",             STI(1, 0x12)),
	V(M16, "movw $0x1234,(%si)",                   "\xc7\x04\x34\x12",         STI(2, 0x1234)),
	V(M16, "movw $0x8000,0x10(%bx)",               "\xc7\x47\x10\x00\x80",     STI(2, 0x8000)),
	V(M16, "movl $0x12345678,(%si)",               "\x66\xc7\x04\x78\x56\x34\x12", STI(4, 0x12345678)),
	V(M16, "movl $0x12345678,0x1234(%bx,%si)",     "\x66\xc7\x80\x34\x12\x78\x56\x34\x12", STI(4, 0x12345678)),
	V(M16, "movb $0x1,0x1234",                     "\xc6\x06\x34\x12\x01",     STI(1, 1)),
	V(M16, "mov 0x1234,%al",                       "\xa0\x34\x12",             LD(1, 0, 1)),
	V(M16, "mov 0x1234,%ax",                       "\xa1\x34\x12",             LD(2, 0, 2)),
	V(M16, "mov 0x1234,%eax",                      "\x66\xa1\x34\x12",         LD(4, 0, 4)),
	V(M16, "mov %al,0x1234",                       "\xa2\x34\x12",             ST(1, 0)),
	V(M16, "mov %ax,0x1234",                       "\xa3\x34\x12",             ST(2, 0)),
	V(M16, "addr32 mov 0x12345678,%eax",           "\x67\x66\xa1\x78\x56\x34\x12", LD(4, 0, 4)),
	V(M16, "*data32 addr32 mov 0x12345678,%eax",   "\x66\x67\xa1\x78\x56\x34\x12", LD(4, 0, 4)),
	V(M16, "mov (%eax),%ax",                       "\x67\x8b\x00",             LD(2, 0, 2)),
	V(M16, "mov 0x10(%esp),%ax",                   "\x67\x8b\x44\x24\x10",     LD(2, 0, 2)),
	V(M16, "mov 0x12345678(,%ecx,4),%bx",          "\x67\x8b\x1c\x8d\x78\x56\x34\x12", LD(2, 3, 2)),
	V(M16, "mov %ax,0x12345678(%ebp)",             "\x67\x89\x85\x78\x56\x34\x12", ST(2, 0)),
	V(M16, "movzbw (%bx),%ax",                     "\x0f\xb6\x07",             LDZ(1, 0, 2)),
	V(M16, "movzbl (%bx),%eax",                    "\x66\x0f\xb6\x07",         LDZ(1, 0, 4)),
	V(M16, "*movzww (%bx),%ax",                    "\x0f\xb7\x07",             LDZ(2, 0, 2)),
	V(M16, "movswl (%bx),%eax",                    "\x66\x0f\xbf\x07",         LDS(2, 0, 4)),
	V(M16, "movsbw 0x5(%si),%dx",                  "\x0f\xbe\x54\x05",         LDS(1, 2, 2)),
	E(M16, "add %ax,(%bx)",                        "\x01\x07",                 UNSUP),
	E(M16, "inc %ax",                              "\x40",                     UNSUP),
	E(M16, "arpl %ax,(%bx)",                       "\x63\x07",                 UNSUP),
	E(M16, "movsw %ds:(%si),%es:(%di)",            "\xa5",                     UNSUP),
	E(M16, "mov %ax,%bx",                          "\x89\xc3",                 INVAL),
	E(M16, "*lock mov %ax,(%bx)",                  "\xf0\x89\x07",             INVAL),
};

#define NVECS (sizeof(vecs) / sizeof(vecs[0]))

/* ---- helpers ------------------------------------------------------------ */

static int same(const struct mmio_insn *a, const struct mmio_insn *b)
{
	return a->length == b->length && a->kind == b->kind && a->size == b->size &&
	       a->reg == b->reg && a->high_byte == b->high_byte && a->has_imm == b->has_imm &&
	       a->extend == b->extend && a->dest_size == b->dest_size && a->imm == b->imm;
}

static void show(const char *what, const struct mmio_insn *d)
{
	printf("#   %s: length %u kind %u size %u reg %u high %u has_imm %u extend %u dest %u imm %#llx\n",
	       what, d->length, d->kind, d->size, d->reg, d->high_byte, d->has_imm, d->extend,
	       d->dest_size, (unsigned long long)d->imm);
}

/* Decode from a heap copy of exactly `avail` bytes, so that AddressSanitizer
 * reports any read past the end.  *out is filled with a pattern first; a
 * failed decode must leave it alone (reported through `untouched`). */
static int decode_exact(const uint8_t *src, size_t avail, enum cpu_mode mode,
                        struct mmio_insn *out, int *untouched)
{
	uint8_t *copy = malloc(avail);
	if (avail)
		memcpy(copy, src, avail);
	struct mmio_insn pattern;
	memset(&pattern, 0xa5, sizeof(pattern));
	*out = pattern;
	int ret = mmio_decode(copy, avail, mode, out);
	if (untouched)
		*untouched = ret == 0 || memcmp(out, &pattern, sizeof(pattern)) == 0;
	free(copy);
	return ret;
}

/* The fields of a successful decode are within their ranges and agree
 * with one another. */
static int fields_sane(const struct mmio_insn *d, size_t avail)
{
	int size_ok = d->size == 1 || d->size == 2 || d->size == 4 || d->size == 8;
	if (d->length < 1 || d->length > 15 || d->length > avail || !size_ok || d->reg > 15 ||
	    d->extend > 2 || d->high_byte > 1 || d->has_imm > 1)
		return 0;
	if (d->high_byte && (d->size != 1 || d->reg < 4 || d->reg > 7 || d->has_imm))
		return 0;
	if (d->kind == MMIO_LOAD) {
		int dest_ok = d->dest_size == 1 || d->dest_size == 2 || d->dest_size == 4 ||
		              d->dest_size == 8;
		if (!dest_ok || d->dest_size < d->size || d->has_imm || d->imm)
			return 0;
		/* plain loads write what they read; extending ones are wider,
		 * except MOVZX/MOVSX r16, r/m16 */
		if (d->extend == 0 ? d->dest_size != d->size : d->dest_size == d->size && d->size != 2)
			return 0;
		return 1;
	}
	if (d->kind != MMIO_STORE || d->extend || d->dest_size)
		return 0;
	if (d->has_imm)
		return d->reg == 0 && (d->size == 8 || d->imm >> (8 * d->size) == 0);
	return d->imm == 0;
}

/* ---- the vectors ---------------------------------------------------------- */

static void test_vectors(void)
{
	for (size_t i = 0; i < NVECS; i++) {
		const struct vec *v = &vecs[i];
		for (int m = MODE_REAL16; m <= MODE_LONG64; m++) {
			if (!(v->modes & (1u << m)))
				continue;
			struct mmio_insn got, want = v->want;
			int untouched;
			int ret = decode_exact((const uint8_t *)v->bytes, v->len, m, &got, &untouched);
			want.length = (uint8_t)v->len;
			int ok = ret == v->ret && untouched && (ret != 0 || same(&got, &want));
			CHECK(ok, "%s: %s", mode_name[m], v->att);
			if (!ok) {
				printf("#   returned %d, expected %d%s\n", ret, v->ret,
				       untouched ? "" : " (and *out was written)");
				if (ret == 0)
					show("got", &got);
				if (v->ret == 0)
					show("expected", &want);
			}
		}
	}
}

/* Every successful vector cut short at each of its lengths 0..len-1 is
 * DECODE_TRUNCATED (from a buffer of exactly that size, so a read past
 * the cut is an ASan error), and followed by more bytes it decodes the
 * same as alone. */
static void test_truncation(void)
{
	static const uint8_t tails[][8] = {
		{ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 },
		{ 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc },
		{ 0x89, 0x03, 0x66, 0x48, 0x0f, 0xb6, 0xff, 0xc7 },
	};
	unsigned nvec = 0, ncut = 0, bad_cut = 0, bad_tail = 0, bad_out = 0;

	for (size_t i = 0; i < NVECS; i++) {
		const struct vec *v = &vecs[i];
		if (v->ret != 0)
			continue;
		for (int m = MODE_REAL16; m <= MODE_LONG64; m++) {
			if (!(v->modes & (1u << m)))
				continue;
			nvec++;
			struct mmio_insn alone, got;
			int untouched;
			decode_exact((const uint8_t *)v->bytes, v->len, m, &alone, NULL);
			for (size_t cut = 0; cut < v->len; cut++) {
				ncut++;
				if (decode_exact((const uint8_t *)v->bytes, cut, m, &got, &untouched) != TRUNC) {
					bad_cut++;
					printf("# %s: %s cut at %zu is not truncated\n", mode_name[m], v->att, cut);
				}
				bad_out += !untouched;
			}
			for (size_t t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
				uint8_t buf[32];
				memcpy(buf, v->bytes, v->len);
				memcpy(buf + v->len, tails[t], 8);
				if (decode_exact(buf, v->len + 8, m, &got, NULL) != 0 || !same(&got, &alone)) {
					bad_tail++;
					printf("# %s: %s followed by tail %zu decodes differently\n", mode_name[m],
					       v->att, t);
				}
			}
		}
	}
	CHECK(bad_cut == 0, "all %u cuts of %u successful vectors are DECODE_TRUNCATED", ncut, nvec);
	CHECK(bad_out == 0, "a truncated decode leaves *out alone");
	CHECK(bad_tail == 0, "bytes after the instruction change nothing");
}

/* Prefix limits and register numbering, easier to state as loops. */
static void test_lengths(void)
{
	uint8_t buf[32];
	struct mmio_insn d;

	/* n segment prefixes before `mov %eax,(%rbx)` (2 bytes): fine up to
	 * 13, invalid from 14 on. */
	int ok = 1;
	for (unsigned n = 0; n <= 20; n++) {
		memset(buf, 0x3e, n);
		buf[n] = 0x89;
		buf[n + 1] = 0x03;
		int ret = decode_exact(buf, n + 2, MODE_LONG64, &d, NULL);
		int want = n + 2 <= 15 ? 0 : INVAL;
		if (ret != want || (ret == 0 && d.length != n + 2)) {
			ok = 0;
			printf("#   %u prefixes: %d\n", n, ret);
		}
	}
	CHECK(ok, "prefixes up to a 15-byte instruction, invalid beyond");

	/* Nothing but prefixes: truncated below 15 bytes, invalid at 15. */
	memset(buf, 0x66, 16);
	ok = 1;
	for (size_t avail = 0; avail <= 16; avail++)
		if (decode_exact(buf, avail, MODE_PROT32, &d, NULL) != (avail < 15 ? TRUNC : INVAL))
			ok = 0;
	CHECK(ok, "a run of prefixes is truncated below 15 bytes and invalid at 15");

	/* Every REX value before 8B 08 (mov (%rax),%ecx): W gives 8 bytes,
	 * R adds 8 to the register, X and B change nothing here; in 32-bit
	 * mode the same bytes are INC/DEC (unsupported). */
	ok = 1;
	for (unsigned rex = 0x40; rex <= 0x4f; rex++) {
		uint8_t insn[3] = { (uint8_t)rex, 0x8b, 0x08 };
		int ret = decode_exact(insn, 3, MODE_LONG64, &d, NULL);
		unsigned size = rex & 8 ? 8 : 4, reg = 1 + (rex & 4 ? 8 : 0);
		if (ret != 0 || d.length != 3 || d.size != size || d.reg != reg || d.dest_size != size)
			ok = 0;
		if (decode_exact(insn, 3, MODE_PROT32, &d, NULL) != UNSUP)
			ok = 0;
	}
	CHECK(ok, "each REX.W/R/X/B combination on MOV r,r/m");

	/* Every register in ModRM.reg of 8A, with and without REX: AH..BH
	 * only without any REX. */
	ok = 1;
	for (unsigned r = 0; r < 16; r++) {
		for (int with_rex = 0; with_rex <= 1; with_rex++) {
			if (r >= 8 && !with_rex)
				continue;
			uint8_t insn[3] = { (uint8_t)(0x40 | (r >= 8 ? 4 : 0)), 0x8a, (uint8_t)((r & 7) << 3) };
			const uint8_t *p = with_rex ? insn : insn + 1;
			size_t n = with_rex ? 3 : 2;
			int ret = decode_exact(p, n, MODE_LONG64, &d, NULL);
			int high = !with_rex && r >= 4;
			if (ret != 0 || d.reg != r || d.high_byte != high || d.length != n)
				ok = 0;
		}
	}
	CHECK(ok, "8-bit registers: AL..BH without REX, AL..DIL and R8B..R15B with one");
}

/* All 256 ModRM bytes (and, where a SIB follows, all 256 SIB bytes) after
 * 8B, against the lengths in the manuals' tables, read as the tables are
 * printed: a row per mod, a column per rm. */
static void test_modrm_tables(void)
{
	/* bytes after ModRM by [mod][rm], 16-bit addressing (SDM table 2-1) */
	static const uint8_t t16[3][8] = {
		{ 0, 0, 0, 0, 0, 0, 2, 0 },   /* mod 0: [BX+SI] .. [BX]; rm 6 is disp16 */
		{ 1, 1, 1, 1, 1, 1, 1, 1 },   /* mod 1: + disp8 */
		{ 2, 2, 2, 2, 2, 2, 2, 2 },   /* mod 2: + disp16 */
	};
	/* by [mod][rm], 32/64-bit addressing (table 2-2), SIB byte included
	 * but not the disp32 of a SIB with base 5 under mod 0 (table 2-3) */
	static const uint8_t t32[3][8] = {
		{ 0, 0, 0, 0, 1, 4, 0, 0 },   /* mod 0: rm 4 SIB; rm 5 disp32 */
		{ 1, 1, 1, 1, 2, 1, 1, 1 },   /* mod 1: disp8 (+ SIB) */
		{ 4, 4, 4, 4, 5, 4, 4, 4 },   /* mod 2: disp32 (+ SIB) */
	};
	static const struct {
		enum cpu_mode mode;
		const char *prefix, *what;
		int a16;
	} cases[] = {
		{ MODE_REAL16, "",     "",          1 },
		{ MODE_PROT16, "",     "",          1 },
		{ MODE_PROT16, "\x67", " with 67",  0 },
		{ MODE_PROT32, "",     "",          0 },
		{ MODE_PROT32, "\x67", " with 67",  1 },
		{ MODE_LONG64, "",     "",          0 },
		{ MODE_LONG64, "\x67", " with 67",  0 },
		{ MODE_LONG64, "\x4f", " with REX.WRXB", 0 },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		unsigned bad = 0, n = 0;
		size_t p = strlen(cases[c].prefix);
		for (unsigned modrm = 0; modrm < 256; modrm++) {
			unsigned mod = modrm >> 6, rm = modrm & 7;
			for (unsigned sib = 0; sib < 256; sib++) {
				uint8_t buf[16];
				memcpy(buf, cases[c].prefix, p);
				buf[p] = 0x8b;
				buf[p + 1] = (uint8_t)modrm;
				buf[p + 2] = (uint8_t)sib;
				for (size_t k = p + 3; k < sizeof(buf); k++)
					buf[k] = (uint8_t)(0xa0 + k);
				struct mmio_insn d;
				int ret = decode_exact(buf, sizeof(buf), cases[c].mode, &d, NULL);
				n++;
				if (mod == 3) {
					bad += ret != INVAL;
					break;
				}
				size_t extra = cases[c].a16 ? t16[mod][rm] : t32[mod][rm];
				if (!cases[c].a16 && rm == 4 && mod == 0 && (sib & 7) == 5)
					extra += 4;
				if (ret != 0 || d.length != p + 2 + extra) {
					bad++;
					printf("#   modrm %02x sib %02x -> %d length %u, want %zu\n", modrm, sib,
					       ret, ret == 0 ? d.length : 0, p + 2 + extra);
				}
				if (cases[c].a16 || rm != 4)
					break;   /* no SIB byte: one value of the next byte is enough */
			}
		}
		CHECK(bad == 0, "ModRM/SIB lengths, %s%s (%u encodings)", mode_name[cases[c].mode],
		      cases[c].what, n);
	}
}

/* ---- register arithmetic --------------------------------------------------- */

#define OLD 0x1122334455667788ULL

/* Decode and return the load result for (OLD, data). */
static uint64_t load_via(const char *bytes, size_t len, enum cpu_mode mode, uint64_t data)
{
	struct mmio_insn d;
	if (mmio_decode((const uint8_t *)bytes, len, mode, &d) != 0 || d.kind != MMIO_LOAD)
		return 0xdeadULL;
	return mmio_load_result(&d, OLD, data);
}

/* Decode and return what the store writes when the register holds reg. */
static uint64_t store_via(const char *bytes, size_t len, enum cpu_mode mode, uint64_t reg)
{
	struct mmio_insn d;
	if (mmio_decode((const uint8_t *)bytes, len, mode, &d) != 0 || d.kind != MMIO_STORE)
		return 0xdeadULL;
	return mmio_store_value(&d, reg);
}

#define LOAD(b, mode, data) load_via(b, sizeof(b) - 1, mode, data)
#define STORE(b, mode, reg) store_via(b, sizeof(b) - 1, mode, reg)

static void test_load_result(void)
{
	/* plain loads: 8 and 16 bits merge, 32 bits zero the top, 64 replace */
	CHECK(LOAD("\x8a\x16", MODE_LONG64, 0xab) == 0x11223344556677abULL, "mov (%%rsi),%%dl merges bits 0..7");
	CHECK(LOAD("\x8a\x16", MODE_LONG64, 0xffffffffffffffabULL) == 0x11223344556677abULL,
	      "data bits above the access size are ignored");
	CHECK(LOAD("\x8a\x26", MODE_LONG64, 0xab) == 0x112233445566ab88ULL, "mov (%%rsi),%%ah writes bits 8..15");
	CHECK(LOAD("\x8a\x3e", MODE_PROT32, 0xab) == 0x112233445566ab88ULL, "mov (%%esi),%%bh writes bits 8..15");
	CHECK(LOAD("\x8a\x29", MODE_REAL16, 0xab) == 0x112233445566ab88ULL, "mov (%%bx,%%di),%%ch writes bits 8..15");
	CHECK(LOAD("\x40\x8a\x26", MODE_LONG64, 0xab) == 0x11223344556677abULL, "mov (%%rsi),%%spl writes bits 0..7");
	CHECK(LOAD("\xa0" OFF64, MODE_LONG64, 0xab) == 0x11223344556677abULL, "movabs moffs,%%al");
	CHECK(LOAD("\x66\x8b\x03", MODE_LONG64, 0xabcd) == 0x112233445566abcdULL, "16-bit load merges bits 0..15");
	CHECK(LOAD("\x8b\x03", MODE_REAL16, 0xabcd) == 0x112233445566abcdULL, "real mode mov (%%bp,%%di),%%ax merges");
	CHECK(LOAD("\x8b\x03", MODE_LONG64, 0xabcdef01) == 0xabcdef01ULL, "32-bit load zeroes bits 32..63");
	CHECK(LOAD("\x8b\x03", MODE_LONG64, 0xfedcba98abcdef01ULL) == 0xabcdef01ULL,
	      "32-bit load ignores data bits 32..63");
	CHECK(LOAD("\x8b\x03", MODE_PROT32, 0x89abcdef) == 0x89abcdefULL, "32-bit load in 32-bit mode");
	CHECK(LOAD("\x66\x8b\x07", MODE_PROT16, 0x89abcdef) == 0x89abcdefULL, "32-bit load in 16-bit mode (66)");
	CHECK(LOAD("\x48\x8b\x03", MODE_LONG64, 0xfedcba9876543210ULL) == 0xfedcba9876543210ULL,
	      "64-bit load replaces the register");
	CHECK(LOAD("\x48\xa1" OFF64, MODE_LONG64, 0x8000000000000001ULL) == 0x8000000000000001ULL,
	      "movabs moffs,%%rax");

	/* MOVZX */
	CHECK(LOAD("\x66\x0f\xb6\x08", MODE_LONG64, 0x80) == 0x1122334455660080ULL, "movzbw keeps bits 16..63");
	CHECK(LOAD("\x0f\xb6\x08", MODE_LONG64, 0x80) == 0x80ULL, "movzbl zero-extends to 64");
	CHECK(LOAD("\x4c\x0f\xb6\x18", MODE_LONG64, 0xff) == 0xffULL, "movzbq");
	CHECK(LOAD("\x0f\xb7\x10", MODE_LONG64, 0xffff) == 0xffffULL, "movzwl");
	CHECK(LOAD("\x48\x0f\xb7\x10", MODE_LONG64, 0x8001) == 0x8001ULL, "movzwq");
	CHECK(LOAD("\x66\x0f\xb7\x00", MODE_LONG64, 0xbeef) == 0x112233445566beefULL, "movzww merges bits 0..15");
	CHECK(LOAD("\x0f\xb6\x07", MODE_REAL16, 0xff) == 0x11223344556600ffULL, "real mode movzbw");

	/* MOVSX, MOVSXD */
	CHECK(LOAD("\x66\x0f\xbe\x00", MODE_LONG64, 0x80) == 0x112233445566ff80ULL, "movsbw keeps bits 16..63");
	CHECK(LOAD("\x0f\xbe\x00", MODE_LONG64, 0x80) == 0xffffff80ULL, "movsbl: negative, bits 32..63 zero");
	CHECK(LOAD("\x0f\xbe\x00", MODE_LONG64, 0x7f) == 0x7fULL, "movsbl: positive");
	CHECK(LOAD("\x4c\x0f\xbe\x38", MODE_LONG64, 0x80) == 0xffffffffffffff80ULL, "movsbq: negative");
	CHECK(LOAD("\x4c\x0f\xbe\x38", MODE_LONG64, 0x17f) == 0x7fULL, "movsbq ignores bits above the byte");
	CHECK(LOAD("\x0f\xbf\x30", MODE_LONG64, 0x8000) == 0xffff8000ULL, "movswl: negative");
	CHECK(LOAD("\x48\x0f\xbf\x30", MODE_LONG64, 0x8000) == 0xffffffffffff8000ULL, "movswq: negative");
	CHECK(LOAD("\x48\x0f\xbf\x30", MODE_LONG64, 0x7fff) == 0x7fffULL, "movswq: positive");
	CHECK(LOAD("\x66\x0f\xbf\x30", MODE_LONG64, 0x8000) == 0x1122334455668000ULL, "movsww merges bits 0..15");
	CHECK(LOAD("\x48\x63\x10", MODE_LONG64, 0x80000000) == 0xffffffff80000000ULL, "movslq: negative");
	CHECK(LOAD("\x48\x63\x10", MODE_LONG64, 0x7fffffff) == 0x7fffffffULL, "movslq: positive");
	CHECK(LOAD("\x66\x0f\xbf\x07", MODE_REAL16, 0xfffe) == 0xfffffffeULL, "real mode movswl");

	/* descriptions made by hand: every size, destination and extension */
	static const struct { uint8_t size, dest, ext, high; uint64_t data, want; } t[] = {
		{ 1, 1, 0, 0, 0x00, 0x1122334455667700ULL },
		{ 1, 1, 0, 1, 0x00, 0x1122334455660088ULL },
		{ 2, 2, 0, 0, 0x0000, 0x1122334455660000ULL },
		{ 4, 4, 0, 0, 0x00000000, 0 },
		{ 8, 8, 0, 0, 0, 0 },
		{ 1, 2, 1, 0, 0xfe, 0x11223344556600feULL },
		{ 1, 4, 1, 0, 0xfe, 0xfeULL },
		{ 1, 8, 1, 0, 0xfe, 0xfeULL },
		{ 2, 2, 1, 0, 0xfffe, 0x112233445566fffeULL },
		{ 2, 4, 1, 0, 0xfffe, 0xfffeULL },
		{ 2, 8, 1, 0, 0xfffe, 0xfffeULL },
		{ 1, 2, 2, 0, 0xfe, 0x112233445566fffeULL },
		{ 1, 4, 2, 0, 0xfe, 0xfffffffeULL },
		{ 1, 8, 2, 0, 0xfe, 0xfffffffffffffffeULL },
		{ 2, 2, 2, 0, 0xfffe, 0x112233445566fffeULL },
		{ 2, 4, 2, 0, 0xfffe, 0xfffffffeULL },
		{ 2, 8, 2, 0, 0xfffe, 0xfffffffffffffffeULL },
		{ 4, 8, 2, 0, 0xfffffffe, 0xfffffffffffffffeULL },
		{ 4, 8, 2, 0, 0x7ffffffe, 0x7ffffffeULL },
	};
	int ok = 1;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct mmio_insn d = { .kind = MMIO_LOAD, .size = t[i].size, .dest_size = t[i].dest,
		                       .extend = t[i].ext, .high_byte = t[i].high, .reg = t[i].high ? 4 : 0 };
		uint64_t got = mmio_load_result(&d, OLD, t[i].data);
		if (got != t[i].want) {
			ok = 0;
			printf("#   row %zu: %#llx\n", i, (unsigned long long)got);
		}
	}
	CHECK(ok, "load results for every size, destination and extension");
}

static void test_store_value(void)
{
	CHECK(STORE("\x88\x03", MODE_LONG64, OLD) == 0x88, "mov %%al,(%%rbx) stores bits 0..7");
	CHECK(STORE("\x88\x23", MODE_LONG64, OLD) == 0x77, "mov %%ah,(%%rbx) stores bits 8..15");
	CHECK(STORE("\x88\x3b", MODE_PROT32, OLD) == 0x77, "mov %%bh,(%%ebx) stores bits 8..15");
	CHECK(STORE("\x40\x88\x23", MODE_LONG64, OLD) == 0x88, "mov %%spl,(%%rbx) stores bits 0..7");
	CHECK(STORE("\x44\x88\x03", MODE_LONG64, OLD) == 0x88, "mov %%r8b,(%%rbx)");
	CHECK(STORE("\x66\x89\x03", MODE_LONG64, OLD) == 0x7788, "16-bit register store");
	CHECK(STORE("\x89\x03", MODE_LONG64, OLD) == 0x55667788, "32-bit register store");
	CHECK(STORE("\x48\x89\x03", MODE_LONG64, OLD) == OLD, "64-bit register store");
	CHECK(STORE("\x89\x07", MODE_REAL16, OLD) == 0x7788, "real mode 16-bit store");
	CHECK(STORE("\x66\x89\x07", MODE_REAL16, OLD) == 0x55667788, "real mode 32-bit store (66)");
	CHECK(STORE("\xa2" OFF64, MODE_LONG64, OLD) == 0x88, "movabs %%al,moffs");
	CHECK(STORE("\x48\xa3" OFF64, MODE_LONG64, OLD) == OLD, "movabs %%rax,moffs");
	CHECK(STORE("\xc6\x07\x80", MODE_LONG64, OLD) == 0x80, "movb $0x80 stores the byte, not the register");
	CHECK(STORE("\x66\xc7\x07\x01\x80", MODE_LONG64, OLD) == 0x8001, "movw $0x8001");
	CHECK(STORE("\xc7\x07\x01\x00\x00\x80", MODE_LONG64, OLD) == 0x80000001, "movl $0x80000001");
	CHECK(STORE("\x48\xc7\x07\xfe\xff\xff\xff", MODE_LONG64, OLD) == 0xfffffffffffffffeULL,
	      "movq $-2 stores the sign-extended imm32");
	CHECK(STORE("\x48\xc7\x07\xff\xff\xff\x7f", MODE_LONG64, OLD) == 0x7fffffffULL, "movq $0x7fffffff");
	CHECK(STORE("\xc7\x04\x34\x12", MODE_PROT16, OLD) == 0x1234, "16-bit mode movw $0x1234");

	static const struct { uint8_t size, high, has_imm; uint64_t imm, want; } t[] = {
		{ 1, 0, 0, 0, 0x88 },
		{ 1, 1, 0, 0, 0x77 },
		{ 2, 0, 0, 0, 0x7788 },
		{ 4, 0, 0, 0, 0x55667788 },
		{ 8, 0, 0, 0, OLD },
		{ 1, 0, 1, 0xff, 0xff },
		{ 2, 0, 1, 0xffff, 0xffff },
		{ 4, 0, 1, 0xffffffff, 0xffffffff },
		{ 8, 0, 1, 0xffffffff80000000ULL, 0xffffffff80000000ULL },
		{ 1, 0, 1, 0x1ff, 0xff },   /* only `size` bytes of the immediate */
	};
	int ok = 1;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct mmio_insn d = { .kind = MMIO_STORE, .size = t[i].size, .high_byte = t[i].high,
		                       .reg = t[i].high ? 4 : 0, .has_imm = t[i].has_imm, .imm = t[i].imm };
		if (mmio_store_value(&d, OLD) != t[i].want)
			ok = 0;
	}
	CHECK(ok, "store values for every size, high byte and immediate");
}

/* ---- random bytes ---------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

/* xorshift64*: a fixed sequence, so a failure can be reproduced */
static uint64_t next_rand(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

/* Bytes that steer random input into the decoder's paths. */
static const uint8_t interesting[] = {
	0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65,
	0x40, 0x41, 0x44, 0x48, 0x49, 0x4c, 0x4f,
	0x88, 0x89, 0x8a, 0x8b, 0xc6, 0xc7, 0xa0, 0xa1, 0xa2, 0xa3, 0x63, 0x0f,
	0xb6, 0xb7, 0xbe, 0xbf,
	0x00, 0x04, 0x05, 0x06, 0x0c, 0x24, 0x25, 0x44, 0x45, 0x46, 0x84, 0x85, 0x86, 0xc0,
};

static void test_random(void)
{
	enum { ROUNDS = 200000 };
	unsigned bad_ret = 0, bad_fields = 0, bad_exact = 0, bad_grow = 0, bad_out = 0;
	unsigned count[4][4] = { { 0 } };   /* [mode][-ret]: decoded, truncated, unsupported, invalid */

	for (unsigned i = 0; i < ROUNDS; i++) {
		uint8_t buf[20];
		uint64_t r = next_rand();
		int steer = (r & 3) != 0;   /* 1 in 4 rounds: uniform bytes */
		for (size_t k = 0; k < sizeof(buf); k++) {
			uint64_t x = next_rand();
			buf[k] = steer && (x & 3) ? interesting[(x >> 8) % sizeof(interesting)]
			                          : (uint8_t)(x >> 16);
		}
		size_t avail = (size_t)((r >> 8) % 18);
		enum cpu_mode mode = (enum cpu_mode)((r >> 16) & 3);

		struct mmio_insn d, again, full;
		int untouched;
		int ret = decode_exact(buf, avail, mode, &d, &untouched);
		bad_out += !untouched;
		if (ret != 0 && ret != TRUNC && ret != UNSUP && ret != INVAL) {
			bad_ret++;
			continue;
		}
		count[mode][-ret]++;

		/* More bytes after the first avail never change a final answer;
		 * a truncated instruction, given them, is longer than avail. */
		int fret = decode_exact(buf, sizeof(buf), mode, &full, NULL);
		if (ret == TRUNC ? fret == 0 && full.length <= avail
		                 : fret != ret || (ret == 0 && !same(&full, &d)))
			bad_grow++;
		if (ret != 0)
			continue;
		if (!fields_sane(&d, avail)) {
			bad_fields++;
			show("insane", &d);
		}
		/* Exactly `length` bytes decode the same; one fewer is truncated. */
		if (decode_exact(buf, d.length, mode, &again, NULL) != 0 || !same(&again, &d) ||
		    decode_exact(buf, d.length - 1u, mode, &again, NULL) != TRUNC)
			bad_exact++;
	}
	for (int m = 0; m < 4; m++)
		printf("# random %s: %u decoded, %u truncated, %u unsupported, %u invalid\n", mode_name[m],
		       count[m][0], count[m][1], count[m][2], count[m][3]);
	CHECK(bad_ret == 0, "random bytes: only the documented return values (%d rounds)", ROUNDS);
	CHECK(bad_out == 0, "random bytes: failures leave *out alone");
	CHECK(bad_fields == 0, "random bytes: every success has length <= avail, <= 15 and sane fields");
	CHECK(bad_exact == 0, "random bytes: a success decodes the same from exactly its bytes, "
	                      "and one byte fewer is truncated");
	CHECK(bad_grow == 0, "random bytes: more input never changes a final answer");
	int reached = 1;
	for (int m = 0; m < 4; m++)
		reached &= count[m][0] > 1000 && count[m][1] > 1000 && count[m][2] > 1000 && count[m][3] > 500;
	CHECK(reached, "random bytes reached every outcome in every mode");
}

/* mmio_decode_again answers as mmio_decode does, whatever came before:
 * each round changes the last buffer a little (a byte inside the last
 * instruction or after it, the mode, how many bytes were fetched), so
 * the kept decode is asked about bytes that begin with its instruction,
 * and about bytes that almost do. */
static void test_again(void)
{
	enum { ROUNDS = 200000 };
	uint8_t buf[MMIO_MAX_INSN];
	unsigned differ = 0, same_insn = 0;
	size_t avail = MMIO_MAX_INSN;
	enum cpu_mode mode = MODE_LONG64;
	struct mmio_insn last = { 0 };
	int last_ret = -1;
	for (size_t k = 0; k < sizeof(buf); k++)
		buf[k] = interesting[next_rand() % sizeof(interesting)];
	for (unsigned i = 0; i < ROUNDS; i++) {
		uint64_t r = next_rand();
		switch (r & 7) {
		case 0: case 1: case 2:   /* a byte of the last instruction, or after it */
			buf[(r >> 8) % (last_ret == 0 && (r & 1) ? last.length : sizeof(buf))] =
			        (r >> 16) & 1 ? interesting[(r >> 24) % sizeof(interesting)] : (uint8_t)(r >> 24);
			break;
		case 3:
			mode = (enum cpu_mode)((r >> 8) & 3);
			break;
		case 4:
			avail = (size_t)((r >> 8) % (MMIO_MAX_INSN + 1));
			break;
		case 5:   /* a fresh buffer */
			for (size_t k = 0; k < sizeof(buf); k++)
				buf[k] = interesting[next_rand() % sizeof(interesting)];
			break;
		default:  /* the same bytes again */
			break;
		}
		struct mmio_insn want, got;
		memset(&want, 0x5a, sizeof(want));
		memset(&got, 0x5a, sizeof(got));
		int want_ret = mmio_decode(buf, avail, mode, &want);
		int got_ret = mmio_decode_again(buf, avail, mode, &got);
		if (got_ret != want_ret || (want_ret == 0 && !same(&got, &want)))
			differ++;
		same_insn += want_ret == 0 && last_ret == 0 && same(&want, &last);
		last = want;
		last_ret = want_ret;
	}
	CHECK(differ == 0, "mmio_decode_again answers as mmio_decode in %d rounds of changed bytes, modes and "
	      "lengths (%u differed)", ROUNDS, differ);
	CHECK(same_insn > ROUNDS / 20, "of them %u asked again about the instruction just decoded", same_insn);
}

static void test_bad_mode(void)
{
	struct mmio_insn d;
	CHECK(mmio_decode((const uint8_t *)"\x89\x03", 2, (enum cpu_mode)4, &d) == INVAL,
	      "an unknown mode is rejected");
}

int main(void)
{
	test_vectors();
	test_truncation();
	test_lengths();
	test_modrm_tables();
	test_load_result();
	test_store_value();
	test_random();
	test_again();
	test_bad_mode();
	return unit_done();
}
