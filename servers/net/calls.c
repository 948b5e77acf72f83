/*
 * idl/socket.idl's methods: which port each belongs on, and the glue to
 * sessions.c, sockets.c, link.c and ping.c.  ctx is the session a call
 * came on, or 0 for the published port.  Called under the lock.
 */
#include "net.h"
#include "socket.h"   /* generated from idl/socket.idl */

static long do_open(void *ctx, uint64_t badge, const char *client, uint64_t *session, uint32_t *pages)
{
	(void)badge;
	return ctx ? E_STATE : session_open(client, session, pages);
}

static long do_buffer_frame(void *ctx, uint64_t badge, uint32_t page, uint64_t *frame)
{
	(void)badge;
	return ctx ? session_frame(ctx, page, frame) : E_STATE;
}

static long do_socket(void *ctx, uint64_t badge, uint32_t type, uint32_t *sock)
{
	(void)badge;
	return ctx ? sock_socket(ctx, type, sock) : E_STATE;
}

static long do_bind(void *ctx, uint64_t badge, uint32_t sock, uint32_t addr, uint32_t port)
{
	(void)badge;
	return ctx ? sock_bind(ctx, sock, addr, port) : E_STATE;
}

static long do_listen(void *ctx, uint64_t badge, uint32_t sock, uint32_t backlog)
{
	(void)badge;
	return ctx ? sock_listen(ctx, sock, backlog) : E_STATE;
}

static long do_accept(void *ctx, uint64_t badge, uint32_t sock, uint32_t timeout_ms, uint32_t *conn,
                      uint32_t *addr, uint32_t *port)
{
	(void)badge;
	return ctx ? sock_accept(ctx, sock, timeout_ms, conn, addr, port) : E_STATE;
}

static long do_connect(void *ctx, uint64_t badge, uint32_t sock, uint32_t addr, uint32_t port,
                       uint32_t timeout_ms)
{
	(void)badge;
	return ctx ? sock_connect(ctx, sock, addr, port, timeout_ms) : E_STATE;
}

static long do_send(void *ctx, uint64_t badge, uint32_t sock, uint32_t offset, uint32_t len, uint32_t timeout_ms,
                    uint32_t *sent)
{
	(void)badge;
	return ctx ? sock_send(ctx, sock, offset, len, timeout_ms, sent) : E_STATE;
}

static long do_recv(void *ctx, uint64_t badge, uint32_t sock, uint32_t offset, uint32_t max, uint32_t timeout_ms,
                    uint32_t *got)
{
	(void)badge;
	return ctx ? sock_recv(ctx, sock, offset, max, timeout_ms, got, 0, 0, 0, SOCKET_RECV_LABEL) : E_STATE;
}

static long do_sendto(void *ctx, uint64_t badge, uint32_t sock, uint32_t offset, uint32_t len, uint32_t addr,
                      uint32_t port)
{
	(void)badge;
	return ctx ? sock_sendto(ctx, sock, offset, len, addr, port) : E_STATE;
}

static long do_recvfrom(void *ctx, uint64_t badge, uint32_t sock, uint32_t offset, uint32_t max,
                        uint32_t timeout_ms, uint32_t *got, uint32_t *len, uint32_t *addr, uint32_t *port)
{
	(void)badge;
	return ctx ? sock_recv(ctx, sock, offset, max, timeout_ms, got, len, addr, port, SOCKET_RECVFROM_LABEL)
	           : E_STATE;
}

static long do_shutdown(void *ctx, uint64_t badge, uint32_t sock, uint32_t how)
{
	(void)badge;
	return ctx ? sock_shutdown(ctx, sock, how) : E_STATE;
}

static long do_close(void *ctx, uint64_t badge, uint32_t sock)
{
	(void)badge;
	return ctx ? sock_close(ctx, sock) : E_STATE;
}

static long do_name(void *ctx, uint64_t badge, uint32_t sock, uint32_t *laddr, uint32_t *lport, uint32_t *paddr,
                    uint32_t *pport)
{
	(void)badge;
	return ctx ? sock_name(ctx, sock, laddr, lport, paddr, pport) : E_STATE;
}

static long do_poll(void *ctx, uint64_t badge, uint32_t count, const uint32_t sock[64], const uint8_t events[64],
                    uint32_t timeout_ms, uint32_t *ready, uint8_t revents[64])
{
	(void)badge;
	return ctx ? sock_poll(ctx, count, sock, events, timeout_ms, ready, revents) : E_STATE;
}

static long do_ifconfig(void *ctx, uint64_t badge, uint32_t *addr, uint32_t *netmask, uint32_t *gateway,
                        uint64_t *mac, uint32_t *mtu, uint32_t *flags, uint64_t *rx_frames, uint64_t *rx_bytes,
                        uint64_t *tx_frames, uint64_t *tx_bytes, uint64_t *dropped)
{
	(void)ctx;
	(void)badge;
	struct link_info i;
	link_info(&i);
	*addr = i.addr, *netmask = i.netmask, *gateway = i.gateway, *mac = i.mac, *mtu = i.mtu;
	*flags = i.flags, *rx_frames = i.rx_frames, *rx_bytes = i.rx_bytes;
	*tx_frames = i.tx_frames, *tx_bytes = i.tx_bytes, *dropped = i.dropped;
	return E_OK;
}

static long do_ping(void *ctx, uint64_t badge, uint32_t addr, uint32_t seq, uint32_t size, uint32_t timeout_ms,
                    uint32_t *rtt_us, uint32_t *ttl)
{
	(void)badge;
	(void)rtt_us;
	(void)ttl;
	long err = ping_check(size, timeout_ms);
	return err ? err : ping_start(ctx, addr, seq, size, timeout_ms);
}

static const struct socket_ops ops = {
	.open = do_open, .buffer_frame = do_buffer_frame, .socket = do_socket, .bind = do_bind,
	.listen = do_listen, .accept = do_accept, .connect = do_connect, .send = do_send, .recv = do_recv,
	.sendto = do_sendto, .recvfrom = do_recvfrom, .shutdown = do_shutdown, .close = do_close,
	.name = do_name, .poll = do_poll, .ifconfig = do_ifconfig, .ping = do_ping,
};

int calls_dispatch(struct session *s, const struct msg *req, const uint64_t *recv_slots, struct msg *reply)
{
	return socket_dispatch(&ops, s, req, recv_slots, reply);
}
