/* Thread-local storage: each thread's TLS block and thread control block.
 *
 * x86-64's TLS ABI (variant II): FS base is the thread pointer, the word
 * there is the thread pointer again (code that takes a thread-local
 * variable's address reads %fs:0), and the TLS block lies right below it:
 * the image of .tdata followed by zeros for .tbss, as the linker laid them
 * out in the PT_TLS segment (user.ld names its bounds).  The kernel loads FS
 * base with what SYS_TCB_SET_FS_BASE gave; until then it is the IPC
 * buffer's address.  libipc reaches the IPC buffer as %fs:<offset of
 * struct ipc_buffer's self>, so the control block keeps the buffer's
 * address at that same offset and ipc_buffer() works either way. */
#include <libipc/libipc.h>
#include <libipc/ipc.h>
#include <libipc/tls.h>
#include <stddef.h>
#include <string.h>

/* the PT_TLS segment's bounds and alignment (libipc/user.ld) */
extern char __tls_start[], __tdata_end[], __tls_end[], __tls_align[];

struct thread_tcb {
	struct thread_tcb *self; /* %fs:0 */
	uint64_t wake_port;      /* the thread sleeps on it waiting for a lock (lock.c) */
	uint8_t unused[offsetof(struct ipc_buffer, self) - 2 * sizeof(uint64_t)];
	uint64_t ipc_buffer;     /* %fs:self, as in the IPC buffer itself */
};
_Static_assert(offsetof(struct thread_tcb, ipc_buffer) == offsetof(struct ipc_buffer, self),
               "ipc_buffer() reads the same offset from a TCB and an IPC buffer");

/* A thread-local variable with an initial value: .tdata is never empty, so
 * the segment starts at __tls_start, and each new block is checked. */
static __thread volatile uint64_t tls_check = TLS_CHECK_VALUE;

static uintptr_t align_up(uintptr_t x, uintptr_t a)
{
	return (x + a - 1) & ~(a - 1);
}

static uintptr_t segment_align(void)
{
	uintptr_t a = (uintptr_t)__tls_align;
	return a < 16 ? 16 : a;
}

/* The block as the linker computed thread-pointer offsets for: the
 * segment's size rounded up to its alignment. */
static uintptr_t block_size(void)
{
	return align_up((uintptr_t)(__tls_end - __tls_start), (uintptr_t)__tls_align ? (uintptr_t)__tls_align : 1);
}

size_t thread_tls_size(void)
{
	return block_size() + sizeof(struct thread_tcb) + segment_align();
}

long thread_tls_start(uint64_t tcb, void *area, uint64_t ipcbuf)
{
	uintptr_t tp = align_up((uintptr_t)area + block_size(), segment_align());
	uint8_t *block = (uint8_t *)(tp - block_size());
	size_t tdata = (size_t)(__tdata_end - __tls_start);
	memcpy(block, __tls_start, tdata);
	memset(block + tdata, 0, block_size() - tdata);
	struct thread_tcb *t = (struct thread_tcb *)tp;
	memset(t, 0, sizeof(*t));
	t->self = t;
	t->ipc_buffer = ipcbuf;
	if (object_alloc(OBJ_PORT, 0, &t->wake_port))
		t->wake_port = 0; /* its lock waits only yield then */
	return sys_tcb_set_fs_base(tcb, tp);
}

uint64_t thread_wake_port(void)
{
	uint64_t port;
	__asm__("mov %%fs:%c1, %0" : "=r"(port) : "i"(offsetof(struct thread_tcb, wake_port)));
	return port;
}

int thread_tls_ok(void)
{
	return tls_check == TLS_CHECK_VALUE;
}

void *thread_self(void)
{
	void *self;
	__asm__("mov %%fs:0, %0" : "=r"(self));
	return self;
}
