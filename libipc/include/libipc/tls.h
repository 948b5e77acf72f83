/* Thread-local storage (tls.c): each thread's TLS block and control block,
 * made by crt0.S and libipc_init for the first thread and by thread_create
 * for the others.  A thread the C library runs on needs one: its errno and
 * state live there (picolibc), and its locks know a thread by it. */
#ifndef LIBIPC_TLS_H
#define LIBIPC_TLS_H

#include <stddef.h>
#include <stdint.h>

/* Bytes a thread's TLS area takes (any alignment: it is aligned inside). */
size_t thread_tls_size(void);
/* Lay out the TLS block and control block in area (thread_tls_size()
 * bytes) and make it thread tcb's FS base; ipcbuf is that thread's IPC
 * buffer address (it must have one already: SYS_TCB_SET_IPC_BUFFER moves
 * FS base back to the buffer). */
long thread_tls_start(uint64_t tcb, void *area, uint64_t ipcbuf);
/* This thread's control block (%fs:0): who holds a lock. */
void *thread_self(void);
/* A port of this thread's own, to sleep on (the C library's locks). */
uint64_t thread_wake_port(void);
/* 1 if this thread's TLS block holds the initial values */
int thread_tls_ok(void);
#define TLS_CHECK_VALUE 0x544c53206f6b2121UL

#endif
