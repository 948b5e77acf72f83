/* SYS_TCB_REGS (docs/abi.md): a stopped thread's registers read and
 * written whole.  A faulted thread's registers read back as they were; a
 * runnable one is refused until suspended; a write cannot give a kernel
 * RIP or RSP, clear IF or raise IOPL; a written thread resumes with every
 * register as written (checked by code that stores them and stops).
 * SYS_TCB_SET_FLAGS: a thread with TCB_FLAG_SYSCALLS_FAULT that calls
 * SYS_DEBUG_WRITE faults with FAULT_VECTOR_SYSCALL instead, and nothing is
 * printed. */
// test-reject: LEAKED
#include "tap.h"
#include <libipc/ipc.h>

static uint8_t stack[4][8192] __attribute__((aligned(16)));

extern char cli_site[], landing[];
static volatile uint64_t landed_rax, landed_rcx, landed_r11, landed_r15, landed_rsp, landed_flags;

static __attribute__((noinline)) void do_cli(uint64_t arg)
{
	__asm__ volatile("mov %0, %%r15\n.globl cli_site\ncli_site: cli" :: "r"(arg) : "r15", "memory");
}

/* where a written thread is sent: it stores what it was given, then stops */
__asm__(".text\n.globl landing\nlanding:\n"
	"mov %rax, landed_rax(%rip)\n mov %rcx, landed_rcx(%rip)\n mov %r11, landed_r11(%rip)\n"
	"mov %r15, landed_r15(%rip)\n mov %rsp, landed_rsp(%rip)\n pushfq\n popq landed_flags(%rip)\n ud2\n");

extern char after_syscall[];
static void debug_write_raw(uint64_t arg)
{
	static const char text[] = "LEAKED: a flagged thread's SYSCALL reached the kernel\n";
	(void)arg;
	__asm__ volatile("syscall\n.globl after_syscall\nafter_syscall:"
			 :: "a"(SYS_DEBUG_WRITE), "D"(text), "S"(sizeof(text) - 1) : "rcx", "r11", "memory");
	for (;;)
		;
}

static void spin_forever(uint64_t arg)
{
	(void)arg;
	for (;;)
		;
}

_Noreturn int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(20);
	uint64_t t, low;
	struct tcb_regs r;
	struct thread_info info = { .state = 99 };
	/* above us: it runs and faults (no handler: it stops) before we go on */
	tap_eq(thread_create(do_cli, 0x1234, stack[0], sizeof(stack[0]), 150, &t), E_OK, "a thread that faults on cli");
	tap_eq(sys_tcb_regs_read(t, &r), E_OK, "its registers can be read");
	tap_ok(r.rip == (uint64_t)cli_site && r.r15 == 0x1234 && (r.rflags & 0x200),
	       "RIP at the cli, R15 as it set it, IF on (rip %lx r15 %lx rflags %lx)", r.rip, r.r15, r.rflags);

	struct tcb_regs bad = r;
	bad.rip = 0xffffffff80100000UL;
	tap_eq(sys_tcb_regs_write(t, &bad), E_BAD_ADDRESS, "a kernel RIP is refused");
	bad = r;
	bad.rsp = 0xffff800000001000UL;
	tap_eq(sys_tcb_regs_write(t, &bad), E_BAD_ADDRESS, "a kernel RSP is refused");
	bad = r;
	bad.rip = 0;
	tap_eq(sys_tcb_regs_write(t, &bad), E_BAD_ADDRESS, "RIP 0 is refused");

	struct tcb_regs w = r;
	w.rip = (uint64_t)landing;
	w.rsp = (uint64_t)stack[1] + sizeof(stack[1]) - 64;
	w.rax = 0x1111;
	w.rcx = 0x2222; /* RCX and R11: restored too (no SYSRET on the way back) */
	w.r11 = 0x3333;
	w.r15 = 0x4444;
	w.rflags = ~0x300UL; /* IF clear, IOPL 3, every other bit set but TF (it would step the landing) */
	tap_eq(sys_tcb_regs_write(t, &w), E_OK, "a full set of registers is written");
	tap_eq(sys_tcb_regs_read(t, &r), E_OK, "and read back");
	tap_ok((r.rflags & 0x200) && !(r.rflags & 0x3000) && !(r.rflags & 0x100) && (r.rflags & 0xcd5) == 0xcd5,
	       "RFLAGS: IF still on, IOPL 0, TF and the arithmetic flags as given (%lx)", r.rflags);
	tap_eq(sys_tcb_resume(t), E_OK, "resumed");
	sys_tcb_info(t, &info);
	tap_ok(info.state == THREAD_FAULTED && landed_rax == 0x1111 && landed_rcx == 0x2222 && landed_r11 == 0x3333 &&
	       landed_r15 == 0x4444 && landed_rsp == w.rsp && (landed_flags & 0x200) && !(landed_flags & 0x3000),
	       "it ran at the written RIP with the written registers (rax %lx rcx %lx r11 %lx r15 %lx, flags %lx)",
	       landed_rax, landed_rcx, landed_r11, landed_r15, landed_flags);

	/* below us: runnable, never run */
	tap_eq(thread_create(spin_forever, 0, stack[2], sizeof(stack[2]), 10, &low), E_OK, "a runnable thread");
	tap_eq(sys_tcb_regs_read(low, &r), E_STATE, "a runnable thread's registers: E_STATE");
	sys_tcb_suspend(low);
	tap_eq(sys_tcb_regs_read(low, &r), E_OK, "suspended, they can be read");

	uint64_t sc;
	tap_eq(thread_create(debug_write_raw, 0, stack[3], sizeof(stack[3]), 10, &sc), E_OK, "a thread that will call SYSCALL");
	tap_eq(sys_tcb_set_flags(sc, 0x80), E_BAD_ARG, "an unknown flag is refused");
	tap_eq(sys_tcb_set_flags(sc, TCB_FLAG_SYSCALLS_FAULT), E_OK, "TCB_FLAG_SYSCALLS_FAULT set");
	tap_eq(sys_tcb_set_priority(sc, 150, 150), E_OK, "it runs (above us)");
	sys_tcb_info(sc, &info);
	tap_ok(info.state == THREAD_FAULTED && info.fault_vector == FAULT_VECTOR_SYSCALL && info.fault_error == SYS_DEBUG_WRITE &&
	       info.fault_rip == (uint64_t)after_syscall,
	       "its SYSCALL is a fault: vector %u, error (its RAX) %lu, rip after the instruction", info.fault_vector,
	       info.fault_error);
	tap_ok(!sys_tcb_regs_read(sc, &r) && r.rcx == (uint64_t)after_syscall,
	       "RCX as SYSCALL left it (the return address %lx)", r.rcx);
	tap_done();
}
