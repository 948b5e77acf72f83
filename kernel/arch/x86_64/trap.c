/* Exceptions and interrupts.  From user mode: a fault becomes a message
 * to the thread's fault port (or stops it), an IRQ is handled.  From
 * kernel mode: an IRQ can only arrive in the idle loop or in vcpu_run's
 * window after a guest's interrupt exit; an exception is a kernel bug and
 * gets a full register dump before the machine halts. */
#include "context.h"
#include "object.h"
#include "timer.h"
#include "cpu.h"
#include "klib.h"

const char *vector_name(uint64_t v);
uint64_t timer_ticks;

static void handle_irq(uint64_t vector)
{
	int irq = (int)vector - TIMER_VECTOR;
	if (vector == 255 || pic_is_spurious(irq))
		return;
	if (irq == 0) {
		pic_eoi(irq);
		timer_ticks++;
		timeouts_tick(timer_ticks);
		sched_tick();
	} else {
		irq_handle(irq); /* masks the line until the driver acknowledges */
		pic_eoi(irq);
	}
}

static int is_irq(uint64_t vector)
{
	return (vector >= TIMER_VECTOR && vector < TIMER_VECTOR + 16) || vector == 255;
}

static void dump(const struct context *c)
{
	uint64_t cr0, cr4;
	__asm__ volatile("mov %%cr0, %0; mov %%cr4, %1" : "=r"(cr0), "=r"(cr4));
	printk("  vector %lu (%s) error=%lx\n", c->vector, vector_name(c->vector), c->error);
	printk("  RIP=%016lx CS=%04lx RFLAGS=%016lx\n", c->rip, c->cs, c->rflags);
	printk("  RSP=%016lx SS=%04lx CR2=%016lx\n", c->rsp, c->ss, read_cr2());
	printk("  CR0=%016lx CR3=%016lx CR4=%016lx\n", cr0, read_cr3(), cr4);
	printk("  RAX=%016lx RBX=%016lx RCX=%016lx RDX=%016lx\n", c->rax, c->rbx, c->rcx, c->rdx);
	printk("  RSI=%016lx RDI=%016lx RBP=%016lx R8 =%016lx\n", c->rsi, c->rdi, c->rbp, c->r8);
	printk("  R9 =%016lx R10=%016lx R11=%016lx R12=%016lx\n", c->r9, c->r10, c->r11, c->r12);
	printk("  R13=%016lx R14=%016lx R15=%016lx\n", c->r13, c->r14, c->r15);
	printk("  current thread: %lu\n", current ? current->id : 0);
}

_Noreturn void trap_from_kernel(struct context *c)
{
	if (is_irq(c->vector)) {
		if (!current)
			idle_account();
		handle_irq(c->vector);
		kernel_exit();
	}
	printk("\nKERNEL EXCEPTION: %s in kernel mode\n", vector_name(c->vector));
	dump(c);
	panic("unexpected exception %lu in the kernel", c->vector);
}

_Noreturn void trap_from_user(struct context *c)
{
	uint64_t v = c->vector;
	if (is_irq(v)) {
		handle_irq(v);
	} else if (v == 2) {
		printk("berth: NMI while in user mode (ignored)\n");
	} else if (v == 8 || v == 18) {
		printk("\nKERNEL EXCEPTION: %s\n", vector_name(v));
		dump(c);
		panic("fatal machine exception");
	} else {
		thread_fault(current, v, c->error, v == 14 ? read_cr2() : 0);
	}
	kernel_exit();
}
