/* SYS_LOG, the kernel's console output handed to the console driver
 * (docs/console.md): only an I/O-port capability covering COM1 may bind
 * it; bound, debug output waits in the kernel's ring, the port's bits
 * are posted, and LOG_READ takes it out in order, 24 bytes at a time; a
 * ring left full is written to the line rather than lost; unbinding, or
 * the port's death, writes out what was not taken and the kernel writes
 * directly again.  While bound, this test's own output would go to the
 * ring too, so results are kept and printed once unbound. */
// test-expect: ^kernel-log: overflow 0000 \.+ end\r?$
// test-expect: ^kernel-log: overflow 0050 \.+ end\r?$
// test-expect: ^kernel-log: overflow 0099 \.+ end\r?$
// test-expect: ^kernel-log: left in the ring at unbind\r?$
// test-expect: ^kernel-log: left in the ring when the port died\r?$
#include "tap.h"
#include <libipc/ipc.h>

#define COM1 0x3f8
#define BIT 4

static struct {
	long err;
	int ok;
} r[16];

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(15);
	uint64_t com1 = slot_alloc(), part = slot_alloc(), port, send = slot_alloc();
	long err = sys_ioport_issue(CAP_IOPORT_CONTROL, COM1, COM1 + 7, CAP_ROOT_CNODE, com1);
	err = err ? err : sys_ioport_issue(CAP_IOPORT_CONTROL, COM1, COM1 + 3, CAP_ROOT_CNODE, part);
	err = err ? err : object_alloc(OBJ_PORT, 0, &port);
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, send, RIGHT_SEND, 0);
	tap_eq(err, E_OK, "set-up: COM1's ports, a part of them, a port");

	tap_eq(sys_log_bind(part, send, BIT), E_NO_RIGHTS, "ports that do not cover COM1 may not bind the log");
	tap_eq(sys_log_bind(port, send, BIT), E_WRONG_TYPE, "a port is not an I/O-port capability");
	tap_eq(sys_log_bind(com1, send, 0), E_BAD_ARG, "no bits: refused");
	tap_eq(berth_syscall(SYS_LOG, com1, 7, 0, 0, 0, 0).err, E_BAD_ARG, "an unknown operation: refused");
	char buf[24];
	unsigned n;
	tap_eq(sys_log_read(com1, buf, &n), E_WOULD_BLOCK, "nothing bound, nothing kept");

	/* bound: our output is kept for us */
	r[0].err = sys_log_bind(com1, send, BIT);
	const char line[] = "kernel-log: this line goes to the ring, 40 bytes and more\n";
	debug_puts(line);
	struct msg m;
	r[1].err = ipc_recv(port, 0, &m);
	r[1].ok = MSG_LABEL(m.info) == LABEL_NOTIFY && (m.w[0] & BIT);
	char got[256];
	unsigned total = 0;
	while (total + 24 <= sizeof(got) && !(r[2].err = sys_log_read(com1, got + total, &n)) && n)
		total += n;
	r[2].ok = r[2].err == E_WOULD_BLOCK && total == sizeof(line) - 1 && !memcmp(got, line, total);
	/* left full: written to the line in order, nothing lost */
	for (int i = 0; i < 100; i++)
		debug_printf("kernel-log: overflow %04d ........................................ end\n", i);
	/* what is left when the reader unbinds is written out */
	debug_puts("kernel-log: left in the ring at unbind\n");
	r[4].err = sys_log_bind(com1, 0, 0);
	r[5].err = sys_log_read(com1, got, &n);

	tap_eq(r[0].err, E_OK, "COM1's ports bind the log to our port");
	tap_ok(r[1].err == E_OK && r[1].ok, "a debug write posts the port's bits");
	tap_ok(r[2].ok, "LOG_READ gives back exactly what was written, then E_WOULD_BLOCK (%ld, %u bytes)",
	       r[2].err, total);
	tap_eq(r[4].err, E_OK, "unbinding");
	tap_eq(r[5].err, E_WOULD_BLOCK, "after it nothing waits (it was written out)");

	/* the reader's port dies: the kernel writes directly again */
	r[6].err = sys_log_bind(com1, send, BIT);
	debug_puts("kernel-log: left in the ring when the port died\n");
	sys_cnode_delete(send);
	r[7].err = sys_cnode_delete(port);
	r[8].err = sys_log_read(com1, got, &n);
	tap_eq(r[6].err, E_OK, "bound again");
	tap_eq(r[7].err, E_OK, "its port destroyed");
	tap_eq(r[8].err, E_WOULD_BLOCK, "what waited was written out, nothing is kept");
	tap_ok(1, "this line is written directly (the runner sees it)");
	tap_done();
}
