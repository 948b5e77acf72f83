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
#include "shadow_track.h"

#define POOL_BITS 21       /* 2 MiB at most: the top table and 511 lower tables */
#define POOL_MIN_BITS 16   /* 64 KiB at least */
#define LARGE_MAX 32       /* large guest pages remembered for INVLPG */
#define REPEAT_MAX 8       /* the same fault filled this often in a row: the walk is wrong */
#define WRITES_BEFORE_UNTRACK 4   /* emulated writes to a table between walks through it */
#define PINNED_MAX 16
#define CUR (S.spaces[S.cur])
#define CR3_TABLE 0x000ffffffffff000UL

#define REG(m, n) (*exit_x86_reg(m, n))

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
	/* the ShadowSpaces: with n > 1 one per recent guest CR3, kept
	 * consistent by write-protecting the guest's tables (shadow_track.h) */
	uint64_t spaces[TRACK_SHADOWS];
	unsigned n, cur;
	uint64_t tag[TRACK_SHADOWS];     /* the guest CR3 each holds (its table address) */
	uint64_t used[TRACK_SHADOWS];    /* when each last ran: LRU */
	uint64_t clock;
	struct track *track;
	uint64_t switches, misses, untracked, protected_pages, emulated;
	uint64_t untrack_rip, untrack_gpa;
	unsigned untrack_repeats;
	uint64_t pin[PINNED_MAX];    /* tables whose writes are always emulated, never untracked */
	unsigned npin;
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
enum { EV_FILL = 0x10001, EV_REFLECT, EV_MMIO, EV_FLUSH, EV_POOL_FULL, EV_FLUSH_LOWER, EV_SWITCH, EV_MISS,
       EV_PT_WRITE, EV_PROTECT, EV_PT_EMULATED };

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
	/* shadows=N (1..4, default 1): one flushed at every CR3 write, or
	 * up to four cached per guest CR3 (docs/vmm.md says why one is the
	 * default: for Linux the write faults cost what the refills saved) */
	unsigned n = arg_number(args, "shadows=", 1);
	S.n = n < 1 ? 1 : n > TRACK_SHADOWS ? TRACK_SHADOWS : n;
	if (S.n > 1) {   /* the tracking's tables, about 1.3 MiB, in a large frame */
		uint64_t f;
		if (object_alloc(OBJ_FRAME, LARGE_PAGE_BITS, &f) ||
		    page_map_with_tables(f, TRACK_VA, RIGHT_READ | RIGHT_WRITE)) {
			debug_printf("vmm: %sno room to cache shadows: one, flushed at every CR3 write\n", vm_name);
			S.n = 1;
		} else {
			_Static_assert(sizeof(struct track) <= LARGE_PAGE_SIZE, "struct track fits its frame");
			S.track = (struct track *)TRACK_VA;   /* zero, as retyped */
		}
	}
	/* a sixteenth of the guest's RAM for all of them, within bounds: it
	 * comes out of the same memory quota as the RAM (a 2 MiB test guest's
	 * VMM has 8 MiB) */
	unsigned bits = POOL_MIN_BITS;
	while (bits < POOL_BITS && (S.n << (bits + 1)) <= vm.ram_bytes / 16)
		bits++;
	long err = E_OK;
	for (unsigned k = 0; k < S.n && !err; k++) {
		err = object_alloc(OBJ_SHADOW_SPACE, bits, &S.spaces[k]);
		err = err ? err : sys_shadow_bind(S.spaces[k], vm.guest_space);
	}
	if (err) {
		debug_printf("vmm: %sno shadow page tables (error %ld)\n", vm_name, err);
		return err;
	}
	S.on = 1;
	debug_printf("vmm: %sshadow paging: nested paging off, %u shadow%s of %lu KiB%s\n", vm_name, S.n,
	             S.n > 1 ? "s" : "", (1UL << bits) >> 10,
	             S.n > 1 ? ", cached per guest CR3, the guest's tables write-protected" : "");
	return E_OK;
}

uint64_t shadow_vcpu_space(void)
{
	return S.on ? S.spaces[0] : vm.guest_space;
}

/* One shadow emptied: what the tracking says of it is stale. */
static void flush_one(unsigned k)
{
	sys_shadow_flush(S.spaces[k]);
	if (S.track)
		track_shadow_flushed(S.track, k);
	S.repeats = 0;
	S.flushes++;
	control_event(EV_FLUSH);
}

/* Every shadow emptied, the tracking forgotten. */
static void flush(void)
{
	for (unsigned k = 0; k < S.n; k++) {
		sys_shadow_flush(S.spaces[k]);
		S.tag[k] = ~0UL;
	}
	if (S.track)
		track_clear(S.track);
	S.tag[S.cur] = S.cr3 & CR3_TABLE;   /* the current one serves the guest's CR3 still */
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
	S.tag[S.cur] = S.cr3 & CR3_TABLE;
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
		uint32_t a = cpuid_policy(0x80000008u, 0)->a;
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

/* --- cached shadows: the guest's tables write-protected (shadow_track.h) --- */

/* A page becomes a tracked table: the shadow entries that map it
 * writable go.  1 if that took flushing everything. */
static int protect(uint64_t gpa)
{
	uint64_t gva[2];
	uint8_t in[2];
	int n = rmap_take(S.track, gpa, gva, in);
	if (n < 0) {
		flush();
		return 1;
	}
	for (int i = 0; i < n; i++)
		for (unsigned k = 0; k < S.n; k++)
			if (in[i] & (1u << k))
				sys_shadow_unmap(S.spaces[k], gva[i]);   /* E_NOT_MAPPED: gone already */
	if (n) {
		S.protected_pages++;
		control_event(EV_PROTECT);
	}
	return 0;
}

/* The guest writes one of its tables: untrack it and drop every shadow
 * entry derived from it (for a table of level L, the shadow's entry of
 * level L + 1 over where it was used); the guest then writes natively
 * until a walk through the page tracks it again. */
static void unprotect(uint64_t gpa)
{
	struct track_use u[TRACK_SHADOWS];
	if (!track_take(S.track, gpa, u))
		return;
	for (unsigned k = 0; k < S.n; k++) {
		if (u[k].state == USE_NONE)
			continue;
		if (u[k].state == USE_MANY || u[k].level >= 4)
			flush_one(k);
		else
			sys_shadow_unmap_level(S.spaces[k], u[k].gva_base, u[k].level + 1u);
	}
	S.untracked++;
	control_event(EV_PT_WRITE);
}

static enum cpu_mode guest_mode(void);

/* A table the code writing it is mapped through: untracking it would
 * undo itself at the next fetch, so its writes are always emulated. */
static int pinned(uint64_t gpa)
{
	for (unsigned i = 0; i < S.npin; i++)
		if (S.pin[i] == (gpa & ~0xfffUL))
			return 1;
	return 0;
}

/* The shadow entries derived from entry i of a tracked table, as used
 * in shadow k at base with the table's level: dropped. */
static void drop_entry(unsigned k, const struct track_use *u, unsigned i)
{
	if (u->state == USE_MANY) {
		flush_one(k);
		return;
	}
	uint64_t gva = u->gva_base + ((uint64_t)i << (12 + 9 * (u->level - 1)));
	if (u->level == 4 && i >= 256)
		gva |= 0xffff000000000000UL;   /* the upper half, sign-extended */
	sys_shadow_unmap_level(S.spaces[k], gva, u->level);
}

/* Entries first..last of a tracked table written: what was derived from
 * them goes (many at once: all the table gave, with one call a shadow). */
static void drop_entries(const struct track_use u[TRACK_SHADOWS], unsigned first, unsigned last)
{
	for (unsigned k = 0; k < S.n; k++) {
		if (u[k].state == USE_NONE)
			continue;
		if (last - first >= 16) {
			if (u[k].state == USE_MANY || u[k].level >= 4)
				flush_one(k);
			else
				sys_shadow_unmap_level(S.spaces[k], u[k].gva_base, u[k].level + 1u);
			continue;
		}
		for (unsigned i = first; i <= last; i++)
			drop_entry(k, &u[k], i);
	}
}

/* REP STOS into a tracked table (Linux clears a page that way), done
 * here for the part within this page: the elements written, RCX and RDI
 * moved on, what was derived from the entries dropped; the instruction
 * ends, or runs again for the rest (on the next page).  0 if it is not a
 * plain forward REP STOS of 64-bit code from exactly the faulting
 * address. */
static int emulate_rep_stos(struct msg *m, const uint8_t *b, size_t n, uint64_t gva, uint64_t gpa)
{
	struct insn_prefixes pfx;
	if (insn_prefixes(b, n, MODE_LONG64, &pfx) || pfx.length >= n || pfx.addr_size != 8)
		return 0;
	unsigned op = b[pfx.length], rep = 0, opsize = 0;
	for (unsigned i = 0; i < pfx.length; i++) {
		rep |= b[i] == 0xf3;
		opsize |= b[i] == 0x66;
	}
	if (!rep || (op != 0xaa && op != 0xab) || (m->w[VMEXIT_W_RFLAGS] & (1UL << 10)))
		return 0;
	unsigned size = op == 0xaa ? 1 : (pfx.rex & 8) ? 8 : opsize ? 2 : 4;
	uint64_t rdi = REG(m, 7), rcx = REG(m, 1), rax = REG(m, 0);
	if (rdi != gva || (rdi & (size - 1)) || !rcx)
		return 0;
	uint64_t count = (PAGE_SIZE - (gva & 0xfffUL)) / size;
	if (count > rcx)
		count = rcx;
	struct track_use u[TRACK_SHADOWS];
	if (!track_uses(S.track, gpa, u))
		return 0;
	uint8_t *p = guest_ptr(gpa | (gva & 0xfffUL), count * size);
	if (!p)
		return 0;
	for (uint64_t i = 0; i < count; i++)
		memcpy(p + i * size, &rax, size);
	drop_entries(u, (unsigned)(gva & 0xfffUL) / 8, (unsigned)((gva & 0xfffUL) + count * size - 1) / 8);
	REG(m, 7) = rdi + count * size;
	REG(m, 1) = rcx - count;
	S.emulated++;
	control_event(EV_PT_EMULATED);
	if (REG(m, 1))   /* the rest, from the next page: the instruction runs again */
		return 1;
	exit_complete(m, m->w[VMEXIT_W_RIP] + pfx.length + 1);
	return 1;
}

/* The guest's MOV to one of its tracked tables, done here: the bytes
 * written to its memory and only the shadow entries derived from the
 * entries written dropped; the table stays tracked.  (Untracking instead
 * would drop all the table gave, and when the code writing it is mapped
 * through it, the next fetch would track it again: a loop.)  0 if the
 * instruction is no plain MOV store within the page, to untrack instead. */
static int emulate_table_write(struct msg *m, uint64_t gva, uint64_t gpa)
{
	uint64_t rip = m->w[VMEXIT_W_RIP];
	uint8_t b[MMIO_MAX_INSN] = { 0 };
	struct mmio_insn in;
	if (m->w[VMEXIT_W_INTINFO] & EVENT_VALID)
		return 0;   /* a fault while delivering an event: no instruction of its own */
	/* written again and again and not walked: being filled or torn down
	 * (fork, exec, exit) rather than changed here and there; untracked,
	 * the guest writes it at full speed until it is used again */
	if (track_write(S.track, gpa) > WRITES_BEFORE_UNTRACK && !pinned(gpa))
		return 0;
	size_t n = fetch(rip, b);
	if (guest_mode() == MODE_LONG64 && emulate_rep_stos(m, b, n, gva, gpa))
		return 1;
	if (mmio_decode_again(b, n, guest_mode(), &in) || in.kind != MMIO_STORE ||
	    (gva & 0xfffUL) + in.size > PAGE_SIZE)
		return 0;
	uint64_t regs[16];
	mmio_operand_regs(&in, m, regs);
	uint64_t base = 0;
	unsigned seg = in.addr.segment;
	if (seg == SEG_OVERRIDE_FS || seg == SEG_OVERRIDE_GS)
		sys_vcpu_read(vm.vcpu, VCPU_SEGMENT(seg, SEG_BASE), &base);
	if (guest_mode() != MODE_LONG64 || base + mmio_address(&in, regs, rip + in.length) != gva)
		return 0;   /* not the access that faulted */
	uint64_t reg = in.has_imm ? 0 : REG(m, in.high_byte ? in.reg - 4 : in.reg);
	uint64_t data = mmio_store_value(&in, reg);
	struct track_use u[TRACK_SHADOWS];
	if (!track_uses(S.track, gpa, u))
		return 0;
	phys_write(gpa | (gva & 0xfffUL), &data, in.size);
	drop_entries(u, (unsigned)(gva & 0xfffUL) / 8, (unsigned)((gva & 0xfffUL) + in.size - 1) / 8);
	S.emulated++;
	control_event(EV_PT_EMULATED);
	exit_complete(m, rip + in.length);
	return 1;
}

/* Before a fill with cached shadows: the tables walked are tracked (a
 * newly tracked one loses its writable mappings); a fill of a tracked
 * table page is read-only, and the guest's write to one is emulated, or
 * untracks it.  0: go on with the fill; 1: the write was emulated; -1:
 * everything had to be flushed, the fault is simply taken again. */
static int keep_consistent(struct msg *m, struct shadow_fill *f, uint64_t gva, uint32_t hw)
{
	for (int level = 4; level >= f->leaf_level; level--) {
		int r = track_note(S.track, f->table[level - 1], (unsigned)level, S.cur, gva);
		if (r < 0) {   /* too many tables tracked: start afresh */
			flush();
			return -1;
		}
		if (r == 1 && protect(f->table[level - 1]))
			return -1;
	}
	if (track_is_table(S.track, f->gpa)) {
		if (!(hw & SPF_WRITE)) {
			f->flags &= ~SHADOW_WRITE;
		} else if (emulate_table_write(m, gva, f->gpa)) {
			S.untrack_repeats = 0;   /* progress: the loop below is one without */
			return 1;
		} else {
			/* the same instruction untracking the same table again and
			 * again with no write emulated in between: the code doing it
			 * is mapped through that table, and each fetch tracks it
			 * anew.  The table is pinned (its writes always emulated); if
			 * that cannot help, caching cannot go on: fall back to one
			 * shadow flushed at every CR3 write */
			if (m->w[VMEXIT_W_RIP] == S.untrack_rip && f->gpa == S.untrack_gpa) {
				if (++S.untrack_repeats >= REPEAT_MAX && S.npin < PINNED_MAX && !pinned(f->gpa)) {
					S.pin[S.npin++] = f->gpa & ~0xfffUL;   /* emulate its writes from now on */
					S.untrack_repeats = 0;
				} else if (S.untrack_repeats >= REPEAT_MAX) {
					debug_printf("vmm: %sshadow paging: page-table writes at %lx keep undoing the "
					             "cache: one shadow from now on\n", vm_name, S.untrack_rip);
					flush();
					S.track = 0;
					return -1;
				}
			} else {
				S.untrack_rip = m->w[VMEXIT_W_RIP];
				S.untrack_gpa = f->gpa;
				S.untrack_repeats = 0;
			}
			unprotect(f->gpa);
		}
	}
	return 0;
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
	if (S.track) {
		int r = keep_consistent(m, &f, gva, hw);
		if (r)
			return r < 0 || !vm.stopped;
	}
	long err = sys_shadow_map(CUR, gva & ~0xfffUL, f.gpa, f.flags, 0);
	if (err == E_LIMIT) {   /* the pool is used up: start afresh */
		S.pool_full++;
		control_event(EV_POOL_FULL);
		if (S.track) {   /* this shadow only; the tables it walked are tracked again */
			flush_one(S.cur);
			return 1;
		}
		flush();
		err = sys_shadow_map(CUR, gva & ~0xfffUL, f.gpa, f.flags, 0);
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
	if (S.track && (f.flags & SHADOW_WRITE))
		rmap_add(S.track, f.gpa, S.cur, gva);
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
	return paging_read(&pg) ? 0 : fetch_insn(&pg, rip, b, MMIO_MAX_INSN);
}


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

/* Cached shadows: run on the one kept for this guest CR3, or empty the
 * least recently used for it.  Its entries are as consistent as if it had
 * never stopped running: every table they came from is write-protected. */
static void switch_shadow(uint64_t tag)
{
	unsigned k = S.n;
	for (unsigned i = 0; i < S.n; i++)
		if (S.tag[i] == tag)
			k = i;
	if (k == S.n) {
		k = 0;
		for (unsigned i = 1; i < S.n; i++)
			if (S.used[i] < S.used[k])
				k = i;
		flush_one(k);
		S.tag[k] = tag;
		S.misses++;
		control_event(EV_MISS);
	} else {
		S.switches++;
		control_event(EV_SWITCH);
	}
	if (k != S.cur && sys_shadow_run(S.spaces[k], vm.vcpu) == E_OK)
		S.cur = k;
	else if (k != S.cur) {   /* not expected: stay on the current one, emptied for this CR3 */
		flush_one(S.cur);
		S.tag[S.cur] = tag;
	}
	S.used[S.cur] = ++S.clock;
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
		if (S.track) {
			switch_shadow(v & CR3_TABLE);
		} else if (S.upper_local) {
			flush();
		} else {
			sys_shadow_flush_lower(CUR);
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
	mmio_operand_regs(&in, m, regs);
	unsigned seg = in.addr.segment;
	if (mode != MODE_LONG64 || seg == SEG_OVERRIDE_FS || seg == SEG_OVERRIDE_GS)
		sys_vcpu_read(vm.vcpu, VCPU_SEGMENT(seg, SEG_BASE), &base);
	uint64_t la = base + mmio_address(&in, regs, rip + in.length);
	if (mode != MODE_LONG64)
		la &= 0xffffffffUL;
	S.invlpgs++;
	if (in_large(la) && S.track)
		flush_one(S.cur);   /* a large guest page is many 4 KiB shadow entries */
	else if (in_large(la))
		flush();
	else
		sys_shadow_unmap(CUR, la & ~0xfffUL);   /* E_NOT_MAPPED: nothing to drop */
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
		             "%lu of the lower half only (%lu CR3 writes: %lu to a cached shadow, %lu not; "
		             "%lu times a pool full), %lu INVLPG; page-table writes: %lu emulated, %lu untracking "
		             "the table; %lu pages write-protected\n",
		             vm_name, S.filled, S.reflected, S.mmio, S.flushes, S.lower_flushes, S.cr3_writes,
		             S.switches, S.misses, S.pool_full, S.invlpgs, S.emulated, S.untracked, S.protected_pages);
}
