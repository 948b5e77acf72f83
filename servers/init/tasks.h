/* init's parts: tasks (supervision) and names (the name service). */
#ifndef INIT_TASKS_H
#define INIT_TASKS_H

#include <stdint.h>
#include <libipc/libipc.h>
#include "manifest.h"

struct task {
	const struct manifest_server *m;
	unsigned id;                    /* the badge on its rights to init */
	const struct bootinfo_module *image;
	struct process proc;
	uint64_t pool;                  /* every object of the task comes from here */
	uint64_t fault_send;            /* our badged right, its fault port */
	uint64_t window;                /* first of its slots in our CNode */
	int running, waiting;           /* waiting: for a service it needs */
	unsigned restarts;
};

extern struct task tasks[MANIFEST_MAX_SERVERS];
extern unsigned task_count;
extern uint64_t init_port;

void tasks_start_all(const struct manifest *m, const struct bootinfo *bi);
void tasks_start_waiting(void);
struct task *task_by_badge(uint64_t badge);
struct task *task_by_name(const char *name);
/* The task faulted, exited or was killed: destroy it, maybe restart it. */
void task_died(struct task *t, const char *why);

/* names.c */
long names_publish(unsigned owner, const char *name, uint64_t slot);
uint64_t names_lookup(const char *name);  /* our slot holding it, or 0 */
long names_unpublish(unsigned owner, const char *name);
void names_drop_owner(unsigned owner);

#endif
