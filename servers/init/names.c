/* The name service: a table from names to send rights.  A name belongs
 * to the task that published it and goes when that task dies, so clients
 * looking it up again find the restarted server once it publishes anew. */
#include <libipc/libipc.h>
#include "tasks.h"

#define MAX_NAMES 64

static struct {
	char name[MANIFEST_NAME_LEN + 1];
	uint64_t slot;        /* our copy of the send right; 0: entry free */
	unsigned owner;       /* task id, 0 for init */
	uint64_t order;       /* when it was published: the heartbeat pings a task's first */
} names[MAX_NAMES];
static uint64_t published;

static int same(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static int find(const char *name)
{
	for (int i = 0; i < MAX_NAMES; i++)
		if (names[i].slot && same(names[i].name, name))
			return i;
	return -1;
}

static void drop(int i)
{
	sys_cnode_delete(names[i].slot);
	slot_free(names[i].slot);
	names[i].slot = 0;
}

long names_publish(unsigned owner, const char *name, uint64_t slot)
{
	if (!name[0])
		return E_BAD_ARG;
	if (cspace_slot_type(slot) != OBJ_PORT)
		return E_WRONG_TYPE;
	int i = find(name);
	if (i >= 0) {
		if (names[i].owner != owner)
			return E_SLOT_FULL;
		drop(i);
	}
	for (i = 0; i < MAX_NAMES && names[i].slot; i++)
		;
	if (i == MAX_NAMES)
		return E_LIMIT;
	uint64_t keep = slot_alloc();
	if (!keep)
		return E_SLOT_FULL;
	long err = sys_cnode_move(slot, CAP_ROOT_CNODE, keep);
	if (err) {
		slot_free(keep);
		return err;
	}
	size_t n = 0;
	for (; name[n] && n < MANIFEST_NAME_LEN; n++)
		names[i].name[n] = name[n];
	names[i].name[n] = 0;
	names[i].slot = keep;
	names[i].owner = owner;
	names[i].order = ++published;
	debug_printf("init: '%s' published\n", names[i].name);
	tasks_start_waiting();
	return E_OK;
}

uint64_t names_lookup(const char *name)
{
	int i = find(name);
	return i < 0 ? 0 : names[i].slot;
}

long names_unpublish(unsigned owner, const char *name)
{
	int i = find(name);
	if (i < 0)
		return E_BAD_ARG;
	if (names[i].owner != owner)
		return E_NO_RIGHTS;
	drop(i);
	return E_OK;
}

void names_drop_owner(unsigned owner)
{
	for (int i = 0; i < MAX_NAMES; i++)
		if (names[i].slot && names[i].owner == owner)
			drop(i);
}

int names_owned_by(unsigned owner, const char *name)
{
	int i = find(name);
	return i >= 0 && names[i].owner == owner;
}

uint64_t names_first_of(unsigned owner)
{
	int first = -1;
	for (int i = 0; i < MAX_NAMES; i++)
		if (names[i].slot && names[i].owner == owner && (first < 0 || names[i].order < names[first].order))
			first = i;
	return first < 0 ? 0 : names[first].slot;
}

unsigned names_owner(const char *name)
{
	int i = find(name);
	return i < 0 ? 0 : names[i].owner;
}
