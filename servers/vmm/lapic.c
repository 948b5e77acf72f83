/* The local APIC: registers, priorities, EOI, the timer in its three
 * modes (Intel SDM vol. 3, chapter 11; AMD APM vol. 2, chapter 16).  A
 * pure state machine: see lapic.h for how the VMM drives it. */
#include "lapic.h"

#define APIC_BASE_BSP    (1UL << 8)
#define APIC_BASE_X2APIC (1UL << 10)
#define APIC_BASE_ENABLE (1UL << 11)
#define APIC_BASE_ADDR   0x000ffffffffff000UL

#define LVT_MASKED       (1u << 16)
#define LVT_TIMER_MODE(v) (((v) >> 17) & 3)
#define TIMER_ONESHOT    0
#define TIMER_PERIODIC   1
#define TIMER_DEADLINE   2
#define SVR_ENABLE       (1u << 8)
#define ESR_RECV_ILLEGAL (1u << 6)
#define ESR_SEND_ILLEGAL (1u << 5)

/* What each LVT register may hold (SDM 11.5.1). */
static const uint32_t lvt_writable[LVT_COUNT] = {
	[LVT_TIMER] = 0x700ff | (3u << 17),
	[LVT_THERMAL] = 0x107ff,
	[LVT_PERF] = 0x107ff,
	[LVT_LINT0] = 0x1a7ff,
	[LVT_LINT1] = 0x1a7ff,
	[LVT_ERROR] = 0x100ff,
};

static int bit_test(const uint32_t *v, unsigned n) { return (v[n / 32] >> (n % 32)) & 1; }
static void bit_set(uint32_t *v, unsigned n) { v[n / 32] |= 1u << (n % 32); }
static void bit_clear(uint32_t *v, unsigned n) { v[n / 32] &= ~(1u << (n % 32)); }

static int highest(const uint32_t *v)
{
	for (int w = 7; w >= 0; w--)
		if (v[w])
			return w * 32 + 31 - __builtin_clz(v[w]);
	return -1;
}

void lapic_init(struct lapic *l, uint64_t tsc0, uint64_t tsc_hz)
{
	*l = (struct lapic){ 0 };
	l->base_msr = LAPIC_DEFAULT_BASE | APIC_BASE_BSP | APIC_BASE_ENABLE;
	l->dfr = 0xffffffff;
	l->svr = 0xff;
	for (int i = 0; i < LVT_COUNT; i++)
		l->lvt[i] = LVT_MASKED;
	/* as firmware leaves a PC: the 8259 through LINT0 (ExtINT), NMI on
	 * LINT1, the APIC software-enabled (virtual wire mode) */
	l->svr = SVR_ENABLE | 0xff;
	l->lvt[LVT_LINT0] = 0x700;
	l->lvt[LVT_LINT1] = 0x400;
	l->timer_due_ns = LAPIC_NEVER;
	l->tsc0 = tsc0;
	l->tsc_hz = tsc_hz ? tsc_hz : 1000000000UL;
}

int lapic_enabled(const struct lapic *l)
{
	return (l->base_msr & APIC_BASE_ENABLE) != 0;
}

static int sw_enabled(const struct lapic *l)
{
	return lapic_enabled(l) && (l->svr & SVR_ENABLE);
}

static unsigned ppr(const struct lapic *l)
{
	int isrv = highest(l->isr);
	unsigned isr_class = isrv < 0 ? 0 : (unsigned)isrv & 0xf0;
	return (l->tpr & 0xf0) >= isr_class ? l->tpr & 0xff : isr_class;
}

void lapic_accept(struct lapic *l, unsigned vector, int level)
{
	vector &= 0xff;
	if (!lapic_enabled(l))
		return;
	if (vector < 16) {
		l->esr_pending |= ESR_RECV_ILLEGAL;
		return;
	}
	bit_set(l->irr, vector);
	if (level)
		bit_set(l->tmr, vector);
	else
		bit_clear(l->tmr, vector);
}

int lapic_pending(const struct lapic *l)
{
	if (!sw_enabled(l))
		return -1;
	int v = highest(l->irr);
	if (v < 0 || ((unsigned)v & 0xf0) <= (ppr(l) & 0xf0))
		return -1;
	return v;
}

void lapic_ack(struct lapic *l, unsigned vector)
{
	bit_clear(l->irr, vector & 0xff);
	bit_set(l->isr, vector & 0xff);
}

int lapic_extint_open(const struct lapic *l)
{
	if (!lapic_enabled(l))
		return 1;
	uint32_t lint0 = l->lvt[LVT_LINT0];
	return sw_enabled(l) && !(lint0 & LVT_MASKED) && ((lint0 >> 8) & 7) == 7;
}

/* --- the timer ------------------------------------------------------ */

static unsigned divide_shift(const struct lapic *l)
{
	/* DCR bits 0,1,3: 0b000 = /2 ... 0b110 = /128, 0b111 = /1 */
	unsigned d = (l->timer_divide & 3) | ((l->timer_divide >> 1) & 4);
	return d == 7 ? 0 : d + 1;
}

/* Nanoseconds of one count at the current divide. */
static uint64_t ns_per_count(const struct lapic *l)
{
	return (1000000000UL / LAPIC_TIMER_HZ) << divide_shift(l);
}

static uint64_t tsc_to_ns(const struct lapic *l, uint64_t tsc)
{
	if (tsc <= l->tsc0)
		return 0;
	return (uint64_t)((unsigned __int128)(tsc - l->tsc0) * 1000000000UL / l->tsc_hz);
}

static void timer_load(struct lapic *l, uint64_t now_ns)
{
	l->timer_start_ns = now_ns;
	l->timer_due_ns = l->timer_initial ? now_ns + (uint64_t)l->timer_initial * ns_per_count(l) : LAPIC_NEVER;
}

static uint32_t current_count(const struct lapic *l, uint64_t now_ns)
{
	if (LVT_TIMER_MODE(l->lvt[LVT_TIMER]) == TIMER_DEADLINE || l->timer_due_ns == LAPIC_NEVER ||
	    now_ns >= l->timer_due_ns)
		return 0;
	return (uint32_t)((l->timer_due_ns - now_ns + ns_per_count(l) - 1) / ns_per_count(l));
}

uint64_t lapic_timer_next(const struct lapic *l)
{
	if (LVT_TIMER_MODE(l->lvt[LVT_TIMER]) == TIMER_DEADLINE)
		return l->tsc_deadline ? tsc_to_ns(l, l->tsc_deadline) : LAPIC_NEVER;
	return l->timer_due_ns;
}

void lapic_timer_update(struct lapic *l, uint64_t now_ns)
{
	uint64_t due = lapic_timer_next(l);
	if (due == LAPIC_NEVER || now_ns < due)
		return;
	uint32_t lvt = l->lvt[LVT_TIMER];
	if (!(lvt & LVT_MASKED))
		lapic_accept(l, lvt & 0xff, 0);
	switch (LVT_TIMER_MODE(lvt)) {
	case TIMER_DEADLINE:
		l->tsc_deadline = 0;
		break;
	case TIMER_PERIODIC:
		timer_load(l, now_ns); /* the next period counts from now: no burst */
		break;
	default:
		l->timer_due_ns = LAPIC_NEVER;
	}
}

uint64_t lapic_deadline_read(const struct lapic *l)
{
	return LVT_TIMER_MODE(l->lvt[LVT_TIMER]) == TIMER_DEADLINE ? l->tsc_deadline : 0;
}

void lapic_deadline_write(struct lapic *l, uint64_t tsc, uint64_t now_ns)
{
	(void)now_ns;
	/* ignored outside TSC-deadline mode (SDM 11.5.4.1) */
	if (LVT_TIMER_MODE(l->lvt[LVT_TIMER]) == TIMER_DEADLINE)
		l->tsc_deadline = tsc;
}

/* --- registers ------------------------------------------------------- */

uint64_t lapic_base_read(const struct lapic *l)
{
	return l->base_msr;
}

int lapic_base_write(struct lapic *l, uint64_t value)
{
	if (value & ~(APIC_BASE_ADDR | APIC_BASE_BSP | APIC_BASE_ENABLE | APIC_BASE_X2APIC) ||
	    (value & APIC_BASE_X2APIC) || (value & APIC_BASE_ADDR) >= (1UL << 40))
		return -1;
	if ((l->base_msr & APIC_BASE_ENABLE) && !(value & APIC_BASE_ENABLE)) {
		/* disabling resets the APIC's state, as a hardware disable does */
		uint64_t tsc0 = l->tsc0, hz = l->tsc_hz;
		lapic_init(l, tsc0, hz);
		for (int i = 0; i < LVT_COUNT; i++)
			l->lvt[i] = LVT_MASKED;
		l->svr = 0xff;
	}
	l->base_msr = (value & ~(uint64_t)APIC_BASE_BSP) | APIC_BASE_BSP;
	return 0;
}

static int lvt_index(unsigned offset)
{
	if (offset >= 0x320 && offset <= 0x370)
		return (int)((offset - 0x320) >> 4);
	return -1;
}

uint32_t lapic_read(struct lapic *l, unsigned offset, uint64_t now_ns)
{
	unsigned reg = offset & 0xff0;
	int lvt = lvt_index(reg);
	if (lvt >= 0)
		return l->lvt[lvt];
	if (reg >= 0x100 && reg < 0x280) {
		unsigned word = (reg >> 4) & 7;
		return reg < 0x180 ? l->isr[word] : reg < 0x200 ? l->tmr[word] : l->irr[word];
	}
	switch (reg) {
	case 0x20: return l->id << 24;
	case 0x30: return 0x00050014;  /* version 0x14, six LVT entries, no EOI-broadcast suppression */
	case 0x80: return l->tpr;
	case 0xa0: return ppr(l);
	case 0xd0: return l->ldr;
	case 0xe0: return l->dfr;
	case 0xf0: return l->svr;
	case 0x280: return l->esr;
	case 0x300: return l->icr_lo & ~(1u << 12); /* delivered at once: never "send pending" */
	case 0x310: return l->icr_hi;
	case 0x380: return l->timer_initial;
	case 0x390: return current_count(l, now_ns);
	case 0x3e0: return l->timer_divide;
	default: return 0;             /* APR, EOI, reserved */
	}
}

/* An IPI the guest sends: only a fixed interrupt to ourselves means
 * anything with one CPU. */
static void send_ipi(struct lapic *l)
{
	unsigned vector = l->icr_lo & 0xff, mode = (l->icr_lo >> 8) & 7, shorthand = (l->icr_lo >> 18) & 3;
	unsigned dest = l->icr_hi >> 24;
	int to_self = shorthand == 1 || shorthand == 2 ||
	              (shorthand == 0 && (((l->icr_lo >> 11) & 1) ? (dest & (l->ldr >> 24)) != 0 : dest == l->id));
	if (mode != 0 || !to_self)
		return;            /* INIT, SIPI, NMI, SMI or another CPU: nobody there */
	if (vector < 16) {
		l->esr_pending |= ESR_SEND_ILLEGAL;
		return;
	}
	lapic_accept(l, vector, 0);
}

int lapic_write(struct lapic *l, unsigned offset, uint32_t value, uint64_t now_ns)
{
	unsigned reg = offset & 0xff0;
	int lvt = lvt_index(reg);
	if (lvt >= 0) {
		uint32_t old = l->lvt[lvt];
		value &= lvt_writable[lvt];
		if (!sw_enabled(l))
			value |= LVT_MASKED;
		if (lvt == LVT_TIMER && LVT_TIMER_MODE(value) == 3)
			value &= ~(3u << 17); /* reserved mode: as one-shot */
		l->lvt[lvt] = value;
		if (lvt == LVT_TIMER && LVT_TIMER_MODE(old) != LVT_TIMER_MODE(value)) {
			/* a change of mode disarms the timer (SDM 11.5.4.1) */
			l->timer_due_ns = LAPIC_NEVER;
			l->tsc_deadline = 0;
			l->timer_initial = 0;
		}
		return -1;
	}
	switch (reg) {
	case 0x20: l->id = value >> 24; break;
	case 0x80: l->tpr = value & 0xff; break;
	case 0xb0: {                   /* EOI: ends the highest interrupt in service */
		int v = highest(l->isr);
		if (v < 0)
			return -1;
		bit_clear(l->isr, (unsigned)v);
		return bit_test(l->tmr, (unsigned)v) ? v : -1;
	}
	case 0xd0: l->ldr = value & 0xff000000; break;
	case 0xe0: l->dfr = value | 0x0fffffff; break;
	case 0xf0:
		l->svr = value & 0x13ff;
		if (!(value & SVR_ENABLE))
			for (int i = 0; i < LVT_COUNT; i++)
				l->lvt[i] |= LVT_MASKED;
		break;
	case 0x280:
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		break;
	case 0x300:
		l->icr_lo = value & 0x000cdfff;
		send_ipi(l);
		break;
	case 0x310: l->icr_hi = value & 0xff000000; break;
	case 0x380:
		if (LVT_TIMER_MODE(l->lvt[LVT_TIMER]) == TIMER_DEADLINE)
			break;                 /* ignored in TSC-deadline mode */
		l->timer_initial = value;
		timer_load(l, now_ns);
		break;
	case 0x3e0: {
		/* keep the count running at the new rate from now on */
		uint32_t left = current_count(l, now_ns);
		l->timer_divide = value & 0xb;
		if (l->timer_due_ns != LAPIC_NEVER)
			l->timer_due_ns = now_ns + (uint64_t)left * ns_per_count(l);
		break;
	}
	default:
		break;                     /* read-only or reserved */
	}
	return -1;
}
