/*
 * The guests' ports on the switch: idl/vswitch.idl, published as
 * "switch" on the main port (badge SWITCH_BADGE; "net" is badge 0).
 *
 * A VM name gets a guest slot on its first attach (the slot of the
 * address it asks for, if free: it had that one before this server
 * restarted) and keeps it, with
 * its switch port (2 + slot), MAC 52:54:00:be:04:NN and address
 * 10.0.4.NN (NN = 10 + slot), its rules and counters, while the server
 * runs.  A session is a badged send right to the main port, as the
 * virtio-net driver's sessions are: badge = generation << 8 | slot, so
 * a right of an ended session is refused (E_STATE).  A session ends on
 * detach, on a new attach under the same name, or when a post to the
 * VMM's notify port fails (its port is gone: the VMM died); the guest
 * port then goes down (vsw_port_down) and its buffer is revoked.
 *
 * The buffer is the server's: RX receive slots then TX transmit slots of
 * 2048 bytes, as netif.idl says.  A transmitted frame is copied out of
 * the shared slot before anything looks at it (the VMM may change it
 * meanwhile), handed to the switch at once, and its slot is done in the
 * same reply.  Frames the switch delivers to a guest go into a free
 * receive slot (none free: dropped, counted by the switch).
 *
 * Everything runs under the server's lock, on the main thread.
 */
#include "net.h"
#include <vswitch.h>   /* generated from idl/vswitch.idl (not ./vswitch.h, the switch) */

#define GUESTS 8                      /* switch ports 2 .. 9 */
#define RX 16
#define TX 16
#define SLOT_SIZE 2048U
#define PAGE 4096UL
#define PAGES ((RX + TX) * SLOT_SIZE / PAGE)
#define GUEST_VA 0x54000000UL          /* below lwIP (0x5c000000), above the link (0x50000000) */
#define FRAME_MAX 1514U
#define NET_BASE GUEST_NET_BASE        /* 10.0.4.0/24 */
#define NET_PREFIX 24
#define GATEWAY (NET_BASE | 1)
#define HOST_BASE 10

struct guest {
	int known;                        /* the name attached once */
	int live;                         /* a session lives */
	char name[32];
	uint8_t mac[6];
	uint32_t ip;
	uint64_t generation;
	uint64_t session;                 /* our copy of the session right */
	uint64_t notify, bits;
	int armed;
	int made;
	uint64_t frame[PAGES];            /* ours, mapped at buf */
	uint64_t shared[PAGES];           /* the copies handed to the VMM */
	uint8_t *buf;
	uint8_t rx_client[RX];            /* 1: the VMM holds this receive slot */
	uint16_t rx_free[RX];
	unsigned rx_free_count;
	uint16_t ready_slot[RX], ready_len[RX];
	unsigned ready_count;
	uint8_t tx_client[TX];            /* 1: the VMM owns this transmit slot */
	uint16_t done[TX];
	unsigned done_count;
};

static struct guest guests[GUESTS];
static uint64_t switch_generation;

static unsigned port_of(const struct guest *g)
{
	return VSW_FIRST_GUEST + (unsigned)(g - guests);
}

static void drop_slot(uint64_t *slot)
{
	if (*slot) {
		sys_cnode_delete(*slot);
		slot_free(*slot);
		*slot = 0;
	}
}

static void session_end(struct guest *g, const char *why)
{
	if (!g->live)
		return;
	debug_printf("net: switch: '%s' left port %u (%s)\n", g->name, port_of(g), why);
	g->live = 0;
	vsw_port_down(link_switch(), port_of(g));
	for (unsigned p = 0; p < PAGES; p++) {
		sys_cnode_revoke(g->frame[p]);
		if (g->shared[p])
			slot_free(g->shared[p]);
		g->shared[p] = 0;
	}
	drop_slot(&g->session);
	drop_slot(&g->notify);
}

static int pending(const struct guest *g)
{
	return g->ready_count || g->done_count;
}

/* Post the VMM's bits once until its next receive or reclaim call; a
 * failing post means its port is gone, and so is the session. */
static void maybe_notify(struct guest *g)
{
	if (!g->live || !g->armed || !g->bits || !pending(g))
		return;
	if (sys_notify(g->notify, g->bits)) {
		session_end(g, "its notify port is gone");
		return;
	}
	g->armed = 0;
}

/* On each timer tick: a VMM that died with nothing to receive would
 * otherwise keep its port up and its buffer until a frame came for it.
 * Posting no bits only asks: E_DEAD_PORT when the VMM's port is dead,
 * E_BAD_CAP when its memory went and our right with it. */
void guests_check(void)
{
	for (unsigned i = 0; i < GUESTS; i++)
		if (guests[i].live && sys_notify(guests[i].notify, 0) != E_OK)
			session_end(&guests[i], "its notify port is gone");
}

int guest_deliver(unsigned p, const uint8_t *frame, size_t len)
{
	if (p < VSW_FIRST_GUEST || p >= VSW_FIRST_GUEST + GUESTS || len > FRAME_MAX)
		return -1;
	struct guest *g = &guests[p - VSW_FIRST_GUEST];
	if (!g->live || !g->rx_free_count)
		return -1;
	uint16_t slot = g->rx_free[--g->rx_free_count];
	memcpy(g->buf + (size_t)slot * SLOT_SIZE, frame, len);
	g->ready_slot[g->ready_count] = slot;
	g->ready_len[g->ready_count++] = (uint16_t)len;
	maybe_notify(g);
	return 0;
}

/* --- names and sessions ------------------------------------------------- */

static int good_name(const char *vm)
{
	if (!vm[0])
		return 0;
	for (const char *c = vm; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' ||
		      *c == '_' || *c == '.'))
			return 0;
	return 1;
}

static struct guest *by_name(const char *vm)
{
	for (unsigned i = 0; i < GUESTS; i++)
		if (guests[i].known && !strcmp(guests[i].name, vm))
			return &guests[i];
	return 0;
}

/* The guest a session badge names, if that session lives. */
static struct guest *by_badge(uint64_t badge)
{
	unsigned i = (unsigned)(badge & 0xff);
	if (badge <= SWITCH_BADGE || i >= GUESTS)
		return 0;
	struct guest *g = &guests[i];
	return g->live && g->generation == badge >> 8 ? g : 0;
}

static uint64_t mac_word(const uint8_t *mac)
{
	uint64_t w = 0;
	for (int i = 0; i < 6; i++)
		w |= (uint64_t)mac[i] << (8 * i);
	return w;
}

static long buffer_make(struct guest *g)
{
	g->buf = (uint8_t *)(GUEST_VA + (uint64_t)(g - guests) * PAGES * PAGE);
	long err = E_OK;
	for (unsigned p = 0; !err && p < PAGES; p++)
		err = page_alloc_map((uint64_t)g->buf + p * PAGE, RIGHT_READ | RIGHT_WRITE, &g->frame[p]);
	if (!err)
		g->made = 1;
	return err;
}

/* A name the switch meets for the first time: the slot of the address it
 * wants if that one is free (it had it before the server restarted),
 * else the first free slot. */
static struct guest *new_guest(uint32_t want_ip)
{
	unsigned want = want_ip - (NET_BASE | HOST_BASE);
	if (want < GUESTS && !guests[want].known)
		return &guests[want];
	for (unsigned i = 0; i < GUESTS; i++)
		if (!guests[i].known)
			return &guests[i];
	return 0;
}

static long do_attach(void *ctx, uint64_t badge, const char *vm, uint64_t notify, uint64_t bits, uint32_t want_ip,
                      uint64_t *session,
                      uint32_t *buffer_pages, uint32_t *rx_slots, uint32_t *tx_slots, uint64_t *mac, uint32_t *ip,
                      uint32_t *prefix, uint32_t *gateway)
{
	(void)ctx;
	if (badge != SWITCH_BADGE)
		return E_STATE;
	if (!good_name(vm) || sys_notify(notify, 0))
		return E_BAD_ARG;
	struct guest *g = by_name(vm);
	if (!g) {
		if (!(g = new_guest(want_ip)))
			return E_LIMIT;
		unsigned n = HOST_BASE + (unsigned)(g - guests);
		memcpy(g->name, vm, sizeof(g->name) - 1);
		g->name[sizeof(g->name) - 1] = 0;
		const uint8_t m[6] = {0x52, 0x54, 0x00, 0xbe, 0x04, (uint8_t)n};
		memcpy(g->mac, m, 6);
		g->ip = NET_BASE | n;
	}
	session_end(g, "attached again");
	long err = g->made ? E_OK : buffer_make(g);
	for (unsigned p = 0; !err && p < PAGES; p++) {
		if (!(g->shared[p] = slot_alloc()))
			err = E_SLOT_FULL;
		err = err ? err : sys_cnode_copy(g->frame[p], CAP_ROOT_CNODE, g->shared[p], RIGHT_READ | RIGHT_WRITE);
	}
	g->generation = ++switch_generation;
	if (!err && !(g->session = slot_alloc()))
		err = E_SLOT_FULL;
	err = err ? err
	          : sys_cnode_mint(main_port, CAP_ROOT_CNODE, g->session, RIGHT_SEND,
	                           g->generation << 8 | (uint64_t)(g - guests));
	if (!err && !(g->notify = slot_alloc()))
		err = E_SLOT_FULL;
	err = err ? err : sys_cnode_move(notify, CAP_ROOT_CNODE, g->notify);
	err = err ? err : (vsw_port_set(link_switch(), port_of(g), VSW_KIND_GUEST, g->mac, g->ip) ? E_STATE : E_OK);
	g->live = 1;
	if (err) {
		debug_printf("net: switch: cannot attach '%s': %ld\n", vm, err);
		session_end(g, "no room for it");
		return err;
	}
	g->known = 1;
	memset(g->buf, 0, PAGES * PAGE);
	g->rx_free_count = 0;
	for (unsigned i = 0; i < RX; i++) {
		g->rx_client[i] = 0;
		g->rx_free[g->rx_free_count++] = (uint16_t)(RX - 1 - i);
	}
	for (unsigned i = 0; i < TX; i++)
		g->tx_client[i] = 1;
	g->ready_count = g->done_count = 0;
	g->bits = bits;
	g->armed = 1;
	debug_printf("net: switch: '%s' on port %u: 10.0.4.%u\n", g->name, port_of(g), g->ip & 0xff);
	*session = g->session;
	*buffer_pages = PAGES;
	*rx_slots = RX;
	*tx_slots = TX;
	*mac = mac_word(g->mac);
	*ip = g->ip;
	*prefix = NET_PREFIX;
	*gateway = GATEWAY;
	return E_OK;
}

static long do_buffer_frame(void *ctx, uint64_t badge, uint32_t page, uint64_t *frame)
{
	(void)ctx;
	struct guest *g = by_badge(badge);
	if (!g)
		return E_STATE;
	if (page >= PAGES)
		return E_BAD_ARG;
	*frame = g->shared[page];
	return E_OK;
}

/* Hand back up to 32 done transmit slots. */
static void take_done(struct guest *g, uint32_t *done_count, uint16_t done[32])
{
	unsigned n = g->done_count < 32 ? g->done_count : 32;
	for (unsigned i = 0; i < n; i++) {
		done[i] = g->done[i];
		g->tx_client[g->done[i] - RX] = 1;
	}
	for (unsigned i = n; i < g->done_count; i++)
		g->done[i - n] = g->done[i];
	g->done_count -= n;
	*done_count = n;
}

static long do_transmit(void *ctx, uint64_t badge, uint32_t count, const uint16_t slot[32], const uint16_t len[32],
                        uint32_t *done_count, uint16_t done[32])
{
	(void)ctx;
	static uint8_t copy[FRAME_MAX];
	struct guest *g = by_badge(badge);
	if (!g)
		return E_STATE;
	if (count > 32)
		return E_BAD_ARG;
	/* all checked before any is taken: a slot named twice is refused too */
	uint8_t seen[TX] = {0};
	for (uint32_t i = 0; i < count; i++) {
		if (slot[i] < RX || slot[i] >= RX + TX || !g->tx_client[slot[i] - RX] || seen[slot[i] - RX] ||
		    !len[i] || len[i] > FRAME_MAX)
			return E_BAD_ARG;
		seen[slot[i] - RX] = 1;
	}
	unsigned port = port_of(g);
	for (uint32_t i = 0; i < count; i++) {
		g->tx_client[slot[i] - RX] = 0;
		memcpy(copy, g->buf + (size_t)slot[i] * SLOT_SIZE, len[i]);
		link_switch_input(port, copy, len[i]);
		g->done[g->done_count++] = slot[i];
		if (!g->live)
			return E_STATE;   /* delivering to it found its port gone */
	}
	take_done(g, done_count, done);
	return E_OK;
}

static long do_reclaim(void *ctx, uint64_t badge, uint32_t *done_count, uint16_t done[32])
{
	(void)ctx;
	struct guest *g = by_badge(badge);
	if (!g)
		return E_STATE;
	take_done(g, done_count, done);
	g->armed = 1;
	maybe_notify(g);
	return E_OK;
}

static long do_receive(void *ctx, uint64_t badge, uint32_t count, const uint16_t give_back[32], uint32_t *got,
                       uint16_t slot[32], uint16_t len[32])
{
	(void)ctx;
	struct guest *g = by_badge(badge);
	if (!g)
		return E_STATE;
	if (count > 32)
		return E_BAD_ARG;
	for (uint32_t i = 0; i < count; i++)
		if (give_back[i] >= RX || !g->rx_client[give_back[i]])
			return E_BAD_ARG;
	for (uint32_t i = 0; i < count; i++)
		if (g->rx_client[give_back[i]]) {   /* named twice: given back once */
			g->rx_client[give_back[i]] = 0;
			g->rx_free[g->rx_free_count++] = give_back[i];
		}
	unsigned n = g->ready_count < 32 ? g->ready_count : 32;
	for (unsigned i = 0; i < n; i++) {
		slot[i] = g->ready_slot[i];
		len[i] = g->ready_len[i];
		g->rx_client[slot[i]] = 1;
	}
	for (unsigned i = n; i < g->ready_count; i++) {
		g->ready_slot[i - n] = g->ready_slot[i];
		g->ready_len[i - n] = g->ready_len[i];
	}
	g->ready_count -= n;
	*got = n;
	g->armed = 1;
	maybe_notify(g);
	return E_OK;
}

static long do_detach(void *ctx, uint64_t badge)
{
	(void)ctx;
	struct guest *g = by_badge(badge);
	if (!g)
		return E_STATE;
	session_end(g, "detached");
	return E_OK;
}

/* --- the published port: rules, counters, forwards ----------------------- */

static long published_guest(uint64_t badge, const char *vm, struct guest **g)
{
	if (badge != SWITCH_BADGE)
		return E_STATE;
	*g = by_name(vm);
	return *g ? E_OK : E_BAD_ARG;
}

static long do_fw_insert(void *ctx, uint64_t badge, const char *vm, uint32_t position, const char *text)
{
	(void)ctx;
	struct guest *g;
	long err = published_guest(badge, vm, &g);
	if (err)
		return err;
	struct vfw_rule rule;
	const char *why;
	if (vfw_parse(text, &rule, &why))
		return E_BAD_ARG;
	return vfw_insert(&link_switch()->port[port_of(g)].fw, position, &rule) ? E_LIMIT : E_OK;
}

static long do_fw_delete(void *ctx, uint64_t badge, const char *vm, uint32_t position)
{
	(void)ctx;
	struct guest *g;
	long err = published_guest(badge, vm, &g);
	if (err)
		return err;
	return vfw_delete(&link_switch()->port[port_of(g)].fw, position) ? E_BAD_ARG : E_OK;
}

static long do_fw_rule(void *ctx, uint64_t badge, const char *vm, uint32_t index, uint32_t *more, char rule[64],
                       uint64_t *frames, uint64_t *bytes)
{
	(void)ctx;
	struct guest *g;
	long err = published_guest(badge, vm, &g);
	if (err)
		return err;
	struct vfw *fw = &link_switch()->port[port_of(g)].fw;
	if (index >= fw->count)
		return E_OK;   /* more 0, rule empty */
	if (vfw_format(&fw->rule[index], rule, 64) < 0)
		rule[0] = 0;
	*more = 1;
	*frames = fw->rule[index].frames;
	*bytes = fw->rule[index].bytes;
	return E_OK;
}

static long do_port_stats(void *ctx, uint64_t badge, const char *vm, uint64_t *mac, uint32_t *ip, uint32_t *up,
                          uint64_t *from_frames, uint64_t *from_dropped, uint64_t *to_frames,
                          uint64_t *to_dropped, char last_drop[32])
{
	(void)ctx;
	struct guest *g;
	long err = published_guest(badge, vm, &g);
	if (err)
		return err;
	const struct vsw_port *p = &link_switch()->port[port_of(g)];
	*mac = mac_word(g->mac);
	*ip = g->ip;
	*up = g->live;
	*from_frames = p->from.frames;
	*from_dropped = p->from.dropped;
	*to_frames = p->to.frames;
	*to_dropped = p->to.dropped;
	if (p->last_drop != VSW_OK) {
		const char *r = vsw_reason_name(p->last_drop);
		size_t n = strlen(r);
		memcpy(last_drop, r, n < 31 ? n : 31);
	}
	return E_OK;
}

/* A forward to the guest's address, kept by nat.c (docs/net.md). */
static long do_forward(void *ctx, uint64_t badge, uint32_t proto, uint32_t berth_port, const char *vm,
                       uint32_t guest_port)
{
	(void)ctx;
	struct guest *g;
	long err = published_guest(badge, vm, &g);
	if (err)
		return err;
	if ((proto != 6 && proto != 17) || !berth_port || berth_port > 65535 || guest_port > 65535)
		return E_BAD_ARG;
	return nat_forward(proto, berth_port, g->ip, guest_port);
}

int guest_mac(uint32_t ip, uint8_t mac[6])
{
	for (unsigned i = 0; i < GUESTS; i++)
		if (guests[i].known && guests[i].ip == ip) {
			memcpy(mac, guests[i].mac, 6);
			return 0;
		}
	return -1;
}

static const struct vswitch_ops ops = {
	.attach = do_attach, .buffer_frame = do_buffer_frame, .transmit = do_transmit, .reclaim = do_reclaim,
	.receive = do_receive, .detach = do_detach, .fw_insert = do_fw_insert, .fw_delete = do_fw_delete,
	.fw_rule = do_fw_rule, .port_stats = do_port_stats, .forward = do_forward,
};

int guests_dispatch(const struct msg *req, const uint64_t *recv_slots, struct msg *reply)
{
	return vswitch_dispatch(&ops, 0, req, recv_slots, reply);
}
