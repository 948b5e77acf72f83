/* The guest fuzzer of tests/system/guest_fuzz.c under shadow paging
 * (mode=shadow for both VMs): random ring-0 code under random page
 * tables, with a share of CR0/CR3/CR4 writes, INVLPG and page faults,
 * every one of which the VMM's shadow paging handles; the kernel, init
 * and the well-behaved VM beside it (also under shadow paging) must be
 * unharmed.  The rest is that test's, unchanged. */
// test-root: build/init.elf
// test-module: tests/system/manifests/guest_fuzz_shadow.manifest
// test-module: build/serial.elf
// test-module: build/vmm.elf
// test-module: build/tests/guests/progs/fuzz.bin
// test-module: build/tests/guests/progs/ticker.bin
// test-cmdline: svmcount
// test-exit: none
// test-timeout: 150
// test-expect: ^vmm: \[f\] shadow paging: nested paging off
// test-expect: ^\[f\] fuzz: starting
// test-expect: ^\[f\] fuzz: seed[\s\S]*^\[f\] fuzz: seed[\s\S]*^\[f\] fuzz: seed
// test-expect: guest-fuzz: done[\s\S]*\[t\] tick \d+
#include "tap.h"
#include "init.h"
#include "tasks.h"

#define INIT 8

static unsigned arg(const char *args, const char *key, unsigned dflt)
{
	const char *p = strstr(args, key);
	if (!p)
		return dflt;
	unsigned v = 0;
	for (p += strlen(key); *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (unsigned)(*p - '0');
	return v;
}

/* running with its one thread, and how often init restarted it */
static int task(const char *name, uint32_t *restarts)
{
	uint32_t threads = 0;
	return task_find(name, 0, restarts, &threads) && threads == 1;
}

int main(const struct bootinfo *bi)
{
	unsigned secs = arg(bi->cmdline, "secs=", 40), every = arg(bi->cmdline, "every=", 5), kills = 0;
	tap_plan(5);
	uint64_t nap;
	long err = object_alloc(OBJ_PORT, 0, &nap);
	for (unsigned t = 0; !err && t < secs; t += every) {
		struct msg m;
		sys_notify_after(nap, 1, 100UL * every);   /* 100 ticks a second */
		err = ipc_recv(nap, 0, &m);
		if (!err && t + every < secs && init_kill(INIT, "vmm-f") == E_OK)
			kills++;
	}
	tap_eq(err, E_OK, "slept %u seconds while the fuzzer ran", secs);
	uint64_t frame;
	tap_eq(object_alloc(OBJ_FRAME, 0, &frame), E_OK, "the kernel still serves system calls");
	uint64_t c;
	tap_eq(init_lookup(INIT, "console", &c), E_OK, "init still answers");
	uint32_t restarts = 0;
	tap_ok(task("vmm-t", &restarts) && restarts == 0, "the well-behaved VM's VMM runs on, never restarted");
	uint32_t fuzz_restarts = 0;
	task("vmm-f", &fuzz_restarts);
	tap_ok(fuzz_restarts >= kills, "the fuzzer's VMM was restarted %u times (%u kills)", fuzz_restarts, kills);
	debug_printf("guest-fuzz: done: %u seconds, %u fuzzer VMs\n", secs, fuzz_restarts + 1);
	return 0;
}
