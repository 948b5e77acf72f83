/*
 * Client sessions.  Each session is a port of its own with a thread
 * serving it (no port sets yet, as in the PCI server) and a 64 KiB data
 * buffer: frames of ours that the client maps.  The client holds the
 * only send right to the port, so when it dies (or drops the right) the
 * kernel posts no-senders on the port and the session's thread closes
 * every socket of the session and revokes the client's copies of the
 * buffer.  Session slots, their ports, threads and frames are made once
 * and used again by later clients.
 *
 * A session thread takes the server's lock for each request (the idl
 * dispatch and everything lwIP does then) and drops it before it
 * replies or waits.
 */
#include "net.h"
#include "socket.h"

#define MAX_SESSIONS 16
#define STACK_SIZE 16384
#define PAGE 4096UL
#define BUFFER_PAGES (SESSION_BUFFER_SIZE / PAGE)
#define SESSION_VA 0x58000000UL
#define STACK_VA 0x5a000000UL         /* each thread's stack, with a page unmapped below */
#define NOSENDERS_BIT 1

struct session {
	int used;                 /* a client holds it */
	int made;                 /* port, thread and frames exist */
	char client[32];
	uint64_t port;            /* receive right */
	struct server srv;
	uint64_t tcb;
	uint64_t frame[BUFFER_PAGES];    /* ours, mapped at buf */
	uint64_t shared[BUFFER_PAGES];   /* the copies handed to the client */
	uint8_t *buf;
};

static struct session sessions[MAX_SESSIONS];
static unsigned thread_priority = 100;
static uint64_t handed_out;         /* the right open just gave away: ours to delete */
static struct session *handed_session;

uint8_t *session_buffer(struct session *s)
{
	return s->buf;
}

int session_id(const struct session *s)
{
	return (int)(s - sessions);
}

uint64_t session_defer(struct session *s)
{
	return server_defer(&s->srv);
}

static void drop_slot(uint64_t *slot)
{
	if (*slot) {
		sys_cnode_delete(*slot);
		slot_free(*slot);
		*slot = 0;
	}
}

/* The client is gone: its sockets close, its mapping of the buffer goes
 * (revoking our frames deletes every copy made from them), and the
 * buffer is cleared for the next client. */
static void session_end(struct session *s)
{
	debug_printf("net: session %d ('%s') ended; its sockets are closed\n", session_id(s), s->client);
	sockets_close_session(s);
	for (unsigned p = 0; p < BUFFER_PAGES; p++) {
		sys_cnode_revoke(s->frame[p]);
		if (s->shared[p])
			slot_free(s->shared[p]);
		s->shared[p] = 0;
	}
	memset(s->buf, 0, SESSION_BUFFER_SIZE);
	s->used = 0;
	s->client[0] = 0;
}

static int session_handle(struct server *srv, const struct msg *req, struct msg *reply)
{
	struct session *s = srv->ctx;
	net_lock();
	if (MSG_LABEL(req->info) == LABEL_NOTIFY) {
		if ((req->w[0] & NOSENDERS_BIT) && s->used)
			session_end(s);
		net_unlock();
		return SERVER_NO_REPLY;
	}
	int known = s->used && calls_dispatch(s, req, srv->recv_slots, reply);
	net_unlock();
	if (!known)
		return SERVER_UNKNOWN;
	return reply->w[0] == (uint64_t)SERVER_DEFERRED ? SERVER_NO_REPLY : SERVER_REPLY;
}

static void session_thread(uint64_t index)
{
	long err = server_run(&sessions[index].srv);
	debug_printf("net: session thread %lu ends: %ld\n", index, err);
	sys_tcb_suspend(sessions[index].tcb);
}

static long session_make(unsigned i)
{
	struct session *s = &sessions[i];
	s->buf = (uint8_t *)(SESSION_VA + (uint64_t)i * SESSION_BUFFER_SIZE);
	long err = object_alloc(OBJ_PORT, 0, &s->port);
	for (unsigned p = 0; !err && p < BUFFER_PAGES; p++)
		err = page_alloc_map((uint64_t)s->buf + p * PAGE, RIGHT_READ | RIGHT_WRITE, &s->frame[p]);
	uint64_t stack = STACK_VA + (uint64_t)i * 2 * STACK_SIZE;
	for (uint64_t off = 0; !err && off < STACK_SIZE; off += PAGE) {
		uint64_t frame;
		err = page_alloc_map(stack + off, RIGHT_READ | RIGHT_WRITE, &frame);
	}
	err = err ? err : server_init(&s->srv, s->port, session_handle, s);
	err = err ? err : thread_create(session_thread, i, (void *)stack, STACK_SIZE, thread_priority, &s->tcb);
	if (!err)
		s->made = 1;
	return err;
}

void sessions_init(unsigned priority)
{
	thread_priority = priority;
}

/* open: a free session (made on first use), the client's own copies of
 * its buffer frames, and a send right to its port.  Called under the
 * lock by the main thread. */
long session_open(const char *client, uint64_t *send, uint32_t *pages)
{
	unsigned i = 0;
	while (i < MAX_SESSIONS && sessions[i].used)
		i++;
	if (i == MAX_SESSIONS)
		return E_LIMIT;
	struct session *s = &sessions[i];
	long err = s->made ? E_OK : session_make(i);
	if (err)
		return err;
	for (unsigned p = 0; !err && p < BUFFER_PAGES; p++) {
		if (!(s->shared[p] = slot_alloc()))
			err = E_SLOT_FULL;
		err = err ? err : sys_cnode_copy(s->frame[p], CAP_ROOT_CNODE, s->shared[p], RIGHT_READ | RIGHT_WRITE);
	}
	uint64_t right = err ? 0 : slot_alloc();
	if (!err && !right)
		err = E_SLOT_FULL;
	err = err ? err : sys_cnode_mint(s->port, CAP_ROOT_CNODE, right, RIGHT_SEND, 0);
	if (err) {
		for (unsigned p = 0; p < BUFFER_PAGES; p++) {
			sys_cnode_revoke(s->frame[p]);
			if (s->shared[p])
				slot_free(s->shared[p]);
			s->shared[p] = 0;
		}
		if (right)
			slot_free(right);
		return err;
	}
	s->used = 1;
	memcpy(s->client, client, sizeof(s->client) - 1);
	s->client[sizeof(s->client) - 1] = 0;
	handed_out = right;
	handed_session = s;
	*send = right;
	*pages = BUFFER_PAGES;
	return E_OK;
}

/* After open's reply copied the right to the client: ours goes, so the
 * client's is the only one, and no-senders is armed (posted at once if
 * the client is already gone). */
void session_handed_out(void)
{
	if (!handed_out)
		return;
	drop_slot(&handed_out);
	sys_port_nosenders(handed_session->port, NOSENDERS_BIT);
	handed_session = 0;
}

long session_frame(struct session *s, uint32_t page, uint64_t *frame)
{
	if (page >= BUFFER_PAGES)
		return E_BAD_ARG;
	*frame = s->shared[page];
	return E_OK;
}
