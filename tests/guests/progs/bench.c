/* The guest side of the vmexit benchmarks (make bench, docs/benchmarks.md):
 * CPUID (answered by the VMM, or by the kernel in the in-kernel build), an
 * OUT to the POST port and a store to the VMM's MMIO test device, each
 * timed with RDTSC over many iterations, five rounds, median printed.
 * Under -icount shift=0 RDTSC counts instructions; without icount it is
 * the host's TSC, which the guest measures against the VMM's 100 Hz timer
 * to print nanoseconds too. */
#include "guest.h"

#define ITER 2000
#define ROUNDS 5

static volatile unsigned ticks;

__attribute__((interrupt)) static void timer(void *frame)
{
	(void)frame;
	ticks++;
	outb(0x20, 0x20);
}

static uint64_t median(uint64_t *v)
{
	for (int i = 0; i < ROUNDS; i++)
		for (int j = i + 1; j < ROUNDS; j++)
			if (v[j] < v[i]) {
				uint64_t t = v[i];
				v[i] = v[j];
				v[j] = t;
			}
	return v[ROUNDS / 2];
}

static uint64_t tsc_per_second;

static void report(const char *name, uint64_t *rounds)
{
	uint64_t per = median(rounds) / ITER;
	/* TSC ticks: guest instructions under -icount shift=0, the virtual
	 * TSC's cycles without it; tools/bench/run.sh keeps the first from
	 * its icount runs and the ns from the others */
	gprintf("BENCH name=%s value=%lu unit=tsc_ticks\n", name, per);
	gprintf("BENCH name=%s_ns value=%lu unit=ns\n", name, per * 1000000000UL / tsc_per_second);
}

int main(void)
{
	uint64_t r[ROUNDS];
	/* the TSC's rate, against 50 ticks of the 8254 at 100 Hz */
	timer_start(timer);
	__asm__ volatile("sti");
	unsigned start = ticks;
	while (ticks == start)
		__asm__ volatile("hlt");
	uint64_t t0 = rdtsc();
	start = ticks;
	while (ticks < start + 50)
		__asm__ volatile("hlt");
	tsc_per_second = (rdtsc() - t0) * 2;
	__asm__ volatile("cli");
	outb(0x21, 0xff);

	for (int k = 0; k < ROUNDS; k++) {
		uint64_t t = rdtsc();
		for (int i = 0; i < ITER; i++) {
			uint32_t a = 0, b, c = 0, d;
			__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
		}
		r[k] = rdtsc() - t;
	}
	report("vmexit_cpuid", r);
	for (int k = 0; k < ROUNDS; k++) {
		uint64_t t = rdtsc();
		for (int i = 0; i < ITER; i++)
			outb(0x80, 0);
		r[k] = rdtsc() - t;
	}
	report("vmexit_pio", r);
	for (int k = 0; k < ROUNDS; k++) {
		uint64_t t = rdtsc();
		for (int i = 0; i < ITER; i++)
			*(volatile uint32_t *)0xfeb00000UL = (uint32_t)i;
		r[k] = rdtsc() - t;
	}
	report("vmexit_mmio", r);
	gprintf("# guest: tsc %lu per second, %d iterations, median of %d rounds\n", tsc_per_second, ITER, ROUNDS);
	return 0;
}
