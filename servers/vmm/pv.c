/*
 * mode=pv: paravirtualization, the way Xen does it (docs/vmm.md, "How
 * mode=pv works"; the interface is pv_abi.h).  The guest kernel is built
 * for this VMM: it runs in ring 3 as an ordinary Berth thread, exactly as
 * under mode=trap (trap.c builds it), but it does not execute what ring 3
 * forbids and expect us to catch it.  It asks, by hypercalls (its SYSCALL
 * instruction, which the kernel turns into a fault message to us):
 *
 *   - its interrupt flag is a byte in a page we share (upcall_mask): cli
 *     and sti are stores, and a hypercall is needed only when an event
 *     waited while it was masked;
 *   - interrupts are events: we set a pending bit and, if the mask allows,
 *     push an interrupt frame on its stack and start it at its callback;
 *     its exceptions go to the trap table it gave us;
 *   - its page tables are read-only to it: it changes them by batches of
 *     (entry address, value) we validate (pv_mmu.c), and because we see
 *     every change we apply it at once to the address space of each
 *     top-level table (one Berth VSpace per pinned L4): no shadow to fill
 *     by faults, nothing to flush on a switch of address space;
 *   - its console is a ring of bytes in shared memory, drained on its
 *     event and on every timer tick.
 *
 * Every guest value is checked before use: hypercall arguments are read
 * through the guest's own tables (virt_access), page-table updates through
 * pv_mmu.c, the console ring's index is the guest's word against ours.
 */
#include <stdarg.h>
#include "trap.h"
#include "pv_mmu.h"
#include "pv_ring.h"

#define START_PML4 0x1000UL
#define START_L1 0x4000UL       /* then one L1 per 2 MiB of RAM */
#define START_RSP 0x80000UL
#define HOST_HZ 100             /* the kernel's timer: SYS_NOTIFY_AFTER counts its ticks */
#define CONSOLE_PORT 1
#define MAPPINGS 8192           /* (root, page) -> the frame copy mapped there; a power of two */
#define STATE_VA (TRAP_FRAMES_VA + (1UL << 30))  /* the tables below, in pages of our pool (trap.h) */
#define RFLAGS_TF 0x100UL
#define RFLAGS_USER 0xdd5UL     /* what an iret may set in the thread: CF PF AF ZF SF DF OF, TF */
#define ERROR_CODE_VECTORS ((1u << 8) | (1u << 10) | (1u << 11) | (1u << 12) | (1u << 13) | (1u << 14) | \
                            (1u << 17) | (1u << 21) | (1u << 29) | (1u << 30))

static struct {
	struct pv_mmu *mmu;
	uint64_t vspace[PV_MMU_ROOTS];     /* 0: never the base pointer yet, so not built */
	unsigned active;                   /* the root the thread runs in */
	uint64_t callback, traps[PV_TRAP_MAX];
	uint8_t virq_port[PV_VIRQ_COUNT];
	unsigned timer_ticks;              /* host ticks per timer event; 0: no timer */
	uint32_t console_cons;             /* our consumer index: the page's copy is only for the guest */
	struct pv_shared_info *shared;
	struct pv_console *console;
	int parked;                        /* in PV_HC_BLOCK: the reply waits in vm.parked */
	const char *failed;                /* a mapping we could not make: the VM stops */
	struct {
		uint64_t hypercalls_all, hypercalls[PV_HC_COUNT], unknown, refused;
		uint64_t batches, upcalls, exceptions, console_bytes, console_events, console_errors;
		uint64_t baseptr_switches, unmappable;
	} stats;
} pv;


/* --- the address spaces ---------------------------------------------------- */

/* The copy of a guest frame's capability mapped at each (root, page): a
 * frame maps once, so each mapping is a copy, deleted to unmap it.  Open
 * addressing; a deleted entry keeps its key with slot 0 so that searches
 * go past it, and is reused. */
struct mapping {
	uint64_t key;                      /* page | root; 0: never used */
	uint64_t slot;                     /* 0: deleted */
};
static struct mapping *mappings;       /* MAPPINGS of them, at STATE_VA */

static unsigned mapping_hash(uint64_t key)
{
	return (unsigned)((key * 0x9e3779b97f4a7c15ULL) >> 51) & (MAPPINGS - 1);
}

static struct mapping *mapping_find(uint64_t key, int for_insert)
{
	struct mapping *reuse = 0;
	unsigned i = mapping_hash(key);
	for (unsigned n = 0; n < MAPPINGS; n++, i = (i + 1) & (MAPPINGS - 1)) {
		struct mapping *e = &mappings[i];
		if (e->key == key && e->slot)
			return e;
		if (!e->slot && !reuse)
			reuse = e;
		if (!e->key)
			break;
	}
	return for_insert ? reuse : 0;
}

/* pv_mmu.c's callback: root's address space now maps va to pte (0: nothing). */
static void map_page(void *ctx, unsigned root, uint64_t va, uint64_t pte)
{
	(void)ctx;
	if (!pv.vspace[root])
		return; /* built from the tables when it first becomes the base pointer */
	uint64_t key = va | root;
	struct mapping *e = mapping_find(key, 0);
	if (e) {
		sys_cnode_delete(e->slot); /* the copy's deletion unmaps it */
		slot_free(e->slot);
		e->slot = 0;
	}
	if (!pte)
		return;
	if (va < USER_BASE || va >= USER_TOP) {
		pv.stats.unmappable++; /* the first and last page of the low half: a Berth thread has neither */
		return;
	}
	uint64_t gpa = pte & PV_PTE_ADDR;
	if (gpa >= vm.ram_bytes) { /* pv_mmu.c lets none through: a second line of defence before tv.frames */
		pv.failed = "a page-table entry outside guest RAM got past the validator";
		return;
	}
	uint64_t slot = slot_alloc();
	e = mapping_find(key, 1);
	if (!slot || !e) {
		if (slot)
			slot_free(slot);
		pv.failed = "out of capability slots for the guest's mappings";
		return;
	}
	unsigned rights = RIGHT_READ | (pte & PV_PTE_W ? RIGHT_WRITE : 0) | (pte & PV_PTE_NX ? 0 : RIGHT_EXEC);
	long err = sys_cnode_copy(tv.frames[gpa / PAGE_SIZE], CAP_ROOT_CNODE, slot, RIGHTS_ALL);
	err = err ? err : page_map_in(pv.vspace[root], slot, va, rights);
	if (err) {
		sys_cnode_delete(slot);
		slot_free(slot);
		pv.failed = "the kernel refused a mapping of the guest's";
		return;
	}
	*e = (struct mapping){ key, slot };
}

/* PV_MMUEXT_NEW_BASEPTR: run the thread in root's VSpace, built now from
 * the tables if this is the root's first time. */
static long switch_root(unsigned root, uint64_t gpa)
{
	tv.cpu.cr3 = gpa;
	if (root == pv.active)
		return PV_OK;
	if (!pv.vspace[root]) {
		if (object_alloc(OBJ_VSPACE, 0, &pv.vspace[root])) {
			pv.failed = "out of memory for an address space";
			return PV_E_LIMIT;
		}
		pv_mmu_replay(pv.mmu, root);
	}
	if (sys_tcb_configure(tv.tcb, tv.cnode, pv.vspace[root], tv.fault_send)) {
		pv.failed = "the kernel refused the guest's address space";
		return PV_E_LIMIT;
	}
	pv.active = root;
	pv.stats.baseptr_switches++;
	return PV_OK;
}

/* --- events ------------------------------------------------------------- */

static void event_raise(unsigned port)
{
	__atomic_or_fetch(&pv.shared->port_pending, 1ULL << port, __ATOMIC_SEQ_CST);
	pv.shared->upcall_pending = 1;
}

static int event_deliverable(void)
{
	return pv.callback && pv.shared->upcall_pending && !pv.shared->upcall_mask;
}

/* Start the guest at its callback with an interrupt frame of where it
 * was (IF set in it: events were unmasked), events masked until its iret. */
static enum trap_action upcall(struct tcb_regs *r)
{
	tv.cpu.vif = 1;
	if (trap_push_frame(r, pv.callback, PV_GUEST_CS, 0, 0))
		return trap_stop("cannot deliver an event: the stack at %lx is unusable", r->rsp);
	pv.shared->upcall_mask = 1;
	pv.stats.upcalls++;
	return TRAP_RESUME;
}

/* The console ring (pv_ring.c): what the guest wrote since we last
 * looked, to the VM's console as the UART's output goes. */
static void console_drain(void)
{
	uint8_t bytes[PV_CONSOLE_OUT_SIZE];
	uint32_t was = pv.console_cons;
	int n = pv_console_take(pv.console, &pv.console_cons, bytes);
	if (n < 0) {
		if (!pv.stats.console_errors++)
			debug_printf("vmm: %sconsole ring: the guest's index %u is %u bytes past ours in a ring of %u: "
			             "dropped\n", vm_name, pv.console_cons, pv.console_cons - was, PV_CONSOLE_OUT_SIZE);
		return;
	}
	pv.stats.console_bytes += (unsigned)n;
	if (n)
		uart_output(0, bytes, (size_t)n);
}

static void timer_arm(void)
{
	sys_notify_after(vm.port, TIMER_BIT, pv.timer_ticks);
}

/* --- hypercalls ----------------------------------------------------------- */

static int guest_read(uint64_t gva, void *buf, size_t n)
{
	struct guest_paging p = trap_paging();
	struct page_fault pf;
	return virt_access(&p, gva, buf, n, 0, &pf);
}

static int code_address(uint64_t gva)
{
	return gva >= USER_BASE && gva < USER_TOP;
}

static long set_traps(uint64_t gva, uint64_t count)
{
	struct pv_trap t[PV_TRAP_MAX];
	if (count > PV_TRAP_MAX)
		return PV_E_INVAL;
	if (guest_read(gva, t, count * sizeof(t[0])))
		return PV_E_FAULT;
	for (uint64_t i = 0; i < count; i++)
		if (t[i].vector >= PV_TRAP_MAX || (t[i].handler && !code_address(t[i].handler)))
			return PV_E_INVAL;
	for (uint64_t i = 0; i < count; i++)
		pv.traps[t[i].vector] = t[i].handler;
	return PV_OK;
}

/* PV_HC_MMU_UPDATE: the batch read from the guest a part at a time; *done
 * counts what was applied, up to the first failure. */
static long mmu_update(uint64_t gva, uint64_t count, uint64_t *done)
{
	struct pv_mmu_update part[32];
	*done = 0;
	if (count > PV_MMU_BATCH_MAX)
		return PV_E_INVAL;
	pv.stats.batches++;
	while (*done < count) {
		uint64_t n = count - *done < 32 ? count - *done : 32, applied;
		if (guest_read(gva + *done * sizeof(part[0]), part, n * sizeof(part[0])))
			return PV_E_FAULT;
		int err = pv_mmu_batch(pv.mmu, part, n, &applied);
		*done += applied;
		if (err)
			return err;
	}
	return PV_OK;
}

static long mmuext(uint64_t op, uint64_t arg)
{
	switch (op) {
	case PV_MMUEXT_PIN_L1: case PV_MMUEXT_PIN_L2: case PV_MMUEXT_PIN_L3: case PV_MMUEXT_PIN_L4:
		return pv_mmu_pin(pv.mmu, arg, (unsigned)op);
	case PV_MMUEXT_NEW_BASEPTR: {
		int root = pv_mmu_root(pv.mmu, arg);
		return root < 0 ? root : switch_root((unsigned)root, arg);
	}
	case PV_MMUEXT_INVLPG:
	case PV_MMUEXT_TLB_FLUSH:
		return PV_OK; /* every update reached the VSpaces when it was made */
	}
	return PV_E_NOSYS;
}

static long bind_virq(uint64_t virq, uint64_t port)
{
	if (virq >= PV_VIRQ_COUNT)
		return PV_E_INVAL;
	if (!port || port >= PV_PORTS || port == CONSOLE_PORT)
		return PV_E_BAD_PORT;
	pv.virq_port[virq] = (uint8_t)port;
	return PV_OK;
}

static long set_timer(uint64_t hz)
{
	if (hz > PV_TIMER_HZ_MAX)
		return PV_E_INVAL;
	pv.timer_ticks = hz ? HOST_HZ / (unsigned)hz : 0;
	timer_arm();
	return hz ? HOST_HZ / pv.timer_ticks : 0;
}

static long event_send(uint64_t port)
{
	if (port != CONSOLE_PORT)
		return PV_E_BAD_PORT; /* the console is the only port the VMM listens on */
	pv.stats.console_events++;
	console_drain();
	return PV_OK;
}

/* PV_HC_IRET: RAX, RCX, R11, then the interrupt frame, at RSP. */
static enum trap_action iret(struct tcb_regs *r)
{
	uint64_t f[8];
	if (guest_read(r->rsp, f, sizeof(f))) {
		r->rax = (uint64_t)PV_E_FAULT;
		return TRAP_RESUME;
	}
	if (!code_address(f[3]) || !code_address(f[6]))
		return trap_stop("iret to rip %lx rsp %lx: outside the low half a guest lives in", f[3], f[6]);
	r->rax = f[0];
	r->rcx = f[1];
	r->r11 = f[2];
	r->rip = f[3];
	r->rflags = (r->rflags & ~RFLAGS_USER) | (f[5] & RFLAGS_USER);
	r->rsp = f[6];
	pv.shared->upcall_mask = !(f[5] & RFLAGS_IF);
	return TRAP_RESUME;
}

static enum trap_action hypercall(struct tcb_regs *r)
{
	uint64_t nr = r->rax, done = 0;
	long ret = PV_OK;
	pv.stats.hypercalls_all++;
	if (nr < PV_HC_COUNT)
		pv.stats.hypercalls[nr]++;
	else
		pv.stats.unknown++;
	switch (nr) {
	case PV_HC_VERSION: ret = PV_ABI_VERSION; break;
	case PV_HC_EXIT:
		console_drain();
		debug_printf("vmm: %sguest exited with status %ld\n", vm_name, (long)r->rdi);
		vm.stopped = 1;
		vm.exit_status = r->rdi ? 1 : 0;
		return TRAP_STOP;
	case PV_HC_SET_TRAPS: ret = set_traps(r->rdi, r->rsi); break;
	case PV_HC_SET_CALLBACK: ret = code_address(r->rdi) ? (pv.callback = r->rdi, PV_OK) : PV_E_INVAL; break;
	case PV_HC_MMU_UPDATE:
		ret = mmu_update(r->rdi, r->rsi, &done);
		r->rdx = done;
		break;
	case PV_HC_MMUEXT: ret = mmuext(r->rdi, r->rsi); break;
	case PV_HC_EVENT_SEND: ret = event_send(r->rdi); break;
	case PV_HC_EVENT_CHECK: break; /* what is pending is delivered on the way out */
	case PV_HC_BIND_VIRQ: ret = bind_virq(r->rdi, r->rsi); break;
	case PV_HC_SET_TIMER: ret = set_timer(r->rdi); break;
	case PV_HC_BLOCK:
		r->rax = 0;
		pv.shared->upcall_mask = 0;
		return event_deliverable() ? upcall(r) : TRAP_PARK;
	case PV_HC_IRET: return iret(r);
	case PV_HC_MARK: /* port 0x519's mark (devices.c), with the hypercalls so far, this one included */
		ret = r->rdi <= 0xff ? (mark_take((uint8_t)r->rdi), PV_OK) : PV_E_INVAL;
		break;
	default: ret = PV_E_NOSYS;
	}
	if (ret < 0)
		pv.stats.refused++;
	r->rax = (uint64_t)ret;
	return TRAP_RESUME;
}

/* An exception of the guest's: to its trap table, as the processor would
 * through an IDT (events masked, as by an interrupt gate). */
static enum trap_action exception(struct tcb_regs *r, uint64_t vector, uint64_t addr, uint64_t error)
{
	if (vector >= PV_TRAP_MAX || !pv.traps[vector])
		return trap_stop("exception %lu at rip %lx (error %lx, address %lx) and no handler for it", vector, r->rip,
		                 error, addr);
	if (vector == 14)
		pv.shared->cr2 = addr;
	pv.stats.exceptions++;
	tv.cpu.vif = !pv.shared->upcall_mask;
	if (trap_push_frame(r, pv.traps[vector], PV_GUEST_CS, (ERROR_CODE_VECTORS >> vector) & 1, error))
		return trap_stop("exception %lu at rip %lx cannot be delivered: the stack at %lx is unusable", vector,
		                 r->rip, r->rsp);
	pv.shared->upcall_mask = 1;
	return TRAP_RESUME;
}

static enum trap_action guest_fault(const struct msg *m)
{
	struct tcb_regs r;
	if (sys_tcb_regs_read(tv.tcb, &r))
		return trap_stop("cannot read the guest thread's registers");
	uint64_t tf = r.rflags & RFLAGS_TF, nr = r.rax;
	enum trap_action a;
	if (m->w[0] == FAULT_VECTOR_SYSCALL) {
		a = hypercall(&r);
		/* a hypercall is one instruction of the guest's: run with TF set
		 * (the guest single-steps itself) it owes a #DB once done, as
		 * any instruction would (PV_HC_IRET's TF is its frame's) */
		if (a == TRAP_RESUME && tf && nr != PV_HC_IRET)
			a = exception(&r, 1, 0, 0);
	} else {
		a = exception(&r, m->w[0], m->w[1], m->w[3]);
	}
	if (pv.failed)
		return trap_stop("%s", pv.failed);
	if (a == TRAP_RESUME && event_deliverable())
		a = upcall(&r);
	if (a != TRAP_STOP && sys_tcb_regs_write(tv.tcb, &r))
		return trap_stop("the kernel refused the guest's registers (rip %lx rsp %lx)", r.rip, r.rsp);
	return a;
}

/* The timer's event, and the console drained, whatever the thread is
 * doing.  Parked in PV_HC_BLOCK: the upcall through the reply we kept.
 * Preempted in its own code: stopped, given the upcall, resumed.  On its
 * way to us with a hypercall or a fault (a SYSCALL's fault, once sent, is
 * past its instruction and must not be cancelled): the event waits for
 * that reply, which delivers it. */
static void timer_event(void)
{
	console_drain();
	if (pv.timer_ticks)
		timer_arm();
	if (pv.virq_port[PV_VIRQ_TIMER])
		event_raise(pv.virq_port[PV_VIRQ_TIMER]);
	if (vm.stopped || !event_deliverable())
		return;
	struct tcb_regs r;
	if (pv.parked) {
		if (sys_tcb_regs_read(tv.tcb, &r) || upcall(&r) == TRAP_STOP || sys_tcb_regs_write(tv.tcb, &r))
			return;
		pv.parked = 0;
		struct msg m = { .info = MSG_INFO(0, 0, 0) };
		ipc_reply(vm.parked, &m);
		return;
	}
	struct thread_info info;
	if (sys_tcb_info(tv.tcb, &info) || info.state != THREAD_RUNNABLE)
		return;
	if (sys_tcb_suspend(tv.tcb) || sys_tcb_regs_read(tv.tcb, &r))
		return;
	if (upcall(&r) != TRAP_STOP && !sys_tcb_regs_write(tv.tcb, &r))
		sys_tcb_resume(tv.tcb);
}

/* --- building the VM ---------------------------------------------------- */

/* The image a pv VM boots: the module named *_pv.bin (a manifest may
 * give the same guest built for every mode), or the only module. */
static const struct bootinfo_module *pv_image(const struct bootinfo *bi)
{
	for (uint32_t i = 0; i < bi->module_count; i++) {
		size_t len = strlen(bi->module[i].name);
		if (len >= 7 && !strcmp(bi->module[i].name + len - 7, "_pv.bin"))
			return &bi->module[i];
	}
	return bi->module_count == 1 ? &bi->module[0] : 0;
}

/* The start of pv_abi.h: RAM mapped 1:1 but for page 0 by tables the
 * guest may read but not write, pinned like any of its own; the shared
 * pages; the thread in the start tables' VSpace. */
static long pv_boot(const struct bootinfo_module *mod, struct tcb_regs *r)
{
	long err = trap_image_copy(mod);
	if (err)
		return err;
	uint64_t pages = vm.ram_bytes / PAGE_SIZE, l1s = (vm.ram_bytes + (2UL << 20) - 1) >> 21;
	uint64_t tables_end = START_L1 + l1s * PAGE_SIZE;
	uint64_t *pml4 = guest_ptr(START_PML4, PAGE_SIZE), *pdpt = guest_ptr(START_PML4 + 0x1000, PAGE_SIZE);
	uint64_t *pd = guest_ptr(START_PML4 + 0x2000, PAGE_SIZE), *l1 = guest_ptr(START_L1, l1s * PAGE_SIZE);
	if (!pml4 || !pdpt || !pd || !l1)
		return E_RANGE;
	pml4[0] = (START_PML4 + 0x1000) | PV_PTE_P | PV_PTE_W;
	pdpt[0] = (START_PML4 + 0x2000) | PV_PTE_P | PV_PTE_W;
	for (uint64_t i = 0; i < l1s; i++)
		pd[i] = (START_L1 + i * PAGE_SIZE) | PV_PTE_P | PV_PTE_W;
	for (uint64_t p = 1; p < pages; p++) {
		uint64_t gpa = p * PAGE_SIZE;
		int table = gpa >= START_PML4 && gpa < tables_end;
		l1[p] = gpa | PV_PTE_P | (table ? 0 : PV_PTE_W);
	}
	size_t state = MAPPINGS * sizeof(struct mapping) + sizeof(struct pv_mmu);
	for (size_t off = 0; off < state; off += PAGE_SIZE)
		if ((err = page_alloc_map(STATE_VA + off, RIGHT_READ | RIGHT_WRITE, 0)))
			return err;
	mappings = (struct mapping *)STATE_VA;
	pv.mmu = (struct pv_mmu *)(STATE_VA + MAPPINGS * sizeof(struct mapping));
	pv_mmu_init(pv.mmu, guest_ptr(0, vm.ram_bytes), vm.ram_bytes, map_page, 0);
	pv_mmu_vmm_writes(pv.mmu, PV_START_INFO_GPA);
	pv_mmu_vmm_writes(pv.mmu, PV_SHARED_INFO_GPA);
	pv_mmu_vmm_writes(pv.mmu, PV_CONSOLE_GPA);
	for (uint64_t i = 0; i < l1s; i++)
		if (pv_mmu_pin(pv.mmu, START_L1 + i * PAGE_SIZE, 1))
			return E_BAD_ARG;
	if (pv_mmu_pin(pv.mmu, START_PML4 + 0x2000, 2) || pv_mmu_pin(pv.mmu, START_PML4 + 0x1000, 3) ||
	    pv_mmu_pin(pv.mmu, START_PML4, 4))
		return E_BAD_ARG;
	pv.vspace[0] = tv.vspace;
	pv.active = 0;
	pv_mmu_replay(pv.mmu, 0);
	if (pv.failed)
		return E_SLOT_FULL;

	struct pv_start_info *si = guest_ptr(PV_START_INFO_GPA, PAGE_SIZE);
	pv.shared = guest_ptr(PV_SHARED_INFO_GPA, PAGE_SIZE);
	pv.console = guest_ptr(PV_CONSOLE_GPA, PAGE_SIZE);
	*si = (struct pv_start_info){
		.magic = PV_START_MAGIC, .version = PV_ABI_VERSION, .ram_bytes = vm.ram_bytes,
		.shared_info = PV_SHARED_INFO_GPA, .console = PV_CONSOLE_GPA, .console_port = CONSOLE_PORT,
		.boot_pml4 = START_PML4, .boot_l1 = START_L1,
	};
	pv.shared->upcall_mask = 1;
	/* CR0.WP: the frames we push on the guest's stack honour its
	 * read-only pages, so no stack pointed at a page table can make us
	 * write one behind the validator's back */
	tv.cpu = (struct soft_cpu){
		.cr0 = 0x80010033, .cr3 = START_PML4, .cr4 = 0x620, .efer = 0x500,
		.sel = { PV_GUEST_SS, PV_GUEST_CS, PV_GUEST_SS, PV_GUEST_SS, PV_GUEST_SS, PV_GUEST_SS },
	};
	*r = (struct tcb_regs){ .rip = GUEST_LOAD_GPA, .rsp = START_RSP, .rsi = PV_START_INFO_GPA, .rflags = 2 };
	return E_OK;
}

/* --- the loop -------------------------------------------------------------- */

static int stop_guest(void)
{
	sys_tcb_suspend(tv.tcb);
	console_drain();
	marks_print();
	const uint64_t *h = pv.stats.hypercalls;
	unsigned spaces = 0;
	for (unsigned i = 0; i < PV_MMU_ROOTS; i++)
		spaces += pv.vspace[i] != 0;
	debug_printf("vmm: %smode=pv: %lu hypercalls (%lu mmu_update, %lu mmuext, %lu event_check, %lu event_send, "
	             "%lu block, %lu iret, %lu other), %lu refused, %lu page-table updates in %lu batches, "
	             "%lu address-space switches, %u address spaces kept in step, %lu upcalls, %lu exceptions, "
	             "%lu console bytes in %lu events\n",
	             vm_name, pv.stats.hypercalls_all, h[PV_HC_MMU_UPDATE], h[PV_HC_MMUEXT],
	             h[PV_HC_EVENT_CHECK], h[PV_HC_EVENT_SEND], h[PV_HC_BLOCK], h[PV_HC_IRET],
	             h[PV_HC_VERSION] + h[PV_HC_EXIT] + h[PV_HC_SET_TRAPS] + h[PV_HC_SET_CALLBACK] + h[PV_HC_BIND_VIRQ] +
	                     h[PV_HC_SET_TIMER] + h[PV_HC_MARK] + pv.stats.unknown,
	             pv.stats.refused, pv.mmu->updates, pv.stats.batches, pv.stats.baseptr_switches, spaces, pv.stats.upcalls,
	             pv.stats.exceptions, pv.stats.console_bytes, pv.stats.console_events);
	return vm.exit_status;
}

int pv_main(const struct bootinfo *bi)
{
	const struct bootinfo_module *mod = pv_image(bi);
	if (!mod) {
		debug_printf("vmm: %smode=pv boots a guest built for it: give a module named *_pv.bin\n", vm_name);
		return EXIT_NO_RESTART;
	}
	int status = trap_build(bi, VMM_MODE_PV);
	if (status)
		return status;
	mark_events = &pv.stats.hypercalls_all;   /* what a mark records (devices.c) */
	mark_events_name = "hypercalls";
	struct tcb_regs r;
	long err = pv_boot(mod, &r);
	err = err ? err : sys_tcb_regs_write(tv.tcb, &r);
	if (err) {
		debug_printf("vmm: %scannot build the VM (mode=pv): error %ld\n", vm_name, err);
		return EXIT_NO_RESTART;
	}
	debug_printf("vmm: %sguest '%s' (%lu bytes) in %lu MiB, mode=pv: a paravirtualized guest kernel in ring 3\n",
	             vm_name, mod->name, (unsigned long)mod->size, vm.ram_bytes >> 20);
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
				timer_event();
			if (vm.stopped)
				return stop_guest();
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
		if (a == TRAP_STOP)
			return stop_guest();
		if (a == TRAP_PARK) {
			pv.parked = 1;
			sys_cnode_delete(vm.parked);
			sys_cnode_move(vm.reply, CAP_ROOT_CNODE, vm.parked);
			err = ipc_recv(vm.port, vm.reply, &m);
			continue;
		}
		m.info = MSG_INFO(0, 0, 0);
		err = ipc_reply_recv(vm.reply, vm.port, vm.reply, &m);
	}
}
