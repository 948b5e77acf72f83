/* Host unit tests for the address half of servers/vmm/decode.c: the
 * effective address of a decoded MOV's memory operand (mmio_address),
 * its default segment and overrides, and the prefix scan that string
 * I/O uses (insn_prefixes).
 *
 * Each vector's bytes were written from the ModRM/SIB tables of the
 * Intel SDM vol. 2 (tables 2-1 to 2-3) and checked against objdump's
 * disassembly of the same bytes; the expected address is worked out by
 * hand from the register values in regs[] below. */
// unit-under-test: servers/vmm/decode.c
#include <stdint.h>
#include <string.h>
#include "unit.h"
#include "../../servers/vmm/decode.h"

/* rax=0x1000, rcx=0x20, rdx=0x300, rbx=0x4000, rsp=0x50000, rbp=0x600000,
 * rsi=0x7000000, rdi=0x80000000, r8..r15 = 0x100000000 * (n - 7) */
static const uint64_t regs[16] = {
	0x1000, 0x20, 0x300, 0x4000, 0x50000, 0x600000, 0x7000000, 0x80000000,
	0x100000000, 0x200000000, 0x300000000, 0x400000000, 0x500000000, 0x600000000,
	0x700000000, 0x800000000,
};
#define NEXT_RIP 0x200000

struct avec {
	enum cpu_mode mode;
	const char *att;
	const char *bytes;
	size_t len;
	uint64_t address;
	unsigned segment;
};

#define A(m, att, b, addr, seg) { m, att, b, sizeof(b) - 1, addr, seg }

static const struct avec avecs[] = {
	A(MODE_LONG64, "mov %eax,(%rbx)",              "\x89\x03",                 0x4000, SEG_OVERRIDE_DS),
	A(MODE_LONG64, "mov 0x10(%rbx),%eax",          "\x8b\x43\x10",             0x4010, SEG_OVERRIDE_DS),
	A(MODE_LONG64, "mov -0x10(%rbx),%eax",         "\x8b\x43\xf0",             0x3ff0, SEG_OVERRIDE_DS),
	A(MODE_LONG64, "mov (%rbx,%rcx,4),%eax",       "\x8b\x04\x8b",             0x4080, SEG_OVERRIDE_DS),
	A(MODE_LONG64, "mov 0x8(%rsp),%rax",           "\x48\x8b\x44\x24\x08",     0x50008, SEG_OVERRIDE_SS),
	A(MODE_LONG64, "mov 0x0(%rbp),%eax",           "\x8b\x45\x00",             0x600000, SEG_OVERRIDE_SS),
	A(MODE_LONG64, "mov (%r12),%eax",              "\x41\x8b\x04\x24",         0x500000000, SEG_OVERRIDE_DS),
	A(MODE_LONG64, "mov 0x0(%r13),%eax",           "\x41\x8b\x45\x00",         0x600000000, SEG_OVERRIDE_DS),
	A(MODE_LONG64, "mov (%rax,%r9,8),%eax",        "\x42\x8b\x04\xc8",         0x1000001000, SEG_OVERRIDE_DS),
	A(MODE_LONG64, "mov 0x12345678,%eax (SIB, no base)", "\x8b\x04\x25\x78\x56\x34\x12", 0x12345678, SEG_OVERRIDE_DS),
	A(MODE_LONG64, "mov 0x100(%rip),%eax",         "\x8b\x05\x00\x01\x00\x00", NEXT_RIP + 0x100, SEG_OVERRIDE_DS),
	A(MODE_LONG64, "mov %fs:(%rbx),%eax",          "\x64\x8b\x03",             0x4000, SEG_OVERRIDE_FS),
	A(MODE_LONG64, "mov %gs:0x8(%rsp),%eax",       "\x65\x8b\x44\x24\x08",     0x50008, SEG_OVERRIDE_GS),
	A(MODE_LONG64, "mov (%edi),%eax (addr32)",     "\x67\x8b\x07",             0x80000000, SEG_OVERRIDE_DS),
	A(MODE_LONG64, "mov -0x1(%eax),%eax (addr32 wraps)", "\x67\x8b\x40\xff",   0xfff, SEG_OVERRIDE_DS),
	A(MODE_LONG64, "movabs 0x1122334455667788,%eax", "\xa1\x88\x77\x66\x55\x44\x33\x22\x11",
	  0x1122334455667788, SEG_OVERRIDE_DS),
	A(MODE_LONG64, "movl $0x1,0x4(%rbx)",          "\xc7\x43\x04\x01\x00\x00\x00", 0x4004, SEG_OVERRIDE_DS),
	A(MODE_PROT32, "mov (%ebx,%esi,2),%eax",       "\x8b\x04\x73",             0xe004000, SEG_OVERRIDE_DS),
	A(MODE_PROT32, "mov 0x10,%eax (disp32 alone)", "\x8b\x05\x10\x00\x00\x00", 0x10, SEG_OVERRIDE_DS),
	A(MODE_PROT32, "mov %es:0x4(%ebp),%eax",       "\x26\x8b\x45\x04",         0x600004, SEG_OVERRIDE_ES),
	A(MODE_REAL16, "mov (%bx,%si),%ax",            "\x8b\x00",                 0x4000, SEG_OVERRIDE_DS),
	A(MODE_REAL16, "mov 0x2(%bp,%di),%ax",         "\x8b\x43\x02",             0x0002, SEG_OVERRIDE_SS),
	A(MODE_REAL16, "mov 0x1234,%ax",               "\x8b\x06\x34\x12",         0x1234, SEG_OVERRIDE_DS),
	A(MODE_REAL16, "mov -0x1(%bx),%al (wraps at 64 KiB)", "\x8a\x47\xff",     0x3fff, SEG_OVERRIDE_DS),
};

static void test_addresses(void)
{
	for (size_t i = 0; i < sizeof(avecs) / sizeof(avecs[0]); i++) {
		const struct avec *v = &avecs[i];
		struct mmio_insn d;
		int ret = mmio_decode((const uint8_t *)v->bytes, v->len, v->mode, &d);
		uint64_t a = ret ? 0 : mmio_address(&d, regs, NEXT_RIP);
		CHECK(ret == 0 && d.length == v->len && a == v->address && d.addr.segment == v->segment,
		      "%s: address %#llx (got %#llx), segment %u (got %u)", v->att,
		      (unsigned long long)v->address, (unsigned long long)a, v->segment,
		      ret ? 99 : d.addr.segment);
	}
}

static void test_prefixes(void)
{
	struct insn_prefixes p;
	/* rep outsb (f3 6e): 64-bit addresses, no override */
	CHECK(insn_prefixes((const uint8_t *)"\xf3\x6e", 2, MODE_LONG64, &p) == 0 && p.addr_size == 8 &&
	      p.segment == -1 && p.length == 1, "rep outsb in 64-bit mode: 8-byte addresses");
	/* addr32 rep outsb (67 f3 6e) */
	CHECK(insn_prefixes((const uint8_t *)"\x67\xf3\x6e", 3, MODE_LONG64, &p) == 0 && p.addr_size == 4 &&
	      p.length == 2, "addr32 rep outsb in 64-bit mode: 4-byte addresses");
	/* rep outsb with 67 in 32-bit code: 16-bit addresses */
	CHECK(insn_prefixes((const uint8_t *)"\xf3\x67\x6e", 3, MODE_PROT32, &p) == 0 && p.addr_size == 2,
	      "addr16 rep outsb in 32-bit code: 2-byte addresses");
	/* fs rep outsl (64 f3 6f) */
	CHECK(insn_prefixes((const uint8_t *)"\x64\xf3\x6f", 3, MODE_LONG64, &p) == 0 &&
	      p.segment == SEG_OVERRIDE_FS, "an FS override is reported");
	/* rex.w before the opcode is a prefix in 64-bit mode, INC elsewhere */
	CHECK(insn_prefixes((const uint8_t *)"\x48\x6e", 2, MODE_LONG64, &p) == 0 && p.length == 1 && p.rex == 0x48,
	      "REX counts as a prefix in 64-bit mode, and is reported");
	/* mov %r8, %dr7 (41 0f 23 f8): the DR-write decoder needs REX.B */
	CHECK(insn_prefixes((const uint8_t *)"\x41\x0f\x23\xf8", 4, MODE_LONG64, &p) == 0 && p.length == 1 &&
	      p.rex == 0x41, "REX.B before 0F 23 is reported for MOV to DRn");
	CHECK(insn_prefixes((const uint8_t *)"\x41\x66\x6e", 3, MODE_LONG64, &p) == 0 && p.rex == 0,
	      "a legacy prefix after REX cancels it");
	CHECK(insn_prefixes((const uint8_t *)"\x48\x6e", 2, MODE_PROT32, &p) == 0 && p.length == 0,
	      "0x48 is an opcode outside 64-bit mode");
	CHECK(insn_prefixes((const uint8_t *)"\x67\x67", 2, MODE_LONG64, &p) == DECODE_TRUNCATED,
	      "prefixes running past the fetched bytes: truncated");
	CHECK(insn_prefixes((const uint8_t *)"\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x6e",
	                    16, MODE_LONG64, &p) == DECODE_INVALID,
	      "fifteen prefixes: too long");
}

int main(void)
{
	test_addresses();
	test_prefixes();
	return unit_done();
}
