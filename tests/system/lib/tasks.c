/* tasks.h: init's task list (idl/init.idl's task_info), searched by name. */
#include <string.h>
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
