/* The boot manifest: which servers init starts, with which capabilities
 * and restart policy.  Format in docs/manifest.md.  Pure logic, unit-tested
 * on the host (tests/unit/test_manifest.c). */
#ifndef MANIFEST_H
#define MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#define MANIFEST_MAX_SERVERS 16
#define MANIFEST_MAX_CAPS 8
#define MANIFEST_NAME_LEN 32
#define MANIFEST_IMAGE_LEN 64
#define MANIFEST_ARGS_LEN 128  /* a boot info's command line holds 127 */
#define RESTART_ALWAYS (-1)
#define MANIFEST_MAX_CONTROL 8       /* tasks one control line set may name */
#define LOAN_LIMIT_MIB 1024          /* the most a borrow line may allow */

enum manifest_cap_kind { MCAP_IOPORTS = 1, MCAP_IRQ, MCAP_NEEDS };

struct manifest_cap {
	int kind;
	uint32_t first, last;            /* ports; irq: first = line */
	char name[MANIFEST_NAME_LEN];    /* needs */
};

struct manifest_server {
	char name[MANIFEST_NAME_LEN];
	char image[MANIFEST_IMAGE_LEN];
	char args[MANIFEST_ARGS_LEN];
	unsigned priority, memory_bits, line;
	int restart;                     /* RESTART_ALWAYS, or the most restarts (0: never) */
	unsigned slots_bits;             /* its CNode: 2^slots_bits slots (0: the default) */
	unsigned borrow_mib;             /* the most memory it may borrow (init.idl's mem_borrow) */
	int dma;                         /* its memory keeps RIGHT_PHYS (drivers) */
	int devmem;                      /* it gets the device memory (the PCI server) */
	int trace;                       /* it may use init.idl's trace, trace_read */
	int manual;                      /* not started at boot, only by init.idl's start */
	int control_all;                 /* control all: it may start, stop, restart, kill any task */
	unsigned ncontrol;               /* control NAME...: only these */
	char control[MANIFEST_MAX_CONTROL][MANIFEST_NAME_LEN];
	int inject_all;                  /* inject all: it may take any task's thread and pages */
	unsigned ninject;                /* inject NAME...: only these */
	char inject[MANIFEST_MAX_CONTROL][MANIFEST_NAME_LEN];
	unsigned heartbeat_ms;           /* 0: no heartbeat */
	unsigned heartbeat_misses;       /* unanswered pings in a row that make it hung */
	unsigned nmodules;
	char module[2][MANIFEST_IMAGE_LEN];  /* boot modules handed to it */
	unsigned ncaps;
	struct manifest_cap caps[MANIFEST_MAX_CAPS];
};

struct manifest {
	unsigned count;
	struct manifest_server server[MANIFEST_MAX_SERVERS];
};

/* Parse text[0..len) into *m.  Returns 0, or -1 with the line and a
 * message saying what is wrong. */
int manifest_parse(const char *text, size_t len, struct manifest *m, unsigned *err_line,
                   const char **err_msg);

/* args.c: the arguments of one start, base (the manifest's) changed by
 * change (docs/manifest.md, "Starting, stopping and restarting").
 * Writes them to out; -1 if they would not fit in size bytes with their
 * NUL, or hold more than 32 words. */
int args_merge(const char *base, const char *change, char *out, size_t size);

#endif
