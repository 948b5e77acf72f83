/* Slot and object allocation.  Slots come from a bitmap over the program's
 * CNode (from the first free one the boot info names); objects are retyped
 * from the untyped list in order, moving to the next untyped when one is
 * full, or from one pool Untyped the caller chose (alloc_set_pool). */
#include <libipc/libipc.h>
#include <libipc/ipc.h>
#include <libipc/tls.h>

static const struct bootinfo *boot_info;
static uint64_t slot_used[(1 << CNODE_MAX_RADIX) / 64];
static uint64_t slot_reserved[(1 << CNODE_MAX_RADIX) / 64]; /* windows only */
static uint64_t first_slot, slot_limit, slot_hint;
static unsigned untyped_index;
static uint64_t pool;

void libipc_init(const struct bootinfo *bi, void *tls_area)
{
	boot_info = bi;
	first_slot = slot_hint = bi->first_free_slot;
	slot_limit = 1ULL << bi->cnode_radix;
	untyped_index = 0;
	uint64_t ipcbuf = bi->ipc_buffer;
	if (!ipcbuf) {
		if (ipc_buffer_setup(CAP_ROOT_TCB, CAP_ROOT_VSPACE, IPCBUF_VADDR))
			debug_puts("libipc: no memory for an IPC buffer\n");
		else
			ipcbuf = IPCBUF_VADDR;
	}
	if (thread_tls_start(CAP_ROOT_TCB, tls_area, ipcbuf) || !thread_tls_ok())
		debug_puts("libipc: no thread-local storage\n");
}

const struct bootinfo *libipc_bootinfo(void)
{
	return boot_info;
}

unsigned cspace_slot_type(uint64_t slot)
{
	unsigned type, rights;
	uint64_t badge;
	return sys_cap_identify(slot, &type, &rights, &badge) ? OBJ_NONE : type;
}

static uint64_t window_first, window_end;

void slot_window(uint64_t first, uint64_t end)
{
	window_first = first;
	window_end = end;
}

/* Threads allocate at once: a slot is taken by setting its bit
 * atomically, and lost races move on to the next; the hint is only
 * where to start looking. */
uint64_t slot_alloc(void)
{
	uint64_t hint = __atomic_load_n(&slot_hint, __ATOMIC_RELAXED);
	uint64_t s = window_end ? window_first : hint, end = window_end ? window_end : slot_limit;
	for (; s < end; s++) {
		uint64_t bit = 1ULL << (s % 64);
		if ((__atomic_load_n(&slot_used[s / 64], __ATOMIC_RELAXED) | (window_end ? 0 : slot_reserved[s / 64])) & bit)
			continue;
		if (__atomic_fetch_or(&slot_used[s / 64], bit, __ATOMIC_ACQUIRE) & bit)
			continue;   /* another thread took it first */
		if (!window_end)
			__atomic_store_n(&slot_hint, s + 1, __ATOMIC_RELAXED);
		return s;
	}
	return 0;
}

void slot_free(uint64_t s)
{
	if (s < first_slot || s >= slot_limit)
		return;
	__atomic_fetch_and(&slot_used[s / 64], ~(1ULL << (s % 64)), __ATOMIC_RELEASE);
	if (s < __atomic_load_n(&slot_hint, __ATOMIC_RELAXED))
		__atomic_store_n(&slot_hint, s, __ATOMIC_RELAXED);
}

void slot_reclaim(uint64_t first, uint64_t end)
{
	for (uint64_t s = first; s < end; s++)
		if ((slot_used[s / 64] & (1ULL << (s % 64))) && cspace_slot_type(s) == OBJ_NONE)
			slot_free(s);
}

void slot_reserve(uint64_t first, uint64_t end)
{
	for (uint64_t s = first; s < end && s < slot_limit; s++)
		slot_reserved[s / 64] |= 1ULL << (s % 64);
}

uint64_t alloc_set_pool(uint64_t untyped)
{
	uint64_t old = pool;
	pool = untyped;
	return old;
}

long object_alloc_from(uint64_t untyped, unsigned type, unsigned size_bits, uint64_t *slot)
{
	uint64_t s = slot_alloc();
	if (!s)
		return E_SLOT_FULL;
	long err = sys_untyped_retype(untyped, type, size_bits, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, s);
	if (err) {
		slot_free(s);
		return err;
	}
	*slot = s;
	return E_OK;
}

long object_alloc(unsigned type, unsigned size_bits, uint64_t *slot)
{
	if (pool)
		return object_alloc_from(pool, type, size_bits, slot);
	uint64_t s = slot_alloc();
	if (!s)
		return E_SLOT_FULL;
	long err = E_RANGE;
	/* the kernel keeps each Untyped's own order, so threads racing here
	 * at worst search an Untyped twice */
	unsigned i = __atomic_load_n(&untyped_index, __ATOMIC_RELAXED);
	for (; i < boot_info->untyped_count; i++) {
		if (boot_info->untyped[i].is_device)
			continue; /* not memory: registers */
		err = sys_untyped_retype(boot_info->untyped[i].slot, type, size_bits, RETYPE_NEXT_FREE, CAP_ROOT_CNODE, s);
		if (err != E_RANGE)
			break;
	}
	if (err) {
		/* an object too big for every untyped left must not use them up
		 * for the smaller ones that follow (init asking for a VM's pool) */
		slot_free(s);
		return err;
	}
	__atomic_store_n(&untyped_index, i, __ATOMIC_RELAXED);
	*slot = s;
	return E_OK;
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
