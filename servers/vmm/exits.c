/* What the VMM does for each VM exit (docs/vmm.md).  m holds the exit
 * message; handlers change its registers in place, and the reply sends
 * them back. */
#include "vm.h"
#include "decode.h"

#define W(reg) m->w[VMEXIT_W_RAX + (reg)]

/* decoder register numbers (x86 encoding order) to our field numbers */
static const unsigned x86_reg[16] = {
	VCPU_RAX, VCPU_RCX, VCPU_RDX, VCPU_RBX, VCPU_RSP, VCPU_RBP, VCPU_RSI, VCPU_RDI,
	VCPU_R8, VCPU_R9, VCPU_R10, VCPU_R11, VCPU_R12, VCPU_R13, VCPU_R14, VCPU_R15,
};

static void stop(struct msg *m, const char *why)
{
	debug_printf("vmm: guest stopped: %s at rip %lx\n", why, m->w[VMEXIT_W_RIP]);
	vm.stopped = 1;
	vm.exit_status = 2;
}

static void inject_gp(struct msg *m)
{
	m->w[VMEXIT_W_INJECT] = EVENT(13, EVENT_TYPE_EXCEPTION) | EVENT_ERROR_VALID;
}

static int long_mode(void)
{
	uint64_t attr = 0;
	sys_vcpu_read(vm.vcpu, VCPU_SEGMENT(SEG_CS, SEG_ATTRIB), &attr);
	return (attr >> 9) & 1;
}

static void exit_cpuid(struct msg *m)
{
	uint64_t a, b, c, d;
	cpuid_policy((uint32_t)W(VCPU_RAX), (uint32_t)W(VCPU_RCX), &a, &b, &c, &d);
	W(VCPU_RAX) = a;
	W(VCPU_RBX) = b;
	W(VCPU_RCX) = c;
	W(VCPU_RDX) = d;
	m->w[VMEXIT_W_RIP] += 2;
}

/* Port I/O, including INS/OUTS with or without REP. */
static void exit_io(struct msg *m)
{
	uint64_t info = m->w[VMEXIT_W_INFO1];
	unsigned port = (unsigned)(info >> 16), in = info & 1, string = (info >> 2) & 1, rep = (info >> 3) & 1;
	unsigned size = (info & (1u << 4)) ? 1 : (info & (1u << 5)) ? 2 : 4;
	uint32_t value;
	if (!string) {
		value = (uint32_t)W(VCPU_RAX);
		io_access(port, size, (int)in, &value);
		if (in) {
			uint64_t keep = size == 4 ? (long_mode() ? 0 : W(VCPU_RAX) & ~0xffffffffUL)
			                          : W(VCPU_RAX) & ~((1UL << (8 * size)) - 1);
			W(VCPU_RAX) = keep | (value & (size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1));
		}
		m->w[VMEXIT_W_RIP] = m->w[VMEXIT_W_INFO2];
		return;
	}
	int64_t step = (m->w[VMEXIT_W_RFLAGS] & (1UL << 10)) ? -(int64_t)size : (int64_t)size;
	uint64_t count = rep ? W(VCPU_RCX) : 1, done = 0;
	unsigned addr_reg = in ? VCPU_RDI : VCPU_RSI;
	for (; done < count && done < 65536; done++) {
		uint64_t gpa;
		value = 0;
		if (gva_to_gpa(W(addr_reg), &gpa)) {
			inject_gp(m);
			return;
		}
		if (in) {
			io_access(port, size, 1, &value);
			guest_write(gpa, &value, size);
		} else {
			guest_read(gpa, &value, size);
			io_access(port, size, 0, &value);
		}
		W(addr_reg) += (uint64_t)step;
	}
	if (rep)
		W(VCPU_RCX) -= done;
	if (!rep || W(VCPU_RCX) == 0) /* else the instruction runs on */
		m->w[VMEXIT_W_RIP] = m->w[VMEXIT_W_INFO2];
}

static void exit_msr(struct msg *m)
{
	uint64_t msr = (uint32_t)W(VCPU_RCX), write = m->w[VMEXIT_W_INFO1] & 1, v = 0;
	uint64_t value = (W(VCPU_RDX) << 32) | (uint32_t)W(VCPU_RAX);
	switch (msr) {
	case 0xc0000080: /* EFER: the VMCB holds it; SVME is ours */
		if (write && (value & ~0xd01UL)) /* SCE, LME, LMA, NXE only */
			goto fault;
		if (write)
			sys_vcpu_write(vm.vcpu, VCPU_EFER, value | (1UL << 12));
		sys_vcpu_read(vm.vcpu, VCPU_EFER, &v);
		v &= ~(1UL << 12);
		break;
	case 0x277: /* PAT */
		if (write)
			sys_vcpu_write(vm.vcpu, VCPU_G_PAT, value);
		sys_vcpu_read(vm.vcpu, VCPU_G_PAT, &v);
		break;
	case 0x10: { /* TSC */
		uint32_t lo, hi;
		__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
		v = ((uint64_t)hi << 32) | lo;
		if (write)
			goto fault;
		break;
	}
	case 0x1a0: /* MISC_ENABLE: fast strings */
		v = 1;
		break;
	case 0xfe: /* MTRRcap: none */
		v = 0;
		break;
	default:
		goto fault;
	}
	if (!write) {
		W(VCPU_RAX) = (uint32_t)v;
		W(VCPU_RDX) = v >> 32;
	}
	m->w[VMEXIT_W_RIP] += 2;
	return;
fault:
	inject_gp(m);
}

/* The hypercall interface (docs/vmm.md): rax = call, rbx, rcx arguments,
 * result in rax. */
static int exit_vmmcall(struct msg *m)
{
	uint64_t call = W(VCPU_RAX), a = W(VCPU_RBX), b = W(VCPU_RCX);
	m->w[VMEXIT_W_RIP] += 3;
	switch (call) {
	case 0: /* version */
		W(VCPU_RAX) = 1;
		return 1;
	case 1: { /* print rcx bytes at guest-virtual rbx */
		char buf[256];
		uint64_t gpa;
		if (b > sizeof(buf) || gva_to_gpa(a, &gpa) || guest_read(gpa, buf, b)) {
			W(VCPU_RAX) = (uint64_t)-1;
			return 1;
		}
		console_out((const uint8_t *)buf, b);
		W(VCPU_RAX) = 0;
		return 1;
	}
	case 2: /* exit with status rbx */
		uart_flush(&vm.uart);
		debug_printf("vmm: guest exited with status %ld\n", (long)a);
		vm.stopped = 1;
		vm.exit_status = a ? 1 : 0;
		return 0;
	default:
		W(VCPU_RAX) = (uint64_t)-1;
		return 1;
	}
}

/* An access to guest-physical memory that is not RAM: MMIO.  Decode the
 * instruction (no decode assists under QEMU) and emulate it. */
static void exit_npf(struct msg *m)
{
	uint64_t gpa = m->w[VMEXIT_W_INFO2], rip = m->w[VMEXIT_W_RIP], cr0 = 0, attr = 0;
	uint8_t bytes[15];
	size_t n = 0;
	/* the instruction's bytes: one translation per page they lie on */
	while (n < sizeof(bytes)) {
		uint64_t p, chunk = PAGE_SIZE - ((rip + n) & (PAGE_SIZE - 1));
		if (chunk > sizeof(bytes) - n)
			chunk = sizeof(bytes) - n;
		if (gva_to_gpa(rip + n, &p) || guest_read(p, &bytes[n], chunk))
			break;
		n += chunk;
	}
	sys_vcpu_read(vm.vcpu, VCPU_CR0, &cr0);
	sys_vcpu_read(vm.vcpu, VCPU_SEGMENT(SEG_CS, SEG_ATTRIB), &attr);
	enum cpu_mode mode = !(cr0 & 1) ? MODE_REAL16 : (attr & (1u << 9)) ? MODE_LONG64
	                   : (attr & (1u << 10)) ? MODE_PROT32 : MODE_PROT16;
	struct mmio_insn in;
	if (mmio_decode(bytes, n, mode, &in) < 0) {
		stop(m, "an MMIO access by an instruction the VMM cannot emulate");
		return;
	}
	/* AH..BH are bytes 1 of RAX..RBX */
	uint64_t *reg = &W(x86_reg[in.high_byte ? in.reg - 4 : in.reg]);
	if (in.kind == MMIO_LOAD) {
		uint64_t data = 0;
		mmio_access(gpa, in.size, 1, &data);
		*reg = mmio_load_result(&in, *reg, data);
	} else {
		uint64_t data = mmio_store_value(&in, *reg);
		mmio_access(gpa, in.size, 0, &data);
	}
	m->w[VMEXIT_W_RIP] += in.length;
}

/* MOV to DR0-DR3 or DR7 (DR5 is DR7 while CR4.DE is clear): the kernel
 * always intercepts them (docs/vmm.md, "The platform's flaws"), so the
 * VMM does the write into the VCPU's fields.  The form is 0F 23 /r after
 * optional prefixes (which change nothing) and REX; there are no decode
 * assists. */
static void exit_write_dr(struct msg *m)
{
	uint64_t rip = m->w[VMEXIT_W_RIP], p, cr4 = 0;
	uint8_t b[15] = { 0 };
	for (unsigned i = 0; i < sizeof(b); i++)
		if (gva_to_gpa(rip + i, &p) || guest_read(p, &b[i], 1))
			break;
	int lm = long_mode();
	unsigned at = 0;
	while (at < 11 && (b[at] == 0x66 || b[at] == 0x67 || b[at] == 0xf0 || b[at] == 0xf2 || b[at] == 0xf3 ||
	                   b[at] == 0x26 || b[at] == 0x2e || b[at] == 0x36 || b[at] == 0x3e || b[at] == 0x64 ||
	                   b[at] == 0x65))
		at++;   /* prefixes that do not change MOV DRn */
	unsigned rex = lm && (b[at] & 0xf0) == 0x40 ? b[at] : 0;
	at += rex ? 1 : 0;
	if (b[at] != 0x0f || b[at + 1] != 0x23) {
		stop(m, "a debug-register write the VMM cannot decode");
		return;
	}
	unsigned modrm = b[at + 2], dr = (modrm >> 3) & 7, rm = (modrm & 7) | ((rex & 1) << 3);
	uint64_t v = W(x86_reg[rm]);
	if (!lm)
		v &= 0xffffffffUL;
	sys_vcpu_read(vm.vcpu, VCPU_CR4, &cr4);
	if ((rex & 4) || (dr == 5 && (cr4 & (1u << 3)))) {   /* DR8+, or DR5 with CR4.DE */
		m->w[VMEXIT_W_INJECT] = EVENT(6, EVENT_TYPE_EXCEPTION);
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
	m->w[VMEXIT_W_RIP] += at + 3;
}

/* Before resuming: an interrupt the guest can take now goes in the reply. */
void deliver_interrupt(struct msg *m)
{
	uint64_t shadow = 0;
	int vector = pic_pending();
	if (vector < 0 || m->w[VMEXIT_W_INJECT] || !(m->w[VMEXIT_W_RFLAGS] & (1UL << 9)))
		return;
	sys_vcpu_read(vm.vcpu, VCPU_INT_SHADOW, &shadow);
	if (shadow & 1)
		return;
	m->w[VMEXIT_W_INJECT] = EVENT(vector, EVENT_TYPE_INTR);
	pic_ack();
}

int handle_exit(struct msg *m)
{
	uint64_t code = m->w[VMEXIT_W_CODE];
	/* an event the exit interrupted is delivered again */
	m->w[VMEXIT_W_INJECT] = (m->w[VMEXIT_W_INTINFO] & EVENT_VALID) ? m->w[VMEXIT_W_INTINFO] : 0;
	switch (code) {
	case VMEXIT_CPUID:
		exit_cpuid(m);
		return 1;
	case VMEXIT_IOIO:
		exit_io(m);
		return 1;
	case VMEXIT_MSR:
		exit_msr(m);
		return 1;
	case VMEXIT_VMMCALL:
		return exit_vmmcall(m);
	case VMEXIT_NPF:
		exit_npf(m);
		return !vm.stopped;
	case VMEXIT_HLT:
		/* past the HLT; an STI just before it no longer holds interrupts off */
		m->w[VMEXIT_W_RIP] += 1;
		sys_vcpu_write(vm.vcpu, VCPU_INT_SHADOW, 0);
		if (pic_pending() >= 0 && (m->w[VMEXIT_W_RFLAGS] & (1UL << 9)))
			return 1;  /* deliver_interrupt puts it in the reply */
		vm.halted = 1;
		return 0;
	case VMEXIT_SHUTDOWN:
		stop(m, "shutdown (a triple fault)");
		return 0;
	case VMEXIT_INVD: /* nothing cached that the guest could lose */
		m->w[VMEXIT_W_RIP] += 2;
		return 1;
	case VMEXIT_WRITE_DR(0): case VMEXIT_WRITE_DR(1): case VMEXIT_WRITE_DR(2):
	case VMEXIT_WRITE_DR(3): case VMEXIT_WRITE_DR(5): case VMEXIT_WRITE_DR(7):
		exit_write_dr(m);
		return !vm.stopped;
	case VMEXIT_XSETBV: /* no XSAVE for guests (cpuid.c) */
		m->w[VMEXIT_W_INJECT] = EVENT(6, EVENT_TYPE_EXCEPTION);
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
