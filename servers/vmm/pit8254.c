/*
 * The 8254 timer model: see pit8254.h for how the VMM drives it.  The
 * behaviour follows Intel's 82C54 data sheet.
 *
 * Time is counted in input clock ticks: tick k is the k-th rising edge
 * of the 1.193182 MHz clock after the VM started, and "at tick t" means
 * after tick t and before tick t+1.  An access at tick t that loads a
 * count makes the CE take it at tick t+1 ("on the next clock"); from
 * there the CE counts one step per tick.
 *
 * How the pieces fit:
 *  - A running counter is (mode, n, base_tick, base_pos): the position
 *    (ticks counted since the load) is a linear function of time, and
 *    the CE value and OUT are functions of the position (ce_of_position,
 *    out_of_position).  Reading the counter never needs a history.
 *  - The only future events are loads of the count register into the
 *    CE (load_pending/load_tick): the next clock after a count write or
 *    a gate trigger, or the end of the current period (mode 2) or
 *    half-cycle (mode 3) when a new count is written while counting.
 *    catch_up() applies a due load before any access at a later tick.
 *  - OUT's rising edges are counted as time passes (edges_in, from the
 *    positions) and when an access or a load changes OUT at once
 *    (compare the level before and after).  Only channel 0's count is
 *    used, for IRQ 0.
 *
 * Only <stdint.h>: no library calls, so it runs anywhere.
 */
#include "pit8254.h"

#define NS_PER_S 1000000000ull
#define NO_TICK UINT64_MAX

/* --- time ------------------------------------------------------------- */

/* Split at whole seconds so the products fit in 64 bits: one second of
 * ns times PIT_HZ is about 1.2e15. */
uint64_t pit_ns_to_ticks(uint64_t ns)
{
	return (ns / NS_PER_S) * PIT_HZ + (ns % NS_PER_S) * PIT_HZ / NS_PER_S;
}

uint64_t pit_ticks_to_ns(uint64_t ticks)
{
	uint64_t seconds = ticks / PIT_HZ;
	uint64_t rest = ticks % PIT_HZ;

	if (seconds > (UINT64_MAX - NS_PER_S) / NS_PER_S)
		return UINT64_MAX;
	/* Round up: the first ns at which pit_ns_to_ticks() reaches it. */
	return seconds * NS_PER_S + (rest * NS_PER_S + PIT_HZ - 1) / PIT_HZ;
}

/* --- counts and BCD --------------------------------------------------- */

/* The counter's modulus: a count of 0 means this many. */
static uint32_t modulus(const struct pit_channel *c)
{
	return c->bcd ? 10000 : 65536;
}

/* The count register as a number of ticks, 1..modulus.  BCD digits
 * above 9 (undefined on the chip) are taken at face value. */
static uint32_t count_of_register(const struct pit_channel *c)
{
	uint32_t value = c->cr;

	if (c->bcd)
		value = ((value >> 12) & 0xf) * 1000 + ((value >> 8) & 0xf) * 100 +
			((value >> 4) & 0xf) * 10 + (value & 0xf);
	value %= modulus(c);
	return value ? value : modulus(c);
}

/* A CE value 0..modulus as the register the guest reads. */
static uint16_t register_of_value(const struct pit_channel *c, uint32_t value)
{
	value %= modulus(c);  /* a full count reads as 0 */
	if (!c->bcd)
		return (uint16_t)value;
	return (uint16_t)((value / 1000) << 12 | (value / 100 % 10) << 8 |
			  (value / 10 % 10) << 4 | value % 10);
}

/* --- the running counter as a function of its position ---------------- */

/* Mode 3's square wave: OUT is high for the first (n+1)/2 ticks of each
 * period and low for the remaining n/2. */
static uint32_t high_half(uint32_t n)
{
	return (n + 1) / 2;
}

static uint64_t position_at(const struct pit_channel *c, uint64_t tick)
{
	if (c->held || tick < c->base_tick)
		return c->base_pos;
	return c->base_pos + (tick - c->base_tick);
}

/* The CE value (0..n, n reading as 0 when it is the modulus). */
static uint32_t ce_of_position(const struct pit_channel *c, uint64_t pos)
{
	uint32_t n = c->n, m = modulus(c);

	switch (c->mode) {
	case 2: /* n, n-1, ..., 1, then reload n */
		return n - (uint32_t)(pos % n);
	case 3: {
		/* Even n: n, n-2, ..., 2 in each half.  Odd n: the high half
		 * goes n, n-1, n-3, ..., 2 and the low half n, n-3, ..., 2,
		 * which makes it one tick longer than the low half. */
		uint32_t q = (uint32_t)(pos % n), hi = high_half(n), j;
		if (q < hi) {
			j = q;
			if (n % 2 == 0)
				return n - 2 * j;
			return j == 0 ? n : n + 1 - 2 * j;
		}
		j = q - hi;
		if (n % 2 == 0)
			return n - 2 * j;
		return j == 0 ? n : n - 1 - 2 * j;
	}
	default: /* 0, 1, 4, 5: count down and wrap at the modulus */
		return (uint32_t)((n + m - pos % m) % m);
	}
}

static int out_of_position(const struct pit_channel *c, uint64_t pos)
{
	uint32_t n = c->n;

	switch (c->mode) {
	case 0: /* low until the terminal count, then high */
		return pos >= n;
	case 1: /* low from the trigger until the terminal count */
		return pos >= n;
	case 2: /* low for the one tick the CE holds 1 */
		return pos % n != n - 1;
	case 3:
		return pos % n < high_half(n);
	default: /* 4, 5: low for the one tick the CE holds 0 */
		return pos != n;
	}
}

/* Rising edges of OUT at positions p with from < p <= to. */
static uint64_t rises_between(const struct pit_channel *c, uint64_t from, uint64_t to)
{
	uint64_t n = c->n;

	switch (c->mode) {
	case 0:
	case 1:
		return from < n && n <= to;
	case 2:
	case 3:
		/* OUT rises at each reload, position k*n.  A count of 1 has
		 * no low time, so no edges. */
		if (n < 2)
			return 0;
		return to / n - from / n;
	default:
		return from < n + 1 && n + 1 <= to;
	}
}

/* The first position > from at which OUT rises, or NO_TICK. */
static uint64_t next_rise(const struct pit_channel *c, uint64_t from)
{
	uint64_t n = c->n;

	switch (c->mode) {
	case 0:
	case 1:
		return from < n ? n : NO_TICK;
	case 2:
	case 3:
		return n < 2 ? NO_TICK : (from / n + 1) * n;
	default:
		return from < n + 1 ? n + 1 : NO_TICK;
	}
}

/* Modes 2 and 3 stop and hold OUT high while GATE is low; modes 0 and
 * 4 only stop.  Modes 1 and 5 are not held by GATE: its rising edge
 * starts them. */
static int gate_holds(const struct pit_channel *c)
{
	return c->mode == 0 || c->mode == 2 || c->mode == 3 || c->mode == 4;
}

static uint16_t ce_at(const struct pit_channel *c, uint64_t tick)
{
	if (!c->running)
		return c->frozen_ce;
	return register_of_value(c, ce_of_position(c, position_at(c, tick)));
}

static int out_at(const struct pit_channel *c, uint64_t tick)
{
	if (!c->running)
		return c->stopped_out;
	if (c->held && (c->mode == 2 || c->mode == 3))
		return 1;
	return out_of_position(c, position_at(c, tick));
}

/* Rising edges from counting over ticks from < t <= to. */
static uint64_t edges_in(const struct pit_channel *c, uint64_t from, uint64_t to)
{
	if (!c->running || c->held || to <= from)
		return 0;
	return rises_between(c, position_at(c, from), position_at(c, to));
}

/* --- loading and stopping --------------------------------------------- */

/* Load CR into the CE at tick `tick` and start counting from it. */
static void load(struct pit_channel *c, uint64_t tick)
{
	c->n = count_of_register(c);
	c->running = 1;
	c->base_tick = tick;
	c->base_pos = c->load_low_half ? high_half(c->n) : 0;
	c->held = gate_holds(c) && !c->gate;
	c->load_pending = 0;
	c->load_low_half = 0;
	c->null_count = 0;
}

static void schedule_load(struct pit_channel *c, uint64_t tick, int low_half)
{
	c->load_pending = 1;
	c->load_tick = tick;
	c->load_low_half = (uint8_t)low_half;
}

/* Stop counting at tick `tick`: the CE keeps its value, OUT takes `out`. */
static void stop(struct pit_channel *c, uint64_t tick, int out)
{
	c->frozen_ce = ce_at(c, tick);
	c->running = 0;
	c->held = 0;
	c->stopped_out = (uint8_t)out;
	c->load_pending = 0;
}

/* Bring the counter up to tick t: apply a load that is due and count
 * OUT's rising edges on the way. */
static void catch_up(struct pit_channel *c, uint64_t t)
{
	if (c->load_pending && c->load_tick <= t) {
		uint64_t at = c->load_tick;  /* > edges_tick: set after it */
		c->edges += edges_in(c, c->edges_tick, at - 1);
		int before = out_at(c, at - 1);
		load(c, at);
		if (!before && out_at(c, at))
			c->edges++;
		c->edges_tick = at;
	}
	if (t > c->edges_tick) {
		c->edges += edges_in(c, c->edges_tick, t);
		c->edges_tick = t;
	}
}

/* The first tick > t at which OUT rises, or NO_TICK.  Works on a copy,
 * so a pending load can be played forward. */
static uint64_t next_edge_tick(struct pit_channel c, uint64_t t)
{
	for (;;) {
		uint64_t edge = NO_TICK;
		if (c.running && !c.held) {
			uint64_t pos = position_at(&c, t), rise = next_rise(&c, pos);
			if (rise != NO_TICK)
				edge = t + (rise - pos);
		}
		if (!c.load_pending || c.load_tick == NO_TICK || edge < c.load_tick)
			return edge;
		/* The load comes first: does it raise OUT, or what follows? */
		c.edges = 0;
		catch_up(&c, c.load_tick);
		if (c.edges)
			return c.load_tick;
		t = c.load_tick;
	}
}

/* --- the guest's accesses --------------------------------------------- */

static uint64_t advance(struct pit8254 *pit, uint64_t now)
{
	uint64_t t = pit_ns_to_ticks(now);

	if (t < pit->tick)
		t = pit->tick;  /* time never runs backwards here */
	pit->tick = t;
	for (int i = 0; i < 3; i++)
		catch_up(&pit->ch[i], t);
	return t;
}

/* After an access changed counter c at tick t: count the rising edge of
 * OUT it caused at once, if any (the 8259 sees an edge whatever made
 * it: a control word that sets OUT high, GATE forcing it high). */
static void note_rise(struct pit_channel *c, uint64_t t, int before)
{
	if (!before && out_at(c, t))
		c->edges++;
}

static void write_control(struct pit_channel *c, uint8_t value, uint64_t t)
{
	int before = out_at(c, t);
	unsigned mode = (value >> PIT_CW_MODE_SHIFT) & 7;

	if (mode >= 6)
		mode -= 4;
	/* The CE stops and keeps its value (as the old mode left it) until
	 * a count is written; OUT starts low in mode 0, high in the others. */
	stop(c, t, mode != 0);
	c->control = value & 0x3f;
	c->mode = (uint8_t)mode;
	c->access = (value >> PIT_CW_RW_SHIFT) & 3;
	c->bcd = value & PIT_CW_BCD;
	c->cr_written = 0;
	c->null_count = 1;
	c->write_msb_next = 0;
	c->read_msb_next = 0;
	c->count_latched = 0;
	c->status_latched = 0;
	note_rise(c, t, before);
}

/* A complete count is in CR. */
static void count_written(struct pit_channel *c, uint64_t t)
{
	c->cr_written = 1;
	c->null_count = 1;
	switch (c->mode) {
	case 0:
		/* Counting stops and OUT drops at the write (for a two-byte
		 * count, already at the first byte); the new count loads on
		 * the next clock.  Linux's TSC calibration and the mode 0
		 * shutdown depend on this. */
		stop(c, t, 0);
		schedule_load(c, t + 1, 0);
		break;
	case 4:
		/* Re-arms: loads on the next clock; the old count runs until
		 * then.  This is every one-shot event Linux programs. */
		schedule_load(c, t + 1, 0);
		break;
	case 1:
	case 5:
		/* Used at the next trigger (rising GATE). */
		break;
	default: /* 2, 3 */
		if (!c->running) {
			/* The first count after the control word: loads on the
			 * next clock, or when GATE rises. */
			if (c->gate)
				schedule_load(c, t + 1, 0);
		} else if (!c->held && !c->load_pending) {
			/* While counting, a new count waits for the end of the
			 * period (mode 2) or of the half-cycle (mode 3). */
			uint64_t pos = position_at(c, t), n = c->n, start = pos - pos % n;
			uint64_t end = start + n;
			int low_half = 0;
			if (c->mode == 3 && pos % n < high_half(c->n)) {
				end = start + high_half(c->n);
				low_half = 1;
			}
			schedule_load(c, t + (end - pos), low_half);
		}
		/* Held by a low GATE: its rising edge reloads CR anyway. */
		break;
	}
}

static void write_counter(struct pit_channel *c, uint8_t value, uint64_t t)
{
	int before = out_at(c, t);

	switch (c->access) {
	case PIT_RW_LSB:
		c->cr = value;
		break;
	case PIT_RW_MSB:
		c->cr = (uint16_t)(value << 8);
		break;
	default:
		if (!c->write_msb_next) {
			c->pending_lsb = value;
			c->write_msb_next = 1;
			if (c->mode == 0)
				stop(c, t, 0);
			return;
		}
		c->cr = (uint16_t)(c->pending_lsb | value << 8);
		c->write_msb_next = 0;
		break;
	}
	count_written(c, t);
	note_rise(c, t, before);
}

static void latch_count(struct pit_channel *c, uint64_t t)
{
	/* A second latch before the first is read is ignored. */
	if (!c->count_latched) {
		c->latched_count = ce_at(c, t);
		c->count_latched = 1;
	}
}

static void latch_status(struct pit_channel *c, uint64_t t)
{
	if (!c->status_latched) {
		c->latched_status = (uint8_t)((out_at(c, t) ? PIT_STATUS_OUT : 0) |
					      (c->null_count ? PIT_STATUS_NULL_COUNT : 0) |
					      c->control);
		c->status_latched = 1;
	}
}

static uint8_t read_counter(struct pit_channel *c, uint64_t t)
{
	uint16_t value;
	int msb;

	if (c->status_latched) {
		c->status_latched = 0;
		return c->latched_status;
	}
	value = c->count_latched ? c->latched_count : ce_at(c, t);
	if (c->access == PIT_RW_LSB_MSB) {
		msb = c->read_msb_next;
		c->read_msb_next = !msb;
	} else {
		msb = c->access == PIT_RW_MSB;
	}
	/* The latch holds until the whole count has been read. */
	if (c->access != PIT_RW_LSB_MSB || msb)
		c->count_latched = 0;
	return msb ? (uint8_t)(value >> 8) : (uint8_t)value;
}

static void set_gate(struct pit_channel *c, int level, uint64_t t)
{
	int before = out_at(c, t);

	if (!level == !c->gate)
		return;
	c->gate = (uint8_t)!!level;
	switch (c->mode) {
	case 0:
	case 4:
		/* GATE only pauses the count. */
		if (c->running) {
			c->base_pos = position_at(c, t);
			c->base_tick = t;
			c->held = !level;
		}
		break;
	case 1:
	case 5:
		/* A rising GATE (re)starts the count on the next clock. */
		if (level && c->cr_written)
			schedule_load(c, t + 1, 0);
		break;
	default: /* 2, 3 */
		if (level) {
			/* Counting restarts from CR on the next clock. */
			if (c->cr_written)
				schedule_load(c, t + 1, 0);
		} else {
			if (c->running && !c->held) {
				c->base_pos = position_at(c, t);
				c->held = 1;  /* and OUT goes high at once */
			}
			c->load_pending = 0;
		}
		break;
	}
	note_rise(c, t, before);
}

static void write_control_port(struct pit8254 *pit, uint8_t value, uint64_t t)
{
	unsigned select = value >> PIT_CW_SC_SHIFT;

	if (select == 3) {
		/* Read-back: latch count and/or status of each named counter. */
		for (unsigned i = 0; i < 3; i++) {
			if (!(value & PIT_RB_COUNTER(i)))
				continue;
			if (!(value & PIT_RB_NO_STATUS))
				latch_status(&pit->ch[i], t);
			if (!(value & PIT_RB_NO_COUNT))
				latch_count(&pit->ch[i], t);
		}
		return;
	}
	if (((value >> PIT_CW_RW_SHIFT) & 3) == PIT_RW_LATCH)
		latch_count(&pit->ch[select], t);
	else
		write_control(&pit->ch[select], value, t);
}

uint8_t pit_io_read(struct pit8254 *pit, unsigned port, uint64_t now)
{
	uint64_t t = advance(pit, now);

	switch (port) {
	case PIT_PORT_COUNTER0:
	case PIT_PORT_COUNTER1:
	case PIT_PORT_COUNTER2:
		return read_counter(&pit->ch[port - PIT_PORT_COUNTER0], t);
	case PIT_PORT_B:
		pit->refresh ^= 1;
		return (uint8_t)(pit->port_b | (pit->refresh ? PIT_PORTB_REFRESH : 0) |
				 (out_at(&pit->ch[2], t) ? PIT_PORTB_OUT2 : 0));
	default:
		/* 0x43 is write-only: nothing drives the bus. */
		return 0xff;
	}
}

void pit_io_write(struct pit8254 *pit, unsigned port, uint8_t value, uint64_t now)
{
	uint64_t t = advance(pit, now);

	switch (port) {
	case PIT_PORT_COUNTER0:
	case PIT_PORT_COUNTER1:
	case PIT_PORT_COUNTER2:
		write_counter(&pit->ch[port - PIT_PORT_COUNTER0], value, t);
		break;
	case PIT_PORT_CONTROL:
		write_control_port(pit, value, t);
		break;
	case PIT_PORT_B:
		pit->port_b = value & PIT_PORTB_WRITABLE;
		set_gate(&pit->ch[2], value & PIT_PORTB_GATE2, t);
		break;
	default:
		break;
	}
}

/* --- the VMM's side --------------------------------------------------- */

uint64_t pit_update(struct pit8254 *pit, uint64_t now)
{
	struct pit_channel *c = &pit->ch[0];
	uint64_t edges;

	advance(pit, now);
	edges = c->edges;
	c->edges = 0;
	return edges;
}

uint64_t pit_next_irq(struct pit8254 *pit, uint64_t now)
{
	uint64_t t = advance(pit, now), edge;

	if (pit->ch[0].edges)
		return now;  /* not reported yet: pit_update() would now */
	edge = next_edge_tick(pit->ch[0], t);
	return edge == NO_TICK ? UINT64_MAX : pit_ticks_to_ns(edge);
}

int pit_out(struct pit8254 *pit, unsigned channel, uint64_t now)
{
	uint64_t t = advance(pit, now);

	return channel < 3 ? out_at(&pit->ch[channel], t) : 0;
}

/* Program counter i as a BIOS does: control word, then a two-byte count. */
static void bios_program(struct pit8254 *pit, unsigned i, unsigned mode, uint16_t count)
{
	uint8_t cw = (uint8_t)(i << PIT_CW_SC_SHIFT | PIT_RW_LSB_MSB << PIT_CW_RW_SHIFT |
			       mode << PIT_CW_MODE_SHIFT);

	write_control(&pit->ch[i], cw, pit->tick);
	write_counter(&pit->ch[i], (uint8_t)count, pit->tick);
	write_counter(&pit->ch[i], (uint8_t)(count >> 8), pit->tick);
}

void pit_init(struct pit8254 *pit, uint64_t now)
{
	uint64_t t = pit_ns_to_ticks(now);

	for (unsigned i = 0; i < 3; i++) {
		struct pit_channel *c = &pit->ch[i];
		/* Everything zero: stopped, OUT low, nothing latched. */
		*c = (struct pit_channel){ 0 };
		c->edges_tick = t;
		/* Channels 0 and 1 have GATE tied high on a PC; channel 2's
		 * is port B bit 0. */
		c->gate = i < 2;
	}
	pit->port_b = 0;
	pit->refresh = 0;
	pit->tick = t;
	bios_program(pit, 0, 3, 0);   /* 18.2 Hz system tick */
	bios_program(pit, 1, 2, 18);  /* DRAM refresh, 15 us */
	bios_program(pit, 2, 3, 0);   /* speaker, gated off */
	/* Edges from the power-on OUT level are not interrupts. */
	for (unsigned i = 0; i < 3; i++)
		pit->ch[i].edges = 0;
}
