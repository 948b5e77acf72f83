/* The server loop: receive, dispatch on the label, reply, repeat
 * (libipc/server.c).  A handler typically tries each interface's
 * generated dispatcher in turn. */
#ifndef LIBIPC_SERVER_H
#define LIBIPC_SERVER_H

#include <stdint.h>
#include <libipc/ipc.h>

enum server_result {
	SERVER_UNKNOWN = 0,  /* no such method: the loop answers E_BAD_SYSCALL */
	SERVER_REPLY = 1,    /* *reply is built: send it */
	SERVER_NO_REPLY = 2, /* a notification, or the reply was deferred */
};

struct server;
typedef int (*server_handler)(struct server *s, const struct msg *req, struct msg *reply);

struct server {
	uint64_t port;                        /* the receive right */
	uint64_t reply_slot;                  /* where a call's reply right lands */
	uint64_t recv_slots[MSG_MAX_CAPS];    /* where received caps land */
	server_handler handle;
	void *ctx;
	/* Set by a handler for the message it is handling: called once,
	 * after that message's reply went out (or could not), before the
	 * next receive.  For what may happen only once the caller holds
	 * what the reply carried: a server that hands out the only send
	 * right to a session port deletes its own copy here, so that the
	 * client's is the last and no-senders means the client is gone
	 * (servers/drivers/virtio_blk). */
	void (*after_reply)(struct server *s);
};

/* Take the slots the loop needs. */
long server_init(struct server *s, uint64_t port, server_handler handle, void *ctx);
/* Serve until receiving fails (the port died); returns that error.
 * Capabilities a request brought are in s->recv_slots; a handler that
 * keeps one must move it elsewhere, the loop deletes what is left. */
long server_run(struct server *s);
/* The status a handler returns after server_defer: the dispatcher puts it
 * in the reply it builds, and the handler function passed to server_init
 * turns it into SERVER_NO_REPLY. */
#define SERVER_DEFERRED ((long)-4096)

/* From a handler: keep the current caller waiting.  Moves its reply right
 * to a fresh slot and returns that slot (0 if none could be had); answer
 * later with ipc_reply on it, then slot_free it. */
uint64_t server_defer(struct server *s);

#endif
