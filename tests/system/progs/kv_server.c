/* A key-value server for the system tests: publishes "kv" with init and
 * serves idl/kv.idl. */
#include <libipc/libipc.h>
#include <libipc/server.h>
#include "kv.h"
#include "init.h"

#define INIT_SLOT 8
#define KEYS 32

static struct {
	char key[33];
	uint64_t value;
	int used;
} table[KEYS];

static int find(const char *key)
{
	for (int i = 0; i < KEYS; i++)
		if (table[i].used && !strcmp(table[i].key, key))
			return i;
	return -1;
}

static long do_put(void *ctx, uint64_t badge, const char *key, uint64_t value)
{
	(void)ctx;
	(void)badge;
	int i = find(key);
	for (int j = 0; i < 0 && j < KEYS; j++)
		if (!table[j].used)
			i = j;
	if (i < 0)
		return E_LIMIT;
	strncpy(table[i].key, key, 32);
	table[i].key[32] = 0;
	table[i].value = value;
	table[i].used = 1;
	return E_OK;
}

static long do_get(void *ctx, uint64_t badge, const char *key, uint64_t *value)
{
	(void)ctx;
	(void)badge;
	int i = find(key);
	if (i < 0)
		return E_BAD_ARG;
	*value = table[i].value;
	return E_OK;
}

static long do_count(void *ctx, uint64_t badge, uint32_t *n)
{
	(void)ctx;
	(void)badge;
	*n = 0;
	for (int i = 0; i < KEYS; i++)
		*n += table[i].used;
	return E_OK;
}

static const struct kv_ops ops = { .put = do_put, .get = do_get, .count = do_count };

static int handle(struct server *s, const struct msg *req, struct msg *reply)
{
	return kv_dispatch(&ops, s->ctx, req, s->recv_slots, reply) ? SERVER_REPLY : SERVER_UNKNOWN;
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	struct server srv;
	uint64_t port, send = slot_alloc();
	long err = object_alloc(OBJ_PORT, 0, &port);
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, send, RIGHT_SEND, 0);
	err = err ? err : server_init(&srv, port, handle, 0);
	err = err ? err : init_publish(INIT_SLOT, "kv", send);
	if (err) {
		debug_printf("kv: set-up failed: %ld\n", err);
		return 1;
	}
	return (int)server_run(&srv);
}
