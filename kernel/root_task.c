/* Build the root task from the first boot module: its CNode, address
 * space, thread, stack and boot-info page, frame capabilities for the
 * other modules, and Untyped capabilities for all remaining free memory.
 * These are the kernel's last allocations of its own. */
#include <berth/bootinfo.h>
#include <berth/errors.h>
#include "boot.h"
#include "object.h"
#include "elf.h"
#include "vspace.h"
#include "layout.h"
#include "klib.h"

/* The root task's CNode: every boot module's frames take a slot each, and
 * init puts its servers' windows after them (servers/init/tasks.c); with
 * a Linux kernel, its initrd and eleven servers 8192 was no longer enough */
#define ROOT_CNODE_RADIX 14

static struct cap *root_cnode;
static uint32_t next_slot = CAP_FIRST_FREE_FIXED;
static uint64_t root_handle; /* mapping handle of the root address space */

static uint32_t take_slot(void)
{
	if (next_slot >= (1U << ROOT_CNODE_RADIX))
		panic("root CNode is full");
	return next_slot++;
}

/* Map a frame (a fresh one when frame is 0) for the root task, making
 * page tables from boot memory as needed.  A page that is already mapped
 * (two segments sharing it) gains the new rights instead. */
static uint64_t root_map(uint64_t pml4, uint64_t va, uint64_t frame, unsigned rights)
{
	int level;
	uint64_t *pte, unused;
	int took_piece;
	while (!(pte = vspace_pte(pml4, va, &level)))
		vspace_map_table(pml4, va, boot_alloc(PAGE_SIZE), &unused);
	if (!(*pte & PTE_P)) {
		vspace_map_frame(pml4, va, frame ? frame : boot_alloc(PAGE_SIZE), rights, 0, &unused, &took_piece);
	} else {
		if (rights & RIGHT_WRITE)
			*pte |= PTE_W;
		if (rights & RIGHT_EXEC)
			*pte &= ~PTE_NX;
	}
	return *pte & PTE_ADDR;
}

static void load_elf(uint64_t pml4, const struct boot_module *m, uint64_t *entry)
{
	const void *img = P2V(m->start);
	uint64_t len = m->end - m->start;
	int err = elf_check(img, len, USER_BASE, BOOTINFO_VADDR);
	if (err)
		panic("root task '%s': %s", m->name, elf_error_string(err));
	const struct elf64_ehdr *eh = img;
	for (int i = 0; i < eh->phnum; i++) {
		const struct elf64_phdr *ph = elf_phdr(img, i);
		if (ph->type != PT_LOAD || !ph->memsz)
			continue;
		unsigned rights = RIGHT_READ | (ph->flags & PF_W ? RIGHT_WRITE : 0) |
		                  (ph->flags & PF_X ? RIGHT_EXEC : 0);
		for (uint64_t va = ALIGN_DOWN(ph->vaddr, PAGE_SIZE); va < ph->vaddr + ph->memsz; va += PAGE_SIZE) {
			uint8_t *page = P2V(root_map(pml4, va, 0, rights));
			/* copy the part of the file that falls in this page */
			for (uint64_t a = va; a < va + PAGE_SIZE; a++)
				if (a >= ph->vaddr && a - ph->vaddr < ph->filesz)
					page[a - va] = ((const uint8_t *)img)[ph->offset + (a - ph->vaddr)];
		}
	}
	*entry = eh->entry;
}

/* A boot capability: a child of the derivation list's head, so that
 * every capability is on one list the self-check can walk. */
static void give_cap(uint32_t slot, unsigned type, unsigned rights, uint64_t obj, uint64_t w0, uint64_t w1)
{
	cap_set(&root_cnode[slot], type, rights, obj, w0, w1);
	cap_insert_child(&mdb_root, &root_cnode[slot]);
}

static void add_frame_cap(uint32_t slot, uint64_t pa, unsigned rights, uint64_t va)
{
	give_cap(slot, OBJ_FRAME, rights, pa, root_handle, va);
}

static void give_modules(struct bootinfo *bi, uint64_t pml4)
{
	uint64_t va = MODULE_VADDR;
	for (int i = 1; i < boot.module_count; i++) {
		const struct boot_module *m = &boot.module[i];
		struct bootinfo_module *bm = &bi->module[bi->module_count++];
		bm->vaddr = va + (m->start & (PAGE_SIZE - 1));
		bm->size = m->end - m->start;
		bm->first_slot = next_slot;
		memcpy(bm->name, m->name, sizeof(bm->name));
		for (uint64_t pa = ALIGN_DOWN(m->start, PAGE_SIZE); pa < m->end; pa += PAGE_SIZE) {
			root_map(pml4, va, pa, RIGHT_READ);
			add_frame_cap(take_slot(), pa, RIGHT_READ, va);
			bm->pages++;
			va += PAGE_SIZE;
		}
		va += PAGE_SIZE; /* an unmapped guard page between modules */
	}
}

/* Each range as maximal aligned power-of-two Untyped blocks; device
 * memory's are marked so (CAP_DEVICE) and do not count as memory. */
static void give_untyped_list(struct bootinfo *bi, struct region_list *l, int device)
{
	for (int i = 0; i < l->count; i++) {
		uint64_t base = l->r[i].base, end = l->r[i].end;
		unsigned bits;
		while ((bits = block_bits(base, end, UNTYPED_MIN_BITS, UNTYPED_MAX_BITS))) {
			if (bi->untyped_count == BOOTINFO_MAX_UNTYPED) {
				printk("berth: too many untyped blocks; %lx..%lx left unused\n", base, end);
				return;
			}
			uint32_t slot = take_slot();
			give_cap(slot, OBJ_UNTYPED, RIGHTS_ALL, base, bits, 0);
			root_cnode[slot].flags = device ? CAP_DEVICE : 0;
			bi->untyped[bi->untyped_count++] = (struct bootinfo_untyped){
				.paddr = base, .slot = slot, .size_bits = (uint8_t)bits, .is_device = (uint8_t)device
			};
			if (!device)
				bi->untyped_bytes += 1ULL << bits;
			base += 1ULL << bits;
		}
	}
	l->count = 0;
}

static void give_untyped(struct bootinfo *bi)
{
	give_untyped_list(bi, &boot.free, 0);
	give_untyped_list(bi, &boot.device, 1);
}

void root_task_create(void)
{
	if (boot.module_count < 1)
		panic("no boot modules: the first module must be the root task");

	uint64_t cnode_pa = boot_alloc((1UL << ROOT_CNODE_RADIX) * sizeof(struct cap));
	uint64_t pml4 = boot_alloc(PAGE_SIZE);
	uint64_t tcb_pa = boot_alloc(1UL << TCB_BITS);
	uint64_t bi_pa = boot_alloc(PAGE_SIZE);
	root_cnode = P2V(cnode_pa);
	struct bootinfo *bi = P2V(bi_pa);
	vspace_init(pml4);

	uint64_t asid;
	if (asid_alloc(pml4, &asid))
		panic("no address-space ID for the root task");
	root_handle = asid_handle(asid);
	give_cap(CAP_ROOT_CNODE, OBJ_CNODE, RIGHTS_ALL, cnode_pa, ROOT_CNODE_RADIX, 0);
	give_cap(CAP_ROOT_VSPACE, OBJ_VSPACE, RIGHTS_ALL, pml4, asid, 0);
	give_cap(CAP_ROOT_TCB, OBJ_TCB, RIGHTS_ALL, tcb_pa, 0, 0);
	give_cap(CAP_IRQ_CONTROL, OBJ_IRQ_CONTROL, RIGHTS_ALL, 0, 0, 0);
	give_cap(CAP_IOPORT_CONTROL, OBJ_IOPORT_CONTROL, RIGHTS_ALL, 0, 0, 0);
	give_cap(CAP_TRACE_CONTROL, OBJ_TRACE_CONTROL, RIGHTS_ALL, 0, 0, 0);

	uint64_t entry;
	load_elf(pml4, &boot.module[0], &entry);
	for (uint64_t i = 1; i <= ROOT_STACK_PAGES; i++)
		root_map(pml4, ROOT_STACK_TOP - i * PAGE_SIZE, 0, RIGHT_READ | RIGHT_WRITE);
	root_map(pml4, BOOTINFO_VADDR, bi_pa, RIGHT_READ);
	add_frame_cap(CAP_BOOTINFO, bi_pa, RIGHT_READ, BOOTINFO_VADDR);

	bi->magic = BOOTINFO_MAGIC;
	bi->cnode_radix = ROOT_CNODE_RADIX;
	memcpy(bi->cmdline, boot.cmdline, sizeof(bi->cmdline));
	give_modules(bi, pml4);
	/* everything allocated from here on belongs to user space */
	give_untyped(bi);
	bi->first_free_slot = next_slot;

	struct tcb *t = P2V(tcb_pa);
	tcb_init(t);
	cap_derive(&root_cnode[CAP_ROOT_CNODE], &t->cspace_cap, RIGHTS_ALL, 0, 0);
	cap_derive(&root_cnode[CAP_ROOT_VSPACE], &t->vspace_cap, RIGHTS_ALL, 0, 0);
	t->prio = ROOT_TASK_PRIORITY;
	t->max_prio = PRIORITY_MAX;
	t->ctx.rip = entry;
	t->ctx.rsp = ROOT_STACK_TOP;
	t->ctx.rdi = BOOTINFO_VADDR;
	t->state = THREAD_RUNNABLE;
	sched_enqueue(t);
	printk("berth: root task '%s' entry %lx, %u untyped caps, %lu MiB untyped, %u modules\n",
	       boot.module[0].name, entry, bi->untyped_count, bi->untyped_bytes >> 20,
	       bi->module_count);
}
