/* Slot ownership between the driver, the device and the client (see
 * slots.h). */
#include "slots.h"

int slots_init(struct slots *s, unsigned rx, unsigned tx)
{
	if (rx == 0 || tx == 0 || rx + tx > SLOTS_MAX)
		return -1;
	s->rx = (uint16_t)rx;
	s->tx = (uint16_t)tx;
	for (unsigned i = 0; i < SLOTS_MAX; i++) {
		s->state[i] = i < rx ? RX_DEVICE : TX_CLIENT;
		s->len[i] = 0;
	}
	s->ready_first = s->ready_count = 0;
	s->done_count = 0;
	return 0;
}

int slots_is_rx(const struct slots *s, uint16_t slot)
{
	return slot < s->rx;
}

/* Every entry in [first, first + n), held by the client in `want`, and
 * none named twice. */
static int check_list(const struct slots *s, unsigned count, const uint16_t *slot, unsigned first, unsigned n,
                      uint8_t want)
{
	if (count > BATCH_MAX)
		return -1;
	for (unsigned i = 0; i < count; i++) {
		if (slot[i] < first || slot[i] >= first + n || s->state[slot[i]] != want)
			return -1;
		for (unsigned j = 0; j < i; j++)
			if (slot[j] == slot[i])
				return -1;
	}
	return 0;
}

int slots_check_give_back(const struct slots *s, unsigned count, const uint16_t *slot)
{
	return check_list(s, count, slot, 0, s->rx, RX_CLIENT);
}

int slots_check_transmit(const struct slots *s, unsigned count, const uint16_t *slot, const uint16_t *len)
{
	if (check_list(s, count, slot, s->rx, s->tx, TX_CLIENT))
		return -1;
	for (unsigned i = 0; i < count; i++)
		if (len[i] < FRAME_MIN || len[i] > FRAME_MAX)
			return -1;
	return 0;
}

void slots_to_device(struct slots *s, uint16_t slot)
{
	s->state[slot] = slots_is_rx(s, slot) ? RX_DEVICE : TX_DEVICE;
}

int slots_rx_length(uint32_t written, uint32_t hdr)
{
	if (written < hdr || written - hdr > SLOT_BYTES)
		return -1;
	uint32_t len = written - hdr;
	if (len < FRAME_MIN || len > FRAME_MAX)
		return -1;
	return (int)len;
}

void slots_rx_ready(struct slots *s, uint16_t slot, uint16_t len)
{
	s->state[slot] = RX_READY;
	s->len[slot] = len;
	s->ready[(s->ready_first + s->ready_count) % SLOTS_MAX] = slot;
	s->ready_count++;
}

unsigned slots_take_ready(struct slots *s, unsigned max, uint16_t *slot, uint16_t *len)
{
	unsigned n = 0;
	while (n < max && s->ready_count) {
		uint16_t r = s->ready[s->ready_first];
		s->ready_first = (s->ready_first + 1) % SLOTS_MAX;
		s->ready_count--;
		s->state[r] = RX_CLIENT;
		slot[n] = r;
		len[n] = s->len[r];
		n++;
	}
	return n;
}

void slots_tx_finished(struct slots *s, uint16_t slot)
{
	if (s->state[slot] == TX_ORPHAN) {
		s->state[slot] = TX_CLIENT;
		return;
	}
	s->state[slot] = TX_DONE;
	s->done[s->done_count++] = slot;
}

unsigned slots_take_done(struct slots *s, unsigned max, uint16_t *slot)
{
	unsigned n = 0;
	while (n < max && s->done_count) {
		uint16_t d = s->done[--s->done_count];
		s->state[d] = TX_CLIENT;
		slot[n++] = d;
	}
	return n;
}

unsigned slots_end_session(struct slots *s, uint16_t *repost)
{
	unsigned n = 0;
	for (uint16_t i = 0; i < s->rx + s->tx; i++) {
		switch (s->state[i]) {
		case RX_READY:
		case RX_CLIENT:
			s->state[i] = RX_DEVICE;
			repost[n++] = i;
			break;
		case TX_DEVICE:
			s->state[i] = TX_ORPHAN;
			break;
		case TX_DONE:
			s->state[i] = TX_CLIENT;
			break;
		default:
			break;
		}
	}
	s->ready_first = s->ready_count = 0;
	s->done_count = 0;
	return n;
}

unsigned slots_orphans(const struct slots *s)
{
	unsigned n = 0;
	for (unsigned i = s->rx; i < (unsigned)s->rx + s->tx; i++)
		n += s->state[i] == TX_ORPHAN;
	return n;
}
