/* The machine's tables: a GDT with a TSS, an IDT, and the interrupt
 * controllers.  The VMM gives us a GDT and page tables to start with; a
 * kernel owns its own, and loading them is part of what a VMM must
 * emulate (lgdt, lidt, ltr, segment loads, far returns).
 *
 * The pv build has none of them: its segments are the VMM's (a pv guest
 * may not install privileged descriptors), its exception handlers are a
 * trap table handed over by hypercall, and its timer is an event the VMM
 * raises at the rate asked for, delivered to a callback. */
#include "teach.h"

/* Stop with what happened: an exception means the guest (or its VMM) is
 * wrong, and the run says so rather than going on. */
void __attribute__((noreturn, used)) exception(uint64_t vector, uint64_t error, uint64_t rip)
{
	print("teach: exception %lu (error %lx) at rip %lx; stopping\n", vector, error, rip);
	guest_exit(4);
}

#ifdef TEACH_PV
void cpu_init(void)
{
	static struct pv_trap traps[32];
	for (unsigned v = 0; v < 32; v++)
		traps[v] = (struct pv_trap){ v, v == 1 ? (uint64_t)debug_entry : (uint64_t)exception_stubs[v] };
	pv_check("set_trap_table", hypercall(PV_HC_SET_TRAPS, (uint64_t)traps, 32));
}

static unsigned timer_hz;

/* The timer stopped (0 Hz) and started again at its rate. */
void timer_pause(int paused)
{
	pv_check("set_timer", hypercall(PV_HC_SET_TIMER, paused ? 0 : timer_hz, 0));
}

/* The timer's event goes to timer_entry, as its interrupt does otherwise. */
void timer_init(unsigned hz)
{
	timer_hz = hz;
	pv_check("set_callback", hypercall(PV_HC_SET_CALLBACK, (uint64_t)timer_entry, 0));
	pv_check("bind_virq", hypercall(PV_HC_BIND_VIRQ, PV_VIRQ_TIMER, TIMER_PORT));
	pv_check("set_timer", hypercall(PV_HC_SET_TIMER, hz, 0));
}
#else
/* null, 64-bit code (DPL 0), data (DPL 0), and the TSS's two slots */
static uint64_t gdt[5] __attribute__((aligned(16)));

/* The 64-bit TSS: nothing in it is used (every interrupt arrives in ring
 * 0 on the current stack, and there is no IST), but a kernel has one. */
static struct {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3, iomap_base;
} __attribute__((packed)) tss;

struct gate {
	uint16_t offset_low, selector;
	uint8_t ist, type_attr;
	uint16_t offset_mid;
	uint32_t offset_high, zero;
} __attribute__((packed));
static struct gate idt[256] __attribute__((aligned(16)));

struct table_pointer {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

void idt_set(unsigned vector, void (*handler)(void))
{
	uint64_t a = (uint64_t)handler;
	idt[vector] = (struct gate){
		.offset_low = (uint16_t)a, .selector = SEL_CODE, .type_attr = 0x8e, /* present, DPL 0, interrupt gate */
		.offset_mid = (uint16_t)(a >> 16), .offset_high = (uint32_t)(a >> 32),
	};
}

static void load_gdt(void)
{
	gdt[1] = 0x00209a0000000000UL;  /* code: present, DPL 0, executable, long mode */
	gdt[2] = 0x0000920000000000UL;  /* data: present, DPL 0, writable */
	uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;
	gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89UL << 40) | /* present, available 64-bit TSS */
		 (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[4] = base >> 32;
	tss.iomap_base = sizeof(tss); /* no I/O permission map */
	struct table_pointer p = { sizeof(gdt) - 1, (uint64_t)gdt };
	__asm__ volatile("lgdt %0" :: "m"(p));
	/* the data segments, then CS with a far return to the next line */
	__asm__ volatile("mov %0, %%ds; mov %0, %%es; mov %0, %%ss; mov %0, %%fs; mov %0, %%gs"
			 :: "r"((uint64_t)SEL_DATA));
	__asm__ volatile("pushq %0; leaq 1f(%%rip), %%rax; pushq %%rax; lretq; 1:"
			 :: "i"(SEL_CODE) : "rax", "memory");
	__asm__ volatile("ltr %w0" :: "r"(SEL_TSS));
}

void cpu_init(void)
{
	load_gdt();
	for (unsigned v = 0; v < 32; v++)
		idt_set(v, v == 1 ? debug_entry : exception_stubs[v]);
	struct table_pointer p = { sizeof(idt) - 1, (uint64_t)idt };
	__asm__ volatile("lidt %0" :: "m"(p));
	/* CR0.WP: the kernel honours read-only pages too (a real kernel's
	 * copy-on-write relies on it); one read and one write of CR0 */
	uint64_t cr0;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %0, %%cr0" :: "r"(cr0 | (1UL << 16)));
}

/* The 8259 pair with IRQ 0 at vector 0x20 and every other line masked,
 * and the 8254's channel 0 as a rate generator at hz.  Interrupts stay off
 * until the caller's sti. */
void timer_init(unsigned hz)
{
	idt_set(0x20, timer_entry);
	outb(0x20, 0x11); outb(0x21, 0x20); outb(0x21, 0x04); outb(0x21, 0x01);
	outb(0xa0, 0x11); outb(0xa1, 0x28); outb(0xa1, 0x02); outb(0xa1, 0x01);
	outb(0x21, 0xfe); outb(0xa1, 0xff);
	unsigned divisor = 1193182 / hz;
	outb(0x43, 0x34);
	outb(0x40, (uint8_t)divisor);
	outb(0x40, (uint8_t)(divisor >> 8));
}

/* IRQ 0 masked at the 8259 and unmasked again. */
void timer_pause(int paused)
{
	outb(0x21, paused ? 0xff : 0xfe);
}
#endif
