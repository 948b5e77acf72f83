/* Host unit tests for servers/vmm/i8042.c: the keyboard controller with
 * nothing plugged in.  The tests replay what Linux 6.1 does with it
 * (drivers/input/serio/i8042.c's probe, atkbd's first command,
 * arch/x86/kernel/reboot.c's BOOT_KBD) and check every reset path. */
// unit-under-test: servers/vmm/i8042.c
#include <stdint.h>
#include <string.h>
#include "unit.h"
#include "../../servers/vmm/i8042.h"

static struct i8042 k;

static uint8_t st(void)
{
	return i8042_read(&k, I8042_PORT_COMMAND);
}

/* Linux's __i8042_command: wait for IBF clear, write the command, its
 * parameter bytes to 0x60, then for each answer wait for OBF (a bounded
 * loop here: a count of 0 means "would time out") and read it. */
static int command(uint8_t cmd, const uint8_t *params, unsigned nparams, uint8_t *answers, unsigned nanswers)
{
	if (st() & I8042_STR_IBF)
		return -1;
	if (i8042_write(&k, I8042_PORT_COMMAND, cmd) != I8042_EVENT_NONE)
		return -2;
	for (unsigned i = 0; i < nparams; i++) {
		if (st() & I8042_STR_IBF)
			return -1;
		i8042_write(&k, I8042_PORT_DATA, params[i]);
	}
	for (unsigned i = 0; i < nanswers; i++) {
		if (!(st() & I8042_STR_OBF))
			return -1;  /* Linux would wait 0.5 s here */
		answers[i] = i8042_read(&k, I8042_PORT_DATA);
	}
	return 0;
}

static void test_linux_probe(void)
{
	uint8_t a = 0, b = 0;

	memset(&k, 0xee, sizeof(k));
	i8042_init(&k);
	/* i8042_controller_check -> i8042_flush: status not 0xff, nothing to drain */
	uint8_t s = st();
	CHECK(s != 0xff && !(s & I8042_STR_OBF) && !(s & I8042_STR_IBF), "status 0x%02x: a controller, empty", s);
	CHECK(s & I8042_STR_SYS, "the system flag is set (POST passed)");
	/* i8042_controller_selftest */
	CHECK(command(0xaa, NULL, 0, &a, 1) == 0 && a == 0x55, "self-test 0xAA answers 0x55");
	/* i8042_controller_init: read the CTR until two reads agree */
	CHECK(command(0x20, NULL, 0, &a, 1) == 0 && command(0x20, NULL, 0, &b, 1) == 0 && a == b,
	      "CTR reads are stable (0x%02x)", a);
	CHECK(a == 0x65, "CTR at reset: XLATE | AUXDIS | SYS | KBDINT (0x%02x)", a);
	uint8_t ctr = (uint8_t)((a | I8042_CTR_KBDDIS) & ~I8042_CTR_KBDINT);
	CHECK(command(0x60, &ctr, 1, NULL, 0) == 0, "write CTR with the keyboard disabled");
	CHECK(command(0x20, NULL, 0, &a, 1) == 0 && a == ctr, "CTR reads back 0x%02x", a);
	CHECK(!(st() & I8042_STR_OBF), "nothing left to flush");
	CHECK(i8042_take_irqs(&k) == I8042_IRQ_KBD_BIT, "answers with KBDINT on were keyboard interrupts");

	/* i8042_check_aux: loop test, then the bit-assignment test */
	a = 0x5a;
	CHECK(command(0xd3, &a, 1, &b, 1) == 0 && b == 0x5a, "aux loop 0xD3 echoes 0x5a");
	CHECK(command(0xa7, NULL, 0, NULL, 0) == 0 && command(0x20, NULL, 0, &a, 1) == 0 &&
	      (a & I8042_CTR_AUXDIS), "aux disable shows in the CTR (no 'Is this a SiS?' warning)");
	CHECK(command(0xa8, NULL, 0, NULL, 0) == 0 && command(0x20, NULL, 0, &a, 1) == 0 &&
	      (a & I8042_CTR_AUXDIS), "aux enable does not take: Linux registers no AUX port");
	ctr = 0x47;
	command(0x60, &ctr, 1, NULL, 0);
	command(0x20, NULL, 0, &a, 1);
	CHECK(a == 0x67, "AUXDIS stays set whatever the CTR write says (0x%02x)", a);
	CHECK(command(0xa9, NULL, 0, &a, 1) == 0 && a == 0x01, "aux interface test: clock line low");

	/* i8042_setup_kbd: enable the keyboard port and its interrupt */
	CHECK(command(0xae, NULL, 0, NULL, 0) == 0 && command(0x20, NULL, 0, &a, 1) == 0 &&
	      !(a & I8042_CTR_KBDDIS), "keyboard enable 0xAE");
	CHECK(command(0xab, NULL, 0, &a, 1) == 0 && a == 0x00, "keyboard interface test 0xAB -> 0");
	CHECK(command(0xad, NULL, 0, NULL, 0) == 0 && command(0x20, NULL, 0, &a, 1) == 0 &&
	      (a & I8042_CTR_KBDDIS), "keyboard disable 0xAD");
	command(0xae, NULL, 0, NULL, 0);
	i8042_take_irqs(&k);

	/* atkbd_probe: GETID (0xF2) to the keyboard; nothing answers but the
	 * controller's NAK with the time-out bit, at once, with IRQ 1 */
	i8042_write(&k, I8042_PORT_DATA, 0xf2);
	s = st();
	CHECK((s & (I8042_STR_OBF | I8042_STR_TIMEOUT)) == (I8042_STR_OBF | I8042_STR_TIMEOUT) &&
	      !(s & I8042_STR_AUXDATA), "a keyboard command: OBF | TIMEOUT from the keyboard side (0x%02x)", s);
	CHECK(i8042_take_irqs(&k) == I8042_IRQ_KBD_BIT, "IRQ 1 edge");
	CHECK(i8042_read(&k, I8042_PORT_DATA) == 0xfe, "the byte is 0xFE (NAK)");
	CHECK(!(st() & (I8042_STR_OBF | I8042_STR_TIMEOUT)), "time-out bit goes with the byte");
	CHECK(i8042_read(&k, I8042_PORT_DATA) == 0xfe, "an empty buffer still reads its last byte");
	CHECK(i8042_take_irqs(&k) == 0, "no edge for that");
}

static void test_queue_and_irqs(void)
{
	uint8_t a;

	i8042_init(&k);
	uint8_t ctr = 0x44;  /* no interrupts */
	command(0x60, &ctr, 1, NULL, 0);
	i8042_take_irqs(&k);
	i8042_write(&k, I8042_PORT_COMMAND, 0xaa);
	i8042_write(&k, I8042_PORT_COMMAND, 0xab);
	CHECK(i8042_take_irqs(&k) == 0, "interrupts off: no edges");
	CHECK(i8042_read(&k, I8042_PORT_DATA) == 0x55 && i8042_read(&k, I8042_PORT_DATA) == 0x00,
	      "two answers come out in order");
	i8042_write(&k, I8042_PORT_COMMAND, 0xd2);
	i8042_write(&k, I8042_PORT_DATA, 0x1c);
	CHECK(i8042_take_irqs(&k) == 0, "a byte waiting, interrupt off");
	ctr = 0x45;
	command(0x60, &ctr, 1, NULL, 0);
	CHECK(i8042_take_irqs(&k) == I8042_IRQ_KBD_BIT, "turning KBDINT on with a byte waiting is an edge");
	CHECK(i8042_read(&k, I8042_PORT_DATA) == 0x1c, "0xD2 data comes back as keyboard data");
	ctr = 0x47;
	command(0x60, &ctr, 1, NULL, 0);
	i8042_write(&k, I8042_PORT_COMMAND, 0xd3);
	i8042_write(&k, I8042_PORT_DATA, 0x42);
	CHECK((st() & I8042_STR_AUXDATA) && i8042_take_irqs(&k) == I8042_IRQ_AUX_BIT, "0xD3: aux data, IRQ 12");
	i8042_write(&k, I8042_PORT_COMMAND, 0xd2);
	i8042_write(&k, I8042_PORT_DATA, 0x99);
	CHECK(i8042_take_irqs(&k) == 0, "a second byte queued behind: no edge yet");
	CHECK(i8042_read(&k, I8042_PORT_DATA) == 0x42 && i8042_take_irqs(&k) == I8042_IRQ_KBD_BIT,
	      "reading the first moves the second in: IRQ 1 edge");
	CHECK(i8042_read(&k, I8042_PORT_DATA) == 0x99, "then the second byte");
	i8042_write(&k, I8042_PORT_COMMAND, 0xd4);
	i8042_write(&k, I8042_PORT_DATA, 0xff);
	a = st();
	CHECK((a & (I8042_STR_AUXDATA | I8042_STR_TIMEOUT)) == (I8042_STR_AUXDATA | I8042_STR_TIMEOUT) &&
	      i8042_read(&k, I8042_PORT_DATA) == 0xfe, "a byte to the absent aux device: NAK with time-out");
	CHECK(st() & I8042_STR_CMDDAT ? 0 : 1, "status bit 3: last write was data");
	i8042_write(&k, I8042_PORT_COMMAND, 0x99);
	CHECK(st() & I8042_STR_CMDDAT, "status bit 3: last write was a command");
	CHECK(!(st() & I8042_STR_OBF), "an unknown command answers nothing");
	command(0x61, (const uint8_t[]){ 0x5a }, 1, NULL, 0);
	CHECK(command(0x21, NULL, 0, &a, 1) == 0 && a == 0x5a, "controller RAM byte 1 written and read");
	CHECK(command(0xa4, NULL, 0, &a, 1) == 0 && a == 0xf1, "no password installed");
	CHECK(command(0xc0, NULL, 0, &a, 1) == 0 && a == 0x80, "input port: keyboard not inhibited");
	for (int i = 0; i < 40; i++)
		i8042_write(&k, I8042_PORT_COMMAND, 0xaa);
	int n = 0;
	while ((st() & I8042_STR_OBF) && n < 100) {
		i8042_read(&k, I8042_PORT_DATA);
		n++;
	}
	CHECK(n == I8042_QUEUE, "an unread flood is bounded (%d bytes kept)", n);
}

static void test_reset(void)
{
	uint8_t a;

	i8042_init(&k);
	/* Linux BOOT_KBD: kb_wait() (IBF clear), outb(0xfe, 0x64) */
	CHECK(!(st() & I8042_STR_IBF), "kb_wait: input buffer empty at once");
	CHECK(i8042_write(&k, I8042_PORT_COMMAND, 0xfe) == I8042_EVENT_RESET, "0xFE pulses reset");
	CHECK(i8042_write(&k, I8042_PORT_COMMAND, 0xf0) == I8042_EVENT_RESET, "0xF0 pulses it too (bit 0 clear)");
	CHECK(i8042_write(&k, I8042_PORT_COMMAND, 0xfc) == I8042_EVENT_RESET, "0xFC as well");
	CHECK(i8042_write(&k, I8042_PORT_COMMAND, 0xff) == I8042_EVENT_NONE, "0xFF pulses nothing");
	CHECK(i8042_write(&k, I8042_PORT_COMMAND, 0xfd) == I8042_EVENT_NONE, "0xFD leaves bit 0 alone");
	CHECK(command(0xd0, NULL, 0, &a, 1) == 0 && (a & 0x03) == 0x03, "output port: reset inactive, A20 on (0x%02x)", a);
	i8042_write(&k, I8042_PORT_COMMAND, 0xdd);
	command(0xd0, NULL, 0, &a, 1);
	CHECK(!(a & I8042_OUT_A20), "0xDD turns A20 off");
	i8042_write(&k, I8042_PORT_COMMAND, 0xdf);
	command(0xd0, NULL, 0, &a, 1);
	CHECK(a & I8042_OUT_A20, "0xDF turns it on");
	i8042_write(&k, I8042_PORT_COMMAND, 0xd1);
	CHECK(i8042_write(&k, I8042_PORT_DATA, 0x03) == I8042_EVENT_NONE, "output port 0x03: no reset");
	i8042_write(&k, I8042_PORT_COMMAND, 0xd1);
	CHECK(i8042_write(&k, I8042_PORT_DATA, 0x02) == I8042_EVENT_RESET, "output port with bit 0 clear resets");
	CHECK(i8042_write(&k, I8042_PORT_DATA, 0x02) == I8042_EVENT_NONE, "the next data byte goes to the keyboard");
	CHECK(i8042_read(&k, 0x61) == 0xff, "a port not ours reads 0xff");
}

int main(void)
{
	test_linux_probe();
	test_queue_and_irqs();
	test_reset();
	return unit_done();
}
