/* Host unit tests for servers/vmm/shadow_walk.c (shadow paging's guest
 * page-table walk) and decode.c's INVLPG decoder: guest tables built in
 * a small fake guest memory, each case's expected fault or shadow entry
 * worked out from the AMD APM's rules (vol. 2, 5.3-5.6). */
// unit-under-test: servers/vmm/shadow_walk.c servers/vmm/decode.c
#include <stdint.h>
#include <string.h>
#include "unit.h"
#include <berth/syscall.h>
#include "../../servers/vmm/shadow.h"
#include "../../servers/vmm/decode.h"

#define MEM (64 * 4096)
static uint64_t mem[MEM / 8];
static int writes;

static void rd(void *ctx, uint64_t gpa, uint64_t *e)
{
	(void)ctx;
	*e = gpa + 8 <= MEM ? mem[gpa / 8] : ~0UL;   /* the empty bus reads all ones */
}

static void wr(void *ctx, uint64_t gpa, uint64_t e)
{
	(void)ctx;
	mem[gpa / 8] = e;
	writes++;
}

static int ram(void *ctx, uint64_t gpa)
{
	(void)ctx;
	return gpa + 8 <= MEM;
}

#define P 1UL
#define W 2UL
#define U 4UL
#define A 0x20UL
#define D 0x40UL
#define PS 0x80UL
#define NX (1UL << 63)

static uint64_t *entry(uint64_t table, unsigned i) { return &mem[(table + 8 * i) / 8]; }

/* PML4 at 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000: gva 0x400000 + 0x1000 * k
 * -> PT entry k; gva 0x40000000 is a 2 MiB page in PD entry... (PDPT 1) */
static void build(void)
{
	memset(mem, 0, sizeof(mem));
	*entry(0x1000, 0) = 0x2000 | P | W | U;
	*entry(0x2000, 0) = 0x3000 | P | W | U;
	*entry(0x3000, 2) = 0x4000 | P | W | U;            /* 0x400000..0x5fffff */
	*entry(0x4000, 0) = 0x10000 | P | W | U;           /* 0x400000: user, writable, clean */
	*entry(0x4000, 1) = 0x11000 | P | U;               /* 0x401000: user, read-only */
	*entry(0x4000, 2) = 0x12000 | P | W;               /* 0x402000: kernel only */
	*entry(0x4000, 3) = 0x13000 | P | W | U | NX | D;  /* 0x403000: no-execute, dirty */
	*entry(0x4000, 4) = 0x14000 | P | W | U | (1UL << 51); /* 0x404000: a reserved bit */
	*entry(0x3000, 4) = 0x800000 | P | W | PS;         /* 0x800000: a 2 MiB kernel page */
	*entry(0x4000, 5) = 0x1000000000UL | P | W | U;    /* 0x405000: above the 36-bit width */
	writes = 0;
}

static struct shadow_env env(uint64_t cr0, uint64_t cr4, uint64_t efer, uint64_t rflags)
{
	return (struct shadow_env){ .cr0 = cr0, .cr3 = 0x1000, .cr4 = cr4, .efer = efer, .rflags = rflags,
	                            .phys_bits = 36, .read = rd, .write = wr, .is_ram = ram };
}

#define WP (1UL << 16)
#define NXE (1UL << 11)

int main(void)
{
	struct shadow_fill f;
	struct shadow_env e = env(0x80000001 | WP, 0x20, NXE, 2);
	build();

	CHECK(shadow_walk(&e, 0x400123, SPF_USER, &f) == 0 && f.gpa == 0x10000 && f.flags == SHADOW_USER &&
	      f.page_size == 4096, "a user read of a clean writable page: mapped user, read-only until dirty");
	CHECK((*entry(0x4000, 0) & (A | D)) == A && (*entry(0x1000, 0) & A) && (*entry(0x3000, 2) & A),
	      "the walk set Accessed at every level, not Dirty");
	CHECK(shadow_walk(&e, 0x400008, SPF_USER | SPF_WRITE, &f) == 0 && f.flags == (SHADOW_USER | SHADOW_WRITE) &&
	      (*entry(0x4000, 0) & D), "a write sets Dirty and maps it writable");
	CHECK(shadow_walk(&e, 0x400000, SPF_USER, &f) == 0 && (f.flags & SHADOW_WRITE),
	      "once dirty, a read maps it writable too");
	CHECK(shadow_walk(&e, 0x401000, SPF_USER | SPF_WRITE, &f) == -1 && f.error == (SPF_PRESENT | SPF_WRITE | SPF_USER),
	      "a user write of a read-only page: the guest's #PF, present|write|user");
	CHECK(shadow_walk(&e, 0x401000, SPF_WRITE, &f) == -1 && f.error == (SPF_PRESENT | SPF_WRITE),
	      "a kernel write of it with CR0.WP: a #PF too");
	struct shadow_env nowp = env(0x80000001, 0x20, NXE, 2);
	CHECK(shadow_walk(&nowp, 0x401000, SPF_WRITE, &f) == 0 && f.flags == SHADOW_WRITE,
	      "without CR0.WP the kernel may write it: writable, for the kernel alone");
	CHECK(shadow_walk(&e, 0x402000, SPF_USER, &f) == -1 && f.error == (SPF_PRESENT | SPF_USER),
	      "a user read of a kernel page: #PF present|user");
	CHECK(shadow_walk(&e, 0x402000, 0, &f) == 0 && f.flags == 0 && f.gpa == 0x12000,
	      "the kernel reads it: mapped without U/S");
	CHECK(shadow_walk(&e, 0x403000, SPF_USER | SPF_FETCH, &f) == -1 &&
	      f.error == (SPF_PRESENT | SPF_USER | SPF_FETCH), "a fetch from a no-execute page: #PF with I/D");
	CHECK(shadow_walk(&e, 0x403000, SPF_USER, &f) == 0 && f.flags == (SHADOW_USER | SHADOW_WRITE | SHADOW_NOEXEC),
	      "read: mapped no-execute (and writable, being dirty)");
	struct shadow_env nonx = env(0x80000001 | WP, 0x20, 0, 2);
	CHECK(shadow_walk(&nonx, 0x403000, SPF_USER, &f) == -1 && f.error == (SPF_PRESENT | SPF_USER | SPF_RSVD),
	      "without EFER.NXE the NX bit is reserved: #PF with RSVD");
	CHECK(shadow_walk(&e, 0x404000, 0, &f) == -1 && (f.error & SPF_RSVD), "a reserved address bit: RSVD");
	CHECK(shadow_walk(&e, 0x405000, 0, &f) == -1 && (f.error & SPF_RSVD),
	      "an address above the guest's physical width: RSVD");
	CHECK(shadow_walk(&e, 0x406000, SPF_WRITE, &f) == -1 && f.error == SPF_WRITE, "not present: #PF, P clear");
	CHECK(shadow_walk(&e, 0x7fff00000000UL, 0, &f) == -1 && f.error == 0, "a missing PML4 entry: not present");
	CHECK(shadow_walk(&e, 0x923456, 0, &f) == 0 && f.gpa == 0x923000 && f.page_size == (2UL << 20) && f.flags == 0,
	      "a 2 MiB page: the 4 KiB piece at the address");
	CHECK(shadow_walk(&e, 0x923456, SPF_USER, &f) == -1, "the 2 MiB kernel page refuses the user");
	*entry(0x4000, 8) = 0x18000 | P | W | 0x100;     /* 0x408000: a global kernel page */
	CHECK(shadow_walk(&e, 0x408000, 0, &f) == 0 && !f.global, "G without CR4.PGE: not global");
	struct shadow_env pge = env(0x80000001 | WP, 0x20 | 0x80, NXE, 2);
	CHECK(shadow_walk(&pge, 0x408000, 0, &f) == 0 && f.global, "G with CR4.PGE: global");
	CHECK(shadow_walk(&pge, 0x400000, 0, &f) == 0 && !f.global, "a page without G is not");
	struct shadow_env smep = env(0x80000001 | WP, 0x20 | (1UL << 20), NXE, 2);
	CHECK(shadow_walk(&smep, 0x400000, SPF_FETCH, &f) == -1 && f.error == (SPF_PRESENT | SPF_FETCH),
	      "SMEP: the kernel fetching from a user page faults");
	struct shadow_env smap = env(0x80000001 | WP, 0x20 | (1UL << 21), NXE, 2);
	CHECK(shadow_walk(&smap, 0x400000, 0, &f) == -1 && f.error == SPF_PRESENT,
	      "SMAP: the kernel reading a user page with AC clear faults");
	smap.rflags |= 1UL << 18;
	CHECK(shadow_walk(&smap, 0x400000, 0, &f) == 0, "SMAP: with RFLAGS.AC it may");
	*entry(0x1000, 0) = 0x7fff0000UL | P | W | U;   /* a table on the empty bus */
	CHECK(shadow_walk(&e, 0x400000, 0, &f) == -1 && (f.error & SPF_RSVD),
	      "a table outside memory reads as all ones: RSVD, and nothing is written there");
	build();
	*entry(0x1000, 0) = 0x1000 | P | W | U;          /* the PML4 maps itself as every level */
	CHECK(shadow_walk(&e, 0x0, 0, &f) == 0 && f.gpa == 0x1000 && !(f.flags & SHADOW_WRITE),
	      "a table mapping itself: only guest memory, read-only until dirty");

	/* INVLPG: 0F 01 /7 */
	struct mmio_insn in;
	static const uint8_t inv_rbx[] = { 0x0f, 0x01, 0x3b };                  /* invlpg (%rbx) */
	static const uint8_t inv_disp[] = { 0x0f, 0x01, 0x7c, 0x24, 0x08 };     /* invlpg 0x8(%rsp) */
	static const uint8_t inv_r8[] = { 0x41, 0x0f, 0x01, 0x38 };             /* invlpg (%r8) */
	static const uint8_t inv_gs[] = { 0x65, 0x0f, 0x01, 0x3c, 0x25, 0x10, 0, 0, 0 }; /* invlpg %gs:0x10 */
	static const uint8_t swapgs[] = { 0x0f, 0x01, 0xf8 };
	uint64_t regs[16] = { 0 };
	regs[3] = 0x1000; regs[4] = 0x2000; regs[8] = 0x3000;
	CHECK(invlpg_decode(inv_rbx, sizeof(inv_rbx), MODE_LONG64, &in) == 0 && in.length == 3 &&
	      mmio_address(&in, regs, 0) == 0x1000, "invlpg (%%rbx)");
	CHECK(invlpg_decode(inv_disp, sizeof(inv_disp), MODE_LONG64, &in) == 0 && in.length == 5 &&
	      mmio_address(&in, regs, 0) == 0x2008, "invlpg 0x8(%%rsp)");
	CHECK(invlpg_decode(inv_r8, sizeof(inv_r8), MODE_LONG64, &in) == 0 && in.length == 4 &&
	      mmio_address(&in, regs, 0) == 0x3000, "invlpg (%%r8)");
	CHECK(invlpg_decode(inv_gs, sizeof(inv_gs), MODE_LONG64, &in) == 0 && in.length == 9 &&
	      in.addr.segment == SEG_OVERRIDE_GS && mmio_address(&in, regs, 0) == 0x10, "invlpg %%gs:0x10");
	CHECK(invlpg_decode(swapgs, sizeof(swapgs), MODE_LONG64, &in) == DECODE_UNSUPPORTED,
	      "SWAPGS (mod 3) is no INVLPG");
	CHECK(invlpg_decode(inv_disp, 3, MODE_LONG64, &in) == DECODE_TRUNCATED, "truncated: asks for more bytes");
	return unit_done();
}
