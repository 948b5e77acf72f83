/* The kernel's SVM mechanism, driven straight from the root task (the
 * VMM server builds on the same calls): a guest space, a VCPU, a guest in
 * 32-bit protected mode running hand-assembled code, and each exit
 * arriving as a message whose reply changes registers and resumes the
 * guest.  Also: state the hardware would refuse comes back as
 * VMEXIT_INVALID with a reason, and a triple fault as a shutdown exit. */
#include "tap.h"
#include <libipc/ipc.h>
#include <berth/vcpu.h>
#include "vcpu_setup.h"

#define SCRATCH 0x50000000UL
#define CODE_GPA 0x1000UL
#define UNMAPPED_GPA 0x400000UL

static const uint8_t guest_code[] = {
	0x0f, 0xa2,                         /* 0x1000 cpuid */
	0x0f, 0x01, 0xd9,                   /* 0x1002 vmmcall */
	0xe6, 0x80,                         /* 0x1005 out %al, $0x80 */
	0xa1, 0x00, 0x00, 0x40, 0x00,       /* 0x1007 mov 0x400000, %eax */
	0xf4,                               /* 0x100c hlt */
	0xeb, 0xfe,                         /* 0x100d jmp . */
	0xcc,                               /* 0x100f int3 */
};

static uint64_t vcpu, port, reply;

static long set(unsigned f, uint64_t v) { return sys_vcpu_write(vcpu, f, v); }

static void flat_protected_mode(void)
{
	set(VCPU_CR0, 0x11);          /* PE, ET */
	set(VCPU_CR4, 0);
	vcpu_flat_segments(vcpu, 0xc9b);
	set(VCPU_RSP, 0x8000);
}

/* Reply to the exit in *m with rip moved on by len, rax set, then wait
 * for the next exit into *m. */
static long resume(struct msg *m, uint64_t len, uint64_t rax, uint64_t inject)
{
	m->info = MSG_INFO(0, VMEXIT_REPLY_WORDS, 0);
	m->w[VMEXIT_W_RIP] += len;
	m->w[VMEXIT_W_RAX + VCPU_RAX] = rax;
	m->w[VMEXIT_W_INJECT] = inject;
	return ipc_reply_recv(reply, port, reply, m);
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(25);
	uint64_t gs, frame, copy = slot_alloc(), send = slot_alloc();
	reply = slot_alloc();
	long err = object_alloc(OBJ_GUEST_SPACE, 0, &gs);
	err = err ? err : object_alloc(OBJ_VCPU, 0, &vcpu);
	err = err ? err : object_alloc(OBJ_PORT, 0, &port);
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, send, RIGHT_SEND, 7);
	err = err ? err : page_alloc_map(SCRATCH, RIGHT_READ | RIGHT_WRITE, &frame);
	tap_eq(err, E_OK, "a guest space, a VCPU, an exit port, a frame");
	memcpy((void *)SCRATCH, guest_code, sizeof(guest_code));
	err = sys_cnode_copy(frame, CAP_ROOT_CNODE, copy, RIGHTS_ALL);
	err = err ? err : page_map_in(gs, copy, CODE_GPA, RIGHTS_ALL & (RIGHT_READ | RIGHT_WRITE | RIGHT_EXEC));
	tap_eq(err, E_OK, "the frame mapped at guest-physical 0x1000");
	tap_eq(page_map_in(gs, copy, 0x2000, RIGHT_READ), E_MAPPED, "a frame capability maps once, in guests too");
	tap_eq(page_map_in(gs, slot_alloc(), GUEST_PHYS_TOP, RIGHT_READ), E_BAD_CAP, "checks as for user spaces");

	err = sys_vcpu_configure(vcpu, gs, send);
	flat_protected_mode();
	set(VCPU_RIP, CODE_GPA);
	set(VCPU_RAX, 0x80000000);
	err = err ? err : sys_tcb_set_priority(vcpu, 100, 100);
	err = err ? err : sys_tcb_resume(vcpu);
	tap_eq(err, E_OK, "configure and start the VCPU");

	struct msg m;
	err = ipc_recv(port, reply, &m);
	tap_ok(!err && MSG_LABEL(m.info) == LABEL_VMEXIT && m.badge == 7 && MSG_WORDS(m.info) == VMEXIT_WORDS &&
	       m.w[VMEXIT_W_CODE] == VMEXIT_CPUID && m.w[VMEXIT_W_RIP] == 0x1000 &&
	       m.w[VMEXIT_W_RAX + VCPU_RAX] == 0x80000000, "CPUID exits as a message with the guest's registers "
	       "(err %ld code %lx rip %lx)", err, m.w[VMEXIT_W_CODE], m.w[VMEXIT_W_RIP]);

	err = resume(&m, 2, 0x1234, 0);
	tap_ok(!err && m.w[VMEXIT_W_CODE] == VMEXIT_VMMCALL && m.w[VMEXIT_W_RIP] == 0x1002 &&
	       m.w[VMEXIT_W_RAX + VCPU_RAX] == 0x1234, "the reply's registers took effect: VMMCALL with rax 0x1234");

	err = resume(&m, 3, 0x5a, 0);
	tap_ok(!err && m.w[VMEXIT_W_CODE] == VMEXIT_IOIO && (m.w[VMEXIT_W_INFO1] >> 16) == 0x80 &&
	       !(m.w[VMEXIT_W_INFO1] & 1) && m.w[VMEXIT_W_INFO2] == 0x1007 && (m.w[VMEXIT_W_RAX] & 0xff) == 0x5a,
	       "OUT to port 0x80 exits with the port, direction and next RIP (info1 %lx)", m.w[VMEXIT_W_INFO1]);

	err = resume(&m, 2, 0, 0);
	tap_ok(!err && m.w[VMEXIT_W_CODE] == VMEXIT_NPF && m.w[VMEXIT_W_INFO2] == UNMAPPED_GPA &&
	       (m.w[VMEXIT_W_INFO1] & (1UL << 32)), "a read of unmapped guest memory is a nested page fault "
	       "(gpa %lx, info1 %lx)", m.w[VMEXIT_W_INFO2], m.w[VMEXIT_W_INFO1]);

	err = resume(&m, 5, 0xbeef, 0);
	tap_ok(!err && m.w[VMEXIT_W_CODE] == VMEXIT_HLT && m.w[VMEXIT_W_RIP] == 0x100c &&
	       m.w[VMEXIT_W_RAX + VCPU_RAX] == 0xbeef, "the emulated load went on to HLT");

	/* let it spin: the timer preempts it and we run at the same priority */
	m.info = MSG_INFO(0, VMEXIT_REPLY_WORDS, 0);
	m.w[VMEXIT_W_RIP] += 1;
	m.w[VMEXIT_W_INJECT] = 0;
	tap_eq(ipc_reply(reply, &m), E_OK, "resume it into an endless loop");
	spin_ticks(300000000);
	struct thread_info info = { .state = 99 };
	tap_ok(sys_tcb_info(vcpu, &info) == E_OK && info.state == THREAD_RUNNABLE,
	       "a spinning guest is preempted and we still run (state %u)", info.state);
	tap_eq(sys_tcb_suspend(vcpu), E_OK, "suspend the VCPU");

	/* state VMRUN would refuse */
	set(VCPU_CR0, 0x20000011); /* NW without CD */
	sys_tcb_resume(vcpu);
	err = ipc_recv(port, reply, &m);
	tap_ok(!err && (uint32_t)m.w[VMEXIT_W_CODE] == (uint32_t)VMEXIT_INVALID &&
	       m.w[VMEXIT_W_INFO1] == VMRUN_INVALID_CR0, "CR0.NW without CD: VMEXIT_INVALID, reason CR0 (%lx, %lu)",
	       m.w[VMEXIT_W_CODE], m.w[VMEXIT_W_INFO1]);

	/* a triple fault: int3 with an empty IDT */
	set(VCPU_CR0, 0x11);
	set(VCPU_SEGMENT(SEG_IDTR, SEG_LIMIT), 0);
	m.w[VMEXIT_W_RIP] = 0x100f;
	err = resume(&m, 0, 0, 0);
	tap_ok(!err && m.w[VMEXIT_W_CODE] == VMEXIT_SHUTDOWN, "a triple fault is a shutdown exit (%lx)",
	       m.w[VMEXIT_W_CODE]);

	/* a malformed reply is refused and the VCPU keeps waiting */
	m.info = MSG_INFO(0, 5, 0);
	tap_eq(ipc_reply(reply, &m), E_BAD_MSG, "a reply of the wrong length is refused");
	tap_ok(sys_tcb_info(vcpu, &info) == E_OK && info.state == THREAD_BLOCKED_REPLY, "the VCPU still waits");

	/* pass-through needs the right to what passes */
	uint64_t io_cmos = slot_alloc(), io_post = slot_alloc();
	sys_ioport_issue(CAP_IOPORT_CONTROL, 0x70, 0x71, CAP_ROOT_CNODE, io_cmos);
	sys_ioport_issue(CAP_IOPORT_CONTROL, 0x80, 0x80, CAP_ROOT_CNODE, io_post);
	tap_eq(sys_vcpu_io_intercept(vcpu, 0x80, 0x80, 0, 0), E_BAD_CAP, "ports pass through only with a capability");
	tap_eq(sys_vcpu_io_intercept(vcpu, 0x80, 0x80, 0, io_cmos), E_RANGE, "one that covers them");
	tap_eq(sys_vcpu_io_intercept(vcpu, 0x80, 0x80, 0, io_post), E_OK, "with the right one, port 0x80 passes through");
	tap_eq(sys_vcpu_msr_intercept(vcpu, 0x10, 0), E_NO_RIGHTS, "the TSC MSR cannot pass through");
	tap_eq(sys_vcpu_msr_intercept(vcpu, 0xc0000082, 0), E_OK, "LSTAR can: the VMCB switches it");
	tap_eq(sys_vcpu_msr_intercept(vcpu, 0x12345678, 1), E_BAD_ARG, "an MSR outside the bitmap is refused");

	/* a mapping removed under a VCPU: the next fetch faults (guest TLB flushed) */
	set(VCPU_SEGMENT(SEG_IDTR, SEG_LIMIT), 0xffff);
	tap_eq(sys_page_unmap(copy), E_OK, "unmap the guest's code page");
	m.w[VMEXIT_W_RIP] = CODE_GPA;
	err = resume(&m, 0, 0, 0);
	tap_ok(!err && m.w[VMEXIT_W_CODE] == VMEXIT_NPF && m.w[VMEXIT_W_INFO2] == CODE_GPA,
	       "fetching from it is now a nested page fault (%lx at %lx)", m.w[VMEXIT_W_CODE], m.w[VMEXIT_W_INFO2]);
	tap_done();
}
