/* mode=patch: not written yet; every lookup misses, so it behaves as
 * mode=trap. */
#include "trap.h"

enum trap_action patch_fetch_fault(uint64_t page)
{
	(void)page;
	return TRAP_RESUME;
}

int patch_lookup(uint64_t gva)
{
	(void)gva;
	return -1;
}
