/* CPU state that VMRUN and #VMEXIT do not switch, and the intercepts the
 * kernel forces, from the root task acting as the VMM of two 64-bit
 * guests in two guest spaces (issue 9):
 *
 * - guest A writes DR0 with the address of the host's kernel_exit and
 *   enables that breakpoint in DR7: both writes exit (the test does them
 *   into the VCPU's fields, as the VMM does) and the host takes no #DB
 *   when it runs kernel_exit after A's next exit;
 * - A sets XCR0 = 7, fills YMM0, writes PKRU (where the CPU has PKU) and
 *   writes the host's PAT through QEMU's MSR map flaw (RCX bit 32);
 * - guest B then sees its own DR0, DR7, XCR0, YMM0 upper half and PKRU,
 *   and the host's PAT; A, run again, sees its own values; the host's
 *   XCR0 stays x87|SSE;
 * - INVLPGA, MONITOR, MWAIT and the SVM instructions exit.
 *
 * The breakpoint needs the host's address of kernel_exit, which the
 * makefile passes in as HOST_KERNEL_EXIT (from nm). */
#include "tap.h"
#include <libipc/ipc.h>
#include <berth/vcpu.h>
#include "vcpu_setup.h"

#define SCRATCH 0x50000000UL
#define CODE_GPA 0x1000UL
#define A_PAT 0x0101010101010101UL
#define A_PKRU 0x55555554UL

/* The guests' code, copied to guest-physical (and virtual) 0x1000.
 * guest_a writes; guest_read reads into registers (RAX DR0, RBX DR7, RSI
 * XCR0, RDI the upper half of YMM0, R9 PKRU, R10 the PAT through the
 * flaw); guest_insns runs instructions that must exit.  R8 != 0: the CPU
 * has PKU. */
__asm__(
	"	.section .rodata\n"
	"	.globl guest_blob, guest_blob_end, guest_read, guest_insns\n"
	"guest_blob:\n"
	"	mov %rbx, %dr0\n"
	"	mov %rdx, %dr7\n"
	"	xor %ecx, %ecx\n"
	"	mov $7, %eax\n"
	"	xor %edx, %edx\n"
	"	xsetbv\n"
	"	vpcmpeqd %ymm0, %ymm0, %ymm0\n"
	"	test %r8, %r8\n"
	"	jz 1f\n"
	"	mov %cr4, %rax\n"
	"	bts $22, %rax\n"
	"	mov %rax, %cr4\n"
	"	mov $0x55555554, %eax\n"
	"	xor %ecx, %ecx\n"
	"	xor %edx, %edx\n"
	"	wrpkru\n"
	"	mov %cr4, %rax\n"
	"	btr $22, %rax\n"
	"	mov %rax, %cr4\n"
	"1:	mov $0x100000277, %rcx\n"
	"	mov $0x01010101, %eax\n"
	"	mov %eax, %edx\n"
	"	wrmsr\n"
	"	vmmcall\n"
	"guest_read:\n"
	"	xor %ecx, %ecx\n"
	"	xgetbv\n"
	"	mov %eax, %esi\n"
	"	mov $7, %eax\n"
	"	xor %edx, %edx\n"
	"	xsetbv\n"
	"	vextractf128 $1, %ymm0, %xmm1\n"
	"	vmovq %xmm1, %rdi\n"
	"	xor %r9d, %r9d\n"
	"	test %r8, %r8\n"
	"	jz 1f\n"
	"	mov %cr4, %rax\n"
	"	bts $22, %rax\n"
	"	mov %rax, %cr4\n"
	"	xor %ecx, %ecx\n"
	"	rdpkru\n"
	"	mov %eax, %r9d\n"
	"	mov %cr4, %rax\n"
	"	btr $22, %rax\n"
	"	mov %rax, %cr4\n"
	"1:	mov $0x100000277, %rcx\n"
	"	rdmsr\n"
	"	shl $32, %rdx\n"
	"	or %rdx, %rax\n"
	"	mov %rax, %r10\n"
	"	mov %dr0, %rax\n"
	"	mov %dr7, %rbx\n"
	"	vmmcall\n"
	"guest_insns:\n"
	"	invlpga\n"
	"	xor %eax, %eax\n"
	"	xor %ecx, %ecx\n"
	"	xor %edx, %edx\n"
	"	monitor\n"
	"	mwait\n"
	"	vmload\n"
	"	vmsave\n"
	"	stgi\n"
	"	clgi\n"
	"	skinit\n"
	"	vmrun\n"
	"	vmmcall\n"
	"guest_blob_end:\n"
	"	.previous\n");
extern const uint8_t guest_blob[], guest_blob_end[], guest_read[], guest_insns[];

static uint64_t port;

struct guest {
	uint64_t vcpu, reply;   /* each guest waits on its own reply right */
	struct msg m;
};

static long set(const struct guest *g, unsigned f, uint64_t v) { return sys_vcpu_write(g->vcpu, f, v); }

static uint64_t get(const struct guest *g, unsigned f)
{
	uint64_t v = 0;
	sys_vcpu_read(g->vcpu, f, &v);
	return v;
}

/* Flat 64-bit mode, with the tables at 0x2000 mapping the first 2 MiB. */
static void long_mode(const struct guest *g, uint64_t rip)
{
	set(g, VCPU_CR0, 0x80000031);     /* PG, NE, ET, PE */
	set(g, VCPU_CR3, 0x2000);
	set(g, VCPU_CR4, 0x40620);        /* OSXSAVE, OSXMMEXCPT, OSFXSR, PAE */
	set(g, VCPU_EFER, 0x500);         /* LMA, LME (the kernel adds SVME) */
	vcpu_flat_segments(g->vcpu, 0x29b);
	set(g, VCPU_RIP, CODE_GPA + rip);
}

/* Resume g (or start it when first is set) until it exits with something
 * other than a debug-register write, which is done here as the VMM does. */
static long run(struct guest *g, int first)
{
	long err = first ? sys_tcb_resume(g->vcpu) : ipc_reply(g->reply, &g->m);
	for (;;) {
		if (!err)
			err = ipc_recv(port, g->reply, &g->m);
		if (err)
			return err;
		uint64_t code = g->m.w[VMEXIT_W_CODE];
		if (code != VMEXIT_WRITE_DR(0) && code != VMEXIT_WRITE_DR(7))
			return 0;
		/* the two writes guest_a makes: mov %rbx,%dr0 and mov %rdx,%dr7 */
		if (code == VMEXIT_WRITE_DR(0))
			set(g, VCPU_DR0, g->m.w[VMEXIT_W_RAX + VCPU_RBX]);
		else
			set(g, VCPU_DR7, g->m.w[VMEXIT_W_RAX + VCPU_RDX]);
		g->m.info = MSG_INFO(0, VMEXIT_REPLY_WORDS, 0);
		g->m.w[VMEXIT_W_RIP] += 3;
		g->m.w[VMEXIT_W_INJECT] = 0;
		err = ipc_reply(g->reply, &g->m);
	}
}

/* Reply to the exit in g->m, resuming at code offset rip with the
 * registers of the exit, and wait for the next exit. */
static long resume_at(struct guest *g, uint64_t rip)
{
	g->m.info = MSG_INFO(0, VMEXIT_REPLY_WORDS, 0);
	g->m.w[VMEXIT_W_RIP] = rip;
	g->m.w[VMEXIT_W_INJECT] = 0;
	return run(g, 0);
}

#define R(g, reg) ((g)->m.w[VMEXIT_W_RAX + (reg)])

static void check_own(const struct guest *g, const char *who, uint64_t dr0, uint64_t dr7, uint64_t xcr0,
                      uint64_t ymm_hi, uint64_t pkru, int pku)
{
	tap_ok(R(g, VCPU_RAX) == dr0 && (R(g, VCPU_RBX) & 0xffffffff) == dr7,
	       "%s sees its own DR0 and DR7 (%lx %lx)", who, R(g, VCPU_RAX), R(g, VCPU_RBX));
	tap_ok(R(g, VCPU_RSI) == xcr0, "%s sees its own XCR0 (%lx)", who, R(g, VCPU_RSI));
	tap_ok(R(g, VCPU_RDI) == ymm_hi, "%s sees its own upper half of YMM0 (%lx)", who, R(g, VCPU_RDI));
	if (pku)
		tap_ok(R(g, VCPU_R9) == pkru, "%s sees its own PKRU (%lx)", who, R(g, VCPU_R9));
	else
		tap_ok(1, "# SKIP %s: no PKU on this CPU", who);
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(22);
	struct guest a = { 0 }, b = { 0 };
	uint64_t gs_a, gs_b, send = slot_alloc(), frames[4];
	a.reply = slot_alloc();
	b.reply = slot_alloc();
	long err = object_alloc(OBJ_GUEST_SPACE, 0, &gs_a);
	err = err ? err : object_alloc(OBJ_GUEST_SPACE, 0, &gs_b);
	err = err ? err : object_alloc(OBJ_VCPU, 0, &a.vcpu);
	err = err ? err : object_alloc(OBJ_VCPU, 0, &b.vcpu);
	err = err ? err : object_alloc(OBJ_PORT, 0, &port);
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, send, RIGHT_SEND, 1);
	/* code at 0x1000, PML4 at 0x2000, PDPT at 0x3000, PD at 0x4000: one
	 * set of frames, mapped into both guest spaces */
	for (unsigned i = 0; i < 4 && !err; i++)
		err = page_alloc_map(SCRATCH + 0x1000 * i, RIGHT_READ | RIGHT_WRITE, &frames[i]);
	for (unsigned i = 0; i < 4 && !err; i++) {
		uint64_t gs[2] = { gs_a, gs_b };
		for (unsigned s = 0; s < 2 && !err; s++) {
			uint64_t copy = slot_alloc();
			err = sys_cnode_copy(frames[i], CAP_ROOT_CNODE, copy, RIGHTS_ALL);
			err = err ? err : page_map_in(gs[s], copy, CODE_GPA + 0x1000 * i, RIGHT_READ | RIGHT_WRITE | RIGHT_EXEC);
		}
	}
	memcpy((void *)SCRATCH, guest_blob, (size_t)(guest_blob_end - guest_blob));
	((uint64_t *)(SCRATCH + 0x1000))[0] = 0x3000 | 7;
	((uint64_t *)(SCRATCH + 0x2000))[0] = 0x4000 | 7;
	((uint64_t *)(SCRATCH + 0x3000))[0] = 0x87;     /* 2 MiB at 0 */
	err = err ? err : sys_vcpu_configure(a.vcpu, gs_a, send);
	err = err ? err : sys_vcpu_configure(b.vcpu, gs_b, send);
	tap_eq(err, E_OK, "two guest spaces and two VCPUs in 64-bit mode");

	uint32_t ca, cb, cc, cd;
	__asm__ volatile("cpuid" : "=a"(ca), "=b"(cb), "=c"(cc), "=d"(cd) : "a"(7), "c"(0));
	int pku = (cc >> 3) & 1;
	uint64_t read_at = CODE_GPA + (uint64_t)(guest_read - guest_blob);
	uint64_t insns_at = CODE_GPA + (uint64_t)(guest_insns - guest_blob);
	uint64_t dr7 = 0x400 | 3;   /* DR0: an instruction breakpoint, local and global */

	/* A: the breakpoint on kernel_exit, XCR0, YMM0, PKRU, the PAT */
	long_mode(&a, 0);
	set(&a, VCPU_RBX, HOST_KERNEL_EXIT);
	set(&a, VCPU_RDX, dr7);
	set(&a, VCPU_R8, (uint64_t)pku);
	err = run(&a, 1);
	/* A host interrupt that lands in the few instructions where A holds
	 * CR4.PKE makes the kernel refuse to enter A again (check_state: PKE
	 * is not a bit a guest may keep); then A starts over, without it. */
	for (int again = 0; !err && again < 5 && (uint32_t)a.m.w[VMEXIT_W_CODE] == (uint32_t)VMEXIT_INVALID &&
	                    a.m.w[VMEXIT_W_INFO1] == VMRUN_INVALID_CR4; again++) {
		set(&a, VCPU_CR4, 0x40620);
		a.m.w[VMEXIT_W_RAX + VCPU_RBX] = HOST_KERNEL_EXIT;
		a.m.w[VMEXIT_W_RAX + VCPU_RDX] = dr7;
		a.m.w[VMEXIT_W_RAX + VCPU_R8] = (uint64_t)pku;
		a.m.w[VMEXIT_W_RIP] = CODE_GPA;
		a.m.w[VMEXIT_W_INJECT] = 0;
		a.m.info = MSG_INFO(0, VMEXIT_REPLY_WORDS, 0);
		err = run(&a, 0);
	}
	tap_ok(!err && get(&a, VCPU_DR0) == HOST_KERNEL_EXIT && get(&a, VCPU_DR7) == dr7,
	       "A's MOV to DR0 and to DR7 exit (the VMM stores them: %lx %lx)", get(&a, VCPU_DR0), get(&a, VCPU_DR7));
	tap_ok(!err && a.m.w[VMEXIT_W_CODE] == VMEXIT_VMMCALL,
	       "A ran on to its VMMCALL, with a breakpoint on the host's kernel_exit live in its DR7 (exit %lx)",
	       a.m.w[VMEXIT_W_CODE]);
	tap_ok(1, "the host ran kernel_exit after that exit and took no debug exception");
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	tap_ok(lo == 3 && hi == 0, "the host's XCR0 is still x87|SSE after A set 7 (%x)", lo);

	/* B: a fresh guest */
	long_mode(&b, read_at - CODE_GPA);
	set(&b, VCPU_R8, (uint64_t)pku);
	err = run(&b, 1);
	tap_ok(!err && b.m.w[VMEXIT_W_CODE] == VMEXIT_VMMCALL, "B ran its reads (exit %lx)", b.m.w[VMEXIT_W_CODE]);
	check_own(&b, "B", 0, 0x400, 1, 0, 0, pku);
	tap_ok(R(&b, VCPU_R10) != A_PAT, "B reads the host's PAT through QEMU's MSR map flaw, not A's (%lx)",
	       R(&b, VCPU_R10));

	/* A again */
	err = resume_at(&a, read_at);
	tap_ok(!err && a.m.w[VMEXIT_W_CODE] == VMEXIT_VMMCALL, "A ran its reads (exit %lx)", a.m.w[VMEXIT_W_CODE]);
	check_own(&a, "A", HOST_KERNEL_EXIT, dr7, 7, ~0UL, A_PKRU, pku);

	/* instructions that must never run in a guest */
	static const struct { uint64_t code; unsigned len; const char *name; } insns[] = {
		{ VMEXIT_INVLPGA, 3, "INVLPGA" }, { VMEXIT_MONITOR, 9, "MONITOR" }, { VMEXIT_MWAIT, 3, "MWAIT" },
		{ VMEXIT_VMLOAD, 3, "VMLOAD" }, { VMEXIT_VMSAVE, 3, "VMSAVE" }, { VMEXIT_STGI, 3, "STGI" },
		{ VMEXIT_CLGI, 3, "CLGI" }, { VMEXIT_SKINIT, 3, "SKINIT" }, { VMEXIT_VMRUN, 3, "VMRUN" },
	};
	uint64_t at = insns_at;
	unsigned n_ok = 0;
	for (unsigned i = 0; i < sizeof(insns) / sizeof(insns[0]); i++) {
		/* MONITOR's length counts the three XORs before it */
		uint64_t rip = insns[i].code == VMEXIT_MONITOR ? at + 6 : at;
		err = resume_at(&a, at);
		if (!err && a.m.w[VMEXIT_W_CODE] == insns[i].code && a.m.w[VMEXIT_W_RIP] == rip)
			n_ok++;
		else
			debug_printf("# %s: exit %lx at %lx\n", insns[i].name, a.m.w[VMEXIT_W_CODE], a.m.w[VMEXIT_W_RIP]);
		at += insns[i].len;
	}
	tap_eq(n_ok, 9, "INVLPGA, MONITOR, MWAIT, VMLOAD, VMSAVE, STGI, CLGI, SKINIT and VMRUN each exit");
	err = resume_at(&a, at);
	tap_ok(!err && a.m.w[VMEXIT_W_CODE] == VMEXIT_VMMCALL, "and the guest goes on after them");

	/* the state a VMM saves for a snapshot (docs/lifecycle.md): the FPU
	 * area and the event the next entry would inject */
	uint64_t mxcsr = get(&b, VCPU_FPU + 3);
	tap_ok(set(&b, VCPU_FPU + 3, (mxcsr & ~0xffffffffUL) | 0x1f80) == E_OK && set(&b, VCPU_FPU + 5, 0x4000) == E_OK &&
	       (uint32_t)get(&b, VCPU_FPU + 3) == 0x1f80 && get(&b, VCPU_FPU + 5) == 0x4000,
	       "B's FXSAVE area is read and written field by field (MXCSR %lx)", mxcsr & 0xffffffffUL);
	tap_eq(set(&b, VCPU_FPU + 3, 0x1f80UL | (1UL << 31)), E_BAD_ARG,
	       "an MXCSR with a reserved bit is refused (FXRSTOR would fault in the kernel)");
	tap_ok(set(&b, VCPU_EVENT_INJ, 0x80000030UL) == E_OK && get(&b, VCPU_EVENT_INJ) == 0x80000030UL &&
	       set(&b, VCPU_EVENT_INJ, 0) == E_OK, "the pending injection is read and written");
	uint64_t ignored = 0;
	tap_eq(sys_vcpu_read(b.vcpu, VCPU_FIELD_COUNT, &ignored), E_BAD_ARG, "a field past the last is refused");
	tap_done();
}
