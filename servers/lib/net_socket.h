/* Sockets for Berth programs: BSD-like calls on the network server
 * ("net", idl/socket.idl).  newlib has no socket headers, so this is
 * the one header: the BSD names and structures a small TCP or UDP
 * program needs, IPv4 only.
 *
 * The calls behave as BSD's, with these differences:
 *   - a socket is closed with closesocket (close is the C library's, for
 *     files); socket descriptors are numbers from NET_FD_BASE up, apart
 *     from the C library's file descriptors;
 *   - failures return -1 and set errno (newlib's numbers: ECONNREFUSED,
 *     ECONNRESET, ETIMEDOUT, EADDRINUSE, EAGAIN, ...);
 *   - non-blocking use is net_set_nonblocking (no fcntl) or the
 *     MSG_DONTWAIT flag; SO_RCVTIMEO / SO_SNDTIMEO (a struct timeval)
 *     bound recv / send / accept / connect, which then fail with EAGAIN;
 *   - poll takes socket descriptors only, at most NET_POLL_MAX;
 *   - a program's sockets share one session with the server and its
 *     64 KiB buffer: calls from several threads are fine; send, recv,
 *     sendto and recvfrom move at most 64 KiB per call through it, one
 *     thread at a time (a lock in the library, held while such a call
 *     waits); accept, connect, poll and net_ping wait without it;
 *   - if the network server dies, every socket fails (ECONNRESET, EPIPE
 *     on send); sockets made after init restarted it work again.
 * Plus net_ifconfig and net_ping (the shell's ifconfig and ping).
 */
#ifndef NET_SOCKET_H
#define NET_SOCKET_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/time.h>

#define AF_INET 2
#define PF_INET AF_INET
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define INADDR_ANY 0u
#define INADDR_LOOPBACK 0x7f000001u

#define SOL_SOCKET 1
#define SO_REUSEADDR 2        /* accepted; listening sockets always reuse */
#define SO_RCVTIMEO 20
#define SO_SNDTIMEO 21
#define MSG_DONTWAIT 0x40
#define SHUT_RD 0
#define SHUT_WR 1
#define SHUT_RDWR 2

#define POLLIN 0x001
#define POLLOUT 0x004
#define POLLERR 0x008
#define POLLHUP 0x010
#define POLLNVAL 0x020

/* Where the library maps its session's buffer (64 KiB) in the program's
 * address space, on the first socket call: a program keeps clear of it. */
#define NET_SOCKET_BUFFER_VA 0x0000310000000000UL

#define NET_FD_BASE 64
#define NET_MAX_SOCKETS 64
#define NET_POLL_MAX 64

typedef uint32_t socklen_t;
typedef uint32_t in_addr_t;
typedef uint16_t in_port_t;

struct in_addr {
	in_addr_t s_addr;         /* network byte order */
};

struct sockaddr {
	uint16_t sa_family;
	char sa_data[14];
};

struct sockaddr_in {
	uint16_t sin_family;
	in_port_t sin_port;       /* network byte order */
	struct in_addr sin_addr;
	uint8_t sin_zero[8];
};

struct pollfd {
	int fd;
	short events;
	short revents;
};

static inline uint16_t htons(uint16_t v) { return __builtin_bswap16(v); }
static inline uint16_t ntohs(uint16_t v) { return __builtin_bswap16(v); }
static inline uint32_t htonl(uint32_t v) { return __builtin_bswap32(v); }
static inline uint32_t ntohl(uint32_t v) { return __builtin_bswap32(v); }

int socket(int domain, int type, int protocol);
int bind(int fd, const struct sockaddr *addr, socklen_t len);
int listen(int fd, int backlog);
int accept(int fd, struct sockaddr *addr, socklen_t *len);
int connect(int fd, const struct sockaddr *addr, socklen_t len);
ssize_t send(int fd, const void *buf, size_t len, int flags);
ssize_t recv(int fd, void *buf, size_t len, int flags);
ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen);
ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen);
int shutdown(int fd, int how);
int closesocket(int fd);
int setsockopt(int fd, int level, int name, const void *value, socklen_t len);
int getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int getpeername(int fd, struct sockaddr *addr, socklen_t *len);
/* timeout in ms, -1 for ever; the count of ready descriptors */
int poll(struct pollfd *fds, unsigned nfds, int timeout);
int net_set_nonblocking(int fd, int on);

/* "a.b.c.d" to an address in network order; INADDR_NONE (all ones) if
 * it is not one */
#define INADDR_NONE 0xffffffffu
in_addr_t inet_addr(const char *text);
int inet_aton(const char *text, struct in_addr *out);
/* the dotted quad, in a buffer of the library's (the next call reuses it) */
char *inet_ntoa(struct in_addr a);

/* The interface (idl/socket.idl's ifconfig); addresses in host order,
 * the first byte highest. */
struct net_ifinfo {
	uint32_t addr, netmask, gateway, mtu;
	uint8_t mac[6];
	int link_up, has_address, attached;
	uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes, dropped;
};
int net_ifconfig(struct net_ifinfo *info);
/* One echo to addr (host order); 0 with the round trip in microseconds
 * and the reply's TTL, or -1 (errno EAGAIN: no reply in time) */
int net_ping(uint32_t addr, unsigned seq, unsigned size, unsigned timeout_ms, unsigned *rtt_us, unsigned *ttl);

#endif
