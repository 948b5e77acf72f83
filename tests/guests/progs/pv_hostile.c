/* A hostile guest for mode=pv (tests/system/pv_hostile.c): every
 * hypercall of servers/vmm/pv_abi.h given what a buggy or malicious
 * paravirtualized kernel could give it.  Each must come back with its
 * error code and change nothing; a direct write to a page table must be
 * the guest's own page fault (the tables are read-only to it); garbage in
 * the console ring's index must cost only the output; the last, an iret
 * to the upper half, stops the VM with a line, as Xen kills a domain.
 * It has no runtime of the test guests' (their console is port I/O, which
 * a pv guest may not do): its own start, console ring and TAP lines. */
#include <stdint.h>
#include <stdarg.h>
#include "pv_abi.h"

__asm__(".section .text.start, \"ax\"\n"
        ".globl _start\n"
        "_start:\n"
        "	mov %rsi, %rdi\n"      /* the start info */
        "	call guest_main\n"
        "1:	jmp 1b\n"
        ".text\n");

static const struct pv_start_info *si;
static struct pv_console *ring;
volatile uint64_t recover, pf_count;

static long hypercall(uint64_t nr, uint64_t a, uint64_t b)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret), "+D"(a), "+S"(b) : "a"(nr) : "rcx", "r11", "rdx", "memory");
	return ret;
}

static long mmu_update(uint64_t batch, uint64_t count, uint64_t *done)
{
	long ret;
	uint64_t d;
	__asm__ volatile("syscall" : "=a"(ret), "=d"(d), "+D"(batch), "+S"(count) : "a"((uint64_t)PV_HC_MMU_UPDATE)
	                 : "rcx", "r11", "memory");
	*done = d;
	return ret;
}

/* --- output: the console ring ----------------------------------------------- */

static void putc_ring(char c)
{
	if (ring->out_prod - ring->out_cons >= PV_CONSOLE_OUT_SIZE)
		hypercall(PV_HC_EVENT_SEND, si->console_port, 0);
	ring->out[ring->out_prod & (PV_CONSOLE_OUT_SIZE - 1)] = (uint8_t)c;
	__asm__ volatile("" ::: "memory");
	ring->out_prod++;
}

static void put_number(uint64_t v, unsigned base)
{
	char d[24];
	int n = 0;
	do {
		d[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n--)
		putc_ring(d[n]);
}

/* %s %d %x (64-bit), then the line sent */
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			putc_ring(*fmt);
			continue;
		}
		switch (*++fmt) {
		case 'd': {
			int64_t v = va_arg(ap, int64_t);
			if (v < 0) {
				putc_ring('-');
				v = -v;
			}
			put_number((uint64_t)v, 10);
			break;
		}
		case 'x': put_number(va_arg(ap, uint64_t), 16); break;
		case 's': for (const char *s = va_arg(ap, const char *); *s; s++) putc_ring(*s); break;
		default: putc_ring(*fmt);
		}
	}
	va_end(ap);
	hypercall(PV_HC_EVENT_SEND, si->console_port, 0);
}

static int tests;

static void ok(int cond, const char *what, int64_t got)
{
	tests++;
	say("%sok %d - %s (%d)\n", cond ? "" : "not ", (int64_t)tests, what, got);
}

/* one hypercall, its result against the error it must be */
static void expect(long got, long want, const char *what)
{
	ok(got == want, what, got);
}

/* --- the page-fault handler: note it, continue at recover ------------------ */

__asm__(".text\n"
        "pf_entry:\n"
        "	add $8, %rsp\n"                 /* the error code */
        "	push %rax\n"
        "	mov recover(%rip), %rax\n"
        "	mov %rax, 8(%rsp)\n"            /* the frame's RIP */
        "	incq pf_count(%rip)\n"
        "	pop %rax\n"
        "	push %r11\n"
        "	push %rcx\n"
        "	push %rax\n"
        "	mov $11, %eax\n"                /* PV_HC_IRET */
        "	syscall\n");
void pf_entry(void);

static long update1(uint64_t ptr, uint64_t val)
{
	static struct pv_mmu_update u;
	uint64_t done;
	u = (struct pv_mmu_update){ ptr, val };
	return mmu_update((uint64_t)&u, 1, &done);
}

void guest_main(uint64_t start_info);

void guest_main(uint64_t start_info)
{
	si = (const struct pv_start_info *)start_info;
	ring = (struct pv_console *)si->console;
	struct pv_shared_info *shared = (struct pv_shared_info *)si->shared_info;
	uint64_t l1 = si->boot_l1, data = 0x50000;   /* a page of ours mapped writable, no table */
	say("pv-hostile: started, start info at %x\n", start_info);

	/* mmu_update, one forged entry at a time */
	expect(update1(64UL << 20, 0), PV_E_NOT_RAM, "an entry address outside guest memory: PV_E_NOT_RAM");
	expect(update1(data, 0x5000 | PV_PTE_P), PV_E_NOT_TABLE, "an entry in a page that is no page table: PV_E_NOT_TABLE");
	expect(update1(l1 + 5 * 8, 0x10000000 | PV_PTE_P | PV_PTE_W), PV_E_NOT_RAM,
	       "a value naming guest-physical 256 MiB: PV_E_NOT_RAM");
	expect(update1(l1 + 5 * 8, 0x5000 | PV_PTE_P | 1UL << 52), PV_E_RESERVED, "a reserved bit: PV_E_RESERVED");
	expect(update1(l1 + 5 * 8, si->boot_pml4 | PV_PTE_P | PV_PTE_W), PV_E_WRITABLE_TABLE,
	       "the top-level table mapped writable: PV_E_WRITABLE_TABLE");
	expect(update1(si->boot_pml4 + 256 * 8, (si->boot_pml4 + 0x1000) | PV_PTE_P), PV_E_HIGH_HALF,
	       "an upper-half top-level entry: PV_E_HIGH_HALF");

	/* whole batches */
	/* page-aligned, which puts the data on a page of its own, apart from
	 * the code (the linker would make one writable, executable segment) */
	static struct pv_mmu_update batch[3] __attribute__((aligned(4096)));
	uint64_t done = 77;
	long r = mmu_update((uint64_t)batch, 1UL << 63, &done);
	ok(r == PV_E_INVAL && done == 0, "a batch of 2^63 updates: PV_E_INVAL, none done", r);
	r = mmu_update(0x40000000, 2, &done);
	ok(r == PV_E_FAULT && done == 0, "a batch at an unmapped address: PV_E_FAULT", r);
	r = mmu_update(0xffff800000000000UL, 2, &done);
	ok(r == PV_E_FAULT && done == 0, "a batch in the upper half: PV_E_FAULT", r);
	r = mmu_update(0x10, 2, &done);  /* page 0 is not mapped at all */
	ok(r == PV_E_FAULT, "a batch at page 0: PV_E_FAULT", r);
	batch[0] = (struct pv_mmu_update){ l1 + 6 * 8, 0x6000 | PV_PTE_P };                /* fine: read-only */
	batch[1] = (struct pv_mmu_update){ l1 + 7 * 8, (l1 & ~0xfffUL) | PV_PTE_P | PV_PTE_W };  /* an L1 writable */
	batch[2] = (struct pv_mmu_update){ l1 + 8 * 8, 0 };
	r = mmu_update((uint64_t)batch, 3, &done);
	ok(r == PV_E_WRITABLE_TABLE && done == 1, "a batch stops at its bad second update: 1 done", (int64_t)done);

	/* pins and base pointers */
	expect(hypercall(PV_HC_MMUEXT, PV_MMUEXT_PIN_L1, data), PV_E_BUSY, "pinning a page mapped writable: PV_E_BUSY");
	expect(hypercall(PV_HC_MMUEXT, PV_MMUEXT_PIN_L4, si->boot_pml4), PV_E_BUSY, "pinning a table again: PV_E_BUSY");
	expect(hypercall(PV_HC_MMUEXT, PV_MMUEXT_NEW_BASEPTR, l1), PV_E_LEVEL, "an L1 as the base pointer: PV_E_LEVEL");
	expect(hypercall(PV_HC_MMUEXT, PV_MMUEXT_NEW_BASEPTR, 1UL << 40), PV_E_NOT_TABLE,
	       "a base pointer outside memory: PV_E_NOT_TABLE");
	expect(hypercall(PV_HC_MMUEXT, 1000, 0), PV_E_NOSYS, "an unknown mmuext operation: PV_E_NOSYS");
	/* the shared page, read-only everywhere, then pinned: the VMM writes
	 * it, so it would change a table behind the validator's back */
	expect(update1(l1 + (si->shared_info >> 12) * 8, si->shared_info | PV_PTE_P), PV_OK,
	       "the shared page mapped read-only");
	expect(hypercall(PV_HC_MMUEXT, PV_MMUEXT_PIN_L1, si->shared_info), PV_E_BUSY,
	       "pinning the shared page: PV_E_BUSY");
	expect(update1(l1 + (si->shared_info >> 12) * 8, si->shared_info | PV_PTE_P | PV_PTE_W), PV_OK,
	       "the shared page writable again");

	/* a direct write to a page table: the guest's own page fault */
	static struct pv_trap traps[1];
	traps[0] = (struct pv_trap){ 14, (uint64_t)pf_entry };
	expect(hypercall(PV_HC_SET_TRAPS, (uint64_t)traps, 1), PV_OK, "a trap table with a page-fault handler");
	uint64_t before = pf_count;
	__asm__ volatile("lea 1f(%%rip), %%rax; mov %%rax, recover(%%rip); movq $0x4242, (%0); 1:"
	                 :: "r"(l1 + 9 * 8) : "rax", "memory");
	ok(pf_count == before + 1 && shared->cr2 == l1 + 9 * 8, "a direct write to a page table: #PF, cr2 in the shared page",
	   (int64_t)shared->cr2);
	uint64_t entry = *(volatile uint64_t *)(l1 + 9 * 8);
	ok(entry == (0x9000 | PV_PTE_P | PV_PTE_W), "the entry is unchanged (the guest reads its tables)", (int64_t)entry);

	/* other hypercalls, forged */
	expect(hypercall(99, 0, 0), PV_E_NOSYS, "hypercall 99: PV_E_NOSYS");
	expect(hypercall(1UL << 63, 0, 0), PV_E_NOSYS, "hypercall 2^63: PV_E_NOSYS");
	expect(hypercall(PV_HC_SET_TRAPS, (uint64_t)traps, 33), PV_E_INVAL, "a trap table of 33 entries: PV_E_INVAL");
	expect(hypercall(PV_HC_SET_TRAPS, 0x40000000, 4), PV_E_FAULT, "a trap table at an unmapped address: PV_E_FAULT");
	traps[0].vector = 40;
	expect(hypercall(PV_HC_SET_TRAPS, (uint64_t)traps, 1), PV_E_INVAL, "a trap for vector 40: PV_E_INVAL");
	expect(hypercall(PV_HC_SET_CALLBACK, 0xffff800000001000UL, 0), PV_E_INVAL,
	       "an event callback in the upper half: PV_E_INVAL");
	expect(hypercall(PV_HC_SET_TIMER, 1000, 0), PV_E_INVAL, "a timer at 1000 Hz: PV_E_INVAL");

	/* events for bad ports */
	expect(hypercall(PV_HC_EVENT_SEND, 0, 0), PV_E_BAD_PORT, "an event on port 0: PV_E_BAD_PORT");
	expect(hypercall(PV_HC_EVENT_SEND, 5, 0), PV_E_BAD_PORT, "an event on unbound port 5: PV_E_BAD_PORT");
	expect(hypercall(PV_HC_EVENT_SEND, 1UL << 40, 0), PV_E_BAD_PORT, "an event on port 2^40: PV_E_BAD_PORT");
	expect(hypercall(PV_HC_BIND_VIRQ, PV_VIRQ_TIMER, PV_PORTS), PV_E_BAD_PORT, "the timer bound to port 64: PV_E_BAD_PORT");
	expect(hypercall(PV_HC_BIND_VIRQ, PV_VIRQ_TIMER, si->console_port), PV_E_BAD_PORT,
	       "the timer bound to the console's port: PV_E_BAD_PORT");
	expect(hypercall(PV_HC_BIND_VIRQ, 7, 3), PV_E_INVAL, "virtual IRQ 7: PV_E_INVAL");
	expect(hypercall(PV_HC_MARK, 256, 0), PV_E_INVAL, "mark 256: PV_E_INVAL");
	expect(hypercall(PV_HC_MARK, 1UL << 63, 0), PV_E_INVAL, "mark 2^63: PV_E_INVAL");

	/* the console ring's index, garbage: the VMM drops the output, says
	 * so once, and goes on from the index it was given */
	ring->out_cons = 0x12345678; /* ours to read only: the VMM keeps its own */
	say("pv-hostile: a line with a forged consumer index still comes out\n");
	ring->out_prod += 0x7fff0000;
	hypercall(PV_HC_EVENT_SEND, si->console_port, 0);
	say("pv-hostile: and after a forged producer index, this one\n");
	ok(1, "the guest goes on after every refusal", 0);

	/* the last: a return to the upper half, which no pv guest can run in */
	say("pv-hostile: iret to the upper half next\n");
	__asm__ volatile("pushq $0x10; pushq $0x80000; pushq $0x202; pushq $0x8; pushq %0; "
	                 "pushq %%r11; pushq %%rcx; pushq %%rax; mov $11, %%eax; syscall"
	                 :: "r"(0xffff800000000000UL) : "rax", "rcx", "r11", "memory");
	say("pv-hostile: the iret went on\n");
	hypercall(PV_HC_EXIT, 1, 0);
}
