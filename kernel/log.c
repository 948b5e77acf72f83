/* The kernel's console output: printk and SYS_DEBUG_WRITE (docs/console.md).
 *
 * Until a console driver claims it, every byte goes straight to COM1, as
 * in early boot and in the system tests that run without a console.  The
 * driver that owns COM1 claims it with SYS_LOG (LOG_BIND), naming its
 * I/O-port capability for COM1's registers (owning the line's hardware is
 * the right to its output) and a port with notification bits.  From then
 * on bytes wait in a ring, the bits are posted when the kernel leaves,
 * and the driver takes them (LOG_READ) and writes them above the line
 * being edited, so that log lines never land in the middle of a prompt.
 *
 * Nothing is lost or reordered: if the ring fills (the driver is stuck)
 * it is written out to COM1 directly before the next byte goes in; when
 * the driver's port dies or it unbinds, what it had not taken is written
 * out and direct writing resumes; a panic writes out the ring first. */
#include <berth/errors.h>
#include <berth/syscall.h>
#include "object.h"
#include "layout.h"
#include "serial.h"
#include "klib.h"

static char ring[LOG_RING];
static uint64_t written, taken;       /* bytes put in and taken out, ever */
static struct port *reader;           /* the console driver's port, 0: direct */
static uint64_t reader_bits;
int log_unannounced;                  /* bytes came since the last notification */

static void flush(void)
{
	while (taken != written)
		serial_putc(ring[taken++ % LOG_RING]);
}

void log_putc(char c)
{
	if (!reader) {
		serial_putc(c);
		return;
	}
	if (written - taken == LOG_RING)
		flush();
	ring[written++ % LOG_RING] = c;
	log_unannounced = 1;
}

/* Called as the kernel leaves, where posting to a port is safe (printk
 * may run in the middle of an IPC operation). */
void log_announce(void)
{
	if (log_unannounced && reader)
		port_notify(reader, reader_bits, 0);
	log_unannounced = 0;
}

/* Write out what the console driver has not taken yet, now: the machine
 * is about to end (SYS_DEBUG_EXIT), and the driver would not get to run. */
void log_flush(void)
{
	flush();
}

void log_direct(void)
{
	flush();
	reader = 0;
	reader_bits = 0;
}

void log_port_destroyed(const struct port *p)
{
	if (p == reader)
		log_direct();
}

const struct port *log_reader(void)
{
	return reader;
}

int sys_log(struct tcb *t, struct context *r)
{
	struct cap *c, *port;
	int err = cap_get(t, r->rdi, OBJ_IOPORT, 0, &c);
	if (err)
		return err;
	if ((c->obj & 0xffff) > SERIAL_COM1 || (c->obj >> 16) < SERIAL_COM1 + 7)
		return E_NO_RIGHTS; /* not the owner of COM1 */
	switch (r->rsi) {
	case LOG_BIND:
		if (!r->rdx) {
			log_direct();
			return E_OK;
		}
		if ((err = cap_get(t, r->rdx, OBJ_PORT, RIGHT_SEND, &port)))
			return err;
		if (!r->r10)
			return E_BAD_ARG;
		reader = P2V(port->obj);
		reader_bits = r->r10;
		log_unannounced = 1; /* the new reader learns at once whether something waits */
		return E_OK;
	case LOG_READ: {
		if (taken == written)
			return E_WOULD_BLOCK;
		uint64_t w[3] = { 0, 0, 0 };
		unsigned n = 0;
		while (n < sizeof(w) && taken != written)
			((char *)w)[n++] = ring[taken++ % LOG_RING];
		r->rdx = n | (written - taken) << 32;
		r->rsi = w[0];
		r->rdi = w[1];
		r->r8 = w[2];
		return E_OK;
	}
	}
	return E_BAD_ARG;
}
