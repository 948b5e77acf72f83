/* The runtime of the test guests: 64-bit code that the VMM starts at
 * 0x100000 with paging on (the first 4 GiB mapped 1:1).  Output goes through
 * the emulated 16550 at 0x3f8, so TAP lines reach the console. */
#ifndef GUEST_H
#define GUEST_H

#include <stdint.h>
#include <stddef.h>

static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
static inline void outw(uint16_t p, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(p)); }
static inline void outl(uint16_t p, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint16_t inw(uint16_t p) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint32_t inl(uint16_t p) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(p)); return v; }

static inline uint64_t vmmcall(uint64_t call, uint64_t a, uint64_t b)
{
	uint64_t r;
	__asm__ volatile("vmmcall" : "=a"(r) : "a"(call), "b"(a), "c"(b) : "memory");
	return r;
}

void gputs(const char *s);
void gprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void plan(int n);
int ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An interrupt gate for vector v (handlers use __attribute__((interrupt))). */
void idt_set(unsigned v, void *handler);
void idt_load(void);

/* The 8259s at vectors 0x20.. and 0x28.. with only the timer unmasked,
 * the 8254 ticking at 100 Hz, and handler at vector 0x20.  Interrupts
 * stay off until the caller's sti. */
void timer_start(void *handler);

/* What an __attribute__((interrupt)) handler gets: the interrupt frame. */
struct frame {
	uint64_t rip, cs, rflags, rsp, ss;
};

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* A 2 MiB window of virtual addresses at WINDOW_VA mapped with 4 KiB
 * pages, for tests that need pages the VMM's 1:1 map does not give
 * (non-adjacent physical pages, missing pages, page tables elsewhere).
 * window_map sets the entry for one page (0: not present; window_remap
 * flushes only that page, INVLPG, where window_map reloads CR3), window_entry
 * reads it back (the processor may have set its accessed and dirty bits);
 * window_table_at(gpa) makes the window's page table the one at gpa,
 * wherever that is (0: back to the runtime's own table). */
#define WINDOW_VA 0x40000000UL
#define PTE_PRESENT_RW 3UL
void window_map(uint64_t va, uint64_t pte);
void window_remap(uint64_t va, uint64_t pte);   /* one entry, flushed with INVLPG only */
uint64_t window_entry(uint64_t va);
void window_table_at(uint64_t gpa);

/* TSC ticks per timer interrupt, measured over n interrupts of the 8254
 * as timer_start programs it; the handler given to timer_start must
 * count in *ticks.  Leaves interrupts off. */
uint64_t tsc_per_tick(volatile unsigned *ticks, unsigned n);

#endif
