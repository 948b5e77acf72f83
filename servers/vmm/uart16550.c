/*
 * The 16550A UART model: see uart16550.h for the register map and for
 * what "no wire, no clock" means here.
 *
 * How the pieces fit:
 *  - The receiver is a ring of up to 16 bytes (1 in non-FIFO mode).
 *    Bytes come from the host (uart_receive) or, in loopback mode, from
 *    the guest's own THR writes.  LSR.DR says "not empty".
 *  - The transmitter has nothing to wait for: a THR write leaves at
 *    once, so LSR.THRE and LSR.TEMT are always set.
 *  - The interrupt identification (IIR) is computed from the state on
 *    every look, by priority: line status, received data, THR empty,
 *    modem status.  Only the THR-empty interrupt needs a latch of its
 *    own (thre_pending), because it is an event, not a condition.
 *  - The interrupt pin is the IIR's "pending" bit gated by MCR.OUT2,
 *    as on a PC, where OUT2 enables the buffer between the UART and the
 *    interrupt controller.
 *
 * Only <stdint.h>/<stddef.h>: no library calls, so it runs anywhere.
 */
#include "uart16550.h"

/* The lines a connected terminal presents when not in loopback: it is
 * "clear to send", "data set ready" and "carrier detected", so drivers
 * that look at the modem lines think the line is up.  No ring. */
#define CONNECTED_LINES (UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD)

/* Divisor at reset.  The datasheet leaves it undefined; 12 is 9600 baud
 * with the PC's 1.8432 MHz clock, a common firmware setting.  Nothing
 * depends on it. */
#define RESET_DIVISOR 12

static int fifo_enabled(const struct uart16550 *u)
{
	return (u->fcr & UART_FCR_ENABLE) != 0;
}

static int loopback(const struct uart16550 *u)
{
	return (u->mcr & UART_MCR_LOOP) != 0;
}

/* How many bytes the receiver can hold: the FIFO, or just RBR. */
static unsigned rx_capacity(const struct uart16550 *u)
{
	return fifo_enabled(u) ? UART_RX_FIFO_SIZE : 1;
}

/* The receive FIFO trigger level chosen by FCR bits 6-7. */
static unsigned rx_trigger(const struct uart16550 *u)
{
	static const uint8_t levels[4] = { 1, 4, 8, 14 };

	if (!fifo_enabled(u))
		return 1;  /* 16450 mode: interrupt on every byte */
	return levels[(u->fcr & UART_FCR_TRIG_MASK) >> 6];
}

/*
 * Modem status lines (MSR bits 4-7) as the UART sees them now.  In
 * loopback mode the modem control outputs are wired back to the inputs
 * inside the chip: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD.
 */
static uint8_t modem_lines(const struct uart16550 *u)
{
	uint8_t lines = 0;

	if (!loopback(u))
		return CONNECTED_LINES;
	if (u->mcr & UART_MCR_RTS)
		lines |= UART_MSR_CTS;
	if (u->mcr & UART_MCR_DTR)
		lines |= UART_MSR_DSR;
	if (u->mcr & UART_MCR_OUT1)
		lines |= UART_MSR_RI;
	if (u->mcr & UART_MCR_OUT2)
		lines |= UART_MSR_DCD;
	return lines;
}

/* Record in MSR's delta bits how the lines changed from `before`. */
static void note_line_changes(struct uart16550 *u, uint8_t before)
{
	uint8_t now = modem_lines(u);
	uint8_t changed = before ^ now;

	if (changed & UART_MSR_CTS)
		u->msr_delta |= UART_MSR_DCTS;
	if (changed & UART_MSR_DSR)
		u->msr_delta |= UART_MSR_DDSR;
	/* Ring indicator: only its trailing edge (on -> off) counts. */
	if ((before & UART_MSR_RI) && !(now & UART_MSR_RI))
		u->msr_delta |= UART_MSR_TERI;
	if (changed & UART_MSR_DCD)
		u->msr_delta |= UART_MSR_DDCD;
}

/*
 * The interrupt the UART reports now, as IIR bits 0-3, without side
 * effects.  Each source counts only when its IER bit is set; the
 * highest-priority one wins.
 */
static uint8_t pending_interrupt(const struct uart16550 *u)
{
	/* 1. Receiver line status: an error waits in LSR (here only OE). */
	if ((u->ier & UART_IER_ELSI) && u->overrun)
		return UART_IIR_LSR;

	/* 2. Received data.  At or above the trigger level it is "data
	 * available".  Below it, a real 16550A raises a "character
	 * timeout" once no byte has arrived for four character times, so
	 * that a few bytes do not sit in the FIFO for ever.  This model
	 * has no clock and every uart_receive() is a complete burst, so
	 * by the time the guest looks the line has always gone quiet: the
	 * timeout is reported at once.  (Linux programs a trigger level
	 * of 8; without the timeout a single key press would never
	 * interrupt it.) */
	if ((u->ier & UART_IER_ERBFI) && u->rx_count > 0)
		return u->rx_count >= rx_trigger(u) ? UART_IIR_RDA
						    : UART_IIR_TIMEOUT;

	/* 3. Transmitter holding register empty (an event, see header). */
	if ((u->ier & UART_IER_ETBEI) && u->thre_pending)
		return UART_IIR_THRE;

	/* 4. Modem status: a line changed since MSR was last read. */
	if ((u->ier & UART_IER_EDSSI) && u->msr_delta)
		return UART_IIR_MSR;

	return UART_IIR_NO_INT;
}

void uart_flush(struct uart16550 *u)
{
	size_t n = u->out_len;

	if (n == 0)
		return;
	u->out_len = 0;
	if (u->out)
		u->out(u->ctx, u->out_buf, n);
}

/* Put one received byte in the FIFO; if it is full the byte is lost
 * and that is an overrun.  Returns 1 if the byte was kept. */
static int rx_push(struct uart16550 *u, uint8_t byte)
{
	if (u->rx_count >= rx_capacity(u)) {
		u->overrun = 1;
		return 0;
	}
	u->rx_fifo[(u->rx_head + u->rx_count) % UART_RX_FIFO_SIZE] = byte;
	u->rx_count++;
	return 1;
}

static void rx_clear(struct uart16550 *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

/* A byte leaves through THR: to the host, or back to our own receiver
 * in loopback mode (where the serial output pin is held idle). */
static void transmit(struct uart16550 *u, uint8_t byte)
{
	if (loopback(u)) {
		rx_push(u, byte);
	} else {
		u->out_buf[u->out_len++] = byte;
		if (byte == '\n' || u->out_len == UART_OUT_BUF_SIZE)
			uart_flush(u);
	}
	/* Sending is instantaneous, so THR is empty again at once and
	 * that is a new "THR empty" event. */
	u->thre_pending = 1;
}

void uart_init(struct uart16550 *u, uart_output_fn out, void *ctx)
{
	/* The reset values from the datasheet; SCR is undefined there and
	 * starts at 0 here. */
	u->ier = 0;
	u->lcr = 0;
	u->mcr = 0;
	u->fcr = 0;  /* FIFOs off: 16450 mode */
	u->scr = 0;
	u->dll = RESET_DIVISOR & 0xff;
	u->dlm = RESET_DIVISOR >> 8;
	for (unsigned i = 0; i < UART_RX_FIFO_SIZE; i++)
		u->rx_fifo[i] = 0;
	rx_clear(u);
	u->rbr = 0;
	u->overrun = 0;
	/* THR is empty, but no interrupt until ETBEI is turned on. */
	u->thre_pending = 0;
	u->msr_delta = 0;
	u->out_len = 0;
	u->out = out;
	u->ctx = ctx;
}

/* IIR read: report the pending interrupt and, if that is "THR empty",
 * acknowledge it (reading IIR is how a driver clears it). */
static uint8_t read_iir(struct uart16550 *u)
{
	uint8_t id = pending_interrupt(u);

	if (id == UART_IIR_THRE)
		u->thre_pending = 0;
	return id | (fifo_enabled(u) ? UART_IIR_FIFOS : 0);
}

static uint8_t read_rbr(struct uart16550 *u)
{
	if (u->rx_count > 0) {
		u->rbr = u->rx_fifo[u->rx_head];
		u->rx_head = (uint8_t)((u->rx_head + 1) % UART_RX_FIFO_SIZE);
		u->rx_count--;
	}
	/* Empty: the register still holds the last byte read. */
	return u->rbr;
}

static uint8_t read_lsr(struct uart16550 *u)
{
	uint8_t lsr = UART_LSR_THRE | UART_LSR_TEMT;

	if (u->rx_count > 0)
		lsr |= UART_LSR_DR;
	if (u->overrun)
		lsr |= UART_LSR_OE;
	/* Error bits are cleared by reading LSR; that also ends the line
	 * status interrupt. */
	u->overrun = 0;
	return lsr;
}

static uint8_t read_msr(struct uart16550 *u)
{
	uint8_t msr = modem_lines(u) | u->msr_delta;

	/* Reading MSR acknowledges the changes (and their interrupt). */
	u->msr_delta = 0;
	return msr;
}

uint8_t uart_read(struct uart16550 *u, unsigned offset)
{
	int dlab = (u->lcr & UART_LCR_DLAB) != 0;

	switch (offset) {
	case UART_RBR:
		return dlab ? u->dll : read_rbr(u);
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR:
		return read_iir(u);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return read_lsr(u);
	case UART_MSR:
		return read_msr(u);
	case UART_SCR:
		return u->scr;
	default:
		/* Not ours: an unconnected ISA port reads all ones. */
		return 0xff;
	}
}

static void write_ier(struct uart16550 *u, uint8_t value)
{
	uint8_t old = u->ier;

	u->ier = value & UART_IER_MASK;  /* bits 4-7 do not exist */
	/* Turning ETBEI on while THR is empty raises the THR-empty
	 * interrupt at once.  Linux depends on this: it starts output by
	 * setting ETBEI and waits for the interrupt, and at start-up it
	 * checks that the interrupt comes back after ETBEI goes off and
	 * on again.  THR is always empty here. */
	if (!(old & UART_IER_ETBEI) && (u->ier & UART_IER_ETBEI))
		u->thre_pending = 1;
	/* Turning it off forgets the event; turning it on again re-arms
	 * it anyway. */
	if (!(u->ier & UART_IER_ETBEI))
		u->thre_pending = 0;
}

static void write_fcr(struct uart16550 *u, uint8_t value)
{
	if (!(value & UART_FCR_ENABLE)) {
		/* FIFOs off (16450 mode).  Changing the enable bit empties
		 * the FIFOs; the other bits are ignored when it is 0. */
		if (fifo_enabled(u))
			rx_clear(u);
		u->fcr = 0;
		return;
	}
	if (!fifo_enabled(u))
		rx_clear(u);
	if (value & UART_FCR_CLEAR_RX)
		rx_clear(u);
	/* UART_FCR_CLEAR_TX: the transmit FIFO is always empty, since
	 * bytes leave at once; bytes already sent stay sent. */
	u->fcr = value & (UART_FCR_ENABLE | UART_FCR_DMA | UART_FCR_TRIG_MASK);
}

static void write_mcr(struct uart16550 *u, uint8_t value)
{
	uint8_t before = modem_lines(u);

	u->mcr = value & UART_MCR_MASK;  /* bits 5-7 do not exist */
	/* Entering or leaving loopback, or changing an output while in
	 * it, changes what the modem status inputs see. */
	note_line_changes(u, before);
}

void uart_write(struct uart16550 *u, unsigned offset, uint8_t value)
{
	int dlab = (u->lcr & UART_LCR_DLAB) != 0;

	switch (offset) {
	case UART_THR:
		if (dlab)
			u->dll = value;
		else
			transmit(u, value);
		break;
	case UART_IER:
		if (dlab)
			u->dlm = value;
		else
			write_ier(u, value);
		break;
	case UART_FCR:
		write_fcr(u, value);
		break;
	case UART_LCR:
		/* Word length, parity, stop bits and break have no effect
		 * without a wire; DLAB switches offsets 0 and 1. */
		u->lcr = value;
		break;
	case UART_MCR:
		write_mcr(u, value);
		break;
	case UART_SCR:
		u->scr = value;
		break;
	default:
		/* LSR and MSR are read-only here (writing them is a factory
		 * test on real chips); offsets >= 8 are not ours. */
		break;
	}
}

size_t uart_rx_space(const struct uart16550 *u)
{
	/* In loopback the receiver listens to our own transmitter only. */
	if (loopback(u))
		return 0;
	return rx_capacity(u) - u->rx_count;
}

size_t uart_receive(struct uart16550 *u, const uint8_t *bytes, size_t n)
{
	size_t taken = 0;

	if (bytes == NULL || n == 0 || loopback(u))
		return 0;
	while (taken < n && rx_push(u, bytes[taken]))
		taken++;
	/* rx_push flagged the overrun if a byte did not fit; the rest are
	 * dropped with it. */
	return taken;
}

int uart_irq_level(const struct uart16550 *u)
{
	/* In loopback mode the chip holds its OUT2 pin inactive, which on
	 * a PC disconnects the interrupt line just like MCR.OUT2 = 0. */
	if (!(u->mcr & UART_MCR_OUT2) || loopback(u))
		return 0;
	return pending_interrupt(u) != UART_IIR_NO_INT;
}
