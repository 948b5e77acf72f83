/* The VMM's view of its one virtual machine. */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <stdint.h>
#include <stddef.h>
#include <libipc/libipc.h>
#include <libipc/ipc.h>
#include <berth/vcpu.h>
#include "uart16550.h"

#define GUEST_RAM_VA 0x0000300000000000UL  /* guest RAM in our own space: VA = this + GPA */
#define IMAGE_VA     0x0000310000000000UL  /* the guest image module, read-only */
#define GUEST_LOAD_GPA 0x100000UL
#define MMIO_TEST_GPA 0xfeb00000UL         /* a scratch register device, 4 KiB */

struct pic8259 {
	uint8_t irr, isr, imr, base, icw_step, icw4_needed, read_isr;
};

struct vm {
	uint64_t vcpu, guest_space, port, reply, parked;
	uint64_t ram_bytes;
	struct uart16550 uart;
	struct pic8259 pic[2];
	uint32_t pit_divisor;
	uint8_t pit_latch_hi, pit_access;
	uint64_t test_reg, test_sum, test_counter;
	uint64_t mmio_test[512];
	int halted;                   /* parked in HLT: the reply waits for an interrupt */
	int stopped;
	int exit_status;              /* the VMM's own, once the guest stopped */
	unsigned unmapped_reports;
	uint64_t console;
};

extern struct vm vm;

/* memory.c */
long memory_setup(uint64_t bytes);
int gva_to_gpa(uint64_t gva, uint64_t *gpa);
int guest_read(uint64_t gpa, void *buf, size_t n);
int guest_write(uint64_t gpa, const void *buf, size_t n);
void *guest_ptr(uint64_t gpa, size_t n);

/* devices.c */
int io_access(unsigned port, unsigned size, int in, uint32_t *value);
int mmio_access(uint64_t gpa, unsigned size, int load, uint64_t *value);
void pic_raise(unsigned irq);
int pic_pending(void);          /* the vector to deliver, or -1 */
void pic_ack(void);
void pit_fired(void);
void console_out(const uint8_t *bytes, size_t n);
int console_reconnect(void);

/* cpuid.c */
void cpuid_policy(uint32_t leaf, uint32_t sub, uint64_t *a, uint64_t *b, uint64_t *c, uint64_t *d);

/* exits.c */
int handle_exit(struct msg *m);  /* 1: reply now, 0: parked or stopped */
void deliver_interrupt(struct msg *m);

#define TIMER_BIT 1
#define LABEL_CONSOLE_INPUT 0x7f01   /* from our input thread: w0 = count, w1.. = bytes */

#endif
