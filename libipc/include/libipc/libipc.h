/* libipc: what every Berth user program links with.  Start-up, a slot
 * allocator and object allocation from the untyped memory a program was
 * given, thread creation, and debug output. */
#ifndef LIBIPC_H
#define LIBIPC_H

#include <stdarg.h>
#include <stdint.h>
#include <berth/bootinfo.h>
#include <libipc/sys.h>

/* Set up the allocators from the boot info, the first thread's IPC buffer
 * if it has none, and its thread-local storage in tls_area
 * (thread_tls_size() bytes, <libipc/tls.h>); crt0.S calls it. */
void libipc_init(const struct bootinfo *bi, void *tls_area);

/* The type of what our slot holds (OBJ_NONE for empty or invalid). */
unsigned cspace_slot_type(uint64_t slot);

/* A free slot in the program's CNode, or 0 when none is left. */
uint64_t slot_alloc(void);
/* Give a slot back (it should be empty by then). */
void slot_free(uint64_t slot);
/* Free every allocated slot in [first, end) that is empty now, as after
 * a revoke destroyed what they held. */
void slot_reclaim(uint64_t first, uint64_t end);
/* Take [first, end) out of general use (for slot_window). */
void slot_reserve(uint64_t first, uint64_t end);
/* Make slot_alloc hand out only [first, end) (0, 0: anywhere); a
 * supervisor gives each child's objects their own window. */
void slot_window(uint64_t first, uint64_t end);
/* Retype from this Untyped only (0: the boot info's list); returns the
 * previous choice.  A supervisor allocates all of a child's objects from
 * one pool so one revoke of the pool destroys them all. */
uint64_t alloc_set_pool(uint64_t untyped);
/* Retype a new object from the program's untyped memory into a fresh slot. */
/* Arguments (args.c): the next word before cmdline=, KEY=VALUE (key given
 * with its '='), a bare word, a decimal number (dflt if absent or not
 * one), the rest after cmdline=. */
const char *arg_next(const char **cursor, size_t *len);
const char *arg_value(const char *args, const char *key, size_t *len);
int arg_flag(const char *args, const char *word);
int arg_string(const char *args, const char *key, char *out, size_t size);
unsigned arg_number(const char *args, const char *key, unsigned dflt);
const char *arg_cmdline(const char *args);

/* Time since the program first asked (clock.c): milliseconds and
 * microseconds from the TSC, its rate measured on first use (100 ms);
 * and a nap of so many timer ticks (10 ms each). */
uint64_t clock_ms(void);
uint64_t clock_us(void);
void clock_nap(unsigned ticks);

/* A server's exit status that tells its supervisor a restart would not
 * help (it cannot start as configured: a bad image, bad arguments).
 * init does not restart a server that ends with it, whatever its policy. */
#define EXIT_NO_RESTART 3
/* A server whose work went on elsewhere (a VMM whose VM migrated to
 * another machine): not a failure, and nothing to restart. */
#define EXIT_MOVED 4

long object_alloc(unsigned type, unsigned size_bits, uint64_t *slot);
/* The same from one given Untyped (device memory, for one). */
long object_alloc_from(uint64_t untyped, unsigned type, unsigned size_bits, uint64_t *slot);
/* Back vaddr with a fresh frame, making page tables as needed. */
long page_alloc_map(uint64_t vaddr, unsigned rights, uint64_t *frame_slot);
/* Map a frame into our own address space, making page tables as needed. */
long page_map_with_tables(uint64_t frame, uint64_t vaddr, unsigned rights);
/* The same into any address space we hold a VSpace capability for. */
long page_map_in(uint64_t vspace, uint64_t frame, uint64_t vaddr, unsigned rights);
/* Give a thread a fresh IPC buffer mapped at vaddr in vspace; if that is
 * our own space, also set the buffer's self pointer. */
long ipc_buffer_setup(uint64_t tcb, uint64_t vspace, uint64_t vaddr);

/* The boot info this program started with. */
const struct bootinfo *libipc_bootinfo(void);

/* Labels of interface 0, libipc's own protocol with a parent. */
#define LABEL_PROGRAM_EXIT 0x1   /* sent to bootinfo->exit_slot: w0 = status */
#define LABEL_HEARTBEAT 0x2      /* sent to bootinfo->exit_slot: the answer to a ping */
/* The parent's ping: this bit posted on a port the program serves
 * (docs/manifest.md, heartbeat).  Programs' own notification bits stay
 * below it. */
#define NOTIFY_HEARTBEAT (1UL << 63)
/* For a receive loop: answer the parent's ping if m carries one (a send
 * to the parent, which answers at once) and take the bit out of m.
 * Returns 1 if nothing else is left in m: the loop just receives again. */
struct msg;
int heartbeat_filter(struct msg *m);

/* A child process made from an ELF image (spawn.c). */
struct process {
	uint64_t cnode, vspace, tcb;  /* our capabilities to its objects */
	uint64_t next_slot;           /* next slot process_give fills in its CNode */
};
/* A child's boot info lists the modules it was given with vaddr 0: their
 * frame capabilities are at first_slot.. in its CNode, not yet mapped. */
#define PROCESS_CNODE_RADIX 8
#define PROCESS_FIRST_GIVEN 8     /* caps given by the parent start here */
#define PROCESS_FIRST_FREE 32     /* the child's own allocations start here */
struct spawn_args {
	unsigned prio;
	uint64_t fault_port;       /* our send right for its faults, 0: none */
	unsigned untyped_bits;     /* its memory: an Untyped of this size, 0: none */
	uint64_t exit_port;        /* our send right it gets in slot 8 and uses to report exit */
	uint64_t exit_badge;       /* minted onto that right */
	const char *cmdline;       /* its boot info's command line, or 0 */
	unsigned cnode_radix;      /* its CNode has 2^radix slots (0: PROCESS_CNODE_RADIX) */
	const struct bootinfo_module *modules;  /* ours, to hand on: frame caps copied to it */
	unsigned module_count;
	int dma;                   /* its memory keeps RIGHT_PHYS (drivers only) */
	/* device memory to hand on: of each of ours a child Untyped of the
	 * same range (so ours gets it back when the child ends) */
	const struct bootinfo_untyped *device;
	unsigned device_count;
	/* told of every page mapped into the child (its image, stack, IPC
	 * buffer, boot info): our frame capability, where, with which rights
	 * (init keeps them for the fault injector: init.idl's inject_cap) */
	void (*on_page)(void *ctx, uint64_t frame, uint64_t vaddr, unsigned rights);
	void *page_ctx;
};
/* Load the image into a new address space with a new CNode and thread.
 * The thread is not started: give it capabilities, then process_start. */
long process_spawn_args(const void *elf, uint64_t len, const struct spawn_args *a, struct process *p);
/* The same with only a priority, fault port and memory. */
long process_spawn(const void *elf, uint64_t len, unsigned prio, uint64_t fault_port,
                   unsigned untyped_bits, struct process *p);
/* Mint (badge != 0 or a RECEIVE source) or copy our slot src into the
 * child's next given slot; *child_slot says which. */
long process_give(struct process *p, uint64_t src, unsigned rights, uint64_t badge, uint64_t *child_slot);
long process_start(struct process *p);
/* Destroy the child: its thread, and everything in its CNode and
 * address space that only it held. */
void process_destroy(struct process *p);

/* Start fn(arg) in a new thread of this address space and CNode, on the
 * given stack, at the given priority.  When fn returns the thread stops.
 * Its faults go to the program's parent as the main thread's do (the
 * bootinfo's exit_slot; none for the root task): a fault in any thread
 * ends the program.  sys_tcb_configure after this sets another handler. */
long thread_create(void (*fn)(uint64_t), uint64_t arg, void *stack, size_t stack_size,
                   unsigned prio, uint64_t *tcb_slot);

/* Debug output through the kernel's serial line (the console server
 * replaces it for ordinary output later). */
void debug_puts(const char *s);
int debug_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int debug_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int debug_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The C library's console (posix.c): stdout and stderr (fd 1, 2) go to
 * libc_console_write, stdin (fd 0) comes from libc_console_read.  Each
 * returns the bytes moved (0 from read: end of input) or a negative errno.
 * By default output is the kernel's debug write and there is no input;
 * the console client replaces them. */
extern long (*libc_console_write)(const char *buf, size_t len);
extern long (*libc_console_read)(char *buf, size_t len);

/* The C library's files (posix.c): descriptors 3 and up name files of
 * the file-system server through these (servers/lib/fs_files.c installs
 * them; until then open() fails with ENOENT).  Files are named by inode
 * number; the offset and the open flags stay in the program.  Each
 * returns 0 or the bytes moved, or a negative errno. */
struct libc_file_info {
	uint32_t ino, mode, links, mtime;
	uint64_t size, blocks;
};
struct libc_file_ops {
	int (*open)(const char *path, unsigned create_excl_trunc, unsigned mode, struct libc_file_info *info);
	int (*stat)(uint32_t ino, struct libc_file_info *info);
	long (*read)(uint32_t ino, uint64_t offset, void *buf, size_t len);
	long (*write)(uint32_t ino, uint64_t offset, const void *buf, size_t len);
	int (*unlink)(const char *path);
	int (*fsync)(uint32_t ino);
	/* the entry at *cookie (0 first) and the cookie of the next; 0 at
	 * the end of the directory, 1 with an entry */
	int (*readdir)(uint32_t dir_ino, uint64_t *cookie, uint32_t *ino, uint32_t *kind, char name[256]);
	int (*mkdir)(const char *path, unsigned mode);
	int (*rmdir)(const char *path);
	int (*rename)(const char *from, const char *to);
	int (*truncate)(uint32_t ino, uint64_t size);
	int (*sync)(void);   /* every file's data and the metadata to the disk */
	/* the server's generation, bumped when it is found gone: a file
	 * opened under an earlier one is stale (ESTALE), since what was
	 * written to it and not yet synced may have gone with the server;
	 * 0: not tracked */
	unsigned (*generation)(void);
};
extern const struct libc_file_ops *libc_files;
/* The flags of libc_file_ops.open (those of idl/fs.idl) */
#define LIBC_FILE_CREAT 1u
#define LIBC_FILE_EXCL  2u
#define LIBC_FILE_TRUNC 4u
/* readdir's kind: ext2's file types (idl/fs.idl) */
#define LIBC_FILE_KIND_FILE 1u
#define LIBC_FILE_KIND_DIR 2u
#define LIBC_FILE_KIND_SYMLINK 7u

#include <string.h>

#endif
