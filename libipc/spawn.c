/* Start a program from an ELF image in a new address space: a CNode, a
 * VSpace, a thread, its segments, stack, IPC buffer and boot info, all
 * retyped from our own untyped memory. */
#include <libipc/libipc.h>
#include <berth/ipc.h>
#include <berth/elf.h>

#define STACK_PAGES 16
#define SCRATCH_VADDR 0x00007ffe00000000UL  /* where we fill the child's pages */

static int image_ok(const struct elf64_ehdr *e, uint64_t len)
{
	if (len < sizeof(*e) || memcmp(e->ident, "\177ELF", 4) || e->ident[4] != 2 ||
	    e->machine != ELF_MACHINE_X86_64 || e->phentsize != sizeof(struct elf64_phdr) || e->phoff > len ||
	    (uint64_t)e->phnum * sizeof(struct elf64_phdr) > len - e->phoff)
		return 0;
	const struct elf64_phdr *ph = (const struct elf64_phdr *)((const char *)e + e->phoff);
	for (int i = 0; i < e->phnum; i++)
		if (ph[i].type == PT_LOAD && (ph[i].offset > len || ph[i].filesz > len - ph[i].offset ||
		                        ph[i].filesz > ph[i].memsz || ph[i].vaddr < USER_BASE ||
		                        ph[i].memsz > IPCBUF_VADDR - ph[i].vaddr))
			return 0;
	return 1;
}

/* A fresh frame filled with `fill` bytes from src (the rest zero), then
 * mapped into the child. */
static long child_page(struct process *p, const struct spawn_args *a, uint64_t vaddr, const uint8_t *src,
                       uint64_t fill, unsigned rights, uint64_t *frame_out)
{
	uint64_t f;
	long err = object_alloc(OBJ_FRAME, 0, &f);
	if (err || (err = page_map_with_tables(f, SCRATCH_VADDR, RIGHT_READ | RIGHT_WRITE)))
		return err;
	memcpy((void *)SCRATCH_VADDR, src, fill);
	if ((err = sys_page_unmap(f)) || (err = page_map_in(p->vspace, f, vaddr, rights)))
		return err;
	if (a->on_page)
		a->on_page(a->page_ctx, f, vaddr, rights);
	if (frame_out)
		*frame_out = f;
	return E_OK;
}

static long load_segments(struct process *p, const struct spawn_args *a, const struct elf64_ehdr *e)
{
	const struct elf64_phdr *ph = (const struct elf64_phdr *)((const char *)e + e->phoff);
	static uint8_t page[PAGE_SIZE];
	for (int i = 0; i < e->phnum; i++) {
		if (ph[i].type != PT_LOAD)
			continue;
		unsigned rights = RIGHT_READ | (ph[i].flags & PF_W ? RIGHT_WRITE : 0) | (ph[i].flags & PF_X ? RIGHT_EXEC : 0);
		for (uint64_t va = ph[i].vaddr & ~(PAGE_SIZE - 1); va < ph[i].vaddr + ph[i].memsz; va += PAGE_SIZE) {
			memset(page, 0, sizeof(page));
			for (uint64_t a = va; a < va + PAGE_SIZE; a++)
				if (a >= ph[i].vaddr && a - ph[i].vaddr < ph[i].filesz)
					page[a - va] = ((const uint8_t *)e)[ph[i].offset + (a - ph[i].vaddr)];
			long err = child_page(p, a, va, page, PAGE_SIZE, rights, 0);
			if (err)
				return err;
		}
	}
	return E_OK;
}

long process_spawn(const void *elf, uint64_t len, unsigned prio, uint64_t fault_port,
                   unsigned untyped_bits, struct process *p)
{
	struct spawn_args a = { .prio = prio, .fault_port = fault_port, .untyped_bits = untyped_bits };
	return process_spawn_args(elf, len, &a, p);
}

long process_spawn_args(const void *elf, uint64_t len, const struct spawn_args *a, struct process *p)
{
	const struct elf64_ehdr *e = elf;
	if (!image_ok(e, len))
		return E_BAD_ARG;
	long err;
	uint64_t child_slot;
	unsigned radix = a->cnode_radix ? a->cnode_radix : PROCESS_CNODE_RADIX;
	if ((err = object_alloc(OBJ_CNODE, radix, &p->cnode)) ||
	    (err = object_alloc(OBJ_VSPACE, 0, &p->vspace)) ||
	    (err = object_alloc(OBJ_TCB, 0, &p->tcb)) ||
	    (err = sys_cnode_copy(p->cnode, p->cnode, CAP_ROOT_CNODE, RIGHTS_ALL)) ||
	    (err = sys_cnode_copy(p->vspace, p->cnode, CAP_ROOT_VSPACE, RIGHTS_ALL)) ||
	    (err = sys_cnode_copy(p->tcb, p->cnode, CAP_ROOT_TCB, RIGHTS_ALL)) ||
	    (err = load_segments(p, a, e)))
		return err;
	p->next_slot = PROCESS_FIRST_GIVEN;
	if (a->exit_port && (err = process_give(p, a->exit_port, RIGHT_SEND, a->exit_badge, 0)))
		return err;

	static uint8_t zero[1];
	for (uint64_t i = 1; i <= STACK_PAGES; i++)
		if ((err = child_page(p, a, ROOT_STACK_TOP - i * PAGE_SIZE, zero, 0, RIGHT_READ | RIGHT_WRITE, 0)))
			return err;

	/* its IPC buffer, with the self pointer it will read through FS */
	static struct ipc_buffer buf;
	uint64_t ipc_frame;
	buf.self = IPCBUF_VADDR;
	if ((err = child_page(p, a, IPCBUF_VADDR, (const uint8_t *)&buf, sizeof(buf),
	                      RIGHT_READ | RIGHT_WRITE, &ipc_frame)) ||
	    (err = sys_tcb_set_ipc_buffer(p->tcb, ipc_frame, IPCBUF_VADDR)))
		return err;

	static struct bootinfo bi;
	memset(&bi, 0, sizeof(bi));
	bi.magic = BOOTINFO_MAGIC;
	bi.cnode_radix = radix;
	bi.first_free_slot = PROCESS_FIRST_FREE;
	/* modules: copies of our frame capabilities, from its first free slot */
	for (unsigned i = 0; i < a->module_count && i < BOOTINFO_MAX_MODULES; i++) {
		const struct bootinfo_module *m = &a->modules[i];
		if (bi.first_free_slot + m->pages >= (1UL << radix))
			return E_SLOT_FULL;
		bi.module[i] = *m;
		bi.module[i].vaddr = 0;
		bi.module[i].first_slot = bi.first_free_slot;
		for (uint32_t k = 0; k < m->pages; k++)
			if ((err = sys_cnode_copy(m->first_slot + k, p->cnode, bi.first_free_slot + k, RIGHT_READ)))
				return err;
		bi.first_free_slot += m->pages;
		bi.module_count++;
	}
	bi.ipc_buffer = IPCBUF_VADDR;
	bi.exit_slot = a->exit_port ? PROCESS_FIRST_GIVEN : 0;
	if (a->cmdline)
		for (unsigned i = 0; i + 1 < sizeof(bi.cmdline) && a->cmdline[i]; i++)
			bi.cmdline[i] = a->cmdline[i];
	/* its memory comes last: an Untyped aligned to its size may fill the
	 * rest of the pool it is carved from */
	unsigned untyped_bits = a->untyped_bits;
	child_slot = PROCESS_FIRST_FREE - 1;
	if (untyped_bits) {
		bi.untyped[0] = (struct bootinfo_untyped){ .slot = (uint32_t)child_slot,
		                                           .size_bits = (uint8_t)untyped_bits };
		bi.untyped_count = 1;
		bi.untyped_bytes = 1ULL << untyped_bits;
	}
	/* device memory, after its modules; listed after its memory, as the
	 * kernel lists it */
	for (unsigned i = 0; i < a->device_count && bi.untyped_count < BOOTINFO_MAX_UNTYPED; i++) {
		const struct bootinfo_untyped *d = &a->device[i];
		uint64_t dev;
		if (bi.first_free_slot + 1 >= (1UL << radix))
			return E_SLOT_FULL;
		if ((err = object_alloc_from(d->slot, OBJ_UNTYPED, d->size_bits, &dev)))
			return err;
		if ((err = sys_cnode_move(dev, p->cnode, bi.first_free_slot))) {
			sys_cnode_delete(dev);
			slot_free(dev);
			return err;
		}
		slot_free(dev);
		bi.untyped[bi.untyped_count++] = (struct bootinfo_untyped){
			.paddr = d->paddr, .slot = bi.first_free_slot++, .size_bits = d->size_bits, .is_device = 1
		};
	}
	uint64_t bi_frame, ut;
	if ((err = child_page(p, a, BOOTINFO_VADDR, (const uint8_t *)&bi, sizeof(bi), RIGHT_READ, &bi_frame)) ||
	    (err = sys_tcb_configure(p->tcb, p->cnode, p->vspace, a->fault_port)) ||
	    (err = sys_tcb_set_priority(p->tcb, a->prio, a->prio)) ||
	    (err = sys_tcb_set_regs(p->tcb, e->entry, ROOT_STACK_TOP, BOOTINFO_VADDR)))
		return err;
	if (untyped_bits && ((err = object_alloc(OBJ_UNTYPED, untyped_bits, &ut)) ||
	                     (!a->dma && (err = sys_cap_restrict(ut, RIGHTS_ALL & ~RIGHT_PHYS))) ||
	                     (err = sys_cnode_move(ut, p->cnode, child_slot))))
		return err;
	return E_OK;
}

long process_give(struct process *p, uint64_t src, unsigned rights, uint64_t badge, uint64_t *child_slot)
{
	if (p->next_slot >= PROCESS_FIRST_FREE - 1)
		return E_SLOT_FULL;
	uint64_t slot = p->next_slot;
	long err = badge || (rights & RIGHT_SEND) ? sys_cnode_mint(src, p->cnode, slot, rights, badge)
	                                          : sys_cnode_copy(src, p->cnode, slot, rights);
	if (err == E_BAD_ARG) /* not a port: nothing to mint */
		err = sys_cnode_copy(src, p->cnode, slot, rights);
	if (err)
		return err;
	p->next_slot++;
	if (child_slot)
		*child_slot = slot;
	return E_OK;
}

long process_start(struct process *p)
{
	return sys_tcb_resume(p->tcb);
}

void process_destroy(struct process *p)
{
	uint64_t caps[3] = { p->tcb, p->cnode, p->vspace };
	for (int i = 0; i < 3; i++) {
		sys_cnode_revoke(caps[i]);
		sys_cnode_delete(caps[i]);
	}
}
