/*
 * The keyboard controller model: see i8042.h for the ports, the commands
 * and how "nothing plugged in" is presented.
 *
 * The controller answers every command at once, so the input buffer is
 * never full (status bit 1 stays 0) and the guest never waits on it.
 * Answers go through the output buffer, which on the chip holds one
 * byte; a short queue behind it keeps answers that arrive while the
 * guest has not read the previous one (the guest sees them one by one).
 *
 * Only <stdint.h>: no library calls, so it runs anywhere.
 */
#include "i8042.h"

/* As firmware leaves it: translation on, system flag set (POST passed),
 * keyboard interrupt on, aux disabled (and it stays so, see the
 * header). */
#define CTR_RESET (I8042_CTR_XLATE | I8042_CTR_AUXDIS | I8042_CTR_SYS | I8042_CTR_KBDINT)
/* Bits of the command byte that exist. */
#define CTR_MASK 0x77

/* Answers. */
#define SELF_TEST_OK   0x55
#define PORT_TEST_OK   0x00
#define AUX_CLOCK_LOW  0x01
#define NO_PASSWORD    0xf1
#define DEVICE_NAK     0xfe
/* The input port: bit 7 keyboard not inhibited. */
#define INPUT_PORT     0x80
/* Output port bits 2-3 and 6-7 (keyboard clock and data) read 1. */
#define OUTPUT_PORT_ONES 0xcc

static uint8_t ctr(const struct i8042 *k)
{
	return k->ram[0];
}

static void set_ctr(struct i8042 *k, uint8_t v)
{
	/* The auxiliary port cannot be enabled: there is none. */
	k->ram[0] = (uint8_t)((v & CTR_MASK) | I8042_CTR_AUXDIS);
}

/* Is the byte now in the output buffer one whose interrupt is enabled?
 * Returns the IRQ bit it drives, or 0. */
static unsigned buffer_irq(const struct i8042 *k)
{
	if (k->count == 0)
		return 0;
	if (k->queue_flags[k->head] & I8042_STR_AUXDATA)
		return (ctr(k) & I8042_CTR_AUXINT) ? I8042_IRQ_AUX_BIT : 0;
	return (ctr(k) & I8042_CTR_KBDINT) ? I8042_IRQ_KBD_BIT : 0;
}

/* A byte enters the queue; if it goes straight into the empty output
 * buffer it may interrupt. */
static void put_output(struct i8042 *k, uint8_t byte, uint8_t flags)
{
	if (k->count == I8042_QUEUE)
		return;  /* the guest is not reading: drop, as an overrun */
	k->queue[(k->head + k->count) % I8042_QUEUE] = byte;
	k->queue_flags[(k->head + k->count) % I8042_QUEUE] = flags;
	k->count++;
	if (k->count == 1)
		k->irqs |= buffer_irq(k);
}

void i8042_init(struct i8042 *k)
{
	for (unsigned i = 0; i < sizeof(k->ram); i++)
		k->ram[i] = 0;
	set_ctr(k, CTR_RESET);
	k->output_port = I8042_OUT_RESET | I8042_OUT_A20;
	k->last_was_command = 0;
	k->pending = 0;
	k->head = k->count = 0;
	k->last_read = 0;
	k->irqs = 0;
}

static uint8_t status(const struct i8042 *k)
{
	uint8_t s = I8042_STR_KEYLOCK;

	if (ctr(k) & I8042_CTR_SYS)
		s |= I8042_STR_SYS;
	if (k->last_was_command)
		s |= I8042_STR_CMDDAT;
	if (k->count) {
		s |= I8042_STR_OBF;
		s |= k->queue_flags[k->head] & (I8042_STR_AUXDATA | I8042_STR_TIMEOUT);
	}
	return s;
}

static uint8_t read_data(struct i8042 *k)
{
	if (k->count) {
		k->last_read = k->queue[k->head];
		k->head = (uint8_t)((k->head + 1) % I8042_QUEUE);
		k->count--;
		/* The next byte moves into the buffer: a new interrupt. */
		k->irqs |= buffer_irq(k);
	}
	return k->last_read;
}

uint8_t i8042_read(struct i8042 *k, unsigned port)
{
	if (port == I8042_PORT_DATA)
		return read_data(k);
	if (port == I8042_PORT_COMMAND)
		return status(k);
	return 0xff;
}

static uint8_t output_port(const struct i8042 *k)
{
	uint8_t v = (uint8_t)(k->output_port | OUTPUT_PORT_ONES);

	if (buffer_irq(k) == I8042_IRQ_KBD_BIT)
		v |= 0x10;  /* output buffer full, keyboard */
	if (buffer_irq(k) == I8042_IRQ_AUX_BIT)
		v |= 0x20;  /* output buffer full, aux */
	return v;
}

/* A command written to 0x64. */
static enum i8042_event command(struct i8042 *k, uint8_t cmd)
{
	k->pending = 0;
	if (cmd >= 0x20 && cmd <= 0x3f) {
		put_output(k, k->ram[cmd - 0x20], 0);
		return I8042_EVENT_NONE;
	}
	if (cmd >= 0x60 && cmd <= 0x7f) {
		k->pending = cmd;
		return I8042_EVENT_NONE;
	}
	if (cmd >= 0xf0) {
		/* Pulse output port bits 0-3 low where cmd has a 0: bit 0
		 * is the CPU's reset line. */
		return (cmd & 0x01) ? I8042_EVENT_NONE : I8042_EVENT_RESET;
	}
	switch (cmd) {
	case 0xa4:
		put_output(k, NO_PASSWORD, 0);
		break;
	case 0xa7:
		set_ctr(k, ctr(k) | I8042_CTR_AUXDIS);
		break;
	case 0xa8:
		/* no aux port: stays disabled */
		break;
	case 0xa9:
		put_output(k, AUX_CLOCK_LOW, 0);
		break;
	case 0xaa:
		put_output(k, SELF_TEST_OK, 0);
		break;
	case 0xab:
		put_output(k, PORT_TEST_OK, 0);
		break;
	case 0xad:
		set_ctr(k, ctr(k) | I8042_CTR_KBDDIS);
		break;
	case 0xae:
		set_ctr(k, ctr(k) & ~I8042_CTR_KBDDIS);
		break;
	case 0xc0:
		put_output(k, INPUT_PORT, 0);
		break;
	case 0xd0:
		put_output(k, output_port(k), 0);
		break;
	case 0xd1: case 0xd2: case 0xd3: case 0xd4:
		k->pending = cmd;
		break;
	case 0xdd:
		k->output_port &= ~I8042_OUT_A20;
		break;
	case 0xdf:
		k->output_port |= I8042_OUT_A20;
		break;
	case 0xe0:
		put_output(k, 0x00, 0);
		break;
	default:
		break;  /* not a command this controller knows: ignored */
	}
	return I8042_EVENT_NONE;
}

/* A byte written to 0x60: a command's data, or a byte for the keyboard. */
static enum i8042_event data(struct i8042 *k, uint8_t value)
{
	uint8_t cmd = k->pending;

	k->pending = 0;
	if (cmd >= 0x60 && cmd <= 0x7f) {
		if (cmd == 0x60) {
			unsigned before = buffer_irq(k);
			set_ctr(k, value);
			/* Turning an interrupt on with a byte waiting raises
			 * the line. */
			if (!before)
				k->irqs |= buffer_irq(k);
		} else {
			k->ram[cmd - 0x60] = value;
		}
		return I8042_EVENT_NONE;
	}
	switch (cmd) {
	case 0xd1:
		k->output_port = value & (I8042_OUT_RESET | I8042_OUT_A20);
		if (!(value & I8042_OUT_RESET)) {
			k->output_port |= I8042_OUT_RESET;  /* after the reset */
			return I8042_EVENT_RESET;
		}
		return I8042_EVENT_NONE;
	case 0xd2:
		put_output(k, value, 0);
		return I8042_EVENT_NONE;
	case 0xd3:
		put_output(k, value, I8042_STR_AUXDATA);
		return I8042_EVENT_NONE;
	case 0xd4:
		/* to the aux device, which is not there */
		put_output(k, DEVICE_NAK, I8042_STR_AUXDATA | I8042_STR_TIMEOUT);
		return I8042_EVENT_NONE;
	default:
		/* To the keyboard, which is not there either.  Sending to
		 * it enables its interface, as on the chip. */
		set_ctr(k, ctr(k) & ~I8042_CTR_KBDDIS);
		put_output(k, DEVICE_NAK, I8042_STR_TIMEOUT);
		return I8042_EVENT_NONE;
	}
}

enum i8042_event i8042_write(struct i8042 *k, unsigned port, uint8_t value)
{
	if (port == I8042_PORT_COMMAND) {
		k->last_was_command = 1;
		return command(k, value);
	}
	if (port == I8042_PORT_DATA) {
		k->last_was_command = 0;
		return data(k, value);
	}
	return I8042_EVENT_NONE;
}

unsigned i8042_take_irqs(struct i8042 *k)
{
	unsigned irqs = k->irqs;

	k->irqs = 0;
	return irqs;
}
