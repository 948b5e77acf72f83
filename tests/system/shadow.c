/* ShadowSpaces (kernel/shadow.c, docs/vmm.md "Shadow paging"), driven
 * straight from the root task acting as a VMM: the calls' errors, the
 * pool running out, a 64-bit guest running on shadow tables with nested
 * paging off (its page faults, CR3 reads and writes and INVLPG arrive as
 * exits; what the VMM maps is the guest's own memory), and the lifetime
 * rules: an unmap in the GuestSpace empties the shadow, a dead GuestSpace
 * unbinds it, a VCPU holds its ShadowSpace as a capability, and one whose
 * ShadowSpace is revoked is not entered again.  The self-check kernel
 * checks the shadow tables after every kernel exit on top of this. */
#include "tap.h"
#include <libipc/ipc.h>
#include <berth/vcpu.h>
#include "vcpu_setup.h"

#define SCRATCH 0x50000000UL
#define CODE_GVA 0xffff800000001000UL   /* the guest's upper half: the whole space is the guest's */
#define CODE_GPA 0x1000UL
#define DATA_GVA 0x40000000UL
#define DATA_GPA 0x2000UL
#define ROM_GPA  0x3000UL
#define GUEST_CR3 0x5000UL
#define PRIO 100

static const uint8_t guest_code[] = {
	0x0f, 0xa2,                                     /* +00 cpuid */
	0x48, 0xbb, 0, 0, 0, 0x40, 0, 0, 0, 0,          /* +02 movabs $DATA_GVA, %rbx */
	0x48, 0x8b, 0x03,                               /* +0c mov (%rbx), %rax */
	0x0f, 0x01, 0xd9,                               /* +0f vmmcall */
	0x48, 0xc7, 0x03, 0x77, 0, 0, 0,                /* +12 movq $0x77, (%rbx) */
	0x0f, 0x20, 0xd9,                               /* +19 mov %cr3, %rcx */
	0x0f, 0x01, 0x3b,                               /* +1c invlpg (%rbx) */
	0x0f, 0x22, 0xd9,                               /* +1f mov %rcx, %cr3 */
	0x0f, 0x01, 0xd9,                               /* +22 vmmcall */
	0xf4,                                           /* +25 hlt */
};

static uint64_t vcpu, port, reply;

static long set(unsigned f, uint64_t v) { return sys_vcpu_write(vcpu, f, v); }

static uint64_t retype(uint64_t u, unsigned type, unsigned bits)
{
	uint64_t slot = slot_alloc();
	return sys_untyped_retype(u, type, bits, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, slot) ? 0 : slot;
}

/* 64-bit mode with paging, as a ShadowSpace needs */
static void long_mode(void)
{
	set(VCPU_CR0, 0x80010011);    /* PG, WP, ET, PE */
	set(VCPU_CR4, 0x20);          /* PAE */
	set(VCPU_EFER, 0x1500);       /* LME, LMA, SVME */
	vcpu_flat_segments(vcpu, 0x29b);
	set(VCPU_RSP, 0);
}

/* Reply to the exit in *m with rip moved on by len, then wait for the
 * next exit into *m. */
static long resume(struct msg *m, uint64_t len)
{
	m->info = MSG_INFO(0, VMEXIT_REPLY_WORDS, 0);
	m->w[VMEXIT_W_RIP] += len;
	m->w[VMEXIT_W_INJECT] = 0;
	return ipc_reply_recv(reply, port, reply, m);
}

static int exit_is(const struct msg *m, uint64_t code, uint64_t rip)
{
	return (uint32_t)m->w[VMEXIT_W_CODE] == (uint32_t)code && m->w[VMEXIT_W_RIP] == rip;
}

/* A guest frame: ours at SCRATCH + off, the guest's at gpa; the copy
 * mapped in the guest space goes in *copy. */
static long guest_frame(uint64_t gs, uint64_t off, uint64_t gpa, unsigned rights, uint64_t *copy)
{
	uint64_t f;
	*copy = slot_alloc();
	long err = page_alloc_map(SCRATCH + off, RIGHT_READ | RIGHT_WRITE, &f);
	err = err ? err : sys_cnode_copy(f, CAP_ROOT_CNODE, *copy, RIGHTS_ALL);
	return err ? err : page_map_in(gs, *copy, gpa, rights);
}

static void calls_and_errors(uint64_t gs)
{
	uint64_t u, left = 0;
	object_alloc(OBJ_UNTYPED, 16, &u);
	tap_ok(!retype(u, OBJ_SHADOW_SPACE, SHADOW_MIN_BITS - 1) && !retype(u, OBJ_SHADOW_SPACE, SHADOW_MAX_BITS + 1),
	       "a ShadowSpace's size is 2^14 .. 2^24 bytes");
	uint64_t sh = retype(u, OBJ_SHADOW_SPACE, SHADOW_MIN_BITS);   /* the top table and 3 pool pages */
	tap_ok(sh != 0, "a ShadowSpace of 16 KiB");
	tap_eq(sys_shadow_map(sh, DATA_GVA, DATA_GPA, 0, 0), E_STATE, "map before it is bound: E_STATE");
	tap_eq(sys_shadow_bind(sh, vcpu), E_WRONG_TYPE, "bound to a VCPU: E_WRONG_TYPE");
	tap_eq(sys_shadow_bind(sh, gs), E_OK, "bound to a GuestSpace");
	tap_eq(sys_shadow_map(sh, DATA_GVA, 0x9000, 0, 0), E_NOT_MAPPED,
	       "a guest-physical page the GuestSpace does not map: E_NOT_MAPPED");
	tap_eq(sys_shadow_map(sh, DATA_GVA + 8, DATA_GPA, 0, 0), E_ALIGN, "an unaligned address: E_ALIGN");
	tap_eq(sys_shadow_map(sh, 0x0000800000000000UL, DATA_GPA, 0, 0), E_BAD_ADDRESS,
	       "a non-canonical guest-virtual address: E_BAD_ADDRESS");
	tap_eq(sys_shadow_map(sh, DATA_GVA, GUEST_PHYS_TOP, 0, 0), E_BAD_ADDRESS,
	       "a guest-physical address past the top: E_BAD_ADDRESS");
	tap_eq(sys_shadow_map(sh, DATA_GVA, DATA_GPA, 0x100, 0), E_BAD_ARG, "unknown flags: E_BAD_ARG");
	tap_eq(sys_shadow_map(sh, DATA_GVA, ROM_GPA, SHADOW_WRITE, 0), E_NO_RIGHTS,
	       "writable over a read-only guest page: E_NO_RIGHTS");
	tap_eq(sys_shadow_map(sh, DATA_GVA, DATA_GPA, SHADOW_WRITE, &left), E_OK, "map one page");
	tap_eq(left, 0, "it took the pool's three tables");
	tap_eq(sys_shadow_map(sh, DATA_GVA + PAGE_SIZE, ROM_GPA, 0, 0), E_OK, "a page beside it needs no table");
	tap_eq(sys_shadow_map(sh, CODE_GVA, CODE_GPA, 0, 0), E_LIMIT, "one that needs tables: E_LIMIT (pool used up)");
	tap_eq(sys_shadow_unmap(sh, CODE_GVA), E_NOT_MAPPED, "unmap of what is not mapped: E_NOT_MAPPED");
	tap_eq(sys_shadow_unmap(sh, DATA_GVA), E_OK, "unmap a page");
	tap_eq(sys_shadow_flush(sh), E_OK, "flush");
	tap_eq(sys_shadow_map(sh, CODE_GVA, CODE_GPA, 0, &left), E_OK, "after the flush the pool is whole again");
	tap_eq(sys_shadow_flush_lower(sh), E_OK, "flush the lower half only");
	tap_eq(sys_shadow_unmap(sh, CODE_GVA), E_OK, "an upper-half entry survives it");
	tap_eq(berth_syscall(SYS_SHADOW, sh, SHADOW_FLUSH, 2, 0, 0, 0).err, E_BAD_ARG, "flush 2: E_BAD_ARG");
	tap_eq(sys_shadow_map(sh, CODE_GVA, CODE_GPA, 0, 0), E_OK, "map it again");
	tap_eq(sys_shadow_unmap_level(sh, CODE_GVA, 2), E_ALIGN, "unmap of a 2 MiB region needs its alignment");
	tap_eq(sys_shadow_unmap_level(sh, CODE_GVA & ~0x1fffffUL, 2), E_OK,
	       "unmap the whole 2 MiB region over it (its page-directory entry)");
	tap_eq(sys_shadow_unmap(sh, CODE_GVA), E_NOT_MAPPED, "the page went with it");
	tap_eq(berth_syscall(SYS_SHADOW, sh, SHADOW_UNMAP, 0, 5, 0, 0).err, E_BAD_ARG, "level 5: E_BAD_ARG");
	tap_eq(sys_shadow_run(sh, vcpu), E_STATE, "SHADOW_RUN for a VCPU on no ShadowSpace: E_STATE");
	tap_eq(berth_syscall(SYS_SHADOW, sh, 9, 0, 0, 0, 0).err, E_BAD_ARG, "an unknown operation: E_BAD_ARG");
	uint64_t ro = slot_alloc();
	sys_cnode_copy(sh, CAP_ROOT_CNODE, ro, RIGHT_READ);
	tap_eq(sys_shadow_flush(ro), E_NO_RIGHTS, "every operation needs WRITE");
	tap_eq(sys_cnode_revoke(u) | sys_cnode_delete(u), E_OK, "it goes back with its Untyped");
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(69);
	uint64_t gs, code, data, rom, send = slot_alloc(), u;
	reply = slot_alloc();
	long err = object_alloc(OBJ_GUEST_SPACE, 0, &gs);
	err = err ? err : object_alloc(OBJ_VCPU, 0, &vcpu);
	err = err ? err : object_alloc(OBJ_PORT, 0, &port);
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, send, RIGHT_SEND, 5);
	err = err ? err : guest_frame(gs, 0, CODE_GPA, RIGHT_READ | RIGHT_WRITE | RIGHT_EXEC, &code);
	err = err ? err : guest_frame(gs, 0x1000, DATA_GPA, RIGHT_READ | RIGHT_WRITE, &data);
	err = err ? err : guest_frame(gs, 0x2000, ROM_GPA, RIGHT_READ, &rom);
	tap_eq(err, E_OK, "a guest space with code, data and a read-only page; a VCPU; an exit port");
	memcpy((void *)SCRATCH, guest_code, sizeof(guest_code));
	*(volatile uint64_t *)(SCRATCH + 0x1000) = 0x1234;

	calls_and_errors(gs);

	/* a guest on shadow tables */
	err = object_alloc(OBJ_UNTYPED, 20, &u);
	uint64_t sh = err ? 0 : retype(u, OBJ_SHADOW_SPACE, 18);
	err = sh ? sys_shadow_bind(sh, gs) : E_BAD_CAP;
	err = err ? err : sys_shadow_map(sh, CODE_GVA, CODE_GPA, 0, 0);
	err = err ? err : sys_vcpu_configure(vcpu, sh, send);
	long_mode();
	set(VCPU_CR3, GUEST_CR3);
	set(VCPU_RIP, CODE_GVA);
	err = err ? err : sys_tcb_set_priority(vcpu, PRIO, PRIO);
	err = err ? err : sys_tcb_resume(vcpu);
	tap_eq(err, E_OK, "a VCPU on a ShadowSpace of 256 KiB, its code mapped in the guest's upper half");
	struct msg m;
	err = ipc_recv(port, reply, &m);
	tap_ok(!err && exit_is(&m, VMEXIT_CPUID, CODE_GVA) && m.badge == 5,
	       "the guest runs with nested paging off: CPUID from guest-virtual %lx (code %lx)",
	       m.w[VMEXIT_W_RIP], m.w[VMEXIT_W_CODE]);
	uint64_t v = 0;
	sys_vcpu_read(vcpu, VCPU_CR3, &v);
	tap_eq(v, GUEST_CR3, "VCPU_CR3 is the guest's CR3, never the shadow's table");

	err = resume(&m, 2);
	tap_ok(!err && exit_is(&m, VMEXIT_EXCEPTION(14), CODE_GVA + 0xc) && m.w[VMEXIT_W_INFO2] == DATA_GVA &&
	       (m.w[VMEXIT_W_INFO1] & 0xffffffff) == 0,
	       "a load from an address the shadow lacks: a #PF exit with the address and error code "
	       "(%lx, %lx, info1 %lx)", m.w[VMEXIT_W_CODE], m.w[VMEXIT_W_INFO2], m.w[VMEXIT_W_INFO1]);
	tap_eq(sys_shadow_map(sh, DATA_GVA, DATA_GPA, 0, 0), E_OK, "the VMM maps it, read-only");
	err = resume(&m, 0);
	tap_ok(!err && exit_is(&m, VMEXIT_VMMCALL, CODE_GVA + 0xf) && m.w[VMEXIT_W_RAX + VCPU_RAX] == 0x1234,
	       "the load read the guest's data page (rax %lx)", m.w[VMEXIT_W_RAX + VCPU_RAX]);
	err = resume(&m, 3);
	tap_ok(!err && exit_is(&m, VMEXIT_EXCEPTION(14), CODE_GVA + 0x12) && (m.w[VMEXIT_W_INFO1] & 0xffffffff) == 3,
	       "a store to it: a #PF exit, present and write (info1 %lx)", m.w[VMEXIT_W_INFO1]);
	tap_eq(sys_shadow_map(sh, DATA_GVA, DATA_GPA, SHADOW_WRITE, 0), E_OK, "the VMM makes it writable");
	err = resume(&m, 0);
	tap_ok(!err && exit_is(&m, VMEXIT_READ_CR(3), CODE_GVA + 0x19), "MOV from CR3 exits (%lx at %lx)",
	       m.w[VMEXIT_W_CODE], m.w[VMEXIT_W_RIP]);
	tap_eq(*(volatile uint64_t *)(SCRATCH + 0x1000), 0x77, "the store reached the guest's frame");
	m.w[VMEXIT_W_RAX + VCPU_RCX] = GUEST_CR3;
	err = resume(&m, 3);
	tap_ok(!err && exit_is(&m, VMEXIT_INVLPG, CODE_GVA + 0x1c), "INVLPG exits (%lx)", m.w[VMEXIT_W_CODE]);
	err = resume(&m, 3);
	tap_ok(!err && exit_is(&m, VMEXIT_WRITE_CR(3), CODE_GVA + 0x1f), "MOV to CR3 exits (%lx)", m.w[VMEXIT_W_CODE]);
	err = resume(&m, 3);
	tap_ok(!err && exit_is(&m, VMEXIT_VMMCALL, CODE_GVA + 0x22), "and the guest goes on");
	uint64_t sh3 = retype(u, OBJ_SHADOW_SPACE, 16), other = retype(u, OBJ_SHADOW_SPACE, 14);
	tap_ok(sh3 && other && !sys_shadow_bind(sh3, gs) && sys_shadow_run(other, vcpu) == E_STATE,
	       "SHADOW_RUN to a ShadowSpace bound to no GuestSpace: E_STATE");
	tap_eq(sys_shadow_run(sh3, vcpu) | sys_shadow_map(sh3, CODE_GVA, CODE_GPA, 0, 0), E_OK,
	       "the VCPU moved to another ShadowSpace of its guest while it waits for our reply");
	sys_shadow_unmap(sh, CODE_GVA);
	err = resume(&m, 3);
	tap_ok(!err && exit_is(&m, VMEXIT_HLT, CODE_GVA + 0x25),
	       "it runs on that one (the old one lost its code page): HLT (%lx at %lx)",
	       m.w[VMEXIT_W_CODE], m.w[VMEXIT_W_RIP]);
	tap_eq(sys_shadow_run(sh, vcpu) | sys_shadow_map(sh, CODE_GVA, CODE_GPA, 0, 0), E_OK, "and back");
	sys_cnode_delete(sh3);
	sys_cnode_delete(other);
	tap_eq(sys_shadow_flush_lower(sh), E_OK, "the lower half flushed under a running guest");
	tap_eq(sys_shadow_unmap(sh, DATA_GVA), E_NOT_MAPPED, "its data page's entry went with it");

	/* what the guest may not be given */
	uint64_t other_gs, stranger;
	err = object_alloc(OBJ_GUEST_SPACE, 0, &other_gs);
	err = err ? err : guest_frame(other_gs, 0x3000, 0x7000, RIGHT_READ | RIGHT_WRITE, &stranger);
	tap_eq(err ? err : sys_shadow_map(sh, 0x7000, 0x7000, 0, 0), E_NOT_MAPPED,
	       "another guest's memory cannot be mapped: only the bound GuestSpace's");
	uint64_t host_pa = 0;
	err = sys_frame_phys(stranger, &host_pa);
	tap_ok(!err && sys_shadow_map(sh, 0x8000, host_pa, 0, 0) == E_NOT_MAPPED,
	       "nor host memory by its physical address (%lx)", host_pa);

	/* lifetime: an unmap in the GuestSpace empties the shadow */
	tap_eq(sys_page_unmap(data), E_OK, "the data frame is unmapped from the GuestSpace");
	m.w[VMEXIT_W_RIP] = CODE_GVA;
	err = resume(&m, 0);
	tap_ok(!err && exit_is(&m, VMEXIT_EXCEPTION(14), CODE_GVA) && m.w[VMEXIT_W_INFO2] == CODE_GVA,
	       "every shadow entry went with it: fetching the code is a #PF exit (%lx at %lx)",
	       m.w[VMEXIT_W_CODE], m.w[VMEXIT_W_INFO2]);
	tap_eq(sys_shadow_map(sh, DATA_GVA, DATA_GPA, 0, 0), E_NOT_MAPPED, "the unmapped page cannot be shadowed");
	tap_eq(sys_shadow_map(sh, CODE_GVA, CODE_GPA, 0, 0), E_OK, "the code can again");

	/* a VCPU holds its ShadowSpace: deleting ours keeps it alive */
	uint64_t vcpu_info_state;
	tap_eq(sys_cnode_delete(sh), E_OK, "our ShadowSpace capability is deleted; the VCPU holds its own");
	err = resume(&m, 0);
	tap_ok(!err && exit_is(&m, VMEXIT_CPUID, CODE_GVA), "the guest still runs on it (%lx)", m.w[VMEXIT_W_CODE]);

	/* invalid state: no paging */
	set(VCPU_CR0, 0x11);
	err = resume(&m, 0);
	tap_ok(!err && (uint32_t)m.w[VMEXIT_W_CODE] == (uint32_t)VMEXIT_INVALID &&
	       m.w[VMEXIT_W_INFO1] == VMRUN_INVALID_SHADOW_MODE,
	       "without paging a shadow VCPU is not entered: VMEXIT_INVALID, reason shadow mode (%lu)",
	       m.w[VMEXIT_W_INFO1]);
	long_mode();

	/* the GuestSpace dies: the shadow is unbound */
	tap_eq(sys_cnode_delete(gs), E_OK, "the GuestSpace is deleted while we hold an exit");
	m.w[VMEXIT_W_RIP] = CODE_GVA;
	err = resume(&m, 0);
	tap_ok(!err && (uint32_t)m.w[VMEXIT_W_CODE] == (uint32_t)VMEXIT_INVALID &&
	       m.w[VMEXIT_W_INFO1] == VMRUN_INVALID_NO_SPACE,
	       "the VCPU is not entered: VMEXIT_INVALID, no space (%lx, %lu)", m.w[VMEXIT_W_CODE], m.w[VMEXIT_W_INFO1]);

	/* a new ShadowSpace on a new GuestSpace, then revoked under the VCPU */
	uint64_t gs2, code2, sh2;
	err = object_alloc(OBJ_GUEST_SPACE, 0, &gs2);
	err = err ? err : sys_cnode_copy(code, CAP_ROOT_CNODE, code2 = slot_alloc(), RIGHTS_ALL);
	err = err ? err : page_map_in(gs2, code2, CODE_GPA, RIGHT_READ | RIGHT_WRITE | RIGHT_EXEC);
	sh2 = err ? 0 : retype(u, OBJ_SHADOW_SPACE, 16);
	err = sh2 ? sys_shadow_bind(sh2, gs2) : E_BAD_CAP;
	err = err ? err : sys_shadow_map(sh2, CODE_GVA, CODE_GPA, 0, 0);
	struct thread_info info = { .state = 99 };
	sys_tcb_info(vcpu, &info);
	vcpu_info_state = info.state;
	tap_eq(sys_vcpu_configure(vcpu, sh2, send), E_STATE, "a VCPU waiting for its reply cannot be reconfigured");
	sys_tcb_suspend(vcpu);
	sys_cnode_delete(reply);
	err = err ? err : sys_vcpu_configure(vcpu, sh2, send);
	m.w[VMEXIT_W_RIP] = CODE_GVA;
	set(VCPU_RIP, CODE_GVA);
	err = err ? err : sys_tcb_resume(vcpu);
	err = err ? err : ipc_recv(port, reply, &m);
	tap_ok(!err && exit_is(&m, VMEXIT_CPUID, CODE_GVA), "suspended and given a new ShadowSpace, it runs again");
	tap_eq(vcpu_info_state, THREAD_BLOCKED_REPLY, "(it was waiting for our reply)");
	tap_eq(sys_cnode_revoke(u), E_OK, "the ShadowSpace's Untyped is revoked while we hold an exit");
	err = resume(&m, 2);
	tap_ok(!err && (uint32_t)m.w[VMEXIT_W_CODE] == (uint32_t)VMEXIT_INVALID &&
	       m.w[VMEXIT_W_INFO1] == VMRUN_INVALID_NO_SPACE,
	       "the VCPU is not entered on freed tables: VMEXIT_INVALID, no space (%lu)", m.w[VMEXIT_W_INFO1]);
	tap_eq(sys_cnode_delete(vcpu), E_OK, "the VCPU is deleted while it waits");
	tap_ok(1, "the kernel is still here");
	tap_done();
}
