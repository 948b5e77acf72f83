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
 * benchmarks only).  Slot 9: the console.
 */
#include "vm.h"
#include "console.h"

#define CONSOLE_SLOT 9
#define BOOT_GDT 0x7000UL

struct vm vm;
static struct msg parked_msg;

static long map_image(const struct bootinfo_module *mod)
{
	for (uint32_t i = 0; i < mod->pages; i++) {
		long err = page_map_with_tables(mod->first_slot + i, IMAGE_VA + i * PAGE_SIZE, RIGHT_READ);
		if (err)
			return err;
	}
	return E_OK;
}

/* 64-bit mode: page tables mapping the first 4 GiB (RAM and the MMIO hole
 * below 4 GiB) 1:1 with 2 MiB pages at 0x1000..0x6fff, a GDT at 0x7000,
 * the code at GUEST_LOAD_GPA. */
static long guest_setup(void)
{
	uint64_t *pml4 = guest_ptr(0x1000, 0x6000), *pdpt = pml4 + 512, *pd = pml4 + 1024;
	uint64_t *gdt = guest_ptr(BOOT_GDT, 24);
	if (!pml4 || !gdt)
		return E_RANGE;
	pml4[0] = 0x2000 | 3;
	for (int g = 0; g < 4; g++)
		pdpt[g] = (0x3000 + 0x1000 * (uint64_t)g) | 3;
	for (int i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;
	gdt[0] = 0;
	gdt[1] = 0x00209a0000000000UL; /* 64-bit code, selector 8 */
	gdt[2] = 0x0000920000000000UL; /* data, selector 16 */
	const struct { unsigned f; uint64_t v; } regs[] = {
		{ VCPU_CR0, 0x80000033 }, { VCPU_CR3, 0x1000 }, { VCPU_CR4, 0x620 }, { VCPU_EFER, 0x500 },
		{ VCPU_SEGMENT(SEG_CS, SEG_SELECTOR), 8 }, { VCPU_SEGMENT(SEG_CS, SEG_ATTRIB), 0xa9b },
		{ VCPU_SEGMENT(SEG_CS, SEG_LIMIT), 0xffffffff }, { VCPU_SEGMENT(SEG_CS, SEG_BASE), 0 },
		{ VCPU_SEGMENT(SEG_GDTR, SEG_BASE), BOOT_GDT }, { VCPU_SEGMENT(SEG_GDTR, SEG_LIMIT), 23 },
		{ VCPU_SEGMENT(SEG_TR, SEG_ATTRIB), 0x8b }, { VCPU_SEGMENT(SEG_TR, SEG_LIMIT), 0x67 },
		{ VCPU_RIP, GUEST_LOAD_GPA }, { VCPU_RSP, 0x80000 }, { VCPU_RFLAGS, 2 },
	};
	long err = E_OK;
	for (unsigned i = 0; !err && i < sizeof(regs) / sizeof(regs[0]); i++)
		err = sys_vcpu_write(vm.vcpu, regs[i].f, regs[i].v);
	/* INVLPGA, MONITOR and MWAIT would run in the guest: the first is an
	 * SVM instruction and the others are hidden by our CPUID, so the guest
	 * gets #UD for them (exits.c), as on a processor without them */
	uint64_t misc1 = 0, misc2 = 0;
	err = err ? err : sys_vcpu_read(vm.vcpu, VCPU_INTERCEPT_MISC1, &misc1);
	err = err ? err : sys_vcpu_read(vm.vcpu, VCPU_INTERCEPT_MISC2, &misc2);
	err = err ? err : sys_vcpu_write(vm.vcpu, VCPU_INTERCEPT_MISC1, misc1 | SVM_MISC1_INVLPGA);
	err = err ? err : sys_vcpu_write(vm.vcpu, VCPU_INTERCEPT_MISC2,
	                                 misc2 | SVM_MISC2_MONITOR | SVM_MISC2_MWAIT);
	for (unsigned s = SEG_ES; !err && s <= SEG_GS; s++) {
		if (s == SEG_CS)
			continue;
		err = sys_vcpu_write(vm.vcpu, VCPU_SEGMENT(s, SEG_SELECTOR), 16);
		err = err ? err : sys_vcpu_write(vm.vcpu, VCPU_SEGMENT(s, SEG_ATTRIB), 0xc93);
		err = err ? err : sys_vcpu_write(vm.vcpu, VCPU_SEGMENT(s, SEG_LIMIT), 0xffffffff);
	}
	return err;
}

static char vm_name[24];
static int line_start = 1;

/* The guest's serial output, each line marked with the VM's name when it
 * has one (several VMs share one console).  The mark and the bytes after
 * it go to the console in one write, so another writer's line cannot land
 * between them. */
static void uart_output(void *ctx, const uint8_t *bytes, size_t n)
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

static unsigned arg_number(const char *args, const char *key, unsigned dflt)
{
	const char *p = strstr(args, key);
	if (!p)
		return dflt;
	unsigned v = 0;
	for (p += strlen(key); *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (unsigned)(*p - '0');
	return v ? v : dflt;
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
	if (uart_irq_level(&vm.uart))
		pic_raise(4);
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
static uint64_t tsc_per_tick, window_start, window_used, nap_port;

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static void nap_one_tick(void)
{
	struct msg m;
	sys_notify_after(nap_port, 1, 1);
	ipc_recv(nap_port, 0, &m);
}

/* The TSC's rate against the host timer: two ticks after a tick edge. */
static void calibrate(void)
{
	nap_one_tick();
	uint64_t t0 = rdtsc();
	nap_one_tick();
	nap_one_tick();
	tsc_per_tick = (rdtsc() - t0) / 2;
}

/* An exit's service began at `since`: charge it, and wait out the rest of
 * the tick when this guest has had its share. */
static void charge_exit(uint64_t since)
{
	if (!tsc_per_tick)
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

int main(const struct bootinfo *bi)
{
	vm.console = CONSOLE_SLOT;
	const char *name = strstr(bi->cmdline, "name=");
	if (name) {
		size_t k = 0;
		vm_name[k++] = '[';
		for (name += 5; *name && *name != ' ' && k < sizeof(vm_name) - 3; name++)
			vm_name[k++] = *name;
		vm_name[k++] = ']';
		vm_name[k++] = ' ';
		vm_name[k] = 0;
	}
	unsigned mib = arg_number(bi->cmdline, "mem=", 2);
	uint64_t send = slot_alloc();
	vm.reply = slot_alloc();
	vm.parked = slot_alloc();
	long err = bi->module_count ? map_image(&bi->module[0]) : E_BAD_ARG;
	err = err ? err : object_alloc(OBJ_GUEST_SPACE, 0, &vm.guest_space);
	err = err ? err : object_alloc(OBJ_VCPU, 0, &vm.vcpu);
	err = err ? err : object_alloc(OBJ_PORT, 0, &vm.port);
	err = err ? err : sys_cnode_mint(vm.port, CAP_ROOT_CNODE, send, RIGHT_SEND, 1);
	err = err ? err : memory_setup((uint64_t)mib << 20);
	if (!err && bi->module[0].size > vm.ram_bytes - GUEST_LOAD_GPA)
		err = E_RANGE;
	if (!err)
		memcpy(guest_ptr(GUEST_LOAD_GPA, bi->module[0].size), (const void *)IMAGE_VA, bi->module[0].size);
	err = err ? err : sys_vcpu_configure(vm.vcpu, vm.guest_space, send);
	err = err ? err : guest_setup();
	err = err ? err : sys_tcb_set_priority(vm.vcpu, 90, 90);
	if (err) {
		debug_printf("vmm: cannot build the VM: error %ld\n", err);
		return 1;
	}
	uart_init(&vm.uart, uart_output, 0);
	uint64_t input_tcb, nap;
	input_send = slot_alloc();
	if (strstr(bi->cmdline, "input") &&
	    (sys_cnode_mint(vm.port, CAP_ROOT_CNODE, input_send, RIGHT_SEND, 2) || object_alloc(OBJ_PORT, 0, &nap) ||
	     thread_create(input_thread, nap, input_stack, sizeof(input_stack), 110, &input_tcb)))
		debug_printf("vmm: no console input for the guest\n");
	/* nopace: the benchmarks time exits back to back with nothing else
	 * to run, where pacing would only add sleeps to the figures */
	if (strstr(bi->cmdline, "nopace"))
		debug_printf("vmm: the guest's exits are not paced\n");
	else if (object_alloc(OBJ_PORT, 0, &nap_port))
		debug_printf("vmm: no port to pace the guest's exits with\n");
	else
		calibrate();
	control_start(bi->cmdline, tsc_per_tick); /* vm.NAME (control.c) */
	debug_printf("vmm: guest '%s' (%lu bytes) in %u MiB, starting\n", bi->module[0].name,
	             bi->module[0].size, mib);
	sys_tcb_resume(vm.vcpu);

	struct msg m;
	err = ipc_recv(vm.port, vm.reply, &m);
	for (;;) {
		if (err) {
			debug_printf("vmm: receive failed: %ld\n", err);
			return 1;
		}
		if (control_message(&m)) { /* a request from vm.NAME's clients (control.c) */
			err = ipc_recv(vm.port, vm.reply, &m);
			continue;
		}
		if (MSG_LABEL(m.info) == LABEL_NOTIFY || MSG_LABEL(m.info) == LABEL_CONSOLE_INPUT) {
			if (MSG_LABEL(m.info) == LABEL_CONSOLE_INPUT)
				feed_uart((const uint8_t *)&m.w[1], m.w[0] > 24 ? 24 : m.w[0]);
			else if (m.w[0] & TIMER_BIT)
				pit_fired();
			if (pending_len)
				feed_uart(0, 0);
			wake_parked();
			if (!vm.halted && !vm.stopped && pic_pending() >= 0)
				irq_window(1); /* the guest is running: an exit when it can take it */
			err = ipc_recv(vm.port, vm.reply, &m);
			continue;
		}
		if (MSG_LABEL(m.info) != LABEL_VMEXIT || vm.stopped) {
			err = ipc_recv(vm.port, vm.reply, &m);
			continue;
		}
		uint64_t since = rdtsc(), code = m.w[VMEXIT_W_CODE];
		int resume = handle_exit(&m);
		control_exit_done(code, since); /* vm stats (control.c) */
		if (!resume) {
			if (vm.stopped) { /* the VM is over: so is this VMM (init may restart it) */
				uart_flush(&vm.uart);
				return vm.exit_status;
			}
			if (vm.halted) { /* answer when an interrupt comes */
				parked_msg = m;
				sys_cnode_delete(vm.parked); /* the last one, spent */
				sys_cnode_move(vm.reply, CAP_ROOT_CNODE, vm.parked);
			}
			err = ipc_recv(vm.port, vm.reply, &m);
			continue;
		}
		if (pending_len) /* the guest may have made room in its FIFO */
			feed_uart(0, 0);
		charge_exit(since);
		deliver_interrupt(&m);
		m.info = MSG_INFO(0, VMEXIT_REPLY_WORDS, 0);
		err = ipc_reply_recv(vm.reply, vm.port, vm.reply, &m);
	}
}
