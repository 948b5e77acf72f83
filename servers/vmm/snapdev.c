/* The device models' state in a snapshot: one field list per model (snapdev.h). */
#include <string.h>
#include "snapdev.h"

static void f8(struct snap_io *io, uint8_t *v)
{
	if (io->measure)
		io->b.at += 1;
	else if (io->load)
		*v = snap_get8(&io->b);
	else
		snap_put8(&io->b, *v);
}

static void f16(struct snap_io *io, uint16_t *v)
{
	if (io->measure)
		io->b.at += 2;
	else if (io->load)
		*v = snap_get16(&io->b);
	else
		snap_put16(&io->b, *v);
}

static void f32(struct snap_io *io, uint32_t *v)
{
	if (io->measure)
		io->b.at += 4;
	else if (io->load)
		*v = snap_get32(&io->b);
	else
		snap_put32(&io->b, *v);
}

static void f64(struct snap_io *io, uint64_t *v)
{
	if (io->measure)
		io->b.at += 8;
	else if (io->load)
		*v = snap_get64(&io->b);
	else
		snap_put64(&io->b, *v);
}

static void fbytes(struct snap_io *io, void *v, size_t n)
{
	if (io->measure)
		io->b.at += n;
	else if (io->load)
		snap_getn(&io->b, v, n);
	else
		snap_putn(&io->b, v, n);
}

/* Loading: the section must have been exactly this long. */
static const char *done(struct snap_io *io, const char *bad)
{
	if (io->measure || !io->load)
		return 0;
	if (io->b.overflow || io->b.at != io->b.len)
		return "its length is not this model's";
	return bad;
}

const char *snapdev_uart(struct snap_io *io, struct uart16550 *u)
{
	f8(io, &u->ier);
	f8(io, &u->lcr);
	f8(io, &u->mcr);
	f8(io, &u->fcr);
	f8(io, &u->scr);
	f8(io, &u->dll);
	f8(io, &u->dlm);
	fbytes(io, u->rx_fifo, sizeof(u->rx_fifo));
	f8(io, &u->rx_head);
	f8(io, &u->rx_count);
	f8(io, &u->rbr);
	f8(io, &u->overrun);
	f8(io, &u->thre_pending);
	f8(io, &u->msr_delta);
	const char *bad = 0;
	if (io->load && (u->rx_head >= UART_RX_FIFO_SIZE || u->rx_count > UART_RX_FIFO_SIZE))
		bad = "the UART's receive FIFO index is out of range";
	return done(io, bad);
}

const char *snapdev_pic(struct snap_io *io, struct pic8259 pic[2])
{
	for (int i = 0; i < 2; i++) {
		f8(io, &pic[i].irr);
		f8(io, &pic[i].isr);
		f8(io, &pic[i].imr);
		f8(io, &pic[i].base);
		f8(io, &pic[i].icw_step);
		f8(io, &pic[i].icw4_needed);
		f8(io, &pic[i].read_isr);
	}
	const char *bad = 0;
	if (io->load && (pic[0].icw_step > 3 || pic[1].icw_step > 3))
		bad = "an 8259's initialization step is out of range";
	return done(io, bad);
}

static const char *pit_channel(struct snap_io *io, struct pit_channel *c)
{
	f8(io, &c->control);
	f8(io, &c->mode);
	f8(io, &c->access);
	f8(io, &c->bcd);
	f8(io, &c->gate);
	f16(io, &c->cr);
	f8(io, &c->cr_written);
	f8(io, &c->null_count);
	f8(io, &c->write_msb_next);
	f8(io, &c->pending_lsb);
	f8(io, &c->read_msb_next);
	f8(io, &c->count_latched);
	f8(io, &c->status_latched);
	f16(io, &c->latched_count);
	f8(io, &c->latched_status);
	f8(io, &c->running);
	f8(io, &c->held);
	f8(io, &c->stopped_out);
	f16(io, &c->frozen_ce);
	f32(io, &c->n);
	f64(io, &c->base_tick);
	f64(io, &c->base_pos);
	f8(io, &c->load_pending);
	f8(io, &c->load_low_half);
	f64(io, &c->load_tick);
	f64(io, &c->edges_tick);
	f64(io, &c->edges);
	if (!io->load)
		return 0;
	/* the model switches on mode and, while counting, divides by n */
	if (c->mode > 5 || c->access > 3 || (c->running && (c->n < 1 || c->n > 65536)))
		return "an 8254 counter's mode, count or access is out of range";
	return 0;
}

const char *snapdev_pit(struct snap_io *io, struct pit8254 *p)
{
	const char *bad = 0;
	for (int i = 0; i < 3; i++) {
		const char *b = pit_channel(io, &p->ch[i]);
		if (!bad)
			bad = b;
	}
	f8(io, &p->port_b);
	f8(io, &p->refresh);
	f64(io, &p->tick);
	return done(io, bad);
}

const char *snapdev_rtc(struct snap_io *io, struct rtc *r)
{
	fbytes(io, r->cmos, sizeof(r->cmos));
	f8(io, &r->index);
	f8(io, &r->nmi_masked);
	f64(io, (uint64_t *)&r->offset_sec);
	f32(io, &r->offset_ns);
	f64(io, &r->last_ns);
	const char *bad = 0;
	/* a guest sets its date through CMOS registers, so its offset from the
	 * host's is within a few thousand years; the model multiplies it */
	if (io->load && (r->index >= CMOS_SIZE || r->offset_ns >= 1000000000u || r->offset_sec > (1LL << 40) ||
	                 r->offset_sec < -(1LL << 40)))
		bad = "the RTC's register index or time offset is out of range";
	return done(io, bad);
}

const char *snapdev_lapic(struct snap_io *io, struct lapic *l)
{
	f64(io, &l->base_msr);
	f32(io, &l->id);
	f32(io, &l->tpr);
	f32(io, &l->ldr);
	f32(io, &l->dfr);
	f32(io, &l->svr);
	f32(io, &l->esr);
	f32(io, &l->esr_pending);
	f32(io, &l->icr_lo);
	f32(io, &l->icr_hi);
	for (int i = 0; i < LVT_COUNT; i++)
		f32(io, &l->lvt[i]);
	for (int i = 0; i < 8; i++) {
		f32(io, &l->irr[i]);
		f32(io, &l->isr[i]);
		f32(io, &l->tmr[i]);
	}
	f32(io, &l->timer_initial);
	f32(io, &l->timer_divide);
	f64(io, &l->timer_start_ns);
	f64(io, &l->timer_due_ns);
	f64(io, &l->tsc_deadline);
	/* tsc0 and tsc_hz are the host's: the restoring VMM keeps its own */
	return done(io, 0);
}

const char *snapdev_ioapic(struct snap_io *io, struct ioapic *a)
{
	f32(io, &a->id);
	f32(io, &a->select);
	for (int i = 0; i < IOAPIC_PINS; i++)
		f64(io, &a->redir[i]);
	f32(io, &a->lines);
	return done(io, 0);
}

const char *snapdev_pm(struct snap_io *io, struct acpi_pm *pm)
{
	f16(io, &pm->pm1_sts);
	f16(io, &pm->pm1_en);
	f16(io, &pm->pm1_cnt);
	f16(io, &pm->gpe0_sts);
	f16(io, &pm->gpe0_en);
	f8(io, &pm->rst_cnt);
	f64(io, &pm->seen_ticks);
	return done(io, 0);
}

const char *snapdev_kbc(struct snap_io *io, struct i8042 *k)
{
	fbytes(io, k->ram, sizeof(k->ram));
	f8(io, &k->output_port);
	f8(io, &k->last_was_command);
	f8(io, &k->pending);
	fbytes(io, k->queue, sizeof(k->queue));
	fbytes(io, k->queue_flags, sizeof(k->queue_flags));
	f8(io, &k->head);
	f8(io, &k->count);
	f8(io, &k->last_read);
	uint32_t irqs = k->irqs;
	f32(io, &irqs);
	const char *bad = 0;
	if (io->load) {
		k->irqs = irqs;
		if (k->head >= I8042_QUEUE || k->count > I8042_QUEUE)
			bad = "the keyboard controller's queue index is out of range";
	}
	return done(io, bad);
}

const char *snapdev_pvclock(struct snap_io *io, struct pvclock *c)
{
	f64(io, &c->system_time_msr);
	f64(io, &c->wall_clock_msr);
	f32(io, &c->version);
	return done(io, 0);
}

static const char *snapdev_pci_config_part(struct snap_io *io, struct pci_device *d)
{
	fbytes(io, d->config, sizeof(d->config));
	return 0;
}

const char *snapdev_pci_config(struct snap_io *io, struct pci_device *d)
{
	snapdev_pci_config_part(io, d);
	return done(io, 0);
}

const char *snapdev_virtio(struct snap_io *io, struct virtio_pci *vp)
{
	const char *bad = snapdev_pci_config_part(io, &vp->pci);
	uint32_t irq_level = (uint32_t)vp->irq_level;
	f32(io, &irq_level);
	f64(io, &vp->host_features);
	f64(io, &vp->driver_features);
	f32(io, &vp->dfselect);
	f32(io, &vp->gfselect);
	f8(io, &vp->status);
	f8(io, &vp->generation);
	f8(io, &vp->isr);
	f16(io, &vp->queue_select);
	for (unsigned i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++) {
		struct vqd *q = &vp->queues[i];
		uint32_t ready = (uint32_t)q->ready, broken = (uint32_t)q->broken;
		f16(io, &q->size);
		f32(io, &ready);
		f32(io, &broken);
		f64(io, &q->desc_gpa);
		f64(io, &q->avail_gpa);
		f64(io, &q->used_gpa);
		f16(io, &q->last_avail);
		f16(io, &q->used_idx);
		if (io->load) {
			q->ready = ready != 0;
			q->broken = broken != 0;
			q->error = q->broken ? "it was broken when the snapshot was taken" : 0;
			if (q->ready && (i >= vp->num_queues || !q->size || q->size > vp->queue_max ||
			                 (q->size & (q->size - 1))))
				bad = bad ? bad : "a virtio queue's size is not one its device allows";
		}
	}
	if (io->load) {
		vp->irq_level = irq_level != 0;
		vp->error = vp->status & VIRTIO_STATUS_NEEDS_RESET ? "it needed a reset when the snapshot was taken" : 0;
	}
	return done(io, bad);
}
