/* System-call stubs: one inline function per call in <berth/syscall.h>. */
#ifndef LIBIPC_SYS_H
#define LIBIPC_SYS_H

#include <stdint.h>
#include <stddef.h>
#include <berth/syscall.h>
#include <berth/errors.h>
#include <berth/object.h>

struct sysret {
	long err;                      /* enum berth_error */
	uint64_t rdx, rsi, rdi, r8;    /* extra results, per call */
};

static inline struct sysret berth_syscall(uint64_t n, uint64_t a1, uint64_t a2, uint64_t a3,
                                          uint64_t a4, uint64_t a5, uint64_t a6)
{
	register uint64_t r10 __asm__("r10") = a4;
	register uint64_t r8 __asm__("r8") = a5;
	register uint64_t r9 __asm__("r9") = a6;
	uint64_t rax = n, rdi = a1, rsi = a2, rdx = a3;
	__asm__ volatile("syscall"
	                 : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10), "+r"(r8), "+r"(r9)
	                 :
	                 : "rcx", "r11", "memory");
	return (struct sysret){ (long)rax, rdx, rsi, rdi, r8 };
}

static inline long sys_yield(void)
{
	return berth_syscall(SYS_YIELD, 0, 0, 0, 0, 0, 0).err;
}

static inline long sys_debug_write(const char *buf, size_t len)
{
	return berth_syscall(SYS_DEBUG_WRITE, (uint64_t)buf, len, 0, 0, 0, 0).err;
}

static inline long sys_debug_exit(unsigned code)
{
	return berth_syscall(SYS_DEBUG_EXIT, code, 0, 0, 0, 0, 0).err;
}

static inline long sys_untyped_retype(uint64_t ut, unsigned type, unsigned size_bits,
                                      uint64_t offset, uint64_t dest_cnode, uint64_t dest_slot)
{
	return berth_syscall(SYS_UNTYPED_RETYPE, ut, type, size_bits, offset, dest_cnode, dest_slot).err;
}

static inline long sys_null(void)
{
	return berth_syscall(SYS_NULL, 0, 0, 0, 0, 0, 0).err;
}

static inline long sys_cnode_copy(uint64_t src, uint64_t dest_cnode, uint64_t dest, unsigned rights)
{
	return berth_syscall(SYS_CNODE_COPY, src, dest_cnode, dest, rights, 0, 0).err;
}

static inline long sys_cnode_mint(uint64_t src, uint64_t dest_cnode, uint64_t dest, unsigned rights,
                                  uint64_t badge)
{
	return berth_syscall(SYS_CNODE_MINT, src, dest_cnode, dest, rights, badge, 0).err;
}

static inline long sys_cnode_move(uint64_t src, uint64_t dest_cnode, uint64_t dest)
{
	return berth_syscall(SYS_CNODE_MOVE, src, dest_cnode, dest, 0, 0, 0).err;
}

static inline long sys_cnode_delete(uint64_t slot)
{
	return berth_syscall(SYS_CNODE_DELETE, slot, 0, 0, 0, 0, 0).err;
}

static inline long sys_cnode_revoke(uint64_t slot)
{
	return berth_syscall(SYS_CNODE_REVOKE, slot, 0, 0, 0, 0, 0).err;
}

/* cnode, vspace: 0 leaves them; fault_port: 0 means none */
static inline long sys_tcb_configure(uint64_t tcb, uint64_t cnode, uint64_t vspace, uint64_t fault_port)
{
	return berth_syscall(SYS_TCB_CONFIGURE, tcb, cnode, vspace, fault_port, 0, 0).err;
}

static inline long sys_tcb_set_ipc_buffer(uint64_t tcb, uint64_t frame, uint64_t vaddr)
{
	return berth_syscall(SYS_TCB_SET_IPC_BUFFER, tcb, frame, vaddr, 0, 0, 0).err;
}

/* The thread's FS base from now on: its thread control block (thread.c,
 * thread-local storage) instead of its IPC buffer */
static inline long sys_tcb_set_fs_base(uint64_t tcb, uint64_t base)
{
	return berth_syscall(SYS_TCB_SET_FS_BASE, tcb, base, 0, 0, 0, 0).err;
}

static inline long sys_cap_identify(uint64_t slot, unsigned *type, unsigned *rights, uint64_t *badge)
{
	struct sysret r = berth_syscall(SYS_CAP_IDENTIFY, slot, 0, 0, 0, 0, 0);
	if (!r.err) {
		*type = (unsigned)r.rdx;
		*rights = (unsigned)r.rsi;
		*badge = r.rdi;
	}
	return r.err;
}

static inline long sys_vcpu_configure(uint64_t vcpu, uint64_t guest_space, uint64_t exit_port)
{
	return berth_syscall(SYS_VCPU_CONFIGURE, vcpu, guest_space, exit_port, 0, 0, 0).err;
}

static inline long sys_vcpu_read(uint64_t vcpu, unsigned field, uint64_t *value)
{
	struct sysret r = berth_syscall(SYS_VCPU_READ, vcpu, field, 0, 0, 0, 0);
	if (!r.err)
		*value = r.rdx;
	return r.err;
}

static inline long sys_vcpu_write(uint64_t vcpu, unsigned field, uint64_t value)
{
	return berth_syscall(SYS_VCPU_WRITE, vcpu, field, value, 0, 0, 0).err;
}

/* intercept 0 passes the ports through and needs an I/O-port capability covering them */
static inline long sys_vcpu_io_intercept(uint64_t vcpu, unsigned first, unsigned last, int intercept,
                                         uint64_t ioport)
{
	return berth_syscall(SYS_VCPU_IO_INTERCEPT, vcpu, first, last, (uint64_t)intercept, ioport, 0).err;
}

static inline long sys_vcpu_msr_intercept(uint64_t vcpu, uint64_t msr, int intercept)
{
	return berth_syscall(SYS_VCPU_MSR_INTERCEPT, vcpu, msr, (uint64_t)intercept, 0, 0, 0).err;
}

static inline long sys_notify_after(uint64_t port, uint64_t bits, uint64_t ticks)
{
	return berth_syscall(SYS_NOTIFY_AFTER, port, bits, ticks, 0, 0, 0).err;
}

static inline long sys_notify(uint64_t port, uint64_t bits)
{
	return berth_syscall(SYS_NOTIFY, port, bits, 0, 0, 0, 0).err;
}

static inline long sys_port_nosenders(uint64_t port, uint64_t bits)
{
	return berth_syscall(SYS_PORT_NOSENDERS, port, bits, 0, 0, 0, 0).err;
}

static inline long sys_irq_get(uint64_t control, unsigned line, uint64_t dest_cnode, uint64_t dest)
{
	return berth_syscall(SYS_IRQ_GET, control, line, dest_cnode, dest, 0, 0).err;
}

static inline long sys_irq_bind(uint64_t handler, uint64_t port, uint64_t bits)
{
	return berth_syscall(SYS_IRQ_BIND, handler, port, bits, 0, 0, 0).err;
}

static inline long sys_irq_ack(uint64_t handler)
{
	return berth_syscall(SYS_IRQ_ACK, handler, 0, 0, 0, 0, 0).err;
}

/* One more handler of a (shared) line, a child of handler. */
static inline long sys_irq_share(uint64_t handler, uint64_t dest_cnode, uint64_t dest)
{
	return berth_syscall(SYS_IRQ_SHARE, handler, dest_cnode, dest, 0, 0, 0).err;
}

static inline long sys_ioport_issue(uint64_t control, unsigned first, unsigned last,
                                    uint64_t dest_cnode, uint64_t dest)
{
	return berth_syscall(SYS_IOPORT_ISSUE, control, first, last, dest_cnode, dest, 0).err;
}

static inline long sys_ioport_in(uint64_t cap, unsigned port, unsigned size, uint64_t *value)
{
	struct sysret r = berth_syscall(SYS_IOPORT_IN, cap, port, size, 0, 0, 0);
	if (!r.err)
		*value = r.rdx;
	return r.err;
}

static inline long sys_ioport_out(uint64_t cap, unsigned port, unsigned size, uint64_t value)
{
	return berth_syscall(SYS_IOPORT_OUT, cap, port, size, value, 0, 0).err;
}

static inline long sys_tcb_set_regs(uint64_t tcb, uint64_t rip, uint64_t rsp, uint64_t arg)
{
	return berth_syscall(SYS_TCB_SET_REGS, tcb, rip, rsp, arg, 0, 0).err;
}

static inline long sys_tcb_set_priority(uint64_t tcb, unsigned prio, unsigned max_prio)
{
	return berth_syscall(SYS_TCB_SET_PRIORITY, tcb, prio, max_prio, 0, 0, 0).err;
}

static inline long sys_tcb_set_flags(uint64_t tcb, uint64_t flags)
{
	return berth_syscall(SYS_TCB_SET_FLAGS, tcb, flags, 0, 0, 0, 0).err;
}

static inline long sys_tcb_resume(uint64_t tcb)
{
	return berth_syscall(SYS_TCB_RESUME, tcb, 0, 0, 0, 0, 0).err;
}

static inline long sys_tcb_suspend(uint64_t tcb)
{
	return berth_syscall(SYS_TCB_SUSPEND, tcb, 0, 0, 0, 0, 0).err;
}

struct thread_info {
	unsigned state;          /* enum berth_thread_state */
	unsigned fault_vector;
	uint64_t fault_addr, fault_rip, fault_error;
	unsigned priority;       /* where it is scheduled now (SYS_TCB_SET_PRIORITY) */
	unsigned ready_ticks;    /* ready to run without running for this many timer ticks
	                          * (100 a second): 0 unless ready; tells a starved thread
	                          * from one that runs between two looks */
};

static inline long sys_tcb_info(uint64_t tcb, struct thread_info *info)
{
	struct sysret r = berth_syscall(SYS_TCB_INFO, tcb, 0, 0, 0, 0, 0);
	if (!r.err)
		*info = (struct thread_info){ (unsigned)(r.rdx & 0xff), (unsigned)((r.rdx >> 8) & 0xffffff),
		                              r.rsi, r.rdi, r.r8, (unsigned)((r.rdx >> 32) & 0xff),
		                              (unsigned)(r.rdx >> 40) };
	return r.err;
}

/* On E_MISSING_TABLE, *level says which table is missing (3 PDPT, 2 PD, 1 PT). */
static inline long sys_page_map(uint64_t frame, uint64_t vspace, uint64_t vaddr, unsigned rights,
                                uint64_t *level)
{
	struct sysret r = berth_syscall(SYS_PAGE_MAP, frame, vspace, vaddr, rights, 0, 0);
	if (level)
		*level = r.rdx;
	return r.err;
}

static inline long sys_page_table_map(uint64_t pt, uint64_t vspace, uint64_t vaddr)
{
	return berth_syscall(SYS_PAGE_TABLE_MAP, pt, vspace, vaddr, 0, 0, 0).err;
}

static inline long sys_page_unmap(uint64_t frame)
{
	return berth_syscall(SYS_PAGE_UNMAP, frame, 0, 0, 0, 0, 0).err;
}

/* The physical address of a frame, for DMA (RIGHT_PHYS). */
static inline long sys_frame_phys(uint64_t frame, uint64_t *paddr)
{
	struct sysret r = berth_syscall(SYS_FRAME_PHYS, frame, 0, 0, 0, 0, 0);
	if (!r.err)
		*paddr = r.rdx;
	return r.err;
}

/* A kernel counter (enum kernel_counter): events since boot. */
static inline long sys_kernel_counter(unsigned counter, uint64_t *value)
{
	struct sysret r = berth_syscall(SYS_KERNEL_COUNTER, counter, 0, 0, 0, 0, 0);
	if (!r.err)
		*value = r.rdx;
	return r.err;
}

/* The kernel's console output (docs/console.md): com1 is an I/O-port
 * capability covering COM1's registers.  Bind: from now on the kernel keeps
 * its output for us and posts bits on port when some came (port 0: back to
 * writing it to COM1 itself). */
static inline long sys_log_bind(uint64_t com1, uint64_t port, uint64_t bits)
{
	return berth_syscall(SYS_LOG, com1, LOG_BIND, port, bits, 0, 0).err;
}

/* Take up to 24 bytes of the kernel's output into buf (24 bytes long):
 * *n of them; E_WOULD_BLOCK when none wait. */
static inline long sys_log_read(uint64_t com1, char *buf, unsigned *n)
{
	struct sysret r = berth_syscall(SYS_LOG, com1, LOG_READ, 0, 0, 0, 0);
	if (r.err)
		return r.err;
	uint64_t w[3] = { r.rsi, r.rdi, r.r8 };
	*n = (unsigned)(r.rdx & 0xffffffff);
	__builtin_memcpy(buf, w, *n);
	return E_OK;
}

/* Message tracing (docs/trace.md): ctl is a TRACE_CONTROL capability. */
struct trace_entry {
	uint64_t tsc;
	uint32_t from, to;       /* thread ids; 0: the kernel (interrupts, timers) */
	uint64_t label;          /* the message's label, notify bits, or exit code */
	unsigned kind, fast;     /* enum trace_kind; moved by a fast path */
	uint32_t lost, left;     /* records lost before this one; records still in the ring */
};

/* Trace thread tcb's messages (on 1) or stop (0); *id gets its thread id. */
static inline long sys_trace_thread(uint64_t ctl, uint64_t tcb, unsigned on, uint64_t *id)
{
	struct sysret r = berth_syscall(SYS_TRACE, ctl, TRACE_THREAD, tcb, on, 0, 0);
	if (!r.err && id)
		*id = r.rdx;
	return r.err;
}

/* The oldest record, taken out of the ring; E_WOULD_BLOCK when it is empty. */
static inline long sys_trace_read(uint64_t ctl, struct trace_entry *e)
{
	struct sysret r = berth_syscall(SYS_TRACE, ctl, TRACE_READ, 0, 0, 0, 0);
	if (r.err)
		return r.err;
	e->tsc = r.rdx;
	e->from = (uint32_t)r.rsi;
	e->to = (uint32_t)(r.rsi >> 32);
	e->label = r.rdi & 0xffffffffffffUL;
	e->kind = (unsigned)(r.rdi >> 48) & 0xff;
	e->fast = (unsigned)(r.rdi >> 56) & TRACE_FAST;
	e->lost = (uint32_t)r.r8;
	e->left = (uint32_t)(r.r8 >> 32);
	return 0;
}

static inline long sys_trace_clear(uint64_t ctl)
{
	return berth_syscall(SYS_TRACE, ctl, TRACE_CLEAR, 0, 0, 0, 0).err;
}

/* Shadow page tables (SYS_SHADOW, docs/vmm.md "Shadow paging"). */
/* Take write access to guest RAM away (allow 0) or give it back (allow 1)
 * for pages [gpa, gpa + pages * 4 KiB) of a GuestSpace (SYS_GUEST_PROTECT);
 * *changed (may be 0): how many mappings changed. */
static inline long sys_guest_protect(uint64_t guest_space, uint64_t gpa, uint64_t pages, int allow,
                                     uint64_t *changed)
{
	struct sysret r = berth_syscall(SYS_GUEST_PROTECT, guest_space, gpa, pages, (uint64_t)allow, 0, 0);
	if (changed)
		*changed = r.rdx;
	return r.err;
}

static inline long sys_shadow_bind(uint64_t shadow, uint64_t guest_space)
{
	return berth_syscall(SYS_SHADOW, shadow, SHADOW_BIND, guest_space, 0, 0, 0).err;
}

/* Map guest-virtual gva to what guest-physical gpa is in the bound
 * GuestSpace; *left (may be 0): pool pages still free. */
static inline long sys_shadow_map(uint64_t shadow, uint64_t gva, uint64_t gpa, unsigned flags, uint64_t *left)
{
	struct sysret r = berth_syscall(SYS_SHADOW, shadow, SHADOW_MAP, gva, gpa, flags, 0);
	if (left)
		*left = r.rdx;
	return r.err;
}

static inline long sys_shadow_unmap(uint64_t shadow, uint64_t gva)
{
	return berth_syscall(SYS_SHADOW, shadow, SHADOW_UNMAP, gva, 1, 0, 0).err;
}

/* The entry of `level` (2: a 2 MiB region, 3: 1 GiB, 4: 512 GiB) over gva. */
static inline long sys_shadow_unmap_level(uint64_t shadow, uint64_t gva, unsigned level)
{
	return berth_syscall(SYS_SHADOW, shadow, SHADOW_UNMAP, gva, level, 0, 0).err;
}

/* The VCPU (already on a ShadowSpace of the same guest) runs on this one. */
static inline long sys_shadow_run(uint64_t shadow, uint64_t vcpu)
{
	return berth_syscall(SYS_SHADOW, shadow, SHADOW_RUN, vcpu, 0, 0, 0).err;
}

static inline long sys_shadow_flush(uint64_t shadow)
{
	return berth_syscall(SYS_SHADOW, shadow, SHADOW_FLUSH, 0, 0, 0, 0).err;
}

/* Only the entries below 2^47 (a guest's CR3 write, its global pages kept). */
static inline long sys_shadow_flush_lower(uint64_t shadow)
{
	return berth_syscall(SYS_SHADOW, shadow, SHADOW_FLUSH, 1, 0, 0, 0).err;
}

/* Keep only these rights on an Untyped capability, in place. */
static inline long sys_cap_restrict(uint64_t slot, unsigned rights)
{
	return berth_syscall(SYS_CAP_RESTRICT, slot, rights, 0, 0, 0, 0).err;
}

#endif
