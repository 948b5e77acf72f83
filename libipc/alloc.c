/* Slot and object allocation.  Slots are handed out upwards from the first
 * free one; objects are retyped from the untyped list in order, moving to
 * the next untyped when one is full. */
#include <libipc/libipc.h>
#include <berth/ipc.h>

static const struct bootinfo *boot_info;
static uint64_t next_slot, slot_limit;
static unsigned untyped_index;

void libipc_init(const struct bootinfo *bi)
{
	boot_info = bi;
	next_slot = bi->first_free_slot;
	slot_limit = 1ULL << bi->cnode_radix;
	untyped_index = 0;
	if (!bi->ipc_buffer && ipc_buffer_setup(CAP_ROOT_TCB, CAP_ROOT_VSPACE, IPCBUF_VADDR))
		debug_puts("libipc: no memory for an IPC buffer\n");
}

unsigned cspace_slot_type(uint64_t slot)
{
	unsigned type, rights;
	uint64_t badge;
	return sys_cap_identify(slot, &type, &rights, &badge) ? OBJ_NONE : type;
}

uint64_t slot_alloc(void)
{
	return next_slot < slot_limit ? next_slot++ : 0;
}

long object_alloc(unsigned type, unsigned size_bits, uint64_t *slot)
{
	uint64_t s = slot_alloc();
	if (!s)
		return E_SLOT_FULL;
	for (; untyped_index < boot_info->untyped_count; untyped_index++) {
		long err = sys_untyped_retype(boot_info->untyped[untyped_index].slot, type, size_bits,
		                              RETYPE_NEXT_FREE, CAP_ROOT_CNODE, s);
		if (err != E_RANGE) {
			if (!err)
				*slot = s;
			return err;
		}
	}
	return E_RANGE;
}

long page_map_in(uint64_t vspace, uint64_t frame, uint64_t vaddr, unsigned rights)
{
	uint64_t level;
	long err;
	while ((err = sys_page_map(frame, vspace, vaddr, rights, &level)) == E_MISSING_TABLE) {
		uint64_t pt;
		if ((err = object_alloc(OBJ_PAGE_TABLE, 0, &pt)))
			return err;
		if ((err = sys_page_table_map(pt, vspace, vaddr)))
			return err;
	}
	return err;
}

long page_map_with_tables(uint64_t frame, uint64_t vaddr, unsigned rights)
{
	return page_map_in(CAP_ROOT_VSPACE, frame, vaddr, rights);
}

long ipc_buffer_setup(uint64_t tcb, uint64_t vspace, uint64_t vaddr)
{
	uint64_t f;
	long err = object_alloc(OBJ_FRAME, 0, &f);
	if (err || (err = page_map_in(vspace, f, vaddr, RIGHT_READ | RIGHT_WRITE)))
		return err;
	if (vspace == CAP_ROOT_VSPACE)
		((struct ipc_buffer *)vaddr)->self = vaddr;
	return sys_tcb_set_ipc_buffer(tcb, f, vaddr);
}

long page_alloc_map(uint64_t vaddr, unsigned rights, uint64_t *frame_slot)
{
	uint64_t f;
	long err = object_alloc(OBJ_FRAME, 0, &f);
	if (err)
		return err;
	if ((err = page_map_with_tables(f, vaddr, rights)))
		return err;
	if (frame_slot)
		*frame_slot = f;
	return E_OK;
}
