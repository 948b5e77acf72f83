/* Messages: the info word, the IPC buffer, kernel-made messages. */
#ifndef BERTH_IPC_H
#define BERTH_IPC_H

#include <stdint.h>

/*
 * Registers for IPC calls (see docs/ipc.md):
 *   in:  rdi = capability (port or reply), rsi = info,
 *        rdx, r10, r8, r9 = message words 0..3,
 *        r12 = slot for the reply right a received call brings (0: none),
 *        r13 = port to receive on (SYS_REPLY_RECV only)
 *   out: rax = error, rdi = badge of the sender's capability, rsi = info,
 *        rdx, r10, r8, r9 = words 0..3.
 * Words 4.. and capability transfers go through the IPC buffer.
 */
#define MSG_REG_WORDS 4
#define MSG_MAX_WORDS 64
#define MSG_MAX_CAPS 3

/* info = label << 16 | flags << 12 | caps << 8 | words */
#define MSG_INFO(label, words, caps) (((uint64_t)(label) << 16) | ((uint64_t)(caps) << 8) | (words))
#define MSG_LABEL(info) ((info) >> 16)
#define MSG_WORDS(info) ((info) & 0xff)
#define MSG_CAPS(info) (((info) >> 8) & 0xf)
#define MSG_FLAGS(info) (((info) >> 12) & 0xf)
/* Take the general path even where the fast path applies (tests, benchmarks). */
#define MSG_FLAG_SLOWPATH (1u << 12)

/* Labels the kernel uses for the messages it makes. */
#define LABEL_NOTIFY 0xffff00000001UL  /* w0 = the bits posted since the last one */
#define LABEL_FAULT  0xffff00000002UL  /* w0 vector, w1 address, w2 rip, w3 error */
/* A fault's vector beyond the processor's 0..255: a SYSCALL by a thread
 * with TCB_FLAG_SYSCALLS_FAULT; w1 0, w2 the rip after the instruction,
 * w3 its RAX (the call number a hypercall interface would read first). */
#define FAULT_VECTOR_SYSCALL 0x100UL
#define LABEL_VMEXIT 0xffff00000003UL  /* see <berth/vcpu.h> */

/* Notification bit posted when a port's last send right is gone, if asked
 * for with SYS_PORT_NOSENDERS (the caller chooses the bits). */

struct ipc_buffer {
	uint64_t words[MSG_MAX_WORDS];        /* words 0..3 travel in registers */
	uint64_t send_caps[MSG_MAX_CAPS];     /* sender: slots of caps to transfer */
	uint64_t recv_slots[MSG_MAX_CAPS];    /* receiver: empty slots for caps (0: none) */
	uint64_t recv_badges[MSG_MAX_CAPS];   /* receiver: badge of each received cap */
	uint64_t self;                        /* the buffer's own address, for user code */
};
/* The kernel loads a thread's FS base with its IPC buffer's address (set
 * by SYS_TCB_SET_IPC_BUFFER), so user code reaches its own buffer as %fs:0. */

#endif
