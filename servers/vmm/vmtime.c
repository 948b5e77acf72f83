/* The VM's time and its one host timer (vmtime.h).
 *
 * Time is the TSC (the guest reads the same one), turned into
 * nanoseconds since the VMM started with the rate main.c measured against
 * the host timer; wall-clock time adds the host's date, asked once of the
 * clock server.  The device models that count (8254, RTC) each say when
 * they next need attention; timers_rearm() asks the kernel for one
 * notification at the earliest of those times (the host timer ticks at
 * 100 Hz, so a guest's timer fires up to a tick late, never early). */
#include "vm.h"
#include "clock.h"   /* generated from idl/clock.idl */
#include "init.h"

#define HOST_TICK_NS 10000000UL

static uint64_t tsc_start, tsc_hz, unix_ns_start;
/* The guest's TSC less the host's (the VCPU's TSC offset): 0 for a VM
 * that booted here; a restored VM's TSC goes on from its snapshot. */
static uint64_t guest_tsc_offset;

void clock_init(uint64_t hz)
{
	tsc_start = rdtsc();
	tsc_hz = hz ? hz : 1000000000UL;
	uint64_t clock, secs = 0;
	if (init_lookup(8, "clock", &clock) || clock_now(clock, &secs))
		debug_printf("vmm: no clock server: the guest's date starts at 1970\n");
	unix_ns_start = secs * 1000000000UL;
}

uint64_t clock_cycles_to_ns(uint64_t cycles)
{
	return (uint64_t)((unsigned __int128)cycles * 1000000000UL / tsc_hz);
}

uint64_t clock_ns(void)
{
	return clock_cycles_to_ns(rdtsc() - tsc_start);
}

uint64_t clock_tsc0(void)
{
	return tsc_start + guest_tsc_offset;
}

uint64_t clock_guest_tsc(void)
{
	return rdtsc() + guest_tsc_offset;
}

uint64_t clock_restore(uint64_t vm_ns, uint64_t guest_tsc)
{
	uint64_t now = rdtsc();
	tsc_start = now - (uint64_t)((unsigned __int128)vm_ns * tsc_hz / 1000000000UL);
	guest_tsc_offset = guest_tsc - now;
	return guest_tsc_offset;
}

uint64_t clock_tsc_hz(void)
{
	return tsc_hz;
}

uint64_t clock_unix_ns(void)
{
	return unix_ns_start + clock_ns();
}

/* One notification at the earliest device event; none if no device
 * waits for time. */
/* The event the pending notification is for: most calls (an EOI, a
 * register write) leave the earliest event as it was, and then need no
 * system call.  A notification may come before its event (the host's
 * ticks do not line up with ours), so once it came nothing is armed. */
static uint64_t armed_for;
static int armed;

void timers_fired(void)
{
	armed = 0;
}

void timers_rearm(void)
{
	uint64_t now = clock_ns(), next = devices_next_event(now);
	if (armed && next == armed_for && next > now)
		return;
	armed = 1;
	armed_for = next;
	if (next == CLOCK_NEVER) {
		sys_notify_after(vm.port, TIMER_BIT, 0);
		return;
	}
	uint64_t ticks = next > now ? (next - now + HOST_TICK_NS - 1) / HOST_TICK_NS : 1;
	sys_notify_after(vm.port, TIMER_BIT, ticks ? ticks : 1);
}
