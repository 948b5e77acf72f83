/* Driving a VM's guest from a test program (vm_drive.c): naps on a timer,
 * lines typed into the guest's serial port (vmm.idl console_input), and
 * results on lines of their own, "WHO: ok - ..." or "WHO: FAIL - ...",
 * because the guest's prompt may hold the console's line without its
 * newline, so TAP's "ok N" would not start a line (the tests expect them
 * with test-expect lines instead). */
#ifndef VM_DRIVE_H
#define VM_DRIVE_H

#include <stdint.h>

void vm_nap(unsigned ticks);                      /* 100 ticks a second */
void vm_type(uint64_t vm, const char *line);      /* vm: a vm.NAME right */
int vm_check(const char *who, int cond, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
