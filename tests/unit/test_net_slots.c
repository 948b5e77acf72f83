/* Host unit tests for servers/drivers/virtio_net/slots.c: who holds each
 * slot of the buffer the virtio-net driver shares with its client, and
 * the all-or-nothing checks on the client's transmit and give-back lists
 * (ranges, ownership, duplicates, lengths, counts), the receive length
 * rule, ending a session with frames in every state, and a random walk
 * that checks every slot is held by exactly one party. */
// unit-under-test: servers/drivers/virtio_net/slots.c
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "../../servers/drivers/virtio_net/slots.h"

#define RX 8
#define TX 4
#define HDR 12

static struct slots s;

static void test_init(void)
{
	CHECK(slots_init(&s, 0, 4) == -1 && slots_init(&s, 4, 0) == -1, "no receive or no transmit slots: refused");
	CHECK(slots_init(&s, 100, 29) == -1, "more than SLOTS_MAX slots: refused");
	CHECK(slots_init(&s, RX, TX) == 0, "8 + 4 slots");
	int ok = 1;
	for (unsigned i = 0; i < RX; i++)
		ok &= s.state[i] == RX_DEVICE;
	for (unsigned i = RX; i < RX + TX; i++)
		ok &= s.state[i] == TX_CLIENT;
	CHECK(ok, "receive slots start on the device, transmit slots the client's");
}

static void test_transmit_checks(void)
{
	slots_init(&s, RX, TX);
	uint16_t slot[40], len[40];
	for (unsigned i = 0; i < 40; i++) {
		slot[i] = (uint16_t)(RX + i % TX);
		len[i] = 60;
	}
	CHECK(slots_check_transmit(&s, 0, slot, len) == 0, "an empty list is fine");
	CHECK(slots_check_transmit(&s, TX, slot, len) == 0, "every transmit slot once is fine");
	CHECK(slots_check_transmit(&s, 33, slot, len) == -1, "a count of 33: refused");
	CHECK(slots_check_transmit(&s, TX + 1, slot, len) == -1, "a slot twice: refused");
	uint16_t one[1] = { 0 }, l[1] = { 60 };
	CHECK(slots_check_transmit(&s, 1, one, l) == -1, "a receive slot: refused");
	one[0] = RX + TX;
	CHECK(slots_check_transmit(&s, 1, one, l) == -1, "past the last slot: refused");
	one[0] = 65535;
	CHECK(slots_check_transmit(&s, 1, one, l) == -1, "65535: refused");
	one[0] = RX;
	uint16_t lens[] = { 0, 13, 1515, 65535 };
	int refused = 0;
	for (unsigned i = 0; i < 4; i++) {
		l[0] = lens[i];
		refused += slots_check_transmit(&s, 1, one, l) == -1;
	}
	CHECK(refused == 4, "lengths 0, 13, 1515, 65535: refused");
	l[0] = 14;
	int fine = slots_check_transmit(&s, 1, one, l) == 0;
	l[0] = 1514;
	fine &= slots_check_transmit(&s, 1, one, l) == 0;
	CHECK(fine, "lengths 14 and 1514 are fine");
	slots_to_device(&s, RX);
	l[0] = 60;
	CHECK(slots_check_transmit(&s, 1, one, l) == -1 && s.state[RX] == TX_DEVICE,
	      "a slot on the device: refused, still on the device");
	slots_tx_finished(&s, RX);
	CHECK(slots_check_transmit(&s, 1, one, l) == -1 && s.state[RX] == TX_DONE,
	      "a done slot not yet given back: refused");
	uint16_t done[32];
	CHECK(slots_take_done(&s, 32, done) == 1 && done[0] == RX && slots_check_transmit(&s, 1, one, l) == 0,
	      "once given back it is the client's again");
}

static void test_receive(void)
{
	slots_init(&s, RX, TX);
	CHECK(slots_rx_length(HDR + 60, HDR) == 60, "a 60-byte frame");
	CHECK(slots_rx_length(HDR + 14, HDR) == 14 && slots_rx_length(HDR + 1514, HDR) == 1514, "14 and 1514 bytes");
	CHECK(slots_rx_length(HDR + 13, HDR) == -1 && slots_rx_length(HDR, HDR) == -1 && slots_rx_length(3, HDR) == -1,
	      "runts and lengths short of the header: dropped");
	CHECK(slots_rx_length(HDR + 1515, HDR) == -1 && slots_rx_length(HDR + 2048, HDR) == -1, "oversize: dropped");
	CHECK(slots_rx_length(HDR + 2049, HDR) == -1 && slots_rx_length(0xffffffffu, HDR) == -1,
	      "a length past the buffer: dropped");

	slots_rx_ready(&s, 3, 100);
	slots_rx_ready(&s, 1, 200);
	slots_rx_ready(&s, 5, 300);
	uint16_t slot[32], len[32];
	CHECK(slots_take_ready(&s, 2, slot, len) == 2 && slot[0] == 3 && len[0] == 100 && slot[1] == 1 && len[1] == 200,
	      "ready frames come out oldest first, at most max");
	uint16_t give[2] = { 5, 0 };
	CHECK(slots_check_give_back(&s, 1, give) == -1, "a ready slot not yet handed out cannot be given back");
	give[0] = 0;
	CHECK(slots_check_give_back(&s, 1, give) == -1, "nor one on the device");
	give[0] = RX;
	CHECK(slots_check_give_back(&s, 1, give) == -1, "nor a transmit slot");
	give[0] = 3;
	give[1] = 3;
	CHECK(slots_check_give_back(&s, 2, give) == -1, "nor one slot twice in a list");
	give[1] = 1;
	CHECK(slots_check_give_back(&s, 2, give) == 0, "the two handed out: fine");
	CHECK(slots_check_give_back(&s, 33, give) == -1, "a count of 33: refused");
	slots_to_device(&s, 3);
	CHECK(s.state[3] == RX_DEVICE && slots_check_give_back(&s, 1, give) == -1, "given back twice: refused");
}

static void test_end_session(void)
{
	slots_init(&s, RX, TX);
	uint16_t slot[32], len[32], repost[SLOTS_MAX];
	slots_rx_ready(&s, 0, 60);
	slots_rx_ready(&s, 1, 60);
	slots_take_ready(&s, 1, slot, len);           /* 0 the client's, 1 ready */
	slots_to_device(&s, RX);                       /* on the device */
	slots_to_device(&s, RX + 1);
	slots_tx_finished(&s, RX + 1);                 /* done */
	unsigned n = slots_end_session(&s, repost);
	CHECK(n == 2 && repost[0] == 0 && repost[1] == 1 && s.state[0] == RX_DEVICE && s.state[1] == RX_DEVICE,
	      "the receive slots the client held or had not taken go back to the device");
	CHECK(s.state[RX] == TX_ORPHAN && s.state[RX + 1] == TX_CLIENT && slots_orphans(&s) == 1,
	      "a queued transmit slot becomes an orphan, a done one the next client's");
	CHECK(s.ready_count == 0 && s.done_count == 0, "nothing ready or done is left for the next client");
	slots_tx_finished(&s, RX);
	uint16_t done[32];
	CHECK(s.state[RX] == TX_CLIENT && slots_orphans(&s) == 0 && slots_take_done(&s, 32, done) == 0,
	      "the orphan, once finished, is the client's without being reported done");
}

/* A random walk of a client, a device and session ends: after every
 * step each slot is in exactly one place, as the client and device
 * models say. */
static void test_random(void)
{
	slots_init(&s, RX, TX);
	enum { DEV, CLI, RDY, DONE, ORPH } where[RX + TX];
	for (unsigned i = 0; i < RX + TX; i++)
		where[i] = i < RX ? DEV : CLI;
	srand(7);
	int bad = 0;
	for (int step = 0; step < 20000 && !bad; step++) {
		unsigned k = (unsigned)rand() % (RX + TX);
		uint16_t one[1] = { (uint16_t)k }, l[1] = { 60 }, out[32], ol[32], rep[SLOTS_MAX];
		switch (rand() % 6) {
		case 0: /* the device fills or finishes slot k */
			if (k < RX && where[k] == DEV) {
				slots_rx_ready(&s, (uint16_t)k, 60);
				where[k] = RDY;
			} else if (k >= RX && (where[k] == DEV || where[k] == ORPH)) {
				slots_tx_finished(&s, (uint16_t)k);
				where[k] = where[k] == DEV ? DONE : CLI;
			}
			break;
		case 1: { /* the client gives k back or sends it */
			int ok = k < RX ? slots_check_give_back(&s, 1, one) == 0 : slots_check_transmit(&s, 1, one, l) == 0;
			bad |= ok != (where[k] == CLI);
			if (ok) {
				slots_to_device(&s, (uint16_t)k);
				where[k] = DEV;
			}
			break;
		}
		case 2: {
			unsigned n = slots_take_ready(&s, 1 + (unsigned)rand() % 32, out, ol);
			for (unsigned i = 0; i < n; i++) {
				bad |= where[out[i]] != RDY;
				where[out[i]] = CLI;
			}
			break;
		}
		case 3: {
			unsigned n = slots_take_done(&s, 1 + (unsigned)rand() % 32, out);
			for (unsigned i = 0; i < n; i++) {
				bad |= where[out[i]] != DONE;
				where[out[i]] = CLI;
			}
			break;
		}
		case 4:
			if (rand() % 50 == 0) {
				unsigned n = slots_end_session(&s, rep);
				for (unsigned i = 0; i < n; i++)
					where[rep[i]] = DEV;
				for (unsigned i = RX; i < RX + TX; i++)
					where[i] = where[i] == DEV ? ORPH : where[i] == DONE ? CLI : where[i];
			}
			break;
		default:
			break;
		}
		unsigned ready = 0, done = 0;
		for (unsigned i = 0; i < RX + TX; i++) {
			static const uint8_t rx_of[] = { RX_DEVICE, RX_CLIENT, RX_READY, 255, 255 };
			static const uint8_t tx_of[] = { TX_DEVICE, TX_CLIENT, 255, TX_DONE, TX_ORPHAN };
			bad |= s.state[i] != (i < RX ? rx_of[where[i]] : tx_of[where[i]]);
			ready += where[i] == RDY;
			done += where[i] == DONE;
		}
		bad |= ready != s.ready_count || done != s.done_count;
	}
	CHECK(!bad, "20000 random steps: every slot held by exactly one party, as the models say");
}

int main(void)
{
	test_init();
	test_transmit_checks();
	test_receive();
	test_end_session();
	test_random();
	return unit_done();
}
