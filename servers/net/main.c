/*
 * The network server: TCP/IP (lwIP, NO_SYS) for Berth's programs,
 * published as "net" (idl/socket.idl), on a network driver's frames
 * (idl/netif.idl, "net0" unless args driver= names another).  Its
 * address comes from DHCP, or is static with args ip=A.B.C.D/BITS and
 * gw=A.B.C.D (a wire without a DHCP server: tests/system/net_frames.c).
 * See README.md and docs/net.md.
 *
 * Capabilities: slot 8 a send right to init (names).  Its memory is its
 * own quota: lwIP's heap and pools are static arrays of this image
 * (port/lwipopts.h), the session buffers frames of its Untyped.
 *
 * Threads.  The main thread owns the published port, which is also
 * where the driver posts its notifications and where our timer fires
 * (SYS_NOTIFY_AFTER): it opens sessions, runs lwIP's timers and feeds
 * it received frames.  Each session has a thread of its own
 * (sessions.c).  lwIP is not thread-safe: every thread takes the one
 * lock below before touching it or any of our state, and net_unlock
 * lets lwIP finish its work (loopback frames, answers to waiting calls,
 * frames for the driver, the next timer) before the lock goes.
 */
#include "net.h"
#include <libipc/lock.h>
#include "init.h"
#include "socket.h"
#include "lwip/init.h"
#include "lwip/timeouts.h"
#include "lwip/netif.h"
#include "lwip/ip4_addr.h"
#include "lwipopts.h"

void program_exit(int code);   /* libipc/start.c: tell init, end */

#define TICK_MS 10
#define MAX_SLEEP_TICKS 100

uint64_t main_port, main_send;
static struct server main_srv;
static struct ipc_lock big_lock;
static uint64_t armed_at;          /* when our timer fires (ms), 0: not armed */

void net_lock(void)
{
	ipc_lock(&big_lock);
}

/* The timer fires at the earliest of lwIP's next timeout, the first
 * deadline of a waiting call or ping, and the link's next look. */
static void arm_timer(void)
{
	uint64_t now = clock_ms();
	uint32_t sleep = sys_timeouts_sleeptime();
	uint64_t next = sleep == SYS_TIMEOUTS_SLEEPTIME_INFINITE ? NO_DEADLINE : now + sleep;
	uint64_t t = sockets_next_deadline();
	next = t < next ? t : next;
	t = ping_next_deadline();
	next = t < next ? t : next;
	t = link_next_ms();
	next = t < next ? t : next;
	if (armed_at && armed_at > now && armed_at <= next)
		return;
	uint64_t ticks = next <= now ? 1 : (next - now + TICK_MS - 1) / TICK_MS;
	if (ticks > MAX_SLEEP_TICKS)
		ticks = MAX_SLEEP_TICKS;
	if (sys_notify_after(main_send, BIT_TIMER, ticks) == E_OK)
		armed_at = now + ticks * TICK_MS;
}

void net_unlock(void)
{
	/* frames lwIP sent itself (127.0.0.1) and what they make possible */
	for (int round = 0; round < 8; round++) {
		netif_poll_all();
		sockets_service();
		ping_service();
		struct netif *lo = netif_get_by_index(1);
		if (!lo || !lo->loop_first)
			break;
	}
	link_flush();
	arm_timer();
	ipc_unlock(&big_lock);
}

_Noreturn void net_assert_failed(const char *what, const char *file, int line)
{
	debug_printf("net: lwIP assertion failed at %s:%d: %s\n", file, line, what);
	program_exit(1);
	for (;;)
		;
}

uint64_t defer_current(void *ctx)
{
	return ctx ? session_defer(ctx) : server_defer(&main_srv);
}

uint64_t deadline_after(uint32_t timeout_ms)
{
	return timeout_ms == WAIT_FOREVER ? NO_DEADLINE : clock_ms() + timeout_ms;
}

void reply_words(uint64_t *reply, uint32_t label, long status, const uint64_t *words, unsigned n)
{
	struct msg m;
	if (status)
		n = 0;
	m.info = MSG_INFO(label, 1 + n, 0);
	m.w[0] = (uint64_t)status;
	for (unsigned i = 0; i < n; i++)
		m.w[1 + i] = words[i];
	ipc_reply(*reply, &m);     /* E_NO_REPLY: the caller is gone; nothing to do */
	sys_cnode_delete(*reply);
	slot_free(*reply);
	*reply = 0;
}

static void notified(uint64_t bits)
{
	if (bits & BIT_TIMER) {
		armed_at = 0;
		sys_check_timeouts();
		guests_check();
	}
	/* frames, done transmit slots, a link change; and on each tick the
	 * reattach or the look at the link, when due */
	link_poll();
}

/* The main loop, by hand rather than server_run: notifications drive
 * lwIP, and after open's reply has copied the session right to the
 * client our copy must go before no-senders is armed (as in the PCI
 * server). */
static void serve(void)
{
	uint64_t reply_slot = main_srv.reply_slot;
	for (;;) {
		struct msg m;
		ipc_set_recv_slots(main_srv.recv_slots, MSG_MAX_CAPS);
		long err = ipc_recv(main_port, reply_slot, &m);
		if (err == E_STATE) /* suspended and resumed: the receive was cancelled */
			continue;
		if (err)
			return;
		if (heartbeat_filter(&m)) /* init's ping (docs/manifest.md, heartbeat) */
			continue;
		net_lock();
		if (MSG_LABEL(m.info) == LABEL_NOTIFY) {
			notified(m.w[0]);
		} else {
			int known = m.badge ? guests_dispatch(&m, main_srv.recv_slots, &m)
			                    : calls_dispatch(0, &m, main_srv.recv_slots, &m);
			if (!known)
				m.info = MSG_INFO(MSG_LABEL(m.info), 1, 0), m.w[0] = (uint64_t)E_BAD_SYSCALL;
			if (m.w[0] != (uint64_t)SERVER_DEFERRED && cspace_slot_type(reply_slot) == OBJ_REPLY)
				ipc_reply(reply_slot, &m);
			ipc_set_send_caps(0, 0);
		}
		if (cspace_slot_type(reply_slot) != OBJ_NONE)
			sys_cnode_delete(reply_slot);
		for (int i = 0; i < MSG_MAX_CAPS; i++)
			if (cspace_slot_type(main_srv.recv_slots[i]) != OBJ_NONE)
				sys_cnode_delete(main_srv.recv_slots[i]);
		session_handed_out();
		net_unlock();
	}
}

/* args ip=A.B.C.D/BITS [gw=A.B.C.D]: 1 with the address, mask and
 * gateway; 0 for DHCP; -1 if they are not addresses. */
static int static_address(const char *args, ip4_addr_t *addr, ip4_addr_t *mask, ip4_addr_t *gw)
{
	char text[24];
	size_t len;
	const char *v = arg_value(args, "ip=", &len);
	if (!v)
		return 0;
	const char *slash = memchr(v, '/', len);
	size_t alen = slash ? (size_t)(slash - v) : len;
	unsigned bits = 24;
	if (slash) {
		bits = 0;
		for (const char *p = slash + 1; p < v + len; p++) {
			if (*p < '0' || *p > '9' || bits > 32)
				return -1;
			bits = bits * 10 + (unsigned)(*p - '0');
		}
		if (bits < 1 || bits > 32)
			return -1;
	}
	if (alen >= sizeof(text))
		return -1;
	memcpy(text, v, alen);
	text[alen] = 0;
	if (!ip4addr_aton(text, addr))
		return -1;
	ip4_addr_set_u32(mask, lwip_htonl(bits == 32 ? 0xffffffffu : ~(0xffffffffu >> bits)));
	ip4_addr_set_zero(gw);
	v = arg_value(args, "gw=", &len);
	if (v) {
		if (len >= sizeof(text))
			return -1;
		memcpy(text, v, len);
		text[len] = 0;
		if (!ip4addr_aton(text, gw))
			return -1;
	}
	return 1;
}

int main(const struct bootinfo *bi)
{
	char driver[32] = "net0";
	arg_string(bi->cmdline, "driver=", driver, sizeof(driver));
	sessions_init(arg_number(bi->cmdline, "priority=", 100));
	clock_ms();   /* calibrated before the session threads exist */
	main_send = slot_alloc();
	long err = object_alloc(OBJ_PORT, 0, &main_port);
	err = err ? err : sys_cnode_mint(main_port, CAP_ROOT_CNODE, main_send, RIGHT_SEND, 0);
	err = err ? err : server_init(&main_srv, main_port, 0, 0);
	if (err) {
		debug_printf("net: cannot set up: %ld\n", err);
		return 1;
	}
	/* lwIP's heap (port/lwipopts.h) */
	for (uint64_t off = 0; !err && off < LWIP_HEAP_BYTES; off += 4096) {
		uint64_t frame;
		err = page_alloc_map(LWIP_HEAP_VA + off, RIGHT_READ | RIGHT_WRITE, &frame);
	}
	if (err) {
		debug_printf("net: no memory for lwIP's heap: %ld\n", err);
		return 1;
	}
	net_lock();
	lwip_init();
	sockets_init();
	ping_init();
	ip4_addr_t addr, mask, gw;
	int fixed = static_address(bi->cmdline, &addr, &mask, &gw);
	if (fixed < 0)
		debug_printf("net: args ip=/gw= are not addresses: using DHCP\n");
	if (fixed > 0)
		debug_printf("net: static address %s\n", ip4addr_ntoa(&addr));
	link_init(driver, fixed > 0 ? &addr : 0, &mask, &gw);
	link_poll();
	net_unlock();
	uint64_t published = slot_alloc();
	err = sys_cnode_mint(main_port, CAP_ROOT_CNODE, published, RIGHT_SEND, 0);
	err = err ? err : init_publish(INIT_SLOT, "net", published);
	if (err) {
		debug_printf("net: cannot publish: %ld\n", err);
		return 1;
	}
	/* the guests' switch (guests.c): the same port under a badge */
	published = slot_alloc();
	err = sys_cnode_mint(main_port, CAP_ROOT_CNODE, published, RIGHT_SEND, SWITCH_BADGE);
	err = err ? err : init_publish(INIT_SLOT, "switch", published);
	if (err)
		debug_printf("net: cannot publish 'switch' (%ld): no guests' network\n", err);
	debug_printf("net: serving; the driver is '%s'\n", driver);
	serve();
	return 1;
}
