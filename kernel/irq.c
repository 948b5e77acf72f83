/* Interrupt lines for user-level drivers.  The IRQ control capability
 * issues one handler capability per line; a handler binds its line to
 * notification bits on a port.  When the line fires the kernel masks it
 * and posts the bits; the driver acknowledges with SYS_IRQ_ACK, which
 * unmasks it.  Line 0 is the kernel's timer and line 2 the PIC cascade. */
#include <berth/errors.h>
#include <berth/syscall.h>
#include "object.h"
#include "layout.h"
#include "timer.h"
#include "selfcheck.h"
#include "klib.h"

#define IRQ_LINES 16

static struct {
	uint8_t issued;
	struct port *port;   /* bound notification target, 0: none */
	uint64_t bits;
} lines[IRQ_LINES];

void irq_handle(int line)
{
	pic_mask(line);
	if (lines[line].port)
		port_notify(lines[line].port, lines[line].bits);
}

static void unbind(int line)
{
	lines[line].port = 0;
	lines[line].bits = 0;
	pic_mask(line);
}

void irq_handler_destroyed(struct cap *c)
{
	unbind((int)c->obj);
	lines[c->obj].issued = 0;
}

void irq_port_destroyed(const struct port *p)
{
	for (int i = 0; i < IRQ_LINES; i++)
		if (lines[i].port == p)
			unbind(i);
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
		if (lines[line].issued)
			return E_STATE;
		if ((err = dest_slot(t, r->rdx, r->r10, &dest)) || (err = cap_can_derive(c)))
			return err;
		cap_set(dest, OBJ_IRQ_HANDLER, RIGHTS_ALL, line, 0, 0);
		cap_insert_child(c, dest);
		lines[line].issued = 1;
		return E_OK;
	}
	if ((err = cap_get(t, r->rdi, OBJ_IRQ_HANDLER, 0, &c)))
		return err;
	int line = (int)c->obj;
	if (op == SYS_IRQ_BIND) {
		if (!r->rsi) {
			unbind(line);
			return E_OK;
		}
		if ((err = cap_get(t, r->rsi, OBJ_PORT, RIGHT_SEND, &port)))
			return err;
		if (!r->rdx)
			return E_BAD_ARG;
		lines[line].port = P2V(port->obj);
		lines[line].bits = r->rdx;
		pic_unmask(line);
		return E_OK;
	}
	if (!lines[line].port)
		return E_STATE;
	pic_unmask(line);
	return E_OK;
}

const struct port *irq_line_port(int line)
{
	return line >= 0 && line < IRQ_LINES ? lines[line].port : 0;
}
