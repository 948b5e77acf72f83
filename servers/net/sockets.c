/*
 * Sockets: the session methods of idl/socket.idl on lwIP's raw API.
 *
 * A socket is an entry of one table, owned by a session; its handle is
 * its index and a generation, so a stale or forged handle, or another
 * session's, is refused.  lwIP's callbacks only record what happened
 * (data queued, a connection to accept, an error); the calls, and
 * sockets_service after every locked section, read that state.  A call
 * that cannot make progress at once and may wait keeps its reply right
 * in the socket (a reader and a writer per socket) or the session (one
 * poll); sockets_service answers it when it can, or when its deadline
 * has passed.  So nothing here ever blocks, and one slow client holds up
 * no other.
 *
 * Data never travels in messages: send and recv name bytes of the
 * session's shared buffer (sessions.c).  Everything runs under the
 * server's lock.
 */
#include "net.h"
#include "socket.h"   /* generated from idl/socket.idl */
#include "lwip/tcp.h"
#include "lwip/udp.h"
#include "lwip/pbuf.h"
#include "lwip/ip_addr.h"

#define MAX_SOCKETS 128
#define SESSION_SOCKETS 64     /* no one client takes the whole table */
#define ACCEPT_MAX 16
#define DGRAM_QUEUE 16
#define MAX_POLLS 16          /* sessions.c: MAX_SESSIONS */
#define POLL_MAX 64
#define UDP_MAX 65000
#define TYPE_TCP 1
#define TYPE_UDP 2
#define EV_IN 1
#define EV_OUT 2
#define EV_ERR 4
#define EV_INVALID 8

enum { FREE, TCP, UDP };

/* A call waiting for its socket: the reply right and what it asked. */
struct waiter {
	uint64_t reply;           /* 0: nobody waits */
	uint32_t label;
	uint64_t deadline;
	uint32_t offset, len, done;
};

struct dgram {
	struct pbuf *p;
	uint32_t addr;
	uint16_t port;
};

struct sock {
	int kind;
	uint16_t gen;
	struct session *owner;
	struct tcp_pcb *tcp;
	struct udp_pcb *udp;
	int listening, connecting, connected;
	int pending;              /* accepted by lwIP, not yet by the client */
	int peer_closed;          /* the peer's FIN came */
	int shut_rd, shut_wr;
	long error;               /* what the network said: reported to every call */
	struct pbuf *rx;          /* received, not yet read */
	uint16_t acceptq[ACCEPT_MAX];
	unsigned acc_first, acc_count;
	struct dgram dq[DGRAM_QUEUE];
	unsigned dq_first, dq_count;
	struct waiter rd, wr;
};

struct pollwait {
	uint64_t reply;
	struct session *owner;
	uint64_t deadline;
	uint32_t count;
	uint32_t sock[POLL_MAX];
	uint8_t events[POLL_MAX];
};

static struct sock socks[MAX_SOCKETS];
static struct pollwait polls[MAX_POLLS];

/* A call's result: the status and the out words of its reply. */
struct result {
	long status;
	uint64_t w[4];
	unsigned n;
};

static int done_with(struct result *r, long status)
{
	r->status = status;
	r->n = 0;
	return 1;
}

static int done_words(struct result *r, unsigned n, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	r->status = E_OK;
	r->n = n;
	r->w[0] = a, r->w[1] = b, r->w[2] = c, r->w[3] = d;
	return 1;
}

static void answer(struct waiter *w, const struct result *r)
{
	reply_words(&w->reply, w->label, r->status, r->w, r->n);
}

/* --- the table ------------------------------------------------------------ */

static uint32_t handle_of(const struct sock *s)
{
	return (uint32_t)s->gen << 16 | (uint32_t)(s - socks + 1);
}

static struct sock *sock_of(struct session *owner, uint32_t handle)
{
	uint32_t i = (handle & 0xffff) - 1;
	if (i >= MAX_SOCKETS)
		return 0;
	struct sock *s = &socks[i];
	if (s->kind == FREE || s->pending || s->owner != owner || s->gen != handle >> 16)
		return 0;
	return s;
}

static struct sock *sock_new(struct session *owner, int kind)
{
	unsigned owned = 0;
	for (unsigned i = 0; i < MAX_SOCKETS; i++)
		owned += socks[i].kind != FREE && socks[i].owner == owner;
	if (owned >= SESSION_SOCKETS)
		return 0;
	for (unsigned i = 0; i < MAX_SOCKETS; i++) {
		struct sock *s = &socks[i];
		if (s->kind != FREE)
			continue;
		uint16_t gen = (uint16_t)(s->gen + 1 ? s->gen + 1 : 1);
		memset(s, 0, sizeof(*s));
		s->gen = gen;
		s->kind = kind;
		s->owner = owner;
		return s;
	}
	return 0;
}

static void tcp_forget(struct tcp_pcb *pcb)
{
	tcp_arg(pcb, 0);
	if (pcb->state == LISTEN)
		return;
	tcp_recv(pcb, 0);
	tcp_sent(pcb, 0);
	tcp_err(pcb, 0);
}

static void sock_free(struct sock *s);

/* Give the pcb back to lwIP: a graceful close (FIN), or a reset when
 * lwIP has no memory for that. */
static void tcp_let_go(struct sock *s)
{
	if (!s->tcp)
		return;
	struct tcp_pcb *pcb = s->tcp;
	s->tcp = 0;
	tcp_forget(pcb);
	if (tcp_close(pcb) != ERR_OK)
		tcp_abort(pcb);
}

static void sock_free(struct sock *s)
{
	struct result gone = { E_STATE, { 0 }, 0 };
	if (s->rd.reply)
		answer(&s->rd, &gone);
	if (s->wr.reply)
		answer(&s->wr, &gone);
	tcp_let_go(s);
	if (s->udp) {
		udp_recv(s->udp, 0, 0);
		udp_remove(s->udp);
		s->udp = 0;
	}
	if (s->rx)
		pbuf_free(s->rx);
	s->rx = 0;
	while (s->dq_count) {
		pbuf_free(s->dq[s->dq_first].p);
		s->dq_first = (s->dq_first + 1) % DGRAM_QUEUE;
		s->dq_count--;
	}
	/* connections lwIP took for a listener the client never accepted */
	while (s->acc_count) {
		struct sock *c = &socks[s->acceptq[s->acc_first]];
		s->acc_first = (s->acc_first + 1) % ACCEPT_MAX;
		s->acc_count--;
		if (c->tcp) {
			struct tcp_pcb *pcb = c->tcp;
			c->tcp = 0;
			tcp_forget(pcb);
			tcp_abort(pcb);
		}
		sock_free(c);
	}
	s->kind = FREE;
	s->owner = 0;
}

/* --- lwIP's callbacks: they record, the calls read ----------------------- */

static long net_error(err_t err, int connecting)
{
	switch (err) {
	case ERR_RST:
		return connecting ? NET_ECONNREFUSED : NET_ECONNRESET;
	case ERR_ABRT:
		return connecting ? NET_ETIMEDOUT : NET_ECONNRESET;
	case ERR_USE:
		return NET_EADDRINUSE;
	case ERR_RTE:
		return NET_EHOSTUNREACH;
	case ERR_ISCONN:
		return NET_EISCONN;
	case ERR_CONN:
		return NET_ENOTCONN;
	case ERR_MEM:
	case ERR_BUF:
		return NET_ENOBUFS;
	default:
		return NET_ECONNRESET;
	}
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct sock *s = arg;
	(void)err;
	if (!s) {
		if (p) {
			tcp_recved(pcb, p->tot_len);
			pbuf_free(p);
		}
		return ERR_OK;
	}
	if (!p) {
		s->peer_closed = 1;
		return ERR_OK;
	}
	if (s->shut_rd) {
		tcp_recved(pcb, p->tot_len);
		pbuf_free(p);
		return ERR_OK;
	}
	if (s->rx)
		pbuf_cat(s->rx, p);
	else
		s->rx = p;
	return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
	struct sock *s = arg;
	if (!s)
		return;
	/* lwIP has freed the pcb already */
	s->tcp = 0;
	s->error = net_error(err, s->connecting);
	s->connecting = 0;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct sock *s = arg;
	(void)pcb;
	if (s && err == ERR_OK) {
		s->connecting = 0;
		s->connected = 1;
	}
	return ERR_OK;
}

static void tcp_watch(struct sock *s, struct tcp_pcb *pcb)
{
	s->tcp = pcb;
	tcp_arg(pcb, s);
	tcp_recv(pcb, on_recv);
	tcp_err(pcb, on_err);
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct sock *l = arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	struct sock *c = l ? sock_new(l->owner, TCP) : 0;
	if (!c || l->acc_count == ACCEPT_MAX) {
		if (c)
			c->kind = FREE;
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	c->pending = 1;
	c->connected = 1;
	tcp_watch(c, pcb);
	tcp_nagle_disable(pcb);
	/* counted against the listener's backlog until the client accepts it */
	tcp_backlog_delayed(pcb);
	l->acceptq[(l->acc_first + l->acc_count++) % ACCEPT_MAX] = (uint16_t)(c - socks);
	return ERR_OK;
}

static void on_udp(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
	struct sock *s = arg;
	(void)pcb;
	if (!s || s->dq_count == DGRAM_QUEUE || s->shut_rd) {
		pbuf_free(p);
		return;
	}
	struct dgram *d = &s->dq[(s->dq_first + s->dq_count++) % DGRAM_QUEUE];
	d->p = p;
	d->addr = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(addr)));
	d->port = port;
}

/* --- progress: each try_ returns 1 with a result, or 0: not yet ----------- */

static long data_range(uint32_t offset, uint32_t len)
{
	return offset > SESSION_BUFFER_SIZE || len > SESSION_BUFFER_SIZE - offset ? E_BAD_ARG : E_OK;
}

static int try_accept(struct sock *l, struct result *r)
{
	while (l->acc_count) {
		struct sock *c = &socks[l->acceptq[l->acc_first]];
		l->acc_first = (l->acc_first + 1) % ACCEPT_MAX;
		l->acc_count--;
		c->pending = 0;
		if (!c->tcp) {
			/* reset before the client took it */
			sock_free(c);
			continue;
		}
		tcp_backlog_accepted(c->tcp);
		return done_words(r, 3, handle_of(c), lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&c->tcp->remote_ip))),
		                  c->tcp->remote_port, 0);
	}
	if (!l->tcp)
		return done_with(r, l->error ? l->error : E_STATE);
	return 0;
}

static void consume(struct sock *s, uint32_t n)
{
	while (n) {
		uint16_t part = n > 0xffff ? 0xffff : (uint16_t)n;
		s->rx = pbuf_free_header(s->rx, part);
		if (s->tcp)
			tcp_recved(s->tcp, part);
		n -= part;
	}
}

static int try_recv(struct sock *s, uint32_t offset, uint32_t max, struct result *r)
{
	if (s->kind == UDP) {
		if (!s->dq_count)
			return 0;
		struct dgram *d = &s->dq[s->dq_first];
		uint16_t len = d->p->tot_len;
		uint32_t got = len < max ? len : max;
		pbuf_copy_partial(d->p, session_buffer(s->owner) + offset, (u16_t)got, 0);
		pbuf_free(d->p);
		s->dq_first = (s->dq_first + 1) % DGRAM_QUEUE;
		s->dq_count--;
		return done_words(r, 4, got, len, d->addr, d->port);
	}
	if (s->rx && max) {
		uint32_t want = max < s->rx->tot_len ? max : s->rx->tot_len;
		uint32_t got = 0;
		while (got < want) {
			uint16_t part = want - got > 0xffff ? 0xffff : (uint16_t)(want - got);
			got += pbuf_copy_partial(s->rx, session_buffer(s->owner) + offset + got, part,
			                         (u16_t)0);
			consume(s, part);
		}
		return done_words(r, 1, got, 0, 0, 0);
	}
	if (s->rx && !max)
		return done_words(r, 1, 0, 0, 0, 0);
	if (s->peer_closed || s->shut_rd)
		return done_words(r, 1, 0, 0, 0, 0);
	if (s->error)
		return done_with(r, s->error);
	if (s->listening || (!s->connected && !s->connecting))
		return done_with(r, NET_ENOTCONN);
	if (!s->tcp)
		return done_words(r, 1, 0, 0, 0, 0);
	return 0;
}

/* TCP send: as much as lwIP takes now; done when all of it is queued. */
static int try_send(struct sock *s, struct waiter *w, struct result *r)
{
	if (s->shut_wr)
		return done_with(r, NET_EPIPE);
	if (s->error)
		return w->done ? done_words(r, 1, w->done, 0, 0, 0) : done_with(r, s->error);
	if (s->connecting)
		return 0;
	if (!s->connected || !s->tcp || s->listening)
		return done_with(r, NET_ENOTCONN);
	int queued = 0;
	while (w->done < w->len) {
		uint32_t room = tcp_sndbuf(s->tcp);
		uint32_t n = w->len - w->done;
		if (n > room)
			n = room;
		if (n > 0xffff)
			n = 0xffff;
		if (!n || tcp_sndqueuelen(s->tcp) >= TCP_SND_QUEUELEN - 4)
			break;
		err_t e = tcp_write(s->tcp, session_buffer(s->owner) + w->offset + w->done, (u16_t)n,
		                    TCP_WRITE_FLAG_COPY | (w->done + n < w->len ? TCP_WRITE_FLAG_MORE : 0));
		if (e == ERR_MEM)
			break;
		if (e != ERR_OK)
			return w->done ? done_words(r, 1, w->done, 0, 0, 0) : done_with(r, net_error(e, 0));
		w->done += n;
		queued = 1;
	}
	if (queued)
		tcp_output(s->tcp);
	if (w->done == w->len)
		return done_words(r, 1, w->done, 0, 0, 0);
	return 0;
}

static int try_connect(struct sock *s, struct result *r)
{
	if (s->connected)
		return done_with(r, E_OK);
	if (s->error)
		return done_with(r, s->error);
	if (!s->connecting)
		return done_with(r, NET_ENOTCONN);
	return 0;
}

/* The waiting calls' progress, by their label. */
static int try_reader(struct sock *s, struct result *r)
{
	struct waiter *w = &s->rd;
	if (w->label == SOCKET_ACCEPT_LABEL)
		return try_accept(s, r);
	int ok = try_recv(s, w->offset, w->len, r);
	if (ok && w->label == SOCKET_RECV_LABEL && r->status == E_OK)
		r->n = 1;   /* recv on UDP: just the length */
	return ok;
}

static int try_writer(struct sock *s, struct result *r)
{
	if (s->wr.label == SOCKET_CONNECT_LABEL)
		return try_connect(s, r);
	return try_send(s, &s->wr, r);
}

static int timed_out(const struct waiter *w, uint64_t now, struct sock *s, struct result *r)
{
	if (w->deadline > now)
		return 0;
	if (w->label == SOCKET_CONNECT_LABEL) {
		/* BSD leaves a socket whose connect failed unusable: so here */
		if (s->tcp) {
			struct tcp_pcb *pcb = s->tcp;
			s->tcp = 0;
			tcp_forget(pcb);
			tcp_abort(pcb);
		}
		s->connecting = 0;
		s->error = NET_ETIMEDOUT;
		return done_with(r, NET_ETIMEDOUT);
	}
	if (w->label == SOCKET_SEND_LABEL && w->done)
		return done_words(r, 1, w->done, 0, 0, 0);
	return done_with(r, E_WOULD_BLOCK);
}

/* --- poll ------------------------------------------------------------------ */

static uint8_t readiness(struct session *owner, uint32_t handle)
{
	struct sock *s = sock_of(owner, handle);
	if (!s)
		return EV_INVALID;
	uint8_t ev = 0;
	if (s->kind == UDP) {
		if (s->dq_count)
			ev |= EV_IN;
		ev |= EV_OUT;
		return ev;
	}
	if (s->rx || s->peer_closed || s->shut_rd || s->error || s->acc_count ||
	    (!s->tcp && !s->listening && s->connected))
		ev |= EV_IN;
	if (s->error || (s->connected && s->tcp && !s->listening && tcp_sndbuf(s->tcp) > 0 &&
	                 tcp_sndqueuelen(s->tcp) < TCP_SND_QUEUELEN - 4))
		ev |= EV_OUT;
	if (s->error)
		ev |= EV_ERR;
	return ev;
}

/* 1 with the count and revents when some socket is ready */
static int poll_check(const struct pollwait *p, uint8_t revents[POLL_MAX], uint32_t *ready)
{
	*ready = 0;
	for (uint32_t i = 0; i < p->count; i++) {
		uint8_t ev = readiness(p->owner, p->sock[i]);
		revents[i] = ev & (p->events[i] | EV_ERR | EV_INVALID);
		if (revents[i])
			(*ready)++;
	}
	return *ready != 0;
}

static void poll_answer(struct pollwait *p, uint32_t ready, const uint8_t revents[POLL_MAX])
{
	uint64_t words[1 + POLL_MAX / 8];
	memset(words, 0, sizeof(words));
	words[0] = ready;
	memcpy(&words[1], revents, POLL_MAX);
	reply_words(&p->reply, SOCKET_POLL_LABEL, E_OK, words, 1 + POLL_MAX / 8);
}

/* --- the service: waits that can be answered now ------------------------- */

void sockets_service(void)
{
	uint64_t now = clock_ms();
	struct result r;
	for (unsigned i = 0; i < MAX_SOCKETS; i++) {
		struct sock *s = &socks[i];
		if (s->kind == FREE)
			continue;
		if (s->rd.reply && (try_reader(s, &r) || timed_out(&s->rd, now, s, &r)))
			answer(&s->rd, &r);
		if (s->wr.reply && (try_writer(s, &r) || timed_out(&s->wr, now, s, &r)))
			answer(&s->wr, &r);
	}
	for (unsigned i = 0; i < MAX_POLLS; i++) {
		struct pollwait *p = &polls[i];
		uint8_t revents[POLL_MAX] = { 0 };
		uint32_t ready;
		if (!p->reply)
			continue;
		if (poll_check(p, revents, &ready) || p->deadline <= now)
			poll_answer(p, ready, revents);
	}
}

uint64_t sockets_next_deadline(void)
{
	uint64_t next = NO_DEADLINE;
	for (unsigned i = 0; i < MAX_SOCKETS; i++) {
		const struct sock *s = &socks[i];
		if (s->kind == FREE)
			continue;
		if (s->rd.reply && s->rd.deadline < next)
			next = s->rd.deadline;
		if (s->wr.reply && s->wr.deadline < next)
			next = s->wr.deadline;
	}
	for (unsigned i = 0; i < MAX_POLLS; i++)
		if (polls[i].reply && polls[i].deadline < next)
			next = polls[i].deadline;
	return next;
}

void sockets_close_session(struct session *owner)
{
	/* listeners first: they free the connections queued on them */
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < MAX_SOCKETS; i++) {
			struct sock *s = &socks[i];
			if (s->kind != FREE && s->owner == owner && !s->pending && (pass || s->listening))
				sock_free(s);
		}
	struct pollwait *p = &polls[session_id(owner)];
	if (p->reply) {
		uint64_t none[1] = { 0 };
		reply_words(&p->reply, SOCKET_POLL_LABEL, E_STATE, none, 0);
	}
}

/* --- the calls ------------------------------------------------------------- */

/* Wait for progress (a deferred reply), or fail at once when the caller
 * does not wait. */
static long wait_on(struct session *owner, struct waiter *w, uint32_t label, uint32_t timeout_ms)
{
	if (!timeout_ms)
		return E_WOULD_BLOCK;
	if (w->reply)
		return E_LIMIT;
	uint64_t reply = session_defer(owner);
	if (!reply)
		return E_LIMIT;
	w->reply = reply;
	w->label = label;
	w->deadline = deadline_after(timeout_ms);
	return SERVER_DEFERRED;
}

long sock_socket(struct session *owner, uint32_t type, uint32_t *handle)
{
	if (type != TYPE_TCP && type != TYPE_UDP)
		return E_BAD_ARG;
	struct sock *s = sock_new(owner, type == TYPE_TCP ? TCP : UDP);
	if (!s)
		return E_LIMIT;
	if (type == TYPE_TCP) {
		struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
		if (pcb) {
			tcp_watch(s, pcb);
			tcp_nagle_disable(pcb);
		}
	} else {
		s->udp = udp_new_ip_type(IPADDR_TYPE_V4);
		if (s->udp)
			udp_recv(s->udp, on_udp, s);
	}
	if (!s->tcp && !s->udp) {
		s->kind = FREE;
		return NET_ENOBUFS;
	}
	*handle = handle_of(s);
	return E_OK;
}

static void ip_of(uint32_t addr, ip_addr_t *ip)
{
	ip_addr_set_ip4_u32_val(*ip, lwip_htonl(addr));
}

long sock_bind(struct session *owner, uint32_t handle, uint32_t addr, uint32_t port)
{
	struct sock *s = sock_of(owner, handle);
	if (!s || port > 0xffff)
		return E_BAD_ARG;
	ip_addr_t ip;
	ip_of(addr, &ip);
	err_t e;
	if (s->kind == TCP) {
		if (!s->tcp || s->listening || s->connected || s->connecting)
			return E_STATE;
		/* a restarted server binds its port again at once, whatever
		 * TIME_WAIT connections the old one left */
		ip_set_option(s->tcp, SOF_REUSEADDR);
		e = tcp_bind(s->tcp, &ip, (u16_t)port);
	} else {
		e = udp_bind(s->udp, &ip, (u16_t)port);
	}
	return e == ERR_OK ? E_OK : net_error(e, 0);
}

long sock_listen(struct session *owner, uint32_t handle, uint32_t backlog)
{
	struct sock *s = sock_of(owner, handle);
	if (!s)
		return E_BAD_ARG;
	if (s->kind != TCP || !s->tcp || s->connected || s->connecting)
		return E_STATE;
	if (s->listening)
		return E_OK;
	if (backlog < 1)
		backlog = 1;
	if (backlog > ACCEPT_MAX)
		backlog = ACCEPT_MAX;
	if (!s->tcp->local_port) {
		err_t e = tcp_bind(s->tcp, IP4_ADDR_ANY, 0);
		if (e != ERR_OK)
			return net_error(e, 0);
	}
	err_t e = ERR_OK;
	struct tcp_pcb *l = tcp_listen_with_backlog_and_err(s->tcp, (u8_t)backlog, &e);
	if (!l)
		return net_error(e, 0);
	/* the old pcb is freed; the listening one takes its place */
	s->tcp = l;
	s->listening = 1;
	tcp_arg(l, s);
	tcp_accept(l, on_accept);
	return E_OK;
}

long sock_accept(struct session *owner, uint32_t handle, uint32_t timeout_ms, uint32_t *conn, uint32_t *addr,
                 uint32_t *port)
{
	struct sock *s = sock_of(owner, handle);
	struct result r;
	if (!s)
		return E_BAD_ARG;
	if (s->kind != TCP || !s->listening)
		return E_STATE;
	if (s->rd.reply)
		return E_LIMIT;
	if (!try_accept(s, &r))
		return wait_on(owner, &s->rd, SOCKET_ACCEPT_LABEL, timeout_ms);
	*conn = (uint32_t)r.w[0];
	*addr = (uint32_t)r.w[1];
	*port = (uint32_t)r.w[2];
	return r.status;
}

long sock_connect(struct session *owner, uint32_t handle, uint32_t addr, uint32_t port, uint32_t timeout_ms)
{
	struct sock *s = sock_of(owner, handle);
	if (!s || port > 0xffff || !port)
		return E_BAD_ARG;
	ip_addr_t ip;
	ip_of(addr, &ip);
	if (s->kind == UDP) {
		err_t e = udp_connect(s->udp, &ip, (u16_t)port);
		return e == ERR_OK ? E_OK : net_error(e, 0);
	}
	if (s->connected)
		return NET_EISCONN;
	if (s->listening || (!s->tcp && !s->connecting))
		return s->error ? s->error : E_STATE;
	if (s->wr.reply)
		return E_LIMIT;
	if (!s->connecting) {
		err_t e = tcp_connect(s->tcp, &ip, (u16_t)port, on_connected);
		if (e != ERR_OK)
			return net_error(e, 0);
		s->connecting = 1;
	}
	struct result r;
	if (try_connect(s, &r))
		return r.status;
	return wait_on(owner, &s->wr, SOCKET_CONNECT_LABEL, timeout_ms);
}

long sock_send(struct session *owner, uint32_t handle, uint32_t offset, uint32_t len, uint32_t timeout_ms,
               uint32_t *sent)
{
	struct sock *s = sock_of(owner, handle);
	if (!s || data_range(offset, len))
		return E_BAD_ARG;
	if (s->kind == UDP) {
		if (len > UDP_MAX)
			return E_BAD_ARG;
		struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
		if (!p)
			return NET_ENOBUFS;
		pbuf_take(p, session_buffer(owner) + offset, (u16_t)len);
		err_t e = udp_send(s->udp, p);
		pbuf_free(p);
		if (e != ERR_OK)
			return net_error(e, 0);
		*sent = len;
		return E_OK;
	}
	if (s->wr.reply)
		return E_LIMIT;
	struct waiter w = { 0, SOCKET_SEND_LABEL, 0, offset, len, 0 };
	struct result r;
	if (try_send(s, &w, &r)) {
		*sent = (uint32_t)r.w[0];
		return r.status;
	}
	if (!timeout_ms && w.done) {
		*sent = w.done;   /* non-blocking: what fitted */
		return E_OK;
	}
	long err = wait_on(owner, &s->wr, SOCKET_SEND_LABEL, timeout_ms);
	if (err == SERVER_DEFERRED) {
		s->wr.offset = offset;
		s->wr.len = len;
		s->wr.done = w.done;
	}
	return err;
}

long sock_recv(struct session *owner, uint32_t handle, uint32_t offset, uint32_t max, uint32_t timeout_ms,
               uint32_t *got, uint32_t *len, uint32_t *addr, uint32_t *port, uint32_t label)
{
	struct sock *s = sock_of(owner, handle);
	if (!s || data_range(offset, max))
		return E_BAD_ARG;
	if (label == SOCKET_RECVFROM_LABEL && s->kind != UDP)
		return E_STATE;
	if (s->rd.reply)
		return E_LIMIT;
	struct result r;
	if (!try_recv(s, offset, max, &r)) {
		long err = wait_on(owner, &s->rd, label, timeout_ms);
		if (err == SERVER_DEFERRED) {
			s->rd.offset = offset;
			s->rd.len = max;
		}
		return err;
	}
	*got = (uint32_t)r.w[0];
	if (len)
		*len = (uint32_t)r.w[1], *addr = (uint32_t)r.w[2], *port = (uint32_t)r.w[3];
	return r.status;
}

long sock_sendto(struct session *owner, uint32_t handle, uint32_t offset, uint32_t len, uint32_t addr,
                 uint32_t port)
{
	struct sock *s = sock_of(owner, handle);
	if (!s || data_range(offset, len) || len > UDP_MAX || port > 0xffff || !port)
		return E_BAD_ARG;
	if (s->kind != UDP)
		return E_STATE;
	ip_addr_t ip;
	ip_of(addr, &ip);
	struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
	if (!p)
		return NET_ENOBUFS;
	pbuf_take(p, session_buffer(owner) + offset, (u16_t)len);
	err_t e = udp_sendto(s->udp, p, &ip, (u16_t)port);
	pbuf_free(p);
	return e == ERR_OK ? E_OK : net_error(e, 0);
}

long sock_shutdown(struct session *owner, uint32_t handle, uint32_t how)
{
	struct sock *s = sock_of(owner, handle);
	if (!s || how < 1 || how > 3)
		return E_BAD_ARG;
	if (how & 1) {
		s->shut_rd = 1;
		if (s->rx) {
			consume(s, s->rx->tot_len);
			s->rx = 0;
		}
	}
	if ((how & 2) && !s->shut_wr) {
		s->shut_wr = 1;
		if (s->kind == TCP && s->tcp && s->connected && !s->listening)
			tcp_shutdown(s->tcp, 0, 1);
	}
	return E_OK;
}

long sock_close(struct session *owner, uint32_t handle)
{
	struct sock *s = sock_of(owner, handle);
	if (!s)
		return E_BAD_ARG;
	sock_free(s);
	return E_OK;
}

long sock_name(struct session *owner, uint32_t handle, uint32_t *laddr, uint32_t *lport, uint32_t *paddr,
               uint32_t *pport)
{
	struct sock *s = sock_of(owner, handle);
	if (!s)
		return E_BAD_ARG;
	if (s->kind == UDP) {
		*laddr = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&s->udp->local_ip)));
		*lport = s->udp->local_port;
		*paddr = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&s->udp->remote_ip)));
		*pport = s->udp->remote_port;
		return E_OK;
	}
	if (!s->tcp)
		return s->error ? s->error : E_STATE;
	/* a listening pcb is the smaller struct tcp_pcb_listen: local fields only */
	*laddr = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&s->tcp->local_ip)));
	*lport = s->tcp->local_port;
	if (!s->listening) {
		*paddr = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&s->tcp->remote_ip)));
		*pport = s->tcp->remote_port;
	}
	return E_OK;
}

long sock_poll(struct session *owner, uint32_t count, const uint32_t sock[64], const uint8_t events[64],
               uint32_t timeout_ms, uint32_t *ready, uint8_t revents[64])
{
	struct pollwait *p = &polls[session_id(owner)];
	if (count > POLL_MAX)
		return E_BAD_ARG;
	if (p->reply)
		return E_LIMIT;
	p->owner = owner;
	p->count = count;
	memcpy(p->sock, sock, sizeof(p->sock));
	memcpy(p->events, events, sizeof(p->events));
	if (poll_check(p, revents, ready) || !timeout_ms)
		return E_OK;
	uint64_t reply = session_defer(owner);
	if (!reply)
		return E_LIMIT;
	p->reply = reply;
	p->deadline = deadline_after(timeout_ms);
	return SERVER_DEFERRED;
}

void sockets_init(void)
{
	for (unsigned i = 0; i < MAX_SOCKETS; i++)
		socks[i].kind = FREE;
}
