/*
 * mode=patch: binary patching, the simplest form of binary translation
 * (the seed notes' cli -> call [vmm_disable_interrupts]).  What x86 does
 * not trap on in ring 3, the VMM makes it trap on: before a code page
 * first runs, every pushf (0x9c) and popf (0x9d) in it is replaced by
 * int3 (0xcc), which Berth turns into a #GP fault; trap_emulate.c looks
 * the address up here and emulates the original with the guest's IF.
 *
 * When a page is code: trap_shadow.c maps every page the guest has not
 * executed without EXEC.  The first fetch from it faults; we scan it and
 * map it executable and read-only.  A write to a scanned page faults
 * too: we put the original bytes back, forget the page's patches, drop
 * its mappings and map it writable and not executable, so the next fetch
 * scans what the guest wrote (self-modifying code, or code loaded at run
 * time, is patched before it runs).  A page is never writable and
 * executable at once.
 *
 * Where instructions start: a page is decoded (insn_length) from a
 * boundary it knows: the faulting fetch's RIP.  x86 code decodes itself
 * back into step within a few instructions, so the scan starts at the
 * first of the page's first 15 offsets from which decoding lands exactly
 * on that RIP, and patches from there to the end of the page (an
 * instruction that runs over the end is left as it is; its page's own
 * scan decides about the rest).  A byte the decoder does not know stops
 * the scan.  What this leaves out, and a real binary translator handles:
 * a jump into the page at an offset the sweep did not decode (never in
 * compiled code, whose text holds no data), pushf/popf with a 0x66
 * prefix, and a guest that reads its own code (it sees the int3s).
 */
#include "trap.h"
#include "trap_decode.h"
#include "decode.h"

#define MAX_PATCHES 1024
#define INT3 0xcc

static struct patch {
	uint64_t gpa;
	uint8_t original;
} patches[MAX_PATCHES];
static unsigned patch_count;
static uint8_t scanned[TRAP_RAM_MAX / PAGE_SIZE];

int patch_page_is_code(uint64_t gpa)
{
	return gpa < vm.ram_bytes && scanned[gpa / PAGE_SIZE];
}

/* The instruction bytes at gva (as many as can be read, up to 15). */
static size_t fetch(uint64_t gva, uint8_t *bytes)
{
	struct guest_paging p = trap_paging();
	struct page_fault pf;
	size_t n = 0;
	while (n < 15 && !virt_access(&p, gva + n, bytes + n, 1, 0, &pf))
		n++;
	return n;
}

/* Decode from gva until end or an unknown byte; with do_patch, patch the
 * pushf and popf met (whose page is gpa_page at page_gva).  Returns the
 * address where it stopped. */
static uint64_t sweep(uint64_t gva, uint64_t end, uint64_t page_gva, uint64_t gpa_page, int do_patch)
{
	while (gva < end) {
		uint8_t bytes[15], op;
		int prefixed;
		size_t n = fetch(gva, bytes);
		int len = insn_length(bytes, n, &op, &prefixed);
		if (len <= 0)
			break;
		if (do_patch && len == 1 && (op == 0x9c || op == 0x9d) && gva >= page_gva && gva < page_gva + PAGE_SIZE &&
		    patch_count < MAX_PATCHES) {
			uint64_t gpa = gpa_page + (gva - page_gva);
			uint8_t int3 = INT3;
			patches[patch_count++] = (struct patch){ gpa, op };
			guest_write(gpa, &int3, 1);
			tv.stats.patched++;
		}
		gva += (uint64_t)len;
	}
	return gva;
}

/* The first fetch from a page: scan it from a boundary consistent with
 * the faulting RIP, and patch. */
void patch_scan(uint64_t page_gva, uint64_t gpa_page, uint64_t rip)
{
	uint64_t start = page_gva, end = page_gva + PAGE_SIZE;
	if (rip < page_gva || rip >= end) {
		/* an instruction that began on the page before runs into this one */
		uint8_t bytes[15], op;
		int prefixed;
		int len = insn_length(bytes, fetch(rip, bytes), &op, &prefixed);
		start = len > 0 ? rip + (uint64_t)len : page_gva;
	} else {
		for (uint64_t s = page_gva; s < page_gva + 15 && s <= rip; s++)
			if (sweep(s, rip, page_gva, gpa_page, 0) == rip) {
				start = s;
				break;
			}
		if (sweep(start, rip, page_gva, gpa_page, 0) != rip)
			start = rip; /* no way in from the page's start: from RIP on only */
	}
	sweep(start, end, page_gva, gpa_page, 1);
	scanned[gpa_page / PAGE_SIZE] = 1;
}

/* The guest writes a scanned page: the original bytes back, the page
 * data again until it runs. */
void patch_unscan(uint64_t gpa_page)
{
	for (unsigned i = 0; i < patch_count;) {
		if ((patches[i].gpa & ~(PAGE_SIZE - 1)) == gpa_page) {
			guest_write(patches[i].gpa, &patches[i].original, 1);
			patches[i] = patches[--patch_count];
		} else {
			i++;
		}
	}
	scanned[gpa_page / PAGE_SIZE] = 0;
}

int patch_lookup(uint64_t gva)
{
	struct guest_paging p = trap_paging();
	struct page_fault pf;
	uint64_t gpa;
	if (gva_translate(&p, gva, 0, &gpa, &pf))
		return -1;
	for (unsigned i = 0; i < patch_count; i++)
		if (patches[i].gpa == gpa)
			return patches[i].original == 0x9c ? PRIV_PUSHF : PRIV_POPF;
	return -1;
}

/* A store by an instruction into its own scanned page (a kernel whose
 * data shares a page with its code, or code that rewrites itself): the
 * page cannot be made writable and not executable for it, since the
 * instruction must run from it.  So the store is done here (decode.c
 * decodes the MOV family), the page scanned again from the next
 * instruction, and the guest goes on past it; another instruction stops
 * the VM with a line. */
enum trap_action patch_code_store(struct tcb_regs *r, uint64_t gva, uint64_t page_gva, uint64_t gpa_page)
{
	uint8_t bytes[15];
	size_t n = fetch(r->rip, bytes);
	struct mmio_insn in;
	if (mmio_decode(bytes, n, MODE_LONG64, &in) || in.kind != MMIO_STORE)
		return trap_stop("rip %lx writes its own code page with an instruction not emulated here", r->rip);
	uint64_t regs[16];
	for (unsigned i = 0; i < 16; i++)
		regs[i] = *trap_gpr(r, i);
	uint64_t value = mmio_store_value(&in, in.has_imm ? 0 : regs[in.high_byte ? in.reg - 4 : in.reg]);
	struct guest_paging p = trap_paging();
	struct page_fault pf;
	patch_unscan(gpa_page);
	if (virt_access(&p, gva, &value, in.size, ACCESS_WRITE, &pf))
		return trap_stop("rip %lx: a store to its own code page at %lx failed", r->rip, gva);
	r->rip += in.length;
	patch_scan(page_gva, gpa_page, r->rip);
	return TRAP_RESUME;
}
