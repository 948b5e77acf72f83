/*
 * linux-kvm-bench: KVM's side of Berth's VM-exit benchmark.
 *
 * Run as /init on Debian's stock kernel under QEMU (-accel tcg -cpu max,
 * whose emulated SVM the kernel's kvm_amd drives) by
 * tools/bench/linux-kvm-bench.sh.  It loads irqbypass, kvm, ccp and
 * kvm-amd from /lib/modules (finit_module, in that order: nothing here
 * resolves dependencies), mounts devtmpfs on /dev, opens /dev/kvm and makes
 * a VM with one VCPU and 64 KiB of memory holding a small 32-bit guest
 * (the bytes of guest_code below, flat protected mode, no paging).  The
 * guest times with RDTSC:
 *
 *   kvm_cpuid  CPUID leaf 0, which KVM answers inside the kernel: #VMEXIT
 *              to kvm_amd, its CPUID emulation, VMRUN.  KVM_RUN does not
 *              return to this program.
 *   kvm_pio    OUT to port 0x80: KVM hands it to this program (KVM_RUN
 *              returns with KVM_EXIT_IO), which checks it and calls KVM_RUN
 *              again, back into the guest.
 *   kvm_pio_inkernel
 *              OUT to port 0x84, which KVM completes inside the kernel by
 *              signalling an eventfd (KVM_IOEVENTFD, how virtio doorbells
 *              reach vhost): an exit answered in KVM, like kvm_cpuid, but
 *              one that needs no instruction decoding (below).
 *
 * Each is ITERS iterations, ROUNDS rounds after WARMUP warm-up iterations,
 * the median round divided by ITERS, like Berth's tests/guests/progs/bench.c
 * (2000 iterations, median of 5).  The loop's own instructions are inside
 * each figure, as they are in Berth's: four per CPUID iteration (two XORs
 * setting the leaf and subleaf, DEC, JNZ), two per OUT iteration (DEC, JNZ).
 *
 * QEMU 7.2's SVM has no NRIPS (next-RIP save; the program prints CPUID
 * 0x8000000A and kvm_amd's parameters), so to step over an intercepted
 * CPUID KVM decodes it with its instruction emulator; an I/O exit carries
 * the next RIP on every SVM, so both OUT figures are spared that.
 *
 * The guest times, not this program: the CPUID exits never come back to
 * the program, so only the guest sees each one, and timing all three the
 * same way keeps them comparable with each other and with Berth's guest,
 * which times its exits from inside too.  A round's own overhead outside
 * the loop (the loads of the count, two RDTSCs, four stores) is some ten
 * instructions in 2000 iterations.
 *
 * The counts are guest RDTSC deltas.  The guest's TSC is QEMU's (plus
 * KVM's offset), so under -icount shift=0 a delta counts every instruction
 * QEMU executed in between, the guest's, kvm_amd's and this program's:
 * instructions.  Without icount QEMU's TSC runs at the host's TSC rate,
 * which this program measures against CLOCK_MONOTONIC over the whole VM
 * run (the guest's TSC has the same rate: KVM adds an offset, and QEMU's
 * SVM has no TSC scaling) to give nanoseconds.  The script runs both and
 * says which through the kernel command line (kvm_bench_clock=icount
 * becomes this program's environment), and it prints only the figures of
 * the run's kind as BENCH lines (the wall run adds its TSC ticks per
 * iteration as "#" lines).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define ITERS		2000
#define ROUNDS		5
#define WARMUP		200

#define GUEST_MEM	0x10000		/* 64 KiB at guest-physical 0 */
#define GUEST_ENTRY	0x1000		/* where guest_code is copied */
#define GUEST_PARAMS	0x8000		/* iterations, rounds, warm-up (u32 each) */
#define GUEST_CPUID_TSC	0x8100		/* ROUNDS pairs of u64: TSC before, after */
#define GUEST_PIO_TSC	0x8200
#define GUEST_KICK_TSC	0x8300
#define PIO_PORT	0x80		/* the POST port, as Berth's guest uses */
#define KICK_PORT	0x84		/* the eventfd's port */

/* the constants above, as text for the guest's assembly */
#define STR(x)		#x
#define XS(x)		STR(x)

#define DEBUG_EXIT_PORT	0xf4		/* isa-debug-exit: QEMU exits with status 1 */

/*
 * The guest, assembled by gcc into this program's read-only data and copied
 * into the VM at GUEST_ENTRY.  32-bit code; absolute addresses only for
 * data (GUEST_PARAMS: iterations, rounds, warm-up; the result tables), so
 * it runs wherever it is copied.  CPUID overwrites EAX, EBX, ECX and EDX, and RDTSC EAX and EDX,
 * so the counters are ESI (iterations) and EBP (rounds) and EDI points at
 * the results.  It ends with HLT, which (no in-kernel interrupt
 * controller) KVM hands to this program as KVM_EXIT_HLT.
 */
__asm__(
	".pushsection .rodata\n"
	".code32\n"
	".globl guest_code, guest_code_end, guest_cpuid_at, guest_pio_at, guest_kick_at\n"
	"guest_code:\n"
	/* warm-up: the CPUID loop exactly as timed */
	"	movl " XS(GUEST_PARAMS) "+8, %esi\n"
	"1:	xorl %eax, %eax\n"
	"	xorl %ecx, %ecx\n"
	"	cpuid\n"
	"	decl %esi\n"
	"	jnz 1b\n"
	"	movl $" XS(GUEST_CPUID_TSC) ", %edi\n"
	"	movl " XS(GUEST_PARAMS) "+4, %ebp\n"
	"2:	rdtsc\n"
	"	movl %eax, (%edi)\n"
	"	movl %edx, 4(%edi)\n"
	"	movl " XS(GUEST_PARAMS) ", %esi\n"
	"3:	xorl %eax, %eax\n"
	"	xorl %ecx, %ecx\n"
	"guest_cpuid_at:\n"
	"	cpuid\n"
	"	decl %esi\n"
	"	jnz 3b\n"
	"	rdtsc\n"
	"	movl %eax, 8(%edi)\n"
	"	movl %edx, 12(%edi)\n"
	"	addl $16, %edi\n"
	"	decl %ebp\n"
	"	jnz 2b\n"
	/* the OUT loop: warm-up, then the timed rounds */
	"	movl " XS(GUEST_PARAMS) "+8, %esi\n"
	"4:	outb %al, $" XS(PIO_PORT) "\n"
	"	decl %esi\n"
	"	jnz 4b\n"
	"	movl $" XS(GUEST_PIO_TSC) ", %edi\n"
	"	movl " XS(GUEST_PARAMS) "+4, %ebp\n"
	"5:	rdtsc\n"
	"	movl %eax, (%edi)\n"
	"	movl %edx, 4(%edi)\n"
	"	movl " XS(GUEST_PARAMS) ", %esi\n"
	"6:\n"
	"guest_pio_at:\n"
	"	outb %al, $" XS(PIO_PORT) "\n"
	"	decl %esi\n"
	"	jnz 6b\n"
	"	rdtsc\n"
	"	movl %eax, 8(%edi)\n"
	"	movl %edx, 12(%edi)\n"
	"	addl $16, %edi\n"
	"	decl %ebp\n"
	"	jnz 5b\n"
	/* the OUT that KVM completes itself (the eventfd), likewise */
	"	movl " XS(GUEST_PARAMS) "+8, %esi\n"
	"7:	outb %al, $" XS(KICK_PORT) "\n"
	"	decl %esi\n"
	"	jnz 7b\n"
	"	movl $" XS(GUEST_KICK_TSC) ", %edi\n"
	"	movl " XS(GUEST_PARAMS) "+4, %ebp\n"
	"8:	rdtsc\n"
	"	movl %eax, (%edi)\n"
	"	movl %edx, 4(%edi)\n"
	"	movl " XS(GUEST_PARAMS) ", %esi\n"
	"9:\n"
	"guest_kick_at:\n"
	"	outb %al, $" XS(KICK_PORT) "\n"
	"	decl %esi\n"
	"	jnz 9b\n"
	"	rdtsc\n"
	"	movl %eax, 8(%edi)\n"
	"	movl %edx, 12(%edi)\n"
	"	addl $16, %edi\n"
	"	decl %ebp\n"
	"	jnz 8b\n"
	"	hlt\n"
	"	jmp .\n"
	"guest_code_end:\n"
	".code64\n"
	".popsection\n");
extern const unsigned char guest_code[], guest_code_end[];
/* the timed loops' exiting instructions, for tools/bench/kvm_exit_profile.py */
extern const unsigned char guest_cpuid_at[], guest_pio_at[], guest_kick_at[];

static int kvm = -1, vm = -1, vcpu = -1, kick = -1;
static struct kvm_run *run;
static unsigned char *mem;

static void stop_qemu(void)
{
	fflush(stdout);
	if (ioperm(DEBUG_EXIT_PORT, 4, 1) == 0)
		outb(0, DEBUG_EXIT_PORT);
	else
		printf("linux-kvm-bench: ioperm: %s\n", strerror(errno));
	sync();
	reboot(RB_POWER_OFF);
	/* Returning from init panics; with panic=-1 and -no-reboot QEMU exits. */
}

/* The line says what failed; QEMU stops, and the script finds no figures. */
static void fail(const char *what)
{
	printf("linux-kvm-bench: %s failed: %s\n", what, strerror(errno));
	stop_qemu();
	exit(1);
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* 0, or -1 with errno set. */
static int load_module(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = (int)syscall(SYS_finit_module, fd, "", 0);
	int e = errno;
	close(fd);
	errno = e;
	return r == 0 ? 0 : -1;
}

/* The CPUID table KVM offers, given to the VCPU as a VMM would. */
static void set_cpuid(void)
{
	int n = 64;

	for (;;) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

		if (!c)
			fail("calloc");
		c->nent = n;
		if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			if (ioctl(vcpu, KVM_SET_CPUID2, c) != 0)
				fail("KVM_SET_CPUID2");
			free(c);
			return;
		}
		free(c);
		if (errno != E2BIG || n >= 4096)
			fail("KVM_GET_SUPPORTED_CPUID");
		n *= 2;
	}
}

static void make_vm(void)
{
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		fail("open /dev/kvm");
	int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		printf("linux-kvm-bench: KVM API version %d, not %d\n", api, KVM_API_VERSION);
		stop_qemu();
		exit(1);
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		fail("KVM_CREATE_VM");

	mem = mmap(NULL, GUEST_MEM, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		fail("mmap of the guest's memory");
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = GUEST_MEM,
		.userspace_addr = (uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) != 0)
		fail("KVM_SET_USER_MEMORY_REGION");
	memcpy(mem + GUEST_ENTRY, guest_code, guest_code_end - guest_code);
	uint32_t params[3] = { ITERS, ROUNDS, WARMUP };
	memcpy(mem + GUEST_PARAMS, params, sizeof(params));

	/* OUTs of one byte to KICK_PORT: KVM adds 1 to the eventfd's count */
	kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (kick < 0)
		fail("eventfd");
	struct kvm_ioeventfd ioev = {
		.addr = KICK_PORT, .len = 1, .fd = kick, .flags = KVM_IOEVENTFD_FLAG_PIO,
	};
	if (ioctl(vm, KVM_IOEVENTFD, &ioev) != 0)
		fail("KVM_IOEVENTFD");

	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		fail("KVM_CREATE_VCPU");
	int size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < (int)sizeof(*run))
		fail("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		fail("mmap of kvm_run");
	set_cpuid();

	/*
	 * Flat 32-bit protected mode without paging: the hidden parts of the
	 * segment registers are given directly, so the guest needs no GDT.
	 */
	struct kvm_sregs s;
	if (ioctl(vcpu, KVM_GET_SREGS, &s) != 0)
		fail("KVM_GET_SREGS");
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 0x08, .type = 0xb,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
	struct kvm_segment data = code;
	data.selector = 0x10;
	data.type = 0x3;
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.cr0 |= 1;		/* PE */
	if (ioctl(vcpu, KVM_SET_SREGS, &s) != 0)
		fail("KVM_SET_SREGS");
	struct kvm_regs r;
	memset(&r, 0, sizeof(r));
	r.rip = GUEST_ENTRY;
	r.rflags = 0x2;		/* interrupts off */
	if (ioctl(vcpu, KVM_SET_REGS, &r) != 0)
		fail("KVM_SET_REGS");
}

/*
 * The VMM's loop: every OUT to PIO_PORT comes back here as KVM_EXIT_IO and
 * goes straight back in (an OUT needs nothing more: KVM has moved the
 * guest's RIP past it); HLT ends the run.  Anything else is a failure.
 */
static unsigned long run_guest(void)
{
	unsigned long outs = 0;

	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) != 0) {
			if (errno == EINTR)
				continue;
			fail("KVM_RUN");
		}
		if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT &&
		    run->io.port == PIO_PORT && run->io.size == 1 && run->io.count == 1) {
			outs++;
			continue;
		}
		if (run->exit_reason == KVM_EXIT_HLT)
			return outs;
		printf("linux-kvm-bench: unexpected exit: reason %u", run->exit_reason);
		if (run->exit_reason == KVM_EXIT_IO)
			printf(" (I/O port %#x, direction %u, size %u)", run->io.port,
			       run->io.direction, run->io.size);
		if (run->exit_reason == KVM_EXIT_FAIL_ENTRY)
			printf(" (hardware entry failure %#llx)",
			       (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		printf("\n");
		stop_qemu();
		exit(1);
	}
}

/* The median round of a result table in guest memory, in TSC ticks. */
static uint64_t median_round(unsigned table)
{
	uint64_t pairs[ROUNDS][2], d[ROUNDS];

	memcpy(pairs, mem + table, sizeof(pairs));
	for (int i = 0; i < ROUNDS; i++)
		d[i] = pairs[i][1] - pairs[i][0];
	for (int i = 0; i < ROUNDS; i++)
		for (int j = i + 1; j < ROUNDS; j++)
			if (d[j] < d[i]) {
				uint64_t t = d[i];
				d[i] = d[j];
				d[j] = t;
			}
	return d[ROUNDS / 2];
}

/*
 * The run's figure: instructions under icount, nanoseconds without it.  The
 * wall run also gives its TSC ticks, for the record; an icount run's
 * nanoseconds would only repeat its instructions.
 */
static void figure(int icount, const char *name, uint64_t ticks, uint64_t tsc_hz)
{
	uint64_t per = (ticks + ITERS / 2) / ITERS;

	if (icount) {
		printf("BENCH name=linux.%s value=%llu unit=instructions\n", name,
		       (unsigned long long)per);
		return;
	}
	uint64_t ns = (uint64_t)((double)ticks * 1e9 / (double)tsc_hz / ITERS + 0.5);
	printf("# linux-kvm-bench: %s %llu TSC ticks per iteration\n", name,
	       (unsigned long long)per);
	printf("BENCH name=linux.%s_ns value=%llu unit=ns\n", name, (unsigned long long)ns);
}

/*
 * What the kernel said while the modules loaded (the console is quiet):
 * its lines about KVM, SVM and the CCP, as "# kmsg:" lines.
 */
static void kvm_messages(void)
{
	char rec[1024];
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return;
	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* records overwritten: go on with the next */
		if (n <= 0)
			break;
		rec[n] = 0;
		char *msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		msg[strcspn(msg, "\n")] = 0;
		if (strstr(msg, "kvm:") || strstr(msg, "SVM") || strstr(msg, "ccp"))
			printf("# kmsg: %s\n", msg);
	}
	close(fd);
}

/*
 * What KVM has to work with: the SVM features QEMU's CPU reports (CPUID
 * 0x8000000A EDX) and what kvm_amd made of them (its parameters in sysfs).
 * Without NRIPS (next-RIP save) KVM cannot learn the length of an exiting
 * instruction from the VMCB and decodes it with its instruction emulator to
 * step over it; an I/O exit always carries the next RIP.
 */
static void svm_features(void)
{
	static const char *const params[] = { "nested", "npt", "nrips", "vgif", "vls", "avic", "lbrv" };
	uint32_t a = 0x8000000a, b, c = 0, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	printf("# linux-kvm-bench: CPUID 0x8000000A: edx=%#x (NP %u, NRIPS %u, VGIF %u, "
	       "TSC rate %u, VMCB clean %u, decode assists %u)\n",
	       d, d & 1, (d >> 3) & 1, (d >> 16) & 1, (d >> 4) & 1, (d >> 5) & 1, (d >> 7) & 1);
	mkdir("/sys", 0555);
	if (mount("sysfs", "/sys", "sysfs", 0, NULL) != 0)
		return;
	printf("# linux-kvm-bench: kvm_amd parameters:");
	for (unsigned i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		char path[96], v[16] = "?";

		snprintf(path, sizeof(path), "/sys/module/kvm_amd/parameters/%s", params[i]);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			ssize_t n = read(fd, v, sizeof(v) - 1);
			v[n > 0 ? n : 0] = 0;
			v[strcspn(v, "\n")] = 0;
			close(fd);
		}
		printf(" %s=%s", params[i], v);
	}
	printf("\n");
}

/*
 * For tools/bench/kvm_exit_profile.py (kvm_bench_symbols=1 on the command
 * line): where the modules' code sections and the kernel's functions are,
 * and the guest-physical addresses of the three timed instructions, so
 * that program counters single-stepped through QEMU's gdbstub can be
 * named.  Tens of thousands of lines: never in a benchmark run.
 */
static void print_symbols(void)
{
	static const char *const mods[] = { "kvm", "kvm_amd" };

	printf("# GUEST cpuid=%#lx pio=%#lx kick=%#lx\n",
	       (unsigned long)(GUEST_ENTRY + (guest_cpuid_at - guest_code)),
	       (unsigned long)(GUEST_ENTRY + (guest_pio_at - guest_code)),
	       (unsigned long)(GUEST_ENTRY + (guest_kick_at - guest_code)));
	for (unsigned i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		char dir[96];

		snprintf(dir, sizeof(dir), "/sys/module/%s/sections", mods[i]);
		DIR *d = opendir(dir);
		if (!d)
			continue;
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (strncmp(e->d_name, ".text", 5) != 0 && strncmp(e->d_name, ".noinstr", 8) != 0)
				continue;
			char path[400], v[32] = "";
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd >= 0) {
				ssize_t n = read(fd, v, sizeof(v) - 1);
				v[n > 0 ? n : 0] = 0;
				v[strcspn(v, "\n")] = 0;
				close(fd);
			}
			printf("# SECTION %s %s %s\n", mods[i], e->d_name, v);
		}
		closedir(d);
	}
	/* the kernel's own text symbols (the modules' come from their .ko) */
	mkdir("/proc", 0555);
	if (mount("proc", "/proc", "proc", 0, NULL) != 0)
		return;
	FILE *k = fopen("/proc/kallsyms", "r");
	char line[256];
	while (k && fgets(line, sizeof(line), k)) {
		char *t = strchr(line, ' ');
		if (t && (t[1] == 't' || t[1] == 'T') && !strchr(line, '['))
			printf("# KSYM %s", line);
	}
	if (k)
		fclose(k);
}

int main(void)
{
	static const char *const modules[] = { "irqbypass", "kvm", "ccp", "kvm-amd" };
	const char *clock = getenv("kvm_bench_clock");
	int icount = clock && strcmp(clock, "icount") == 0;
	struct utsname u;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (uname(&u) != 0)
		strcpy(u.release, "?");
	printf("# linux-kvm-bench: kernel %s, clock %s\n", u.release, icount ? "icount" : "wall");

	/* devtmpfs first: /dev/kmsg, and /dev/kvm once kvm_amd registers it */
	if (mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) != 0)
		fail("mounting devtmpfs on /dev");
	for (unsigned i = 0; i < sizeof(modules) / sizeof(modules[0]); i++) {
		char path[64], what[96];

		snprintf(path, sizeof(path), "/lib/modules/%s.ko", modules[i]);
		if (load_module(path) != 0) {
			int e = errno;

			kvm_messages();
			snprintf(what, sizeof(what), "loading %s (finit_module)", path);
			errno = e;
			fail(what);
		}
	}
	kvm_messages();
	struct stat st;
	if (stat("/dev/kvm", &st) != 0) {
		printf("linux-kvm-bench: no /dev/kvm after loading kvm_amd (%s)\n", strerror(errno));
		stop_qemu();
		return 1;
	}
	printf("# linux-kvm-bench: /dev/kvm is there (irqbypass, kvm, ccp, kvm-amd loaded)\n");
	svm_features();
	const char *symbols = getenv("kvm_bench_symbols");
	if (symbols && strcmp(symbols, "1") == 0)
		print_symbols();

	make_vm();
	uint64_t t0 = rdtsc(), n0 = now_ns();
	unsigned long outs = run_guest();
	uint64_t t1 = rdtsc(), n1 = now_ns();
	uint64_t tsc_hz = (uint64_t)((double)(t1 - t0) * 1e9 / (double)(n1 - n0));
	unsigned long want = (unsigned long)WARMUP + (unsigned long)ROUNDS * ITERS;
	if (outs != want) {
		printf("linux-kvm-bench: %lu OUT exits reached this program, not %lu\n", outs, want);
		stop_qemu();
		return 1;
	}
	uint64_t kicks = 0;
	if (read(kick, &kicks, sizeof(kicks)) != sizeof(kicks) || kicks != want) {
		printf("linux-kvm-bench: the eventfd counted %llu OUTs, not %lu\n",
		       (unsigned long long)kicks, want);
		stop_qemu();
		return 1;
	}
	printf("# linux-kvm-bench: iters=%d rounds=%d (median) warmup=%d tsc_hz=%llu "
	       "loop=4 (cpuid) 2 (pio) instructions per iteration, included; "
	       "%lu exits to the program, %llu eventfd signals\n",
	       ITERS, ROUNDS, WARMUP, (unsigned long long)tsc_hz, outs, (unsigned long long)kicks);
	figure(icount, "kvm_cpuid", median_round(GUEST_CPUID_TSC), tsc_hz);
	figure(icount, "kvm_pio", median_round(GUEST_PIO_TSC), tsc_hz);
	figure(icount, "kvm_pio_inkernel", median_round(GUEST_KICK_TSC), tsc_hz);
	stop_qemu();
	return 1;
}
