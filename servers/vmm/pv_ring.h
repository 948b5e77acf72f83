/*
 * mode=pv's console ring, the VMM's side (pure C; tests/unit/test_pv_ring.c).
 * The ring is in guest memory (pv_abi.h, struct pv_console): the guest
 * writes bytes and advances out_prod; we copy out what lies between our
 * own consumer index, which the guest cannot touch, and out_prod, and
 * publish our index in out_cons for the guest to see the room.  out_prod
 * is read once and trusted for nothing: a value more than a ring ahead of
 * ours is garbage, and what it claims is dropped.
 *
 * How the VMM uses it (pv.c): on the guest's console event and on every
 * timer tick,
 *   int n = pv_console_take(ring, &our_cons, bytes);   bytes: PV_CONSOLE_OUT_SIZE
 * then writes n bytes to the VM's console; n < 0 means the guest's index
 * was garbage (say so once).
 */
#ifndef VMM_PV_RING_H
#define VMM_PV_RING_H

#include <stdint.h>
#include "pv_abi.h"

int pv_console_take(struct pv_console *ring, uint32_t *cons, uint8_t out[PV_CONSOLE_OUT_SIZE]);

#endif
