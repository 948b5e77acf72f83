/*
 * A model of the PC's keyboard controller (Intel 8042 / PS/2 controller)
 * with nothing plugged in: enough for Linux's i8042 driver to probe it
 * without long timeouts, and for the guest to reset the machine through
 * it (Linux's "kbd" reboot method, the second it tries after ACPI).
 *
 * How the VMM uses it
 * -------------------
 *  - Ports 0x60 (data) and 0x64 (status on read, command on write), byte
 *    accesses: i8042_read()/i8042_write().
 *  - i8042_write() returns I8042_EVENT_RESET when the guest pulls the CPU
 *    reset line (command 0xFE, any pulse command 0xF0-0xFF with bit 0
 *    clear, or an output port written through 0xD1 with bit 0 clear).
 *    The VMM then resets or stops the VM, as for a triple fault.
 *  - Interrupts: each byte that enters the output buffer while its
 *    interrupt is enabled in the command byte is an edge on IRQ 1
 *    (keyboard side) or IRQ 12 (auxiliary side).  After every access the
 *    VMM calls i8042_take_irqs() and pulses each line whose bit is set.
 *
 * How "no devices" looks
 * ----------------------
 *  - Keyboard port: present, with no keyboard on it.  A byte the guest
 *    sends to the keyboard (a write to 0x60 outside a command) is answered
 *    by the controller, as real ones do when the device does not clock
 *    the byte in: 0xFE in the output buffer with the time-out status bit
 *    (bit 6).  Linux's atkbd takes 0xFE as a NAK and gives up at once,
 *    so "no keyboard" costs nothing as long as the VMM delivers IRQ 1
 *    (without it each of atkbd's two commands waits about 200 ms).
 *  - Auxiliary (mouse) port: absent, shown as a port whose clock cannot
 *    be enabled: command byte bit 5 (aux disabled) stays 1 whatever is
 *    written, so Linux's i8042_check_aux() sees the enable fail and
 *    registers no AUX port, without time-outs or warnings.  The loop
 *    command 0xD3 still echoes (a controller function), so Linux does not
 *    fall back to the 0xA9 test; 0xA9 answers 0x01 ("clock line low").
 *
 * What Linux 6.1 does with it: i8042_platform_init() first asks PNP for
 * PNP0303/PNP0F13 devices.  Without them (no ACPI, or a DSDT that lists
 * none) it prints "PNP: No PS/2 controller found." and probes the ports
 * directly only if x86_platform.legacy.i8042 says "expected present":
 * that is the default, but an ACPI FADT of revision 2 or more without the
 * 8042 flag (IAPC_BOOT_ARCH bit 1) turns it into "firmware absent" and
 * the driver stops there, which is harmless.  The reboot path
 * (arch/x86/kernel/reboot.c, BOOT_KBD) does not depend on the driver: it
 * waits for status bit 1 to clear and writes 0xFE to 0x64.
 *
 * Commands: 0x20-0x3F read controller RAM (0x20: the command byte),
 * 0x60-0x7F write it, 0xA4 (password: none, 0xF1), 0xA7/0xA8 aux
 * disable/enable, 0xA9 aux test, 0xAA self-test (0x55), 0xAB keyboard
 * test (0x00), 0xAD/0xAE keyboard disable/enable, 0xC0 input port, 0xD0
 * /0xD1 output port, 0xD2/0xD3 write to the output buffer as keyboard /
 * aux data, 0xD4 write to the aux device (absent: 0xFE with time-out),
 * 0xDD/0xDF A20 off/on (stored; the VMM does not wrap at 1 MiB), 0xE0
 * test inputs, 0xF0-0xFF pulse.  Others are ignored.
 *
 * Pure state machine: no system calls, no library calls.
 */
#ifndef I8042_H
#define I8042_H

#include <stdint.h>

#define I8042_PORT_DATA    0x60
#define I8042_PORT_COMMAND 0x64  /* write; reads are the status */
#define I8042_KBD_IRQ 1
#define I8042_AUX_IRQ 12

/* Status register. */
#define I8042_STR_OBF     0x01  /* output buffer full */
#define I8042_STR_IBF     0x02  /* input buffer full: never (we are fast) */
#define I8042_STR_SYS     0x04  /* system flag, from the command byte */
#define I8042_STR_CMDDAT  0x08  /* last write was to 0x64 */
#define I8042_STR_KEYLOCK 0x10  /* 1: keyboard not inhibited */
#define I8042_STR_AUXDATA 0x20  /* the byte in the buffer is from aux */
#define I8042_STR_TIMEOUT 0x40
#define I8042_STR_PARITY  0x80

/* Command byte (controller RAM byte 0). */
#define I8042_CTR_KBDINT  0x01
#define I8042_CTR_AUXINT  0x02
#define I8042_CTR_SYS     0x04
#define I8042_CTR_KBDDIS  0x10
#define I8042_CTR_AUXDIS  0x20
#define I8042_CTR_XLATE   0x40

/* Output port (0xD0/0xD1). */
#define I8042_OUT_RESET   0x01  /* 0: the CPU is held in reset */
#define I8042_OUT_A20     0x02

/* i8042_take_irqs() bits. */
#define I8042_IRQ_KBD_BIT (1u << I8042_KBD_IRQ)
#define I8042_IRQ_AUX_BIT (1u << I8042_AUX_IRQ)

#define I8042_QUEUE 16

enum i8042_event {
	I8042_EVENT_NONE,
	I8042_EVENT_RESET,  /* the guest pulled the CPU reset line */
};

struct i8042 {
	uint8_t ram[32];           /* controller RAM; ram[0] is the command byte */
	uint8_t output_port;
	uint8_t last_was_command;  /* status bit 3 */
	uint8_t pending;           /* a command waiting for its data byte, or 0 */

	/* The output buffer and the bytes queued behind it, oldest first:
	 * each with the status bits it brings (AUXDATA, TIMEOUT). */
	uint8_t queue[I8042_QUEUE];
	uint8_t queue_flags[I8042_QUEUE];
	uint8_t head, count;
	uint8_t last_read;         /* 0x60 keeps its last byte when empty */

	unsigned irqs;             /* edges not yet taken by the VMM */
};

void i8042_init(struct i8042 *k);
uint8_t i8042_read(struct i8042 *k, unsigned port);
enum i8042_event i8042_write(struct i8042 *k, unsigned port, uint8_t value);

/* The interrupt edges since the last call (I8042_IRQ_*_BIT), cleared. */
unsigned i8042_take_irqs(struct i8042 *k);

#endif
