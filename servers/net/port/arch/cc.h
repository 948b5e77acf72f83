/* lwIP's compiler and platform header for Berth (lwIP's doc/sys_arch.txt,
 * src/include/lwip/arch.h): what lwIP cannot guess about a freestanding
 * x86-64 program on newlib.  Included by every lwIP file. */
#ifndef BERTH_LWIP_ARCH_CC_H
#define BERTH_LWIP_ARCH_CC_H

#include <stdint.h>
#include <stddef.h>

/* newlib's headers are there, but its errno numbers are not Linux's and
 * lwIP's raw API needs none: keep lwIP's own errno out of it. */
#define LWIP_NO_UNISTD_H 1

/* Diagnostics go to the kernel's debug line; an assertion failure ends
 * the server, init starts a fresh one (servers/net/main.c). */
int debug_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void net_assert_failed(const char *what, const char *file, int line);
#define LWIP_PLATFORM_DIAG(x) do { debug_printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) net_assert_failed((x), __FILE__, __LINE__)

/* Random numbers for ports, ISNs and DHCP's transaction ids
 * (servers/net/clock.c: the TSC stirred). */
uint32_t net_random(void);
#define LWIP_RAND() net_random()

#endif
