/* Fault containment: this client writes to the console in a loop while
 * the console driver is made to crash (a test-only request that makes it
 * use a bad pointer), and again while init kills it (what the shell's
 * kill does).  Each time the client sees an error, looks the console up
 * again once init has restarted the driver, and its later output appears. */
// test-root: build/init.elf
// test-module: tests/system/manifests/restart.manifest
// test-module: build/serial.elf
// test-expect: restart-test: line 9 before the crash
// test-expect: init: 'serial' faulted \(vector 14
// test-expect: restart-test: line 0 after the crash
// test-expect: init: 'serial' was killed; restarting it
// test-expect: restart-test: line 0 after the kill
#include <stdio.h>
#include "tap.h"
#include "tasks.h"
#include "console.h"
#include "init.h"

#define INIT 8

static uint64_t console = 9;

static long say(const char *what, int i)
{
	char line[80];
	int n = snprintf(line, sizeof(line), "restart-test: line %d %s\n", i, what);
	uint32_t written;
	return console_write(console, (const uint8_t *)line, (uint32_t)n, &written);
}

/* Look the console up until the new instance has published it. */
static int reconnect(void)
{
	for (int tries = 0; tries < 100000; tries++) {
		uint64_t fresh;
		if (init_lookup(INIT, "console", &fresh) == E_OK) {
			console = fresh;
			return tries;
		}
		sys_yield();
	}
	return -1;
}

static uint32_t restarts_of(const char *task)
{
	uint32_t restarts = 0;
	return task_find(task, 0, &restarts, 0) ? restarts : 9999;
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(15);
	int ok = 1;
	for (int i = 0; i < 10; i++)
		ok &= say("before the crash", i) == E_OK;
	tap_ok(ok, "ten lines through the console");

	long err = console_crash_for_test(console);
	tap_ok(err == E_NO_REPLY || err == E_DEAD_PORT, "the crash request gets no answer (%ld)", err);
	/* init revoked everything made from the dead driver's memory, the
	 * port and every right to it: ours is gone (or, in a race, dead) */
	err = say("into the void", 0);
	tap_ok(err == E_BAD_CAP || err == E_DEAD_PORT, "our right to the old console is dead or gone (%ld)", err);
	tap_ok(reconnect() >= 0, "the name leads to a new console");
	ok = 1;
	for (int i = 0; i < 5; i++)
		ok &= say("after the crash", i) == E_OK;
	tap_ok(ok, "writing works again");
	tap_eq(restarts_of("serial"), 1, "init counts one restart");

	tap_eq(init_kill(INIT, "serial"), E_OK, "init kills the console driver");
	err = say("into the void", 1);
	tap_ok(err == E_BAD_CAP || err == E_DEAD_PORT, "our right to the killed console is dead or gone (%ld)", err);
	tap_ok(reconnect() >= 0, "and a new console is published");
	ok = 1;
	for (int i = 0; i < 5; i++)
		ok &= say("after the kill", i) == E_OK;
	tap_ok(ok, "writing works again");
	tap_eq(restarts_of("serial"), 2, "two restarts now");
	tap_eq(init_kill(INIT, "no-such-task"), E_BAD_ARG, "killing an unknown task is refused");
	/* our manifest entry says control serial: another task is not ours
	 * to start, stop or restart (bystander is manual, so not running) */
	tap_eq(init_start(INIT, "bystander", ""), E_NO_RIGHTS, "starting a task outside our control line is refused");
	tap_eq(init_stop(INIT, "bystander"), E_NO_RIGHTS, "stopping it is refused");
	tap_eq(init_restart(INIT, "bystander"), E_NO_RIGHTS, "restarting it is refused");
	tap_done();
}
