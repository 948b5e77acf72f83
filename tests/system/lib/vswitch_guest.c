/* See vswitch_guest.h. */
#include <libipc/libipc.h>
#include <string.h>
#include "vswitch.h"
#include "vswitch_guest.h"

#define SLOT 2048
#define NOTIFY_BIT 1
#define TIMER_BIT 2

static uint64_t port, port_send;

long vsw_guest_port(uint64_t *send)
{
	long err = E_OK;
	if (!port) {
		port_send = slot_alloc();
		err = object_alloc(OBJ_PORT, 0, &port);
		err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, port_send, RIGHT_SEND, 0);
	}
	*send = port_send;
	return err;
}

void vsw_guest_nap(void)
{
	struct msg m;
	uint64_t send;
	if (vsw_guest_port(&send))
		return;
	sys_notify_after(send, TIMER_BIT, 1);
	do
		ipc_recv(port, 0, &m);
	while (!(m.w[0] & TIMER_BIT));
}

long vsw_guest_attach(struct vsw_guest *g, uint64_t sw)
{
	uint64_t send;
	long err = vsw_guest_port(&send);
	err = err ? err
	          : vswitch_attach(sw, g->name, send, NOTIFY_BIT, g->ip, &g->session, &g->pages, &g->rx, &g->tx, &g->mac,
	                           &g->ip, &g->prefix, &g->gateway);
	if (err)
		return err;
	if (g->pages > 64 || g->rx + g->tx > 64 || (g->rx + g->tx) * SLOT > g->pages * 4096)
		return E_BAD_MSG;
	for (uint32_t p = 0; p < g->pages && !err; p++) {
		if (g->frames[p]) {
			sys_page_unmap(g->frames[p]);
			sys_cnode_delete(g->frames[p]);
			slot_free(g->frames[p]);
			g->frames[p] = 0;
		}
		err = vswitch_buffer_frame(g->session, p, &g->frames[p]);
		err = err ? err : page_map_with_tables(g->frames[p], g->vaddr + p * 4096UL, RIGHT_READ | RIGHT_WRITE);
	}
	g->tx_free_count = g->give_count = 0;
	for (uint32_t i = 0; i < g->tx; i++)
		g->tx_free[g->tx_free_count++] = (uint16_t)(g->rx + i);
	return err;
}

long vsw_guest_send(struct vsw_guest *g, const uint8_t *frame, unsigned len)
{
	uint32_t n;
	uint16_t done[32], slot[32], lens[32];
	if (!g->tx_free_count) {
		long err = vswitch_reclaim(g->session, &n, done);
		if (err)
			return err;
		for (uint32_t i = 0; i < n && i < 32 && g->tx_free_count < 64; i++)
			g->tx_free[g->tx_free_count++] = done[i];
		if (!g->tx_free_count)
			return E_LIMIT;
	}
	slot[0] = g->tx_free[--g->tx_free_count];
	lens[0] = (uint16_t)len;
	memcpy((uint8_t *)g->vaddr + slot[0] * SLOT, frame, len);
	long err = vswitch_transmit(g->session, 1, slot, lens, &n, done);
	for (uint32_t i = 0; !err && i < n && i < 32 && g->tx_free_count < 64; i++)
		g->tx_free[g->tx_free_count++] = done[i];
	return err;
}

unsigned vsw_guest_recv(struct vsw_guest *g, uint8_t *buf, int (*want)(const uint8_t *buf, unsigned len), int ticks)
{
	for (int t = 0; t < ticks; t++) {
		uint32_t got;
		uint16_t slot[32], len[32];
		if (vswitch_receive(g->session, g->give_count, g->give, &got, slot, len))
			return 0;
		g->give_count = 0;
		unsigned found = 0;
		for (uint32_t i = 0; i < got && i < 32; i++) {
			g->give[g->give_count++] = slot[i];
			if (!found && len[i] <= SLOT && slot[i] < g->rx) {
				memcpy(buf, (uint8_t *)g->vaddr + slot[i] * SLOT, len[i]);
				if (want(buf, len[i]))
					found = len[i];
			}
		}
		if (found)
			return found;
		vsw_guest_nap();
	}
	return 0;
}
