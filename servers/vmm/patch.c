/* mode=patch: not written yet, and refused by trap_main.  The plan
 * (docs/vmm.md, "Modes"): map the guest's code pages non-executable, and
 * on the first fetch from one decode it from the entry point, replacing
 * each pushf (0x9c) and popf (0x9d) with int3 (0xcc), remembered here so
 * trap_emulate.c emulates the original on the #GP the int3 raises; keep
 * patched pages read-only and scan one again when the guest writes it. */
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
