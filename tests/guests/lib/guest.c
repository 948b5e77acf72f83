#include <stdarg.h>
#include "guest.h"

static void putc_uart(char c)
{
	while (!(inb(0x3f8 + 5) & 0x20))
		;
	outb(0x3f8, (uint8_t)c);
}

void gputs(const char *s)
{
	while (*s)
		putc_uart(*s++);
}

static void put_unsigned(uint64_t v, unsigned base)
{
	char buf[24];
	int n = 0;
	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n--)
		putc_uart(buf[n]);
}

static void vgprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			putc_uart(*fmt);
			continue;
		}
		int is_long = 0;
		while (*++fmt == 'l')
			is_long = 1;
		switch (*fmt) {
		case 'd': {
			int64_t v = is_long ? va_arg(ap, int64_t) : va_arg(ap, int);
			if (v < 0) {
				putc_uart('-');
				v = -v;
			}
			put_unsigned((uint64_t)v, 10);
			break;
		}
		case 'u': put_unsigned(is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10); break;
		case 'x': put_unsigned(is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16); break;
		case 's': gputs(va_arg(ap, const char *)); break;
		case 'c': putc_uart((char)va_arg(ap, int)); break;
		default: putc_uart(*fmt);
		}
	}
}

void gprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vgprintf(fmt, ap);
	va_end(ap);
}

static int tests;

void plan(int n)
{
	gprintf("1..%d\n", n);
}

int ok(int cond, const char *fmt, ...)
{
	va_list ap;
	gprintf("%sok %d - ", cond ? "" : "not ", ++tests);
	va_start(ap, fmt);
	vgprintf(fmt, ap);
	va_end(ap);
	gprintf("\n");
	return cond;
}

static struct {
	uint16_t off_lo, sel;
	uint8_t ist, attr;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed)) idt[256];

void idt_set(unsigned v, void *handler)
{
	uint64_t a = (uint64_t)handler;
	idt[v].off_lo = (uint16_t)a;
	idt[v].sel = 8;
	idt[v].attr = 0x8e;
	idt[v].off_mid = (uint16_t)(a >> 16);
	idt[v].off_hi = (uint32_t)(a >> 32);
}

void idt_load(void)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) p = { sizeof(idt) - 1, (uint64_t)idt };
	__asm__ volatile("lidt %0" :: "m"(p));
}

void timer_start(void *handler)
{
	outb(0x20, 0x11); outb(0x21, 0x20); outb(0x21, 4); outb(0x21, 1);
	outb(0xa0, 0x11); outb(0xa1, 0x28); outb(0xa1, 2); outb(0xa1, 1);
	outb(0x21, 0xfe); outb(0xa1, 0xff);
	idt_set(0x20, handler);
	idt_load();
	outb(0x43, 0x34); outb(0x40, (uint8_t)11932); outb(0x40, (uint8_t)(11932 >> 8));
}

/* The VMM's page directory for 1..2 GiB is at 0x4000; its first entry
 * maps WINDOW_VA. */
static uint64_t window_table[512] __attribute__((aligned(4096)));

static void flush_tlb(void)
{
	uint64_t cr3;
	__asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) :: "memory");
}

void window_table_at(uint64_t gpa)
{
	volatile uint64_t *pd = (volatile uint64_t *)0x4000;
	pd[0] = (gpa ? gpa : (uint64_t)window_table) | PTE_PRESENT_RW;
	flush_tlb();
}

uint64_t window_entry(uint64_t va)
{
	return ((volatile uint64_t *)window_table)[((va - WINDOW_VA) >> 12) & 511];
}

void window_map(uint64_t va, uint64_t pte)
{
	window_table[((va - WINDOW_VA) >> 12) & 511] = pte;
	window_table_at(0);
}

void window_remap(uint64_t va, uint64_t pte)
{
	window_table[((va - WINDOW_VA) >> 12) & 511] = pte;
	__asm__ volatile("invlpg (%0)" :: "r"(va) : "memory");
}

uint64_t tsc_per_tick(volatile unsigned *ticks, unsigned n)
{
	__asm__ volatile("sti");
	unsigned start = *ticks;
	while (*ticks == start)
		__asm__ volatile("hlt");
	uint64_t t0 = rdtsc();
	start = *ticks;
	while (*ticks < start + n)
		__asm__ volatile("hlt");
	uint64_t t = rdtsc() - t0;
	__asm__ volatile("cli");
	return t / n;
}
