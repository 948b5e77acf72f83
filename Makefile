# Berth: one entry point.  `make run` and `make test` set up the machine
# first (tools/setup.sh), so they work on a fresh Debian 12.

# The C library of user programs (mk/libc.mk, docs/libc.md): LIBC=picolibc
# (the default: it measured smaller and faster) or LIBC=newlib (CI runs
# the tests with both).  The default's
# build goes to build/, the other's to build-LIBC/, so the two never mix.
LIBC_DEFAULT := picolibc
LIBC    ?= $(LIBC_DEFAULT)
ifeq ($(filter newlib picolibc,$(LIBC)),)
$(error LIBC=$(LIBC): the C library is newlib or picolibc)
endif
BUILD   := $(if $(filter $(LIBC_DEFAULT),$(LIBC)),build,build-$(LIBC))
# $(BUILD)/libc names the library its objects were built with.  Another one
# there (or none in a build from before LIBC=, which was newlib's) and the
# compiled and linked files go, so nothing built with one library's headers
# is linked with the other; disk images and the rest stay.
LIBC_BUILT := $(shell cat $(BUILD)/libc 2>/dev/null || { [ -d $(BUILD)/libipc ] && echo newlib; })
ifneq ($(LIBC_BUILT),$(LIBC))
$(shell [ -d $(BUILD) ] && find $(BUILD) \( -name '*.o' -o -name '*.a' -o -name '*.elf' -o -name '*.d' \) -delete; \
	mkdir -p $(BUILD) && echo $(LIBC) >$(BUILD)/libc)
endif
CC      := gcc
HOSTCC  := gcc
PYTHON  := python3

# make V=1 shows the full commands
ifeq ($(V),1)
Q :=
else
Q := @
endif
say = @printf '  %-7s %s\n' $(1) $(2)

WARN    := -Wall -Wextra -Werror
COMMON  := -std=gnu11 -O2 -g -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	   -fno-asynchronous-unwind-tables -fno-builtin $(WARN) -Iinclude
KCFLAGS := $(COMMON) -mcmodel=kernel -mno-red-zone -mgeneral-regs-only \
	   -Ikernel -Ikernel/arch/x86_64
# USER_INC and USER_LIBS come from mk/*.mk (the C library)
UCFLAGS  = $(COMMON) -mcmodel=small -Ilibipc/include $(USER_INC)
LDFLAGS := -nostdlib -static -no-pie -z max-page-size=0x1000 -z noexecstack -Wl,--build-id=none

KERNEL_SRC := $(wildcard kernel/*.c kernel/arch/x86_64/*.c kernel/arch/x86_64/*.S)
KERNEL_OBJ := $(patsubst %,$(BUILD)/%.o,$(KERNEL_SRC))
LIBIPC_SRC := $(wildcard libipc/*.c libipc/*.S)
LIBIPC_OBJ := $(patsubst %,$(BUILD)/%.o,$(LIBIPC_SRC))
SYSTEST_SRC := $(wildcard tests/system/*.c)
SYSTEST_LIB := $(patsubst %,$(BUILD)/%.o,$(wildcard tests/system/lib/*.c))
SYSTEST_ELF := $(patsubst tests/system/%.c,$(BUILD)/tests/system/%.elf,$(SYSTEST_SRC))
# helper programs that system tests load as boot modules
PROG_SRC   := $(wildcard tests/system/progs/*.c)
PROG_ELF   := $(patsubst tests/system/%.c,$(BUILD)/tests/system/%.elf,$(PROG_SRC))
BENCH_SRC  := $(wildcard tests/bench/*.c)
BENCH_ELF  := $(patsubst tests/bench/%.c,$(BUILD)/tests/bench/%.elf,$(BENCH_SRC))
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))

# kernel_variant(DIR,NAME,FLAGS,LABEL): the kernel's sources built again
# with FLAGS into $(BUILD)/DIR and linked as $(BUILD)/NAME.bin (the bench
# and self-check kernels, mk/bench.mk and mk/selfcheck.mk)
define kernel_variant
$(2)_OBJ := $$(patsubst %,$$(BUILD)/$(1)/%.o,$$(KERNEL_SRC))
$$(BUILD)/$(1)/%.c.o: %.c
	@mkdir -p $$(dir $$@)
	$$(call say,CC,'$$< [$(4)]')
	$$(Q)$$(CC) $$(KCFLAGS) $(3) -MMD -MP -c $$< -o $$@
$$(BUILD)/$(1)/%.S.o: %.S
	@mkdir -p $$(dir $$@)
	$$(Q)$$(CC) $$(KCFLAGS) $(3) -MMD -MP -c $$< -o $$@
$$(BUILD)/$(2).elf: $$($(2)_OBJ) kernel/kernel.ld
	$$(call say,LD,$$@)
	$$(Q)$$(CC) $$(LDFLAGS) -T kernel/kernel.ld -o $$@ $$($(2)_OBJ)
$$(BUILD)/$(2).bin: $$(BUILD)/$(2).elf
	$$(Q)objcopy -O binary $$< $$@
-include $$($(2)_OBJ:.o=.d)
endef

# components that bring their own rules (idlc, the C library, servers, ...)
include $(sort $(wildcard mk/*.mk))

.DEFAULT_GOAL := all
.PHONY: fs-crash all run test bench modes gdb clean distclean setup lint fuzz fuzz-guests guest-images
all: $(BUILD)/kernel.bin $(SERVER_ELF)

setup:
	@tools/setup.sh

# The Linux guest's kernel and initramfs, in cache/linux/guest/ (about 70 MB
# to download once; later runs only check them).  `make run` boots them.
guest-images: setup
	@tools/guest-images.sh

# MANIFEST=, GUEST=, MEM=, GUEST_KERNEL=, GUEST_INITRD=, GUEST_CMDLINE=
# choose what boots (mk/run.mk, docs/running.md)
run: setup guest-images
	@$(MAKE) -s --no-print-directory all $(BOOT_MODULES) $(BERTH_DISK) $(RUN_CHECKER)
	@$(RUN_MODULES) > $(BUILD)/run-modules
	QEMU_MEM=$$(cat $(BUILD)/run-qemu-mem) QEMU_EXTRA="$(BERTH_DISK_QEMU) $(BERTH_NET_QEMU)" \
		tools/qemu.sh $(BUILD)/kernel.bin $$(cat $(BUILD)/run-modules)

gdb: setup guest-images
	@$(MAKE) -s --no-print-directory all $(BOOT_MODULES) $(BERTH_DISK) $(RUN_CHECKER)
	@$(RUN_MODULES) > $(BUILD)/run-modules
	QEMU_MEM=$$(cat $(BUILD)/run-qemu-mem) QEMU_EXTRA="$(BERTH_DISK_QEMU) $(BERTH_NET_QEMU)" \
		tools/gdb.sh $(BUILD)/kernel.elf $(BUILD)/kernel.bin $$(cat $(BUILD)/run-modules)

# the Linux guest's tests (tools/linux_guest_test.py, tests/linux/README.md);
# LINUX_BOOTS boots in a row there (issue 10 asks for ten)
LINUX_TESTS := shell boots poweroff reboot malformed shadow shadow-cached
# a snapshot restored in a second QEMU from the same disk (issue 16; its
# image is build/tests/data/linux-snapshot.img, made for tests/system/linux_snapshot.c)
LINUX_TESTS += snapshot-reboot
# live migration between two QEMUs joined on 127.0.0.1, and two that fail
# on the way (issue 16, docs/lifecycle.md)
LINUX_TESTS += migrate
LINUX_BOOTS ?= 10
# QEMU killed during a file-system workload this many times (make fs-crash: many)
FS_CRASH_POINTS ?= 4
# make test TESTS="tests/system/vm.c tests/unit/test_vfw.c ...": only those
# (built as for the whole run, so it works from a clean tree too).  The
# benchmark programs are built too, so that one that no longer compiles
# fails here, not only in make bench
test: setup guest-images
	@$(MAKE) -s --no-print-directory all $(BUILD)/kernel-check.bin $(SYSTEST_ELF) $(PROG_ELF) $(UNIT_BIN) $(EXTRA_UNIT_BIN) $(GUEST_BIN) \
		$(GUEST_PROG_BIN) $(FS_TEST_IMAGE) $(VM_FILES_IMAGE) $(FS_DAMAGED_IMAGES) $(HTTP_TEST_IMAGE) \
		$(GUEST_DISK_TEST_IMAGES) $(VIRTIO_HOSTILE_IMAGE) $(SNAPSHOT_TEST_IMAGE) $(BENCH_ELF) $(BENCH_EXTRA)
ifeq ($(TESTS),)
	@$(PYTHON) tools/runtests.py --build $(BUILD) --unit $(UNIT_BIN) $(EXTRA_UNIT_BIN) --system $(SYSTEST_SRC) \
		--guests $(GUEST_SRC) --linux $(LINUX_TESTS) --linux-boots $(LINUX_BOOTS) --fs-crash $(FS_CRASH_POINTS)
else
	@$(PYTHON) tools/runtests.py --build $(BUILD) --unit $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(filter \
		tests/unit/%.c,$(TESTS))) --system $(filter tests/system/%.c,$(TESTS)) --guests $(filter tests/guests/%.c,$(TESTS))
endif

# the long run of the kernel fuzzer (docs/reliability.md); FUZZ_SEEDS,
# FUZZ_CALLS, FUZZ_SELFCHECK as in tools/fuzz.sh
fuzz: setup
	@$(MAKE) -s --no-print-directory $(BUILD)/kernel-check.bin $(BUILD)/tests/system/fuzz.elf
	tools/fuzz.sh

# many crash points on the file system (docs/fs.md): FS_CRASH_POINTS=N to change
fs-crash: setup
	@$(MAKE) -s --no-print-directory all $(PROG_ELF)
	$(PYTHON) tools/fs_crash_test.py --build $(BUILD) --points $${FS_CRASH_POINTS:-40}

# the hostile-guest fuzzer's long mode (docs/reliability.md): FUZZ_SECS of it
FUZZ_SECS ?= 900
fuzz-guests: setup
	@$(MAKE) -s --no-print-directory all $(BUILD)/tests/system/guest_fuzz.elf $(GUEST_PROG_BIN)
	tools/fuzz-guests.sh $(FUZZ_SECS)

# the IDL fuzzer's long mode (docs/reliability.md, "The IDL fuzzer"): FUZZ_SECS
# of rounds over every interface; FUZZ_SEED (default: the time) replays a run
.PHONY: fuzz-idl faults
fuzz-idl: setup
	@$(MAKE) -s --no-print-directory all $(BUILD)/kernel-check.bin $(BUILD)/tests/system/idl_fuzz.elf \
		$(PROG_ELF) $(FS_TEST_IMAGE) $(GUEST_PROG_BIN)
	tools/fuzz-idl.sh $(FUZZ_SECS) $(FUZZ_SEED)

# the fault-injection campaign's long mode (docs/reliability.md, "Fault
# injection"): FAULTS_COUNT injections per server target from FAULTS_SEED,
# then FAULTS_LINUX_COUNT into the VMM of a running Linux guest (a boot of
# its own: every failure costs a guest boot), in chunks of FAULTS_CHUNK
# per target, one boot each (tools/faults_long.sh).  The chunks' logs are
# kept in FAULTS_DIR: the same command run again goes on from the first
# chunk not finished.  The figures replace the table in
# docs/reliability.md and the chart docs/figures/faults.png.  The long
# run the issue asks for is the default: some 30 hours of QEMU.
FAULTS_COUNT ?= 10000
FAULTS_LINUX_COUNT ?= $(FAULTS_COUNT)
FAULTS_SEED ?= 1
FAULTS_CHUNK ?= 200
FAULTS_DIR ?= $(BUILD)/faults-long-s$(FAULTS_SEED)
.PHONY: faults-inject
faults-inject: setup guest-images
	@$(MAKE) -s --no-print-directory all $(BUILD)/kernel-check.bin $(BUILD)/tests/system/faultinj.elf \
		$(FS_TEST_IMAGE) $(GUEST_PROG_BIN)
	@st=0; BUILD=$(BUILD) tools/faults_long.sh $(FAULTS_DIR) $(FAULTS_COUNT) $(FAULTS_SEED) $(FAULTS_CHUNK) servers || st=1; \
	BUILD=$(BUILD) tools/faults_long.sh $(FAULTS_DIR) $(FAULTS_LINUX_COUNT) $(FAULTS_SEED) $(FAULTS_CHUNK) linux || st=1; \
	$(PYTHON) tools/faults_report.py --dir $(FAULTS_DIR) \
		--docs docs/reliability.md --png docs/figures/faults.png >/dev/null || st=1; exit $$st

# issue 17's campaign: the fault injection into servers, then the long
# modes of the three fuzzers one after the other (FUZZ_SECS each for the
# two timed ones).  Fails if any of them failed.
faults: setup
	@echo "faults: the fault-injection campaign (make faults-inject), then the long runs of make fuzz, make fuzz-guests and make fuzz-idl"
	@st=0; \
	$(MAKE) --no-print-directory faults-inject || st=1; \
	$(MAKE) --no-print-directory fuzz || st=1; \
	$(MAKE) --no-print-directory fuzz-guests || st=1; \
	$(MAKE) --no-print-directory fuzz-idl || st=1; \
	if [ $$st -eq 0 ]; then echo "faults: the campaign and every fuzzer passed"; \
	else echo "faults: something FAILED (see its output above)"; fi; exit $$st

bench: setup
	@$(MAKE) -s --no-print-directory all $(BENCH_ELF) $(BENCH_EXTRA)
	tools/bench/run.sh

# the teaching guest under every mode of the VMM, one table (docs/teaching.md,
# "The modes side by side"; the chart goes to build/bench/teach_modes.png)
modes: setup
	@$(MAKE) -s --no-print-directory all
	@$(PYTHON) tools/bench/teach_modes.py --build $(BUILD) --out $(BUILD)/bench/teach_modes.txt \
		--png $(BUILD)/bench/teach_modes.png

clean:
	rm -rf build $(foreach l,newlib picolibc,build-$(l))

# also the downloaded Debian packages (the Linux kernel, busybox)
distclean: clean
	rm -rf cache

# Static analysis of the kernel.  unusedStructMember is off because many
# structs mirror layouts the hardware or the boot loader define; clang-tidy
# gets no -mgeneral-regs-only and one file per run: otherwise its va_list
# model misfires on printk.c.
KERNEL_C := $(filter %.c,$(KERNEL_SRC))
lint: setup
	cppcheck --quiet --error-exitcode=1 --enable=warning,style,performance,portability \
		--std=c11 --inline-suppr --suppress=missingIncludeSystem --suppress=unusedStructMember \
		-Iinclude -Ikernel -Ikernel/arch/x86_64 kernel
	@# -header-filter: the kernel's own headers are checked too, not counted
	@# as "warnings generated" in "non-user code" and hidden
	@for f in $(KERNEL_C) selfcheck; do \
		if [ $$f = selfcheck ]; then f=kernel/selfcheck.c; extra=-DBERTH_SELFCHECK; else extra=; fi; \
		clang-tidy --quiet -header-filter='^(kernel|include)/' $$f -- -std=gnu11 -ffreestanding -mno-red-zone \
			$$extra -Iinclude -Ikernel -Ikernel/arch/x86_64 || exit 1; \
	done
	@echo "lint: cppcheck and clang-tidy are quiet on the kernel"

# --- kernel ---------------------------------------------------------------
$(BUILD)/kernel/%.c.o: kernel/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/kernel/%.S.o: kernel/%.S
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/kernel.elf: $(KERNEL_OBJ) kernel/kernel.ld
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -T kernel/kernel.ld -o $@ $(KERNEL_OBJ)

# QEMU's multiboot loader takes the flat image at the header's addresses.
$(BUILD)/kernel.bin: $(BUILD)/kernel.elf
	$(call say,OBJCOPY,$@)
	$(Q)objcopy -O binary $< $@

# --- user space -----------------------------------------------------------
$(BUILD)/libipc/%.o: libipc/%
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(UCFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/libipc.a: $(LIBIPC_OBJ)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# keep intermediate objects (pattern chains would delete them)
.SECONDARY:

$(BUILD)/tests/system/%.c.o: tests/system/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(UCFLAGS) $(TEST_CFLAGS) $(IDL_INC) -Iservers/lib -Itests/system/lib -MMD -MP -c $< -o $@
# svm_state puts a guest's breakpoint on a host kernel function: its address
$(BUILD)/tests/system/svm_state.c.o: $(BUILD)/kernel.elf
$(BUILD)/tests/system/svm_state.c.o: TEST_CFLAGS = -DHOST_KERNEL_EXIT=0x$$(nm $(BUILD)/kernel.elf | awk '$$3 == "kernel_exit" { print $$1 }')UL
$(BUILD)/tests/system/%.elf: $(BUILD)/tests/system/%.c.o $(SYSTEST_LIB) $(BUILD)/libipc.a libipc/user.ld
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -T libipc/user.ld -o $@ $(BUILD)/libipc/crt0.S.o $< $(SYSTEST_LIB) $(BUILD)/libipc.a $(USER_LIBS)

$(BUILD)/tests/bench/%.c.o: tests/bench/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(UCFLAGS) $(IDL_INC) -Iservers/lib -MMD -MP -c $< -o $@
# (SERVERLIB_OBJ and the stubs: mk/servers.mk, included above)
BENCH_LIB = $(SERVERLIB_OBJ) $(foreach o,$(SERVERLIB_STUBS),$(BUILD)/idl/$(o).o)
$(BUILD)/tests/bench/%.elf: $(BUILD)/tests/bench/%.c.o $(BENCH_LIB) $(BUILD)/libipc.a libipc/user.ld
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -T libipc/user.ld -o $@ $(BUILD)/libipc/crt0.S.o $< $(BENCH_LIB) $(BUILD)/libipc.a $(USER_LIBS)

# --- host unit tests (kernel logic compiled for the host) -----------------
$(BUILD)/tests/unit/%: tests/unit/%.c tests/unit/unit.h $(wildcard kernel/*.c kernel/*.h servers/init/*.[ch] servers/vmm/*.[ch] servers/fs/*.[ch] servers/httpd/*.[ch] servers/net/vswitch.[ch] servers/net/vfw.[ch] tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(call say,HOSTCC,$<)
	$(Q)$(HOSTCC) -std=gnu11 -O1 -g $(WARN) -fsanitize=address,undefined -fno-sanitize-recover=all -Iinclude -Ikernel \
		-Ikernel/arch/x86_64 -o $@ $< $(shell sed -n 's|^// unit-under-test: ||p' $<)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
# The .d files are the compiler's side products (-MMD): nothing remakes
# them (without this make searches its implicit rules for each one, and
# lwIP's pattern rule then reports a missing source ip.d.c)
$(BUILD)/%.d: ;
