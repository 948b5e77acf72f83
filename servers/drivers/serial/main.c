/*
 * The serial console driver: owns COM1's I/O ports and IRQ 4 and offers
 * idl/console.idl.  Output is written byte by byte as the transmitter
 * frees; input arrives by interrupt into a ring buffer, and a read with
 * nothing to return waits (its reply is deferred) until input comes.
 *
 * It owns the screen (screen.c, docs/console.md): the shell tells it the
 * line being edited (edit_line), and every other output, its clients'
 * writes and the kernel's log, goes above that line, which is drawn
 * again below.  The kernel's log (printk and every task's debug output)
 * comes here because this driver holds COM1's ports: it binds the
 * kernel's log to its port (SYS_LOG) and drains it when notified.
 *
 * Capabilities (boot manifest order): slot 9 the ports 0x3f8-0x3ff,
 * slot 10 IRQ 4.
 */
#include <libipc/libipc.h>
#include <libipc/server.h>
#include "console.h"   /* generated from idl/console.idl */
#include "init.h"
#include "screen.h"

#define INIT_SLOT 8
#define PORTS_SLOT 9
#define IRQ_SLOT 10
#define COM1 0x3f8
#define IRQ_BIT 1
#define LOG_BIT 2
#define RING 1024
#define MAX_WAITING 8

static uint8_t ring[RING];
static uint64_t bytes_written;
static unsigned ring_head, ring_tail;  /* head: next to read */
static int echo = 1, testing;
static struct screen screen;

/* Test builds: what clients wrote last, for output_has_for_test */
#define HISTORY 2048
static char history[HISTORY];
static unsigned history_len;

static struct {
	uint64_t reply;   /* a deferred reader's reply right, 0: none */
	uint32_t max;
} waiting[MAX_WAITING];

static uint8_t reg_in(unsigned reg)
{
	uint64_t v = 0;
	sys_ioport_in(PORTS_SLOT, COM1 + reg, 1, &v);
	return (uint8_t)v;
}

static void reg_out(unsigned reg, uint8_t v)
{
	sys_ioport_out(PORTS_SLOT, COM1 + reg, 1, v);
}

static void put_byte(uint8_t c)
{
	for (int i = 0; i < 100000 && !(reg_in(5) & 0x20); i++)
		;
	reg_out(0, c);
}

static void put_bytes(void *ctx, const char *bytes, unsigned n)
{
	(void)ctx;
	for (unsigned i = 0; i < n; i++)
		put_byte((uint8_t)bytes[i]);
}

static unsigned available(void)
{
	return (ring_tail - ring_head) % RING;
}

/* Take up to max bytes of input. */
static uint32_t take(uint8_t *out, uint32_t max)
{
	uint32_t n = 0;
	while (n < max && ring_head != ring_tail) {
		out[n++] = ring[ring_head];
		ring_head = (ring_head + 1) % RING;
	}
	return n;
}

/* A deferred read's reply, encoded as the generated stubs expect
 * (docs/idl.md): status, then the byte count and the bytes.  If the
 * reader is gone, the bytes stay for the next one. */
static void answer_reader(uint64_t reply_slot, uint32_t max)
{
	struct msg m;
	uint8_t buf[256];
	unsigned head = ring_head;
	uint32_t n = take(buf, max);
	m.w[0] = E_OK;
	m.w[1] = n;
	memset(&m.w[2], 0, (n + 7) / 8 * 8);
	memcpy(&m.w[2], buf, n);
	m.info = MSG_INFO(CONSOLE_READ_LABEL, 2 + (n + 7) / 8, 0);
	if (ipc_reply(reply_slot, &m) == E_NO_REPLY)
		ring_head = head;
	sys_cnode_delete(reply_slot);
	slot_free(reply_slot);
}

/* A byte of input into the ring, echoed if asked. */
static void typed(uint8_t c, int may_echo)
{
	if (available() < RING - 1) {
		ring[ring_tail] = c;
		ring_tail = (ring_tail + 1) % RING;
	}
	if (echo && may_echo)
		screen_echo(&screen, c);
}

/* Move what the UART received into the ring. */
static void receive(int may_echo)
{
	while (reg_in(5) & 0x01)
		typed(reg_in(0), may_echo);
}

/* Input waiting, readers waiting: answer them. */
static void answer_readers(void)
{
	for (int i = 0; i < MAX_WAITING && available(); i++) {
		if (waiting[i].reply) {
			answer_reader(waiting[i].reply, waiting[i].max);
			waiting[i].reply = 0;
		}
	}
}

static void input_arrived(void)
{
	receive(1);
	sys_irq_ack(IRQ_SLOT);
	answer_readers();
}

static long do_write(void *ctx, uint64_t badge, const uint8_t *data, uint32_t len, uint32_t *written)
{
	(void)ctx;
	(void)badge;
	screen_output(&screen, data, len);
	*written = len;
	bytes_written += len;
	if (testing) { /* the last HISTORY bytes, oldest first */
		if (len >= HISTORY) {
			memcpy(history, data + len - HISTORY, HISTORY);
			history_len = HISTORY;
		} else {
			if (history_len + len > HISTORY) {
				unsigned drop = history_len + len - HISTORY;
				memmove(history, history + drop, history_len - drop);
				history_len -= drop;
			}
			memcpy(history + history_len, data, len);
			history_len += len;
		}
	}
	return E_OK;
}

static struct server srv;

static long do_read(void *ctx, uint64_t badge, uint32_t max, uint8_t *data, uint32_t *len)
{
	(void)ctx;
	(void)badge;
	if (max == 0 || max > 256)
		return E_BAD_ARG;
	if (available()) {
		*len = take(data, max);
		return E_OK;
	}
	for (int i = 0; i < MAX_WAITING; i++) {
		if (!waiting[i].reply) {
			waiting[i].reply = server_defer(&srv);
			waiting[i].max = max;
			return waiting[i].reply ? SERVER_DEFERRED : E_SLOT_FULL;
		}
	}
	return E_LIMIT;
}

static long do_poll(void *ctx, uint64_t badge, uint32_t *n)
{
	(void)ctx;
	(void)badge;
	*n = available();
	return E_OK;
}

static long do_set_echo(void *ctx, uint64_t badge, uint32_t on)
{
	(void)ctx;
	(void)badge;
	echo = on != 0;
	return E_OK;
}

static long do_written(void *ctx, uint64_t badge, uint64_t *bytes)
{
	(void)ctx;
	(void)badge;
	*bytes = bytes_written;
	return E_OK;
}

static long do_crash_for_test(void *ctx, uint64_t badge)
{
	(void)ctx;
	(void)badge;
	if (!testing)
		return E_NO_RIGHTS;
	static volatile uintptr_t bad_pointer = 8;
	debug_printf("serial: crashing on request (test build)\n");
	*(volatile uint64_t *)bad_pointer = 1;
	return E_OK;
}

static long do_type_for_test(void *ctx, uint64_t badge, const uint8_t *data, uint32_t len)
{
	(void)ctx;
	(void)badge;
	if (!testing)
		return E_NO_RIGHTS;
	for (uint32_t i = 0; i < len; i++)
		typed(data[i], 1);
	answer_readers();
	return E_OK;
}

static long do_output_has_for_test(void *ctx, uint64_t badge, const char *text, uint32_t *found)
{
	(void)ctx;
	(void)badge;
	if (!testing)
		return E_NO_RIGHTS;
	size_t n = strlen(text);
	*found = 0;
	for (unsigned i = 0; n && !*found && i + n <= history_len; i++)
		*found = !memcmp(history + i, text, n);
	return E_OK;
}

static long do_edit_line(void *ctx, uint64_t badge, const char *prompt, const uint8_t *text, uint32_t len,
                         uint32_t cursor, uint32_t columns, uint32_t flags)
{
	(void)ctx;
	(void)badge;
	screen_line(&screen, prompt, (unsigned)strlen(prompt), (const char *)text, len, cursor, columns, flags);
	return E_OK;
}

/* The kernel's log: everything it kept for us, written above the line
 * being edited in one piece, so the line is drawn again once. */
static void log_arrived(void)
{
	static char buf[1024];
	unsigned n = 0, got = 0;
	for (;;) {
		long err = sys_log_read(PORTS_SLOT, buf + n, &got);
		if (!err)
			n += got;
		if (err || n + 24 > sizeof(buf)) {
			screen_output(&screen, (const uint8_t *)buf, n);
			n = 0;
		}
		if (err)
			return;
	}
}

static const struct console_ops ops = {
	.write = do_write, .read = do_read, .poll = do_poll, .set_echo = do_set_echo,
	.written = do_written, .crash_for_test = do_crash_for_test, .type_for_test = do_type_for_test,
	.output_has_for_test = do_output_has_for_test, .edit_line = do_edit_line,
};

static int handle(struct server *s, const struct msg *req, struct msg *reply)
{
	if (MSG_LABEL(req->info) == LABEL_NOTIFY) {
		if (req->w[0] & IRQ_BIT)
			input_arrived();
		if (req->w[0] & LOG_BIT)
			log_arrived();
		return SERVER_NO_REPLY;
	}
	if (!console_dispatch(&ops, s->ctx, req, s->recv_slots, reply))
		return SERVER_UNKNOWN;
	/* a read that is waiting for input answers later */
	return reply->w[0] == (uint64_t)SERVER_DEFERRED ? SERVER_NO_REPLY : SERVER_REPLY;
}

int main(const struct bootinfo *bi)
{
	testing = strstr(bi->cmdline, "testing") != 0;
	uint64_t port, send = slot_alloc();
	long err = object_alloc(OBJ_PORT, 0, &port);
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, send, RIGHT_SEND, 0);
	err = err ? err : sys_irq_bind(IRQ_SLOT, send, IRQ_BIT);
	if (err) {
		debug_printf("serial: set-up failed: %ld\n", err);
		return 1;
	}
	screen_init(&screen, put_bytes, 0);
	reg_out(1, 0x00);           /* interrupts off while we set up */
	/* FIFOs on, not cleared: what was typed while no driver ran (the
	 * previous one was killed or is restarting) is input like any other */
	reg_out(2, 0xc1);
	reg_out(4, 0x0b);           /* DTR, RTS, OUT2 (routes the IRQ) */
	receive(0);                 /* (not echoed: its reader will show it) */
	reg_out(1, 0x01);           /* interrupt on received data */
	/* the kernel's log comes here from now on; an old kernel without
	 * SYS_LOG keeps writing it itself, which only costs tidiness */
	if ((err = sys_log_bind(PORTS_SLOT, send, LOG_BIT)))
		debug_printf("serial: the kernel's log stays on the line (error %ld)\n", err);
	if ((err = server_init(&srv, port, handle, 0)) || (err = init_publish(INIT_SLOT, "console", send))) {
		debug_printf("serial: cannot publish the console: %ld\n", err);
		return 1;
	}
	return (int)server_run(&srv);
}
