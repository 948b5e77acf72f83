/* CPU set-up and small wrappers around privileged instructions. */
#ifndef CPU_H
#define CPU_H

#include <stdint.h>

#define MSR_FS_BASE 0xc0000100

void cpu_init(void);

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));
extern struct tss cpu_tss;
/* The end of the current thread's context: where SYSCALL and interrupts
 * from user mode save registers (read by entry.S). */
extern uintptr_t current_context_end;

/* Inline, as it runs on every switch between threads. */
static inline void cpu_set_kernel_entry_stack(uintptr_t top)
{
	cpu_tss.rsp[0] = top;
	current_context_end = top;
}
void fpu_init_area(void *area);
uint32_t fpu_mxcsr_mask(void);   /* MXCSR bits FXRSTOR accepts */

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint64_t read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline void write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" :: "r"(v) : "memory"); }
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
static inline void invlpg(uintptr_t va) { __asm__ volatile("invlpg (%0)" :: "r"(va) : "memory"); }
/* Save the FPU state into save_area (none: 0) and load load_area's;
 * inline, as it runs on every switch between threads. */
// cppcheck-suppress constParameter
static inline void fpu_switch(void *save_area, const void *load_area)
{
	if (save_area)
		__asm__ volatile("fxsave64 %0" : "=m"(*(uint8_t (*)[512])save_area));
	__asm__ volatile("fxrstor64 %0" :: "m"(*(const uint8_t (*)[512])load_area));
}
struct cpuid { uint32_t a, b, c, d; };
static inline struct cpuid cpuid(uint32_t leaf, uint32_t sub)
{
	struct cpuid r;
	__asm__ volatile("cpuid" : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d) : "a"(leaf), "c"(sub));
	return r;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}
static inline __attribute__((noreturn)) void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

#endif
