/* Every kind of user fault stops only the faulting thread; the kernel
 * records what happened and keeps running. */
// test-expect: thread \d+ stopped: page fault \(vector 14\)
// test-expect: thread \d+ stopped: general protection \(vector 13\)
// test-expect: thread \d+ stopped: invalid opcode \(vector 6\)
// test-expect: thread \d+ stopped: divide error \(vector 0\)
#include "tap.h"

static uint8_t stack[16][8192] __attribute__((aligned(16)));
static int next_stack;

/* fn(arg) runs `setup`, then the faulting instruction at label fn_site */
#define SITE(name, setup, insn)                                               \
	extern char name##_site[];                                            \
	static __attribute__((noinline)) void name(uint64_t arg)              \
	{                                                                     \
		__asm__ volatile(setup "\n.globl " #name "_site\n" #name "_site:\n" insn \
		                 :: "r"(arg) : "rax", "rcx", "rdx", "memory"); \
	}

SITE(do_ud2, "", "ud2")
SITE(do_div0, "xor %%edx, %%edx\n mov $1, %%eax", "divl %k0")   /* arg = 0 */
SITE(do_read, "", "mov (%0), %%rax")
SITE(do_write, "", "movq $1, (%0)")
SITE(do_cli, "", "cli")
SITE(do_hlt, "", "hlt")
SITE(do_out, "", "outb %%al, $0x80")
SITE(do_int, "", "int $0x80")
SITE(do_int3, "", "int3")
SITE(do_wrmsr, "xor %%eax, %%eax\n xor %%edx, %%edx\n mov %0, %%rcx", "wrmsr")
SITE(do_movcr3, "", "mov %0, %%cr3")

static struct thread_info run(void (*fn)(uint64_t), uint64_t arg)
{
	struct thread_info info = { .state = 99 };
	uint64_t tcb;
	/* higher priority than ours: it runs (and faults) before we go on */
	if (thread_create(fn, arg, stack[next_stack], sizeof(stack[0]), 150, &tcb) == E_OK)
		sys_tcb_info(tcb, &info);
	next_stack++;
	return info;
}

static void expect(struct thread_info i, unsigned vector, const char *site, uint64_t addr,
                   const char *what)
{
	tap_ok(i.state == THREAD_FAULTED && i.fault_vector == vector && i.fault_rip == (uint64_t)site &&
	       (vector != 14 || i.fault_addr == addr),
	       "%s: vector %u at its instruction (got state %u vector %u rip %lx addr %lx err %lx)",
	       what, vector, i.state, i.fault_vector, i.fault_rip, i.fault_addr, i.fault_error);
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(16);
	struct thread_info i;
	expect(run(do_ud2, 0), 6, do_ud2_site, 0, "ud2 is #UD");
	expect(run(do_div0, 0), 0, do_div0_site, 0, "divide by zero is #DE");
	expect(run(do_read, 0x50000000), 14, do_read_site, 0x50000000, "read of unmapped memory is #PF");
	i = run(do_read, 0x50000000);
	tap_ok(!(i.fault_error & 1) && (i.fault_error & 4) && !(i.fault_error & 2),
	       "its error code says user, read, not present (%lx)", i.fault_error);
	expect(run(do_write, 0xffffffff80100000UL), 14, do_write_site, 0xffffffff80100000UL,
	       "write to the kernel image is #PF");
	i = run(do_write, 0xffffffff80100000UL);
	tap_eq((long)(i.fault_error & 7), 7, "its error code says user, write, protection");
	expect(run(do_read, 0x0000800000000000UL), 13, do_read_site, 0, "non-canonical address is #GP");
	expect(run(do_cli, 0), 13, do_cli_site, 0, "cli is #GP");
	expect(run(do_hlt, 0), 13, do_hlt_site, 0, "hlt is #GP");
	expect(run(do_out, 0), 13, do_out_site, 0, "port I/O without permission is #GP");
	expect(run(do_int, 0), 13, do_int_site, 0, "int $0x80 is #GP (gates are kernel-only)");
	i = run(do_int, 0);
	/* bit 1: the IDT; the index is vector << 3 on hardware, vector << 4
	 * under QEMU's emulator (it scales by the 16-byte gate size) */
	tap_ok((i.fault_error & 3) == 2 && (i.fault_error >> 3 == 0x80 || i.fault_error >> 4 == 0x80),
	       "its error code names IDT entry 0x80 (%lx)", i.fault_error);
	expect(run(do_int3, 0), 13, do_int3_site, 0, "int3 is #GP");
	expect(run(do_wrmsr, 0xc0000082), 13, do_wrmsr_site, 0, "wrmsr is #GP");
	expect(run(do_movcr3, 0), 13, do_movcr3_site, 0, "mov to cr3 is #GP");

	/* the kernel and this thread are unharmed */
	uint64_t f;
	tap_ok(sys_yield() == E_OK && object_alloc(OBJ_FRAME, 0, &f) == E_OK &&
	       page_map_with_tables(f, 0x60000000, RIGHT_READ | RIGHT_WRITE) == E_OK,
	       "after %d faults the kernel still serves system calls", next_stack);
	tap_done();
}
