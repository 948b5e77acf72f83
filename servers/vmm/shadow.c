/*
 * Shadow paging (mode=shadow; docs/vmm.md, "Shadow paging"): the guest
 * runs with nested paging off on a ShadowSpace, host page tables that
 * the kernel lets us fill only with the guest's own memory (we name a
 * guest-physical page; the kernel looks it up in the GuestSpace).
 *
 * The shadow tables act as the guest's TLB, filled on demand:
 *   - #PF: walk the guest's tables (shadow_walk.c).  A fault the guest
 *     would take is reflected to it (its CR2 and error code); otherwise
 *     the page is shadowed, read-only until the guest's leaf is dirty.
 *     A guest-physical page that is no RAM is a device: the access is
 *     emulated as under nested paging (exits.c, exit_mmio).
 *   - MOV to CR3: a new address space: the shadow is flushed.
 *   - INVLPG: that page's entry goes (all of them when the page was a
 *     large guest page, which we shadowed as 4 KiB pieces).
 *   - CR0 and CR4 writes that change how the guest's tables are read
 *     (PG, WP, PGE, PAE, PSE, SMEP, SMAP) flush; PGE's toggle is how
 *     Linux flushes global pages.
 *   - MOV from CR3: the guest's CR3, which the kernel keeps for us
 *     (VCPU_CR3); the hardware's CR3 is the shadow's table.
 *   - the pool full: flush, fill again.
 * Since the shadow only ever holds what a TLB may hold and is dropped
 * where the architecture says a TLB must be, the guest's own page-table
 * writes need no tracking in this simple form (the brief's next step,
 * shadows cached per CR3 kept consistent by write-protecting the guest's
 * tables, is not done: docs/vmm.md).
 */
#include "vm.h"
#include "decode.h"
#include "shadow.h"

#define POOL_BITS 21       /* 2 MiB at most: the top table and 511 lower tables */
#define POOL_MIN_BITS 16   /* 64 KiB at least */
#define LARGE_MAX 32       /* large guest pages remembered for INVLPG */
#define REPEAT_MAX 8       /* the same fault filled this often in a row: the walk is wrong */

#define CR0_PE (1UL << 0)
#define CR0_TS (1UL << 3)
#define CR0_NW (1UL << 29)
#define CR0_CD (1UL << 30)
#define CR0_WP (1UL << 16)
#define CR0_PG (1UL << 31)
#define CR4_PSE (1UL << 4)
#define CR4_PAE (1UL << 5)
#define CR4_PGE (1UL << 7)
#define CR4_PCIDE (1UL << 17)
#define CR4_SMEP (1UL << 20)
#define CR4_SMAP (1UL << 21)
/* what the kernel lets a guest's CR4 hold, less PCIDE (PCID is hidden in this mode) */
#define CR4_ALLOWED (0x7ffUL | (1UL << 11) | (1UL << 16) | (1UL << 18) | CR4_SMEP | CR4_SMAP)
#define EFER_NXE (1UL << 11)

static struct {
	int on;
	uint64_t space;          /* the ShadowSpace */
	uint64_t guest_nxe;      /* EFER.NXE as the guest set it */
	/* the guest's CR0, CR3, CR4 and EFER (as it set it): only it changes
	 * them, through exits we handle, so they are kept here rather than
	 * read with four calls at each fault (shadow_reset reads them again) */
	uint64_t cr0, cr3, cr4, efer;
	int upper_local;         /* an upper-half entry not from a global page since the last flush */
	uint64_t filled, reflected, mmio, flushes, lower_flushes, pool_full, invlpgs, cr3_writes;
	uint64_t last_rip, last_gva;
	uint32_t last_error;
	unsigned repeats;
	uint64_t large[LARGE_MAX];   /* gva | log2(size) of large guest pages shadowed since the flush */
	unsigned nlarge;
	int large_lost;              /* more than LARGE_MAX: every INVLPG flushes */
} S;

/* Pseudo exit codes: our own events, counted among the exits (vm stats). */
enum { EV_FILL = 0x10001, EV_REFLECT, EV_MMIO, EV_FLUSH, EV_POOL_FULL, EV_FLUSH_LOWER };

int shadow_on(void)
{
	return S.on;
}

long shadow_setup(const char *args)
{
	size_t len;
	const char *mode = arg_value(args, "mode=", &len);
	if (!mode || len != 6 || strncmp(mode, "shadow", 6))
		return E_OK;
	/* an eighth of the guest's RAM, within bounds: it comes out of the
	 * same memory quota as the RAM (a 2 MiB test guest's VMM has 8 MiB) */
	unsigned bits = POOL_MIN_BITS;
	while (bits < POOL_BITS && (1UL << (bits + 1)) <= vm.ram_bytes / 8)
		bits++;
	long err = object_alloc(OBJ_SHADOW_SPACE, bits, &S.space);
	err = err ? err : sys_shadow_bind(S.space, vm.guest_space);
	if (err) {
		debug_printf("vmm: %sno shadow page tables (error %ld)\n", vm_name, err);
		return err;
	}
	S.on = 1;
	debug_printf("vmm: %sshadow paging: nested paging off, %lu KiB of shadow tables\n", vm_name,
	             (1UL << bits) >> 10);
	return E_OK;
}

uint64_t shadow_vcpu_space(void)
{
	return S.on ? S.space : vm.guest_space;
}

static void flush(void)
{
	sys_shadow_flush(S.space);
	S.upper_local = 0;
	S.nlarge = 0;
	S.large_lost = 0;
	S.repeats = 0;   /* a fault after a flush is a new one */
	S.flushes++;
	control_event(EV_FLUSH);
}

static void regs_read(void)
{
	sys_vcpu_read(vm.vcpu, VCPU_CR0, &S.cr0);
	sys_vcpu_read(vm.vcpu, VCPU_CR3, &S.cr3);
	sys_vcpu_read(vm.vcpu, VCPU_CR4, &S.cr4);
}

void shadow_reset(void)
{
	uint64_t efer = 0;
	if (!S.on)
		return;
	flush();
	sys_vcpu_read(vm.vcpu, VCPU_EFER, &efer);   /* as boot.c set it; the kernel forces NXE only at entry */
	S.guest_nxe = efer & EFER_NXE;
	S.efer = efer;
	regs_read();
}

uint64_t shadow_efer_view(uint64_t efer)
{
	return S.on ? (efer & ~EFER_NXE) | S.guest_nxe : efer;
}

void shadow_efer_written(uint64_t efer)
{
	S.efer = efer;
	if (S.on && (efer & EFER_NXE) != S.guest_nxe) {
		S.guest_nxe = efer & EFER_NXE;
		flush();   /* NX bits mean something else now */
	}
}

static void stop_vm(struct msg *m, const char *why)
{
	debug_printf("vmm: %sguest stopped: %s at rip %lx\n", vm_name, why, m->w[VMEXIT_W_RIP]);
	vm.stopped = 1;
	vm.exit_status = 2;
}

/* --- the guest's memory, for the walk --- */

static void env_read(void *ctx, uint64_t gpa, uint64_t *e)
{
	(void)ctx;
	phys_read(gpa, e, 8);
}

static void env_write(void *ctx, uint64_t gpa, uint64_t e)
{
	(void)ctx;
	phys_write(gpa, &e, 8);
}

static int env_is_ram(void *ctx, uint64_t gpa)
{
	(void)ctx;
	return gpa + 8 <= vm.ram_bytes;
}

static unsigned guest_phys_bits(void)
{
	static unsigned bits;
	if (!bits) {
		uint64_t a, b, c, d;
		cpuid_policy(0x80000008u, 0, &a, &b, &c, &d);
		bits = (a & 0xff) ? (unsigned)(a & 0xff) : 36;
	}
	return bits;
}

static void env_get(struct shadow_env *env, const struct msg *m)
{
	env->cr0 = S.cr0;
	env->cr3 = S.cr3;
	env->cr4 = S.cr4;
	env->efer = shadow_efer_view(S.efer);
	env->rflags = m->w[VMEXIT_W_RFLAGS];
	env->phys_bits = guest_phys_bits();
	env->read = env_read;
	env->write = env_write;
	env->is_ram = env_is_ram;
	env->ctx = 0;
}

/* --- page faults --- */

static size_t fetch(uint64_t rip, uint8_t b[MMIO_MAX_INSN]);

/* A software interrupt (INT3, INT n, INTO) whose delivery faulted is
 * delivered again by injecting it, and an injected one pushes the RIP it
 * is given: the exit left RIP on the instruction, so move it past, or the
 * handler would return to the INT again (and INT3's handler would not
 * know its own breakpoint). */
static void soft_int_again(struct msg *m)
{
	uint64_t ev = m->w[VMEXIT_W_INJECT];
	if (!(ev & EVENT_VALID) || ((ev >> 8) & 7) != EVENT_TYPE_SOFT_INT)
		return;
	uint8_t b[MMIO_MAX_INSN] = { 0 };
	size_t n = fetch(m->w[VMEXIT_W_RIP], b);
	if (n >= 1 && (b[0] == 0xcc || b[0] == 0xce))
		m->w[VMEXIT_W_RIP] += 1;
	else if (n >= 2 && b[0] == 0xcd)
		m->w[VMEXIT_W_RIP] += 2;
}


/* The guest's own #PF; a fault while delivering an exception is a double
 * fault, as on the processor (contributory exceptions and #PF). */
static void reflect(struct msg *m, uint64_t gva, uint32_t error)
{
	uint64_t pending = m->w[VMEXIT_W_INTINFO];
	S.reflected++;
	control_event(EV_REFLECT);
	if ((pending & EVENT_VALID) && ((pending >> 8) & 7) == EVENT_TYPE_EXCEPTION) {
		unsigned v = pending & 0xff;
		if (v == 8) {
			stop_vm(m, "a page fault while delivering a double fault (a triple fault)");
			return;
		}
		if (v == 0 || v == 14 || (v >= 10 && v <= 13)) {
			m->w[VMEXIT_W_INJECT] = EVENT(8, EVENT_TYPE_EXCEPTION) | EVENT_ERROR_VALID;
			return;
		}
	}
	sys_vcpu_write(vm.vcpu, VCPU_CR2, gva);
	m->w[VMEXIT_W_INJECT] = EVENT(14, EVENT_TYPE_EXCEPTION) | EVENT_ERROR_VALID | ((uint64_t)error << 32);
}

static void note_large(uint64_t gva, uint64_t size)
{
	uint64_t key = (gva & ~(size - 1)) | (size == (1UL << 30) ? 30 : 21);
	for (unsigned i = 0; i < S.nlarge; i++)
		if (S.large[i] == key)
			return;
	if (S.nlarge < LARGE_MAX)
		S.large[S.nlarge++] = key;
	else
		S.large_lost = 1;
}

static int in_large(uint64_t gva)
{
	for (unsigned i = 0; i < S.nlarge; i++) {
		uint64_t size = 1UL << (S.large[i] & 63);
		if ((gva & ~(size - 1)) == (S.large[i] & ~0xfffUL))
			return 1;
	}
	return S.large_lost;
}

static int on_page_fault(struct msg *m)
{
	uint64_t gva = m->w[VMEXIT_W_INFO2], rip = m->w[VMEXIT_W_RIP];
	uint32_t hw = (uint32_t)m->w[VMEXIT_W_INFO1];
	struct shadow_env env;
	struct shadow_fill f;
	env_get(&env, m);
	if (shadow_walk(&env, gva, hw & (SPF_WRITE | SPF_USER | SPF_FETCH), &f)) {
		reflect(m, gva, f.error);
		S.repeats = 0;
		return !vm.stopped;
	}
	long err = sys_shadow_map(S.space, gva & ~0xfffUL, f.gpa, f.flags, 0);
	if (err == E_LIMIT) {   /* the pool is used up: start afresh */
		S.pool_full++;
		control_event(EV_POOL_FULL);
		flush();
		err = sys_shadow_map(S.space, gva & ~0xfffUL, f.gpa, f.flags, 0);
	}
	if (err == E_NOT_MAPPED) {
		/* no RAM there: a device, emulated as a nested page fault on that
		 * guest-physical address would be (a loop on one register faults
		 * at the same place each time: no repeat) */
		S.repeats = 0;
		S.mmio++;
		control_event(EV_MMIO);
		m->w[VMEXIT_W_INFO2] = f.gpa | (gva & 0xfffUL);
		m->w[VMEXIT_W_INFO1] = (1UL << 32) | hw;
		exit_mmio(m);
		return !vm.stopped;
	}
	if (err) {
		char why[96];
		debug_snprintf(why, sizeof(why), "the kernel refused a shadow mapping of %lx (error %ld)", gva, err);
		stop_vm(m, why);
		return 0;
	}
	/* the processor faulting again where a fill should have satisfied
	 * it means the walk and the processor disagree: filling the same
	 * entry again would loop for ever */
	if (rip == S.last_rip && gva == S.last_gva && hw == S.last_error) {
		if (++S.repeats >= REPEAT_MAX) {
			char why[96];
			debug_snprintf(why, sizeof(why), "shadow paging cannot satisfy a fault at %lx (error %x)", gva, hw);
			stop_vm(m, why);
			return 0;
		}
	} else {
		S.repeats = 0;
		S.last_rip = rip;
		S.last_gva = gva;
		S.last_error = hw;
	}
	if (f.page_size > PAGE_SIZE)
		note_large(gva, f.page_size);
	if (!f.global && (gva >> 63))
		S.upper_local = 1;
	S.filled++;
	control_event(EV_FILL);
	soft_int_again(m);
	return 1;   /* the instruction runs again; an event it was delivering is delivered again */
}

/* --- control registers and INVLPG (no decode assists: we decode) --- */

static enum cpu_mode guest_mode(void)
{
	uint64_t attr = 0;
	sys_vcpu_read(vm.vcpu, VCPU_SEGMENT(SEG_CS, SEG_ATTRIB), &attr);
	return (attr & (1u << 9)) ? MODE_LONG64 : MODE_PROT32;
}

/* The instruction's bytes at rip (up to 15, each page on its own). */
static size_t fetch(uint64_t rip, uint8_t b[MMIO_MAX_INSN])
{
	struct guest_paging pg;
	struct page_fault pf;
	size_t n = 0;
	if (paging_read(&pg))
		return 0;
	while (n < MMIO_MAX_INSN) {
		size_t chunk = PAGE_SIZE - ((rip + n) & (PAGE_SIZE - 1));
		if (chunk > MMIO_MAX_INSN - n)
			chunk = MMIO_MAX_INSN - n;
		if (virt_access(&pg, rip + n, &b[n], chunk, ACCESS_FETCH, &pf))
			break;
		n += chunk;
	}
	return n;
}

static const unsigned gpr[16] = {
	VCPU_RAX, VCPU_RCX, VCPU_RDX, VCPU_RBX, VCPU_RSP, VCPU_RBP, VCPU_RSI, VCPU_RDI,
	VCPU_R8, VCPU_R9, VCPU_R10, VCPU_R11, VCPU_R12, VCPU_R13, VCPU_R14, VCPU_R15,
};
#define REG(m, n) ((m)->w[VMEXIT_W_RAX + gpr[n]])

static void gp(struct msg *m)
{
	m->w[VMEXIT_W_INJECT] = EVENT(13, EVENT_TYPE_EXCEPTION) | EVENT_ERROR_VALID;
}

static void write_cr0(struct msg *m, uint64_t v, uint64_t next)
{
	uint64_t old = 0;
	sys_vcpu_read(vm.vcpu, VCPU_CR0, &old);
	if ((v >> 32) || ((v & CR0_NW) && !(v & CR0_CD)) || ((v & CR0_PG) && !(v & CR0_PE))) {
		gp(m);
		return;
	}
	if (!(v & CR0_PG)) {
		if (guest_mode() == MODE_LONG64) {   /* as the processor refuses it in 64-bit code */
			gp(m);
			return;
		}
		stop_vm(m, "the guest turned paging off, which shadow paging cannot run");
		return;
	}
	sys_vcpu_write(vm.vcpu, VCPU_CR0, v);
	S.cr0 = v;
	if ((old ^ v) & (CR0_PG | CR0_WP | CR0_PE))
		flush();
	exit_complete(m, next);
}

static void write_cr4(struct msg *m, uint64_t v, uint64_t next)
{
	uint64_t old = 0;
	sys_vcpu_read(vm.vcpu, VCPU_CR4, &old);
	if ((v & ~CR4_ALLOWED) || !(v & CR4_PAE)) {   /* long mode needs PAE */
		gp(m);
		return;
	}
	sys_vcpu_write(vm.vcpu, VCPU_CR4, v);
	S.cr4 = v;
	if ((old ^ v) & (CR4_PSE | CR4_PAE | CR4_PGE | CR4_SMEP | CR4_SMAP))
		flush();
	exit_complete(m, next);
}

static int on_cr(struct msg *m, unsigned cr, int write)
{
	uint64_t rip = m->w[VMEXIT_W_RIP];
	uint8_t b[MMIO_MAX_INSN] = { 0 };
	enum cpu_mode mode = guest_mode();
	struct insn_prefixes pfx;
	size_t n = fetch(rip, b);
	if (!n || insn_prefixes(b, n, mode, &pfx) || (size_t)pfx.length + 2 > n || b[pfx.length] != 0x0f) {
		stop_vm(m, "a control-register access the VMM cannot read");
		return 0;
	}
	unsigned at = pfx.length, rex = pfx.rex, op = b[at + 1];
	if (op == 0x06 && cr == 0 && write) {   /* CLTS */
		uint64_t cr0 = 0;
		sys_vcpu_read(vm.vcpu, VCPU_CR0, &cr0);
		write_cr0(m, cr0 & ~CR0_TS, rip + at + 2);
		return !vm.stopped;
	}
	if (at + 3 > n) {
		stop_vm(m, "a control-register access the VMM cannot read");
		return 0;
	}
	unsigned modrm = b[at + 2], reg = ((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0), rm = (modrm & 7) | ((rex & 1) ? 8 : 0);
	uint64_t next = rip + at + 3;
	if (op == 0x01 && ((modrm >> 3) & 7) == 6 && cr == 0 && write) {   /* LMSW */
		if ((modrm >> 6) != 3) {
			stop_vm(m, "LMSW from memory, which the VMM does not emulate");
			return 0;
		}
		uint64_t cr0 = 0;
		sys_vcpu_read(vm.vcpu, VCPU_CR0, &cr0);
		/* the low four bits; PE can be set but not cleared */
		write_cr0(m, (cr0 & ~0xeUL) | (REG(m, rm) & 0xf), next);
		return !vm.stopped;
	}
	if ((op != 0x20 && op != 0x22) || reg != cr || (op == 0x22) != write) {
		stop_vm(m, "a control-register exit the instruction at RIP does not explain");
		return 0;
	}
	static const unsigned field[5] = { VCPU_CR0, 0, VCPU_CR2, VCPU_CR3, VCPU_CR4 };
	if (!write) {
		uint64_t v = 0;
		sys_vcpu_read(vm.vcpu, field[cr], &v);
		REG(m, rm) = mode == MODE_LONG64 ? v : (uint32_t)v;
		exit_complete(m, next);
		return 1;
	}
	uint64_t v = mode == MODE_LONG64 ? REG(m, rm) : (uint32_t)REG(m, rm);
	if (cr == 3) {
		if (v >> 52) {
			gp(m);
			return 1;
		}
		/* a new address space: what the shadow holds was the old one's,
		 * but for global pages, which a TLB keeps too.  Those are in the
		 * upper half (Linux's kernel); when every upper-half entry came
		 * from one, only the lower half goes */
		sys_vcpu_write(vm.vcpu, VCPU_CR3, v);
		S.cr3 = v;
		S.cr3_writes++;
		if (S.upper_local) {
			flush();
		} else {
			sys_shadow_flush_lower(S.space);
			S.repeats = 0;
			S.lower_flushes++;
			control_event(EV_FLUSH_LOWER);
		}
		exit_complete(m, next);
	} else if (cr == 0) {
		write_cr0(m, v, next);
	} else {
		write_cr4(m, v, next);
	}
	return !vm.stopped;
}

static int on_invlpg(struct msg *m)
{
	uint64_t rip = m->w[VMEXIT_W_RIP];
	uint8_t b[MMIO_MAX_INSN] = { 0 };
	enum cpu_mode mode = guest_mode();
	struct mmio_insn in;
	size_t n = fetch(rip, b);
	if (invlpg_decode(b, n, mode, &in)) {
		stop_vm(m, "an INVLPG the VMM cannot decode");
		return 0;
	}
	uint64_t regs[16], base = 0;
	for (int i = 0; i < 16; i++)
		regs[i] = REG(m, i);
	unsigned seg = in.addr.segment;
	if (mode != MODE_LONG64 || seg == SEG_OVERRIDE_FS || seg == SEG_OVERRIDE_GS)
		sys_vcpu_read(vm.vcpu, VCPU_SEGMENT(seg, SEG_BASE), &base);
	uint64_t la = base + mmio_address(&in, regs, rip + in.length);
	if (mode != MODE_LONG64)
		la &= 0xffffffffUL;
	S.invlpgs++;
	if (in_large(la))
		flush();   /* a large guest page is many 4 KiB shadow entries */
	else
		sys_shadow_unmap(S.space, la & ~0xfffUL);   /* E_NOT_MAPPED: nothing to drop */
	exit_complete(m, rip + in.length);
	return 1;
}

int shadow_exit(struct msg *m, int *reply)
{
	if (!S.on)
		return 0;
	uint64_t code = m->w[VMEXIT_W_CODE];
	if (code == VMEXIT_EXCEPTION(14))
		*reply = on_page_fault(m);
	else if (code == VMEXIT_READ_CR(3))
		*reply = on_cr(m, 3, 0);
	else if (code == VMEXIT_WRITE_CR(0) || code == VMEXIT_WRITE_CR(3) || code == VMEXIT_WRITE_CR(4))
		*reply = on_cr(m, (unsigned)(code - VMEXIT_WRITE_CR(0)), 1);
	else if (code == VMEXIT_INVLPG)
		*reply = on_invlpg(m);
	else
		return 0;
	return 1;
}

void shadow_stats_print(void)
{
	if (S.on)
		debug_printf("vmm: %sshadow paging: %lu faults filled, %lu reflected, %lu MMIO, %lu flushes, "
		             "%lu of the lower half only (%lu CR3 writes, %lu times the pool full), %lu INVLPG\n",
		             vm_name, S.filled, S.reflected, S.mmio, S.flushes, S.lower_flushes, S.cr3_writes,
		             S.pool_full, S.invlpgs);
}
