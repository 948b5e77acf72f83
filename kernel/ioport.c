/* I/O-port capabilities.  User code never executes IN or OUT itself (IOPL
 * is 0 and the TSS has no permission bitmap, so it faults); a driver asks
 * the kernel, naming a capability whose range covers the port, as seL4
 * does on x86.  The control capability issues ranges. */
#include <berth/errors.h>
#include <berth/syscall.h>
#include "object.h"
#include "cpu.h"

static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }

int sys_ioport(struct tcb *t, uint64_t op, struct context *r)
{
	struct cap *c, *dest;
	int err;
	if (op == SYS_IOPORT_ISSUE) {
		uint64_t first = r->rsi, last = r->rdx;
		if ((err = cap_get(t, r->rdi, OBJ_IOPORT_CONTROL, 0, &c)))
			return err;
		if (first > last || last > 0xffff)
			return E_BAD_ARG;
		if ((err = dest_slot(t, r->r10, r->r8, &dest)) || (err = cap_can_derive(c)))
			return err;
		cap_set(dest, OBJ_IOPORT, RIGHTS_ALL, first | last << 16, 0, 0);
		cap_insert_child(c, dest);
		return E_OK;
	}
	if ((err = cap_get(t, r->rdi, OBJ_IOPORT, 0, &c)))
		return err;
	uint64_t port = r->rsi, size = r->rdx;
	uint64_t first = c->obj & 0xffff, last = c->obj >> 16;
	if (size != 1 && size != 2 && size != 4)
		return E_BAD_ARG;
	if (port < first || port > last || port + size - 1 > last)
		return E_RANGE;
	uint16_t p = (uint16_t)port;
	if (op == SYS_IOPORT_IN) {
		r->rdx = size == 1 ? inb(p) : size == 2 ? inw(p) : inl(p);
		return E_OK;
	}
	uint64_t v = r->r10;
	if (size == 1)
		outb(p, (uint8_t)v);
	else if (size == 2)
		outw(p, (uint16_t)v);
	else
		outl(p, (uint32_t)v);
	return E_OK;
}
