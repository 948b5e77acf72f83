/*
 * mode=trap: classic trap-and-emulate, with no hardware virtualization
 * (Popek and Goldberg's construction; docs/vmm.md, "Modes").  The guest
 * kernel runs deprivileged, as an ordinary Berth thread in ring 3 in a
 * VSpace of ours.  Each privileged instruction it executes faults; the
 * kernel sends the fault to our port as a message; we emulate the
 * instruction on the guest's soft CPU state (trap_emulate.c) and reply,
 * which resumes the thread.  Its memory is frames of ours; its page
 * tables are walked in software and the pages they map are mapped into
 * the thread's VSpace as it touches them (trap_shadow.c).  Its timer is
 * the same device models as under SVM; an interrupt is delivered by
 * stopping the thread, building the interrupt frame on its stack and
 * pointing it at its IDT's handler, as the processor would.
 *
 * What this cannot do is the point of the exercise: x86 is not
 * virtualizable this way.  popf in ring 3 silently ignores IF, and pushf
 * shows the real IF (always 1); neither faults, so the VMM is never told
 * (guests/teach shows the consequence; mode=patch repairs it).
 */
#include <stdarg.h>
#include "trap.h"

#define GUEST_PRIO 90         /* below us, as a VCPU is */
#define BOOT_PML4 0x1000UL    /* the start the SVM mode gives a flat image (boot.c) */
#define BOOT_GDT 0x7000UL
#define BOOT_RSP 0x80000UL
#define RFLAGS_TF 0x100UL

struct trap_vm tv;
static uint64_t tsc_per_tick;

uint64_t *trap_gpr(struct tcb_regs *r, unsigned n)
{
	uint64_t *const regs[16] = { &r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi, &r->rdi,
	                             &r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15 };
	return regs[n & 15];
}

struct guest_paging trap_paging(void)
{
	/* the guest believes it is in ring 0, and its accesses are checked so */
	return (struct guest_paging){ .cr0 = tv.cpu.cr0, .cr3 = tv.cpu.cr3, .efer = tv.cpu.efer, .cpl = 0 };
}

enum trap_action trap_stop(const char *fmt, ...)
{
	char line[200];
	va_list ap;
	va_start(ap, fmt);
	debug_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	uart_flush(&vm.uart);
	debug_printf("vmm: %sguest stopped: %s\n", vm_name, line);
	vm.stopped = 1;
	vm.exit_status = 2;
	return TRAP_STOP;
}

/* The 64-bit interrupt frame the processor pushes without a change of
 * privilege (the guest kernel interrupts itself): align RSP to 16, push
 * SS, RSP, RFLAGS (with the guest's IF), CS, RIP and maybe an error code,
 * then continue at target with CS cs.  mode=pv's events and exceptions
 * arrive the same way.  0, or -1 when the stack cannot be written. */
int trap_push_frame(struct tcb_regs *r, uint64_t target, uint16_t cs, int has_error, uint64_t error)
{
	struct guest_paging p = trap_paging();
	struct page_fault pf;
	uint64_t flags = (r->rflags & ~(RFLAGS_IF | 0x3000UL)) | (tv.cpu.vif ? RFLAGS_IF : 0);
	uint64_t frame[6];
	unsigned n = 0;
	if (has_error)
		frame[n++] = error;
	frame[n++] = r->rip;
	frame[n++] = tv.cpu.sel[1];
	frame[n++] = flags;
	frame[n++] = r->rsp;
	frame[n++] = tv.cpu.sel[2];
	uint64_t rsp = (r->rsp & ~15UL) - n * 8;
	if (virt_access(&p, rsp, frame, n * 8, ACCESS_WRITE, &pf))
		return -1;
	r->rsp = rsp;
	r->rip = target;
	r->rflags &= ~RFLAGS_TF; /* as a gate does: the handler is not single-stepped (the frame keeps TF) */
	tv.cpu.sel[1] = cs;
	return 0;
}

/* Deliver an interrupt or exception through the guest's IDT, as the
 * processor does in 64-bit mode: the gate's target with the frame above,
 * IF cleared for an interrupt gate.  0, or -1 when the IDT or the stack
 * cannot be used (a real machine would end in a triple fault). */
int trap_deliver(struct tcb_regs *r, unsigned vector, int has_error, uint64_t error)
{
	struct guest_paging p = trap_paging();
	struct page_fault pf;
	uint8_t gate[16];
	if (vector * 16 + 15 > tv.cpu.idt_limit || virt_access(&p, tv.cpu.idt_base + vector * 16, gate, 16, 0, &pf))
		return -1;
	unsigned type = gate[5] & 0x1f;
	if (!(gate[5] & 0x80) || (type != 0xe && type != 0xf))
		return -1;
	uint64_t target = (uint64_t)gate[0] | (uint64_t)gate[1] << 8 | (uint64_t)gate[6] << 16 |
	                  (uint64_t)gate[7] << 24 | (uint64_t)gate[8] << 32 | (uint64_t)gate[9] << 40 |
	                  (uint64_t)gate[10] << 48 | (uint64_t)gate[11] << 56;
	uint16_t cs = (uint16_t)(gate[2] | gate[3] << 8);
	if (target < USER_BASE || target >= USER_TOP)
		return -1; /* outside the low half: the thread cannot run there */
	if (trap_push_frame(r, target, cs, has_error, error))
		return -1;
	if (type == 0xe)
		tv.cpu.vif = 0;
	return 0;
}

/* An interrupt the devices raised, if the guest can take one now. */
static int interrupt_due(void)
{
	return tv.cpu.vif && !tv.cpu.sti_shadow && irq_due();
}

static enum trap_action take_interrupt(struct tcb_regs *r)
{
	int from_pic;
	int vector = irq_next(&from_pic);
	if (vector < 0)
		return TRAP_RESUME;
	irq_take(vector, from_pic);
	tv.stats.interrupts++;
	if (trap_deliver(r, (unsigned)vector, 0, 0))
		return trap_stop("cannot deliver interrupt vector %d: the IDT or the stack is unusable (a triple fault)",
		                 vector);
	return TRAP_RESUME;
}

/* --- building the VM ---------------------------------------------------- */

static long ram_setup(uint64_t bytes)
{
	for (uint64_t off = 0; off < bytes / PAGE_SIZE * sizeof(tv.frames[0]); off += PAGE_SIZE) {
		long err = page_alloc_map(TRAP_FRAMES_VA + off, RIGHT_READ | RIGHT_WRITE, 0);
		if (err)
			return err;
	}
	tv.frames = (uint64_t *)TRAP_FRAMES_VA;
	for (uint64_t gpa = 0; gpa < bytes; gpa += PAGE_SIZE) {
		uint64_t f;
		long err = object_alloc(OBJ_FRAME, PAGE_BITS, &f);
		err = err ? err : page_map_with_tables(f, GUEST_RAM_VA + gpa, RIGHT_READ | RIGHT_WRITE);
		if (err)
			return err;
		tv.frames[gpa / PAGE_SIZE] = f;
	}
	vm.ram_bytes = bytes;
	return E_OK;
}

/* The module's image copied to GUEST_LOAD_GPA. */
long trap_image_copy(const struct bootinfo_module *mod)
{
	for (uint32_t i = 0; i < mod->pages; i++) {
		long err = page_map_with_tables(mod->first_slot + i, IMAGE_VA + i * PAGE_SIZE, RIGHT_READ);
		if (err)
			return err;
	}
	if (mod->size > vm.ram_bytes - GUEST_LOAD_GPA) {
		debug_printf("vmm: %sthe guest image (%lu bytes) does not fit in %lu MiB\n", vm_name,
		             (unsigned long)mod->size, vm.ram_bytes >> 20);
		return E_RANGE;
	}
	memcpy(guest_ptr(GUEST_LOAD_GPA, mod->size), (const void *)IMAGE_VA, mod->size);
	return E_OK;
}

/* The image at GUEST_LOAD_GPA and what the SVM mode's flat start gives
 * (boot.c): the first 4 GiB mapped 1:1 with 2 MiB pages, a GDT with code
 * selector 8 and data 16, RSP 0x80000, interrupts off. */
static long load_image(const struct bootinfo *bi, struct tcb_regs *r)
{
	if (!bi->module_count) {
		debug_printf("vmm: %sno guest image\n", vm_name);
		return E_BAD_ARG;
	}
	long err = trap_image_copy(&bi->module[0]);
	if (err)
		return err;
	uint64_t *pml4 = guest_ptr(BOOT_PML4, 0x6000), *pdpt = pml4 + 512, *pd = pml4 + 1024;
	uint64_t *gdt = guest_ptr(BOOT_GDT, 32);
	pml4[0] = (BOOT_PML4 + 0x1000) | 3;
	for (int g = 0; g < 4; g++)
		pdpt[g] = (BOOT_PML4 + 0x2000 + 0x1000 * (uint64_t)g) | 3;
	for (int i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;
	gdt[1] = 0x00209a0000000000UL;
	gdt[2] = 0x00cf92000000ffffUL;
	tv.cpu = (struct soft_cpu){
		.cr0 = 0x80000033, .cr3 = BOOT_PML4, .cr4 = 0x620, .efer = 0x500,
		.gdt_base = BOOT_GDT, .gdt_limit = 31, .idt_limit = 0,
		.sel = { 16, 8, 16, 16, 16, 16 },
	};
	*r = (struct tcb_regs){ .rip = GUEST_LOAD_GPA, .rsp = BOOT_RSP, .rflags = 2 };
	return E_OK;
}

/* The guest's thread: an empty CNode, a fresh VSpace that holds only
 * what the shadow code maps, our port for its faults, and its SYSCALLs
 * made faults too: they are the guest's, never calls on Berth's kernel
 * (which, capabilities or not, has calls that need none). */
static long thread_setup(uint64_t port)
{
	uint64_t fault_send = tv.fault_send = slot_alloc();
	long err = object_alloc(OBJ_VSPACE, 0, &tv.vspace);
	err = err ? err : object_alloc(OBJ_CNODE, 1, &tv.cnode);
	err = err ? err : object_alloc(OBJ_TCB, 0, &tv.tcb);
	err = err ? err : fault_send ? E_OK : E_SLOT_FULL;
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, fault_send, RIGHT_SEND, TRAP_BADGE);
	err = err ? err : sys_tcb_configure(tv.tcb, tv.cnode, tv.vspace, fault_send);
	err = err ? err : sys_tcb_set_flags(tv.tcb, TCB_FLAG_SYSCALLS_FAULT);
	err = err ? err : sys_tcb_set_priority(tv.tcb, GUEST_PRIO, GUEST_PRIO);
	return err;
}

static void calibrate(uint64_t nap)
{
	struct msg m;
	sys_notify_after(nap, 1, 1);
	ipc_recv(nap, 0, &m);
	uint64_t t0 = rdtsc();
	sys_notify_after(nap, 1, 4);
	ipc_recv(nap, 0, &m);
	tsc_per_tick = (rdtsc() - t0) / 4;
}

/* --- the loop -------------------------------------------------------------- */

static void stop_guest(void)
{
	sys_tcb_suspend(tv.tcb);
	uart_flush(&vm.uart);
	marks_print();
	debug_printf("vmm: %smode=%s: %lu faults, %lu emulated, %lu interrupts, %lu shadow fills, %lu shadow flushes, "
	             "%lu reflected, %lu pushf/popf emulated, %lu instructions patched\n",
	             vm_name, vmm_mode_name(tv.mode), tv.stats.faults,
	             tv.stats.emulated, tv.stats.interrupts, tv.stats.shadow_fills, tv.stats.shadow_flushes,
	             tv.stats.reflected, tv.stats.pushf_popf, tv.stats.patched);
}

/* The devices may want an interrupt: give it to the guest now, wherever
 * its thread is.  Parked in HLT: through the fault reply we kept.
 * Running (or queued to fault): stop it, deliver, let it go on; a
 * fault that was queued is cancelled by the stop, and its instruction,
 * not yet executed, runs again after the handler's iretq. */
static void interrupt_guest(void)
{
	if (vm.stopped || !tv.cpu.vif || !irq_due())
		return;
	struct tcb_regs r;
	if (tv.parked) {
		if (sys_tcb_regs_read(tv.tcb, &r) || take_interrupt(&r) == TRAP_STOP || sys_tcb_regs_write(tv.tcb, &r))
			return;
		tv.parked = 0;
		struct msg m = { .info = MSG_INFO(0, 0, 0) };
		ipc_reply(vm.parked, &m);
		return;
	}
	if (sys_tcb_suspend(tv.tcb) || sys_tcb_regs_read(tv.tcb, &r))
		return;
	/* past the instruction after an STI, its shadow is over */
	if (r.rip != tv.cpu.sti_next)
		tv.cpu.sti_shadow = 0;
	if (interrupt_due() && (take_interrupt(&r) == TRAP_STOP || sys_tcb_regs_write(tv.tcb, &r)))
		return;
	sys_tcb_resume(tv.tcb);
}

/* One fault of the guest's thread. */
static enum trap_action guest_fault(const struct msg *m)
{
	uint64_t vector = m->w[0], addr = m->w[1], error = m->w[3];
	struct tcb_regs r;
	tv.stats.faults++;
	if (sys_tcb_regs_read(tv.tcb, &r))
		return trap_stop("cannot read the guest thread's registers");
	/* An interrupt that waited for IF: the processor takes it as soon as
	 * the instruction after the STI is done, so before the instruction
	 * that faulted now, unless that one is the instruction after the STI
	 * (sti; hlt must halt first).  The faulting instruction has not run:
	 * it runs, and faults again, after the handler's iretq. */
	int in_shadow = tv.cpu.sti_shadow && r.rip == tv.cpu.sti_next;
	tv.cpu.sti_shadow = 0;
	enum trap_action a;
	/* but a single-step #DB is a trap: its instruction is done, and the
	 * #DB is delivered first (the interrupt after it, below) */
	if (!in_shadow && vector != 1 && interrupt_due())
		a = take_interrupt(&r);
	else if (vector == 14 && !(error & PF_USER))
		/* a page fault of a supervisor access by a ring-3 thread: QEMU
		 * reads the stack of a far return or iretq to ring 0 so, with
		 * SMAP on, before the #GP hardware would raise.  Either way the
		 * instruction is privileged: decode and emulate it. */
		a = trap_emulate(&r, 13, 0);
	else if (vector == 14)
		a = shadow_fault(&r, addr, error);
	else if (vector == FAULT_VECTOR_SYSCALL)
		a = trap_syscall(&r);
	else
		a = trap_emulate(&r, vector, error);
	if (a == TRAP_STOP)
		return a;
	if (a == TRAP_RESUME && interrupt_due())
		a = take_interrupt(&r);
	if (a != TRAP_STOP && sys_tcb_regs_write(tv.tcb, &r))
		return trap_stop("the kernel refused the guest's registers (rip %lx rsp %lx)", r.rip, r.rsp);
	return a;
}

/* What mode=trap, patch and pv build alike: the limits, our port, guest
 * RAM, the guest's thread (not yet running), the clock and the device
 * models, the controls.  0, or the VMM's exit status. */
int trap_build(const struct bootinfo *bi, enum vmm_mode mode)
{
	tv.mode = mode;
	unsigned mib = arg_number(bi->cmdline, "mem=", 2);
	if ((uint64_t)mib << 20 > TRAP_RAM_MAX || arg_flag(bi->cmdline, "linux") || arg_value(bi->cmdline, "kernel=", 0)) {
		debug_printf("vmm: %smode=%s runs a flat 64-bit image in at most %lu MiB (not Linux)\n", vm_name,
		             vmm_mode_name(mode), TRAP_RAM_MAX >> 20);
		return EXIT_NO_RESTART;
	}
	vm.console = 9;
	vm.reply = slot_alloc();
	vm.parked = slot_alloc();
	uint64_t nap = 0;
	long err = object_alloc(OBJ_PORT, 0, &vm.port);
	err = err ? err : object_alloc(OBJ_PORT, 0, &nap);
	err = err ? err : ram_setup((uint64_t)mib << 20);
	err = err ? err : thread_setup(vm.port);
	if (err) {
		debug_printf("vmm: %scannot build the VM (mode=%s): error %ld\n", vm_name, vmm_mode_name(mode), err);
		return EXIT_NO_RESTART;
	}
	calibrate(nap);
	clock_init(tsc_per_tick * 100);
	devices_init();
	uart_init(&vm.uart, uart_output, 0);
	control_start(bi->cmdline);
	/* a mark records the faults handled (pv.c: the hypercalls) */
	mark_events = &tv.stats.faults;
	mark_events_name = "faults";
	return 0;
}

int trap_main(const struct bootinfo *bi, enum vmm_mode mode)
{
	int status = trap_build(bi, mode);
	if (status)
		return status;
	struct tcb_regs r;
	long err = load_image(bi, &r);
	err = err ? err : sys_tcb_regs_write(tv.tcb, &r);
	if (err) {
		debug_printf("vmm: %scannot build the VM (mode=%s): error %ld\n", vm_name, vmm_mode_name(mode), err);
		return EXIT_NO_RESTART;
	}
	debug_printf("vmm: %sguest '%s' (%lu bytes) in %lu MiB, mode=%s: the guest kernel runs in ring 3\n", vm_name,
	             bi->module[0].name, (unsigned long)bi->module[0].size, vm.ram_bytes >> 20, vmm_mode_name(mode));
	sys_tcb_resume(tv.tcb);

	struct msg m;
	err = ipc_recv(vm.port, vm.reply, &m);
	for (;;) {
		int common = vmm_message_common(err, &m);
		if (common < 0)
			return 1;
		if (common) {
			err = ipc_recv(vm.port, vm.reply, &m);
			continue;
		}
		if (MSG_LABEL(m.info) == LABEL_NOTIFY) {
			if (m.w[0] & TIMER_BIT)
				devices_timer();
			interrupt_guest();
			if (vm.stopped) {
				stop_guest();
				return vm.exit_status;
			}
			err = ipc_recv(vm.port, vm.reply, &m);
			continue;
		}
		if (MSG_LABEL(m.info) != LABEL_FAULT || m.badge != TRAP_BADGE || vm.stopped) {
			err = ipc_recv(vm.port, vm.reply, &m);
			continue;
		}
		enum trap_action a = guest_fault(&m);
		if (vm.request == REQUEST_POWER_OFF) {
			debug_printf("vmm: %sguest powered off\n", vm_name);
			vm.stopped = 1;
			vm.exit_status = 0;
			a = TRAP_STOP;
		}
		vm.request = REQUEST_NONE;
		if (a == TRAP_STOP) {
			stop_guest();
			return vm.exit_status;
		}
		if (a == TRAP_PARK) {
			uart_flush(&vm.uart);
			tv.parked = 1;
			sys_cnode_delete(vm.parked);
			sys_cnode_move(vm.reply, CAP_ROOT_CNODE, vm.parked);
			err = ipc_recv(vm.port, vm.reply, &m);
			continue;
		}
		m.info = MSG_INFO(0, 0, 0);
		err = ipc_reply_recv(vm.reply, vm.port, vm.reply, &m);
	}
}
