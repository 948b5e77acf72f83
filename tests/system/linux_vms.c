/* Fault containment with two Linux guests, each under its own VMM
 * (issue 10): both boot to their shells at once; then one VMM is killed
 * (as the shell's `kill` does) and the other dies of a fault injected
 * into it (a wild write, vmm.idl's inject_fault).  Each time only that
 * guest stops: the other VMM serves exits all along, init restarts the
 * dead VMM and its Linux boots again.  The markers are not anchored at a
 * line's start: one guest's shell prompt (no newline) may precede the
 * other's marker on the same console line. */
// test-root: build/init.elf
// test-module: tests/system/manifests/linux_vms.manifest
// test-module: build/serial.elf
// test-module: build/rtc.elf
// test-module: build/vmm.elf
// test-module: cache/linux/guest/bzImage
// test-module: cache/linux/guest/initramfs.cpio.gz
// test-exit: none
// test-timeout: 400
// test-selfcheck: 256
// test-expect: \[linux\] berth-guest: init started[\s\S]*init: 'linux' was killed; restarting it[\s\S]*\[linux\] berth-guest: init started
// test-expect: \[linux2\] berth-guest: init started[\s\S]*injected fault[\s\S]*init: 'linux2' faulted[^\n]*restarting it[\s\S]*\[linux2\] berth-guest: init started
// test-expect: ^ok 6 
#include "tap.h"
#include "init.h"
#include "vmm.h"

#define INIT 8

static uint64_t nap;

static void sleep_ticks(uint64_t ticks)
{
	struct msg m;
	sys_notify_after(nap, 1, ticks);
	ipc_recv(nap, 0, &m);
}

/* The VM's exits so far through its controls, or 0 if it has none now. */
static uint64_t exits_of(const char *vm)
{
	uint64_t controls, memory, uptime, exits = 0;
	char name[33];
	uint32_t state;
	if (init_lookup(INIT, vm, &controls))
		return 0;
	if (vmm_info(controls, name, &state, &memory, &uptime, &exits))
		exits = 0;
	sys_cnode_delete(controls);
	slot_free(controls);
	return exits;
}

/* Wait (up to `secs`) for a VM's exits to pass `over`: its guest runs. */
static int runs(const char *vm, uint64_t over, unsigned secs)
{
	for (unsigned t = 0; t < secs * 10; t++) {
		if (exits_of(vm) > over)
			return 1;
		sleep_ticks(10);
	}
	return 0;
}

/* Exits by the time a guest's boot is nearly done; and the few an idle
 * guest makes in 30 s (its tickless kernel wakes a few times a second,
 * and each wake is a handful of exits: TSC deadline, EOI, HLT). */
#define BOOTED 65000
#define IDLE_EXITS 10

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(6);
	tap_own_lines(); /* the guests' shell prompts end without a newline */
	if (object_alloc(OBJ_PORT, 0, &nap))
		return 1;
	/* a Linux boot takes some 73,000 exits to its /init (docs/benchmarks.md);
	 * the log shows each reach its shell */
	tap_ok(runs("vm.linux", BOOTED, 150) && runs("vm.linux2", BOOTED, 150),
	       "both Linux guests are well into their boot");
	sleep_ticks(1000);

	uint64_t before = exits_of("vm.linux2");
	tap_eq(init_kill(INIT, "linux"), E_OK, "init kills linux's VMM");
	tap_ok(runs("vm.linux2", before + IDLE_EXITS, 30), "linux2's VMM serves exits after the kill (%lu before)",
	       before);
	tap_ok(runs("vm.linux", BOOTED, 150), "linux's VMM was restarted and its guest boots again");
	sleep_ticks(1000);

	uint64_t controls;
	before = exits_of("vm.linux");
	if (init_lookup(INIT, "vm.linux2", &controls) == E_OK)
		vmm_inject_fault(controls); /* no reply: the VMM dies */
	tap_ok(runs("vm.linux", before + IDLE_EXITS, 30), "linux's VMM serves exits after linux2's VMM faulted");
	tap_ok(runs("vm.linux2", BOOTED, 150), "linux2's VMM was restarted and its guest boots again");
	sleep_ticks(1000);
	debug_printf("linux-vms: done\n");
	for (;;)
		sleep_ticks(1000);
}
