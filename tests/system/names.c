/* Two servers and a client talk through idlc-generated stubs, found
 * through init's name service.  init is the root task; this program is
 * the client its manifest starts (slot 9: console, slot 10: kv). */
// test-root: build/init.elf
// test-module: tests/system/manifests/names.manifest
// test-module: build/serial.elf
// test-module: build/tests/system/progs/kv_server.elf
// test-expect: names-test: hello through the console server
// test-expect: names-test: printf reaches the console server, 42
#include <stdio.h>
#include "console_stdio.h"
#include "tap.h"
#include "console.h"
#include "init.h"
#include "kv.h"

#define INIT 8
#define CONSOLE 9
#define KV 10

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(13);
	tap_eq(cspace_slot_type(CONSOLE), OBJ_PORT, "init gave us the console it was told we need");
	tap_eq(cspace_slot_type(KV), OBJ_PORT, "and the key-value server");

	static const char hello[] = "names-test: hello through the console server\n";
	uint32_t written = 0;
	long err = console_write(CONSOLE, (const uint8_t *)hello, sizeof(hello) - 1, &written);
	tap_ok(!err && written == sizeof(hello) - 1, "console write through the stubs (err %ld)", err);

	uint64_t kv = 0, value = 0;
	tap_eq(init_lookup(INIT, "kv", &kv), E_OK, "look the key-value server up by name");
	tap_ok(kv && cspace_slot_type(kv) == OBJ_PORT, "the lookup brought a send right");
	tap_eq(kv_put(kv, "alpha", 0xfeedbeef), E_OK, "put through the looked-up right");
	tap_eq(kv_put(KV, "beta", (uint64_t)-5), E_OK, "put through the right from the manifest");
	err = kv_get(KV, "alpha", &value);
	tap_ok(!err && value == 0xfeedbeef, "both rights reach one server (%lx)", value);
	err = kv_get(kv, "missing", &value);
	tap_eq(err, E_BAD_ARG, "a missing key is the server's own error");
	uint32_t n = 0;
	err = kv_count(kv, &n);
	tap_ok(!err && n == 2, "two keys (%u)", n);
	uint64_t none = 0;
	tap_eq(init_lookup(INIT, "no-such-service", &none), E_BAD_ARG, "an unknown name is refused");
	tap_eq(init_lookup(INIT, "console", &none), E_OK, "the console is published too");

	/* the C library's stdout, pointed at the console server */
	uint64_t before = 0, after = 0;
	console_written(CONSOLE, &before);
	stdio_use_console(CONSOLE);
	int len = printf("names-test: printf reaches the console server, %d\n", 42);
	fflush(stdout);
	console_written(CONSOLE, &after);
	tap_ok(len > 0 && after - before == (uint64_t)len, "printf's %d bytes went through the console (%lu)",
	       len, after - before);
	tap_done();
}
