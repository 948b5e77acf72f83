/* init: the root task.  Reads the boot manifest, starts the servers it
 * names (tasks.c), then serves the name service and the supervisor's
 * controls (init.idl) and receives its tasks' faults and exits. */
#include <libipc/libipc.h>
#include <libipc/server.h>
#include "tasks.h"
#include "loans.h"
#include "pages.h"
#include "init.h"   /* generated from idl/init.idl */

uint64_t init_port;
static struct manifest manifest;

static long do_publish(void *ctx, uint64_t badge, const char *name, uint64_t port)
{
	(void)ctx;
	return names_publish((unsigned)badge, name, port);
}

static long do_lookup(void *ctx, uint64_t badge, const char *name, uint64_t *port)
{
	(void)ctx;
	(void)badge;
	*port = names_lookup(name);
	return *port ? E_OK : E_BAD_ARG;
}

static long do_unpublish(void *ctx, uint64_t badge, const char *name)
{
	(void)ctx;
	return names_unpublish((unsigned)badge, name);
}

static long do_task_info(void *ctx, uint64_t badge, uint32_t index, char *name, uint32_t *state,
                         uint32_t *restarts, uint32_t *threads, uint64_t *memory)
{
	(void)ctx;
	(void)badge;
	if (index >= task_count)
		return E_RANGE;
	const struct task *t = &tasks[index];
	struct thread_info info = { .state = THREAD_INACTIVE };
	if (t->running)
		sys_tcb_info(t->proc.tcb, &info);
	size_t n = strlen(t->m->name);
	memcpy(name, t->m->name, n + 1);
	*state = info.state;
	*restarts = t->restarts;
	*threads = t->running ? 1 : 0;
	*memory = (1ULL << t->m->memory_bits) + ((uint64_t)t->m->borrow_mib << 20);
	return E_OK;
}

/* Whether the caller's manifest entry lets it start, stop, restart or
 * kill t: its control line names t (or says all), or t is the caller.
 * Taking a server down is a denial of service to its clients, so it is a
 * right the manifest grants, as trace is, not something any task may do. */
static int may_control(uint64_t badge, const struct task *t)
{
	const struct task *caller = task_by_badge(badge);
	if (!caller)
		return 0;
	if (caller == t || caller->m->control_all)
		return 1;
	for (unsigned i = 0; i < caller->m->ncontrol; i++)
		if (!strcmp(caller->m->control[i], t->m->name))
			return 1;
	return 0;
}

static long do_kill(void *ctx, uint64_t badge, const char *name)
{
	(void)ctx;
	struct task *t = task_by_name(name);
	if (!t || !t->running)
		return E_BAD_ARG;
	if (!may_control(badge, t))
		return E_NO_RIGHTS;
	task_died(t, TASK_END_KILLED, 0, "was killed");
	return E_OK;
}

static long do_task_status(void *ctx, uint64_t badge, uint32_t index, char *name, uint32_t *flags,
                           uint32_t *state, uint32_t *end, int64_t *detail, char *args)
{
	(void)ctx;
	(void)badge;
	if (index >= task_count)
		return E_RANGE;
	const struct task *t = &tasks[index];
	memcpy(name, t->m->name, strlen(t->m->name) + 1);
	*flags = task_is_vm(t) ? 1 : 0;
	*state = t->running ? 1 : t->waiting ? 2 : 0;
	*end = t->end;
	*detail = t->detail;
	/* the reply holds 127 bytes; the boot info's command line is as long */
	size_t n = strlen(t->args);
	n = n > 127 ? 127 : n;
	memcpy(args, t->args, n);
	args[n] = 0;
	return E_OK;
}

static long do_start(void *ctx, uint64_t badge, const char *name, const char *args)
{
	(void)ctx;
	struct task *t = task_by_name(name);
	if (!t)
		return E_BAD_ARG;
	return may_control(badge, t) ? task_start_with(t, args) : E_NO_RIGHTS;
}

/* Whether the caller's manifest entry needs a name task t publishes:
 * stopping t would take away, for good, a service the caller cannot do
 * without (the shell stopping the console it reads its commands from). */
static int caller_needs(uint64_t badge, const struct task *t)
{
	const struct task *caller = task_by_badge(badge);
	if (!caller || caller == t)
		return 0;
	for (unsigned i = 0; i < caller->m->ncaps; i++)
		if (caller->m->caps[i].kind == MCAP_NEEDS && names_owned_by(t->id, caller->m->caps[i].name))
			return 1;
	return 0;
}

static long do_stop(void *ctx, uint64_t badge, const char *name)
{
	(void)ctx;
	struct task *t = task_by_name(name);
	if (!t)
		return E_BAD_ARG;
	if (!may_control(badge, t) || caller_needs(badge, t))
		return E_NO_RIGHTS;
	return task_stop(t);
}

static long do_restart(void *ctx, uint64_t badge, const char *name)
{
	(void)ctx;
	struct task *t = task_by_name(name);
	if (!t)
		return E_BAD_ARG;
	return may_control(badge, t) ? task_restart(t) : E_NO_RIGHTS;
}

/* Bytes of our Untyped memory (RAM, not device memory) not yet retyped. */
static uint64_t untyped_free(void)
{
	const struct bootinfo *bi = libipc_bootinfo();
	uint64_t free = 0;
	for (unsigned i = 0; i < bi->untyped_count; i++) {
		unsigned type, rights;
		uint64_t used;
		if (!bi->untyped[i].is_device && !sys_cap_identify(bi->untyped[i].slot, &type, &rights, &used))
			free += (1ULL << bi->untyped[i].size_bits) - used;
	}
	return free;
}

static long do_mem(void *ctx, uint64_t badge, uint64_t *total, uint64_t *free)
{
	(void)ctx;
	(void)badge;
	*total = libipc_bootinfo()->untyped_bytes;
	*free = untyped_free() + loans_free_bytes();
	return E_OK;
}

/* ps's row for init itself: what it has retyped for its own use is what
 * is used less the tasks' pools (alignment gaps between pools count as
 * init's: nobody else can use them). */
static void ps_init_row(uint32_t *priority, uint64_t *memory)
{
	uint64_t used = libipc_bootinfo()->untyped_bytes - untyped_free() - loans_free_bytes();
	for (unsigned i = 0; i < task_count; i++)
		used -= (tasks[i].pool ? 1ULL << tasks[i].pool_bits : 0) + loans_held(&tasks[i]);
	*priority = ROOT_TASK_PRIORITY;
	*memory = used;
}

static long do_ps_entry(void *ctx, uint64_t badge, uint32_t index, char *name, uint32_t *kind,
                        uint32_t *flags, uint32_t *state, uint32_t *thread, uint32_t *end, int64_t *detail,
                        uint32_t *priority, uint32_t *restarts, int32_t *policy, uint64_t *memory,
                        uint64_t *uptime_ms, uint64_t *idle_ms)
{
	(void)ctx;
	if (index >= task_count + 2)
		return E_RANGE;
	*flags = *end = *restarts = 0;
	*detail = *policy = 0;
	*state = *thread = 1;
	*idle_ms = *memory = 0;
	*priority = 0;
	uint64_t now = tsc_now();
	if (index < 2) {
		*kind = index ? 1 : 2;
		strcpy(name, index ? "init" : "[idle]");
		*uptime_ms = tsc_to_ms(now - init_started_tsc());
		if (index) {
			ps_init_row(priority, memory);
		} else {
			uint64_t halted = 0;
			sys_kernel_counter(KC_IDLE_TSC, &halted);
			*idle_ms = tsc_to_ms(halted);
		}
		return E_OK;
	}
	const struct task *t = &tasks[index - 2];
	struct thread_info info = { .state = THREAD_INACTIVE };
	if (t->running)
		sys_tcb_info(t->proc.tcb, &info);
	*kind = 0;
	strcpy(name, t->m->name);
	*flags = (task_is_vm(t) ? 1 : 0) | (badge == t->id ? 2 : 0) | (t->m->manual ? 4 : 0) |
	         (may_control(badge, t) ? 8 : 0);
	*state = t->running ? 1 : t->waiting ? 2 : 0;
	*thread = info.state;
	*end = t->end;
	*detail = t->detail;
	*priority = t->m->priority;
	*restarts = t->restarts;
	*policy = t->m->restart;
	*memory = (1ULL << t->m->memory_bits) + ((uint64_t)t->m->borrow_mib << 20);
	*uptime_ms = t->running ? tsc_to_ms(now - t->started) : 0;
	return E_OK;
}

/* Tracing reveals who talks to whom: only tasks whose manifest entry
 * says trace may use init's trace capability. */
static int may_trace(uint64_t badge)
{
	const struct task *t = task_by_badge(badge);
	return t && t->m->trace;
}

static long do_trace(void *ctx, uint64_t badge, const char *name, uint32_t on)
{
	(void)ctx;
	if (!may_trace(badge))
		return E_NO_RIGHTS;
	return trace_task(name, on);
}

static long do_trace_read(void *ctx, uint64_t badge, uint32_t *count, uint32_t *lost, uint64_t *per_ms,
                          uint64_t tsc[16], uint64_t label[16], uint32_t from[16], uint32_t to[16],
                          uint8_t kind[16])
{
	(void)ctx;
	if (!may_trace(badge))
		return E_NO_RIGHTS;
	return trace_read(count, lost, per_ms, tsc, label, from, to, kind);
}

static long do_mem_borrow(void *ctx, uint64_t badge, uint32_t *loan, uint64_t *chunk)
{
	(void)ctx;
	return loan_borrow(task_by_badge(badge), 0, loan, chunk);
}

static long do_mem_borrow_frame(void *ctx, uint64_t badge, uint32_t *loan, uint64_t *frame)
{
	(void)ctx;
	return loan_borrow(task_by_badge(badge), 1, loan, frame);
}

static long do_mem_share(void *ctx, uint64_t badge, uint32_t loan, const char *task)
{
	(void)ctx;
	return loan_share(task_by_badge(badge), loan, task_by_name(task));
}

static long do_mem_sharing(void *ctx, uint64_t badge, uint64_t *shared, uint64_t *saved, uint64_t *store_pages,
                           uint64_t *store_takes)
{
	(void)ctx;
	(void)badge;
	loans_sharing(shared, saved);
	pages_sharing(store_pages, store_takes);
	return E_OK;
}

static long do_mem_page_find(void *ctx, uint64_t badge, uint32_t loan, uint32_t index, uint32_t *stored,
                             uint32_t *seen)
{
	(void)ctx;
	return pages_find(task_by_badge(badge), loan, index, stored, seen);
}

static long do_mem_page_take(void *ctx, uint64_t badge, uint32_t loan, uint32_t index, uint64_t *frame)
{
	(void)ctx;
	return pages_take(task_by_badge(badge), loan, index, frame);
}

static long do_mem_return(void *ctx, uint64_t badge, uint32_t loan)
{
	(void)ctx;
	return loan_return(task_by_badge(badge), loan);
}

/* Whether the caller's manifest entry lets it inject faults into t: its
 * inject line names t or says all.  Never by default, not even into
 * itself: the capabilities reach into t's memory and thread. */
static int may_inject(uint64_t badge, const struct task *t)
{
	const struct task *caller = task_by_badge(badge);
	if (!caller)
		return 0;
	if (caller->m->inject_all)
		return 1;
	for (unsigned i = 0; i < caller->m->ninject; i++)
		if (!strcmp(caller->m->inject[i], t->m->name))
			return 1;
	return 0;
}

static long do_inject_cap(void *ctx, uint64_t badge, const char *name, uint32_t index, uint64_t *part,
                          uint32_t *kind, uint64_t *vaddr, uint32_t *rights)
{
	(void)ctx;
	struct task *t = task_by_name(name);
	if (!t)
		return E_BAD_ARG;
	if (!may_inject(badge, t))
		return E_NO_RIGHTS;
	if (!t->running)
		return E_STATE;
	*vaddr = 0;
	*rights = 0;
	if (index == 0) {
		*kind = 0;
		*part = t->proc.tcb;
	} else if (index == 1) {
		*kind = 2;
		*part = t->proc.cnode;
	} else if (index - 2 < t->npages) {
		const struct task_page *pg = &t->pages[index - 2];
		*kind = 1;
		*part = pg->frame; /* the reply carries a copy, a child of ours */
		*vaddr = pg->where & ~(uint64_t)(PAGE_SIZE - 1);
		*rights = (uint32_t)(pg->where & (PAGE_SIZE - 1));
	} else {
		return E_RANGE;
	}
	return E_OK;
}

static const struct init_ops ops = {
	.publish = do_publish, .lookup = do_lookup, .unpublish = do_unpublish,
	.task_info = do_task_info, .kill = do_kill, .mem = do_mem,
	.task_status = do_task_status, .start = do_start, .stop = do_stop, .restart = do_restart,
	.trace = do_trace, .trace_read = do_trace_read, .ps_entry = do_ps_entry,
	.mem_borrow = do_mem_borrow, .mem_return = do_mem_return, .mem_borrow_frame = do_mem_borrow_frame,
	.mem_share = do_mem_share, .mem_sharing = do_mem_sharing,
	.mem_page_find = do_mem_page_find, .mem_page_take = do_mem_page_take,
	.inject_cap = do_inject_cap,
};

static int handle(struct server *s, const struct msg *req, struct msg *reply)
{
	uint64_t label = MSG_LABEL(req->info);
	struct task *t = task_by_badge(req->badge);
	if (label == LABEL_HEARTBEAT && t) {
		heartbeat_answered(t);
		return SERVER_NO_REPLY;
	}
	if (label == LABEL_NOTIFY && !req->badge) {
		heartbeat_tick();
		return SERVER_NO_REPLY;
	}
	if (label == LABEL_FAULT && t) {
		char why[112];
		debug_snprintf(why, sizeof(why), "faulted (vector %lu at rip %lx, address %lx: %s)",
		               req->w[0], req->w[2], req->w[1], fault_kind(req->w[0]));
		task_died(t, TASK_END_FAULTED, (long)req->w[0], why);
		return SERVER_NO_REPLY;
	}
	if (label == LABEL_PROGRAM_EXIT && t) {
		char why[48];
		debug_snprintf(why, sizeof(why), "exited with status %ld", (long)req->w[0]);
		task_died(t, TASK_END_EXITED, (long)req->w[0], why);
		return SERVER_NO_REPLY;
	}
	return init_dispatch(&ops, s->ctx, req, s->recv_slots, reply) ? SERVER_REPLY : SERVER_UNKNOWN;
}

static const struct bootinfo_module *find_manifest(const struct bootinfo *bi)
{
	for (unsigned i = 0; i < bi->module_count; i++) {
		size_t n = strlen(bi->module[i].name);
		if (n >= 8 && !strncmp(bi->module[i].name + n - 8, "manifest", 8))
			return &bi->module[i];
	}
	return 0;
}

int main(const struct bootinfo *bi)
{
	uptime_init();
	debug_printf("init: %lu MiB of memory, %u boot modules\n", bi->untyped_bytes >> 20, bi->module_count);
	if (object_alloc(OBJ_PORT, 0, &init_port)) {
		debug_printf("init: no port\n");
		return 1;
	}
	const struct bootinfo_module *mf = find_manifest(bi);
	unsigned line;
	const char *msg;
	if (!mf)
		debug_printf("init: no boot manifest (a module named ...manifest); starting nothing\n");
	else if (manifest_parse((const char *)mf->vaddr, mf->size, &manifest, &line, &msg))
		debug_printf("init: %s:%u: %s; starting nothing\n", mf->name, line, msg);
	else
		tasks_start_all(&manifest, bi);
	heartbeat_init();

	struct server s;
	if (server_init(&s, init_port, handle, 0)) {
		debug_printf("init: no slots for the server loop\n");
		return 1;
	}
	long err = server_run(&s);
	debug_printf("init: server loop ended: %ld\n", err);
	return 1;
}
