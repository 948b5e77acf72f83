/*
 * The VMM: one per virtual machine, started by init (docs/vmm.md).  It
 * builds the guest's memory and VCPU from its own memory quota, loads the
 * guest image (a boot module handed to it), starts the guest in 64-bit
 * mode at GUEST_LOAD_GPA, and then serves its exits: one port receives the
 * VCPU's exits (calls) and the timer's notifications.
 * Arguments: mem=MiB (default 2), name=NAME (prefixes the guest's console
 * lines with [NAME]), input (the guest's serial port reads the console:
 * off by default, since every reader of the console competes for what is
 * typed), nopace (do not bound the time the guest's exits take: for
 * benchmarks only), mode=svm|shadow|trap|patch|pv (mode.h; svm by default).  Slot 9:
 * the console.
 */
#include "vm.h"
#include "console.h"
#include "mode.h"

#define CONSOLE_SLOT 9

struct vm vm;
static struct msg parked_msg;
static uint64_t tsc_per_tick;   /* the TSC's rate: cycles per host timer tick (100 Hz) */

char vm_name[24];   /* "[NAME] ", the mark on the guest's lines and our own messages */
static int line_start = 1;

/* The guest's serial output, each line marked with the VM's name when it
 * has one (several VMs share one console).  The mark and the bytes after
 * it go to the console in one write, so another writer's line cannot land
 * between them. */
void uart_output(void *ctx, const uint8_t *bytes, size_t n)
{
	(void)ctx;
	if (control_console_output(bytes, n)) /* attached, or kept for the next (control.c) */
		return;
	if (!vm_name[0]) {
		console_out(bytes, n);
		return;
	}
	uint8_t buf[256];
	size_t len = 0, name_len = strlen(vm_name);
	for (size_t i = 0; i < n; i++) {
		if (line_start) {
			if (len + name_len > sizeof(buf)) {
				console_out(buf, len);
				len = 0;
			}
			memcpy(buf + len, vm_name, name_len);
			len += name_len;
			line_start = 0;
		}
		if (len == sizeof(buf)) {
			console_out(buf, len);
			len = 0;
		}
		buf[len++] = bytes[i];
		if (bytes[i] == '\n')
			line_start = 1;
	}
	console_out(buf, len);
}

/* The console's input for the guest's serial port.  console_read waits
 * for typed input, so a thread of our own does it and posts what it gets
 * to our port; the loop below feeds it to the 16550. */
static uint8_t input_stack[8192] __attribute__((aligned(16)));
static uint64_t input_send;

static void input_thread(uint64_t arg)
{
	uint64_t nap = arg; /* a port of its own, to sleep on */
	for (;;) {
		struct msg m;
		uint8_t buf[256];
		uint32_t n = 0;
		if (console_read(vm.console, 24, buf, &n) || !n) {
			/* the console went away: wait a tenth of a second, look again */
			sys_notify_after(nap, 1, 10);
			ipc_recv(nap, 0, &m);
			console_reconnect();
			continue;
		}
		memcpy(&m.w[1], buf, n);
		m.w[0] = n;
		m.info = MSG_INFO(LABEL_CONSOLE_INPUT, 4, 0);
		ipc_send(input_send, &m);
	}
}

uint8_t pending_input[64];
size_t pending_len;

/* Give the UART what it has room for; keep the rest for later. */
void feed_uart(const uint8_t *bytes, size_t n)
{
	if (n && pending_len + n <= sizeof(pending_input)) {
		memcpy(pending_input + pending_len, bytes, n);
		pending_len += n;
	}
	size_t room = uart_rx_space(&vm.uart);
	size_t taken = uart_receive(&vm.uart, pending_input, pending_len < room ? pending_len : room);
	memmove(pending_input, pending_input + taken, pending_len - taken);
	pending_len -= taken;
	irq_line(4, uart_irq_level(&vm.uart));
}

/* --- a bound on the time one guest's exits take ------------------------
 *
 * The VMM runs above every VCPU (priority 120 against 90), and the kernel
 * charges the time it spends on an exit to the VMM, not to the guest: a
 * guest that exits without pause (a string instruction over a huge count,
 * a flood of print hypercalls) would keep its VMM, and the console server
 * it calls, busy and starve every other VM.  So the VMM measures the wall
 * time it spends serving exits (TSC, calibrated against the host timer at
 * start) and, once that passes half of a host tick within the current
 * tick, waits for the next tick before it replies.  A guest thus gets at
 * most about half the machine through its exits, whatever it does; its
 * own instructions are the scheduler's to share out. */
static uint64_t window_start, window_used, nap_port;
static int pacing;

static void nap_one_tick(void)
{
	struct msg m;
	sys_notify_after(nap_port, 1, 1);
	ipc_recv(nap_port, 0, &m);
}

/* The TSC's rate against the host timer, measured over `ticks` ticks from
 * a tick edge.  The measurement runs while the VM is built (calibrate_end
 * waits for the rest): a long one costs no start-up time, and the longer
 * it is, the less a late tick on a busy host skews it.  If the building
 * took longer than the measurement, the late wake-up would skew it: then
 * measure again, briefly. */
static uint64_t calib_t0;
static unsigned calib_ticks;

static void calibrate_start(unsigned ticks)
{
	nap_one_tick();
	calib_t0 = rdtsc();
	calib_ticks = ticks;
	sys_notify_after(nap_port, 1, ticks);
}

static void calibrate_end(void)
{
	struct msg m;
	if (ipc_nb_recv(nap_port, 0, &m) == E_OK) { /* already over: not a clean edge */
		calibrate_start(4);
		ipc_recv(nap_port, 0, &m);
	} else {
		ipc_recv(nap_port, 0, &m);
	}
	tsc_per_tick = (rdtsc() - calib_t0) / calib_ticks;
}

/* An exit's service began at `since`: charge it, and wait out the rest of
 * the tick when this guest has had its share. */
static void charge_exit(uint64_t since)
{
	if (!pacing || !tsc_per_tick)
		return;
	uint64_t now = rdtsc();
	if (since - window_start >= tsc_per_tick) {
		window_start = since;
		window_used = 0;
	}
	window_used += now - since;
	if (window_used > tsc_per_tick / 2) {
		nap_one_tick();
		window_start = rdtsc();
		window_used = 0;
	}
}

/* Resume a VCPU parked in HLT if an interrupt is now due. */
static void wake_parked(void)
{
	if (!vm.halted || vm.stopped)
		return;
	deliver_interrupt(&parked_msg);
	if (!parked_msg.w[VMEXIT_W_INJECT])
		return;
	vm.halted = 0;
	parked_msg.info = MSG_INFO(0, VMEXIT_REPLY_WORDS, 0);
	ipc_reply(vm.parked, &parked_msg);
}

/* A restored VM's arguments: the snapshot's (its devices, its memory),
 * but this VMM's name=; "restore=PATH" itself is not kept. */
static void restore_args(const char *saved, const char *current, char *out, size_t size)
{
	size_t k = 0, n;
	const char *p;
	for (const char *w = saved; (p = arg_next(&w, &n));)
		if (!(n >= 5 && !strncmp(p, "name=", 5)) && k + n + 2 < size) {
			memcpy(out + k, p, n);
			k += n;
			out[k++] = ' ';
		}
	p = arg_value(current, "name=", &n);
	if (p && k + n + 6 < size) {
		memcpy(out + k, "name=", 5);
		memcpy(out + k + 5, p, n);
		k += n + 5;
	}
	out[k] = 0;
}

/* The VM moved to another machine (migrate.c): this VMM ends, and init
 * does not start it again. */
static int moved(void)
{
	vm.stopped = 1;
	disk_close();
	return EXIT_MOVED;
}

/* ipc_reply_recv for the answer to an exit.  The kernel reads only the
 * words the exits' transfer descriptors name (exit_mtd) from the reply,
 * the exit answered's, and writes at least those of the next exit into
 * the buffer (whole groups of registers).  The copies between the buffer and m move the whole register
 * block anyway: a constant-size copy is a few vector moves, fewer
 * instructions than picking the named words one bit at a time, and a
 * word not named is one no handler of that exit reads. */
typedef uint64_t word_pair __attribute__((vector_size(16), aligned(8)));

/* words [first, first + n) from one array to another, two at a time (a
 * constant n: unrolled; a memcpy here became rep movs, one counted
 * instruction per four bytes) */
static inline __attribute__((always_inline)) void copy_words(uint64_t *to, const uint64_t *from, unsigned first,
                                                             unsigned n)
{
#pragma GCC unroll 16
	for (unsigned i = 0; i + 1 < n; i += 2)
		*(word_pair *)&to[first + i] = *(const word_pair *)&from[first + i];
	if (n & 1)
		to[first + n - 1] = from[first + n - 1];
}

/* A device model asked to power the VM off or reset it during the exit
 * (m): whether to answer the exit now, as handle_exit's `reply`. */
static int device_request(struct msg *m, int reply)
{
	if (vm.request == REQUEST_POWER_OFF) {
		debug_printf("vmm: %sguest powered off\n", vm_name);
		vm.stopped = 1;
		vm.exit_status = 0;
		reply = 0;
	} else if (vm.request == REQUEST_RESET) {
		debug_printf("vmm: %sguest reset: starting it again\n", vm_name);
		if (boot_reset(m)) {
			debug_printf("vmm: the guest cannot start again\n");
			vm.stopped = 1;
			vm.exit_status = EXIT_NO_RESTART;
			reply = 0;
		}
		shadow_reset();
	}
	irq_recheck = 1;
	vm.request = REQUEST_NONE;
	return reply;
}

/* What waits for an exit, the VCPU stopped on it (m: the answer to
 * send): 1 if the VM has moved.  Most exits find nothing asked
 * (vm.exit_work), and skip the four looks.  The flag is taken before the
 * looks, so a request made during them is looked at next time. */
static int exit_work(const struct msg *m)
{
	if (!__atomic_exchange_n(&vm.exit_work, 0, __ATOMIC_ACQ_REL))
		return 0;
	snapshot_at_exit(m); /* a snapshot asked for waits for this moment (snapshot.c) */
	clone_at_exit(m);    /* so does a clone's start (clone.c) */
	share_at_exit();     /* and vm share's scan (share.c) */
	return migrate_stop(m); /* and a migration's last round (migrate.c) */
}

static long exit_reply_recv(struct msg *m)
{
	struct ipc_buffer *b = ipc_buffer();
	copy_words(b->words, m->w, VMEXIT_W_RAX, VMEXIT_W_INJECT + 1 - VMEXIT_W_RAX); /* the registers, the event */
	m->info = MSG_INFO(0, VMEXIT_REPLY_WORDS, 0);
	long err = ipc_syscall(SYS_REPLY_RECV, vm.reply, m, vm.reply, vm.port);
	if (err)
		return err;
	if (MSG_LABEL(m->info) != LABEL_VMEXIT || MSG_WORDS(m->info) < VMEXIT_WORDS) {
		ipc_get_words(m);
		return 0;
	}
	copy_words(m->w, b->words, VMEXIT_W_RAX, VMEXIT_W_RFLAGS + 1 - VMEXIT_W_RAX);
	if (MSG_WORDS(m->info) == VMEXIT_STATE_WORDS)
		copy_words(m->w, b->words, VMEXIT_W_CR0, VMEXIT_STATE_WORDS - VMEXIT_W_CR0);
	return 0;
}

int main(const struct bootinfo *bi)
{
	vm.console = CONSOLE_SLOT;
	size_t name_len;
	const char *name = arg_value(bi->cmdline, "name=", &name_len);
	if (name && name_len) {
		size_t k = 0;
		vm_name[k++] = '[';
		for (size_t i = 0; i < name_len && k < sizeof(vm_name) - 3; i++)
			vm_name[k++] = name[i];
		vm_name[k++] = ']';
		vm_name[k++] = ' ';
		vm_name[k] = 0;
	}
	/* restore=PATH: a VM from a snapshot, with the snapshot's arguments */
	static char restored_args[256], restore_path[201];
	const char *args = bi->cmdline;
	size_t path_len;
	const char *path = arg_value(bi->cmdline, "restore=", &path_len);
	uint64_t restore_ram = 0;
	if (path) {
		if (!path_len || path_len >= sizeof(restore_path)) {
			debug_printf("vmm: restore= needs a path of 1 to 200 characters\n");
			return EXIT_NO_RESTART;
		}
		memcpy(restore_path, path, path_len);
		static char saved[128];
		if (snapshot_open(restore_path, &restore_ram, saved, sizeof(saved)))
			return EXIT_NO_RESTART;
		restore_args(saved, bi->cmdline, restored_args, sizeof(restored_args));
		args = restored_args;
	}
	/* incoming=PORT: a VM migrating in (migrate.c), with the source's
	 * arguments, built as a restore is and filled from the connection */
	unsigned incoming = arg_number(bi->cmdline, "incoming=", 0);
	if (incoming && !path) {
		static char sent[256];
		if (incoming > 65535 || migrate_accept(incoming, bi->cmdline, sent, sizeof(sent), &restore_ram))
			return EXIT_NO_RESTART;
		restore_args(sent, bi->cmdline, restored_args, sizeof(restored_args));
		args = restored_args;
	}
	/* clone=NAME: a copy of the running VM NAME, sharing its memory
	 * (clone.c), with NAME's arguments */
	size_t clone_len;
	const char *clone_of = arg_value(bi->cmdline, "clone=", &clone_len);
	if (clone_of && (path || incoming)) {
		debug_printf("vmm: clone= goes with neither restore= nor incoming=\n");
		return EXIT_NO_RESTART;
	}
	if (clone_of) {
		static char got[128];
		if (!name || !name_len || clone_open(clone_of, clone_len, got, sizeof(got), &restore_ram))
			return EXIT_NO_RESTART;
		restore_args(got, bi->cmdline, restored_args, sizeof(restored_args));
		args = restored_args;
	}
	snapshot_set_args(args);
	int mode = vmm_mode(args);
	if (mode < 0)
		return EXIT_NO_RESTART;
	if (mode == VMM_MODE_TRAP || mode == VMM_MODE_PATCH || mode == VMM_MODE_PV) {
		/* no VCPU: the guest runs as a thread of ours (trap.c, pv.c) */
		if (restore_ram) {
			if (incoming)
				migrate_refuse("a VM of mode=trap, patch or pv cannot migrate");
			else
				debug_printf("vmm: %srestore %s: refused: a VM of mode=trap, patch or pv has no snapshots\n",
				             vm_name, restore_path);
			return EXIT_NO_RESTART;
		}
		return mode == VMM_MODE_PV ? pv_main(bi) : trap_main(bi, (enum vmm_mode)mode);
	}
	vm.verbose = arg_flag(args, "verbose");
	unsigned mib = arg_number(args, "mem=", 2);
	uint64_t send = slot_alloc();
	vm.reply = slot_alloc();
	vm.parked = slot_alloc();
	long err = E_OK;
	err = err ? err : object_alloc(OBJ_GUEST_SPACE, 0, &vm.guest_space);
	err = err ? err : object_alloc(OBJ_VCPU, 0, &vm.vcpu);
	err = err ? err : object_alloc(OBJ_PORT, 0, &vm.port);
	err = err ? err : object_alloc(OBJ_PORT, 0, &nap_port);
	err = err ? err : sys_cnode_mint(vm.port, CAP_ROOT_CNODE, send, RIGHT_SEND, EXIT_BADGE);
	if (!err) /* Linux is told the TSC's rate (pvclock.h), so measure it longer */
		calibrate_start(arg_flag(args, "linux") ? 50 : 2);
	if (clone_of)
		err = err ? err : memory_setup_shared(restore_ram);
	else
		err = err ? err : memory_setup(restore_ram ? restore_ram : (uint64_t)mib << 20);
	if (restore_ram && (err || vm.ram_bytes != restore_ram)) {
		if (clone_of)
			debug_printf("vmm: %sclone: refused: its %lu bytes of RAM cannot be given here\n", vm_name,
			             restore_ram);
		else if (incoming)
			migrate_refuse("its RAM cannot be given here");
		else
			debug_printf("vmm: restore %s: refused: its %lu bytes of RAM cannot be given here\n", restore_path,
			             restore_ram);
		return EXIT_NO_RESTART;
	}
	err = err ? err : shadow_setup(args);   /* mode=shadow (shadow.c) */
	err = err ? err : sys_vcpu_configure(vm.vcpu, shadow_vcpu_space(), send);
	if (!err) {
		calibrate_end();
		clock_init(tsc_per_tick * 100);
		if (disk_setup(args, vm.port) || net_setup(args, vm.port) || balloon_setup(args)) {
			vm.exit_status = EXIT_NO_RESTART; /* the guest cannot start as configured */
			return vm.exit_status;
		}
		devices_init();
	}
	if (!err && !restore_ram && (err = boot_guest(bi))) {
		vm.exit_status = EXIT_NO_RESTART; /* the guest cannot start as configured */
		return vm.exit_status;
	}
	shadow_reset();
	err = err ? err : sys_tcb_set_priority(vm.vcpu, 90, 90);
	if (err) {
		debug_printf("vmm: cannot build the VM: error %ld\n", err);
		return 1;
	}
	uart_init(&vm.uart, uart_output, 0);
	if (restore_ram) { /* the devices as the snapshot has them, then the VCPU */
		char own[33];
		size_t own_len = name_len < sizeof(own) ? name_len : sizeof(own) - 1;
		memcpy(own, name, own_len);
		own[own_len] = 0;
		if (clone_of ? clone_receive(own) : incoming ? migrate_receive() : snapshot_restore(restore_path))
			return EXIT_NO_RESTART;
		timers_rearm();
		if (irq_due())
			irq_window(1);
	}
	uint64_t input_tcb, nap;
	input_send = slot_alloc();
	if (arg_flag(args, "input") &&
	    (sys_cnode_mint(vm.port, CAP_ROOT_CNODE, input_send, RIGHT_SEND, 2) || object_alloc(OBJ_PORT, 0, &nap) ||
	     thread_create(input_thread, nap, input_stack, sizeof(input_stack), 110, &input_tcb)))
		debug_printf("vmm: no console input for the guest\n");
	/* nopace: the benchmarks time exits back to back with nothing else
	 * to run, where pacing would only add sleeps to the figures */
	pacing = !arg_flag(args, "nopace");
	if (!pacing)
		debug_printf("vmm: the guest's exits are not paced\n");
	control_start(args); /* vm.NAME (control.c) */
	size_t image_size;
	if (clone_of)
		debug_printf("vmm: guest cloned, %lu MiB, going on\n", restore_ram >> 20);
	else if (restore_ram && incoming)
		debug_printf("vmm: guest migrated in on port %u, %lu MiB, going on\n", incoming, restore_ram >> 20);
	else if (restore_ram)
		debug_printf("vmm: guest restored from %s in %lu MiB, going on\n", restore_path, restore_ram >> 20);
	else {
		const char *image = boot_image(&image_size); /* before image_size is read: argument order is unspecified */
		debug_printf("vmm: guest '%s' (%lu bytes) in %u MiB, starting\n", image, image_size, mib);
	}
	if ((err = exit_mtd_set())) {
		debug_printf("vmm: the exits' transfer descriptors: %ld\n", err);
		return 1;
	}
	sys_tcb_resume(vm.vcpu);

	struct msg m;
	err = ipc_recv(vm.port, vm.reply, &m);
	for (;;) {
		/* an exit of our VCPU, the common case, skips the tests for the rest */
		if (err || m.badge != EXIT_BADGE || MSG_LABEL(m.info) != LABEL_VMEXIT) {
			/* a timer, console input, a command: the interrupt controllers
			 * may have changed in ways no exit handler saw */
			if (MSG_LABEL(m.info) != LABEL_VMEXIT)
				irq_recheck = 1;
			int common = vmm_message_common(err, &m);
			if (common < 0)
				return 1;
			if (common) {
				err = ipc_recv(vm.port, vm.reply, &m);
				continue;
			}
			if (MSG_LABEL(m.info) == LABEL_FAULT && m.badge == DISK_FAULT_BADGE) {
				/* the disk's worker touched the fs server's buffer as it died */
				if (disk_worker_fault(&m)) {
					m.info = MSG_INFO(0, 0, 0);
					err = ipc_reply_recv(vm.reply, vm.port, vm.reply, &m);
				} else {
					sys_cnode_delete(vm.reply);
					err = ipc_recv(vm.port, vm.reply, &m);
				}
				continue;
			}
			if (MSG_LABEL(m.info) == LABEL_NOTIFY || MSG_LABEL(m.info) == LABEL_CONSOLE_INPUT) {
				if (MSG_LABEL(m.info) == LABEL_CONSOLE_INPUT)
					feed_uart((const uint8_t *)&m.w[1], m.w[0] > 24 ? 24 : m.w[0]);
				else if (m.w[0] & TIMER_BIT)
					devices_timer();
				if (MSG_LABEL(m.info) == LABEL_NOTIFY && (m.w[0] & DISK_BIT))
					disk_completions();
				if (MSG_LABEL(m.info) == LABEL_NOTIFY && (m.w[0] & NET_BIT))
					net_notified();
				if (MSG_LABEL(m.info) == LABEL_NOTIFY && (m.w[0] & MIGRATE_BIT)) {
					migrate_notified();
					if (vm.halted && migrate_stop(0)) /* the VCPU waits on us already */
						return moved();
				}
				if (pending_len)
					feed_uart(0, 0);
				wake_parked();
				if (!vm.halted && !vm.stopped && irq_due())
					irq_window(1); /* the guest is running: an exit when it can take it */
				err = ipc_recv(vm.port, vm.reply, &m);
				continue;
			}
		}
		if (MSG_LABEL(m.info) != LABEL_VMEXIT || vm.stopped) {
			err = ipc_recv(vm.port, vm.reply, &m);
			continue;
		}
		uint64_t since = rdtsc(), code = m.w[VMEXIT_W_CODE];
		int reply = handle_exit(&m);
		control_exit_done(code, since); /* vm stats (control.c) */
		if (vm.request != REQUEST_NONE)
			reply = device_request(&m, reply);
		if (!reply) {
			if (vm.stopped) { /* the VM is over: so is this VMM (init may restart it) */
				uart_flush(&vm.uart);
				disk_close();
				marks_print();
				shadow_stats_print();
				return vm.exit_status;
			}
			if (vm.halted) { /* answer when an interrupt comes */
				uart_flush(&vm.uart); /* the guest is idle: a prompt without a newline shows now */
				parked_msg = m;
				sys_cnode_delete(vm.parked); /* the last one, spent */
				sys_cnode_move(vm.reply, CAP_ROOT_CNODE, vm.parked);
				if (migrate_stop(0))
					return moved();
			}
			err = ipc_recv(vm.port, vm.reply, &m);
			continue;
		}
		if (pending_len) /* the guest may have made room in its FIFO */
			feed_uart(0, 0);
		charge_exit(since);
		deliver_interrupt(&m);
		if (__atomic_load_n(&vm.exit_work, __ATOMIC_RELAXED) && exit_work(&m))
			return moved();
		err = exit_reply_recv(&m);
	}
}
