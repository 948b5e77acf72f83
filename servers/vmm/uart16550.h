/*
 * A model of one 16550A UART (the PC's COM port) for the VMM.
 *
 * The UART occupies 8 consecutive I/O ports.  The VMM turns each guest
 * IN/OUT on those ports into uart_read()/uart_write() with the offset
 * 0..7, feeds bytes typed on the host in with uart_receive(), and after
 * every call looks at uart_irq_level() to drive the guest's interrupt
 * line (IRQ 4 for COM1).
 *
 * This file and uart16550.c are a pure state machine: no I/O, no system
 * calls, no library calls.  They build both for the host (unit tests)
 * and freestanding (the VMM).
 *
 * There is no wire and no clock.  A byte written to THR is "sent" at
 * once, so the transmitter is always empty; the baud-rate divisor and
 * the line format (word length, parity, stop bits) are stored and read
 * back but change nothing.  Received bytes never have parity, framing
 * or break errors; the only line error that can happen is an overrun.
 *
 * Register map (offset: read / write; DLAB is LCR bit 7):
 *   0: RBR receive buffer   / THR transmit holding   (DLAB=0)
 *      DLL divisor low byte                          (DLAB=1)
 *   1: IER interrupt enable                          (DLAB=0)
 *      DLM divisor high byte                         (DLAB=1)
 *   2: IIR interrupt ident. / FCR FIFO control
 *   3: LCR line control
 *   4: MCR modem control
 *   5: LSR line status      / (ignored)
 *   6: MSR modem status     / (ignored)
 *   7: SCR scratch
 */
#ifndef UART16550_H
#define UART16550_H

#include <stddef.h>
#include <stdint.h>

/* Register offsets. */
#define UART_RBR 0  /* read, DLAB=0 */
#define UART_THR 0  /* write, DLAB=0 */
#define UART_DLL 0  /* DLAB=1 */
#define UART_IER 1  /* DLAB=0 */
#define UART_DLM 1  /* DLAB=1 */
#define UART_IIR 2  /* read */
#define UART_FCR 2  /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7
#define UART_NPORTS 8

/* IER: which events may interrupt.  Only these four bits exist. */
#define UART_IER_ERBFI 0x01  /* received data available (and timeout) */
#define UART_IER_ETBEI 0x02  /* transmitter holding register empty */
#define UART_IER_ELSI  0x04  /* receiver line status (errors) */
#define UART_IER_EDSSI 0x08  /* modem status change */
#define UART_IER_MASK  0x0f

/* IIR: bit 0 clear means "an interrupt is pending", bits 1-3 say which. */
#define UART_IIR_NO_INT  0x01
#define UART_IIR_ID_MASK 0x0e
#define UART_IIR_MSR     0x00  /* modem status (lowest priority) */
#define UART_IIR_THRE    0x02  /* transmitter holding register empty */
#define UART_IIR_RDA     0x04  /* received data at or above trigger level */
#define UART_IIR_LSR     0x06  /* receiver line status (highest priority) */
#define UART_IIR_TIMEOUT 0x0c  /* received data below trigger level */
#define UART_IIR_FIFOS   0xc0  /* both set when the FIFOs are enabled */

/* FCR (write-only). */
#define UART_FCR_ENABLE     0x01  /* enable both FIFOs */
#define UART_FCR_CLEAR_RX   0x02  /* empty the receive FIFO (self-clearing) */
#define UART_FCR_CLEAR_TX   0x04  /* empty the transmit FIFO (self-clearing) */
#define UART_FCR_DMA        0x08  /* DMA mode select: stored, no effect */
#define UART_FCR_TRIG_MASK  0xc0  /* receive trigger level: */
#define UART_FCR_TRIG_1     0x00  /*   1 byte */
#define UART_FCR_TRIG_4     0x40  /*   4 bytes */
#define UART_FCR_TRIG_8     0x80  /*   8 bytes */
#define UART_FCR_TRIG_14    0xc0  /*  14 bytes */

/* LCR. */
#define UART_LCR_WLEN_MASK 0x03  /* word length 5..8 bits */
#define UART_LCR_STOP      0x04
#define UART_LCR_PARITY    0x38
#define UART_LCR_BREAK     0x40
#define UART_LCR_DLAB      0x80  /* divisor latch access */

/* MCR: only these five bits exist. */
#define UART_MCR_DTR  0x01
#define UART_MCR_RTS  0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08  /* on a PC: gates the interrupt line */
#define UART_MCR_LOOP 0x10  /* loopback (diagnostic) mode */
#define UART_MCR_MASK 0x1f

/* LSR. */
#define UART_LSR_DR     0x01  /* data ready */
#define UART_LSR_OE     0x02  /* overrun error */
#define UART_LSR_PE     0x04  /* parity error (never happens here) */
#define UART_LSR_FE     0x08  /* framing error (never happens here) */
#define UART_LSR_BI     0x10  /* break (never happens here) */
#define UART_LSR_THRE   0x20  /* transmitter holding register empty */
#define UART_LSR_TEMT   0x40  /* transmitter completely empty */
#define UART_LSR_RXFERR 0x80  /* error in the receive FIFO (never here) */

/* MSR: bits 0-3 say "changed since the last MSR read", 4-7 the lines now. */
#define UART_MSR_DCTS 0x01
#define UART_MSR_DDSR 0x02
#define UART_MSR_TERI 0x04  /* RI went from on to off */
#define UART_MSR_DDCD 0x08
#define UART_MSR_CTS  0x10
#define UART_MSR_DSR  0x20
#define UART_MSR_RI   0x40
#define UART_MSR_DCD  0x80

#define UART_RX_FIFO_SIZE 16  /* the 16550A's receive FIFO */
#define UART_OUT_BUF_SIZE 256 /* host-side output buffering: a whole line of a Linux boot log */

/* Called with bytes the guest transmitted (never in loopback mode). */
typedef void (*uart_output_fn)(void *ctx, const uint8_t *bytes, size_t n);

/*
 * All the state of one UART.  The fields are public only so that the
 * VMM can embed the struct; change them through the functions below.
 */
struct uart16550 {
	/* Registers as the guest programmed them. */
	uint8_t ier;        /* bits 0-3 */
	uint8_t lcr;
	uint8_t mcr;        /* bits 0-4 */
	uint8_t fcr;        /* enable, DMA and trigger bits as last written */
	uint8_t scr;
	uint8_t dll, dlm;   /* divisor latch */

	/* Receiver: a ring of received bytes, oldest at rx_head.  In
	 * non-FIFO (16450) mode it holds at most one byte, the RBR. */
	uint8_t rx_fifo[UART_RX_FIFO_SIZE];
	uint8_t rx_head;
	uint8_t rx_count;
	uint8_t rbr;        /* the last byte read; RBR keeps it when empty */
	uint8_t overrun;    /* LSR.OE: bytes were lost; cleared by LSR read */

	/* The "THR empty" interrupt is an event, not a level: it is
	 * pending from when THR empties (or ETBEI is turned on with THR
	 * empty) until the guest reads IIR reporting it or writes THR. */
	uint8_t thre_pending;

	/* MSR bits 0-3: which modem lines changed since MSR was read. */
	uint8_t msr_delta;

	/* Output not yet handed to `out`. */
	uint8_t out_buf[UART_OUT_BUF_SIZE];
	size_t out_len;
	uart_output_fn out;
	void *ctx;
};

/* Reset the UART (power-on state).  `out` may be NULL: output is then
 * discarded. */
void uart_init(struct uart16550 *u, uart_output_fn out, void *ctx);

/* A guest access to port offset 0..7 (size 1; wider accesses: the VMM
 * splits them).  Offsets >= 8 read 0xff and ignore writes. */
uint8_t uart_read(struct uart16550 *u, unsigned offset);
void uart_write(struct uart16550 *u, unsigned offset, uint8_t value);

/* Host input: bytes typed for the guest.  Returns how many were taken
 * into the receive FIFO (16 bytes; 1 in non-FIFO mode).  Bytes that do
 * not fit are an overrun: LSR.OE is set and the UART drops them.  In
 * loopback mode the receiver is disconnected from the line: nothing is
 * taken, 0 is returned and no overrun is flagged, so the caller may
 * offer those bytes again later. */
size_t uart_receive(struct uart16550 *u, const uint8_t *bytes, size_t n);

/* How many bytes uart_receive() would take now.  A VMM that never
 * offers more than this never causes an overrun. */
size_t uart_rx_space(const struct uart16550 *u);

/* The interrupt line level the UART drives now (1: asserted): an
 * enabled interrupt is pending (IIR bit 0 clear), MCR.OUT2 is set and
 * loopback mode is off. */
int uart_irq_level(const struct uart16550 *u);

/* Output is buffered and flushed to `out` at newline or when 64 bytes
 * are pending, and on uart_flush. */
void uart_flush(struct uart16550 *u);

#endif
