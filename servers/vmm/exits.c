/* What the VMM does for each VM exit (docs/vmm.md).  m holds the exit
 * message; handlers change its registers in place, and the reply sends
 * them back. */
#include "vm.h"
#include "decode.h"

/* decode.c names segments in the x86 encoding order, as <berth/vcpu.h>
 * numbers the VCPU's segment fields: one can index the other */
_Static_assert((int)SEG_OVERRIDE_ES == (int)SEG_ES && (int)SEG_OVERRIDE_CS == (int)SEG_CS &&
               (int)SEG_OVERRIDE_SS == (int)SEG_SS && (int)SEG_OVERRIDE_DS == (int)SEG_DS &&
               (int)SEG_OVERRIDE_FS == (int)SEG_FS && (int)SEG_OVERRIDE_GS == (int)SEG_GS,
               "segment numbering");

#define RFLAGS_TF (1UL << 8)
#define RFLAGS_IF (1UL << 9)
#define RFLAGS_DF (1UL << 10)

/* The most a string I/O exit moves before the guest runs again (it
 * re-executes the instruction for the rest, as on hardware): a guest with
 * RCX = 2^64 - 1 costs no more per exit than one page. */
#define STRING_IO_MAX_BYTES 4096

#define W(reg) m->w[VMEXIT_W_RAX + (reg)]

/* decoder register numbers (x86 encoding order) to our field numbers */
static const unsigned x86_reg[16] = {
	VCPU_RAX, VCPU_RCX, VCPU_RDX, VCPU_RBX, VCPU_RSP, VCPU_RBP, VCPU_RSI, VCPU_RDI,
	VCPU_R8, VCPU_R9, VCPU_R10, VCPU_R11, VCPU_R12, VCPU_R13, VCPU_R14, VCPU_R15,
};

uint64_t *exit_x86_reg(struct msg *m, unsigned n)
{
	return &W(x86_reg[n & 15]);
}

void mmio_operand_regs(const struct mmio_insn *in, struct msg *m, uint64_t regs[16])
{
	if (in->addr.base != ADDR_NO_REG)
		regs[in->addr.base] = W(x86_reg[in->addr.base]);
	if (in->addr.index != ADDR_NO_REG)
		regs[in->addr.index] = W(x86_reg[in->addr.index]);
}

static void stop(struct msg *m, const char *why)
{
	debug_printf("vmm: guest stopped: %s at rip %lx\n", why, m->w[VMEXIT_W_RIP]);
	vm.stopped = 1;
	vm.exit_status = 2;
}

static void inject_exception(struct msg *m, unsigned vector)
{
	m->w[VMEXIT_W_INJECT] = EVENT(vector, EVENT_TYPE_EXCEPTION);
}

static void inject_gp(struct msg *m)
{
	m->w[VMEXIT_W_INJECT] = EVENT(13, EVENT_TYPE_EXCEPTION) | EVENT_ERROR_VALID;
}

/* A page fault: the address goes in the guest's CR2, as the processor
 * puts it there while delivering #PF. */
static void inject_pf(struct msg *m, const struct page_fault *pf)
{
	sys_vcpu_write(vm.vcpu, VCPU_CR2, pf->addr);
	m->w[VMEXIT_W_INJECT] = EVENT(14, EVENT_TYPE_EXCEPTION) | EVENT_ERROR_VALID |
	                        ((uint64_t)pf->error << 32);
}

/* The guest's instruction is done: resume after it.  With RFLAGS.TF set
 * the processor would raise a single-step #DB (DR6.BS) once the
 * instruction completes; the emulated instruction owes the guest the
 * same. */
static void complete(struct msg *m, uint64_t next_rip)
{
	m->w[VMEXIT_W_RIP] = next_rip;
	if (!(m->w[VMEXIT_W_RFLAGS] & RFLAGS_TF) || m->w[VMEXIT_W_INJECT])
		return;
	uint64_t dr6 = 0;
	sys_vcpu_read(vm.vcpu, VCPU_DR6, &dr6);
	sys_vcpu_write(vm.vcpu, VCPU_DR6, dr6 | (1UL << 14));
	inject_exception(m, 1);
}

/* --- transfer descriptors ---------------------------------------------

 * What each exit carries (docs/vmm.md, "Transfer descriptors"): the
 * registers its handler reads or writes, with RIP and RFLAGS, which
 * complete() and deliver_interrupt use after every exit.  A nested page
 * fault carries every register (the decoder names any) and the state
 * words of the mode and the page walk (exit_state).  Any other exit
 * carries everything. */
#define MTD_RIP_RFLAGS (VMEXIT_MTD_REG(VCPU_RIP) | VMEXIT_MTD_REG(VCPU_RFLAGS))

uint32_t exit_mtd(uint64_t code)
{
	switch (code) {
	case VMEXIT_CPUID:
		return MTD_RIP_RFLAGS | VMEXIT_MTD_REG(VCPU_RAX) | VMEXIT_MTD_REG(VCPU_RBX) |
		       VMEXIT_MTD_REG(VCPU_RCX) | VMEXIT_MTD_REG(VCPU_RDX);
	case VMEXIT_IOIO:   /* string I/O: RCX, RSI, RDI */
		return MTD_RIP_RFLAGS | VMEXIT_MTD_REG(VCPU_RAX) | VMEXIT_MTD_REG(VCPU_RCX) |
		       VMEXIT_MTD_REG(VCPU_RSI) | VMEXIT_MTD_REG(VCPU_RDI);
	case VMEXIT_MSR:
		return MTD_RIP_RFLAGS | VMEXIT_MTD_REG(VCPU_RAX) | VMEXIT_MTD_REG(VCPU_RCX) |
		       VMEXIT_MTD_REG(VCPU_RDX);
	case VMEXIT_NPF:
		return VMEXIT_MTD_ALL | VMEXIT_MTD_STATE;
	}
	return VMEXIT_MTD_ALL;
}

long exit_mtd_set(void)
{
	static const uint64_t codes[] = { VMEXIT_CPUID, VMEXIT_IOIO, VMEXIT_MSR, VMEXIT_NPF };
	long err = 0;
	for (unsigned i = 0; !err && i < sizeof(codes) / sizeof(codes[0]); i++)
		err = sys_vcpu_write(vm.vcpu, VCPU_MTD(codes[i]), exit_mtd(codes[i]));
	return err;
}

/* The state words of the exit being handled, when it carries them
 * (VMEXIT_MTD_STATE): read here instead of with SYS_VCPU_READ.  Only
 * while handle_exit runs; nothing it does for such an exit (a nested
 * page fault) writes those fields. */
struct exit_state exit_state;

static void exit_state_take(const struct msg *m)
{
	exit_state.valid = MSG_WORDS(m->info) == VMEXIT_STATE_WORDS;
	if (!exit_state.valid)
		return;
	exit_state.cr0 = m->w[VMEXIT_W_CR0];
	exit_state.cr3 = m->w[VMEXIT_W_CR3];
	exit_state.efer = m->w[VMEXIT_W_EFER];
	exit_state.cs_attrib = m->w[VMEXIT_W_CS_ATTRIB];
	exit_state.ss_attrib = m->w[VMEXIT_W_SS_ATTRIB];
}

static enum cpu_mode cpu_mode(void)
{
	uint64_t cr0 = exit_state.cr0, attr = exit_state.cs_attrib;
	if (!exit_state.valid) {
		sys_vcpu_read(vm.vcpu, VCPU_CR0, &cr0);
		sys_vcpu_read(vm.vcpu, VCPU_SEGMENT(SEG_CS, SEG_ATTRIB), &attr);
	}
	return !(cr0 & 1) ? MODE_REAL16 : (attr & (1u << 9)) ? MODE_LONG64
	       : (attr & (1u << 10)) ? MODE_PROT32 : MODE_PROT16;
}

/* For the instructions decoded by hand: the bytes at rip, and where the
 * opcode starts after the prefixes (none of which changes MOV DRn or LTR)
 * and REX.  Returns how many bytes were fetched (0: none could be). */
static size_t fetch_opcode(struct guest_paging *pg, uint64_t rip, uint8_t bytes[MMIO_MAX_INSN], unsigned *at,
                           unsigned *rex)
{
	struct insn_prefixes pfx = { 0 };
	*at = *rex = 0;
	size_t n = paging_read(pg) ? 0 : fetch_insn(pg, rip, bytes, MMIO_MAX_INSN);
	if (!n || insn_prefixes(bytes, n, cpu_mode(), &pfx))
		return 0;
	*at = pfx.length;
	*rex = pfx.rex;
	return n;
}

static void exit_cpuid(struct msg *m)
{
	const struct cpuid_answer *r = cpuid_policy((uint32_t)W(VCPU_RAX), (uint32_t)W(VCPU_RCX));
	W(VCPU_RAX) = r->a;
	W(VCPU_RBX) = r->b;
	W(VCPU_RCX) = r->c;
	W(VCPU_RDX) = r->d;
	complete(m, m->w[VMEXIT_W_RIP] + 2);
}

/* A register of the given address size after adding delta, as string
 * instructions update RCX, RSI and RDI: 16-bit updates keep the upper
 * bits, 32-bit ones zero them (as any 32-bit register write in 64-bit
 * mode does), 64-bit ones replace the register. */
static uint64_t address_add(uint64_t reg, uint64_t delta, unsigned addr_size)
{
	switch (addr_size) {
	case 2:
		return (reg & ~0xffffUL) | ((reg + delta) & 0xffff);
	case 4:
		return (reg + delta) & 0xffffffffUL;
	default:
		return reg + delta;
	}
}

/* INS and OUTS, with or without REP.  QEMU's exit information leaves out
 * the address size, so the VMM reads the instruction's prefixes; the
 * exit's next RIP bounds them.  Each element is translated through the
 * guest's tables on its own (an element may straddle two pages that are
 * anywhere in guest memory); a fault stops the string there with a #PF,
 * RCX/RSI/RDI telling how far it got, and RIP on the instruction, as on
 * hardware.  At most STRING_IO_MAX_BYTES move per exit, and one element
 * when single-stepping (the processor traps after each iteration). */
static void exit_string_io(struct msg *m, unsigned port, unsigned size, int in, int rep)
{
	struct guest_paging pg;
	uint8_t bytes[MMIO_MAX_INSN];
	uint64_t rip = m->w[VMEXIT_W_RIP], next = m->w[VMEXIT_W_INFO2];
	enum cpu_mode mode = cpu_mode();
	struct insn_prefixes pfx;
	if (paging_read(&pg) || next <= rip || next - rip > MMIO_MAX_INSN ||
	    fetch_insn(&pg, rip, bytes, MMIO_MAX_INSN) < next - rip ||
	    insn_prefixes(bytes, (size_t)(next - rip), mode, &pfx)) {
		stop(m, "string I/O whose instruction the VMM cannot read");
		return;
	}
	/* the segment: ES for INS, DS or the override for OUTS; in 64-bit
	 * mode only FS and GS have bases */
	unsigned seg = in ? SEG_ES : pfx.segment >= 0 ? (unsigned)pfx.segment : SEG_DS;
	uint64_t seg_base = 0;
	if (mode != MODE_LONG64 || seg == SEG_FS || seg == SEG_GS)
		sys_vcpu_read(vm.vcpu, VCPU_SEGMENT(seg, SEG_BASE), &seg_base);
	uint64_t mask = pfx.addr_size == 8 ? ~0UL : (1UL << (8 * pfx.addr_size)) - 1;
	uint64_t step = (m->w[VMEXIT_W_RFLAGS] & RFLAGS_DF) ? (uint64_t)-(int64_t)size : size;
	unsigned addr_reg = in ? VCPU_RDI : VCPU_RSI;
	uint64_t limit = (m->w[VMEXIT_W_RFLAGS] & RFLAGS_TF) ? 1 : STRING_IO_MAX_BYTES / size;
	for (uint64_t done = 0; done < limit; done++) {
		if (rep && !(W(VCPU_RCX) & mask))
			break;
		uint64_t gva = seg_base + (W(addr_reg) & mask);
		if (mode != MODE_LONG64)
			gva &= 0xffffffffUL;
		uint32_t value = 0;
		struct page_fault pf;
		if (in) {
			/* the destination must be writable before the port is read */
			uint64_t gpa;
			if (gva_translate(&pg, gva, ACCESS_WRITE, &gpa, &pf) ||
			    gva_translate(&pg, gva + size - 1, ACCESS_WRITE, &gpa, &pf)) {
				inject_pf(m, &pf);
				return;
			}
			io_access(port, size, 1, &value);
			virt_access(&pg, gva, &value, size, ACCESS_WRITE, &pf);
		} else {
			if (virt_access(&pg, gva, &value, size, 0, &pf)) {
				inject_pf(m, &pf);
				return;
			}
			io_access(port, size, 0, &value);
		}
		W(addr_reg) = address_add(W(addr_reg), step, pfx.addr_size);
		if (rep)
			W(VCPU_RCX) = address_add(W(VCPU_RCX), (uint64_t)-1, pfx.addr_size);
		if (!rep)
			break;
	}
	if (rep && (W(VCPU_RCX) & mask)) {
		/* more to do: the guest runs the instruction again (and can take
		 * an interrupt in between, as on hardware) */
		complete(m, rip);
		return;
	}
	complete(m, next);
}

/* Port I/O, including INS/OUTS with or without REP. */
static __attribute__((noinline)) void exit_io(struct msg *m)
{
	uint64_t info = m->w[VMEXIT_W_INFO1];
	unsigned port = (unsigned)(info >> 16), in = info & 1, string = (info >> 2) & 1, rep = (info >> 3) & 1;
	unsigned size = (info & (1u << 4)) ? 1 : (info & (1u << 5)) ? 2 : 4;
	if (string) {
		exit_string_io(m, port, size, (int)in, (int)rep);
		return;
	}
	uint32_t value = (uint32_t)W(VCPU_RAX);
	io_access(port, size, (int)in, &value);
	if (in) {
		uint64_t keep = size == 4 ? (cpu_mode() == MODE_LONG64 ? 0 : W(VCPU_RAX) & ~0xffffffffUL)
		                          : W(VCPU_RAX) & ~((1UL << (8 * size)) - 1);
		W(VCPU_RAX) = keep | (value & (size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1));
	}
	complete(m, m->w[VMEXIT_W_INFO2]);
}

#define EFER_SCE   (1UL << 0)
#define EFER_LME   (1UL << 8)
#define EFER_LMA   (1UL << 10)
#define EFER_NXE   (1UL << 11)
#define EFER_SVME  (1UL << 12)

/* A PAT value with a reserved memory type in any of its eight entries
 * (types 2 and 3, anything above 7) makes WRMSR raise #GP. */
static int pat_valid(uint64_t pat)
{
	for (int i = 0; i < 8; i++) {
		unsigned type = (unsigned)(pat >> (8 * i)) & 0xff;
		if (type == 2 || type == 3 || type > 7)
			return 0;
	}
	return 1;
}

/* The memory types an MTRR may hold: UC, WC, WT, WP, WB. */
static int mtrr_type_valid(uint64_t type)
{
	return type == 0 || type == 1 || type == 4 || type == 5 || type == 6;
}

/* The paravirtual clock's MSRs (pvclock.h).  Its records say the TSC
 * at VM time 0 was clock_tsc0(): the guest reads the host's TSC (plus
 * the offset a VM restored from a snapshot carries, vmtime.c), and
 * vmtime.c counts from there too.  A record
 * outside RAM is not written, as KVM does: a guest's mistake that hurts
 * only the guest. */
static void pvclock_msr_write(uint32_t msr, uint64_t value)
{
	struct pvclock *pc = &vm.pvclock;
	if (msr == MSR_KVM_SYSTEM_TIME_NEW) {
		pc->system_time_msr = value;
		uint8_t *at = guest_ptr(value & ~1UL, PVCLOCK_TIME_INFO_SIZE);
		if (!(value & 1) || !at)
			return;
		pc->version += 2;
		pvclock_time_info(at, pc->version, clock_tsc0(), 0, pvclock_scale(clock_tsc_hz()),
		                  PVCLOCK_FLAG_TSC_STABLE);
	} else {
		pc->wall_clock_msr = value;
		uint8_t *at = guest_ptr(value, PVCLOCK_WALL_CLOCK_SIZE);
		if (at)
			pvclock_wall_clock(at, 2, clock_unix_ns() - clock_ns());
	}
}

static void exit_msr(struct msg *m)
{
	uint64_t msr = (uint32_t)W(VCPU_RCX), write = m->w[VMEXIT_W_INFO1] & 1, v = 0;
	uint64_t value = (W(VCPU_RDX) << 32) | (uint32_t)W(VCPU_RAX);
	switch (msr) {
	case 0xc0000080: { /* EFER: the VMCB holds it; SVME is ours */
		uint64_t cur = 0, cr0 = 0;
		sys_vcpu_read(vm.vcpu, VCPU_EFER, &cur);
		if (write) {
			/* SVME is reserved to a guest that is not shown SVM */
			if (value & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
				goto fault;
			/* LMA is the processor's to set: writes to it are ignored */
			value = (value & ~EFER_LMA) | (cur & EFER_LMA);
			/* LME may not change while paging is on */
			sys_vcpu_read(vm.vcpu, VCPU_CR0, &cr0);
			if (((value ^ cur) & EFER_LME) && (cr0 & (1UL << 31)))
				goto fault;
			sys_vcpu_write(vm.vcpu, VCPU_EFER, value | EFER_SVME);
			shadow_efer_written(value);
			cur = value;
		}
		v = shadow_efer_view(cur) & ~EFER_SVME;
		break;
	}
	case 0x277: /* PAT */
		if (write && !pat_valid(value))
			goto fault;
		if (write)
			sys_vcpu_write(vm.vcpu, VCPU_G_PAT, value);
		sys_vcpu_read(vm.vcpu, VCPU_G_PAT, &v);
		break;
	case 0x10: { /* TSC */
		v = clock_guest_tsc();
		if (write)
			goto fault;
		break;
	}
	case 0x1a0: /* MISC_ENABLE: fast strings */
		v = 1;
		break;
	case MSR_APIC_BASE:
		if (write && lapic_base_write(&vm.lapic, value))
			goto fault;
		v = lapic_base_read(&vm.lapic);
		break;
	case MSR_TSC_DEADLINE:
		if (write) {
			lapic_deadline_write(&vm.lapic, value, clock_ns());
			timers_rearm();
		}
		v = lapic_deadline_read(&vm.lapic);
		break;
	case MSR_KVM_SYSTEM_TIME_NEW:
	case MSR_KVM_WALL_CLOCK_NEW:
		if (write)
			pvclock_msr_write((uint32_t)msr, value);
		v = msr == MSR_KVM_SYSTEM_TIME_NEW ? vm.pvclock.system_time_msr : vm.pvclock.wall_clock_msr;
		break;
	case 0xfe: /* MTRRcap: no fixed or variable ranges, no write-combining */
		v = 0;
		break;
	case 0x2ff: /* MTRRdefType: memory is write-back unless the guest says otherwise */
		if (write && (value & ~0xcffUL || !mtrr_type_valid(value & 0xff)))
			goto fault;
		if (write)
			vm.mtrr_def_type = value;
		v = vm.mtrr_def_type;
		break;
	case 0x8b: /* PATCH_LEVEL (AMD) / BIOS_SIGN_ID (Intel): no microcode update */
		break;
	case 0xc0010010: /* SYSCFG: none of the memory-type or encryption features */
		if (write)
			goto fault;
		break;
	case 0xc0010055: /* INT_PENDING_MSG: no C1E, so nothing to turn off */
	case 0xc0010015: /* HWCR: reads as all defaults; what a guest sets changes nothing here */
	case 0xc0011029: /* DE_CFG: LFENCE is dispatch-serializing (bit 1), as Linux wants to know */
		v = msr == 0xc0011029 ? 2 : 0;
		break;
	default:
		goto fault;
	}
	if (!write) {
		W(VCPU_RAX) = (uint32_t)v;
		W(VCPU_RDX) = v >> 32;
	}
	complete(m, m->w[VMEXIT_W_RIP] + 2);
	return;
fault:
	if (vm.verbose && vm.msr_reports < 16) { /* what a guest wanted and did not get */
		vm.msr_reports++;
		debug_printf("vmm: #GP for %s MSR %lx\n", write ? "WRMSR to" : "RDMSR of", msr);
	}
	inject_gp(m);
}

/* The hypercall interface (docs/vmm.md): rax = call, rbx, rcx arguments,
 * result in rax. */
static int exit_vmmcall(struct msg *m)
{
	uint64_t call = W(VCPU_RAX), a = W(VCPU_RBX), b = W(VCPU_RCX);
	switch (call) {
	case 0: /* version */
		W(VCPU_RAX) = 1;
		break;
	case 1: { /* print rcx bytes at guest-virtual rbx, each page translated on its own */
		char buf[256];
		struct guest_paging pg;
		struct page_fault pf;
		if (b > sizeof(buf) || paging_read(&pg) || virt_access(&pg, a, buf, b, 0, &pf)) {
			W(VCPU_RAX) = (uint64_t)-1;
			break;
		}
		if (!control_console_output((const uint8_t *)buf, b)) /* attached, or kept (control.c) */
			console_out((const uint8_t *)buf, b);
		W(VCPU_RAX) = 0;
		break;
	}
	case 2: /* exit with status rbx */
		uart_flush(&vm.uart);
		debug_printf("vmm: guest exited with status %ld\n", (long)a);
		vm.stopped = 1;
		vm.exit_status = a ? 1 : 0;
		return 0;
	default:
		W(VCPU_RAX) = (uint64_t)-1;
		break;
	}
	complete(m, m->w[VMEXIT_W_RIP] + 3);
	return 1;
}

/* A nested page fault: the guest's first write to a page the dirty log
 * protects (dirty.c), or it touched RAM it had given back (balloon.c), or
 * guest-physical memory that is not RAM.  For the last, three cases:
 *   - it happened while the processor delivered an event (EXITINTINFO
 *     valid): the IDT, a descriptor or the stack it pushes to is not in
 *     RAM.  The instruction at RIP did not cause it, and the VMM cannot
 *     complete a delivery through memory that does not hold the tables:
 *     the VM stops, as a real machine would end in a triple fault.
 *   - it happened on the guest's own page-table walk (EXITINFO1 bit 33)
 *     or on the data access itself (bit 32, MMIO): the VMM decodes the
 *     instruction (QEMU gives no decode assists), computes the address it
 *     meant, walks the guest's tables in software reading the entries
 *     wherever they are (unbacked memory reads as all ones, a reserved-bit
 *     fault), and either injects the #PF the processor would have raised
 *     or performs the access, piece by piece where it straddles RAM and a
 *     device. */
static __attribute__((noinline)) void exit_npf(struct msg *m)
{
	uint64_t gpa = m->w[VMEXIT_W_INFO2], info = m->w[VMEXIT_W_INFO1], rip = m->w[VMEXIT_W_RIP];
	/* a write to a page shared with a clone (ram.c): the page is copied
	 * and made ours, and the instruction runs again */
	int cow = (info & 3) == 3 ? ram_write_fault(gpa) : 0;
	if (cow < 0)
		stop(m, "it wrote to memory shared with a clone, and the page could not be copied (the line before says why)");
	if (cow)
		return;
	/* the first write to a page since the dirty log last looked:
	 * logged, made writable, and the instruction runs again */
	if (dirty_fault(gpa, info))
		return;
	if (gpa < vm.ram_bytes && !ram_backed(gpa)) {
		/* RAM the guest gave to its balloon and touched (balloon.c):
		 * borrow it again and let the access run */
		if (ram_ready(gpa, 1))
			stop(m, "it touched memory it had given back, and init would not lend it again");
		return;
	}
	if (m->w[VMEXIT_W_INTINFO] & EVENT_VALID) {
		char why[96];
		debug_snprintf(why, sizeof(why), "an event's delivery touched memory that is not RAM (%lx)", gpa);
		m->w[VMEXIT_W_INJECT] = 0;
		stop(m, why);
		return;
	}
	struct guest_paging pg;
	uint8_t bytes[MMIO_MAX_INSN] = { 0 };   /* mmio_decode_again reads all of it */
	struct mmio_insn in;
	enum cpu_mode mode = cpu_mode();
	size_t n = paging_read(&pg) ? 0 : fetch_insn(&pg, rip, bytes, MMIO_MAX_INSN);
	if (mmio_decode_again(bytes, n, mode, &in) < 0) {
		stop(m, "an MMIO access by an instruction the VMM cannot emulate");
		return;
	}
	uint64_t regs[16];
	mmio_operand_regs(&in, m, regs);
	uint64_t seg_base = 0, ea = mmio_address(&in, regs, rip + in.length);
	unsigned seg = in.addr.segment;
	if (mode != MODE_LONG64 || seg == SEG_OVERRIDE_FS || seg == SEG_OVERRIDE_GS)
		sys_vcpu_read(vm.vcpu, VCPU_SEGMENT(seg, SEG_BASE), &seg_base);
	uint64_t la = seg_base + ea;
	if (mode != MODE_LONG64)
		la &= 0xffffffffUL;
	/* the access as the processor makes it: both pages translated (a
	 * fault on either is the guest's #PF), then the bytes moved */
	unsigned access = in.kind == MMIO_STORE ? ACCESS_WRITE : 0;
	uint64_t first = PAGE_SIZE - (la & (PAGE_SIZE - 1)), gpa0, gpa1 = 0;
	struct page_fault pf;
	if (first > in.size)
		first = in.size;
	if ((info & (1UL << 32)) && first == in.size && !((gpa ^ la) & (PAGE_SIZE - 1))) {
		/* a fault on the final translation (bit 32) of an access within
		 * one page, at the offset the instruction names: the processor
		 * walked the guest's tables for it, its permissions passed (or
		 * this would be the guest's #PF), it set the entries' accessed
		 * and dirty bits (tests/guests/vmm_mmio_walk.c), and the fault
		 * names the page: a walk of ours would find the same */
		gpa0 = gpa;
	} else if (gva_translate(&pg, la, access, &gpa0, &pf) ||
	           (first < in.size && gva_translate(&pg, la + first, access, &gpa1, &pf))) {
		inject_pf(m, &pf);
		return;
	}
	/* a fault on the final access must be this access's: otherwise the
	 * instruction at RIP is not what faulted, and emulating it would be
	 * wrong (a walk fault, bit 33, is resolved by the software walk) */
	if (!(info & (1UL << 33)) && (gpa0 >> 12) != (gpa >> 12) && (first == in.size || (gpa1 >> 12) != (gpa >> 12))) {
		stop(m, "a nested page fault that the instruction at RIP does not explain");
		return;
	}
	/* AH..BH are bytes 1 of RAX..RBX */
	uint64_t *reg = &W(x86_reg[in.high_byte ? in.reg - 4 : in.reg]);
	uint64_t data = 0;
	if (in.kind == MMIO_LOAD) {
		phys_read(gpa0, &data, first);
		if (first < in.size)
			phys_read(gpa1, (uint8_t *)&data + first, in.size - first);
		*reg = mmio_load_result(&in, *reg, data);
	} else {
		data = mmio_store_value(&in, *reg);
		phys_write(gpa0, &data, first);
		if (first < in.size)
			phys_write(gpa1, (const uint8_t *)&data + first, in.size - first);
	}
	complete(m, rip + in.length);
}

/* LTR.  The kernel always intercepts it: QEMU 7.2 accepts a null
 * selector, which hardware refuses with #GP, and the emulator then dies
 * at the first interrupt through an IST gate (docs/vmm.md, the
 * platform's flaws).  So the VMM does what the processor would: check the
 * selector and the descriptor in the GDT (an available TSS, present),
 * mark it busy and load TR.  Only the register form (0F 00 /3 with
 * mod = 3), the one kernels use, is decoded; a memory operand stops the
 * VM. */
static void exit_ltr(struct msg *m)
{
	uint64_t rip = m->w[VMEXIT_W_RIP], gdt_base = 0, gdt_limit = 0;
	struct guest_paging pg;
	struct page_fault pf;
	uint8_t b[MMIO_MAX_INSN] = { 0 };
	unsigned at, rex;
	size_t n = fetch_opcode(&pg, rip, b, &at, &rex);
	int lm = cpu_mode() == MODE_LONG64;
	if (at + 3 > n || b[at] != 0x0f || b[at + 1] != 0x00 || ((b[at + 2] >> 3) & 7) != 3 || (b[at + 2] >> 6) != 3) {
		stop(m, "an LTR the VMM cannot decode (only LTR of a register is emulated)");
		return;
	}
	uint16_t sel = (uint16_t)W(x86_reg[(b[at + 2] & 7) | ((rex & 1) << 3)]);
	uint64_t err = sel & ~3u;
	sys_vcpu_read(vm.vcpu, VCPU_SEGMENT(SEG_GDTR, SEG_BASE), &gdt_base);
	sys_vcpu_read(vm.vcpu, VCPU_SEGMENT(SEG_GDTR, SEG_LIMIT), &gdt_limit);
	unsigned size = lm ? 16 : 8;
	uint8_t d[16] = { 0 };
	if (!(sel & ~7u) || (sel & 4) || (sel & ~7u) + size - 1 > gdt_limit) {
		inject_exception(m, 13);
		m->w[VMEXIT_W_INJECT] |= EVENT_ERROR_VALID | ((sel & ~7u) ? err << 32 : 0);
		return;
	}
	if (virt_access(&pg, gdt_base + (sel & ~7u), d, size, 0, &pf)) {
		inject_pf(m, &pf);
		return;
	}
	unsigned type = d[5] & 0x1f, present = d[5] & 0x80;
	/* an available TSS (type 9; 1, the 16-bit one, outside long mode), a
	 * system descriptor (S = 0); in long mode the upper half's type is 0 */
	if ((type != 9 && (lm || type != 1)) || (lm && (d[13] & 0x1f))) {
		inject_exception(m, 13);
		m->w[VMEXIT_W_INJECT] |= EVENT_ERROR_VALID | (err << 32);
		return;
	}
	if (!present) {
		inject_exception(m, 11);
		m->w[VMEXIT_W_INJECT] |= EVENT_ERROR_VALID | (err << 32);
		return;
	}
	d[5] |= 2;   /* busy */
	if (virt_access(&pg, gdt_base + (sel & ~7u) + 5, &d[5], 1, ACCESS_WRITE, &pf)) {
		inject_pf(m, &pf);
		return;
	}
	uint64_t limit = d[0] | (uint64_t)d[1] << 8 | (uint64_t)(d[6] & 0xf) << 16;
	if (d[6] & 0x80)
		limit = limit << 12 | 0xfff;
	uint64_t base = d[2] | (uint64_t)d[3] << 8 | (uint64_t)d[4] << 16 | (uint64_t)d[7] << 24;
	if (lm)
		base |= (uint64_t)(d[8] | d[9] << 8 | d[10] << 16 | (uint32_t)d[11] << 24) << 32;
	sys_vcpu_write(vm.vcpu, VCPU_SEGMENT(SEG_TR, SEG_SELECTOR), sel);
	sys_vcpu_write(vm.vcpu, VCPU_SEGMENT(SEG_TR, SEG_ATTRIB), d[5] | (uint64_t)(d[6] & 0xf0) << 4);
	sys_vcpu_write(vm.vcpu, VCPU_SEGMENT(SEG_TR, SEG_LIMIT), limit);
	sys_vcpu_write(vm.vcpu, VCPU_SEGMENT(SEG_TR, SEG_BASE), base);
	complete(m, rip + at + 3);
}

/* MOV to DR0-DR3 or DR7 (DR5 is DR7 while CR4.DE is clear): the kernel
 * always intercepts them (docs/vmm.md, "The platform's flaws"), so the
 * VMM does the write into the VCPU's fields.  The form is 0F 23 /r after
 * optional prefixes (which change nothing) and REX; there are no decode
 * assists. */
static void exit_write_dr(struct msg *m)
{
	uint64_t rip = m->w[VMEXIT_W_RIP], cr4 = 0;
	struct guest_paging pg;
	uint8_t b[MMIO_MAX_INSN] = { 0 };
	unsigned at, rex;
	size_t n = fetch_opcode(&pg, rip, b, &at, &rex);
	int lm = cpu_mode() == MODE_LONG64;
	if (at + 3 > n || b[at] != 0x0f || b[at + 1] != 0x23) {
		stop(m, "a debug-register write the VMM cannot decode");
		return;
	}
	unsigned modrm = b[at + 2], dr = (modrm >> 3) & 7, rm = (modrm & 7) | ((rex & 1) << 3);
	uint64_t v = W(x86_reg[rm]);
	if (!lm)
		v &= 0xffffffffUL;
	sys_vcpu_read(vm.vcpu, VCPU_CR4, &cr4);
	if ((rex & 4) || (dr == 5 && (cr4 & (1u << 3)))) {   /* DR8+, or DR5 with CR4.DE */
		inject_exception(m, 6);
		return;
	}
	if (dr < 4) {
		sys_vcpu_write(vm.vcpu, VCPU_DR0 + dr, v);
	} else {
		if (v >> 32) {
			inject_gp(m);
			return;
		}
		sys_vcpu_write(vm.vcpu, VCPU_DR7, (v | 0x400) & ~0xd800UL);
	}
	complete(m, rip + at + 3);
}

/* --- interrupts --------------------------------------------------------- */

/* The interrupt window: when the 8259 has an interrupt for a guest that
 * cannot take it yet (IF = 0, an interrupt shadow, another event being
 * injected, or the guest simply running), the VMM asks for an exit at the
 * moment it can: a virtual interrupt (V_IRQ) with the VINTR intercept on.
 * The exit comes instead of the delivery, and the reply to it injects the
 * vector the 8259 has then.  So an interrupt is acknowledged in the 8259
 * (IRR to ISR) only when it is injected, that is when the guest takes it,
 * and a guest that reinitialises its 8259 meanwhile never gets a stale
 * vector. */
static int window_open;
static uint64_t misc1;

void irq_window(int want)
{
	if (want == window_open)
		return;
	if (!misc1)
		sys_vcpu_read(vm.vcpu, VCPU_INTERCEPT_MISC1, &misc1);
	misc1 = want ? misc1 | SVM_MISC1_VINTR : misc1 & ~(uint64_t)SVM_MISC1_VINTR;
	sys_vcpu_write(vm.vcpu, VCPU_INTERCEPT_MISC1, misc1);
	sys_vcpu_write(vm.vcpu, VCPU_V_IRQ, want ? 0x100 : 0);
	window_open = want;
}

/* Before resuming: an interrupt the guest can take now goes in the reply;
 * one it cannot take yet opens the window. */
int irq_recheck = 1;

void deliver_interrupt(struct msg *m)
{
	/* nothing was pending and the window closed at the last look, and
	 * nothing that could change that happened since (irq_recheck) */
	if (!irq_recheck)
		return;
	uint64_t shadow = 0;
	int from_pic, vector = irq_next(&from_pic);
	if (vector >= 0 && !m->w[VMEXIT_W_INJECT] && (m->w[VMEXIT_W_RFLAGS] & RFLAGS_IF) &&
	    !sys_vcpu_read(vm.vcpu, VCPU_INT_SHADOW, &shadow) && !(shadow & 1)) {
		m->w[VMEXIT_W_INJECT] = EVENT(vector, EVENT_TYPE_INTR);
		irq_take(vector, from_pic);
		vector = irq_next(&from_pic);
	}
	irq_window(vector >= 0);
	irq_recheck = vector >= 0;
}

static int exit_dispatch(struct msg *m);

int handle_exit(struct msg *m)
{
	uint64_t code = m->w[VMEXIT_W_CODE];
	/* an event the exit interrupted is delivered again */
	m->w[VMEXIT_W_INJECT] = (m->w[VMEXIT_W_INTINFO] & EVENT_VALID) ? m->w[VMEXIT_W_INTINFO] : 0;
	/* The exits a running guest takes most, first, in a function small
	 * enough to save no registers (exit_io and exit_npf are kept out of
	 * line for that: inlined, their frames were every exit's).  None is
	 * shadow paging's, and each leaves the interrupt controllers as they
	 * were, unless a device model raised a line (irq_line) or the guest
	 * wrote the 8259 (pic_write), the local APIC or the I/O APIC
	 * (mmio_access), which set irq_recheck themselves. */
	if (code == VMEXIT_CPUID) {
		exit_cpuid(m);
		return 1;
	}
	if (code == VMEXIT_IOIO) {
		exit_io(m);
		return !vm.stopped;
	}
	if (code == VMEXIT_NPF) {
		exit_state_take(m);   /* only this exit carries them (exit_mtd) */
		exit_npf(m);
		exit_state.valid = 0;
		return !vm.stopped;
	}
	irq_recheck = 1;   /* any other exit may change them (an MSR: the APIC's base) */
	return exit_dispatch(m);
}

static int exit_dispatch(struct msg *m)
{
	uint64_t code = m->w[VMEXIT_W_CODE];
	int reply;
	if (shadow_exit(m, &reply))   /* mode=shadow: page faults, CR3, INVLPG (shadow.c) */
		return reply;
	switch (code) {
	case VMEXIT_MSR:
		exit_msr(m);
		return 1;
	case VMEXIT_VMMCALL:
		return exit_vmmcall(m);
	case VMEXIT_VINTR:
		/* the guest can take an interrupt: deliver_interrupt injects it */
		return 1;
	case VMEXIT_HLT:
		/* past the HLT; an STI just before it no longer holds interrupts off */
		m->w[VMEXIT_W_RIP] += 1;
		sys_vcpu_write(vm.vcpu, VCPU_INT_SHADOW, 0);
		if (irq_due() && (m->w[VMEXIT_W_RFLAGS] & RFLAGS_IF))
			return 1;  /* deliver_interrupt puts it in the reply */
		vm.halted = 1;
		return 0;
	case VMEXIT_SHUTDOWN:
		stop(m, "shutdown (a triple fault)");
		return 0;
	case VMEXIT_INVD: /* nothing cached that the guest could lose */
		complete(m, m->w[VMEXIT_W_RIP] + 2);
		return 1;
	case VMEXIT_WRITE_DR(0): case VMEXIT_WRITE_DR(1): case VMEXIT_WRITE_DR(2):
	case VMEXIT_WRITE_DR(3): case VMEXIT_WRITE_DR(5): case VMEXIT_WRITE_DR(7):
		exit_write_dr(m);
		return !vm.stopped;
	case VMEXIT_TR_WRITE:
		exit_ltr(m);
		return !vm.stopped;
	case VMEXIT_XSETBV: /* no XSAVE for guests (cpuid.c) */
		inject_exception(m, 6);
		return 1;
	case VMEXIT_VMRUN:
	case VMEXIT_VMLOAD:
	case VMEXIT_VMSAVE:
	case VMEXIT_STGI:
	case VMEXIT_CLGI:
	case VMEXIT_SKINIT:
	case VMEXIT_INVLPGA:
	case VMEXIT_MONITOR:
	case VMEXIT_MWAIT:
	case VMEXIT_MWAIT_CONDITIONAL:
		/* the guest is shown neither SVM nor MONITOR/MWAIT (cpuid.c): on
		 * such a processor these instructions raise #UD */
		inject_exception(m, 6);
		return 1;
	default:
		if ((uint32_t)code == (uint32_t)VMEXIT_INVALID) {
			char why[64];
			debug_snprintf(why, sizeof(why), "the kernel would not enter it (reason %lu)",
			               m->w[VMEXIT_W_INFO1]);
			stop(m, why);
		} else {
			char why[64];
			debug_snprintf(why, sizeof(why), "an unexpected exit %lx", code);
			stop(m, why);
		}
		return 0;
	}
}

/* For shadow.c: a device access found by a shadow page fault, handled
 * as the nested page fault it would be with nested paging; and the end
 * of an instruction it emulated. */
void exit_mmio(struct msg *m)
{
	exit_npf(m);
}

void exit_complete(struct msg *m, uint64_t next_rip)
{
	complete(m, next_rip);
}
