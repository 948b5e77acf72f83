/* Interrupt lines for user-level drivers.  The IRQ control capability
 * issues a first handler capability for a line; a handler binds its line
 * to notification bits on a port.  When the line fires the kernel masks
 * it and posts the bits; the driver acknowledges with SYS_IRQ_ACK.
 *
 * A line may be shared (PCI's level-triggered INTx lines are): a handler
 * makes a sibling for the same line with SYS_IRQ_SHARE, up to
 * IRQ_HANDLERS_PER_LINE of them, each bound to its own port.  A firing
 * line notifies every bound handler, and is unmasked again only when
 * every bound handler has acknowledged, so no device's interrupt is lost
 * while another driver is still busy: a device that still asserts the
 * line raises it again at once.  (A driver that never acknowledges keeps
 * its line masked for everyone on it; that is the price of sharing.)
 * Line 0 is the kernel's timer and line 2 the PIC cascade. */
#include <berth/errors.h>
#include <berth/syscall.h>
#include "object.h"
#include "layout.h"
#include "timer.h"
#include "selfcheck.h"
#include "klib.h"

#define IRQ_LINES 16

struct irq_handler {
	uint8_t issued;
	uint8_t pending;     /* notified, not yet acknowledged */
	struct port *port;   /* bound notification target, 0: none */
	uint64_t bits;
};

static struct irq_handler handlers[IRQ_LINES][IRQ_HANDLERS_PER_LINE];

/* A handler capability names (index << 8) | line. */
static int cap_line(const struct cap *c)
{
	return (int)(c->obj & 0xff);
}

static struct irq_handler *cap_handler(const struct cap *c)
{
	return &handlers[c->obj & 0xff][(c->obj >> 8) & 0xff];
}

/* Unmask the line when some handler is bound and none still works on
 * an earlier interrupt; mask it when nobody listens. */
static void line_update(int line)
{
	int bound = 0, pending = 0;
	for (int i = 0; i < IRQ_HANDLERS_PER_LINE; i++) {
		bound |= handlers[line][i].port != 0;
		pending |= handlers[line][i].pending;
	}
	if (bound && !pending)
		pic_unmask(line);
	else
		pic_mask(line);
}

void irq_handle(int line)
{
	pic_mask(line);
	for (int i = 0; i < IRQ_HANDLERS_PER_LINE; i++) {
		struct irq_handler *h = &handlers[line][i];
		if (h->port) {
			h->pending = 1;
			port_notify(h->port, h->bits, 0);
		}
	}
}

static void unbind(struct irq_handler *h, int line)
{
	h->port = 0;
	h->bits = 0;
	h->pending = 0;
	line_update(line);
}

void irq_handler_destroyed(struct cap *c)
{
	unbind(cap_handler(c), cap_line(c));
	cap_handler(c)->issued = 0;
}

void irq_port_destroyed(const struct port *p)
{
	for (int line = 0; line < IRQ_LINES; line++)
		for (int i = 0; i < IRQ_HANDLERS_PER_LINE; i++)
			if (handlers[line][i].port == p)
				unbind(&handlers[line][i], line);
}

/* A new handler capability for line in dest, a child of parent. */
static int issue(struct cap *parent, int line, struct cap *dest)
{
	int i = 0;
	while (i < IRQ_HANDLERS_PER_LINE && handlers[line][i].issued)
		i++;
	if (i == IRQ_HANDLERS_PER_LINE)
		return E_LIMIT;
	cap_set(dest, OBJ_IRQ_HANDLER, RIGHTS_ALL, (uint64_t)i << 8 | (uint64_t)line, 0, 0);
	cap_insert_child(parent, dest);
	handlers[line][i].issued = 1;
	return E_OK;
}

int sys_irq(struct tcb *t, uint64_t op, struct context *r)
{
	struct cap *c, *dest, *port;
	int err;
	if (op == SYS_IRQ_GET) {
		if ((err = cap_get(t, r->rdi, OBJ_IRQ_CONTROL, 0, &c)))
			return err;
		uint64_t line = r->rsi;
		if (line >= IRQ_LINES || line == 0 || line == 2)
			return E_BAD_ARG;
		for (int i = 0; i < IRQ_HANDLERS_PER_LINE; i++)
			if (handlers[line][i].issued)
				return E_STATE; /* more handlers come from SYS_IRQ_SHARE */
		if ((err = dest_slot(t, r->rdx, r->r10, &dest)) || (err = cap_can_derive(c)))
			return err;
		return issue(c, (int)line, dest);
	}
	if ((err = cap_get(t, r->rdi, OBJ_IRQ_HANDLER, 0, &c)))
		return err;
	int line = cap_line(c);
	struct irq_handler *h = cap_handler(c);
	if (op == SYS_IRQ_SHARE) {
		if ((err = dest_slot(t, r->rsi, r->rdx, &dest)) || (err = cap_can_derive(c)))
			return err;
		return issue(c, line, dest);
	}
	if (op == SYS_IRQ_BIND) {
		if (!r->rsi) {
			unbind(h, line);
			return E_OK;
		}
		if ((err = cap_get(t, r->rsi, OBJ_PORT, RIGHT_SEND, &port)))
			return err;
		if (!r->rdx)
			return E_BAD_ARG;
		h->port = P2V(port->obj);
		h->bits = r->rdx;
		h->pending = 0;
		line_update(line);
		return E_OK;
	}
	if (!h->port)
		return E_STATE;
	h->pending = 0;
	line_update(line);
	return E_OK;
}

const struct port *irq_handler_port(int line, int index)
{
	return line >= 0 && line < IRQ_LINES && index >= 0 && index < IRQ_HANDLERS_PER_LINE
	               ? handlers[line][index].port
	               : 0;
}
