/* Boot and banner; the root task runs and prints; boot info is sane;
 * boot modules are handed on; all free memory arrives as untyped. */
// test-module: tests/system/data/module.txt
// test-expect: Berth microkernel \(x86-64\) booting
// test-expect: root task .*boot\.elf. entry 400000
// test-expect: hello from the root task
#include "tap.h"

static const char module_text[] = "Berth boot module test data: the quick brown fox.\n";

int main(const struct bootinfo *bi)
{
	tap_plan(11);
	debug_printf("hello from the root task\n");
	tap_ok(bi == (const void *)BOOTINFO_VADDR, "boot info at its fixed address");
	tap_eq((long)bi->magic, (long)BOOTINFO_MAGIC, "boot info magic");
	tap_ok(bi->untyped_count > 0 && bi->untyped_count <= BOOTINFO_MAX_UNTYPED,
	       "untyped caps listed (%u)", bi->untyped_count);
	/* QEMU has 1 GiB (tools/qemu.sh); the kernel image, modules and the
	 * root task's boot objects take a few MiB at most, the rest is untyped */
	tap_ok(bi->untyped_bytes >= (1000UL << 20) && bi->untyped_bytes < (1024UL << 20),
	       "almost all memory is untyped (%lu KiB)", bi->untyped_bytes >> 10);

	int sizes_ok = 1, order_ok = 1;
	uint64_t sum = 0, device = 0;
	for (unsigned i = 0; i < bi->untyped_count; i++) {
		const struct bootinfo_untyped *u = &bi->untyped[i];
		sizes_ok &= u->size_bits >= UNTYPED_MIN_BITS && !(u->paddr & ((1UL << u->size_bits) - 1));
		order_ok &= !(i && bi->untyped[i - 1].is_device && !u->is_device);
		if (u->is_device)
			device += 1UL << u->size_bits;
		else
			sum += 1UL << u->size_bits;
	}
	tap_ok(sizes_ok && sum == bi->untyped_bytes, "untyped blocks aligned to their size; RAM ones add up");
	tap_ok(order_ok && device >= (1UL << 30), "device memory listed after RAM (%lu GiB of it)", device >> 30);

	tap_eq(bi->module_count, 1, "one extra boot module handed on");
	const struct bootinfo_module *m = &bi->module[0];
	tap_ok(m->size == sizeof(module_text) - 1 &&
	       !memcmp((const void *)m->vaddr, module_text, m->size), "module content readable");
	tap_ok(strlen(m->name) > 10 && !strncmp(m->name + strlen(m->name) - 10, "module.txt", 10),
	       "module name is its command line (%s)", m->name);
	tap_eq(sys_page_unmap(m->first_slot), E_OK, "module frame cap unmaps its page");

	uint64_t f;
	tap_eq(object_alloc(OBJ_FRAME, 0, &f), E_OK, "first untyped retypes into a frame");
	tap_done();
}
