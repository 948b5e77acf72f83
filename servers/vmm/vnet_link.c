/*
 * The guest's network card (`net` in the VMM's args): a virtio-net
 * device (virtio_net.c) whose wire is a port of the network server's
 * virtual switch ("switch", idl/vswitch.idl), as a Xen guest's netfront
 * is joined to a bridge in its driver domain.  docs/guest-io.md tells the
 * whole path.
 *
 * The switch gives the VM its MAC and IPv4 address by the VM's name; the
 * VMM puts the address on Linux's command line (berth.ip=, berth.gw=),
 * which the guest's /init reads.  Frames move through the switch's
 * buffer of 2048-byte slots, shared with us as netif.idl describes: a
 * frame the guest sends is copied into a free transmit slot and handed
 * over (transmit); frames for the guest come when the switch posts
 * NET_BIT to our port and we ask for them (receive), copy each into a
 * receive buffer the guest posted, and give the slots back.  Nothing
 * waits: no free slot or no guest buffer drops the frame, as a NIC with
 * a full ring does, and the counters say so.
 *
 * When the network server dies, the link goes down for the guest (the
 * STATUS field and a configuration interrupt: a cable pulled out) and we
 * attach again once a second; the link comes back up with the same MAC
 * and address.  All of this runs in the main loop, and the calls to the
 * switch are short (it never blocks on us).  The slots are the network
 * server's memory and vanish with it, perhaps during a copy: so copies
 * in and out of them are safe_copy's (servers/lib/safe_copy.h), and one
 * that faults means the server is gone.
 */
#include "vm.h"
#include "virtio_net.h"
#include "acpi.h"
#include "vswitch.h"
#include "init.h"
#include "safe_copy.h"

#define INIT_SLOT 8
#define NET_PCI_SLOT 3                  /* 00:03.0 */
#define NET_BAR_GPA 0xfe004000UL         /* BAR 4, after the disk's */
#define NET_BUF_PAGES_MAX 128
#define SLOT_BYTES 2048
#define BATCH 32                         /* vswitch.idl's arrays */
#define RETRY_MS 1000

static struct {
	int present, up;
	struct virtio_net dev;
	char name[32];
	uint64_t port_send;              /* our port, for the switch's notifications */
	uint64_t sw, session;
	uint64_t frame[NET_BUF_PAGES_MAX];
	uint32_t pages, rx_slots, tx_slots;
	uint16_t tx_free[NET_BUF_PAGES_MAX * 2];
	unsigned ntx_free;
	uint16_t give_back[BATCH];       /* receive slots to return at the next call */
	unsigned ngive;
	uint8_t mac[6];
	uint32_t ip, prefix, gateway;
	uint64_t next_try_ms;
	uint64_t no_slot;                /* frames dropped for want of a transmit slot */
	const char *said;
	char rules[256], forwards[128];  /* from the args: applied once per port */
	char cmdline[80];
} net;

static void drop_slot(uint64_t *slot)
{
	if (*slot) {
		sys_cnode_delete(*slot);
		slot_free(*slot);
		*slot = 0;
	}
}

static int switch_gone(long err)
{
	return err == E_NO_REPLY || err == E_DEAD_PORT || err == E_BAD_CAP;
}

static void detach_local(void)
{
	for (uint32_t p = 0; p < net.pages; p++) {
		if (net.frame[p])
			sys_page_unmap(net.frame[p]);
		drop_slot(&net.frame[p]);
	}
	net.pages = 0;
	net.ntx_free = net.ngive = 0;
	drop_slot(&net.session);
	drop_slot(&net.sw);
}

static void link_lost(void)
{
	if (!net.up)
		return;
	debug_printf("vmm: %snet: the virtual switch went away; the link is down until it is back\n", vm_name);
	net.up = 0;
	detach_local();
	virtio_net_set_link(&net.dev, 0);
	net.next_try_ms = clock_ms() + RETRY_MS;
}

static void dotted(uint32_t a, char *buf, size_t size)
{
	debug_snprintf(buf, size, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

/* The manifest's rules (fw=RULE;RULE, words joined by commas) and
 * forwards (forward=tcp:BERTH:GUEST,...), for a port that has none yet:
 * the switch keeps a port's rules while it runs, so a VMM that restarts
 * must not add them twice. */
static void apply_config(void)
{
	uint32_t more = 0;
	char rule[64];
	uint64_t frames, bytes;
	if (net.rules[0] && !vswitch_fw_rule(net.sw, net.name, 0, &more, rule, &frames, &bytes) && !more) {
		for (char *r = net.rules; *r;) {
			size_t n = 0;
			while (r[n] && r[n] != ';' && n < sizeof(rule) - 1) {
				rule[n] = r[n] == ',' ? ' ' : r[n];
				n++;
			}
			rule[n] = 0;
			long err = vswitch_fw_insert(net.sw, net.name, 0xffffffffu, rule);
			if (err)
				debug_printf("vmm: %snet: the switch refused the rule '%s' (%ld)\n", vm_name, rule, err);
			r += n;
			while (*r && *r != ';')
				r++;
			if (*r)
				r++;
		}
	}
	for (char *f = net.forwards; *f;) {
		unsigned proto = 0, bp = 0, gp = 0;
		if (!strncmp(f, "tcp:", 4))
			proto = 6;
		else if (!strncmp(f, "udp:", 4))
			proto = 17;
		char *p = f + 4;
		while (*p >= '0' && *p <= '9')
			bp = bp * 10 + (unsigned)(*p++ - '0');
		if (*p == ':')
			for (p++; *p >= '0' && *p <= '9';)
				gp = gp * 10 + (unsigned)(*p++ - '0');
		long err = proto && bp && gp && bp < 65536 && gp < 65536 && (!*p || *p == ',')
		           ? vswitch_forward(net.sw, proto, bp, net.name, gp) : E_BAD_ARG;
		if (err)
			debug_printf("vmm: %snet: forward '%.*s' not set (%ld)\n", vm_name, (int)(p - f), f, err);
		while (*p && *p != ',')
			p++;
		f = *p ? p + 1 : p;
	}
}

/* Find the switch, attach, map its buffer.  E_OK or why not. */
static long attach(void)
{
	uint64_t mac = 0;
	uint32_t had_ip = net.ip; /* 0 before the first attach */
	long err = init_lookup(INIT_SLOT, "switch", &net.sw);
	if (err) {
		net.sw = 0;
		return err;
	}
	/* after a network server restart, ask for the address the guest was
	 * configured with (its kernel command line has it) */
	err = vswitch_attach(net.sw, net.name, net.port_send, NET_BIT, had_ip, &net.session, &net.pages, &net.rx_slots,
	                     &net.tx_slots, &mac, &net.ip, &net.prefix, &net.gateway);
	if (err) {
		net.session = 0;
		net.pages = 0;
		drop_slot(&net.sw);
		return err;
	}
	if (!net.pages || net.pages > NET_BUF_PAGES_MAX ||
	    (uint64_t)(net.rx_slots + net.tx_slots) * SLOT_BYTES > (uint64_t)net.pages * PAGE_SIZE ||
	    net.tx_slots > sizeof(net.tx_free) / sizeof(net.tx_free[0]) || !net.tx_slots || !net.rx_slots)
		err = E_BAD_MSG;
	uint32_t mapped = 0;
	for (; !err && mapped < net.pages; mapped++) {
		err = vswitch_buffer_frame(net.session, mapped, &net.frame[mapped]);
		if (err)
			net.frame[mapped] = 0;
		else
			err = page_map_with_tables(net.frame[mapped], NET_BUF_VA + mapped * PAGE_SIZE,
			                           RIGHT_READ | RIGHT_WRITE);
	}
	if (err) {
		net.pages = mapped;
		detach_local();
		return err;
	}
	if (had_ip && net.ip != had_ip) {
		char a[16], b[16];
		dotted(had_ip, a, sizeof(a));
		dotted(net.ip, b, sizeof(b));
		debug_printf("vmm: %snet: the switch gave %s, not the guest's %s (another VM holds it): the switch drops "
		             "the guest's frames as spoofed until the VM restarts\n", vm_name, b, a);
	}
	for (unsigned i = 0; i < 6; i++)
		net.mac[i] = (uint8_t)(mac >> (8 * i));
	net.ntx_free = 0;
	for (uint32_t s = 0; s < net.tx_slots; s++)
		net.tx_free[net.ntx_free++] = (uint16_t)(net.rx_slots + s);
	net.ngive = 0;
	net.up = 1;
	apply_config();
	return E_OK;
}

static void take_done(uint32_t count, const uint16_t *done)
{
	for (uint32_t i = 0; i < count && i < BATCH; i++)
		if (done[i] >= net.rx_slots && done[i] < net.rx_slots + net.tx_slots &&
		    net.ntx_free < net.tx_slots)
			net.tx_free[net.ntx_free++] = done[i];
}

/* The guest sent a frame (virtio_net.c's backend). */
static int net_transmit(void *ctx, const uint8_t *frame, size_t len)
{
	(void)ctx;
	uint16_t done[BATCH];
	uint32_t ndone = 0;
	long err;
	if (!net.up)
		return -1;
	if (!net.ntx_free) {
		if ((err = vswitch_reclaim(net.session, &ndone, done))) {
			if (switch_gone(err))
				link_lost();
			return -1;
		}
		take_done(ndone, done);
	}
	if (!net.ntx_free) {
		net.no_slot++;
		return -1;
	}
	uint16_t slot[BATCH] = { net.tx_free[--net.ntx_free] }, length[BATCH] = { (uint16_t)len };
	if (safe_copy((uint8_t *)NET_BUF_VA + (uint64_t)slot[0] * SLOT_BYTES, frame, len)) {
		link_lost();
		return -1;
	}
	err = vswitch_transmit(net.session, 1, slot, length, &ndone, done);
	if (err) {
		if (switch_gone(err))
			link_lost();
		else
			net.tx_free[net.ntx_free++] = slot[0];
		return -1;
	}
	take_done(ndone, done);
	return 0;
}

/* Frames for the guest: take what the switch holds (a few rounds at
 * most: the rest comes with the next notification), give the slots
 * back. */
static void net_receive(void)
{
	for (unsigned round = 0; net.up && round < 8; round++) {
		uint16_t slot[BATCH], len[BATCH];
		uint32_t got = 0;
		long err = vswitch_receive(net.session, net.ngive, net.give_back, &got, slot, len);
		if (err) {
			if (switch_gone(err))
				link_lost();
			return;
		}
		net.ngive = 0;
		for (uint32_t i = 0; i < got && i < BATCH; i++) {
			static uint8_t frame[SLOT_BYTES];
			if (slot[i] >= net.rx_slots)
				continue;
			if (len[i] <= SLOT_BYTES) {
				if (safe_copy(frame, (const uint8_t *)NET_BUF_VA + (uint64_t)slot[i] * SLOT_BYTES, len[i])) {
					link_lost();
					return;
				}
				virtio_net_receive(&net.dev, frame, len[i]);
			}
			net.give_back[net.ngive++] = slot[i];
		}
		if (!got)
			return;
	}
}

static void net_rx_ready(void *ctx)
{
	(void)ctx;
	if (net.up)
		net_receive();
}

/* NET_BIT: frames came, or transmit slots are done. */
void net_notified(void)
{
	if (!net.present || !net.up)
		return;
	uint16_t done[BATCH];
	uint32_t ndone = 0;
	net_receive();
	if (net.up && !vswitch_reclaim(net.session, &ndone, done))
		take_done(ndone, done);
}

/* The host timer: try the switch again while the link is down. */
void net_tick(void)
{
	if (!net.present || net.up || clock_ms() < net.next_try_ms)
		return;
	if (attach() == E_OK) {
		debug_printf("vmm: %snet: the virtual switch is back; the link is up\n", vm_name);
		virtio_net_set_mac(&net.dev, net.mac);
		virtio_net_set_link(&net.dev, 1);
	} else {
		net.next_try_ms = clock_ms() + RETRY_MS;
	}
}

static void *net_guest_ptr(void *ctx, uint64_t gpa, size_t n)
{
	(void)ctx;
	return guest_ptr(gpa, n);
}

static void net_irq(void *ctx, int level)
{
	(void)ctx;
	ioapic_set_irq(&vm.ioapic, ACPI_PCI_GSI(NET_PCI_SLOT, 0), level);
}

void net_power_on(void)
{
	if (net.present)
		virtio_place(&net.dev.vp, NET_PCI_SLOT, NET_BAR_GPA);
}

/* The guest broke the device's rules: say so once per breakage. */
void net_report(void)
{
	if (!net.present || net.dev.vp.error == net.said)
		return;
	net.said = net.dev.vp.error;
	if (net.said)
		debug_printf("vmm: %snet: the guest's driver broke the device (%s); it needs a reset\n", vm_name, net.said);
}

/* Linux's command line gets the address the switch gave (or nothing). */
const char *net_cmdline(void)
{
	return net.cmdline;
}

/* `net` in args: a NIC on the switch, as this VM's name (name=) says.
 * fw=RULE;RULE (words joined by commas) and forward=tcp:B:G,... apply to
 * a port that has none yet.  E_OK also when the switch is not there yet:
 * the NIC then starts with its link down. */
long net_setup(const char *args, uint64_t main_port)
{
	if (!arg_flag(args, "net"))
		return E_OK;
	size_t len;
	const char *name = arg_value(args, "name=", &len);
	if (!name || !len || len >= sizeof(net.name)) {
		debug_printf("vmm: net needs name= (1 to 31 characters): the switch knows a VM by it\n");
		return E_BAD_ARG;
	}
	memcpy(net.name, name, len);
	net.name[len] = 0;
	arg_string(args, "fw=", net.rules, sizeof(net.rules));
	arg_string(args, "forward=", net.forwards, sizeof(net.forwards));
	net.port_send = slot_alloc();
	long err = sys_cnode_mint(main_port, CAP_ROOT_CNODE, net.port_send, RIGHT_SEND, 0);
	err = err ? err : safe_copy_start();
	if (err)
		return err;
	/* the switch may still be starting (init starts servers in order) */
	for (unsigned t = 0; t < 20 && (err = attach()) && !switch_gone(err); t++)
		clock_nap(10);
	struct vnet_backend be = { net_transmit, net_rx_ready, 0 };
	if (err) {
		/* a MAC of our own until the switch gives one: locally administered */
		uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xbe, 0xff, 0 };
		for (size_t i = 0; i < len; i++)
			mac[5] = (uint8_t)(mac[5] * 31 + (uint8_t)name[i]);
		memcpy(net.mac, mac, 6);
		debug_printf("vmm: %snet: no virtual switch yet (%ld); the link is down until there is\n", vm_name, err);
		net.next_try_ms = clock_ms() + RETRY_MS;
	} else {
		char a[16], g[16];
		dotted(net.ip, a, sizeof(a));
		dotted(net.gateway, g, sizeof(g));
		debug_snprintf(net.cmdline, sizeof(net.cmdline), " berth.ip=%s/%u berth.gw=%s", a, net.prefix, g);
		debug_printf("vmm: %snet: %02x:%02x:%02x:%02x:%02x:%02x, %s/%u via %s, virtio-net at 00:%02x.0\n",
		             vm_name, net.mac[0], net.mac[1], net.mac[2], net.mac[3], net.mac[4], net.mac[5], a,
		             net.prefix, g, NET_PCI_SLOT);
	}
	virtio_net_init(&net.dev, net.mac, &be, net.up);
	virtio_pci_set_memory(&net.dev.vp, net_guest_ptr, 0);
	virtio_pci_set_irq(&net.dev.vp, net_irq, 0);
	net.present = 1;
	return E_OK;
}

/* The card's transport, for snapshots (snapshot.c); 0 without a card. */
struct virtio_pci *net_transport(void)
{
	return net.present ? &net.dev.vp : 0;
}
