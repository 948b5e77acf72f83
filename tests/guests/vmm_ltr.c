/* LTR goes to the VMM (the kernel forces its intercept, docs/vmm.md):
 * a null selector, an LDT selector, one past the GDT's limit and a
 * descriptor that is no TSS raise #GP as on hardware (QEMU 7.2 itself
 * would take the null selector and later abort at an IST interrupt); a
 * not-present TSS raises #NP; a good one loads TR, reads back with STR
 * and is marked busy in the GDT; loading it again, busy, is #GP. */
#include "guest.h"

static volatile unsigned gp_count, np_count;
static volatile uint64_t gp_error;

__attribute__((interrupt)) static void on_gp(struct frame *f, uint64_t error)
{
	gp_count++;
	gp_error = error;
	f->rip += 3;      /* ltr %ax */
}

__attribute__((interrupt)) static void on_np(struct frame *f, uint64_t error)
{
	(void)error;
	np_count++;
	f->rip += 3;
}

static uint8_t tss[104] __attribute__((aligned(16)));
/* null, 64-bit code (8), data (16), a 16-byte TSS descriptor (0x18),
 * another that is not present (0x28), a data descriptor (0x38) */
static uint64_t gdt[8] __attribute__((aligned(16)));

static void tss_descriptor(int i, int present)
{
	uint64_t base = (uint64_t)tss, limit = sizeof(tss) - 1;
	gdt[i] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89UL << 40 | (base >> 24 & 0xff) << 56;
	if (!present)
		gdt[i] &= ~(0x80UL << 40);
	gdt[i + 1] = base >> 32;
}

static unsigned try_ltr(uint16_t sel)
{
	unsigned before = gp_count + np_count;
	__asm__ volatile(".byte 0x0f, 0x00, 0xd8" :: "a"(sel) : "memory");   /* ltr %ax */
	return gp_count + np_count - before;
}

int main(void)
{
	plan(8);
	gdt[1] = 0x00209a0000000000UL;
	gdt[2] = 0x0000920000000000UL;
	tss_descriptor(3, 1);
	tss_descriptor(5, 0);
	gdt[7] = 0x0000920000000000UL;
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr = { sizeof(gdt) - 1, (uint64_t)gdt };
	__asm__ volatile("lgdt %0" :: "m"(gdtr));
	idt_set(13, on_gp);
	idt_set(11, on_np);
	idt_load();

	unsigned faults = try_ltr(0);
	ok(faults == 1 && gp_error == 0, "LTR of a null selector is #GP(0) (%u faults, error %lx)", faults,
	   (unsigned long)gp_error);
	ok(try_ltr(0x1c) == 1 && gp_count == 2, "LTR of an LDT selector is #GP");
	ok(try_ltr(0x40) == 1 && gp_count == 3, "LTR past the GDT's limit is #GP");
	faults = try_ltr(0x38);
	ok(faults == 1 && gp_count == 4 && gp_error == 0x38, "LTR of a data descriptor is #GP(sel) (error %lx)",
	   (unsigned long)gp_error);
	ok(try_ltr(0x28) == 1 && np_count == 1, "LTR of a TSS that is not present is #NP");
	ok(try_ltr(0x18) == 0, "LTR of an available TSS loads it");
	uint16_t tr = 0;
	__asm__ volatile("str %0" : "=r"(tr));
	ok(tr == 0x18 && ((gdt[3] >> 40) & 0xf) == 0xb, "STR reads 0x18 back and the descriptor is busy (%x, type %lx)",
	   tr, (unsigned long)((gdt[3] >> 40) & 0xf));
	ok(try_ltr(0x18) == 1 && gp_count == 5, "LTR of a busy TSS is #GP");
	return 0;
}
