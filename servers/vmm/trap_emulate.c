/*
 * The instructions a guest kernel running in ring 3 cannot execute, done
 * for it on its soft CPU state (mode=trap and mode=patch).  A fault's
 * vector says why the processor refused:
 *   #GP (13)  cli, sti, hlt, in/out (IOPL 0), lgdt, lidt, ltr, lldt,
 *             mov to/from CRn, invlpg, a data segment load with a DPL 0
 *             selector, iretq and lretq to a ring-0 CS
 *   #UD (6)   vmmcall (the hypercall) outside SVM
 *   int3      a #GP too (Berth's IDT lets ring 3 use no INT n): in
 *             mode=patch, a pushf or popf that patch.c replaced
 *   other     an exception of the guest's own (divide error, ...): given
 *             to the guest through its IDT
 * Anything else that faults is an instruction this VMM does not emulate:
 * the VM stops with a line saying which bytes at which address.
 */
#include "trap.h"
#include "trap_decode.h"

#define CR0_PG (1UL << 31)
#define CR0_PE 1UL
#define CR4_PAE (1UL << 5)
#define RFLAGS_TF 0x100UL
#define RFLAGS_USER 0xdd5UL        /* what the guest's popf/iretq may set in the thread: CF PF AF ZF SF DF OF, TF */

static int vread(uint64_t gva, void *buf, size_t n)
{
	struct guest_paging p = trap_paging();
	struct page_fault pf;
	return virt_access(&p, gva, buf, n, 0, &pf);
}

static int vwrite(uint64_t gva, const void *buf, size_t n)
{
	struct guest_paging p = trap_paging();
	struct page_fault pf;
	return virt_access(&p, gva, (void *)(uintptr_t)buf, n, ACCESS_WRITE, &pf);
}

static void regs_array(struct tcb_regs *r, uint64_t out[16])
{
	for (unsigned i = 0; i < 16; i++)
		out[i] = *trap_gpr(r, i);
}

/* An address an instruction names cannot be reached: the guest gets the
 * #PF it would get on hardware, with CR2 (or a #GP for a stack it cannot
 * use, and the VM stops if that cannot be delivered either). */
static enum trap_action memory_fault(struct tcb_regs *r, uint64_t gva, int write)
{
	struct guest_paging p = trap_paging();
	struct page_fault pf;
	uint64_t gpa;
	tv.stats.reflected++;
	if (gva_translate(&p, gva, write ? ACCESS_WRITE : 0, &gpa, &pf) == 0)
		return trap_stop("an emulated access to %lx failed", gva);
	tv.cpu.cr2 = pf.addr;
	if (trap_deliver(r, 14, 1, pf.error))
		return trap_stop("a page fault at %lx cannot be delivered (a triple fault)", gva);
	return TRAP_RESUME;
}

static enum trap_action hypercall(struct tcb_regs *r, unsigned length)
{
	switch (r->rax) {
	case 0: /* the interface's version */
		r->rax = 1;
		break;
	case 2: /* exit with status rbx */
		uart_flush(&vm.uart);
		debug_printf("vmm: %sguest exited with status %ld\n", vm_name, (long)r->rbx);
		vm.stopped = 1;
		vm.exit_status = r->rbx ? 1 : 0;
		return TRAP_STOP;
	default:
		r->rax = (uint64_t)-1;
	}
	r->rip += length;
	return TRAP_RESUME;
}

static enum trap_action port_io(struct tcb_regs *r, const struct priv_insn *in)
{
	unsigned port = in->port_in_dx ? (unsigned)(r->rdx & 0xffff) : in->port;
	uint32_t value = in->op == PRIV_OUT ? (uint32_t)r->rax : 0;
	if (in->size < 4)
		value &= (1u << (in->size * 8)) - 1;
	io_access(port, in->size, in->op == PRIV_IN, &value);
	if (in->op == PRIV_IN) {
		if (in->size == 4)
			r->rax = value; /* a 32-bit write clears the upper half */
		else
			r->rax = (r->rax & ~((1UL << (in->size * 8)) - 1)) | value;
	}
	return TRAP_RESUME;
}

static enum trap_action control_register(struct tcb_regs *r, const struct priv_insn *in)
{
	uint64_t *reg = trap_gpr(r, in->reg);
	uint64_t *cr = in->cr == 0 ? &tv.cpu.cr0 : in->cr == 2 ? &tv.cpu.cr2 : in->cr == 3 ? &tv.cpu.cr3
	             : in->cr == 4 ? &tv.cpu.cr4 : 0;
	if (in->op == PRIV_MOV_FROM_CR) {
		*reg = cr ? *cr : 0; /* CR8, the task priority: always 0 here */
		return TRAP_RESUME;
	}
	uint64_t v = *reg;
	switch (in->cr) {
	case 0:
		if (!(v & CR0_PG) || !(v & CR0_PE))
			return trap_stop("the guest turned paging off (CR0 %lx): not emulated", v);
		tv.cpu.cr0 = v;
		shadow_flush(); /* WP may have changed what a kernel write may do */
		break;
	case 3:
		tv.cpu.cr3 = v;
		shadow_flush(); /* another address space: nothing shadowed holds */
		break;
	case 4:
		if (!(v & CR4_PAE))
			return trap_stop("the guest cleared CR4.PAE in 64-bit mode (CR4 %lx)", v);
		tv.cpu.cr4 = v;
		shadow_flush();
		break;
	case 2:
		tv.cpu.cr2 = v;
		break;
	default:
		break; /* CR8 */
	}
	return TRAP_RESUME;
}

/* iretq (or lretq) back into the guest kernel: pop what the frame holds.
 * Only a return to ring 0 is emulated: this guest has no user mode. */
static enum trap_action far_return(struct tcb_regs *r, const struct priv_insn *in)
{
	uint64_t frame[5] = { 0 };
	unsigned n = in->op == PRIV_IRET ? 5 : 2, size = in->size;
	if (size != 8)
		return trap_stop("a 32-bit %s at rip %lx: not emulated", in->op == PRIV_IRET ? "iret" : "lret", r->rip);
	if (vread(r->rsp, frame, n * 8))
		return memory_fault(r, r->rsp, 0);
	uint16_t cs = (uint16_t)frame[1];
	if ((cs & 3) != 0)
		return trap_stop("the guest returned to ring %u (cs %x): guest user mode is not emulated", cs & 3, cs);
	if (frame[0] < USER_BASE || frame[0] >= USER_TOP)
		return trap_stop("the guest returned to %lx, outside the low half", frame[0]);
	r->rip = frame[0];
	tv.cpu.sel[1] = cs;
	if (in->op == PRIV_IRET) {
		r->rflags = (r->rflags & ~RFLAGS_USER) | (frame[2] & RFLAGS_USER);
		tv.cpu.vif = (frame[2] & RFLAGS_IF) != 0;
		r->rsp = frame[3];
		tv.cpu.sel[2] = (uint16_t)frame[4];
	} else {
		r->rsp += 16;
	}
	return TRAP_RESUME;
}

/* The guest executed SYSCALL.  It cannot have set EFER.SCE (a WRMSR stops
 * the VM), so on a real processor this is #UD at the instruction, which
 * the kernel reports as the rip after its two bytes. */
enum trap_action trap_syscall(struct tcb_regs *r)
{
	uint8_t insn[2];
	if (vread(r->rip - 2, insn, 2) || insn[0] != 0x0f || insn[1] != 0x05)
		return trap_stop("a SYSCALL fault at rip %lx without a SYSCALL before it", r->rip);
	r->rip -= 2;
	tv.stats.reflected++;
	if (trap_deliver(r, 6, 0, 0))
		return trap_stop("#UD at rip %lx cannot be delivered (a triple fault)", r->rip);
	return TRAP_RESUME;
}

/* mode=patch's pushf and popf: with the guest's IF, not the thread's */
static enum trap_action flags_op(struct tcb_regs *r, unsigned op, unsigned size)
{
	tv.stats.pushf_popf++;
	if (op == PRIV_PUSHF) {
		uint64_t f = (r->rflags & ~(RFLAGS_IF | 0x3000UL)) | (tv.cpu.vif ? RFLAGS_IF : 0);
		if (vwrite(r->rsp - size, &f, size))
			return memory_fault(r, r->rsp - size, 1);
		r->rsp -= size;
	} else {
		uint64_t f = 0;
		if (vread(r->rsp, &f, size))
			return memory_fault(r, r->rsp, 0);
		r->rsp += size;
		uint64_t mask = size == 2 ? (RFLAGS_USER & 0xffff) : RFLAGS_USER;
		r->rflags = (r->rflags & ~mask) | (f & mask);
		tv.cpu.vif = (f & RFLAGS_IF) != 0;
	}
	return TRAP_RESUME;
}

static enum trap_action emulate(struct tcb_regs *r, const struct priv_insn *in)
{
	uint64_t regs[16];
	regs_array(r, regs);
	uint64_t next = r->rip + in->length, addr = in->has_mem ? priv_address(in, regs, next) : 0;
	enum trap_action a = TRAP_RESUME;
	switch (in->op) {
	case PRIV_CLI:
		tv.cpu.vif = 0;
		break;
	case PRIV_STI:
		if (!tv.cpu.vif) {
			tv.cpu.sti_shadow = 1;
			tv.cpu.sti_next = next;
		}
		tv.cpu.vif = 1;
		break;
	case PRIV_HLT:
		r->rip = next;
		if (!tv.cpu.vif)
			return trap_stop("the guest halted with interrupts off, for good (rip %lx)", next - 1);
		tv.cpu.sti_shadow = 0; /* hlt was the instruction after sti */
		return irq_due() ? TRAP_RESUME : TRAP_PARK;
	case PRIV_IN:
	case PRIV_OUT:
		a = port_io(r, in);
		break;
	case PRIV_LGDT:
	case PRIV_LIDT: {
		uint8_t d[10];
		if (vread(addr, d, 10))
			return memory_fault(r, addr, 0);
		uint16_t limit = (uint16_t)(d[0] | d[1] << 8);
		uint64_t base = 0;
		for (int i = 0; i < 8; i++)
			base |= (uint64_t)d[2 + i] << (8 * i);
		if (in->op == PRIV_LGDT) {
			tv.cpu.gdt_base = base;
			tv.cpu.gdt_limit = limit;
		} else {
			tv.cpu.idt_base = base;
			tv.cpu.idt_limit = limit;
		}
		break;
	}
	case PRIV_LTR:
	case PRIV_LLDT: {
		uint16_t sel = (uint16_t)regs[in->reg];
		if (in->has_mem && vread(addr, &sel, 2))
			return memory_fault(r, addr, 0);
		if (in->op == PRIV_LTR)
			tv.cpu.tr = sel;
		else
			tv.cpu.ldtr = sel;
		break;
	}
	case PRIV_INVLPG:
		shadow_flush_page(addr);
		break;
	case PRIV_MOV_FROM_CR:
	case PRIV_MOV_TO_CR:
		a = control_register(r, in);
		break;
	case PRIV_MOV_TO_SREG: {
		uint16_t sel = (uint16_t)regs[in->reg];
		if (in->has_mem && vread(addr, &sel, 2))
			return memory_fault(r, addr, 0);
		tv.cpu.sel[in->sreg] = sel;
		break;
	}
	case PRIV_IRET:
	case PRIV_LRET:
		tv.stats.emulated++;
		return far_return(r, in);
	case PRIV_VMMCALL:
		tv.stats.emulated++;
		return hypercall(r, in->length);
	default:
		return trap_stop("instruction not emulated at rip %lx", r->rip);
	}
	if (a == TRAP_RESUME)
		r->rip = next;
	tv.stats.emulated++;
	return a;
}

static const char *const vector_names[] = { "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "?",
	                                    "#TS", "#NP", "#SS", "#GP", "#PF", "?", "#MF", "#AC", "#MC", "#XM" };

static enum trap_action emulate_fault(struct tcb_regs *r, uint64_t vector, uint64_t error);

/* The guest's instruction, emulated, is done.  If it ran with RFLAGS.TF
 * set, the processor would now raise the single-step #DB: the emulated
 * instruction owes the guest the same (as exits.c's complete() under
 * SVM), or a guest that single-steps itself would miss every instruction
 * we emulate.  Not when the emulation delivered an exception instead
 * (reflected moved): that frame is the guest's business. */
enum trap_action trap_emulate(struct tcb_regs *r, uint64_t vector, uint64_t error)
{
	uint64_t tf = r->rflags & RFLAGS_TF, reflected = tv.stats.reflected;
	enum trap_action a = emulate_fault(r, vector, error);
	if (a != TRAP_RESUME || !tf || tv.stats.reflected != reflected || (vector != 13 && vector != 6))
		return a;
	tv.stats.reflected++;
	if (trap_deliver(r, 1, 0, 0))
		return trap_stop("#DB at rip %lx cannot be delivered (a triple fault)", r->rip);
	return TRAP_RESUME;
}

static enum trap_action emulate_fault(struct tcb_regs *r, uint64_t vector, uint64_t error)
{
	if (vector == 13 || vector == 6) {
		uint8_t bytes[15];
		size_t n = 0;
		/* fetch what can be fetched: an instruction may end before a page that is not there */
		while (n < sizeof(bytes) && !vread(r->rip + n, bytes + n, 1))
			n++;
		struct priv_insn in;
		int err = priv_decode(bytes, n, &in);
		if (!err && in.op == PRIV_INT3) {
			/* Berth's IDT gives ring 3 no INT n, so int3 is a #GP at the
			 * int3.  In mode=patch it may stand for a pushf or popf. */
			int was = tv.mode == VMM_MODE_PATCH ? patch_lookup(r->rip) : -1;
			r->rip += 1;
			if (was >= 0) {
				enum trap_action a = flags_op(r, (unsigned)was, 8);
				if (a == TRAP_RESUME)
					tv.stats.emulated++;
				return a;
			}
			tv.stats.reflected++; /* the guest's own breakpoint: a trap, RIP past it */
			if (trap_deliver(r, 3, 0, 0))
				return trap_stop("#BP at rip %lx cannot be delivered (a triple fault)", r->rip - 1);
			return TRAP_RESUME;
		}
		if (!err && in.op != PRIV_PUSHF && in.op != PRIV_POPF)
			return emulate(r, &in);
		char hex[3 * 15 + 1] = "";
		for (size_t i = 0; i < n && i < 8; i++)
			debug_snprintf(hex + 3 * i, 4, "%02x ", bytes[i]);
		return trap_stop("%s at rip %lx: cannot emulate the instruction (bytes %s)", vector == 13 ? "#GP" : "#UD",
		                 r->rip, n ? hex : "unreadable");
	}
	/* the guest's own exception: its handler's business */
	static const uint32_t with_error = (1u << 8) | (1u << 10) | (1u << 11) | (1u << 12) | (1u << 14) | (1u << 17);
	if (vector >= 32)
		return trap_stop("fault vector %lu at rip %lx", vector, r->rip);
	tv.stats.reflected++;
	if (trap_deliver(r, (unsigned)vector, (with_error >> vector) & 1, error))
		return trap_stop("%s at rip %lx cannot be delivered (a triple fault)",
		                 vector < 20 ? vector_names[vector] : "an exception", r->rip);
	return TRAP_RESUME;
}
