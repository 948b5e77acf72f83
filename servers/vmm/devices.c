/*
 * Device models, all in the VMM (docs/vmm.md):
 *   0x20-0x21, 0xa0-0xa1  two 8259 interrupt controllers (edge, enough
 *                         for a PC guest's timer and serial line)
 *   0x40-0x43, 0x61       the 8254 timer (pit8254.c) and port B's timer bits
 *   0x3f8-0x3ff           a 16550A serial port (uart16550.c) on the console
 *   0x80                  the POST port: writes ignored
 *   0x60, 0x64            the i8042 keyboard controller (i8042.c): no keyboard or
 *                         mouse, its reset line resets the VM
 *   0x70-0x71             the CMOS RTC (rtc.c) with the host's date
 *   0x600-0x60f           the ACPI PM registers (acpi_pm.c): power off, SCI on IRQ 9
 *   0xcf8-0xcff           PCI configuration mechanism 1 (pci.c): a host bridge;
 *                         0xcf9 is the reset control register; with disk=,
 *                         a virtio-blk function at 00:02.0 (disk.c); with net,
 *                         a virtio-net function at 00:03.0 (vnet_link.c)
 *   0x510                 test: a 32-bit register, any access size
 *   0x514                 test: writes add their bytes to a sum; reads give it
 *   0x518                 test: reads count up from 0
 *   0x519                 marks: a write takes a snapshot of the counters
 *                         (marks_print() shows them at the end)
 *   MMIO_TEST_GPA         test: 4 KiB of registers, any size and offset
 *   0xfec00000            the I/O APIC (ioapic.c); 0xfee00000 the local APIC
 *                         (lapic.c), where IA32_APIC_BASE puts it
 * Anything else reads as all ones and ignores writes, like an empty bus.
 */
#include "vm.h"
#include "virtio_pci.h"
#include "acpi.h"
#include "console.h"
#include "init.h"


/* --- 8259 ----------------------------------------------------------- */

static void pic_write(struct pic8259 *p, unsigned reg, uint8_t v)
{
	irq_recheck = 1;   /* a mask, an EOI or a new base changes what is pending */
	if (reg == 0 && (v & 0x10)) {          /* ICW1 */
		p->icw_step = 1;
		p->icw4_needed = v & 1;
		p->imr = p->isr = p->irr = 0;
		return;
	}
	if (reg == 1 && p->icw_step) {          /* ICW2..4 */
		if (p->icw_step == 1)
			p->base = v & 0xf8;
		p->icw_step = p->icw_step == 1 ? 2 : p->icw_step == 2 && p->icw4_needed ? 3 : 0;
		return;
	}
	if (reg == 1) {                         /* OCW1: the mask */
		p->imr = v;
	} else if ((v & 0x18) == 0 && (v & 0x20)) { /* OCW2: end of interrupt */
		for (int i = 0; i < 8; i++)
			if (p->isr & (1u << i)) {
				p->isr &= (uint8_t)~(1u << i);
				break;
			}
	} else if ((v & 0x18) == 0x08) {        /* OCW3: which register to read */
		if (v & 2)
			p->read_isr = v & 1;
	}
}

static uint8_t pic_read(const struct pic8259 *p, unsigned reg)
{
	return reg ? p->imr : p->read_isr ? p->isr : p->irr;
}

void pic_raise(unsigned irq)
{
	irq_recheck = 1;
	vm.pic[irq / 8].irr |= (uint8_t)(1u << (irq % 8));
	if (irq >= 8)
		vm.pic[0].irr |= 1u << 2;
}

/* The highest-priority request not masked and not below one in service. */
static int pic_best(const struct pic8259 *p)
{
	for (int i = 0; i < 8; i++) {
		if (p->isr & (1u << i))
			return -1;
		if ((p->irr & ~p->imr) & (1u << i))
			return i;
	}
	return -1;
}

int pic_pending(void)
{
	int i = pic_best(&vm.pic[0]);
	if (i < 0)
		return -1;
	if (i == 2) {
		int j = pic_best(&vm.pic[1]);
		return j < 0 ? -1 : vm.pic[1].base + j;
	}
	return vm.pic[0].base + i;
}

void pic_ack(void)
{
	int i = pic_best(&vm.pic[0]);
	if (i < 0)
		return;
	vm.pic[0].irr &= (uint8_t)~(1u << i);
	vm.pic[0].isr |= (uint8_t)(1u << i);
	if (i == 2) {
		int j = pic_best(&vm.pic[1]);
		if (j >= 0) {
			vm.pic[1].irr &= (uint8_t)~(1u << j);
			vm.pic[1].isr |= (uint8_t)(1u << j);
		}
	}
}

/* --- the console ------------------------------------------------------ */

/* The console driver was restarted: our right to the old one is dead or
 * gone; find the new one through init (slot 8). */
int console_reconnect(void)
{
	uint64_t fresh;
	if (init_lookup(8, "console", &fresh))
		return -1;
	vm.console = fresh;
	return 0;
}

void console_out(const uint8_t *bytes, size_t n)
{
	while (n) {
		uint32_t chunk = n > 256 ? 256 : (uint32_t)n, written;
		if (console_write(vm.console, bytes, chunk, &written) &&
		    (console_reconnect() || console_write(vm.console, bytes, chunk, &written))) {
			sys_debug_write((const char *)bytes, n);
			return;
		}
		bytes += chunk;
		n -= chunk;
	}
}

/* --- time ----------------------------------------------------------- */

/* The RTC raises IRQ 8 on its line's rising edge. */
static void rtc_irq_check(void)
{
	irq_line(8, rtc_irq_level(&vm.rtc));
}

/* The SCI: a level on IRQ 9 (level-triggered at the I/O APIC). */
static void sci_check(void)
{
	irq_line(9, acpi_pm_sci_level(&vm.pm));
}

uint64_t devices_next_event(uint64_t now)
{
	uint64_t next = pit_next_irq(&vm.pit, now);
	uint64_t unix_now = clock_unix_ns(), rtc = rtc_next_event(&vm.rtc, unix_now);
	if (rtc != RTC_NO_EVENT && rtc - unix_now + now < next)
		next = rtc - unix_now + now;
	uint64_t apic = lapic_timer_next(&vm.lapic);
	return apic < next ? apic : next;
}

/* Channel 0's OUT rose since we last looked: one IRQ 0 however many
 * times (pit8254.h: late ticks are not made up with a burst). */
static void pit_tick(uint64_t now)
{
	if (pit_update(&vm.pit, now))
		irq_pulse(0);
}

/* The host timer fired: whatever fell due. */
void devices_timer(void)
{
	uint64_t now = clock_ns();
	timers_fired();
	pit_tick(now);
	rtc_update(&vm.rtc, clock_unix_ns());
	rtc_irq_check();
	lapic_timer_update(&vm.lapic, now);
	net_tick();
	balloon_tick();
	timers_rearm();
}

/* --- power-on and reset ----------------------------------------------- */

/* The models a reset puts back as they were at power-on (the UART and
 * the 8259s start zeroed with struct vm, or are redone by a reset). */
static void power_on(void)
{
	pit_init(&vm.pit, clock_ns());
	pci_init(&vm.pci);
	disk_power_on();
	net_power_on();
	balloon_power_on();
	i8042_init(&vm.kbc);
	acpi_pm_init(&vm.pm);
	irq_init();
	pvclock_init(&vm.pvclock);
	vm.test_reg = vm.test_sum = vm.test_counter = 0;
	memset(vm.mmio_test, 0, sizeof(vm.mmio_test));
	vm.mtrr_def_type = MTRR_DEF_TYPE_RESET;
}

void devices_init(void)
{
	uint64_t below = vm.ram_bytes < GUEST_RAM_MAX ? vm.ram_bytes : GUEST_RAM_MAX;
	rtc_init(&vm.rtc, clock_unix_ns(), below, vm.ram_bytes - below);
	power_on();
	timers_rearm();
}

/* Every device model back to its power-on state (a guest's reset).  The
 * RTC keeps its time and CMOS memory, as its battery would. */
void devices_reset(void)
{
	uart_output_fn out = vm.uart.out;
	void *ctx = vm.uart.ctx;
	uart_init(&vm.uart, out, ctx);
	memset(vm.pic, 0, sizeof(vm.pic));
	power_on();
	timers_rearm();
}

/* --- the guest's virtio functions (disk.c, vnet_link.c) --------------- */

/* On the bus pci_init just made, as firmware leaves it: BAR 4 at
 * bar_gpa (in the DSDT's _CRS window), INTA's GSI (the _PRT's) in the
 * interrupt line, decoding off until the guest's driver turns it on.  The
 * device's own reset first: requests still in flight are orphaned. */
void virtio_place(struct virtio_pci *vp, unsigned slot, uint64_t bar_gpa)
{
	virtio_pci_mmio_write(vp, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	vp->pci.config[PCI_INTERRUPT_LINE] = (uint8_t)ACPI_PCI_GSI(slot, 0);
	pci_register(&vm.pci, slot, 0, &vp->pci);
	pci_config_write(&vm.pci, slot, 0, PCI_COMMAND, 2, 0);
	pci_config_write(&vm.pci, slot, 0, PCI_BAR0 + 4 * VIRTIO_PCI_BAR, 4, (uint32_t)bar_gpa);
	pci_config_write(&vm.pci, slot, 0, PCI_BAR0 + 4 * VIRTIO_PCI_BAR + 4, 4, (uint32_t)(bar_gpa >> 32));
}

/* --- marks ---------------------------------------------------------- */

/* A guest brackets a piece of work with writes to port 0x519 (Linux:
 * `printf '\\001' | dd of=/dev/port bs=1 seek=$((0x519))`), and gets what
 * it cost on Berth's side: guest entries, IPC messages, notifications,
 * address-space switches, disk requests.  The snapshots are kept and
 * printed only when the VM stops, so that printing them costs nothing
 * between two marks.  For benchmarks (docs/guest-io.md).
 *
 * Each mark also records the mode's own count of what the guest cost it
 * (mark_events, named mark_events_name): VM exits under svm and shadow
 * (control.c sets it), faults under trap and patch (trap.c), hypercalls
 * under pv (pv.c, whose guest marks with PV_HC_MARK).  The guests/teach
 * phases are measured so (docs/teaching.md). */
#define MARKS 16

const uint64_t *mark_events;            /* the mode's counter; none: not printed */
const char *mark_events_name = "events";

static struct mark {
	uint8_t id;
	uint64_t entries, messages, notifications, switches, disk_requests, events;
} marks[MARKS];
static unsigned mark_count;

void mark_take(uint8_t id)
{
	if (mark_count == MARKS)
		return;
	struct mark *k = &marks[mark_count++];
	k->id = id;
	sys_kernel_counter(KC_VM_ENTRIES, &k->entries);
	sys_kernel_counter(KC_IPC_MESSAGES, &k->messages);
	sys_kernel_counter(KC_IPC_NOTIFICATIONS, &k->notifications);
	sys_kernel_counter(KC_SPACE_SWITCHES, &k->switches);
	k->disk_requests = disk_requests();
	k->events = mark_events ? *mark_events : 0;
}

void marks_print(void)
{
	for (unsigned i = 0; i < mark_count; i++) {
		char events[80] = "";
		if (mark_events && i)
			debug_snprintf(events, sizeof(events), " %s=%lu (+%lu since mark %u)", mark_events_name,
			               marks[i].events, marks[i].events - marks[i - 1].events, marks[i - 1].id);
		else if (mark_events)
			debug_snprintf(events, sizeof(events), " %s=%lu", mark_events_name, marks[i].events);
		debug_printf("vmm: %smark %u: vm_entries=%lu ipc_messages=%lu notifications=%lu space_switches=%lu "
		             "disk_requests=%lu%s\n", vm_name, marks[i].id, marks[i].entries, marks[i].messages,
		             marks[i].notifications, marks[i].switches, marks[i].disk_requests, events);
	}
}

/* --- dispatch ------------------------------------------------------- */

int io_access(unsigned port, unsigned size, int in, uint32_t *value)
{
	if (port >= 0x3f8 && port <= 0x3ff) {
		/* a wider access is consecutive byte accesses */
		uint32_t v = 0;
		for (unsigned i = 0; i < size && port + i <= 0x3ff; i++) {
			if (in)
				v |= (uint32_t)uart_read(&vm.uart, port + i - 0x3f8) << (8 * i);
			else
				uart_write(&vm.uart, port + i - 0x3f8, (uint8_t)(*value >> (8 * i)));
		}
		if (in)
			*value = v;
		irq_line(4, uart_irq_level(&vm.uart));
		return 0;
	}
	if ((port == 0x20 || port == 0x21 || port == 0xa0 || port == 0xa1) && size == 1) {
		struct pic8259 *p = &vm.pic[port >= 0xa0];
		if (in)
			*value = pic_read(p, port & 1);
		else
			pic_write(p, port & 1, (uint8_t)*value);
		return 0;
	}
	if (((port >= 0x40 && port <= 0x43) || port == 0x61) && size == 1) {
		uint64_t now = clock_ns();
		if (in) {
			*value = pit_io_read(&vm.pit, port, now);
		} else {
			pit_io_write(&vm.pit, port, (uint8_t)*value, now);
			pit_tick(now); /* a new count or mode may raise OUT at once */
			timers_rearm();
		}
		return 0;
	}
	if ((port == 0x70 || port == 0x71) && size == 1) {
		if (in)
			*value = rtc_read(&vm.rtc, port, clock_unix_ns());
		else
			rtc_write(&vm.rtc, port, (uint8_t)*value, clock_unix_ns());
		rtc_irq_check();
		if (!in)
			timers_rearm();
		return 0;
	}
	if ((port == 0x60 || port == 0x64) && size == 1) {
		if (in)
			*value = i8042_read(&vm.kbc, port);
		else if (i8042_write(&vm.kbc, port, (uint8_t)*value) == I8042_EVENT_RESET)
			vm.request = REQUEST_RESET;
		unsigned irqs = i8042_take_irqs(&vm.kbc);
		for (unsigned irq = 0; irq < 16; irq++)
			if (irqs & (1u << irq))
				irq_pulse(irq);
		return 0;
	}
	if (port >= ACPI_PM_BASE && port < ACPI_PM_BASE + 16 && acpi_pm_claims(port, size)) {
		enum acpi_pm_event ev = acpi_pm_io(&vm.pm, port, size, in, value, clock_ns());
		if (ev == ACPI_PM_POWER_OFF)
			vm.request = REQUEST_POWER_OFF;
		else if (ev == ACPI_PM_RESET)
			vm.request = REQUEST_RESET;
		sci_check();
		return 0;
	}
	if (port >= 0xcf8 && port <= 0xcff) {
		if (in)
			*value = pci_io_read(&vm.pci, port, size);
		else if (pci_io_write(&vm.pci, port, size, *value) == PCI_EVENT_RESET)
			vm.request = REQUEST_RESET;
		return 0;
	}
	uint32_t mask = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	if (port == 0x510) {
		if (in)
			*value = (uint32_t)vm.test_reg & mask;
		else
			vm.test_reg = *value & mask;
		return 0;
	}
	if (port == 0x514) {
		if (in)
			*value = (uint32_t)vm.test_sum & mask;
		else
			for (unsigned i = 0; i < size; i++)
				vm.test_sum += (*value >> (8 * i)) & 0xff;
		return 0;
	}
	if (port == 0x518 && in) {
		*value = (uint32_t)(vm.test_counter++) & mask;
		return 0;
	}
	if (port == 0x519 && !in && size == 1) {
		mark_take((uint8_t)*value);
		return 0;
	}
	if (in)
		*value = mask;   /* nothing there */
	return 0;
}

int mmio_access(uint64_t gpa, unsigned size, int load, uint64_t *value)
{
	uint64_t mask = size == 8 ? ~0UL : (1UL << (8 * size)) - 1;
	uint64_t apic = lapic_base_read(&vm.lapic) & ~0xfffUL;
	if (lapic_enabled(&vm.lapic) && gpa >= apic && gpa < apic + 0x1000) {
		unsigned off = (unsigned)(gpa - apic);
		irq_recheck = 1;   /* an EOI, the TPR, a mask, the timer: what is pending may change */
		if (load) {
			uint32_t reg = lapic_read(&vm.lapic, off & ~3u, clock_ns());
			*value = (reg >> (8 * (off & 3))) & mask;
		} else if (size == 4 && !(off & 3)) {
			int eoi = lapic_write(&vm.lapic, off, (uint32_t)*value, clock_ns());
			if (eoi >= 0)
				ioapic_eoi(&vm.ioapic, (unsigned)eoi);
			timers_rearm();
		}
		return 0;
	}
	if (gpa >= IOAPIC_BASE && gpa < IOAPIC_BASE + 0x1000) {
		unsigned off = (unsigned)(gpa - IOAPIC_BASE);
		irq_recheck = 1;
		if (load)
			*value = ioapic_read(&vm.ioapic, off) & mask;
		else if (size == 4)
			ioapic_write(&vm.ioapic, off, (uint32_t)*value);
		return 0;
	}
	unsigned bar;
	uint64_t off;
	struct pci_device *d = pci_find_bar(&vm.pci, 0, gpa, &bar, &off);
	if (d && bar == VIRTIO_PCI_BAR) { /* a virtio function: every device on the bus but the host bridge */
		if (load)
			*value = virtio_pci_mmio_read(d->ctx, off, size);
		else
			virtio_pci_mmio_write(d->ctx, off, size, *value);
		disk_report();
		net_report();
		balloon_report();
		return 0;
	}
	if (gpa >= MMIO_TEST_GPA && gpa + size <= MMIO_TEST_GPA + sizeof(vm.mmio_test)) {
		uint8_t *regs = (uint8_t *)vm.mmio_test + (gpa - MMIO_TEST_GPA);
		if (load) {
			*value = 0;
			memcpy(value, regs, size);
		} else {
			uint64_t v = *value & mask;
			memcpy(regs, &v, size);
		}
		return 0;
	}
	if (vm.unmapped_reports < 4) {
		vm.unmapped_reports++;
		debug_printf("vmm: guest %s unbacked memory at %lx (reads as all ones)\n",
		             load ? "read" : "wrote", gpa);
	}
	if (load)
		*value = mask;
	return 0;
}
