/* stdio on the console server: after stdio_use_console, printf and
 * friends write through idl/console.idl and reading stdin waits for
 * typed input.  If the console dies, output falls back to the kernel's
 * debug line until stdio_use_console names a new one. */
#ifndef CONSOLE_STDIO_H
#define CONSOLE_STDIO_H

#include <stdint.h>

void stdio_use_console(uint64_t console_slot);

#endif
