/* Kernel object lifetime, issue 8's sixth reproducer: a chain of 65533
 * copies of a frame capability, each derived from the one before, is
 * deeper than a 16-bit depth can count.  Revoking the Untyped the frame
 * came from must still delete every copy; before, the last one's depth
 * wrapped to 0, it survived the revoke, and its memory was handed out
 * again while the frame capability still reached it.
 * A thread whose CNode is a 65536-slot CNode makes the copies (our own
 * CNode is smaller).  Every walk of the derivation list here is 65536
 * capabilities long, so the self-check runs on every 1000th exit. */
// test-selfcheck: 1000
// test-timeout: 120
#include "tap.h"
#include <libipc/ipc.h>

#define SLOTS (1UL << CNODE_MAX_RADIX)
#define FRAME_SLOT 2          /* in the big CNode: 1 is the CNode itself */

static uint8_t stack[8192] __attribute__((aligned(16)));
static volatile long copies_made = -1, last_after_revoke = -1;
static volatile int phase;

/* Runs with the big CNode as its own: slot i is copied into slot i + 1. */
static void make_chain(uint64_t arg)
{
	(void)arg;
	long made = 0;
	for (uint64_t i = FRAME_SLOT; i + 1 < SLOTS; i++) {
		if (sys_cnode_copy(i, 1, i + 1, RIGHTS_ALL))
			break;
		made++;
	}
	copies_made = made;
	phase = 1;
	while (phase != 2)
		sys_yield();
	unsigned type = 99, rights;
	uint64_t badge;
	last_after_revoke = sys_cap_identify(SLOTS - 1, &type, &rights, &badge);
	phase = 3;
	for (;;)
		sys_yield();
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(6);
	uint64_t big, u, frame = slot_alloc(), tcb;
	long err = object_alloc(OBJ_CNODE, CNODE_MAX_RADIX, &big);
	err = err ? err : object_alloc(OBJ_UNTYPED, 12, &u);
	err = err ? err : sys_untyped_retype(u, OBJ_FRAME, 0, 0, CAP_ROOT_CNODE, frame);
	err = err ? err : sys_cnode_copy(big, big, 1, RIGHTS_ALL);
	err = err ? err : sys_cnode_copy(frame, big, FRAME_SLOT, RIGHTS_ALL);
	err = err ? err : object_alloc(OBJ_TCB, 0, &tcb);
	err = err ? err : sys_tcb_configure(tcb, big, CAP_ROOT_VSPACE, 0);
	err = err ? err : sys_tcb_set_priority(tcb, 100, 100);
	err = err ? err : sys_tcb_set_regs(tcb, (uint64_t)make_chain, (uint64_t)stack + sizeof(stack) - 8, 0);
	err = err ? err : sys_tcb_resume(tcb);
	tap_eq(err, E_OK, "a 65536-slot CNode, a frame from a 4 KiB Untyped, a thread to copy it");
	while (phase != 1)
		sys_yield();
	tap_eq(copies_made, (long)(SLOTS - 1 - FRAME_SLOT), "65533 copies, each derived from the one before");

	tap_eq(sys_cnode_revoke(u), E_OK, "the Untyped is revoked");
	phase = 2;
	while (phase != 3)
		sys_yield();
	tap_eq(last_after_revoke, E_BAD_CAP, "the deepest copy went with it");
	unsigned type, rights;
	uint64_t used = ~0UL;
	sys_cap_identify(u, &type, &rights, &used);
	tap_eq((long)used, 0, "the Untyped is free again");
	uint64_t cnode = slot_alloc();
	tap_eq(sys_untyped_retype(u, OBJ_CNODE, 6, 0, CAP_ROOT_CNODE, cnode), E_OK,
	       "its memory becomes a CNode that no frame capability reaches");
	tap_done();
}
