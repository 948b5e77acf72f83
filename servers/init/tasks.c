/*
 * Supervision.  Every object of a task comes from its own pool Untyped,
 * and every capability init holds for it sits in its own window of init's
 * CNode, so destroying a task is one revoke of the pool: its thread,
 * address space, CNode and everything in it (receive rights too, so its
 * clients see dead ports) go, and the memory is ready for the next
 * instance.  init is the fault handler of every task it starts.
 */
#include <libipc/libipc.h>
#include "tasks.h"
#include "loans.h"
#include "pages.h"

#define WINDOW_BASE_MIN 4096

struct task tasks[MANIFEST_MAX_SERVERS];
unsigned task_count;
static const struct bootinfo *boot;

static const struct bootinfo_module *find_image(const char *file)
{
	size_t fl = strlen(file);
	for (unsigned i = 0; i < boot->module_count; i++) {
		const char *name = boot->module[i].name;
		size_t nl = strlen(name);
		/* the module's command line is a path: match its last part */
		if (nl >= fl && !strncmp(name + nl - fl, file, fl) && (nl == fl || name[nl - fl - 1] == '/'))
			return &boot->module[i];
	}
	return 0;
}

/* The capabilities the manifest names, into the child's slots 9.. */
static long give_caps(struct task *t)
{
	for (unsigned i = 0; i < t->m->ncaps; i++) {
		const struct manifest_cap *c = &t->m->caps[i];
		uint64_t tmp = slot_alloc(), named;
		long err;
		if (!tmp)
			return E_SLOT_FULL;
		switch (c->kind) {
		case MCAP_IOPORTS:
			err = sys_ioport_issue(CAP_IOPORT_CONTROL, c->first, c->last, CAP_ROOT_CNODE, tmp);
			break;
		case MCAP_IRQ:
			err = t->irq_kept[i] ? E_OK : E_SLOT_FULL;
			if (!err && cspace_slot_type(t->irq_kept[i]) == OBJ_NONE)
				err = sys_irq_get(CAP_IRQ_CONTROL, c->first, CAP_ROOT_CNODE, t->irq_kept[i]);
			err = err ? err : sys_cnode_copy(t->irq_kept[i], CAP_ROOT_CNODE, tmp, RIGHTS_ALL);
			break;
		default:
			named = names_lookup(c->name);
			err = named ? sys_cnode_copy(named, CAP_ROOT_CNODE, tmp, RIGHT_SEND) : E_BAD_ARG;
		}
		/* the child's copy outlives ours */
		err = err ? err : process_give(&t->proc, tmp, RIGHTS_ALL, 0, 0);
		sys_cnode_delete(tmp);
		slot_free(tmp);
		if (err)
			return err;
	}
	return E_OK;
}

int needs_met(const struct task *t)
{
	for (unsigned i = 0; i < t->m->ncaps; i++)
		if (t->m->caps[i].kind == MCAP_NEEDS && !names_lookup(t->m->caps[i].name))
			return 0;
	return 1;
}

static void record_page(void *ctx, uint64_t frame, uint64_t vaddr, unsigned rights)
{
	struct task *t = ctx;
	if (t->npages < WINDOW_SLOTS)
		t->pages[t->npages++] = (struct task_page){ frame, vaddr | rights };
}

static long task_start(struct task *t)
{
	if (!needs_met(t)) {
		t->waiting = 1;
		return E_OK;
	}
	t->waiting = 0;
	if (!t->pool) {
		/* room for its quota and, beside it, its image, tables and stack */
		unsigned bits = (t->m->memory_bits > 21 ? t->m->memory_bits : 21) + 1;
		if (t->m->slots_bits > 10 && bits < t->m->slots_bits + 10)
			bits = t->m->slots_bits + 10; /* a big CNode needs room too */
		long err = object_alloc(OBJ_UNTYPED, bits, &t->pool);
		if (err) {
			debug_printf("init: cannot start '%s': no %lu MiB of memory for it (error %ld)\n",
			             t->m->name, (1UL << bits) >> 20, err);
			return err;
		}
		t->pool_bits = bits;
	}
	uint64_t old_pool = alloc_set_pool(t->pool);
	slot_window(t->window, t->window + WINDOW_SLOTS);
	struct bootinfo_module mods[2];
	unsigned nmods = 0;
	for (unsigned i = 0; i < t->m->nmodules; i++) {
		const struct bootinfo_module *bm = find_image(t->m->module[i]);
		if (bm)
			mods[nmods++] = *bm;
		else
			debug_printf("init: no boot module '%s' for '%s'\n", t->m->module[i], t->m->name);
	}
	struct spawn_args a = {
		.prio = t->m->priority, .fault_port = t->fault_send, .untyped_bits = t->m->memory_bits,
		.exit_port = init_port, .exit_badge = t->id, .cmdline = t->args,
		.cnode_radix = t->m->slots_bits, .modules = mods, .module_count = nmods,
		.dma = t->m->dma, .on_page = record_page, .page_ctx = t,
	};
	t->npages = 0;
	if (t->m->devmem) {
		/* the kernel lists device memory after RAM */
		unsigned first = 0;
		while (first < boot->untyped_count && !boot->untyped[first].is_device)
			first++;
		a.device = &boot->untyped[first];
		a.device_count = boot->untyped_count - first;
	}
	long err = process_spawn_args((const void *)t->image->vaddr, t->image->size, &a, &t->proc);
	err = err ? err : give_caps(t);
	err = err ? err : process_start(&t->proc);
	slot_window(0, 0);
	alloc_set_pool(old_pool);
	if (err) {
		debug_printf("init: cannot start '%s': error %ld\n", t->m->name, err);
		sys_cnode_revoke(t->pool);
		slot_reclaim(t->window, t->window + WINDOW_SLOTS);
		return err;
	}
	t->running = 1;
	t->started = tsc_now();
	t->ping_sent = t->ping_next = 0;
	t->pings_missed = 0;
	trace_task_started(t);
	return E_OK;
}

void tasks_start_all(const struct manifest *m, const struct bootinfo *bi)
{
	boot = bi;
	/* the windows go after the boot modules' frame capabilities, with
	 * room for our own allocations below them */
	uint64_t window_base = (bi->first_free_slot + 1024 + WINDOW_SLOTS - 1) & ~(uint64_t)(WINDOW_SLOTS - 1);
	if (window_base < WINDOW_BASE_MIN)
		window_base = WINDOW_BASE_MIN;
	if (window_base + m->count * WINDOW_SLOTS > (1UL << bi->cnode_radix)) {
		debug_printf("init: the boot modules leave no room for the servers' slots in our CNode "
		             "(%u slots of %lu taken)\n", bi->first_free_slot, 1UL << bi->cnode_radix);
		return;
	}
	slot_reserve(window_base, window_base + m->count * WINDOW_SLOTS);
	for (unsigned i = 0; i < m->count; i++) {
		struct task *t = &tasks[task_count];
		t->m = &m->server[i];
		t->id = task_count + 1;
		t->window = window_base + task_count * WINDOW_SLOTS;
		t->image = find_image(t->m->image);
		memcpy(t->args, t->m->args, sizeof(t->m->args));
		if (!t->image) {
			debug_printf("init: no boot module '%s' for '%s'\n", t->m->image, t->m->name);
			continue;
		}
		t->fault_send = slot_alloc();
		if (sys_cnode_mint(init_port, CAP_ROOT_CNODE, t->fault_send, RIGHT_SEND, t->id)) {
			debug_printf("init: no fault port for '%s'\n", t->m->name);
			continue;
		}
		/* outside the windows, like the fault port: they outlive instances */
		for (unsigned c = 0; c < t->m->ncaps; c++)
			if (t->m->caps[c].kind == MCAP_IRQ)
				t->irq_kept[c] = slot_alloc();
		task_count++;
		if (t->m->manual)
			debug_printf("init: '%s' is manual: not starting it until asked\n", t->m->name);
		else
			task_start(t);
	}
	tasks_start_waiting();
}

void tasks_start_waiting(void)
{
	for (unsigned i = 0; i < task_count; i++)
		if (tasks[i].waiting && needs_met(&tasks[i]))
			task_start(&tasks[i]);
}

struct task *task_by_badge(uint64_t badge)
{
	return badge >= 1 && badge <= task_count ? &tasks[badge - 1] : 0;
}

struct task *task_by_name(const char *name)
{
	for (unsigned i = 0; i < task_count; i++) {
		const char *a = tasks[i].m->name, *b = name;
		while (*a && *a == *b)
			a++, b++;
		if (*a == *b)
			return &tasks[i];
	}
	return 0;
}

/* Destroy the running instance: one revoke of its pool, then the slots
 * and names it had. */
static void task_destroy(struct task *t)
{
	t->running = 0;
	heartbeat_task_ended(t);
	sys_cnode_revoke(t->pool);
	loans_drop_task(t);
	pages_drop_task(t);
	slot_reclaim(t->window, t->window + WINDOW_SLOTS);
	names_drop_owner(t->id);
}

void task_died(struct task *t, enum task_end end, long detail, const char *why)
{
	if (!t->running)
		return;
	task_destroy(t);
	t->end = end;
	t->detail = detail;
	int again = t->m->restart == RESTART_ALWAYS || (int)t->restarts < t->m->restart;
	if (end == TASK_END_EXITED && detail == EXIT_NO_RESTART) {
		debug_printf("init: '%s' %s: it cannot start as configured; not restarting it\n", t->m->name, why);
		return;
	}
	if (end == TASK_END_EXITED && detail == EXIT_MOVED) {
		debug_printf("init: '%s' %s: its work moved elsewhere; not restarting it\n", t->m->name, why);
		return;
	}
	debug_printf("init: '%s' %s; %s\n", t->m->name, why,
	             again ? "restarting it" : "its restart policy says no more");
	if (again) {
		t->restarts++;
		task_start(t);
	}
}

long task_start_with(struct task *t, const char *change)
{
	if (t->running || t->waiting)
		return E_STATE;
	char args[sizeof(t->args)];
	if (args_merge(t->m->args, change, args, sizeof(args)))
		return E_RANGE;
	memcpy(t->args, args, sizeof(args));
	t->restarts = 0;
	t->end = TASK_END_NONE;
	debug_printf("init: starting '%s' by request (%s)\n", t->m->name, t->args[0] ? t->args : "no arguments");
	return task_start(t);
}

long task_stop(struct task *t)
{
	if (!t->running && !t->waiting)
		return E_STATE;
	if (t->running)
		task_destroy(t);
	t->waiting = 0;
	t->end = TASK_END_STOPPED;
	t->detail = 0;
	debug_printf("init: '%s' stopped by request; not restarting it\n", t->m->name);
	return E_OK;
}

long task_restart(struct task *t)
{
	if (!t->running)
		return E_STATE;
	task_destroy(t);
	debug_printf("init: '%s' restarted by request\n", t->m->name);
	return task_start(t);
}

int task_is_vm(const struct task *t)
{
	static const char vmm[] = "vmm.elf";
	size_t n = strlen(t->m->image), k = sizeof(vmm) - 1;
	return n >= k && !strcmp(t->m->image + n - k, vmm) && (n == k || t->m->image[n - k - 1] == '/');
}
