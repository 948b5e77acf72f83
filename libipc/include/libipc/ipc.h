/* Message passing: the IPC system calls and the IPC buffer. */
#ifndef LIBIPC_IPC_H
#define LIBIPC_IPC_H

#include <stdint.h>
#include <berth/ipc.h>
#include <berth/syscall.h>

/* A message as user code sees it: words 0..3 travel in registers, the rest
 * through the thread's IPC buffer (ipc_send copies them there). */
struct msg {
	uint64_t info;              /* MSG_INFO(label, words, caps) */
	uint64_t badge;             /* received: the sender's badge */
	uint64_t w[MSG_MAX_WORDS];
};

/* A call's status that says the other side is gone (its port died, the
 * reply right went unused, or our right to it was revoked): look the
 * service up again rather than retry the same right. */
static inline int ipc_peer_gone(long status)
{
	return status == E_DEAD_PORT || status == E_NO_REPLY || status == E_BAD_CAP;
}

/* This thread's IPC buffer (from FS base). */
static inline struct ipc_buffer *ipc_buffer(void)
{
	struct ipc_buffer *b;
	__asm__("mov %%fs:%c1, %0" : "=r"(b) : "i"(__builtin_offsetof(struct ipc_buffer, self)));
	return b;
}

/* The raw call: every IPC system call has the same register shape. */
static inline long ipc_syscall(uint64_t n, uint64_t cap, struct msg *m, uint64_t reply_slot, uint64_t port)
{
	register uint64_t r10 __asm__("r10") = m->w[1];
	register uint64_t r8 __asm__("r8") = m->w[2];
	register uint64_t r9 __asm__("r9") = m->w[3];
	register uint64_t r12 __asm__("r12") = reply_slot;
	register uint64_t r13 __asm__("r13") = port;
	uint64_t rax = n, rdi = cap, rsi = m->info, rdx = m->w[0];
	__asm__ volatile("syscall"
	                 : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10), "+r"(r8), "+r"(r9)
	                 : "r"(r12), "r"(r13)
	                 : "rcx", "r11", "memory");
	m->badge = rdi;
	m->info = rsi;
	m->w[0] = rdx;
	m->w[1] = r10;
	m->w[2] = r8;
	m->w[3] = r9;
	return (long)rax;
}

/* Long messages: words 4.. go through the IPC buffer. */
void ipc_put_words(const struct msg *m);
void ipc_get_words(struct msg *m);

/* The calls, with long messages handled.  recv and reply_recv fill *m. */
long ipc_call(uint64_t port, struct msg *m);
long ipc_send(uint64_t port, struct msg *m);
long ipc_nb_send(uint64_t port, struct msg *m);
long ipc_recv(uint64_t port, uint64_t reply_slot, struct msg *m);
long ipc_nb_recv(uint64_t port, uint64_t reply_slot, struct msg *m);
long ipc_reply(uint64_t reply, struct msg *m);
long ipc_reply_recv(uint64_t reply, uint64_t port, uint64_t reply_slot, struct msg *m);

/* Capability transfer: slots to send, slots to receive into (0: none). */
void ipc_set_send_caps(const uint64_t *slots, unsigned n);
void ipc_set_recv_slots(const uint64_t *slots, unsigned n);

/* SYS_TCB_REGS: a stopped thread's registers (<berth/syscall.h>), through
 * this thread's IPC buffer. */
static inline long sys_tcb_regs_read(uint64_t tcb, struct tcb_regs *regs)
{
	uint64_t rax = SYS_TCB_REGS, rdi = tcb, rsi = TCB_REGS_READ;
	__asm__ volatile("syscall" : "+a"(rax), "+D"(rdi), "+S"(rsi) :: "rcx", "r11", "rdx", "r8", "memory");
	if (!rax)
		__builtin_memcpy(regs, ipc_buffer()->words, sizeof(*regs));
	return (long)rax;
}

static inline long sys_tcb_regs_write(uint64_t tcb, const struct tcb_regs *regs)
{
	__builtin_memcpy(ipc_buffer()->words, regs, sizeof(*regs));
	uint64_t rax = SYS_TCB_REGS, rdi = tcb, rsi = TCB_REGS_WRITE;
	__asm__ volatile("syscall" : "+a"(rax), "+D"(rdi), "+S"(rsi) :: "rcx", "r11", "rdx", "r8", "memory");
	return (long)rax;
}

#endif
