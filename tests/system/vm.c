/* Address spaces: map and unmap frames, the checks on both, rights, and
 * faults after unmap, on a read-only page and on a no-execute page. */
#include "tap.h"

#define VA 0x30000000UL

static uint8_t stack[4][8192] __attribute__((aligned(16)));
static volatile uint64_t touch_addr;

static void reader(uint64_t addr) { (void)*(volatile uint64_t *)addr; }
static void writer(uint64_t addr) { *(volatile uint64_t *)addr = 1; }
static void jumper(uint64_t addr) { ((void (*)(void))addr)(); }

/* Run fn(arg) in a thread above our priority; it runs at once. */
static void run_faulting(int i, void (*fn)(uint64_t), uint64_t arg, struct thread_info *info)
{
	uint64_t tcb;
	if (thread_create(fn, arg, stack[i], sizeof(stack[i]), 150, &tcb) ||
	    sys_tcb_info(tcb, info))
		info->state = 99;
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	(void)touch_addr;
	tap_plan(22);
	uint64_t f, f2, shared = slot_alloc(), pt;
	struct thread_info info;
	tap_eq(object_alloc(OBJ_FRAME, 0, &f), E_OK, "retype a frame");
	uint64_t level = 0;
	tap_eq(sys_page_map(f, CAP_ROOT_VSPACE, VA, RIGHT_READ | RIGHT_WRITE, &level), E_MISSING_TABLE,
	       "mapping without page tables names the missing level");
	tap_ok(level >= 1 && level <= 3, "missing level is 1..3 (%lu)", level);
	tap_eq(page_map_with_tables(f, VA, RIGHT_READ | RIGHT_WRITE), E_OK, "map with page tables");
	volatile uint64_t *p = (volatile uint64_t *)VA;
	p[0] = 0xfeedface;
	tap_eq((long)p[0], 0xfeedface, "the mapped page reads back what was written");

	tap_eq(sys_page_map(f, CAP_ROOT_VSPACE, VA + 0x1000, RIGHT_READ, 0), E_MAPPED,
	       "a frame cap maps only once");
	tap_eq(object_alloc(OBJ_FRAME, 0, &f2), E_OK, "a second frame");
	tap_eq(sys_page_map(f2, CAP_ROOT_VSPACE, VA, RIGHT_READ, 0), E_MAPPED,
	       "an address already mapped is refused");
	tap_eq(sys_page_map(f2, CAP_ROOT_VSPACE, VA + 8, RIGHT_READ, 0), E_ALIGN,
	       "a misaligned address is refused");
	tap_eq(sys_page_map(f2, CAP_ROOT_VSPACE, 0xffff800000000000UL, RIGHT_READ, 0), E_BAD_ADDRESS,
	       "a kernel address is refused");
	tap_eq(sys_page_map(f2, CAP_ROOT_VSPACE, USER_TOP, RIGHT_READ, 0), E_BAD_ADDRESS,
	       "the page at USER_TOP is refused");
	tap_eq(sys_page_map(f2, CAP_ROOT_VSPACE, VA + 0x1000, RIGHT_WRITE, 0), E_BAD_ARG,
	       "rights without READ are refused");
	tap_eq(object_alloc(OBJ_PAGE_TABLE, 0, &pt), E_OK, "a page table");
	tap_eq(sys_page_table_map(pt, CAP_ROOT_VSPACE, VA), E_MAPPED,
	       "a page table where all levels exist is refused");

	/* sharing: a copy of the frame cap maps the same memory elsewhere */
	tap_eq(sys_cnode_copy(f, CAP_ROOT_CNODE, shared, RIGHT_READ), E_OK, "copy the frame cap read-only");
	tap_eq(page_map_with_tables(shared, VA + 0x1000, RIGHT_READ), E_OK, "map the copy");
	tap_eq((long)p[512], 0xfeedface, "the copy shows the same memory");
	run_faulting(0, writer, VA + 0x1000, &info);
	tap_ok(info.state == THREAD_FAULTED && info.fault_vector == 14 && info.fault_addr == VA + 0x1000 &&
	       (info.fault_error & 7) == 7, "a write to the read-only copy faults (err %lx)", info.fault_error);

	/* no-execute: data pages are mapped without EXEC */
	run_faulting(1, jumper, VA, &info);
	tap_ok(info.state == THREAD_FAULTED && info.fault_vector == 14 && info.fault_rip == VA &&
	       (info.fault_error & 0x10), "executing a page mapped without EXEC faults");

	/* unmap, then a fault */
	tap_eq(sys_page_unmap(f), E_OK, "unmap");
	tap_eq(sys_page_unmap(f), E_NOT_MAPPED, "a second unmap is refused");
	run_faulting(2, reader, VA, &info);
	tap_ok(info.state == THREAD_FAULTED && info.fault_vector == 14 && info.fault_addr == VA &&
	       !(info.fault_error & 1), "a read after unmap faults on a non-present page");
	tap_done();
}
