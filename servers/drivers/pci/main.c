/*
 * The PCI server: enumerates the buses (bus.c), holds the machine's
 * device memory and the PCI interrupt lines, and gives each driver one
 * device through a session (idl/pci.idl).  See README.md.
 *
 * Capabilities (boot manifest order): slot 9 the ports 0xcf8-0xcff, then
 * one IRQ handler per line named in args irqs=A,B,... (slot 10, 11, ...).
 * Its boot info lists its device Untypeds (manifest: devmem).
 *
 * Threads.  The main thread serves the published port (list, open).
 * Each device that has ever been opened gets a port of its own, the
 * session port, and a thread that serves it: a session is a send right
 * to that port, and the port's no-senders notification, which the
 * kernel posts on the port itself, tells that thread the driver is gone.
 * (No port sets yet, so one thread per port.)  One lock covers all
 * state and every configuration access: mechanism 1 is two port
 * accesses that must not interleave.
 */
#include <libipc/libipc.h>
#include <libipc/lock.h>
#include <libipc/server.h>
#include "pci.h"   /* generated from idl/pci.idl */
#include "init.h"
#include "bus.h"

#define INIT_SLOT 8
#define FIRST_IRQ_SLOT 10
#define MAX_LINES 4
#define MAX_SESSIONS 8
#define MAX_BAR_PAGES 64
#define NOSENDERS_BIT 1
#define STACK_SIZE 16384
#define PAGE 4096UL
/* command bits a driver may change (see idl/pci.idl) */
#define CMD_DRIVER_BITS 0x0547

static unsigned line_of_slot[MAX_LINES], line_count;
static unsigned session_priority;   /* args priority=, at most the manifest's */
static struct ipc_lock big_lock;

static void lock(void)
{
	ipc_lock(&big_lock);
}

static void unlock(void)
{
	ipc_unlock(&big_lock);
}

/* What a device's driver holds through us. */
struct ownership {
	int owned;
	char owner[32];
	int session;                       /* index in sessions[], -1: none yet */
	uint64_t irq;                      /* the handler we shared for it, 0: none */
	uint32_t pages_made[PCI_BARS];     /* frames retyped from each BAR's Untyped */
	uint64_t frame[PCI_BARS][MAX_BAR_PAGES];
};

static struct ownership own[PCI_MAX_DEVICES];

struct session {
	unsigned device;
	uint64_t port;                     /* receive right */
	struct server srv;
	uint64_t tcb;
};

static struct session sessions[MAX_SESSIONS];
static unsigned session_count;
static _Alignas(16) uint8_t stacks[MAX_SESSIONS][STACK_SIZE];

/* --- device memory ------------------------------------------------------ */

static const struct bootinfo *boot;

/* The device Untyped of ours that holds [paddr, paddr + len). */
static const struct bootinfo_untyped *device_memory(uint64_t paddr, uint64_t len)
{
	for (unsigned i = 0; i < boot->untyped_count; i++) {
		const struct bootinfo_untyped *u = &boot->untyped[i];
		if (u->is_device && paddr >= u->paddr && paddr + len <= u->paddr + (1UL << u->size_bits))
			return u;
	}
	return 0;
}

static unsigned log2_of(uint64_t v)
{
	unsigned b = 0;
	while ((1UL << b) < v)
		b++;
	return b;
}

/* Give every memory BAR an Untyped of its own that covers exactly its
 * pages, so a session's frames are that Untyped's children and one
 * revoke takes them all back.  Device Untypeds hand out memory upwards
 * (the watermark), so the BARs are carved in address order. */
static void carve_bars(void)
{
	struct pci_bar *order[PCI_MAX_DEVICES * PCI_BARS];
	unsigned n = 0;
	for (unsigned i = 0; i < pci_device_count; i++)
		for (unsigned b = 0; b < PCI_BARS; b++) {
			struct pci_bar *bar = &pci_devices[i].bar[b];
			if (bar->size && !(bar->flags & BAR_IO) && bar->paddr)
				order[n++] = bar;
		}
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && order[j]->paddr < order[j - 1]->paddr; j--) {
			struct pci_bar *t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (unsigned i = 0; i < n; i++) {
		struct pci_bar *b = order[i];
		uint64_t start = b->paddr & ~(PAGE - 1);
		uint64_t len = b->size < PAGE ? PAGE : b->size;
		/* a small BAR may share its page with another's registers */
		if ((i > 0 && (order[i - 1]->paddr + order[i - 1]->size - 1) / PAGE >= start / PAGE) ||
		    (i + 1 < n && order[i + 1]->paddr / PAGE <= (b->paddr + b->size - 1) / PAGE)) {
			b->shared_page = 1;
			continue;
		}
		const struct bootinfo_untyped *u = device_memory(start, len);
		uint64_t slot = slot_alloc();
		if (!u || !slot ||
		    sys_untyped_retype(u->slot, OBJ_UNTYPED, log2_of(len), start - u->paddr, CAP_ROOT_CNODE, slot)) {
			debug_printf("pci: no device memory for the BAR at %#lx (%lu bytes)\n", b->paddr, b->size);
			if (slot)
				slot_free(slot);
			continue;
		}
		b->untyped = slot;
	}
}

/* --- a session ends ----------------------------------------------------- */

/* The driver is gone: its device may no longer reach memory or raise its
 * interrupt (on a shared line a device left asserting would storm the
 * others), and what we gave it is taken back.  Caller holds the lock. */
static void release(unsigned i)
{
	struct pci_device *d = &pci_devices[i];
	struct ownership *o = &own[i];
	uint16_t cmd = (uint16_t)cfg_read(d, CFG_COMMAND, 2);
	cfg_write(d, CFG_COMMAND, 2, (cmd & ~(CMD_IO | CMD_MEMORY | CMD_BUS_MASTER)) | CMD_INTX_DISABLE);
	for (unsigned b = 0; b < PCI_BARS; b++) {
		if (d->bar[b].untyped)
			sys_cnode_revoke(d->bar[b].untyped);
		for (unsigned p = 0; p < o->pages_made[b]; p++)
			slot_free(o->frame[b][p]);
		o->pages_made[b] = 0;
	}
	if (o->irq) {
		sys_cnode_revoke(o->irq);
		sys_cnode_delete(o->irq);
		slot_free(o->irq);
		o->irq = 0;
	}
	debug_printf("pci: %02x:%02x.%x released by '%s'\n", d->bus, d->dev, d->fn, o->owner);
	o->owned = 0;
	o->owner[0] = 0;
}

/* --- session methods (the session thread, under the lock) -------------- */

static int write_allowed(const struct pci_device *d, unsigned offset, unsigned size)
{
	for (unsigned b = offset; b < offset + size; b++) {
		if (b < 0x04 || (b >= 0x08 && b <= 0x0b) || b == 0x0e || (b >= 0x10 && b <= 0x3f))
			return 0;
		for (int k = 0; k < 2; k++)
			if (d->locked_hi[k] && b >= d->locked_lo[k] && b <= d->locked_hi[k])
				return 0;
	}
	return 1;
}

static int size_ok(uint32_t offset, uint32_t size)
{
	return (size == 1 || size == 2 || size == 4) && offset < 256 && !(offset & (size - 1));
}

static long do_config_read(void *ctx, uint64_t badge, uint32_t offset, uint32_t size, uint32_t *value)
{
	const struct session *s = ctx;
	(void)badge;
	if (!size_ok(offset, size))
		return E_BAD_ARG;
	*value = cfg_read(&pci_devices[s->device], offset, size);
	return E_OK;
}

static long do_config_write(void *ctx, uint64_t badge, uint32_t offset, uint32_t size, uint32_t value)
{
	const struct session *s = ctx;
	const struct pci_device *d = &pci_devices[s->device];
	(void)badge;
	if (!size_ok(offset, size))
		return E_BAD_ARG;
	if (!write_allowed(d, offset, size))
		return E_NO_RIGHTS;
	if (offset < 0x06 && offset + size > 0x04) {
		/* the command register: only the driver's bits change; status
		 * bits (a dword write) are write-one-to-clear, so pass them on */
		unsigned shift = (offset - 0x04) * 8;
		uint32_t written = (size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1) << shift;
		uint32_t moved = value << shift;
		uint32_t cur = cfg_read(d, CFG_COMMAND, 2);
		uint32_t merged = (cur & ~written) | (moved & written & 0xffff);
		cfg_write(d, CFG_COMMAND, 2, (cur & ~CMD_DRIVER_BITS) | (merged & CMD_DRIVER_BITS));
		if (size == 4)
			cfg_write(d, CFG_STATUS, 2, moved >> 16);
		return E_OK;
	}
	cfg_write(d, offset, size, value);
	return E_OK;
}

static long do_bar_info(void *ctx, uint64_t badge, uint32_t bar, uint64_t *paddr, uint64_t *size, uint32_t *flags)
{
	const struct session *s = ctx;
	(void)badge;
	if (bar >= PCI_BARS || !pci_devices[s->device].bar[bar].size)
		return E_BAD_ARG;
	const struct pci_bar *b = &pci_devices[s->device].bar[bar];
	*paddr = b->paddr;
	*size = b->size;
	*flags = b->flags;
	return E_OK;
}

static long do_bar_frame(void *ctx, uint64_t badge, uint32_t bar, uint32_t page, uint64_t *frame)
{
	const struct session *s = ctx;
	struct ownership *o = &own[s->device];
	(void)badge;
	if (bar >= PCI_BARS || !pci_devices[s->device].bar[bar].size)
		return E_BAD_ARG;
	const struct pci_bar *b = &pci_devices[s->device].bar[bar];
	if (b->flags & BAR_IO)
		return E_WRONG_TYPE;
	if (b->shared_page || !b->untyped)
		return E_NO_RIGHTS;
	uint64_t pages = (b->size + PAGE - 1) / PAGE;
	if (page >= pages || page >= MAX_BAR_PAGES)
		return E_RANGE;
	/* frames come out of the Untyped in address order */
	while (o->pages_made[bar] <= page) {
		uint64_t slot = slot_alloc();
		unsigned p = o->pages_made[bar];
		if (!slot)
			return E_SLOT_FULL;
		long err = sys_untyped_retype(b->untyped, OBJ_FRAME, 0, p * PAGE, CAP_ROOT_CNODE, slot);
		if (err) {
			slot_free(slot);
			return err;
		}
		o->frame[bar][p] = slot;
		o->pages_made[bar]++;
	}
	*frame = o->frame[bar][page];
	return E_OK;
}

static long do_irq(void *ctx, uint64_t badge, uint64_t *handler, uint32_t *line)
{
	const struct session *s = ctx;
	const struct pci_device *d = &pci_devices[s->device];
	struct ownership *o = &own[s->device];
	(void)badge;
	if (!d->irq_pin || d->irq_line == 0xff)
		return E_STATE;
	unsigned k = 0;
	while (k < line_count && line_of_slot[k] != d->irq_line)
		k++;
	if (k == line_count)
		return E_STATE;
	if (!o->irq) {
		uint64_t slot = slot_alloc();
		if (!slot)
			return E_SLOT_FULL;
		long err = sys_irq_share(FIRST_IRQ_SLOT + k, CAP_ROOT_CNODE, slot);
		if (err) {
			slot_free(slot);
			return err;
		}
		o->irq = slot;
	}
	*handler = o->irq;
	*line = d->irq_line;
	return E_OK;
}

static const struct pci_ops session_ops = {
	.config_read = do_config_read, .config_write = do_config_write, .bar_info = do_bar_info,
	.bar_frame = do_bar_frame, .irq = do_irq,
};

static int session_handle(struct server *srv, const struct msg *req, struct msg *reply)
{
	struct session *s = srv->ctx;
	lock();
	if (MSG_LABEL(req->info) == LABEL_NOTIFY) {
		if ((req->w[0] & NOSENDERS_BIT) && own[s->device].owned)
			release(s->device);
		unlock();
		return SERVER_NO_REPLY;
	}
	int known = pci_dispatch(&session_ops, s, req, srv->recv_slots, reply);
	unlock();
	return known ? SERVER_REPLY : SERVER_UNKNOWN;
}

static void session_thread(uint64_t index)
{
	long err = server_run(&sessions[index].srv);
	debug_printf("pci: session thread %lu ends: %ld\n", index, err);
	sys_tcb_suspend(sessions[index].tcb);
}

/* --- the published port (the main thread) ------------------------------- */

static long do_list(void *ctx, uint64_t badge, uint32_t index, uint32_t *address, uint32_t *ids,
                    uint32_t *class_rev, uint32_t *subsystem, uint32_t *irq, char *owner)
{
	(void)ctx;
	(void)badge;
	lock();
	if (index >= pci_device_count) {
		unlock();
		return E_RANGE;
	}
	const struct pci_device *d = &pci_devices[index];
	*address = (uint32_t)d->bus << 8 | (uint32_t)d->dev << 3 | d->fn;
	*ids = (uint32_t)d->device << 16 | d->vendor;
	*class_rev = d->class_rev;
	*subsystem = d->subsystem;
	*irq = (uint32_t)d->irq_pin << 8 | d->irq_line;
	strcpy(owner, own[index].owner);
	unlock();
	return E_OK;
}

/* The send right open handed out: ours is deleted once the reply took
 * its copy, then no-senders is armed (see serve_main). */
static uint64_t handed_out;
static unsigned handed_device;

static long open_session(unsigned i, const char *owner, uint64_t *session)
{
	struct ownership *o = &own[i];
	if (o->session < 0) {
		if (session_count == MAX_SESSIONS)
			return E_LIMIT;
		struct session *s = &sessions[session_count];
		s->device = i;
		long err = object_alloc(OBJ_PORT, 0, &s->port);
		err = err ? err : server_init(&s->srv, s->port, session_handle, s);
		err = err ? err : thread_create(session_thread, session_count, stacks[session_count], STACK_SIZE,
		                                 session_priority, &s->tcb);
		if (err)
			return err;
		o->session = (int)session_count++;
	}
	uint64_t send = slot_alloc();
	if (!send)
		return E_SLOT_FULL;
	long err = sys_cnode_mint(sessions[o->session].port, CAP_ROOT_CNODE, send, RIGHT_SEND, 0);
	if (err) {
		slot_free(send);
		return err;
	}
	o->owned = 1;
	memcpy(o->owner, owner, 32);
	o->owner[31] = 0;
	/* a fresh owner starts with its device quiet: no DMA, no interrupt */
	struct pci_device *d = &pci_devices[i];
	uint16_t cmd = (uint16_t)cfg_read(d, CFG_COMMAND, 2);
	cfg_write(d, CFG_COMMAND, 2, (cmd & ~CMD_BUS_MASTER) | CMD_INTX_DISABLE);
	handed_out = send;
	handed_device = i;
	*session = send;
	return E_OK;
}

static long do_open(void *ctx, uint64_t badge, uint16_t vendor, uint16_t device, uint32_t index, const char *owner,
                    uint64_t *session, uint32_t *address)
{
	(void)ctx;
	(void)badge;
	lock();
	long err = E_BAD_ARG;
	for (unsigned i = 0, n = 0; i < pci_device_count; i++) {
		struct pci_device *d = &pci_devices[i];
		if (d->vendor != vendor || d->device != device || n++ != index)
			continue;
		if (d->header_type != 0 || (d->class_rev >> 24) == 0x06)
			break; /* bridges stay ours: their windows and bus numbers route everyone's traffic */
		if (own[i].owned) {
			err = E_STATE;
			break;
		}
		err = open_session(i, owner, session);
		if (!err) {
			*address = (uint32_t)d->bus << 8 | (uint32_t)d->dev << 3 | d->fn;
			debug_printf("pci: %02x:%02x.%x opened by '%s'\n", d->bus, d->dev, d->fn, owner);
		}
		break;
	}
	unlock();
	return err;
}

static const struct pci_ops main_ops = { .list = do_list, .open = do_open };

/* The main loop, by hand rather than server_run: after an open's reply
 * has copied the session right to the driver, our own copy must go, and
 * only then may no-senders be armed. */
static void serve_main(uint64_t port)
{
	static uint64_t recv_slots[MSG_MAX_CAPS];
	uint64_t reply_slot = slot_alloc();
	for (int i = 0; i < MSG_MAX_CAPS; i++)
		recv_slots[i] = slot_alloc();
	for (;;) {
		struct msg m;
		ipc_set_recv_slots(recv_slots, MSG_MAX_CAPS);
		long err = ipc_recv(port, reply_slot, &m);
		if (err == E_STATE) /* suspended and resumed: the receive was cancelled */
			continue;
		if (err)
			return;
		if (heartbeat_filter(&m)) /* init's ping (docs/manifest.md, heartbeat) */
			continue;
		if (MSG_LABEL(m.info) != LABEL_NOTIFY) {
			if (!pci_dispatch(&main_ops, 0, &m, recv_slots, &m))
				m.info = MSG_INFO(MSG_LABEL(m.info), 1, 0), m.w[0] = (uint64_t)E_BAD_SYSCALL;
			if (cspace_slot_type(reply_slot) == OBJ_REPLY)
				ipc_reply(reply_slot, &m);
			ipc_set_send_caps(0, 0);
		}
		if (cspace_slot_type(reply_slot) != OBJ_NONE)
			sys_cnode_delete(reply_slot);
		for (int i = 0; i < MSG_MAX_CAPS; i++)
			if (cspace_slot_type(recv_slots[i]) != OBJ_NONE)
				sys_cnode_delete(recv_slots[i]);
		if (handed_out) {
			lock();
			sys_cnode_delete(handed_out);
			slot_free(handed_out);
			handed_out = 0;
			/* posted at once if the driver is already gone */
			sys_port_nosenders(sessions[own[handed_device].session].port, NOSENDERS_BIT);
			unlock();
		}
	}
}

static void parse_lines(const char *args)
{
	size_t len;
	const char *v = arg_value(args, "irqs=", &len);
	for (size_t i = 0; v && i < len && line_count < MAX_LINES;) {
		unsigned n = 0;
		while (i < len && v[i] >= '0' && v[i] <= '9')
			n = n * 10 + (unsigned)(v[i++] - '0');
		line_of_slot[line_count++] = n;
		while (i < len && (v[i] < '0' || v[i] > '9'))
			i++;
	}
}

int main(const struct bootinfo *bi)
{
	boot = bi;
	parse_lines(bi->cmdline);
	session_priority = arg_number(bi->cmdline, "priority=", 100);
	for (unsigned i = 0; i < PCI_MAX_DEVICES; i++)
		own[i].session = -1;
	pci_enumerate();
	/* nobody owns a device yet: none may master the bus */
	for (unsigned i = 0; i < pci_device_count; i++) {
		struct pci_device *d = &pci_devices[i];
		if (d->header_type == 0 && (d->class_rev >> 24) != 0x06) {
			uint16_t cmd = (uint16_t)cfg_read(d, CFG_COMMAND, 2);
			cfg_write(d, CFG_COMMAND, 2, cmd & ~CMD_BUS_MASTER);
		}
	}
	carve_bars();
	debug_printf("pci: %u functions, %u interrupt lines\n", pci_device_count, line_count);
	uint64_t port, send = slot_alloc();
	long err = object_alloc(OBJ_PORT, 0, &port);
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, send, RIGHT_SEND, 0);
	err = err ? err : init_publish(INIT_SLOT, "pci", send);
	if (err) {
		debug_printf("pci: cannot publish: %ld\n", err);
		return 1;
	}
	serve_main(port);
	return 1;
}
