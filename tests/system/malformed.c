/* Malformed messages to the console and to init's name service (wrong
 * label, too short, too long, a length past its bound or past the
 * message, caps where none belong, too many caps) get error replies, and
 * both servers stay up: normal calls work afterwards and nothing was
 * restarted. */
// test-root: build/init.elf
// test-module: tests/system/manifests/malformed.manifest
// test-module: build/serial.elf
#include "tap.h"
#include "console.h"
#include "init.h"

#define INIT 8
#define CONSOLE 9

/* Send a raw request; return the status word of the reply, or the
 * transport error (as a negative number). */
static long raw(uint64_t port, uint64_t label, unsigned words, const uint64_t *w, unsigned caps)
{
	struct msg m = { .info = MSG_INFO(label, words, caps) };
	for (unsigned i = 0; i < words && i < MSG_MAX_WORDS; i++)
		m.w[i] = w[i];
	if (caps) {
		uint64_t slots[3] = { CAP_ROOT_VSPACE, CAP_ROOT_TCB, CAP_ROOT_CNODE };
		ipc_set_send_caps(slots, caps > 3 ? 3 : caps);
	}
	long err = ipc_call(port, &m);
	ipc_set_send_caps(0, 0);
	if (err)
		return -err;
	return MSG_WORDS(m.info) >= 1 ? (long)m.w[0] : -1000;
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(14);
	uint64_t w[MSG_MAX_WORDS] = { 0 };
	tap_eq(raw(CONSOLE, 0x999, 0, w, 0), E_BAD_SYSCALL, "console: a label of no method");
	tap_eq(raw(CONSOLE, CONSOLE_WRITE_LABEL, 0, w, 0), E_BAD_MSG, "console: write with no words");
	w[0] = 300; /* bytes<256> */
	tap_eq(raw(CONSOLE, CONSOLE_WRITE_LABEL, 39, w, 0), E_BAD_MSG, "console: a length past its bound");
	w[0] = 100;
	tap_eq(raw(CONSOLE, CONSOLE_WRITE_LABEL, 3, w, 0), E_BAD_MSG, "console: a length past the message");
	w[0] = 8;
	tap_eq(raw(CONSOLE, CONSOLE_WRITE_LABEL, 5, w, 0), E_BAD_MSG, "console: words after the data");
	w[0] = 8;
	tap_eq(raw(CONSOLE, CONSOLE_WRITE_LABEL, 2, w, 2), E_BAD_MSG, "console: capabilities where none belong");
	tap_eq(raw(CONSOLE, CONSOLE_WRITE_LABEL, 2, w, 4), -E_BAD_MSG, "console: too many caps (the kernel refuses)");

	tap_eq(raw(INIT, 0x1ff, 1, w, 0), E_BAD_SYSCALL, "init: a label of no method");
	w[0] = 5;
	tap_eq(raw(INIT, INIT_PUBLISH_LABEL, 2, w, 0), E_BAD_MSG, "init: publish without the capability");
	w[0] = 40; /* string<32> */
	tap_eq(raw(INIT, INIT_LOOKUP_LABEL, 6, w, 0), E_BAD_MSG, "init: a name past its bound");
	w[0] = 2;
	w[1] = 'a'; /* "a\0": a NUL inside the string's length */
	tap_eq(raw(INIT, INIT_LOOKUP_LABEL, 2, w, 0), E_BAD_MSG, "init: a NUL inside a name");

	static const char ok[] = "malformed-test: the console still works\n";
	uint32_t written;
	tap_eq(console_write(CONSOLE, (const uint8_t *)ok, sizeof(ok) - 1, &written), E_OK,
	       "the console still answers");
	uint64_t c;
	tap_eq(init_lookup(INIT, "console", &c), E_OK, "init still answers");
	char name[33];
	uint32_t state, restarts = 99, threads;
	uint64_t memory;
	init_task_info(INIT, 0, name, &state, &restarts, &threads, &memory);
	tap_ok(!strcmp(name, "serial") && restarts == 0, "the console driver was never restarted (%u)", restarts);
	tap_done();
}
