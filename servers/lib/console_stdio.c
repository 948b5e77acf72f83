/* Connects newlib's descriptors 0-2 (libipc/posix.c hooks) to the console. */
#include <errno.h>
#include <libipc/libipc.h>
#include "console.h"
#include "console_stdio.h"

static uint64_t console;

static long console_out(const char *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		uint32_t chunk = len - done > 256 ? 256 : (uint32_t)(len - done), written;
		long err = console_write(console, (const uint8_t *)buf + done, chunk, &written);
		if (err) {
			/* no console any more: say it on the kernel's line instead */
			sys_debug_write(buf + done, len - done);
			return (long)len;
		}
		done += written;
	}
	return (long)len;
}

static long console_in(char *buf, size_t len)
{
	uint32_t got = 0;
	uint8_t data[256];
	long err = console_read(console, len > 256 ? 256 : (uint32_t)len, data, &got);
	if (err)
		return -EIO;
	memcpy(buf, data, got);
	return got;
}

void stdio_use_console(uint64_t console_slot)
{
	console = console_slot;
	libc_console_write = console_out;
	libc_console_read = console_in;
}
