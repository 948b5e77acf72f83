/* What init's supervisor says of a task, for tests that check who was
 * restarted.  The test's slot 8 must be init's (tests under init). */
#ifndef TASKS_H
#define TASKS_H

#include <stdint.h>

/* 1 with the task's state, restarts and threads, 0 if init lists no
 * task of that name (state or threads may be NULL). */
int task_find(const char *name, uint32_t *state, uint32_t *restarts, uint32_t *threads);

/* 1 with init's supervisor state of the task (0 not running, 1
 * running, 2 waiting), how its last instance ended and the detail
 * (idl/init.idl's task_status), 0 if init lists no task of that name. */
int task_status(const char *name, uint32_t *state, uint32_t *end, int64_t *detail);
/* Wait up to secs seconds for the task to be running: 1 if it is. */
int task_wait_running(const char *name, unsigned secs);
/* Wait up to secs seconds for a task that runs to stop: 1 if it did,
 * with how it ended. */
int task_wait_end(const char *name, unsigned secs, uint32_t *end, int64_t *detail);

#endif
