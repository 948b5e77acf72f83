/* See net_client.h. */
#include <libipc/libipc.h>
#include "net_client.h"
#include "netif.h"
#include "init.h"

#define INIT 8
#define DRIVER_BIT 1
#define TIMER_BIT 2
#define SLOT_BYTES 2048

static void drop(uint64_t *slot, int unmap)
{
	if (*slot) {
		if (unmap)
			sys_page_unmap(*slot);
		sys_cnode_delete(*slot);
		slot_free(*slot);
		*slot = 0;
	}
}

int net_gone(long err)
{
	return err == E_NO_REPLY || err == E_DEAD_PORT || err == E_BAD_CAP;
}

void net_forget(struct net_client *c)
{
	for (unsigned p = 0; p < NET_MAX_PAGES; p++)
		drop(&c->frames[p], 1);
	drop(&c->session, 0);
	drop(&c->published, 0);
	c->tx_free_count = c->give_count = c->got_count = c->got_first = 0;
}

static void nap(struct net_client *c)
{
	struct msg m;
	sys_notify_after(c->port_send, TIMER_BIT, 1);
	do
		ipc_recv(c->port, 0, &m);
	while (!(m.w[0] & TIMER_BIT));
}

long net_connect(struct net_client *c, int tries)
{
	long err = E_OK;
	if (!c->port) {
		c->port_send = slot_alloc();
		err = object_alloc(OBJ_PORT, 0, &c->port);
		err = err ? err : sys_cnode_mint(c->port, CAP_ROOT_CNODE, c->port_send, RIGHT_SEND, 0);
		if (err)
			return err;
	}
	for (int i = 0; i < tries; i++) {
		if ((err = init_lookup(INIT, c->nic, &c->published)) == E_OK)
			break;
		nap(c);
	}
	uint32_t mtu, flags;
	err = err ? err : netif_info(c->published, &c->mac, &mtu, &flags);
	err = err ? err : netif_attach(c->published, c->name, c->port_send, DRIVER_BIT, &c->session, &c->pages, &c->rx,
	                               &c->tx);
	if (!err && (c->pages > NET_MAX_PAGES || (uint64_t)(c->rx + c->tx) * SLOT_BYTES > (uint64_t)c->pages * 4096))
		err = E_RANGE;
	for (unsigned p = 0; !err && p < c->pages; p++) {
		err = netif_buffer_frame(c->session, p, &c->frames[p]);
		err = err ? err : page_map_with_tables(c->frames[p], c->vaddr + p * 4096, RIGHT_READ | RIGHT_WRITE);
	}
	c->tx_free_count = 0;
	for (unsigned i = 0; !err && i < c->tx; i++)
		c->tx_free[c->tx_free_count++] = (uint16_t)(c->rx + i);
	c->give_count = c->got_count = c->got_first = 0;
	return err;
}

static uint8_t *slot_at(struct net_client *c, unsigned slot)
{
	return (uint8_t *)(c->vaddr + (uint64_t)slot * SLOT_BYTES);
}

static void took_back(struct net_client *c, uint32_t n, const uint16_t *done)
{
	for (uint32_t i = 0; i < n; i++)
		c->tx_free[c->tx_free_count++] = done[i];
}

long net_send(struct net_client *c, const void *frame, unsigned len)
{
	uint16_t done[32], slot[32] = { 0 }, lens[32] = { 0 };
	uint32_t n;
	long err;
	for (int tries = 0; !c->tx_free_count; tries++) {
		if ((err = netif_reclaim(c->session, &n, done)))
			return err;
		took_back(c, n, done);
		if (!c->tx_free_count) {
			if (tries > 300)
				return E_LIMIT;
			nap(c);
		}
	}
	slot[0] = c->tx_free[--c->tx_free_count];
	lens[0] = (uint16_t)len;
	memcpy(slot_at(c, slot[0]), frame, len);
	err = netif_transmit(c->session, 1, slot, lens, &n, done);
	if (err) {
		c->tx_free[c->tx_free_count++] = slot[0];
		return err;
	}
	took_back(c, n, done);
	return E_OK;
}

long net_recv(struct net_client *c, void *buf, unsigned max, unsigned *len, uint64_t ticks)
{
	int timer = 0, expired = 0;
	while (!c->got_count) {
		uint32_t got;
		long err = netif_receive(c->session, c->give_count, c->give, &got, c->got_slot, c->got_len);
		if (err)
			return err;
		c->give_count = 0;
		c->got_first = 0;
		c->got_count = got;
		if (got)
			break;
		if (expired)
			return E_LIMIT;
		if (!timer) {
			sys_notify_after(c->port_send, TIMER_BIT, ticks);
			timer = 1;
		}
		struct msg m;
		ipc_recv(c->port, 0, &m);
		if (MSG_LABEL(m.info) == LABEL_NOTIFY && (m.w[0] & DRIVER_BIT))
			c->wakes++;
		if (MSG_LABEL(m.info) == LABEL_NOTIFY && (m.w[0] & TIMER_BIT))
			expired = 1;   /* one more look, then give up */
	}
	if (timer)
		sys_notify_after(c->port_send, 0, 0);
	uint16_t slot = c->got_slot[c->got_first], l = c->got_len[c->got_first];
	c->got_first++;
	c->got_count--;
	memcpy(buf, slot_at(c, slot), l < max ? l : max);
	*len = l;
	c->give[c->give_count++] = slot;
	return E_OK;
}
