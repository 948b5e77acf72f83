/* Host unit tests for servers/vmm/pv_ring.c, mode=pv's console ring as
 * the VMM drains it: bytes in order across the wrap of the ring and of
 * the 32-bit indices, a full ring, nothing new, and a guest whose indices
 * are garbage (its consumer index ignored, a producer index more than a
 * ring ahead or behind dropped, once, and the ring usable after). */
// unit-under-test: servers/vmm/pv_ring.c
#include <stdint.h>
#include <string.h>
#include "unit.h"
#include "../../servers/vmm/pv_ring.h"

static struct pv_console ring;
static uint8_t out[PV_CONSOLE_OUT_SIZE];

static void put(const char *s)
{
	for (; *s; s++)
		ring.out[ring.out_prod++ & (PV_CONSOLE_OUT_SIZE - 1)] = (uint8_t)*s;
}

int main(void)
{
	uint32_t cons = 0;
	CHECK(pv_console_take(&ring, &cons, out) == 0, "an empty ring gives nothing");
	put("hello\n");
	int n = pv_console_take(&ring, &cons, out);
	CHECK(n == 6 && !memcmp(out, "hello\n", 6) && cons == 6 && ring.out_cons == 6, "a line, and out_cons published");
	CHECK(pv_console_take(&ring, &cons, out) == 0, "nothing new: nothing");

	/* across the end of the ring */
	ring.out_prod = cons = PV_CONSOLE_OUT_SIZE - 3;
	put("wrapped");
	n = pv_console_take(&ring, &cons, out);
	CHECK(n == 7 && !memcmp(out, "wrapped", 7), "bytes across the ring's end come out in order");

	/* across the 32-bit indices' wrap */
	ring.out_prod = cons = UINT32_MAX - 1;
	put("abcd");
	n = pv_console_take(&ring, &cons, out);
	CHECK(n == 4 && !memcmp(out, "abcd", 4) && cons == 2, "across the index's wrap at 2^32");

	/* a full ring: exactly its size */
	for (unsigned i = 0; i < PV_CONSOLE_OUT_SIZE; i++)
		ring.out[(ring.out_prod++) & (PV_CONSOLE_OUT_SIZE - 1)] = (uint8_t)i;
	n = pv_console_take(&ring, &cons, out);
	CHECK(n == PV_CONSOLE_OUT_SIZE && out[0] == 0 && out[PV_CONSOLE_OUT_SIZE - 1] == (uint8_t)(PV_CONSOLE_OUT_SIZE - 1),
	      "a full ring: all %u bytes", PV_CONSOLE_OUT_SIZE);

	/* garbage from the guest */
	ring.out_cons = 0xdeadbeef;
	put("x");
	n = pv_console_take(&ring, &cons, out);
	CHECK(n == 1 && out[0] == 'x' && ring.out_cons == cons, "a forged out_cons is not ours: ignored, then overwritten");
	ring.out_prod += PV_CONSOLE_OUT_SIZE + 1;
	CHECK(pv_console_take(&ring, &cons, out) == -1 && cons == ring.out_prod, "a producer a ring and one ahead: dropped");
	ring.out_prod -= 5;
	CHECK(pv_console_take(&ring, &cons, out) == -1 && cons == ring.out_prod, "a producer behind ours: dropped");
	ring.out_prod = cons + 0x80000000u;
	CHECK(pv_console_take(&ring, &cons, out) == -1, "half the index space ahead: dropped");
	put("ok");
	n = pv_console_take(&ring, &cons, out);
	CHECK(n == 2 && !memcmp(out, "ok", 2), "after garbage the ring works from the guest's index");
	return unit_done();
}
