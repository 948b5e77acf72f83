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

#endif
