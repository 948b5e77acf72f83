/* mode=pv's console ring drained (pv_ring.h). */
#include "pv_ring.h"

int pv_console_take(struct pv_console *ring, uint32_t *cons, uint8_t out[PV_CONSOLE_OUT_SIZE])
{
	uint32_t prod = ring->out_prod, n = prod - *cons;   /* both wrap at 2^32: the difference is right */
	if (n > PV_CONSOLE_OUT_SIZE) {
		*cons = prod;
		ring->out_cons = prod;
		return -1;
	}
	for (uint32_t i = 0; i < n; i++)
		out[i] = ring->out[(*cons + i) & (PV_CONSOLE_OUT_SIZE - 1)];
	*cons = prod;
	ring->out_cons = prod;
	return (int)n;
}
