/* The VMM's view of its one virtual machine. */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <stdint.h>
#include <stddef.h>
#include <libipc/libipc.h>
#include <libipc/ipc.h>
#include <berth/vcpu.h>
#include "uart16550.h"
#include "rtc.h"
#include "pit8254.h"
#include "pci.h"
#include "i8042.h"
#include "acpi_pm.h"
#include "lapic.h"
#include "ioapic.h"
#include "pvclock.h"
#include "vmtime.h"
#include "pic8259.h"
#include "shadow.h"

/* Our own address space: one place for every region, so that no two
 * overlap (each 1 TiB apart). */
#define GUEST_RAM_VA   0x0000300000000000UL  /* guest RAM in our own space: VA = this + GPA */
/* 0x0000310000000000: servers/lib's socket buffer (NET_SOCKET_BUFFER_VA), migrate.c's */
#define DISK_BUF_VA    0x0000320000000000UL  /* the fs server's shared buffer, for the disk (fsbuf.h) */
#define NET_BUF_VA     0x0000330000000000UL  /* the switch's shared buffer (vnet_link.c) */
#define SNAP_BUF_VA    0x0000340000000000UL  /* the fs server's shared buffer, for snapshots */
#define TRACK_VA       0x0000350000000000UL  /* shadows=N's tracking (shadow.c) */
#define TRAP_FRAMES_VA 0x0000360000000000UL  /* mode=trap, patch, pv: frame table and pv's state (trap.h) */
#define DIRTY_VA       0x0000370000000000UL  /* the dirty log (dirty.c) */
#define IMAGE_VA       0x0000380000000000UL  /* the guest image module, read-only */
#define GUEST_LOAD_GPA 0x100000UL
#define MMIO_TEST_GPA 0xfeb00000UL         /* a scratch register device, 4 KiB */
#define GUEST_RAM_MAX (3UL << 30)          /* RAM stays below the MMIO hole under 4 GiB */

struct vm {
	uint64_t vcpu, guest_space, port, reply, parked;
	uint64_t ram_bytes;
	struct uart16550 uart;
	struct pic8259 pic[2];
	struct pit8254 pit;
	struct rtc rtc;
	struct pci_bus pci;
	struct i8042 kbc;
	struct acpi_pm pm;
	struct lapic lapic;
	struct ioapic ioapic;
	struct pvclock pvclock;
	uint64_t test_reg, test_sum, test_counter;
	uint64_t mmio_test[512];
	int halted;                   /* parked in HLT: the reply waits for an interrupt */
	int stopped;
	int exit_status;              /* the VMM's own, once the guest stopped */
	enum { REQUEST_NONE, REQUEST_POWER_OFF, REQUEST_RESET } request; /* from a device model */
	unsigned unmapped_reports, msr_reports;
	int verbose;                  /* the `verbose` argument: report MSRs the guest did not get */
	uint64_t mtrr_def_type;       /* MSR 0x2ff */
	uint64_t console;
	int exit_work;                /* a module waits for the next exit (exit_work_ask) */
};

extern struct vm vm;

/* Ask main.c to call snapshot_at_exit, clone_at_exit, share_at_exit and
 * migrate_stop at the next exit (from any of the VMM's threads). */
static inline void exit_work_ask(void)
{
	__atomic_store_n(&vm.exit_work, 1, __ATOMIC_RELEASE);
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
extern char vm_name[24];      /* "[NAME] " from the name= argument, or "" */

/* memory.c */
/* What a walk of the guest's page tables depends on, read once per exit. */
struct guest_paging {
	uint64_t cr0, cr3, efer;
	unsigned cpl;
};
/* A page fault to give the guest: the address (its CR2) and error code. */
struct page_fault {
	uint64_t addr;
	uint32_t error;
};
#define ACCESS_WRITE 2           /* the access kinds of gva_translate */
#define ACCESS_FETCH 16
#define PF_PRESENT   1           /* page-fault error code bits */
#define PF_WRITE     2
#define PF_USER      4
#define PF_RESERVED  8
#define PF_FETCH     16
/* ram.c: guest RAM's backing, by 2 MiB region (balloon.c gives regions back) */
#define INIT_SLOT 8    /* our send right to init */
long memory_setup(uint64_t bytes);
int ram_backed(uint64_t gpa);
extern uint64_t ram_epoch;   /* counts regions unmapped (ram.c): what memory.c kept of RAM may be stale */
int ram_ready(uint64_t gpa, size_t n);
int ram_can_give_back(unsigned region);
long ram_give_back(unsigned region);
long ram_take_back(unsigned region);
unsigned ram_regions_given_back(void);
/* copy-on-write with clones (ram.c, clone.c) */
int ram_unshare(uint64_t gpa, size_t n);               /* before we write: 0, or -1 */
int ram_write_fault(uint64_t gpa);                     /* 1 copy-on-write's, 0 not, -1 failed */
int ram_page_private(uint64_t gpa);
int ram_sharing(void);                                 /* some RAM is shared with another VM */
void ram_sharing_stats(uint64_t *shared_pages, uint64_t *private_pages, uint64_t *zero_pages,
                       uint64_t *zero_regions, uint64_t *stored_pages);
long ram_share_note(unsigned r);
long ram_share_content(unsigned r, unsigned min, unsigned *zero_pages, unsigned *alike, unsigned *copied);
long ram_share_begin(void);
long ram_share_region(unsigned r, const char *child, uint64_t *ro, uint32_t *loan);
long memory_setup_shared(uint64_t bytes);
long ram_adopt(unsigned r, uint64_t frame, uint32_t loan);
/* dirty.c: which pages of RAM were written (docs/lifecycle.md) */
long dirty_start(void);
void dirty_stop(void);
int dirty_tracking(void);
void dirty_mark(uint64_t gpa, uint64_t n);
int dirty_fault(uint64_t gpa, uint64_t info);
uint64_t dirty_collect(uint64_t *out);
uint64_t dirty_words(void);
uint64_t dirty_faults(void);
void dirty_remark(uint64_t word, uint64_t bits);
void dirty_touched(uint64_t *out);
int paging_read(struct guest_paging *p);
int gva_translate(const struct guest_paging *p, uint64_t gva, unsigned access, uint64_t *gpa,
                  struct page_fault *pf);
int virt_access(const struct guest_paging *p, uint64_t gva, void *buf, size_t n, unsigned access,
                struct page_fault *pf);
/* The guest's instruction bytes at rip, up to max, each page translated
 * on its own as the processor fetches (the last fetch's walk kept,
 * memory.c); how many could be fetched */
size_t fetch_insn(const struct guest_paging *pg, uint64_t rip, uint8_t *bytes, size_t max);
/* An exit's register word as the decoder numbers registers (x86
 * encoding order: RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15), and
 * the two mmio_address reads (the base and the index) into regs; the
 * others are not set (exits.c) */
struct mmio_insn;
uint64_t *exit_x86_reg(struct msg *m, unsigned n);
void mmio_operand_regs(const struct mmio_insn *in, struct msg *m, uint64_t regs[16]);
void phys_read(uint64_t gpa, void *buf, size_t n);
void phys_write(uint64_t gpa, const void *buf, size_t n);
int guest_write(uint64_t gpa, const void *buf, size_t n);
void *guest_ptr(uint64_t gpa, size_t n);
const void *guest_ptr_read(uint64_t gpa, size_t n);

/* devices.c */
int io_access(unsigned port, unsigned size, int in, uint32_t *value);
int mmio_access(uint64_t gpa, unsigned size, int load, uint64_t *value);
void pic_raise(unsigned irq);
int pic_pending(void);          /* the vector to deliver, or -1 */
void pic_ack(void);
void devices_init(void);
void devices_timer(void);
void devices_reset(void);
void console_out(const uint8_t *bytes, size_t n);
struct virtio_pci;
void virtio_place(struct virtio_pci *vp, unsigned slot, uint64_t bar_gpa);
void mark_take(uint8_t id);     /* port 0x519: counters for benchmarks */
void marks_print(void);
/* what each mark records of the mode's own cost: the VM exits under svm
 * and shadow (control.c), faults under trap and patch, hypercalls under pv */
extern const uint64_t *mark_events;
extern const char *mark_events_name;
int console_reconnect(void);

/* disk.c: the guest's virtio-blk disk on a file (disk=PATH) */
#define DISK_BIT 4                   /* a notification: the disk's worker finished requests */
#define DISK_FAULT_BADGE 4           /* the disk worker's faults (1-3: main.c, control.c) */
long disk_setup(const char *args, uint64_t main_port);
void disk_power_on(void);
void disk_report(void);              /* say if the guest broke the device */
void disk_completions(void);
void disk_close(void);
int disk_worker_fault(const struct msg *m);   /* 1: reply to resume it */
uint64_t disk_requests(void);        /* requests the guest made so far */
struct virtio_pci *disk_transport(void);   /* snapshots: the device (0: none) */
int disk_idle(void);                 /* no request in flight */

/* vnet_link.c: the guest's virtio-net card on the network server's switch (net) */
#define NET_BIT 8                    /* a notification: the switch has frames or done slots */
long net_setup(const char *args, uint64_t main_port);
void net_power_on(void);
void net_report(void);
void net_notified(void);
void net_tick(void);
const char *net_cmdline(void);       /* " berth.ip=... berth.gw=..." or "" */
struct virtio_pci *net_transport(void);    /* snapshots: the card (0: none) */

/* balloon.c: the guest's virtio-balloon, whose memory goes back to init (balloon) */
struct balloon_info {
	uint32_t target_pages, actual_pages;  /* asked for; what the driver says it holds */
	uint64_t pages;                       /* 4 KiB pages in the balloon */
	unsigned regions_returned;            /* 2 MiB regions given back to init */
	uint64_t refused;                     /* page numbers that were not guest RAM */
};
long balloon_setup(const char *args);
void balloon_power_on(void);
void balloon_report(void);
void balloon_tick(void);
long balloon_set_target(uint32_t mib);
int balloon_info(struct balloon_info *i);   /* -1: no balloon */
struct virtio_pci *balloon_transport(void);   /* snapshots: the device (0: none) */
struct snap_writer;
size_t balloon_state_bytes(void);              /* its BALLOON section (snapshot.c) */
void balloon_state_put(struct snap_writer *w);
const char *balloon_state_load(const uint8_t *bytes, size_t len);

/* boot.c */
long boot_guest(const struct bootinfo *bi);
const char *boot_image(size_t *size);   /* what it booted: a module's name or the kernel's path */
long boot_reset(struct msg *m);

/* irq.c */
void irq_init(void);
void irq_line(unsigned isa, int level);
void irq_pulse(unsigned isa);
int irq_next(int *from_pic);
void irq_take(int vector, int from_pic);
int irq_due(void);
uint32_t irq_levels(void);           /* snapshots: the ISA lines asserted */
void irq_levels_restore(uint32_t saved);

/* cpuid.c */
/* EAX, EBX, ECX and EDX as CPUID leaves them in the guest's registers */
struct cpuid_answer {
	uint64_t a, b, c, d;
};
const struct cpuid_answer *cpuid_policy(uint32_t leaf, uint32_t sub);

/* exits.c */
int handle_exit(struct msg *m);  /* 1: reply now, 0: parked or stopped */
uint32_t exit_mtd(uint64_t code); /* the transfer descriptor the VMM asks for (exits.c) */
long exit_mtd_set(void);
/* the state words of the exit being handled, if it carries them */
struct exit_state {
	int valid;
	uint64_t cr0, cr3, efer, cs_attrib, ss_attrib;
};
extern struct exit_state exit_state;
/* 0: no interrupt was pending at the last look and nothing since could
 * have made one (deliver_interrupt skips the look) */
extern int irq_recheck;
void exit_mmio(struct msg *m);   /* a guest access of a device's guest-physical address (shadow.c) */
void exit_complete(struct msg *m, uint64_t next_rip);   /* resume after an emulated instruction */
void deliver_interrupt(struct msg *m);
void irq_window(int want);       /* ask for an exit as soon as the guest can take an interrupt */

/* An intercept bit <berth/vcpu.h> does not name (AMD APM vol. 2, the
 * VMCB control area). */
#define SVM_MISC1_VINTR   (1u << 4)

#define TIMER_BIT 1
#define MTRR_DEF_TYPE_RESET 0xc06    /* MTRRs on, memory write-back: as firmware leaves them */
#define LABEL_CONSOLE_INPUT 0x7f01   /* from our input thread: w0 = count, w1.. = bytes */

/* main.c: the guest's serial input that waits for room in the UART */
extern uint8_t pending_input[64];
extern size_t pending_len;
void feed_uart(const uint8_t *bytes, size_t n);

/* snapshot.c: snapshots (docs/lifecycle.md) */
void snapshot_set_args(const char *args);        /* what a snapshot records as its CONF */
long snapshot_request(const char *path, uint64_t reply_slot);  /* control.c's; the reply may wait */
void snapshot_at_exit(const struct msg *m);      /* main.c: the VCPU waits for the answer m */
long snapshot_open(const char *path, uint64_t *ram_bytes, char *args, size_t args_size);
long snapshot_restore(const char *path);
struct snap_writer;
void snapshot_put_state(struct snap_writer *w, const struct msg *m);   /* all but RAM (snapfile.h) */
enum ram_pages { RAM_NONE, RAM_NONZERO, RAM_PRIVATE };
void snapshot_put_ram(struct snap_writer *w, enum ram_pages with, uint64_t *pages, uint64_t *used);
int snapshot_disk_settle(void);                  /* the disk's requests done: 0, or -1 */
long snapshot_apply_blob(const void *bytes, uint64_t len, const char *what, const char *done);
const char *snapshot_args(void);                 /* the VMM's arguments, as a snapshot records them */

/* share.c: vm share, zero pages shared (docs/lifecycle.md) */
long share_request(uint64_t reply_slot);   /* control.c's; the reply waits for the exit */
void share_at_exit(void);                  /* main.c: the VCPU waits */

/* clone.c: vm clone (docs/lifecycle.md, "Clones") */
long clone_args(char args[127 + 1], uint64_t *ram_bytes);          /* control.c's, for the clone */
long clone_begin_request(const char *child, uint64_t reply_slot);  /* control.c's; the reply waits */
void clone_at_exit(const struct msg *m);                           /* main.c: the VCPU waits */
long clone_frame(uint32_t index, uint64_t *frame, uint32_t *loan);
long clone_end(void);
long clone_open(const char *name, size_t len, char *args, size_t size, uint64_t *ram_bytes);
long clone_receive(const char *own_name);

/* migrate.c: live migration (docs/lifecycle.md) */
#define MIGRATE_BIT 16               /* a notification: the migration's rounds are done or failed */
long migrate_request(const char *dest, uint64_t reply_slot);  /* control.c's; the reply waits */
int migrate_waiting(void);                       /* 1: stop the VCPU and call migrate_stop */
void migrate_notified(void);                     /* main.c, on MIGRATE_BIT */
int migrate_stop(const struct msg *m);           /* 1: the VM moved, this VMM ends */
long migrate_accept(unsigned port, const char *own, char *args, size_t size, uint64_t *ram_bytes);
long migrate_receive(void);                      /* 0: the VM runs here */
long migrate_refuse(const char *why);            /* the incoming migration ends, with a line */

/* control.c: the VM's controls (idl/vmm.idl, published as vm.NAME) */
#define EXIT_BADGE 1         /* of the VCPU's exit port: the kernel's exit messages */
#define CONTROL_BADGE 3      /* of the published right (1: the VCPU's exits, 2: the input thread) */
#define CONTROL_KICK_BIT 2   /* a notification: look at the UART's input and the interrupts again */
void control_start(const char *args);   /* before the guest starts */
int control_message(const struct msg *m);          /* 1: a control request, answered or kept */
/* What every receive loop of the VMM (main.c, trap.c, pv.c) treats alike,
 * after a receive that returned err: 1 if m is done with (a receive
 * cancelled by a suspend, init's ping, a control request), the loop
 * receives again; -1 if the receive failed (the VMM ends); 0: m is the
 * loop's own to handle (control.c). */
int vmm_message_common(long err, struct msg *m);
int control_console_output(const uint8_t *bytes, size_t n);  /* 1: taken (attached, or kept) */
void control_exit_done(uint64_t code, uint64_t since);       /* after handle_exit; since: TSC */
void control_event(uint32_t code);   /* one of the VMM's own events (shadow.c), counted as an exit kind */

#endif
