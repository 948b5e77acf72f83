/* init's parts: tasks (supervision) and names (the name service). */
#ifndef INIT_TASKS_H
#define INIT_TASKS_H

#include <stdint.h>
#include <libipc/libipc.h>
#include "manifest.h"

#define WINDOW_SLOTS 256  /* each task's window of our CNode */

struct task {
	const struct manifest_server *m;
	unsigned id;                    /* the badge on its rights to init */
	const struct bootinfo_module *image;
	struct process proc;
	uint64_t pool;                  /* every object of the task comes from here */
	unsigned pool_bits;             /* its size: 2^pool_bits bytes */
	uint64_t fault_send;            /* our badged right, its fault port */
	/* the handler of each irq line of its entry, kept by us: each
	 * instance gets a copy, since a line's first handler is issued once
	 * and lives on in the handlers it shared (drivers hold the PCI
	 * server's) after the instance that got it is gone */
	uint64_t irq_kept[MANIFEST_MAX_CAPS];
	uint64_t window;                /* first of its slots in our CNode */
	int running, waiting;           /* waiting: for a service it needs */
	unsigned restarts;
	char args[BOOTINFO_NAME_LEN * 2];  /* this instance's (the manifest's, or start's) */
	unsigned end;                   /* how the last instance ended (TASK_END_...) */
	long detail;                    /* its exit status or fault vector */
	uint64_t started;               /* the TSC when this instance started */
	/* the heartbeat (docs/manifest.md): when the unanswered ping went (0:
	 * none), when the next is due, how many in a row went unanswered */
	uint64_t ping_sent, ping_next;
	unsigned pings_missed;
	/* the pages this instance was started with (for init.idl's
	 * inject_cap): our frame capability, and vaddr | rights */
	unsigned npages;
	struct task_page { uint64_t frame, where; } pages[WINDOW_SLOTS];
};

/* How a task's last instance ended (init.idl's task_status). */
enum task_end {
	TASK_END_NONE = 0,     /* it has not ended */
	TASK_END_STOPPED = 1,  /* stopped for good by init_stop */
	TASK_END_KILLED = 2,   /* init_kill */
	TASK_END_EXITED = 3,   /* it exited; detail: the status */
	TASK_END_FAULTED = 4,  /* detail: the vector */
	TASK_END_HUNG = 5,     /* missed its heartbeats; detail: how many */
};

extern struct task tasks[MANIFEST_MAX_SERVERS];
extern unsigned task_count;
extern uint64_t init_port;

void tasks_start_all(const struct manifest *m, const struct bootinfo *bi);
void tasks_start_waiting(void);
/* Whether every name its manifest entry needs is published now. */
int needs_met(const struct task *t);
struct task *task_by_badge(uint64_t badge);
struct task *task_by_name(const char *name);
/* The task faulted, exited or was killed: destroy it, maybe restart it. */
void task_died(struct task *t, enum task_end end, long detail, const char *why);
/* The heartbeat: ping the tasks whose entry says heartbeat, kill those
 * that missed too many (heartbeat.c). */
void heartbeat_init(void);
void heartbeat_tick(void);
void heartbeat_answered(struct task *t);
void heartbeat_task_ended(const struct task *t);
/* A fault's vector in words: "page fault" */
const char *fault_kind(unsigned long vector);
/* The supervisor's controls (init.idl: start, stop, restart). */
long task_start_with(struct task *t, const char *change);
long task_stop(struct task *t);
long task_restart(struct task *t);
/* Whether the task is a virtual machine: its image is the VMM. */
int task_is_vm(const struct task *t);

/* trace.c: init.idl's trace and trace_read (docs/trace.md) */
void trace_task_started(struct task *t);
long trace_task(const char *name, uint32_t on);
long trace_read(uint32_t *count, uint32_t *lost, uint64_t *per_ms, uint64_t tsc[16],
                uint64_t label[16], uint32_t from[16], uint32_t to[16], uint8_t kind[16]);

/* uptime.c: the TSC and its rate (measured on first use: 110 ms) */
uint64_t tsc_now(void);
void uptime_init(void);
uint64_t init_started_tsc(void);
uint64_t tsc_per_ms(void);
uint64_t tsc_to_ms(uint64_t ticks);

/* names.c */
long names_publish(unsigned owner, const char *name, uint64_t slot);
uint64_t names_lookup(const char *name);  /* our slot holding it, or 0 */
long names_unpublish(unsigned owner, const char *name);
void names_drop_owner(unsigned owner);
int names_owned_by(unsigned owner, const char *name);  /* 1 if owner publishes it now */
uint64_t names_first_of(unsigned owner);
unsigned names_owner(const char *name);   /* the task id publishing it (0: init or nobody) */  /* our slot of the first name it publishes now, or 0 */

#endif
