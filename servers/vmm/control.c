/*
 * The VM's controls (idl/vmm.idl): what the Berth shell's `vm` commands
 * ask a VMM (docs/vmm.md, "Managing VMs from the shell").
 *
 * The requests come on the VMM's one port, beside the VM exits and the
 * timer's notifications, through a send right badged CONTROL_BADGE that
 * control_start publishes with init as "vm.NAME".  The loop in main.c
 * hands every message to control_message first; only those with that
 * badge are ours, so a client of the controls can never pose as the VCPU.
 *
 * The guest's serial output (uart_output in main.c asks
 * control_console_output first):
 *   - while a client is attached, it goes to the console as it is;
 *   - otherwise, with the argument console=buffer, it goes to a ring of
 *     CONSOLE_RING_BYTES (the oldest bytes dropped and counted), written
 *     out when a client attaches;
 *   - otherwise (console=line, the default) main.c writes each line to
 *     the console marked with [NAME], as it always did.
 *
 * Exit statistics: main.c calls control_exit_done after each handle_exit
 * with the TSC it read before; the time is converted with the TSC's rate
 * against the host's 100 Hz timer.
 */
#include "vm.h"
#include "vmm.h"      /* generated from idl/vmm.idl */
#include "init.h"     /* generated from idl/init.idl */
#include <libipc/server.h>  /* SERVER_DEFERRED */

#define INIT_SLOT 8
#define CONSOLE_RING_BYTES 16384
#define MAX_REASONS 32

enum { VM_RUNNING = 0, VM_HALTED = 1, VM_STOPPED = 2 };   /* vmm.idl's info states */
enum { SESSION_DETACHED = 0, SESSION_TAKEN_OVER = 1 };     /* console_attach's how */

static char control_name[29];         /* "vm." + this fits init's 32-byte names */
static int buffer_output;        /* console=buffer */
static uint64_t kick;            /* our send right, to post CONTROL_KICK_BIT to ourselves */

/* The attached client: its console_attach call waits in attach_reply. */
static int attached;
static uint64_t attach_reply;

/* The guest's output kept while nobody is attached. */
static uint8_t ring[CONSOLE_RING_BYTES];
static size_t ring_start, ring_len;
static uint64_t ring_dropped;

static struct {
	uint32_t code;
	uint64_t count, tsc;
} reasons[MAX_REASONS];
static unsigned reason_count;
static uint64_t exits_total;

void control_start(const char *args)
{
	mark_events = &exits_total;
	mark_events_name = "exits";
	size_t len;
	const char *v = arg_value(args, "console=", &len);
	if (v && len == 6 && !strncmp(v, "buffer", 6))
		buffer_output = 1;
	else if (v && !(len == 4 && !strncmp(v, "line", 4)))
		debug_printf("vmm: console= takes line or buffer; using line\n");
	attach_reply = slot_alloc();

	v = arg_value(args, "name=", &len);
	if (!v || !len)
		return; /* a VM without a name is not managed from the shell */
	if (len > sizeof(control_name) - 4) {
		debug_printf("vmm: name= is longer than %zu characters: no controls\n", sizeof(control_name) - 4);
		return;
	}
	memcpy(control_name, "vm.", 3);
	memcpy(control_name + 3, v, len);
	control_name[3 + len] = 0;
	uint64_t published = slot_alloc();
	kick = slot_alloc();
	long err = published && kick && attach_reply ? E_OK : E_SLOT_FULL;
	err = err ? err : sys_cnode_mint(vm.port, CAP_ROOT_CNODE, published, RIGHT_SEND, CONTROL_BADGE);
	err = err ? err : sys_cnode_mint(vm.port, CAP_ROOT_CNODE, kick, RIGHT_SEND, CONTROL_BADGE);
	err = err ? err : init_publish(INIT_SLOT, control_name, published);
	if (err) {
		debug_printf("vmm: cannot publish '%s': error %ld\n", control_name, err);
		control_name[0] = 0;
	}
}

/* --- the guest's console ---------------------------------------------- */

static void ring_put(const uint8_t *bytes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ring[(ring_start + ring_len) % CONSOLE_RING_BYTES] = bytes[i];
		if (ring_len < CONSOLE_RING_BYTES) {
			ring_len++;
		} else {
			ring_start = (ring_start + 1) % CONSOLE_RING_BYTES;
			ring_dropped++;
		}
	}
}

/* Write the kept output to the console, oldest first, and empty the ring. */
static void ring_replay(void)
{
	if (ring_dropped) {
		char note[80];
		int n = debug_snprintf(note, sizeof(note), "[%lu bytes of earlier output dropped]\n",
		                       ring_dropped);
		console_out((const uint8_t *)note, (size_t)n);
	}
	size_t first = CONSOLE_RING_BYTES - ring_start;
	if (first > ring_len)
		first = ring_len;
	console_out(ring + ring_start, first);
	console_out(ring, ring_len - first);
	ring_start = ring_len = 0;
	ring_dropped = 0;
}

int control_console_output(const uint8_t *bytes, size_t n)
{
	if (attached) {
		console_out(bytes, n);
		return 1;
	}
	if (buffer_output) {
		ring_put(bytes, n);
		return 1;
	}
	return 0;
}

/* The session ends: the attached client's console_attach returns. */
static void end_session(uint32_t how)
{
	struct msg m;
	m.info = MSG_INFO(VMM_CONSOLE_ATTACH_LABEL, 2, 0);
	m.w[0] = E_OK;
	m.w[1] = how;
	ipc_reply(attach_reply, &m); /* E_NO_REPLY if the client went away: nothing to do */
	sys_cnode_delete(attach_reply);
	attached = 0;
}

/* --- the interface ---------------------------------------------------- */

static long do_info(void *ctx, uint64_t badge, char name[32 + 1], uint32_t *state, uint64_t *memory,
                    uint64_t *uptime_ms, uint64_t *exits)
{
	(void)ctx;
	(void)badge;
	strcpy(name, control_name[0] ? control_name + 3 : "");
	*state = vm.stopped ? VM_STOPPED : vm.halted ? VM_HALTED : VM_RUNNING;
	*memory = vm.ram_bytes;
	*uptime_ms = clock_ns() / 1000000;
	*exits = exits_total;
	return E_OK;
}

/* The exit codes' names, as the AMD APM lists them (vol. 2, appendix C). */
static void reason_name(uint32_t code, char name[16 + 1])
{
	static const struct { uint32_t code; const char *name; } fixed[] = {
		{ 0x60, "intr" }, { 0x61, "nmi" }, { 0x62, "smi" }, { 0x63, "init" },
		{ 0x64, "vintr" }, { 0x65, "cr0_sel_write" }, { 0x66, "idtr_read" },
		{ 0x67, "gdtr_read" }, { 0x68, "ldtr_read" }, { 0x69, "tr_read" },
		{ 0x6a, "idtr_write" }, { 0x6b, "gdtr_write" }, { 0x6c, "ldtr_write" },
		{ 0x6d, "tr_write" }, { 0x6e, "rdtsc" }, { 0x6f, "rdpmc" }, { 0x70, "pushf" },
		{ 0x71, "popf" }, { 0x72, "cpuid" }, { 0x73, "rsm" }, { 0x74, "iret" },
		{ 0x75, "swint" }, { 0x76, "invd" }, { 0x77, "pause" }, { 0x78, "hlt" },
		{ 0x79, "invlpg" }, { 0x7a, "invlpga" }, { 0x7b, "ioio" }, { 0x7c, "msr" },
		{ 0x7d, "task_switch" }, { 0x7e, "ferr_freeze" }, { 0x7f, "shutdown" },
		{ 0x80, "vmrun" }, { 0x81, "vmmcall" }, { 0x82, "vmload" }, { 0x83, "vmsave" },
		{ 0x84, "stgi" }, { 0x85, "clgi" }, { 0x86, "skinit" }, { 0x87, "rdtscp" },
		{ 0x88, "icebp" }, { 0x89, "wbinvd" }, { 0x8a, "monitor" }, { 0x8b, "mwait" },
		{ 0x8c, "mwait_cond" }, { 0x8d, "xsetbv" }, { 0x8e, "rdpru" },
		{ 0x8f, "efer_write_trap" }, { 0x400, "npf" }, { 0xffffffff, "invalid" },
		/* the VMM's own events (shadow.c) */
		{ 0x10001, "shadow_fill" }, { 0x10002, "shadow_reflect" }, { 0x10003, "shadow_mmio" },
		{ 0x10004, "shadow_flush" }, { 0x10005, "shadow_pool_full" }, { 0x10006, "shadow_flush_low" },
		{ 0x10007, "shadow_cached" }, { 0x10008, "shadow_uncached" }, { 0x10009, "shadow_pt_write" },
		{ 0x1000a, "shadow_protect" }, { 0x1000b, "shadow_pt_emulate" },
	};
	for (unsigned i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (fixed[i].code == code) {
			strcpy(name, fixed[i].name);
			return;
		}
	}
	if (code < 0x10)
		debug_snprintf(name, 17, "cr%u_read", code);
	else if (code < 0x20)
		debug_snprintf(name, 17, "cr%u_write", code - 0x10);
	else if (code < 0x30)
		debug_snprintf(name, 17, "dr%u_read", code - 0x20);
	else if (code < 0x40)
		debug_snprintf(name, 17, "dr%u_write", code - 0x30);
	else if (code < 0x60)
		debug_snprintf(name, 17, "exception %u", code - 0x40);
	else if (code >= 0x90 && code < 0xa0)
		debug_snprintf(name, 17, "cr%u_write_trap", code - 0x90);
	else
		debug_snprintf(name, 17, "exit %#x", code);
}

static long do_exit_stats(void *ctx, uint64_t badge, uint32_t index, char reason[16 + 1], uint32_t *code,
                          uint64_t *count, uint64_t *vmm_ns)
{
	(void)ctx;
	(void)badge;
	if (index >= reason_count)
		return E_RANGE;
	reason_name(reasons[index].code, reason);
	*code = reasons[index].code;
	*count = reasons[index].count;
	*vmm_ns = clock_cycles_to_ns(reasons[index].tsc);
	return E_OK;
}

static long do_console_attach(void *ctx, uint64_t badge, uint32_t *how)
{
	(void)ctx;
	(void)badge;
	(void)how;
	if (attached) /* the newest client wins, as with virsh console --force */
		end_session(SESSION_TAKEN_OVER);
	if (sys_cnode_move(vm.reply, CAP_ROOT_CNODE, attach_reply))
		return E_SLOT_FULL;
	ring_replay();
	attached = 1;
	return SERVER_DEFERRED;
}

static long do_console_input(void *ctx, uint64_t badge, const uint8_t *data, uint32_t len,
                             uint32_t *taken)
{
	(void)ctx;
	(void)badge;
	feed_uart(0, 0); /* what waits goes into the FIFO first, as room allows */
	size_t room = sizeof(pending_input) - pending_len;
	*taken = len < room ? len : (uint32_t)room;
	if (*taken) {
		feed_uart(data, *taken);
		/* the loop in main.c wakes a halted guest or opens the interrupt
		 * window when it receives this */
		sys_notify(kick, CONTROL_KICK_BIT);
	}
	return E_OK;
}

static long do_console_detach(void *ctx, uint64_t badge)
{
	(void)ctx;
	(void)badge;
	if (!attached)
		return E_STATE;
	end_session(SESSION_DETACHED);
	return E_OK;
}

static long do_inject_fault(void *ctx, uint64_t badge)
{
	(void)ctx;
	(void)badge;
	debug_printf("vmm: %s: injected fault: a write to address 0\n", control_name);
	*(volatile uint64_t *)0 = 0xbad;
	return E_STATE; /* not reached: nothing is mapped at 0 */
}

static long do_snapshot(void *ctx, uint64_t badge, const char *path, uint64_t *bytes, uint64_t *pause_us)
{
	(void)ctx;
	(void)badge;
	(void)bytes;
	(void)pause_us;
	long err = snapshot_request(path, vm.reply); /* takes the reply right, answers when done */
	return err ? err : SERVER_DEFERRED;
}

static long do_balloon(void *ctx, uint64_t badge, uint32_t set, uint32_t mib, uint32_t *target_mib,
                       uint32_t *actual_mib, uint32_t *returned_mib, uint64_t *refused)
{
	(void)ctx;
	(void)badge;
	struct balloon_info i;
	long err = set ? balloon_set_target(mib) : E_OK;
	if (err || balloon_info(&i))
		return err ? err : E_STATE;
	*target_mib = i.target_pages / 256;
	*actual_mib = i.actual_pages / 256;
	*returned_mib = i.regions_returned * 2;
	*refused = i.refused;
	return E_OK;
}

static long do_dirty(void *ctx, uint64_t badge, uint32_t op, uint64_t *pages, uint64_t *faults,
                     uint64_t *elapsed_us)
{
	(void)ctx;
	(void)badge;
	static uint64_t since, faults_before;
	uint64_t now = rdtsc();
	switch (op) {
	case 0: {
		/* nested paging only: mode=trap, patch and pv have no guest
		 * space, and shadow paging fills an entry from what the guest
		 * space allows, so a protected page would look like a device */
		long err = !vm.guest_space || shadow_on() ? E_STATE : dirty_start();
		since = now;
		faults_before = 0;
		return err;
	}
	case 1:
		if (!dirty_tracking())
			return E_STATE;
		*pages = dirty_collect(0);
		*faults = dirty_faults() - faults_before;
		faults_before = dirty_faults();
		*elapsed_us = clock_cycles_to_ns(now - since) / 1000;
		since = now;
		return E_OK;
	case 2:
		if (!dirty_tracking())
			return E_STATE;
		dirty_stop();
		return E_OK;
	}
	return E_BAD_ARG;
}

static long do_migrate(void *ctx, uint64_t badge, const char *dest, uint64_t *rounds, uint64_t *pages,
                       uint64_t *total_ms, uint64_t *downtime_ms)
{
	(void)ctx;
	(void)badge;
	(void)rounds;
	(void)pages;
	(void)total_ms;
	(void)downtime_ms;
	long err = migrate_request(dest, vm.reply); /* takes the reply right, answers when done */
	return err ? err : SERVER_DEFERRED;
}

static long do_clone_args(void *ctx, uint64_t badge, char args[127 + 1], uint64_t *ram_bytes)
{
	(void)ctx;
	(void)badge;
	return clone_args(args, ram_bytes);
}

static long do_clone_begin(void *ctx, uint64_t badge, const char *child, uint32_t *regions,
                           uint32_t *state_frames, uint64_t *state_len, uint64_t *pause_us)
{
	(void)ctx;
	(void)badge;
	(void)regions;
	(void)state_frames;
	(void)state_len;
	(void)pause_us;
	long err = clone_begin_request(child, vm.reply); /* takes the reply right, answers at the exit */
	return err ? err : SERVER_DEFERRED;
}

static long do_clone_frame(void *ctx, uint64_t badge, uint32_t index, uint64_t *frame, uint32_t *loan)
{
	(void)ctx;
	(void)badge;
	return clone_frame(index, frame, loan);
}

static long do_clone_end(void *ctx, uint64_t badge)
{
	(void)ctx;
	(void)badge;
	return clone_end();
}

static long do_sharing(void *ctx, uint64_t badge, uint64_t *shared_pages, uint64_t *private_pages,
                       uint64_t *zero_pages, uint64_t *zero_regions, uint64_t *stored_pages)
{
	(void)ctx;
	(void)badge;
	ram_sharing_stats(shared_pages, private_pages, zero_pages, zero_regions, stored_pages);
	return E_OK;
}

static long do_share(void *ctx, uint64_t badge, uint32_t *regions, uint64_t *zero_pages, uint64_t *stored_pages,
                     uint64_t *copied_pages, uint64_t *pause_us)
{
	(void)ctx;
	(void)badge;
	(void)regions;
	(void)zero_pages;
	(void)stored_pages;
	(void)copied_pages;
	(void)pause_us;
	long err = share_request(vm.reply); /* takes the reply right, answers at the exit */
	return err ? err : SERVER_DEFERRED;
}

static const struct vmm_ops ops = {
	.info = do_info, .exit_stats = do_exit_stats, .console_attach = do_console_attach,
	.console_input = do_console_input, .console_detach = do_console_detach,
	.inject_fault = do_inject_fault, .snapshot = do_snapshot, .balloon = do_balloon, .dirty = do_dirty,
	.migrate = do_migrate, .clone_args = do_clone_args, .clone_begin = do_clone_begin,
	.clone_frame = do_clone_frame, .clone_end = do_clone_end, .sharing = do_sharing,
	.share = do_share,
};

int vmm_message_common(long err, struct msg *m)
{
	if (err == E_STATE) /* suspended and resumed: the receive was cancelled */
		return 1;
	if (err) {
		debug_printf("vmm: receive failed: %ld\n", err);
		return -1;
	}
	if (heartbeat_filter(m)) /* init's ping (docs/manifest.md, heartbeat) */
		return 1;
	return control_message(m); /* a request from vm.NAME's clients */
}

int control_message(const struct msg *m)
{
	if (m->badge != CONTROL_BADGE || MSG_LABEL(m->info) == LABEL_NOTIFY)
		return 0;
	static struct msg reply;
	if (!vmm_dispatch(&ops, 0, m, 0, &reply)) {
		reply.info = MSG_INFO(MSG_LABEL(m->info), 1, 0);
		reply.w[0] = (uint64_t)E_BAD_SYSCALL;
	}
	if (reply.w[0] != (uint64_t)SERVER_DEFERRED)
		ipc_reply(vm.reply, &reply);
	/* a send has no reply right; whatever is left there goes */
	if (cspace_slot_type(vm.reply) != OBJ_NONE)
		sys_cnode_delete(vm.reply);
	return 1;
}

/* --- statistics ------------------------------------------------------- */

static void count_reason(uint32_t c, uint64_t spent);

void control_exit_done(uint64_t code, uint64_t since)
{
	exits_total++;
	count_reason((uint32_t)code, rdtsc() - since);
}

/* not an exit: counted by kind only, its time in the exit's */
void control_event(uint32_t code)
{
	count_reason(code, 0);
}

static void count_reason(uint32_t c, uint64_t spent)
{
	/* a guest's exits come in runs of one reason: look where the last
	 * one was first (every exit passes here) */
	static unsigned last;
	unsigned i = last;
	if (i >= reason_count || reasons[i].code != c) {
		i = 0;
		while (i < reason_count && reasons[i].code != c)
			i++;
		if (i == reason_count) {
			if (reason_count == MAX_REASONS)
				return; /* counted in the total only */
			reasons[reason_count++].code = c;
		}
		last = i;
	}
	reasons[i].count++;
	reasons[i].tsc += spent;
}
