/* What init's supervisor says of a task, for tests that check who was
 * restarted.  The test's slot 8 must be init's (tests under init). */
#ifndef TASKS_H
#define TASKS_H

#include <stdint.h>

/* 1 with the task's state, restarts and threads, 0 if init lists no
 * task of that name (state or threads may be NULL). */
int task_find(const char *name, uint32_t *state, uint32_t *restarts, uint32_t *threads);

#endif
