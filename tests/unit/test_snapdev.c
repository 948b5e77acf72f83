/* Host unit tests for servers/vmm/snapdev.c: each device model's state
 * saved, loaded into a fresh model and saved again gives the same bytes;
 * a model restored behaves as the original did (a byte the UART had
 * received is still there to read, the 8254 counts on from where it
 * was); a short, long or out-of-range section is refused by name. */
// unit-under-test: servers/vmm/snapdev.c servers/vmm/snapfile.c servers/vmm/uart16550.c servers/vmm/pit8254.c
// unit-under-test: servers/vmm/rtc.c servers/vmm/lapic.c servers/vmm/ioapic.c servers/vmm/acpi_pm.c
// unit-under-test: servers/vmm/i8042.c servers/vmm/pvclock.c servers/vmm/virtio_pci.c servers/vmm/virtq_dev.c servers/vmm/pci.c
#include <stdint.h>
#include <string.h>
#include "unit.h"
#include "../../servers/vmm/snapdev.h"

typedef const char *(*model_fn)(struct snap_io *io, void *model);

static size_t save(model_fn fn, void *model, uint8_t *buf, size_t size)
{
	struct snap_io io = { { buf, size, 0, 0 }, 0, 0 };
	fn(&io, model);
	return io.b.overflow ? 0 : io.b.at;
}

static size_t measure(model_fn fn, void *model)
{
	struct snap_io io = { { 0, 0, 0, 0 }, 0, 1 };
	fn(&io, model);
	return io.b.at;
}

static const char *load(model_fn fn, void *model, uint8_t *buf, size_t len)
{
	struct snap_io io = { { buf, len, 0, 0 }, 1, 0 };
	return fn(&io, model);
}

/* save a, load into b, save b: the same bytes, and the measured length */
static int round_trip(model_fn fn, void *a, void *b)
{
	static uint8_t one[8192], two[8192];
	size_t n = save(fn, a, one, sizeof(one));
	if (!n || n != measure(fn, a) || load(fn, b, one, n))
		return 0;
	size_t m = save(fn, b, two, sizeof(two));
	return m == n && !memcmp(one, two, n);
}

/* a section one byte short or long is refused */
static int refuses_lengths(model_fn fn, void *a, void *scratch)
{
	static uint8_t buf[8192];
	size_t n = save(fn, a, buf, sizeof(buf));
	return load(fn, scratch, buf, n - 1) != 0 && load(fn, scratch, buf, n + 1) != 0;
}

#define FN(f) ((model_fn)(f))

static void uart_sink(void *ctx, const uint8_t *bytes, size_t n)
{
	(void)ctx;
	(void)bytes;
	(void)n;
}

static void deliver(void *ctx, unsigned vector, int level)
{
	(void)ctx;
	(void)vector;
	(void)level;
}


/* --- hostile snapshots: random states, and what loads must be usable ---- */

static uint64_t seed = 0x5eed;
static uint64_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

/* Fill a section of the model's length with random bytes, often keeping
 * a valid save's bytes and changing a few, and load it; when the model
 * takes it, drive it as a guest and the VMM would.  Under the sanitizers
 * a bad index or a division by zero is a failure. */
static unsigned fuzz_model(model_fn fn, void *valid, void *into, size_t size, void (*drive)(void *), int rounds)
{
	static uint8_t good[8192], buf[8192];
	size_t n = save(fn, valid, good, sizeof(good));
	unsigned taken = 0;
	for (int r = 0; r < rounds; r++) {
		memcpy(buf, good, n);
		if (r % 4 == 0) {
			for (size_t i = 0; i < n; i++)
				buf[i] = (uint8_t)rnd();
		} else {
			for (int k = 0; k < 1 + r % 8; k++)
				buf[rnd() % n] = (uint8_t)rnd();
		}
		memcpy(into, valid, size);   /* its callbacks, as the VMM's */
		if (!load(fn, into, buf, n)) {
			taken++;
			drive(into);
		}
	}
	return taken;
}

static void drive_uart(void *m)
{
	struct uart16550 *u = m;
	for (unsigned r = 0; r < 8; r++)
		(void)uart_read(u, r);
	uart_receive(u, (const uint8_t *)"xyz", 3);
	uart_write(u, 0, 'a');
	(void)uart_rx_space(u);
}

static void drive_pit(void *m)
{
	struct pit8254 *p = m;
	uint64_t now = 5000000000ULL;
	(void)pit_update(p, now);
	(void)pit_next_irq(p, now);
	for (unsigned c = 0; c < 3; c++) {
		(void)pit_out(p, c, now);
		(void)pit_io_read(p, 0x40 + c, now);
	}
	pit_io_write(p, 0x43, 0xc2, now);   /* read back channel 0 */
	(void)pit_io_read(p, 0x40, now);
	(void)pit_io_read(p, 0x61, now);
}

static void drive_rtc(void *m)
{
	struct rtc *r = m;
	uint64_t now = 9000000000ULL;
	rtc_update(r, now);
	(void)rtc_next_event(r, now);
	for (unsigned i = 0; i < 14; i++) {
		rtc_write(r, 0x70, (uint8_t)i, now);
		(void)rtc_read(r, 0x71, now);
	}
	(void)rtc_guest_seconds(r, now);
}

static void drive_lapic(void *m)
{
	struct lapic *l = m;
	uint64_t now = 7000000000ULL;
	lapic_timer_update(l, now);
	(void)lapic_timer_next(l);
	for (unsigned off = 0; off < 0x400; off += 0x10)
		(void)lapic_read(l, off, now);
	(void)lapic_pending(l);
	lapic_ack(l, (unsigned)(rnd() & 0xff));
	(void)lapic_deadline_read(l);
}

static void drive_ioapic(void *m)
{
	struct ioapic *a = m;
	(void)ioapic_read(a, 0x10);
	ioapic_set_irq(a, (unsigned)(rnd() % IOAPIC_PINS), 1);
	ioapic_eoi(a, (unsigned)(rnd() & 0xff));
	ioapic_write(a, 0, 0x10 + (uint32_t)(rnd() % 48));
	(void)ioapic_read(a, 0x10);
}

static void drive_kbc(void *m)
{
	struct i8042 *k = m;
	for (int i = 0; i < 20; i++) {
		(void)i8042_read(k, 0x64);
		(void)i8042_read(k, 0x60);
	}
	(void)i8042_write(k, 0x64, 0x20);
	(void)i8042_take_irqs(k);
}

static void drive_pm(void *m)
{
	struct acpi_pm *pm = m;
	acpi_pm_update(pm, 3000000000ULL);
	(void)acpi_pm_next_event_ns(pm, 3000000000ULL);
	(void)acpi_pm_sci_level(pm);
}

int main(void)
{
	static uint8_t buf[8192];

	/* the UART, with two bytes received and a divisor set */
	struct uart16550 u, u2, u3;
	uart_init(&u, uart_sink, 0);
	uart_write(&u, 3, 0x83);           /* DLAB */
	uart_write(&u, 0, 1);
	uart_write(&u, 3, 0x03);
	uart_write(&u, 2, 0x01);           /* FIFOs on */
	uart_receive(&u, (const uint8_t *)"hi", 2);
	uart_init(&u2, uart_sink, 0);
	CHECK(round_trip(FN(snapdev_uart), &u, &u2), "UART: saved, loaded, saved again: the same bytes");
	CHECK(uart_read(&u2, 0) == 'h' && uart_read(&u2, 0) == 'i', "UART: the restored model gives the bytes it had received");
	CHECK(refuses_lengths(FN(snapdev_uart), &u, &u3), "UART: a section of the wrong length is refused");
	size_t n = save(FN(snapdev_uart), &u, buf, sizeof(buf));
	buf[7 + UART_RX_FIFO_SIZE] = UART_RX_FIFO_SIZE;   /* rx_head */
	const char *why = load(FN(snapdev_uart), &u3, buf, n);
	CHECK(why && strstr(why, "UART"), "UART: a FIFO index past the FIFO is refused (%s)", why ? why : "");

	/* the 8259 pair */
	struct pic8259 pic[2] = { { 1, 2, 0xfb, 0x20, 0, 1, 0 }, { 0, 0, 0xff, 0x28, 0, 1, 1 } }, pic2[2];
	CHECK(round_trip(FN(snapdev_pic), pic, pic2) && pic2[0].base == 0x20 && pic2[1].read_isr == 1,
	      "8259 pair: round trip");
	pic[1].icw_step = 9;
	n = save(FN(snapdev_pic), pic, buf, sizeof(buf));
	CHECK(load(FN(snapdev_pic), pic2, buf, n) != 0, "8259: an initialization step past 3 is refused");

	/* the 8254, programmed and counting */
	struct pit8254 p, p2, p3;
	pit_init(&p, 1000000);
	pit_io_write(&p, 0x43, 0x34, 2000000);     /* channel 0, LSB/MSB, mode 2 */
	pit_io_write(&p, 0x40, 0x00, 2000000);
	pit_io_write(&p, 0x40, 0x10, 2000000);
	memset(&p2, 0, sizeof(p2));
	CHECK(round_trip(FN(snapdev_pit), &p, &p2), "8254: round trip");
	pit_io_write(&p, 0x43, 0x00, 9000000);     /* latch channel 0 */
	pit_io_write(&p2, 0x43, 0x00, 9000000);
	uint8_t lo = pit_io_read(&p, 0x40, 9000000), hi = pit_io_read(&p, 0x40, 9000000);
	uint8_t lo2 = pit_io_read(&p2, 0x40, 9000000), hi2 = pit_io_read(&p2, 0x40, 9000000);
	CHECK(lo == lo2 && hi == hi2, "8254: the restored counter reads what the original reads at the same time (%02x%02x)",
	      hi, lo);
	CHECK(refuses_lengths(FN(snapdev_pit), &p, &p3), "8254: a section of the wrong length is refused");
	p3 = p;
	p3.ch[0].running = 1;
	p3.ch[0].n = 0;
	n = save(FN(snapdev_pit), &p3, buf, sizeof(buf));
	why = load(FN(snapdev_pit), &p2, buf, n);
	CHECK(why && strstr(why, "8254"), "8254: a running counter with count 0 is refused (it would divide by 0)");

	/* the RTC */
	struct rtc r, r2;
	rtc_init(&r, 5000000000ULL, 64 << 20, 0);
	rtc_write(&r, 0x70, 0x0b, 5000000000ULL);
	rtc_write(&r, 0x71, 0x06, 5000000000ULL);  /* binary, 24 h */
	memset(&r2, 0, sizeof(r2));
	CHECK(round_trip(FN(snapdev_rtc), &r, &r2) && !memcmp(r.cmos, r2.cmos, CMOS_SIZE), "RTC: round trip, CMOS and all");
	r2 = r;
	r2.index = CMOS_SIZE;
	n = save(FN(snapdev_rtc), &r2, buf, sizeof(buf));
	CHECK(load(FN(snapdev_rtc), &r2, buf, n) != 0, "RTC: a register index past CMOS is refused");

	/* the local APIC, its timer armed */
	struct lapic l, l2;
	lapic_init(&l, 0, 1000000000);
	lapic_write(&l, 0xf0, 0x1ff, 0);           /* software-enabled, spurious vector 0xff */
	lapic_write(&l, 0x320, 0x20030, 0);        /* timer: periodic, vector 0x30 */
	lapic_write(&l, 0x3e0, 0xb, 0);            /* divide by 1 */
	lapic_write(&l, 0x380, 100000, 0);
	lapic_accept(&l, 0x41, 0);
	lapic_init(&l2, 0, 1000000000);
	CHECK(round_trip(FN(snapdev_lapic), &l, &l2), "LAPIC: round trip");
	CHECK(lapic_pending(&l2) == lapic_pending(&l) && lapic_read(&l2, 0x390, 50) == lapic_read(&l, 0x390, 50),
	      "LAPIC: the restored one has the same pending vector and current count");

	/* the I/O APIC, a pin routed */
	struct ioapic a, a2;
	ioapic_init(&a, 0, deliver, 0);
	ioapic_write(&a, 0, 0x10 + 2 * 4);
	ioapic_write(&a, 0x10, 0x31);
	ioapic_init(&a2, 0, deliver, 0);
	CHECK(round_trip(FN(snapdev_ioapic), &a, &a2) && a2.redir[4] == a.redir[4] && a2.deliver == deliver,
	      "I/O APIC: round trip, its callback kept");

	/* ACPI PM, keyboard controller, pvclock */
	struct acpi_pm pm, pm2;
	acpi_pm_init(&pm);
	pm.pm1_en = 0x100;
	memset(&pm2, 0, sizeof(pm2));
	CHECK(round_trip(FN(snapdev_pm), &pm, &pm2) && pm2.pm1_en == 0x100, "ACPI PM: round trip");
	struct i8042 k, k2;
	i8042_init(&k);
	i8042_init(&k2);
	CHECK(round_trip(FN(snapdev_kbc), &k, &k2), "i8042: round trip");
	k2.head = I8042_QUEUE;
	n = save(FN(snapdev_kbc), &k2, buf, sizeof(buf));
	CHECK(load(FN(snapdev_kbc), &k2, buf, n) != 0, "i8042: a queue index past the queue is refused");
	struct pvclock c, c2;
	pvclock_init(&c);
	c.system_time_msr = 0x5001;
	c.version = 4;
	memset(&c2, 0, sizeof(c2));
	CHECK(round_trip(FN(snapdev_pvclock), &c, &c2) && c2.system_time_msr == 0x5001 && c2.version == 4,
	      "pvclock: round trip");

	/* a virtio transport with a queue set up, and its PCI configuration */
	static struct virtio_pci vp, vp2, vp3;
	static const struct virtio_pci_ops no_ops;
	virtio_pci_init(&vp, 2, 0x018000, 0, 1, 128, 0, &no_ops, 0);
	virtio_pci_init(&vp2, 2, 0x018000, 0, 1, 128, 0, &no_ops, 0);
	vp.status = 0x0f;
	vp.driver_features = 1ULL << 32;
	vp.queues[0].size = 64;
	vp.queues[0].ready = 1;
	vp.queues[0].desc_gpa = 0x10000;
	vp.queues[0].avail_gpa = 0x10400;
	vp.queues[0].used_gpa = 0x11000;
	vp.queues[0].last_avail = 17;
	vp.queues[0].used_idx = 17;
	vp.pci.config[0x10] = 0x0c;
	CHECK(round_trip(FN(snapdev_virtio), &vp, &vp2) && vp2.queues[0].last_avail == 17 &&
	      vp2.queues[0].used_gpa == 0x11000 && vp2.pci.config[0x10] == 0x0c && vp2.ops == &no_ops,
	      "virtio: round trip, queue positions and configuration, its ops kept");
	vp3 = vp;
	vp3.queues[0].size = 48;
	n = save(FN(snapdev_virtio), &vp3, buf, sizeof(buf));
	why = load(FN(snapdev_virtio), &vp2, buf, n);
	CHECK(why && strstr(why, "queue"), "virtio: a ready queue of 48 entries is refused");
	vp3 = vp;
	vp3.queues[1].ready = 1;
	vp3.queues[1].size = 64;
	n = save(FN(snapdev_virtio), &vp3, buf, sizeof(buf));
	CHECK(load(FN(snapdev_virtio), &vp2, buf, n) != 0, "virtio: a ready queue the device does not have is refused");
	vp3 = vp;
	vp3.queues[0].broken = 1;
	n = save(FN(snapdev_virtio), &vp3, buf, sizeof(buf));
	CHECK(!load(FN(snapdev_virtio), &vp2, buf, n) && vp2.queues[0].broken && vp2.queues[0].error,
	      "virtio: a broken queue stays broken, with a reason to print");

	/* hostile snapshots, the models then driven (sanitizers watch) */
	static struct uart16550 fu;
	static struct pit8254 fp;
	static struct rtc fr;
	static struct lapic fl;
	static struct ioapic fa;
	static struct i8042 fk;
	static struct acpi_pm fpm;
	unsigned t1 = fuzz_model(FN(snapdev_uart), &u, &fu, sizeof(u), drive_uart, 2000);
	unsigned t2 = fuzz_model(FN(snapdev_pit), &p, &fp, sizeof(p), drive_pit, 2000);
	unsigned t3 = fuzz_model(FN(snapdev_rtc), &r, &fr, sizeof(r), drive_rtc, 2000);
	unsigned t4 = fuzz_model(FN(snapdev_lapic), &l, &fl, sizeof(l), drive_lapic, 2000);
	unsigned t5 = fuzz_model(FN(snapdev_ioapic), &a, &fa, sizeof(a), drive_ioapic, 2000);
	unsigned t6 = fuzz_model(FN(snapdev_kbc), &k, &fk, sizeof(k), drive_kbc, 2000);
	unsigned t7 = fuzz_model(FN(snapdev_pm), &pm, &fpm, sizeof(pm), drive_pm, 2000);
	/* a fault ends the program (the sanitizers do not recover); that each
	 * model took some states shows the driving code ran at all */
	CHECK(t1 && t2 && t3 && t4 && t5 && t6 && t7, "2000 hostile states per model loaded and, where taken, driven without a fault "
	      "(taken: UART %u, 8254 %u, RTC %u, LAPIC %u, I/O APIC %u, i8042 %u, PM %u)", t1, t2, t3, t4, t5, t6, t7);
	return unit_done();
}
