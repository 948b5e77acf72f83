/* The VM's time (vmtime.c). */
#ifndef VMM_VMTIME_H
#define VMM_VMTIME_H

#include <stdint.h>

#define CLOCK_NEVER UINT64_MAX

void clock_init(uint64_t tsc_hz);   /* the TSC's rate, from main.c's calibration */
uint64_t clock_ns(void);            /* nanoseconds since the VMM started */
uint64_t clock_cycles_to_ns(uint64_t cycles);  /* a TSC interval in nanoseconds */
uint64_t clock_tsc0(void);          /* the guest's TSC at VM time 0 */
uint64_t clock_guest_tsc(void);     /* the guest's TSC now */
/* A restored VM: its time goes on from vm_ns and its TSC from guest_tsc
 * (both at the snapshot); returns the VCPU's new TSC offset. */
uint64_t clock_restore(uint64_t vm_ns, uint64_t guest_tsc);
uint64_t clock_tsc_hz(void);
uint64_t clock_unix_ns(void);       /* the host's date and time, in ns since 1970 */
void timers_rearm(void);            /* after anything that may change a device's next event */
void timers_fired(void);            /* the timer notification came: re-arm whatever is next */
uint64_t devices_next_event(uint64_t now_ns);  /* devices.c: the earliest, or CLOCK_NEVER */

#endif
