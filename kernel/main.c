/* kmain: bring the machine up, build the root task, and leave the kernel
 * for good.  From here on the kernel only reacts to system calls,
 * faults and interrupts. */
#include <stdint.h>
#include "boot.h"
#include "object.h"
#include "cpu.h"
#include "serial.h"
#include "timer.h"
#include "vspace.h"
#include "layout.h"
#include "klib.h"
#include "selfcheck.h"

static int cmdline_has(const char *word)
{
	size_t n = 0;
	while (word[n])
		n++;
	for (const char *p = boot.cmdline; *p; p++)
		if ((p == boot.cmdline || p[-1] == ' ') && !memcmp(p, word, n) &&
		    (p[n] == 0 || p[n] == ' '))
			return 1;
	return 0;
}

static uint64_t parse_number(const char *s)
{
	uint64_t n = 0;
	while (*s >= '0' && *s <= '9')
		n = n * 10 + (uint64_t)(*s++ - '0');
	return n;
}

/* A deliberate kernel fault, so the test suite can see the dump. */
static void selftest_kernel_fault(void)
{
	printk("berth: selftest: touching an unmapped kernel address\n");
	*(volatile uint64_t *)0xffff900000000000UL = 1;
}

void svm_init(void);
extern int svm_count_exits;
extern int debug_exit_enabled;

void kmain(uint32_t magic, uint64_t mbi_phys)
{
	serial_init();
	printk("\nBerth microkernel (x86-64) booting\n");
	cpu_init();
	svm_init();
	multiboot_parse(magic, mbi_phys);
	vspace_init_kernel();
	printk("berth: command line '%s', %d modules\n", boot.cmdline, boot.module_count);
	for (int i = 0; i < boot.module_count; i++)
		printk("berth: module %d: %lx..%lx '%s'\n", i, boot.module[i].start,
		       boot.module[i].end, boot.module[i].name);
	if (cmdline_has("selftest=kernel_fault"))
		selftest_kernel_fault();
	svm_count_exits = cmdline_has("svmcount");
	/* SYS_DEBUG_EXIT ends the machine: test boots only (tools/qemu.sh
	 * --test says debugexit; a test may say nodebugexit after it) */
	debug_exit_enabled = cmdline_has("debugexit") && !cmdline_has("nodebugexit");
	for (const char *p = boot.cmdline; *p; p++)
		if ((p == boot.cmdline || p[-1] == ' ') && !memcmp(p, "selfcheck=", 10))
			selfcheck_configure(parse_number(p + 10));
	root_task_create();
#ifdef BERTH_SELFCHECK
	/* a broken invariant, so the test suite sees the self-check catch it */
	if (cmdline_has("selftest=selfcheck"))
		mdb_root.mdb_next->depth += 2;
#endif
	timer_init(TIMER_HZ);
	kernel_exit();
}
