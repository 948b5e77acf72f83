/* init, for now: the root task reports what the kernel handed it.  The
 * loader, name service and supervisor come with the user-level issue. */
#include <libipc/libipc.h>

int main(const struct bootinfo *bi)
{
	debug_printf("init: root task running; %u untyped caps (%lu MiB), %u modules, "
	             "slots %u.. free\n", bi->untyped_count, bi->untyped_bytes >> 20,
	             bi->module_count, bi->first_free_slot);
	for (unsigned i = 0; i < bi->module_count; i++)
		debug_printf("init: module '%s' at %lx, %lu bytes\n", bi->module[i].name,
		             bi->module[i].vaddr, bi->module[i].size);
	debug_printf("init: nothing more to do yet; the system is idle\n");
	return 0;
}
