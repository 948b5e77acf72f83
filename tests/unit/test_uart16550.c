/* Host unit tests for servers/vmm/uart16550.c: the 16550A UART model
 * the VMM gives its guests.  The tests play the guest (port reads and
 * writes) and the host (input bytes, the output callback, the
 * interrupt line), including the sequences Linux's 8250 driver uses to
 * probe the chip and to drive its transmit interrupt. */
// unit-under-test: servers/vmm/uart16550.c
#include <stdint.h>
#include <string.h>
#include "unit.h"
#include "../../servers/vmm/uart16550.h"

/* --- the host side: an output callback that records what it got ----- */

struct sink {
	uint8_t data[4096];
	size_t len;
	unsigned calls;
	size_t last_n;   /* size of the most recent chunk */
};

static void sink_out(void *ctx, const uint8_t *bytes, size_t n)
{
	struct sink *s = ctx;

	for (size_t i = 0; i < n && s->len < sizeof(s->data); i++)
		s->data[s->len++] = bytes[i];
	s->calls++;
	s->last_n = n;
}

static int sink_is(const struct sink *s, const char *text)
{
	size_t n = strlen(text);

	return s->len == n && memcmp(s->data, text, n) == 0;
}

static void setup(struct uart16550 *u, struct sink *s)
{
	memset(s, 0, sizeof(*s));
	memset(u, 0, sizeof(*u));
	uart_init(u, sink_out, s);
}

/* --- small guest helpers ------------------------------------------- */

static uint8_t in(struct uart16550 *u, unsigned reg)
{
	return uart_read(u, reg);
}

static void out(struct uart16550 *u, unsigned reg, uint8_t v)
{
	uart_write(u, reg, v);
}

static void receive_str(struct uart16550 *u, const char *text)
{
	uart_receive(u, (const uint8_t *)text, strlen(text));
}

/* ------------------------------------------------------------------- */

static void test_reset(void)
{
	struct uart16550 u;
	struct sink s;

	setup(&u, &s);
	CHECK(in(&u, UART_IER) == 0x00, "reset: IER = 0 (no interrupts)");
	CHECK(in(&u, UART_IIR) == 0x01, "reset: IIR = 0x01 (none pending, FIFOs off)");
	CHECK(in(&u, UART_LCR) == 0x00, "reset: LCR = 0");
	CHECK(in(&u, UART_MCR) == 0x00, "reset: MCR = 0");
	CHECK(in(&u, UART_LSR) == 0x60, "reset: LSR = 0x60 (THRE, TEMT; no data)");
	CHECK(in(&u, UART_MSR) == 0xb0, "reset: MSR = 0xb0 (CTS, DSR, DCD on; no deltas)");
	CHECK(in(&u, UART_SCR) == 0x00, "reset: SCR = 0");
	CHECK(in(&u, UART_RBR) == 0x00, "reset: RBR = 0");
	CHECK(!(in(&u, UART_LSR) & UART_LSR_DR), "reset: reading empty RBR leaves DR clear");
	out(&u, UART_LCR, UART_LCR_DLAB);
	CHECK(in(&u, UART_DLL) == 12 && in(&u, UART_DLM) == 0,
	      "reset: divisor = 12 (9600 baud)");
	CHECK(uart_irq_level(&u) == 0, "reset: interrupt line low");
	CHECK(uart_rx_space(&u) == 1, "reset: FIFOs off, receiver holds one byte");
	CHECK(s.calls == 0, "reset: nothing output");
}

static void test_dlab(void)
{
	struct uart16550 u;
	struct sink s;

	setup(&u, &s);
	out(&u, UART_IER, 0x05);
	out(&u, UART_LCR, 0x83);  /* DLAB + 8 data bits */
	CHECK(in(&u, UART_LCR) == 0x83, "LCR reads back what was written");
	out(&u, UART_DLL, 0x01);
	out(&u, UART_DLM, 0x02);
	CHECK(in(&u, UART_DLL) == 0x01 && in(&u, UART_DLM) == 0x02,
	      "DLAB=1: offsets 0/1 are the divisor latch");
	uart_flush(&u);
	CHECK(s.calls == 0, "DLAB=1: writing DLL transmits nothing");
	out(&u, UART_DLM, 0xff);
	CHECK(in(&u, UART_DLM) == 0xff, "DLM takes all 8 bits");

	uart_receive(&u, (const uint8_t *)"z", 1);
	CHECK(in(&u, UART_RBR) == 0x01, "DLAB=1: offset 0 reads DLL, not the received byte");
	CHECK(in(&u, UART_LSR) & UART_LSR_DR, "DLAB=1: reading DLL does not consume data");
	CHECK((in(&u, UART_IIR) & 0x0f) == UART_IIR_RDA,
	      "DLAB=1: IIR is still readable at offset 2");

	out(&u, UART_LCR, 0x03);
	CHECK(in(&u, UART_IER) == 0x05, "DLAB=0: IER untouched by DLM writes");
	CHECK(in(&u, UART_RBR) == 'z', "DLAB=0: offset 0 is RBR again");
	out(&u, UART_THR, 'q');
	uart_flush(&u);
	CHECK(sink_is(&s, "q"), "DLAB=0: offset 0 write is THR");
	out(&u, UART_LCR, 0x83);
	CHECK(in(&u, UART_DLL) == 0x01 && in(&u, UART_DLM) == 0xff,
	      "divisor kept while DLAB was 0");
}

static void test_output(void)
{
	struct uart16550 u;
	struct sink s;

	setup(&u, &s);
	out(&u, UART_THR, 'a');
	out(&u, UART_THR, 'b');
	CHECK(s.calls == 0, "output is buffered until a newline");
	out(&u, UART_THR, '\n');
	CHECK(s.calls == 1 && sink_is(&s, "ab\n"), "newline flushes, including itself");

	setup(&u, &s);
	for (int i = 0; i < UART_OUT_BUF_SIZE - 1; i++)
		out(&u, UART_THR, 'x');
	CHECK(s.calls == 0, "%d pending bytes stay buffered", UART_OUT_BUF_SIZE - 1);
	out(&u, UART_THR, 'y');
	CHECK(s.calls == 1 && s.last_n == UART_OUT_BUF_SIZE && s.data[UART_OUT_BUF_SIZE - 1] == 'y',
	      "a full buffer (%d bytes) flushes all of it", UART_OUT_BUF_SIZE);
	out(&u, UART_THR, 'z');
	CHECK(s.calls == 1, "buffering starts again after a flush");
	uart_flush(&u);
	CHECK(s.calls == 2 && s.last_n == 1 && s.data[UART_OUT_BUF_SIZE] == 'z', "uart_flush sends the rest");
	uart_flush(&u);
	CHECK(s.calls == 2, "uart_flush with nothing pending does not call out");

	/* Every byte value goes out unchanged, whatever LCR's word length
	 * says (LCR = 0, five bits, is the reset value and guests that
	 * skip initialisation must still be heard). */
	setup(&u, &s);
	for (int i = 0; i < 256; i++)
		out(&u, UART_THR, (uint8_t)i);
	uart_flush(&u);
	int same = s.len == 256;
	for (int i = 0; same && i < 256; i++)
		same = s.data[i] == i;
	CHECK(same, "all 256 byte values are transmitted unchanged");
	CHECK(in(&u, UART_LSR) == 0x60, "LSR: THRE and TEMT stay set after writes");

	/* No callback: output is dropped, nothing breaks. */
	uart_init(&u, NULL, NULL);
	for (int i = 0; i < 200; i++)
		out(&u, UART_THR, 'n');
	out(&u, UART_THR, '\n');
	uart_flush(&u);
	CHECK(u.out_len == 0, "NULL output callback: bytes discarded");
}

static void test_rx_fifo(void)
{
	struct uart16550 u;
	struct sink s;
	uint8_t buf[32];

	setup(&u, &s);
	out(&u, UART_FCR, UART_FCR_ENABLE);
	CHECK(uart_rx_space(&u) == 16, "FIFO mode: 16 bytes of room");
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)(0xa0 + i);
	CHECK(uart_receive(&u, buf, 10) == 10, "10 bytes fit");
	CHECK(uart_rx_space(&u) == 6, "6 bytes of room left");
	CHECK(in(&u, UART_LSR) == (UART_LSR_DR | UART_LSR_THRE | UART_LSR_TEMT),
	      "LSR: DR set, no overrun yet");
	CHECK(uart_receive(&u, buf + 10, 10) == 6, "only 6 of the next 10 fit");
	CHECK(in(&u, UART_LSR) & UART_LSR_OE, "LSR.OE set by the overrun");
	CHECK(!(in(&u, UART_LSR) & UART_LSR_OE), "reading LSR cleared OE");
	CHECK(uart_receive(&u, buf, 1) == 0, "full FIFO takes nothing");
	CHECK(in(&u, UART_LSR) & UART_LSR_OE, "offering to a full FIFO is an overrun too");

	int order = 1;
	for (int i = 0; i < 16; i++)
		order &= in(&u, UART_RBR) == 0xa0 + i;
	CHECK(order, "bytes come out in order; the excess was dropped");
	CHECK(!(in(&u, UART_LSR) & UART_LSR_DR), "DR clear once the FIFO is empty");
	CHECK(in(&u, UART_RBR) == 0xaf, "empty RBR still reads the last byte");
	CHECK(!(in(&u, UART_LSR) & UART_LSR_DR), "and that read invents no data");

	/* The ring wraps around correctly. */
	int wrap = 1;
	for (int round = 0; round < 5; round++) {
		CHECK(uart_receive(&u, buf, 11) == 11, "round %d: 11 bytes in", round);
		for (int i = 0; i < 11; i++)
			wrap &= in(&u, UART_RBR) == buf[i];
	}
	CHECK(wrap, "ring buffer keeps order across wrap-around");

	CHECK(uart_receive(&u, NULL, 5) == 0, "NULL bytes: nothing taken");
	CHECK(uart_receive(&u, buf, 0) == 0, "zero bytes: nothing taken");
	CHECK(!(in(&u, UART_LSR) & (UART_LSR_OE | UART_LSR_DR)),
	      "and neither is an overrun");

	/* 16450 mode: the receiver is one byte deep. */
	setup(&u, &s);
	CHECK(uart_receive(&u, (const uint8_t *)"xy", 2) == 1, "FIFOs off: one byte fits");
	CHECK(in(&u, UART_LSR) == 0x63, "LSR: DR and OE");
	CHECK(in(&u, UART_RBR) == 'x', "the first byte was kept");
	CHECK(uart_receive(&u, (const uint8_t *)"y", 1) == 1, "room again after the read");
	CHECK(in(&u, UART_RBR) == 'y', "next byte");
}

/* Everything the IIR can report, one at a time and then all at once. */
static void test_iir_sources(void)
{
	struct uart16550 u;
	struct sink s;
	uint8_t sixteen[16] = { 0 };

	/* Line status: an overrun with ELSI on. */
	setup(&u, &s);
	out(&u, UART_FCR, UART_FCR_ENABLE | UART_FCR_TRIG_14);
	out(&u, UART_IER, UART_IER_ELSI);
	uart_receive(&u, sixteen, 16);
	CHECK(in(&u, UART_IIR) == 0xc1, "full FIFO without overrun: no line status interrupt");
	uart_receive(&u, sixteen, 1);
	CHECK(in(&u, UART_IIR) == 0xc6, "overrun: IIR = line status (0xc6)");
	CHECK(in(&u, UART_IIR) == 0xc6, "reading IIR does not clear it");
	in(&u, UART_LSR);
	CHECK(in(&u, UART_IIR) == 0xc1, "reading LSR clears it");

	/* Received data. */
	setup(&u, &s);
	out(&u, UART_IER, UART_IER_ERBFI);
	uart_receive(&u, (const uint8_t *)"k", 1);
	CHECK(in(&u, UART_IIR) == 0x04, "FIFOs off, 1 byte: IIR = data available (0x04)");
	in(&u, UART_RBR);
	CHECK(in(&u, UART_IIR) == 0x01, "reading the byte clears it");

	/* THR empty. */
	setup(&u, &s);
	out(&u, UART_IER, UART_IER_ETBEI);
	CHECK(in(&u, UART_IIR) == 0x02, "ETBEI on with THR empty: IIR = THRE (0x02)");
	CHECK(in(&u, UART_IIR) == 0x01, "the IIR read that reported it cleared it");

	/* Modem status. */
	setup(&u, &s);
	out(&u, UART_IER, UART_IER_EDSSI);
	CHECK(in(&u, UART_IIR) == 0x01, "no line change: no modem status interrupt");
	out(&u, UART_MCR, UART_MCR_LOOP);  /* CTS, DSR, DCD drop */
	CHECK(in(&u, UART_IIR) == 0x00, "a line changed: IIR = modem status (0x00)");
	CHECK(in(&u, UART_MSR) == (UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD),
	      "MSR shows which lines changed");
	CHECK(in(&u, UART_IIR) == 0x01, "reading MSR clears it");

	/* A source whose enable bit is off is never reported. */
	setup(&u, &s);
	out(&u, UART_FCR, UART_FCR_ENABLE);
	out(&u, UART_MCR, UART_MCR_LOOP);
	for (int i = 0; i < 17; i++)
		out(&u, UART_THR, 'p');
	CHECK(in(&u, UART_IIR) == 0xc1, "IER = 0: nothing reported although all four happened");

	/* All four at once: priority line status > data > THRE > modem. */
	setup(&u, &s);
	out(&u, UART_FCR, UART_FCR_ENABLE);
	out(&u, UART_IER, UART_IER_MASK);
	out(&u, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
	for (int i = 0; i < 17; i++)   /* loops back: 16 kept, 1 overrun */
		out(&u, UART_THR, (uint8_t)i);
	CHECK(in(&u, UART_IIR) == 0xc6, "priority 1: line status");
	CHECK(in(&u, UART_LSR) == 0x63, "LSR: DR, OE, THRE, TEMT");
	CHECK(in(&u, UART_IIR) == 0xc4, "priority 2: received data");
	for (int i = 0; i < 16; i++)
		in(&u, UART_RBR);
	CHECK(in(&u, UART_IIR) == 0xc2, "priority 3: THR empty (then cleared by this read)");
	CHECK(in(&u, UART_IIR) == 0xc0, "priority 4: modem status");
	in(&u, UART_MSR);
	CHECK(in(&u, UART_IIR) == 0xc1, "nothing left");

	/* A higher-priority report does not acknowledge THRE. */
	setup(&u, &s);
	out(&u, UART_IER, UART_IER_ERBFI | UART_IER_ETBEI);
	uart_receive(&u, (const uint8_t *)"d", 1);
	CHECK(in(&u, UART_IIR) == 0x04, "data hides THRE");
	in(&u, UART_RBR);
	CHECK(in(&u, UART_IIR) == 0x02, "THRE still pending after the data was read");

	/* IIR bits 4 and 5 are always 0 on a 16550A (bit 5 would claim a
	 * 64-byte 16750 FIFO). */
	setup(&u, &s);
	out(&u, UART_FCR, 0x21 | UART_FCR_TRIG_14);
	CHECK((in(&u, UART_IIR) & 0x30) == 0, "IIR bits 4-5 read 0");
}

/* The THR-empty interrupt, as Linux's 8250 driver uses it. */
static void test_thre_lifecycle(void)
{
	struct uart16550 u;
	struct sink s;

	setup(&u, &s);
	out(&u, UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);

	/* serial8250_startup: "do we get THRE when we enable it?" */
	out(&u, UART_IER, UART_IER_ETBEI);
	uint8_t lsr = in(&u, UART_LSR);
	uint8_t iir = in(&u, UART_IIR);
	out(&u, UART_IER, 0);
	CHECK((lsr & UART_LSR_TEMT) && !(iir & UART_IIR_NO_INT),
	      "startup TXEN test: THRE reported on enabling ETBEI");

	/* "Is THRE re-asserted after being cleared, when ETBEI goes off
	 * and on again?" */
	out(&u, UART_IER, UART_IER_ETBEI);
	uint8_t iir1 = in(&u, UART_IIR);
	out(&u, UART_IER, 0);
	out(&u, UART_IER, UART_IER_ETBEI);
	iir = in(&u, UART_IIR);
	out(&u, UART_IER, 0);
	CHECK(!(iir1 & UART_IIR_NO_INT) && !(iir & UART_IIR_NO_INT),
	      "startup THRE test: re-asserted, no UART_BUG_THRE");

	/* start_tx: set ETBEI; the interrupt fires; the handler reads IIR
	 * (clearing it), writes bytes (re-arming it), and when the buffer
	 * is empty turns ETBEI off. */
	out(&u, UART_IER, UART_IER_ERBFI);
	CHECK(uart_irq_level(&u) == 0, "ERBFI only, no input: line low");
	out(&u, UART_IER, UART_IER_ERBFI | UART_IER_ETBEI);
	CHECK(uart_irq_level(&u) == 1, "ETBEI on with THR empty: line raised");
	CHECK(in(&u, UART_IIR) == 0x02, "handler reads IIR: THRE");
	CHECK(uart_irq_level(&u) == 0, "that read cleared it: line low");
	out(&u, UART_THR, 'h');
	out(&u, UART_THR, 'i');
	CHECK(uart_irq_level(&u) == 1, "writing THR re-armed it: line raised");
	CHECK(in(&u, UART_IIR) == 0x02, "next interrupt: THRE again");
	out(&u, UART_IER, UART_IER_ERBFI);   /* __stop_tx */
	CHECK(uart_irq_level(&u) == 0 && in(&u, UART_IIR) == 0x01, "ETBEI off: quiet");

	/* THR write with no IIR read in between: still one pending event. */
	out(&u, UART_IER, UART_IER_ETBEI);
	out(&u, UART_THR, '!');
	CHECK(in(&u, UART_IIR) == 0x02 && in(&u, UART_IIR) == 0x01,
	      "one THRE event however many writes, cleared by one IIR read");

	/* Writing IER with ETBEI already on is not an enabling edge. */
	out(&u, UART_IER, UART_IER_ETBEI);
	CHECK(in(&u, UART_IIR) == 0x01, "rewriting ETBEI=1 does not re-arm THRE");

	/* Turning ETBEI off forgets a pending THRE. */
	out(&u, UART_THR, '?');
	out(&u, UART_IER, 0);
	CHECK(in(&u, UART_IIR) == 0x01, "ETBEI off: pending THRE dropped");
	uart_flush(&u);
	CHECK(sink_is(&s, "hi!?"), "the bytes went out");
}

static void test_irq_level(void)
{
	struct uart16550 u;
	struct sink s;

	setup(&u, &s);
	out(&u, UART_IER, UART_IER_ERBFI);
	receive_str(&u, "a");
	CHECK(uart_irq_level(&u) == 0, "interrupt pending but OUT2 = 0: line low");
	CHECK(in(&u, UART_IIR) == 0x04, "the IIR reports it regardless of OUT2");
	out(&u, UART_MCR, UART_MCR_OUT2);
	CHECK(uart_irq_level(&u) == 1, "OUT2 = 1: line raised");
	out(&u, UART_MCR, UART_MCR_OUT2 | UART_MCR_LOOP);
	CHECK(uart_irq_level(&u) == 0, "loopback: line disconnected");
	out(&u, UART_MCR, UART_MCR_OUT2);
	CHECK(uart_irq_level(&u) == 1, "out of loopback: raised again");
	in(&u, UART_RBR);
	CHECK(uart_irq_level(&u) == 0, "interrupt cleared: line low");
	out(&u, UART_IER, 0);
	receive_str(&u, "b");
	CHECK(uart_irq_level(&u) == 0, "IER = 0: data does not raise the line");
	CHECK(uart_irq_level(&u) == 0 && (in(&u, UART_LSR) & UART_LSR_DR),
	      "uart_irq_level has no side effects");
}

static void test_fifo_control(void)
{
	struct uart16550 u;
	struct sink s;
	static const struct {
		uint8_t bits;
		unsigned level;
	} trig[] = {
		{ UART_FCR_TRIG_1, 1 }, { UART_FCR_TRIG_4, 4 },
		{ UART_FCR_TRIG_8, 8 }, { UART_FCR_TRIG_14, 14 },
	};
	uint8_t bytes[16] = { 0 };

	setup(&u, &s);
	out(&u, UART_FCR, UART_FCR_ENABLE);
	CHECK((in(&u, UART_IIR) & 0xc0) == 0xc0, "FIFOs on: IIR bits 6-7 set (16550A)");
	receive_str(&u, "abc");
	out(&u, UART_FCR, UART_FCR_ENABLE | UART_FCR_TRIG_4);
	CHECK(in(&u, UART_RBR) == 'a', "rewriting FCR with FIFOs on keeps the data");
	out(&u, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
	CHECK(!(in(&u, UART_LSR) & UART_LSR_DR), "FCR bit 1 empties the receive FIFO");
	CHECK(uart_rx_space(&u) == 16, "all 16 bytes free again");

	out(&u, UART_THR, 'o');
	out(&u, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_TX);
	uart_flush(&u);
	CHECK(sink_is(&s, "o"), "FCR bit 2: bytes already sent stay sent");

	receive_str(&u, "de");
	out(&u, UART_FCR, 0);
	CHECK((in(&u, UART_IIR) & 0xc0) == 0, "FIFOs off: IIR bits 6-7 clear (16450 mode)");
	CHECK(!(in(&u, UART_LSR) & UART_LSR_DR), "turning the FIFOs off empties them");
	receive_str(&u, "f");
	out(&u, UART_FCR, UART_FCR_ENABLE);
	CHECK(!(in(&u, UART_LSR) & UART_LSR_DR), "turning the FIFOs on empties RBR");
	receive_str(&u, "g");
	out(&u, UART_FCR, UART_FCR_CLEAR_RX | UART_FCR_TRIG_14);
	CHECK((in(&u, UART_IIR) & 0xc0) == 0, "FCR without bit 0 turns the FIFOs off");
	receive_str(&u, "h");
	out(&u, UART_FCR, UART_FCR_CLEAR_RX);
	CHECK(in(&u, UART_RBR) == 'h', "with FIFOs off, FCR bit 1 is ignored");

	/* Trigger levels: below the level the data is reported as a
	 * character timeout (0x0c), at the level as data available. */
	out(&u, UART_IER, UART_IER_ERBFI);
	out(&u, UART_MCR, UART_MCR_OUT2);
	for (unsigned t = 0; t < 4; t++) {
		unsigned lvl = trig[t].level;
		out(&u, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX | trig[t].bits);
		CHECK(in(&u, UART_IIR) == 0xc1, "trigger %u: empty, nothing pending", lvl);
		if (lvl > 1) {
			uart_receive(&u, bytes, lvl - 1);
			CHECK(in(&u, UART_IIR) == 0xcc,
			      "trigger %u: %u bytes -> timeout (0xcc)", lvl, lvl - 1);
			CHECK(uart_irq_level(&u) == 1,
			      "trigger %u: timeout raises the line too", lvl);
		}
		uart_receive(&u, bytes, 1);
		CHECK(in(&u, UART_IIR) == 0xc4,
		      "trigger %u: %u bytes -> data available (0xc4)", lvl, lvl);
		in(&u, UART_RBR);
		CHECK(in(&u, UART_IIR) == (lvl > 1 ? 0xcc : 0xc1),
		      "trigger %u: one read drops below the level", lvl);
	}
	out(&u, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX | UART_FCR_TRIG_8);
	out(&u, UART_FCR, UART_FCR_TRIG_1);   /* bit 0 clear: off */
	out(&u, UART_FCR, UART_FCR_ENABLE | UART_FCR_TRIG_8);
	uart_receive(&u, bytes, 7);
	CHECK(in(&u, UART_IIR) == 0xcc, "trigger bits programmed with the enabling write");
}

static void test_loopback(void)
{
	struct uart16550 u;
	struct sink s;

	setup(&u, &s);
	out(&u, UART_MCR, UART_MCR_LOOP);
	in(&u, UART_MSR);   /* discard the deltas of entering loopback */
	out(&u, UART_THR, 'L');
	out(&u, UART_THR, '\n');
	uart_flush(&u);
	CHECK(s.calls == 0, "loopback: nothing goes to the output");
	CHECK(in(&u, UART_LSR) == 0x63, "FIFOs off: the second byte overran the first");
	CHECK(in(&u, UART_RBR) == 'L', "loopback: transmitted byte received");
	CHECK(!(in(&u, UART_LSR) & UART_LSR_DR), "and nothing more");

	CHECK(uart_receive(&u, (const uint8_t *)"host", 4) == 0,
	      "loopback: host input is not taken");
	CHECK(!(in(&u, UART_LSR) & (UART_LSR_DR | UART_LSR_OE)),
	      "and that is not an overrun");
	CHECK(uart_rx_space(&u) == 0, "loopback: no room for host input");

	/* The modem control outputs loop back to the status inputs. */
	static const struct {
		uint8_t mcr, msr;
		const char *name;
	} map[] = {
		{ UART_MCR_RTS, UART_MSR_CTS, "RTS -> CTS" },
		{ UART_MCR_DTR, UART_MSR_DSR, "DTR -> DSR" },
		{ UART_MCR_OUT1, UART_MSR_RI, "OUT1 -> RI" },
		{ UART_MCR_OUT2, UART_MSR_DCD, "OUT2 -> DCD" },
	};
	for (unsigned i = 0; i < 4; i++) {
		out(&u, UART_MCR, UART_MCR_LOOP | map[i].mcr);
		CHECK((in(&u, UART_MSR) & 0xf0) == map[i].msr, "loopback: %s", map[i].name);
		out(&u, UART_MCR, UART_MCR_LOOP);
		in(&u, UART_MSR);
	}

	/* Delta bits: CTS, DSR, DCD on any change; RI only on on -> off. */
	out(&u, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
	CHECK(in(&u, UART_MSR) == (UART_MSR_CTS | UART_MSR_DCTS), "CTS rose: DCTS");
	CHECK(in(&u, UART_MSR) == UART_MSR_CTS, "reading MSR cleared DCTS");
	out(&u, UART_MCR, UART_MCR_LOOP);
	CHECK(in(&u, UART_MSR) == UART_MSR_DCTS, "CTS fell: DCTS");
	out(&u, UART_MCR, UART_MCR_LOOP | UART_MCR_DTR);
	CHECK(in(&u, UART_MSR) == (UART_MSR_DSR | UART_MSR_DDSR), "DSR rose: DDSR");
	out(&u, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
	CHECK(in(&u, UART_MSR) == (UART_MSR_DCD | UART_MSR_DDSR | UART_MSR_DDCD),
	      "DSR fell, DCD rose: DDSR and DDCD");
	out(&u, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1);
	CHECK(in(&u, UART_MSR) == (UART_MSR_RI | UART_MSR_DDCD),
	      "RI rose: no TERI (only its trailing edge counts)");
	out(&u, UART_MCR, UART_MCR_LOOP);
	CHECK(in(&u, UART_MSR) == UART_MSR_TERI, "RI fell: TERI");
	out(&u, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
	out(&u, UART_MCR, UART_MCR_LOOP);
	CHECK(in(&u, UART_MSR) == UART_MSR_DCTS, "deltas accumulate until read");

	/* Leaving loopback: the connected-line state comes back. */
	out(&u, UART_MCR, UART_MCR_DTR | UART_MCR_RTS);
	CHECK(in(&u, UART_MSR) == (0xb0 | UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD),
	      "out of loopback: CTS, DSR, DCD on again, with deltas");
	CHECK(in(&u, UART_MSR) == 0xb0, "normal mode: MSR steady");
	out(&u, UART_MCR, UART_MCR_DTR);
	CHECK(in(&u, UART_MSR) == 0xb0, "normal mode: MCR does not move the lines");
	out(&u, UART_THR, 'N');
	uart_flush(&u);
	CHECK(sink_is(&s, "N"), "out of loopback: output flows again");
	CHECK(uart_receive(&u, (const uint8_t *)"host", 4) == 1,
	      "host input is taken again");
}

static void test_scratch(void)
{
	struct uart16550 u;
	struct sink s;
	int ok = 1;

	setup(&u, &s);
	for (int v = 0; v < 256; v++) {
		out(&u, UART_SCR, (uint8_t)v);
		ok &= in(&u, UART_SCR) == v;
	}
	CHECK(ok, "SCR holds every byte value");
	out(&u, UART_SCR, 0x5a);
	out(&u, UART_LCR, UART_LCR_DLAB);
	CHECK(in(&u, UART_SCR) == 0x5a, "SCR does not depend on DLAB");
	CHECK(in(&u, UART_IER) == 12 >> 8 && in(&u, UART_DLL) == 12,
	      "SCR writes touch nothing else");
}

/* A polled guest: no interrupts, it spins on LSR. */
static void guest_putc(struct uart16550 *u, char c)
{
	for (int spins = 0; spins < 1000; spins++)
		if (uart_read(u, UART_LSR) & UART_LSR_THRE) {
			uart_write(u, UART_THR, (uint8_t)c);
			return;
		}
}

static int guest_getc(struct uart16550 *u)
{
	for (int spins = 0; spins < 1000; spins++)
		if (uart_read(u, UART_LSR) & UART_LSR_DR)
			return uart_read(u, UART_RBR);
	return -1;   /* would spin for ever */
}

static void test_polled_guest(void)
{
	struct uart16550 u;
	struct sink s;

	for (int fifo = 0; fifo < 2; fifo++) {
		setup(&u, &s);
		/* The usual polled set-up: 115200 8N1, FIFOs, no interrupts. */
		out(&u, UART_IER, 0);
		out(&u, UART_LCR, UART_LCR_DLAB);
		out(&u, UART_DLL, 1);
		out(&u, UART_DLM, 0);
		out(&u, UART_LCR, 0x03);
		out(&u, UART_FCR, fifo ? 0xc7 : 0);
		out(&u, UART_MCR, UART_MCR_DTR | UART_MCR_RTS);

		const char *msg = "Hello from a polled guest\r\n";
		for (const char *p = msg; *p; p++)
			guest_putc(&u, *p);
		CHECK(sink_is(&s, msg), "fifo=%d: guest's string came out whole", fifo);
		CHECK(s.calls == 1, "fifo=%d: in one flush, at the newline", fifo);

		CHECK(guest_getc(&u) == -1, "fifo=%d: no input: DR stays clear", fifo);
		const char *typed = "ls\r";
		size_t done = 0, len = strlen(typed);
		char got[8] = { 0 };
		int n = 0;
		/* The host offers only what fits (so nothing overruns); the
		 * guest drains. */
		while (n < 7) {
			size_t room = uart_rx_space(&u);
			size_t k = len - done < room ? len - done : room;
			done += uart_receive(&u, (const uint8_t *)typed + done, k);
			int c = guest_getc(&u);
			if (c < 0)
				break;
			got[n++] = (char)c;
		}
		CHECK(n == 3 && strcmp(got, typed) == 0, "fifo=%d: guest read the input", fifo);
		CHECK(!(in(&u, UART_LSR) & UART_LSR_OE), "fifo=%d: without an overrun", fifo);
		CHECK(uart_irq_level(&u) == 0, "fifo=%d: polled guest: line never raised", fifo);
	}
}

/* The probe in Linux's 8250 driver (autoconfig), step by step. */
static void test_linux_probe(void)
{
	struct uart16550 u;
	struct sink s;

	setup(&u, &s);
	/* Is there a UART?  IER's low four bits must be writable. */
	out(&u, UART_IER, 0);
	uint8_t a = in(&u, UART_IER) & 0x0f;
	out(&u, UART_IER, 0x0f);
	uint8_t b = in(&u, UART_IER) & 0x0f;
	out(&u, UART_IER, 0);
	CHECK(a == 0 && b == 0x0f, "probe: IER low nibble writable");
	/* Loopback test. */
	out(&u, UART_MCR, UART_MCR_LOOP | 0x0a);
	CHECK((in(&u, UART_MSR) & 0xf0) == 0x90, "probe: loopback MSR = 0x90");
	out(&u, UART_MCR, 0);
	/* FIFO type: IIR bits 6-7 = 3 after enabling the FIFO. */
	out(&u, UART_FCR, UART_FCR_ENABLE);
	CHECK(in(&u, UART_IIR) >> 6 == 3, "probe: 16550A-class FIFO");
	/* Not a 16650: with LCR = 0xbf offset 2 is not a zero EFR. */
	out(&u, UART_LCR, 0xbf);
	CHECK(in(&u, 2) != 0, "probe: no EFR (not a 16650)");
	/* Not a 16750: the 64-byte bit does not stick. */
	out(&u, UART_LCR, 0);
	out(&u, UART_FCR, UART_FCR_ENABLE | 0x20);
	uint8_t s1 = in(&u, UART_IIR) >> 5;
	out(&u, UART_FCR, UART_FCR_ENABLE);
	out(&u, UART_LCR, UART_LCR_DLAB);
	out(&u, UART_FCR, UART_FCR_ENABLE | 0x20);
	uint8_t s2 = in(&u, UART_IIR) >> 5;
	out(&u, UART_LCR, 0);
	CHECK(!(s1 == 6 && s2 == 7), "probe: not a 16750");
	/* Not an XScale: IER bit 6 does not stick. */
	out(&u, UART_IER, 0x40);
	CHECK(!(in(&u, UART_IER) & 0x40), "probe: IER bit 6 reads 0 (not XScale)");
	out(&u, UART_IER, 0);
	/* FIFO size: write 256 bytes in loopback, count what comes back. */
	out(&u, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX | UART_FCR_CLEAR_TX);
	out(&u, UART_MCR, UART_MCR_LOOP);
	for (int i = 0; i < 256; i++)
		out(&u, UART_THR, (uint8_t)i);
	int count = 0;
	while ((in(&u, UART_LSR) & UART_LSR_DR) && count < 256) {
		in(&u, UART_RBR);
		count++;
	}
	out(&u, UART_MCR, 0);
	CHECK(count == 16, "probe: FIFO size 16 (not a 64-byte U6_16550A)");
	uart_flush(&u);
	CHECK(s.calls == 0, "probe: none of the loopback bytes reached the console");
	CHECK(in(&u, UART_LSR) != 0xff, "startup: LSR is not 0xff");
}

/* Linux with interrupts: trigger level 8, one key press. */
static void test_linux_interrupt_rx(void)
{
	struct uart16550 u;
	struct sink s;

	setup(&u, &s);
	out(&u, UART_FCR, UART_FCR_ENABLE | UART_FCR_TRIG_8);
	out(&u, UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
	out(&u, UART_IER, UART_IER_ERBFI | UART_IER_ELSI);
	receive_str(&u, "x");
	CHECK(uart_irq_level(&u) == 1, "one byte below trigger 8 still interrupts");
	/* The handler: IIR says something is pending; drain while DR. */
	CHECK(!(in(&u, UART_IIR) & UART_IIR_NO_INT), "IIR: pending");
	int n = 0;
	while (in(&u, UART_LSR) & UART_LSR_DR) {
		in(&u, UART_RBR);
		n++;
	}
	CHECK(n == 1 && uart_irq_level(&u) == 0, "drained one byte; line low");
}

/* Hostile guests: odd offsets, any values, random access sequences. */
static void test_hostile(void)
{
	struct uart16550 u, before;
	struct sink s;
	static const unsigned offs[] = { 8, 9, 15, 16, 255, 256, 0x3f8, 0x80000000u, ~0u };

	setup(&u, &s);
	memcpy(&before, &u, sizeof(u));
	int reads = 1;
	for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		reads &= uart_read(&u, offs[i]) == 0xff;
		for (int v = 0; v < 256; v++)
			uart_write(&u, offs[i], (uint8_t)v);
	}
	CHECK(reads, "offsets >= 8 read 0xff");
	CHECK(memcmp(&u, &before, sizeof(u)) == 0, "writes to offsets >= 8 change nothing");

	out(&u, UART_LSR, 0x00);
	out(&u, UART_MSR, 0x0f);
	CHECK(in(&u, UART_LSR) == 0x60 && in(&u, UART_MSR) == 0xb0,
	      "LSR and MSR ignore writes");
	out(&u, UART_IER, 0xff);
	CHECK(in(&u, UART_IER) == 0x0f, "IER keeps only bits 0-3");
	out(&u, UART_IER, 0);
	out(&u, UART_MCR, 0xef);
	CHECK(in(&u, UART_MCR) == 0x0f, "MCR keeps only bits 0-4");
	out(&u, UART_MCR, 0);

	/* Random accesses; the invariants must hold throughout, and the
	 * sanitizers watch the memory accesses. */
	uint32_t seed = 12345;
	int inv = 1;
	uint8_t junk[40];
	for (int step = 0; step < 200000; step++) {
		seed = seed * 1103515245u + 12345u;
		unsigned op = (seed >> 16) % 10;
		unsigned off = (seed >> 8) % 10;      /* 8, 9: out of range */
		uint8_t val = (uint8_t)(seed >> 24);
		if (op < 4) {
			uart_write(&u, off, val);
		} else if (op < 8) {
			uint8_t r = uart_read(&u, off);
			if (off == UART_IIR)
				inv &= (r & 0x30) == 0;
			if (off == UART_LSR)
				inv &= (r & 0x60) == 0x60 && (r & 0x9c) == 0;
			if (off >= 8)
				inv &= r == 0xff;
		} else if (op == 8) {
			for (unsigned i = 0; i < sizeof(junk); i++)
				junk[i] = (uint8_t)(seed >> (i % 24));
			size_t space = uart_rx_space(&u);
			size_t took = uart_receive(&u, junk, val % sizeof(junk));
			inv &= took <= space;
		} else {
			uart_flush(&u);
		}
		inv &= u.rx_count <= UART_RX_FIFO_SIZE && u.out_len < UART_OUT_BUF_SIZE;
		inv &= (u.ier & ~UART_IER_MASK) == 0 && (u.mcr & ~UART_MCR_MASK) == 0;
		inv &= uart_irq_level(&u) == 0 || uart_irq_level(&u) == 1;
	}
	CHECK(inv, "200000 random accesses: invariants hold");
	uart_flush(&u);
	CHECK(s.len > 0, "and the random guest did get some output through");
}

int main(void)
{
	test_reset();
	test_dlab();
	test_output();
	test_rx_fifo();
	test_iir_sources();
	test_thre_lifecycle();
	test_irq_level();
	test_fifo_control();
	test_loopback();
	test_scratch();
	test_polled_guest();
	test_linux_probe();
	test_linux_interrupt_rx();
	test_hostile();
	return unit_done();
}
