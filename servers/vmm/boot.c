/* What the guest starts with: its first instructions, its registers, and
 * the tables a processor in 64-bit mode needs before the guest builds its
 * own.  Two kinds of guest:
 *   - a flat image (the test guests): copied to GUEST_LOAD_GPA, entered
 *     there with code selector 8 and data selector 16;
 *   - a Linux bzImage (and an initrd), through the 64-bit boot protocol
 *     (linux_boot.c): the zero page in RSI, code selector 0x10 and data
 *     0x18 as boot.rst asks.
 * Either way the guest's first 4 GiB are mapped 1:1 with 2 MiB pages by
 * tables at 0x1000..0x6fff, and the GDT is at 0x7000. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "vm.h"
#include "linux_boot.h"
#include "acpi.h"
#include "init.h"
#include "fs_files.h"


#define BOOT_PML4 0x1000UL
#define BOOT_GDT  0x7000UL

struct boot_cpu {
	uint64_t rip, rsp, rsi;
	unsigned code_sel, data_sel;   /* GDT selectors, multiples of 8 below 0x20 */
};

static long vcpu_set(unsigned field, uint64_t value, long err)
{
	return err ? err : sys_vcpu_write(vm.vcpu, field, value);
}

static long cpu_setup(const struct boot_cpu *c)
{
	uint64_t *pml4 = guest_ptr(BOOT_PML4, 0x6000), *pdpt = pml4 + 512, *pd = pml4 + 1024;
	uint64_t *gdt = guest_ptr(BOOT_GDT, 32);
	if (!pml4 || !gdt)
		return E_RANGE;
	memset(pml4, 0, 0x2000);
	pml4[0] = (BOOT_PML4 + 0x1000) | 3;
	for (int g = 0; g < 4; g++)
		pdpt[g] = (BOOT_PML4 + 0x2000 + 0x1000 * (uint64_t)g) | 3;
	for (int i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;
	memset(gdt, 0, 32);
	gdt[c->code_sel / 8] = 0x00209a0000000000UL; /* 64-bit code */
	gdt[c->data_sel / 8] = 0x00cf92000000ffffUL; /* flat data */
	long err = E_OK;
	err = vcpu_set(VCPU_CR0, 0x80000033, err);
	err = vcpu_set(VCPU_CR3, BOOT_PML4, err);
	err = vcpu_set(VCPU_CR4, 0x620, err);
	err = vcpu_set(VCPU_EFER, 0x500, err);
	err = vcpu_set(VCPU_SEGMENT(SEG_CS, SEG_SELECTOR), c->code_sel, err);
	err = vcpu_set(VCPU_SEGMENT(SEG_CS, SEG_ATTRIB), 0xa9b, err);
	err = vcpu_set(VCPU_SEGMENT(SEG_CS, SEG_LIMIT), 0xffffffff, err);
	err = vcpu_set(VCPU_SEGMENT(SEG_CS, SEG_BASE), 0, err);
	err = vcpu_set(VCPU_SEGMENT(SEG_GDTR, SEG_BASE), BOOT_GDT, err);
	err = vcpu_set(VCPU_SEGMENT(SEG_GDTR, SEG_LIMIT), 31, err);
	err = vcpu_set(VCPU_SEGMENT(SEG_TR, SEG_ATTRIB), 0x8b, err);
	err = vcpu_set(VCPU_SEGMENT(SEG_TR, SEG_LIMIT), 0x67, err);
	err = vcpu_set(VCPU_RIP, c->rip, err);
	err = vcpu_set(VCPU_RSP, c->rsp, err);
	err = vcpu_set(VCPU_RSI, c->rsi, err);
	err = vcpu_set(VCPU_RFLAGS, 2, err);
	for (unsigned s = SEG_ES; s <= SEG_GS; s++) {
		if (s == SEG_CS)
			continue;
		err = vcpu_set(VCPU_SEGMENT(s, SEG_SELECTOR), c->data_sel, err);
		err = vcpu_set(VCPU_SEGMENT(s, SEG_ATTRIB), 0xc93, err);
		err = vcpu_set(VCPU_SEGMENT(s, SEG_LIMIT), 0xffffffff, err);
	}
	/* INVLPGA, MONITOR and MWAIT would run in the guest: the first is an
	 * SVM instruction and the others are hidden by our CPUID, so the guest
	 * gets #UD for them (exits.c), as on a processor without them */
	uint64_t misc1 = 0, misc2 = 0;
	err = err ? err : sys_vcpu_read(vm.vcpu, VCPU_INTERCEPT_MISC1, &misc1);
	err = err ? err : sys_vcpu_read(vm.vcpu, VCPU_INTERCEPT_MISC2, &misc2);
	err = vcpu_set(VCPU_INTERCEPT_MISC1, misc1 | SVM_MISC1_INVLPGA, err);
	err = vcpu_set(VCPU_INTERCEPT_MISC2, misc2 | SVM_MISC2_MONITOR | SVM_MISC2_MWAIT, err);
	/* the MSRs VMLOAD and VMSAVE switch are the guest's own: STAR, LSTAR,
	 * CSTAR, SFMASK, FS_BASE, GS_BASE, KERNEL_GS_BASE, SYSENTER_* */
	static const uint32_t own[] = { 0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, 0xc0000100,
	                                0xc0000101, 0xc0000102, 0x174, 0x175, 0x176 };
	for (unsigned i = 0; !err && i < sizeof(own) / sizeof(own[0]); i++)
		err = sys_vcpu_msr_intercept(vm.vcpu, own[i], 0);
	return err;
}

/* Guest RAM the images go to was given back (the balloon) and init will
 * not lend it again: the guest cannot start. */
static long unlent(void)
{
	debug_printf("vmm: %sguest memory given back could not be borrowed again: the guest cannot start\n", vm_name);
	return E_RANGE;
}

static long boot_flat(const uint8_t *image, size_t size)
{
	if (size > vm.ram_bytes - GUEST_LOAD_GPA) {
		debug_printf("vmm: %sthe guest image (%lu bytes) does not fit in %lu MiB\n", vm_name, size,
		             vm.ram_bytes >> 20);
		return E_RANGE;
	}
	if (guest_write(GUEST_LOAD_GPA, image, size))
		return unlent();
	struct boot_cpu c = { .rip = GUEST_LOAD_GPA, .rsp = 0x80000, .code_sel = 8, .data_sel = 16 };
	return cpu_setup(&c);
}

static long boot_linux(const uint8_t *image, size_t size, const uint8_t *initrd, size_t initrd_size,
                       const char *cmdline)
{
	struct linux_kernel k;
	struct linux_layout l;
	char error[LINUX_ERROR_MAX];
	size_t cmdline_len = strlen(cmdline);
	if (linux_parse(image, size, &k, error) ||
	    linux_place(&k, vm.ram_bytes, initrd_size, cmdline_len, &l, error)) {
		debug_printf("vmm: %s%s\n", vm_name, error);
		return E_BAD_ARG;
	}
	uint8_t *zp = guest_ptr(l.zero_page_gpa, LINUX_ZERO_PAGE_BYTES);
	if (guest_write(l.kernel_gpa, image + k.setup_bytes, k.kernel_bytes) ||
	    (initrd_size && guest_write(l.initrd_gpa, initrd, initrd_size)) ||
	    guest_write(l.cmdline_gpa, cmdline, cmdline_len + 1) || !zp)
		return unlent();
	linux_zero_page(image, &k, &l, zp);
	/* ACPI: the tables in the reserved top of RAM, the RSDP where a BIOS
	 * would leave it and, so that nobody has to scan for it, in the zero
	 * page too (acpi_rsdp_addr, protocol 2.14) */
	static uint8_t tables[LINUX_TABLES_BYTES];
	uint8_t rsdp[ACPI_RSDP_BYTES];
	size_t n = acpi_build(tables, sizeof(tables), l.tables_gpa, l.mem_bytes, rsdp);
	if (!n) {
		debug_printf("vmm: %sthe ACPI tables do not fit in %lu bytes\n", vm_name, (unsigned long)sizeof(tables));
		return E_RANGE;
	}
	memcpy(guest_ptr(l.tables_gpa, n), tables, n);
	memcpy(guest_ptr(ACPI_RSDP_GPA, ACPI_RSDP_BYTES), rsdp, ACPI_RSDP_BYTES);
	uint64_t rsdp_gpa = ACPI_RSDP_GPA;
	memcpy(zp + 0x70, &rsdp_gpa, sizeof(rsdp_gpa));
	debug_printf("vmm: Linux boot protocol %u.%02u, kernel %u bytes at %lx, initrd %lu bytes at %lx\n",
	             k.version >> 8, k.version & 0xff, k.kernel_bytes, l.kernel_gpa, initrd_size, l.initrd_gpa);
	struct boot_cpu c = { .rip = l.entry_gpa, .rsp = 0x80000, .rsi = l.zero_page_gpa,
	                      .code_sel = 0x10, .data_sel = 0x18 };
	return cpu_setup(&c);
}

/* A boot module, read-only at va. */
static long map_module(const struct bootinfo_module *mod, uint64_t va)
{
	for (uint32_t i = 0; i < mod->pages; i++) {
		long err = page_map_with_tables(mod->first_slot + i, va + i * PAGE_SIZE, RIGHT_READ);
		if (err)
			return err;
	}
	return E_OK;
}

#define LINUX_CMDLINE_DEFAULT "console=ttyS0"

/* What the guest was started from, to start it again on a reset. */
static struct {
	char name[BOOTINFO_NAME_LEN];   /* the module's name or the file's path */
	int is_linux;
	const uint8_t *image, *initrd;
	size_t image_size, initrd_size;
	char cmdline[LINUX_CMDLINE_AREA];
} start;

static long boot_again(void)
{
	if (!start.is_linux)
		return boot_flat(start.image, start.image_size);
	return boot_linux(start.image, start.image_size, start.initrd, start.initrd_size, start.cmdline);
}

/* A whole file of the file system ("fs") into memory of ours; a clear
 * line and an error if it cannot be read. */
static long read_file(const char *what, const char *arg, size_t len, const uint8_t **data, size_t *size)
{
	char path[256];
	if (!len || len >= sizeof(path)) {
		debug_printf("vmm: %s%s= needs a path of 1 to 255 characters\n", vm_name, what);
		return E_BAD_ARG;
	}
	memcpy(path, arg, len);
	path[len] = 0;
	static uint64_t fs;
	if (!fs && init_lookup(INIT_SLOT, "fs", &fs)) {
		fs = 0;
		debug_printf("vmm: %s%s %s: there is no file system (the fs server is not running)\n", vm_name, what,
		             path);
		return E_STATE;
	}
	files_use_fs(fs);
	FILE *f = fopen(path, "r");
	struct stat st;
	uint8_t *buf = 0;
	if (f && !fstat(fileno(f), &st) && S_ISREG(st.st_mode) && (buf = malloc(st.st_size ? st.st_size : 1)) &&
	    fread(buf, 1, st.st_size, f) == (size_t)st.st_size) {
		fclose(f);
		*data = buf;
		*size = st.st_size;
		return E_OK;
	}
	int e = errno;
	debug_printf("vmm: %s%s %s: %s\n", vm_name, what, path,
	             f && !buf ? "cannot read it (too big for the VMM's memory?)" : strerror(e ? e : EIO));
	if (f)
		fclose(f);
	free(buf);
	return E_BAD_ARG;
}

/* The guest's start: a flat image, or with `linux` a bzImage and (the
 * second module) its initrd; or, with kernel=PATH [initrd=PATH], files
 * of the file system.  Linux's command line is `cmdline=`, the
 * rest of our own, or LINUX_CMDLINE_DEFAULT.  (The TSC's rate, which
 * Linux cannot measure against an emulated timer, it reads from the
 * paravirtual clock: pvclock.h.) */
long boot_guest(const struct bootinfo *bi)
{
	size_t klen, ilen;
	const char *kpath = arg_value(bi->cmdline, "kernel=", &klen), *ipath = arg_value(bi->cmdline, "initrd=", &ilen);
	start.is_linux = arg_flag(bi->cmdline, "linux");
	long err;
	if (kpath) {
		debug_snprintf(start.name, sizeof(start.name), "%.*s", (int)klen, kpath);
		if ((err = read_file("kernel", kpath, klen, &start.image, &start.image_size)) ||
		    (ipath && (err = read_file("initrd", ipath, ilen, &start.initrd, &start.initrd_size))))
			return err;
	} else if (!bi->module_count) {
		debug_printf("vmm: %sno guest image: no boot module and no kernel=PATH\n", vm_name);
		return E_BAD_ARG;
	} else if ((err = map_module(&bi->module[0], IMAGE_VA))) {
		return err;
	} else {
		start.image = (const uint8_t *)IMAGE_VA;
		start.image_size = bi->module[0].size;
		memcpy(start.name, bi->module[0].name, sizeof(start.name));
	}
	const struct bootinfo_module *kernel = &bi->module[0];
	if (!kpath && start.is_linux && bi->module_count > 1) {
		uint64_t va = IMAGE_VA + (((uint64_t)kernel->pages * PAGE_SIZE + LARGE_PAGE_SIZE - 1) &
		                          ~(LARGE_PAGE_SIZE - 1));
		if ((err = map_module(&bi->module[1], va)))
			return err;
		start.initrd = (const uint8_t *)va;
		start.initrd_size = bi->module[1].size;
	}
	const char *given = arg_cmdline(bi->cmdline);
	if (!given || !*given)
		given = LINUX_CMDLINE_DEFAULT;
	debug_snprintf(start.cmdline, sizeof(start.cmdline), "%s%s", given, net_cmdline());
	return boot_again();
}

const char *boot_image(size_t *size)
{
	*size = start.image_size;
	return start.name;
}

/* A reset (the guest asked for one through a reset register): the
 * machine as it was at power-on, memory zeroed and the images loaded
 * again.  The exit being answered (m) carries the fresh registers back. */
long boot_reset(struct msg *m)
{
	memset(guest_ptr(0, vm.ram_bytes), 0, vm.ram_bytes);
	devices_reset();
	long err = E_OK;
	static const unsigned cleared[] = { VCPU_CR2, VCPU_DR6, VCPU_DR7, VCPU_KERNEL_GS_BASE, VCPU_STAR,
	                                    VCPU_LSTAR, VCPU_CSTAR, VCPU_SFMASK, VCPU_SYSENTER_CS,
	                                    VCPU_SYSENTER_ESP, VCPU_SYSENTER_EIP,
	                                    VCPU_SEGMENT(SEG_IDTR, SEG_BASE), VCPU_SEGMENT(SEG_IDTR, SEG_LIMIT),
	                                    VCPU_SEGMENT(SEG_LDTR, SEG_SELECTOR), VCPU_SEGMENT(SEG_LDTR, SEG_ATTRIB),
	                                    VCPU_SEGMENT(SEG_LDTR, SEG_BASE), VCPU_SEGMENT(SEG_LDTR, SEG_LIMIT),
	                                    VCPU_SEGMENT(SEG_FS, SEG_BASE), VCPU_SEGMENT(SEG_GS, SEG_BASE),
	                                    VCPU_INT_SHADOW };
	for (unsigned i = 0; i < sizeof(cleared) / sizeof(cleared[0]); i++)
		err = vcpu_set(cleared[i], cleared[i] == VCPU_DR7 ? 0x400 : cleared[i] == VCPU_DR6 ? 0xffff0ff0 : 0, err);
	for (unsigned r = VCPU_RAX; r <= VCPU_R15; r++)
		err = vcpu_set(r, 0, err);
	err = err ? err : boot_again();
	for (unsigned r = VCPU_RAX; !err && r <= VCPU_RFLAGS; r++)
		err = sys_vcpu_read(vm.vcpu, r, &m->w[VMEXIT_W_RAX + r]);
	m->w[VMEXIT_W_INJECT] = 0;
	return err;
}
