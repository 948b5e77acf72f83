/* What the kernel hands the root task: its initial capabilities, the
 * untyped memory and the boot modules.  One page, mapped read-only at
 * BOOTINFO_VADDR; its address is also the root task's first argument. */
#ifndef BERTH_BOOTINFO_H
#define BERTH_BOOTINFO_H

#include <stdint.h>

/* Fixed slots in the root task's CNode. */
#define CAP_NULL         0
#define CAP_ROOT_CNODE   1
#define CAP_ROOT_VSPACE  2
#define CAP_ROOT_TCB     3
#define CAP_BOOTINFO     4   /* frame holding this page */
#define CAP_IRQ_CONTROL  5   /* root task only */
#define CAP_IOPORT_CONTROL 6 /* root task only */
#define CAP_TRACE_CONTROL 7  /* root task only: SYS_TRACE */
#define CAP_FIRST_FREE_FIXED 8

#define BOOTINFO_VADDR   0x00007fffffffd000UL
#define ROOT_STACK_TOP   0x00007fffff000000UL
#define ROOT_STACK_PAGES 16
/* The root task's thread starts at this priority; in the ABI so that
 * init can report its own (the kernel has no call that reads one back). */
#define ROOT_TASK_PRIORITY 100
#define MODULE_VADDR     0x0000100000000000UL
#define IPCBUF_VADDR     0x00007fffffffb000UL  /* the first thread's, by convention */

#define BOOTINFO_MAX_UNTYPED 128
#define BOOTINFO_MAX_MODULES 16
#define BOOTINFO_NAME_LEN 64

struct bootinfo_untyped {
	uint64_t paddr;
	uint32_t slot;
	uint8_t size_bits;
	uint8_t is_device;     /* device memory: only frames (mapped uncached), never RAM */
	uint8_t pad[2];
};

struct bootinfo_module {
	uint64_t vaddr;        /* mapped read-only in the root task */
	uint64_t size;         /* bytes */
	uint32_t first_slot;   /* frame caps, one per page, consecutive */
	uint32_t pages;
	char name[BOOTINFO_NAME_LEN];   /* the module's command line */
};

struct bootinfo {
	uint64_t magic;                 /* BOOTINFO_MAGIC */
	uint32_t cnode_radix;           /* root CNode has 1 << radix slots */
	uint32_t first_free_slot;       /* first empty slot after boot caps */
	uint32_t untyped_count;
	uint32_t module_count;
	uint64_t untyped_bytes;         /* total memory given as untyped */
	uint64_t ipc_buffer;            /* the first thread's IPC buffer, 0: none yet */
	uint64_t exit_slot;             /* a send right to tell the parent we exited, 0: none */
	struct bootinfo_untyped untyped[BOOTINFO_MAX_UNTYPED];
	struct bootinfo_module module[BOOTINFO_MAX_MODULES];
	char cmdline[BOOTINFO_NAME_LEN * 2]; /* the kernel's command line */
};

#define BOOTINFO_MAGIC 0x4f464e4948545242UL /* "BRTHINFO" */

#endif
