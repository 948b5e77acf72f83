/* What the parts of the network server share.  See README.md. */
#ifndef NET_H
#define NET_H

#include <stdint.h>
#include <libipc/libipc.h>
#include <libipc/server.h>

#define INIT_SLOT 8

/* Notification bits on the main port */
#define BIT_TIMER 1ULL    /* SYS_NOTIFY_AFTER: lwIP's timers, waits that run out */
#define BIT_LINK 2ULL     /* the driver: frames arrived, transmit slots done, link changed */

/* Errors of idl/socket.idl beyond the kernel's: 1000 + a Linux errno */
#define NET_ERRNO_BASE 1000
#define NET_EPIPE (NET_ERRNO_BASE + 32)
#define NET_EADDRINUSE (NET_ERRNO_BASE + 98)
#define NET_ECONNRESET (NET_ERRNO_BASE + 104)
#define NET_ENOBUFS (NET_ERRNO_BASE + 105)
#define NET_EISCONN (NET_ERRNO_BASE + 106)
#define NET_ENOTCONN (NET_ERRNO_BASE + 107)
#define NET_ETIMEDOUT (NET_ERRNO_BASE + 110)
#define NET_ECONNREFUSED (NET_ERRNO_BASE + 111)
#define NET_EHOSTUNREACH (NET_ERRNO_BASE + 113)

#define WAIT_FOREVER 0xffffffffu
#define NO_DEADLINE UINT64_MAX

/* --- main.c: the one lock over lwIP and all of the server's state ------- */
void net_lock(void);
/* Let lwIP finish what the locked work started (loopback frames, waiting
 * calls that can now be answered, frames to hand the driver, the timer),
 * then unlock. */
void net_unlock(void);
extern uint64_t main_port, main_send;   /* the main thread's port, our send right to it */

/* The current call's reply right, kept (server_defer) in a slot of its
 * own: ctx is the call's session, or 0 on the published port. */
uint64_t defer_current(void *ctx);
/* A deferred call's reply right, answered later with reply_words. */
void reply_words(uint64_t *reply, uint32_t label, long status, const uint64_t *words, unsigned n);
/* The deadline, in clock_ms(), of a wait of timeout_ms from now. */
uint64_t deadline_after(uint32_t timeout_ms);

/* --- clock.c: lwIP's sys_now (libipc's clock_ms) and LWIP_RAND ---------- */
uint32_t net_random(void);

/* --- link.c: lwIP's Ethernet interface on the driver (idl/netif.idl) ---- */
struct ip4_addr;
/* Add the netif with a static address (addr, mask and gw not NULL) or
 * start DHCP (addr NULL); attach to the driver later. */
void link_init(const char *driver, const struct ip4_addr *addr, const struct ip4_addr *mask,
               const struct ip4_addr *gw);
void link_poll(void);                /* on BIT_LINK and every tick: frames in, reattach */
void link_flush(void);               /* hand queued frames to the driver */
uint64_t link_next_ms(void);         /* when link_poll wants to run next */
struct link_info {
	uint32_t addr, netmask, gateway, mtu, flags;
	uint64_t mac, rx_frames, rx_bytes, tx_frames, tx_bytes, dropped;
};
void link_info(struct link_info *info);
/* The switch (vswitch.h) link.c owns: a frame into it on port p, then
 * what it delivered toward lwIP into lwIP. */
#include <stddef.h>
#include "vswitch.h"
enum vsw_reason link_switch_input(unsigned p, const uint8_t *frame, size_t len);
struct vswitch *link_switch(void);

/* --- guests.c: the guests' ports on the switch ("switch", idl/vswitch.idl) */
/* The switch delivers a frame to guest port p: into its receive queue;
 * nonzero if it could not. */
int guest_deliver(unsigned p, const uint8_t *frame, size_t len);
/* "switch" is the main port under this badge ("net" is badge 0); a guest
 * session's badge is larger. */
#define SWITCH_BADGE 1ULL
/* A request with a nonzero badge: 1 if it was a vswitch.idl method. */
int guests_dispatch(const struct msg *req, const uint64_t *recv_slots, struct msg *reply);
void guests_check(void);   /* sessions whose VMM died end */
/* The guests' network: 10.0.4.0/24, Berth (lwIP) at 10.0.4.1 */
#define GUEST_NET_BASE 0x0a000400u
#define GUEST_NET_ADDR "10.0.4.1"
#define GUEST_NET_MASK "255.255.255.0"

/* The MAC of the guest with this address (attached once): 0, or -1. */
int guest_mac(uint32_t ip, uint8_t mac[6]);

/* --- nat.c: between the guests' network and the uplink ------------------ */
/* An IPv4 packet (ip, len bytes) from a guest to lwIP's gw interface: 0
 * it is for lwIP, 1 translated (send it out through eth), -1 dropped. */
int nat_out(uint8_t *ip, unsigned len);
/* An IPv4 packet from the uplink to lwIP's eth interface: 0 it is for
 * lwIP, 1 translated (send it to the guest at its new destination), -1
 * dropped. */
int nat_in(uint8_t *ip, unsigned len);
/* forward(): proto 6/17; guest_port 0 removes.  E_OK, E_LIMIT, E_BAD_ARG. */
long nat_forward(uint32_t proto, uint32_t berth_port, uint32_t guest_ip, uint32_t guest_port);
/* translated out, in; dropped out, in */
void nat_counters(uint64_t c[4]);

/* --- sessions.c ---------------------------------------------------------- */
struct session;
void sessions_init(unsigned thread_priority);
long session_open(const char *client, uint64_t *send, uint32_t *pages);
long session_frame(struct session *s, uint32_t page, uint64_t *frame);
void session_handed_out(void);        /* after open's reply went: arm no-senders */
uint8_t *session_buffer(struct session *s);
#define SESSION_BUFFER_BITS 16
#define SESSION_BUFFER_SIZE (1U << SESSION_BUFFER_BITS)
uint64_t session_defer(struct session *s);   /* the current call's reply right */
int session_id(const struct session *s);

/* --- sockets.c ----------------------------------------------------------- */
void sockets_init(void);
/* the socket methods of idl/socket.idl (calls.c dispatches to them) */
long sock_socket(struct session *owner, uint32_t type, uint32_t *handle);
long sock_bind(struct session *owner, uint32_t handle, uint32_t addr, uint32_t port);
long sock_listen(struct session *owner, uint32_t handle, uint32_t backlog);
long sock_accept(struct session *owner, uint32_t handle, uint32_t timeout_ms, uint32_t *conn, uint32_t *addr,
                 uint32_t *port);
long sock_connect(struct session *owner, uint32_t handle, uint32_t addr, uint32_t port, uint32_t timeout_ms);
long sock_send(struct session *owner, uint32_t handle, uint32_t offset, uint32_t len, uint32_t timeout_ms,
               uint32_t *sent);
/* recv (len 0) and recvfrom (len, addr and port given) by the call's label */
long sock_recv(struct session *owner, uint32_t handle, uint32_t offset, uint32_t max, uint32_t timeout_ms,
               uint32_t *got, uint32_t *len, uint32_t *addr, uint32_t *port, uint32_t label);
long sock_sendto(struct session *owner, uint32_t handle, uint32_t offset, uint32_t len, uint32_t addr,
                 uint32_t port);
long sock_shutdown(struct session *owner, uint32_t handle, uint32_t how);
long sock_close(struct session *owner, uint32_t handle);
long sock_name(struct session *owner, uint32_t handle, uint32_t *laddr, uint32_t *lport, uint32_t *paddr,
               uint32_t *pport);
long sock_poll(struct session *owner, uint32_t count, const uint32_t sock[64], const uint8_t events[64],
               uint32_t timeout_ms, uint32_t *ready, uint8_t revents[64]);

/* --- calls.c: idl/socket.idl's dispatch -------------------------------------- */
/* A request on a session (s) or the published port (0): 1 if it was one
 * of the interface's methods, *reply built (or w[0] SERVER_DEFERRED). */
int calls_dispatch(struct session *s, const struct msg *req, const uint64_t *recv_slots, struct msg *reply);
void sockets_close_session(struct session *s);  /* the client is gone */
void sockets_service(void);                     /* answer waits that can be answered */
uint64_t sockets_next_deadline(void);

/* --- ping.c -------------------------------------------------------------- */
void ping_init(void);
long ping_check(uint32_t size, uint32_t timeout_ms);
/* sends the echo and defers the caller's reply (SERVER_DEFERRED), or an error */
long ping_start(void *ctx, uint32_t addr, uint32_t seq, uint32_t size, uint32_t timeout_ms);
void ping_service(void);
uint64_t ping_next_deadline(void);

#endif
