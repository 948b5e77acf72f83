/* A minimal TAP producer for host unit tests.  CHECK(cond, name) prints
 * "ok N - name" or "not ok N - name"; unit_done() prints the plan and
 * returns the exit status.  tools/runtests.py reads these lines. */
#ifndef UNIT_H
#define UNIT_H

#include <stdio.h>

static int unit_count, unit_failed;

#define CHECK(cond, ...)                                                   \
	do {                                                               \
		unit_count++;                                              \
		int ok_ = !!(cond);                                        \
		if (!ok_)                                                  \
			unit_failed++;                                     \
		printf("%sok %d - ", ok_ ? "" : "not ", unit_count);       \
		printf(__VA_ARGS__);                                       \
		printf("\n");                                              \
		if (!ok_)                                                  \
			printf("# failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
	} while (0)

static inline int unit_done(void)
{
	printf("1..%d\n", unit_count);
	return unit_failed ? 1 : 0;
}

#endif
