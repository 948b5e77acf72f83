/*
 * The sockets library (net_socket.h) on idl/socket.idl.  A program's
 * first socket opens its session with the network server and maps the
 * session's 64 KiB buffer at NET_BUFFER_VA; send and recv copy through
 * it with safe_copy, since the buffer is the server's memory and leaves
 * our space if the server dies mid-copy.  Descriptors name entries of a
 * table here, each holding the server's handle and the session it
 * belongs to, so sockets of a session that died with the server fail
 * cleanly instead of naming someone else's.  One lock covers the table, the session and the buffer; the
 * calls that may wait without the buffer (accept, connect, poll, ping)
 * drop it while they wait.
 */
#include <errno.h>
#include <libipc/libipc.h>
#include <libipc/ipc.h>
#include <libipc/lock.h>
#include "socket.h"     /* generated from idl/socket.idl */
#include "init.h"
#include "net_socket.h"
#include "safe_copy.h"

#define INIT_SLOT 8
#define NET_BUFFER_VA NET_SOCKET_BUFFER_VA
#define MAX_PAGES 16
#define PAGE 4096UL
#define FOREVER 0xffffffffu
#define TYPE_TCP 1
#define TYPE_UDP 2
#define ERRNO_BASE 1000

struct lsock {
	int used;
	int type;
	uint32_t handle;          /* the server's */
	unsigned session;         /* which of our sessions made it */
	int nonblocking;
	uint32_t rcv_ms, snd_ms;  /* 0: for ever */
};

static struct lsock socks[NET_MAX_SOCKETS];
static uint64_t net_port, session, frames[MAX_PAGES];
static uint32_t pages;
static unsigned generation;   /* of the current session, 0: none */
static uint8_t *const buf = (uint8_t *)NET_BUFFER_VA;
static struct ipc_lock lib_lock;

static void lock(void)
{
	ipc_lock(&lib_lock);
}

static int unlock_ret(int v)
{
	ipc_unlock(&lib_lock);
	return v;
}

static void drop(uint64_t *slot)
{
	if (*slot) {
		sys_cnode_delete(*slot);
		slot_free(*slot);
		*slot = 0;
	}
}

static int server_gone(long err)
{
	return ipc_peer_gone(err);
}

/* The server died: its session and our mapping of its buffer with it.
 * The next socket() looks it up again. */
static void lose_session(void)
{
	for (unsigned p = 0; p < pages; p++) {
		if (frames[p])
			sys_page_unmap(frames[p]);
		drop(&frames[p]);
	}
	pages = 0;
	drop(&session);
	drop(&net_port);
	generation = 0;
}

static int find_server(void)
{
	if (net_port)
		return 0;
	if (init_lookup(INIT_SLOT, "net", &net_port)) {
		net_port = 0;
		return -1;
	}
	return 0;
}

static int open_session(void)
{
	static unsigned sessions_made;
	if (generation)
		return 0;
	if (find_server())
		return -1;
	long err = socket_open(net_port, "lib", &session, &pages);
	if (err || pages > MAX_PAGES) {
		if (!err || server_gone(err))
			lose_session();
		session = 0;
		pages = 0;
		return -1;
	}
	err = safe_copy_start();
	for (unsigned p = 0; !err && p < pages; p++) {
		err = socket_buffer_frame(session, p, &frames[p]);
		err = err ? err : page_map_with_tables(frames[p], NET_BUFFER_VA + p * PAGE, RIGHT_READ | RIGHT_WRITE);
	}
	if (err) {
		lose_session();
		return -1;
	}
	generation = ++sessions_made;
	return 0;
}

/* A status of a call made in session `gen` as errno, -1 returned (the
 * lock is held).  A dead server ends that session, unless another
 * thread has already opened a new one meanwhile. */
static int fail_in(long status, unsigned gen)
{
	switch (status) {
	case E_WOULD_BLOCK:
		errno = EAGAIN;
		break;
	case E_DEAD_PORT:
	case E_NO_REPLY:
	case E_BAD_CAP:
		if (gen == generation)
			lose_session();
		errno = ECONNRESET;
		break;
	case E_LIMIT:
		errno = ENOBUFS;
		break;
	case ERRNO_BASE + 32:
		errno = EPIPE;
		break;
	case ERRNO_BASE + 98:
		errno = EADDRINUSE;
		break;
	case ERRNO_BASE + 104:
		errno = ECONNRESET;
		break;
	case ERRNO_BASE + 105:
		errno = ENOBUFS;
		break;
	case ERRNO_BASE + 106:
		errno = EISCONN;
		break;
	case ERRNO_BASE + 107:
		errno = ENOTCONN;
		break;
	case ERRNO_BASE + 110:
		errno = ETIMEDOUT;
		break;
	case ERRNO_BASE + 111:
		errno = ECONNREFUSED;
		break;
	case ERRNO_BASE + 113:
		errno = EHOSTUNREACH;
		break;
	default:
		errno = EINVAL;
		break;
	}
	return -1;
}

static int fail(long status)
{
	return fail_in(status, generation);
}

/* Copies between the caller's memory and the server's buffer (the lock is
 * held).  A fault is the server's death if the buffer went away, else the
 * caller's bad pointer (EFAULT, and the session lives on). */
static int copy_fails(void *dst, const void *src, size_t n)
{
	uint8_t probe;
	if (!safe_copy(dst, src, n))
		return 0;
	if (safe_copy(&probe, buf, 1))
		return fail(E_DEAD_PORT);
	errno = EFAULT;
	return -1;
}

/* accept, connect, poll and ping may wait long and use no shared buffer:
 * they run with the lock dropped, so a thread waiting in one holds up no
 * other thread's calls.  What they need is copied first. */
static void unlock_for_call(void)
{
	ipc_unlock(&lib_lock);
}

/* The entry of a descriptor, or 0 with errno set (the lock is held). */
static struct lsock *entry(int fd)
{
	unsigned i = (unsigned)(fd - NET_FD_BASE);
	if (fd < NET_FD_BASE || i >= NET_MAX_SOCKETS || !socks[i].used) {
		errno = EBADF;
		return 0;
	}
	if (socks[i].session != generation) {
		errno = ECONNRESET;   /* its server died */
		return 0;
	}
	return &socks[i];
}

static uint32_t wait_ms(const struct lsock *s, int flags, uint32_t set)
{
	if (s->nonblocking || (flags & MSG_DONTWAIT))
		return 0;
	return set ? set : FOREVER;
}

static int new_entry(int type, uint32_t handle)
{
	for (unsigned i = 0; i < NET_MAX_SOCKETS; i++)
		if (!socks[i].used) {
			socks[i] = (struct lsock){ 1, type, handle, generation, 0, 0, 0 };
			return NET_FD_BASE + (int)i;
		}
	return -1;
}

int socket(int domain, int type, int protocol)
{
	(void)protocol;
	if (domain != AF_INET || (type != SOCK_STREAM && type != SOCK_DGRAM)) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	lock();
	if (open_session()) {
		errno = ENETDOWN;
		return unlock_ret(-1);
	}
	int kind = type == SOCK_STREAM ? TYPE_TCP : TYPE_UDP;
	uint32_t handle;
	long err = socket_socket(session, (uint32_t)kind, &handle);
	if (err)
		return unlock_ret(fail(err));
	int fd = new_entry(kind, handle);
	if (fd < 0) {
		socket_close(session, handle);
		errno = EMFILE;
	}
	return unlock_ret(fd);
}

static int address_of(const struct sockaddr *addr, socklen_t len, uint32_t *ip, uint32_t *port)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
	if (!addr || len < sizeof(*in) || in->sin_family != AF_INET) {
		errno = EINVAL;
		return -1;
	}
	*ip = ntohl(in->sin_addr.s_addr);
	*port = ntohs(in->sin_port);
	return 0;
}

static void fill_address(struct sockaddr *addr, socklen_t *len, uint32_t ip, uint32_t port)
{
	struct sockaddr_in in;
	if (!addr || !len)
		return;
	memset(&in, 0, sizeof(in));
	in.sin_family = AF_INET;
	in.sin_port = htons((uint16_t)port);
	in.sin_addr.s_addr = htonl(ip);
	memcpy(addr, &in, *len < sizeof(in) ? *len : sizeof(in));
	*len = sizeof(in);
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	uint32_t ip, port;
	if (address_of(addr, len, &ip, &port))
		return -1;
	lock();
	struct lsock *s = entry(fd);
	if (!s)
		return unlock_ret(-1);
	long err = socket_bind(session, s->handle, ip, port);
	return unlock_ret(err ? fail(err) : 0);
}

int listen(int fd, int backlog)
{
	lock();
	struct lsock *s = entry(fd);
	if (!s)
		return unlock_ret(-1);
	long err = socket_listen(session, s->handle, backlog < 1 ? 1 : (uint32_t)backlog);
	return unlock_ret(err ? fail(err) : 0);
}

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	lock();
	struct lsock *s = entry(fd);
	if (!s)
		return unlock_ret(-1);
	uint32_t conn, ip, port;
	uint64_t sess = session;
	unsigned gen = generation;
	uint32_t handle = s->handle, wait = wait_ms(s, 0, s->rcv_ms);
	unlock_for_call();
	long err = socket_accept(sess, handle, wait, &conn, &ip, &port);
	lock();
	if (err)
		return unlock_ret(fail_in(err, gen));
	if (gen != generation) {
		errno = ECONNRESET;   /* its server died meanwhile */
		return unlock_ret(-1);
	}
	int nfd = new_entry(TYPE_TCP, conn);
	if (nfd < 0) {
		socket_close(session, conn);
		errno = EMFILE;
		return unlock_ret(-1);
	}
	fill_address(addr, len, ip, port);
	return unlock_ret(nfd);
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	uint32_t ip, port;
	if (address_of(addr, len, &ip, &port))
		return -1;
	lock();
	struct lsock *s = entry(fd);
	if (!s)
		return unlock_ret(-1);
	uint64_t sess = session;
	unsigned gen = generation;
	int nonblocking = s->nonblocking;
	uint32_t handle = s->handle, wait = wait_ms(s, 0, s->snd_ms);
	unlock_for_call();
	long err = socket_connect(sess, handle, ip, port, wait);
	lock();
	if (err == E_WOULD_BLOCK && nonblocking) {
		errno = EINPROGRESS;
		return unlock_ret(-1);
	}
	return unlock_ret(err ? fail_in(err, gen) : 0);
}

static ssize_t send_locked(struct lsock *s, const void *data, size_t len, int flags, const struct sockaddr_in *to)
{
	size_t total = 0;
	uint32_t size = pages * PAGE;
	do {
		uint32_t n = len - total > size ? size : (uint32_t)(len - total);
		uint32_t sent = n;
		if (copy_fails(buf, (const uint8_t *)data + total, n))
			return total ? (ssize_t)total : -1;
		long err;
		if (to)
			err = socket_sendto(session, s->handle, 0, n, ntohl(to->sin_addr.s_addr), ntohs(to->sin_port));
		else
			err = socket_send(session, s->handle, 0, n, wait_ms(s, flags, s->snd_ms), &sent);
		if (err)
			return total ? (ssize_t)total : fail(err);
		total += sent;
		if (sent < n || s->type == TYPE_UDP)
			break;
	} while (total < len);
	return (ssize_t)total;
}

ssize_t send(int fd, const void *data, size_t len, int flags)
{
	lock();
	struct lsock *s = entry(fd);
	if (!s)
		return unlock_ret(-1);
	if (s->type == TYPE_UDP && len > pages * PAGE) {
		errno = EMSGSIZE;
		return unlock_ret(-1);
	}
	return unlock_ret((int)send_locked(s, data, len, flags, 0));
}

ssize_t sendto(int fd, const void *data, size_t len, int flags, const struct sockaddr *to, socklen_t tolen)
{
	if (!to)
		return send(fd, data, len, flags);
	uint32_t ip, port;
	if (address_of(to, tolen, &ip, &port))
		return -1;
	lock();
	struct lsock *s = entry(fd);
	if (!s)
		return unlock_ret(-1);
	if (s->type != TYPE_UDP) {
		errno = EISCONN;
		return unlock_ret(-1);
	}
	if (len > pages * PAGE) {
		errno = EMSGSIZE;
		return unlock_ret(-1);
	}
	return unlock_ret((int)send_locked(s, data, len, flags, (const struct sockaddr_in *)to));
}

ssize_t recvfrom(int fd, void *data, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen)
{
	lock();
	struct lsock *s = entry(fd);
	if (!s)
		return unlock_ret(-1);
	uint32_t max = len > pages * PAGE ? pages * PAGE : (uint32_t)len;
	uint32_t got, whole, ip = 0, port = 0;
	long err;
	if (s->type == TYPE_UDP)
		err = socket_recvfrom(session, s->handle, 0, max, wait_ms(s, flags, s->rcv_ms), &got, &whole, &ip, &port);
	else
		err = socket_recv(session, s->handle, 0, max, wait_ms(s, flags, s->rcv_ms), &got);
	if (err)
		return unlock_ret(fail(err));
	if (got > max)
		got = max;
	if (copy_fails(data, buf, got))
		return unlock_ret(-1);
	if (s->type == TYPE_UDP)
		fill_address(from, fromlen, ip, port);
	return unlock_ret((int)got);
}

ssize_t recv(int fd, void *data, size_t len, int flags)
{
	return recvfrom(fd, data, len, flags, 0, 0);
}

int shutdown(int fd, int how)
{
	lock();
	struct lsock *s = entry(fd);
	if (!s)
		return unlock_ret(-1);
	uint32_t bits = how == SHUT_RD ? 1 : how == SHUT_WR ? 2 : how == SHUT_RDWR ? 3 : 0;
	if (!bits) {
		errno = EINVAL;
		return unlock_ret(-1);
	}
	long err = socket_shutdown(session, s->handle, bits);
	return unlock_ret(err ? fail(err) : 0);
}

int closesocket(int fd)
{
	lock();
	unsigned i = (unsigned)(fd - NET_FD_BASE);
	if (fd < NET_FD_BASE || i >= NET_MAX_SOCKETS || !socks[i].used) {
		errno = EBADF;
		return unlock_ret(-1);
	}
	struct lsock *s = &socks[i];
	long err = s->session == generation ? socket_close(session, s->handle) : E_OK;
	s->used = 0;
	if (server_gone(err))
		lose_session();
	return unlock_ret(0);
}

int setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
	lock();
	struct lsock *s = entry(fd);
	if (!s)
		return unlock_ret(-1);
	if (level != SOL_SOCKET) {
		errno = ENOPROTOOPT;
		return unlock_ret(-1);
	}
	if (name == SO_REUSEADDR)
		return unlock_ret(0);
	if ((name != SO_RCVTIMEO && name != SO_SNDTIMEO) || !value || len < sizeof(struct timeval)) {
		errno = name == SO_RCVTIMEO || name == SO_SNDTIMEO ? EINVAL : ENOPROTOOPT;
		return unlock_ret(-1);
	}
	const struct timeval *tv = value;
	uint64_t ms = (uint64_t)tv->tv_sec * 1000 + (uint64_t)tv->tv_usec / 1000;
	if (tv->tv_sec < 0 || tv->tv_usec < 0) {
		errno = EINVAL;
		return unlock_ret(-1);
	}
	if (!ms && tv->tv_usec)
		ms = 1;
	if (ms >= FOREVER)
		ms = 0;
	if (name == SO_RCVTIMEO)
		s->rcv_ms = (uint32_t)ms;
	else
		s->snd_ms = (uint32_t)ms;
	return unlock_ret(0);
}

int net_set_nonblocking(int fd, int on)
{
	lock();
	struct lsock *s = entry(fd);
	if (!s)
		return unlock_ret(-1);
	s->nonblocking = on != 0;
	return unlock_ret(0);
}

static int names(int fd, struct sockaddr *addr, socklen_t *len, int peer)
{
	lock();
	struct lsock *s = entry(fd);
	if (!s)
		return unlock_ret(-1);
	uint32_t la, lp, pa, pp;
	long err = socket_name(session, s->handle, &la, &lp, &pa, &pp);
	if (err)
		return unlock_ret(fail(err));
	if (peer && !pp) {
		errno = ENOTCONN;
		return unlock_ret(-1);
	}
	fill_address(addr, len, peer ? pa : la, peer ? pp : lp);
	return unlock_ret(0);
}

int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	return names(fd, addr, len, 0);
}

int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	return names(fd, addr, len, 1);
}

int poll(struct pollfd *fds, unsigned nfds, int timeout)
{
	uint32_t handles[NET_POLL_MAX] = { 0 }, ready = 0;
	uint8_t events[NET_POLL_MAX] = { 0 }, revents[NET_POLL_MAX] = { 0 };
	if (nfds > NET_POLL_MAX) {
		errno = EINVAL;
		return -1;
	}
	lock();
	int invalid = 0;
	for (unsigned i = 0; i < nfds; i++) {
		int saved = errno;
		struct lsock *s = entry(fds[i].fd);
		errno = saved;
		fds[i].revents = 0;
		if (!s) {
			fds[i].revents = POLLNVAL;
			invalid++;
			continue;
		}
		handles[i] = s->handle;
		events[i] = (uint8_t)(((fds[i].events & POLLIN) ? 1 : 0) | ((fds[i].events & POLLOUT) ? 2 : 0));
	}
	if (!generation)
		return unlock_ret(invalid);
	/* a descriptor that is not a socket of ours waits on nothing */
	uint32_t wait = invalid ? 0 : timeout < 0 ? FOREVER : (uint32_t)timeout;
	uint64_t sess = session;
	unsigned gen = generation;
	unlock_for_call();
	long err = socket_poll(sess, nfds, handles, events, wait, &ready, revents);
	lock();
	if (err)
		return unlock_ret(fail_in(err, gen));
	int count = 0;
	for (unsigned i = 0; i < nfds; i++) {
		if (fds[i].revents == POLLNVAL) {
			count++;
			continue;
		}
		short r = (short)(((revents[i] & 1) ? POLLIN : 0) | ((revents[i] & 2) ? POLLOUT : 0) |
		                  ((revents[i] & 4) ? POLLERR : 0) | ((revents[i] & 8) ? POLLNVAL : 0));
		fds[i].revents = r;
		if (r)
			count++;
	}
	return unlock_ret(count);
}

int inet_aton(const char *text, struct in_addr *out)
{
	uint32_t v = 0;
	for (int part = 0; part < 4; part++) {
		unsigned n = 0, digits = 0;
		while (*text >= '0' && *text <= '9' && digits < 4) {
			n = n * 10 + (unsigned)(*text++ - '0');
			digits++;
		}
		if (!digits || n > 255 || (part < 3 && *text++ != '.'))
			return 0;
		v = v << 8 | n;
	}
	if (*text)
		return 0;
	out->s_addr = htonl(v);
	return 1;
}

in_addr_t inet_addr(const char *text)
{
	struct in_addr a;
	return inet_aton(text, &a) ? a.s_addr : INADDR_NONE;
}

char *inet_ntoa(struct in_addr a)
{
	static char text[16];
	uint32_t v = ntohl(a.s_addr);
	debug_snprintf(text, sizeof(text), "%u.%u.%u.%u", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255);
	return text;
}

int net_ifconfig(struct net_ifinfo *info)
{
	lock();
	if (find_server()) {
		errno = ENETDOWN;
		return unlock_ret(-1);
	}
	uint64_t mac;
	uint32_t flags;
	long err = socket_ifconfig(net_port, &info->addr, &info->netmask, &info->gateway, &mac, &info->mtu, &flags,
	                           &info->rx_frames, &info->rx_bytes, &info->tx_frames, &info->tx_bytes,
	                           &info->dropped);
	if (err)
		return unlock_ret(fail(err));
	for (int i = 0; i < 6; i++)
		info->mac[i] = (uint8_t)(mac >> (8 * i));
	info->link_up = flags & 1;
	info->has_address = (flags >> 1) & 1;
	info->attached = (flags >> 2) & 1;
	return unlock_ret(0);
}

int net_ping(uint32_t addr, unsigned seq, unsigned size, unsigned timeout_ms, unsigned *rtt_us, unsigned *ttl)
{
	lock();
	if (find_server()) {
		errno = ENETDOWN;
		return unlock_ret(-1);
	}
	uint32_t rtt, t;
	uint64_t port = net_port;
	unsigned gen = generation;
	unlock_for_call();
	long err = socket_ping(port, addr, seq, size, timeout_ms, &rtt, &t);
	lock();
	if (err)
		return unlock_ret(fail_in(err, gen));
	if (rtt_us)
		*rtt_us = rtt;
	if (ttl)
		*ttl = t;
	return unlock_ret(0);
}
