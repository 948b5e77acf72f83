/* tasks.h: init's task list (idl/init.idl's task_info, task_status),
 * searched by name. */
#include <string.h>
#include <libipc/libipc.h>
#include "init.h"
#include "tasks.h"

#define INIT_SLOT 8

int task_find(const char *name, uint32_t *state, uint32_t *restarts, uint32_t *threads)
{
	uint32_t s, r, t;
	for (uint32_t i = 0;; i++) {
		char found[33];
		uint64_t memory;
		if (init_task_info(INIT_SLOT, i, found, &s, &r, &t, &memory))
			return 0;
		if (!strcmp(found, name)) {
			if (state)
				*state = s;
			if (restarts)
				*restarts = r;
			if (threads)
				*threads = t;
			return 1;
		}
	}
}

int task_status(const char *name, uint32_t *state, uint32_t *end, int64_t *detail)
{
	for (uint32_t i = 0;; i++) {
		char found[33], args[128];
		uint32_t flags;
		if (init_task_status(INIT_SLOT, i, found, &flags, state, end, detail, args))
			return 0;
		if (!strcmp(found, name))
			return 1;
	}
}

int task_wait_running(const char *name, unsigned secs)
{
	uint32_t state = 0, end;
	int64_t detail;
	for (unsigned t = 0; t < secs * 10; t++) {
		if (task_status(name, &state, &end, &detail) && state == 1)
			return 1;
		clock_nap(10);
	}
	return 0;
}

int task_wait_end(const char *name, unsigned secs, uint32_t *end, int64_t *detail)
{
	uint32_t state = 1;
	for (unsigned t = 0; t < secs * 10; t++) {
		if (!task_status(name, &state, end, detail) || state == 0)
			break;
		clock_nap(10);
	}
	return state == 0;
}
