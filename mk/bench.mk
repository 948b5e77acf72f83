# make bench: a second kernel, for benchmarks only, that answers CPUID
# exits itself (vmexit_cpuid_inkernel in docs/benchmarks.md).
KBENCH_OBJ := $(patsubst %,$(BUILD)/kbench/%.o,$(KERNEL_SRC))
$(BUILD)/kbench/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$< [bench])
	$(Q)$(CC) $(KCFLAGS) -DBERTH_BENCH_INKERNEL_CPUID -MMD -MP -c $< -o $@
$(BUILD)/kbench/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/kernel-inkernel-cpuid.elf: $(KBENCH_OBJ) kernel/kernel.ld
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -Wl,--no-warn-rwx-segments -T kernel/kernel.ld -o $@ $(KBENCH_OBJ)
$(BUILD)/kernel-inkernel-cpuid.bin: $(BUILD)/kernel-inkernel-cpuid.elf
	$(Q)objcopy -O binary $< $@
BENCH_EXTRA := $(BUILD)/kernel-inkernel-cpuid.bin $(BUILD)/tests/guests/progs/bench.bin $(BUILD)/vmm.elf $(BUILD)/serial.elf
-include $(KBENCH_OBJ:.o=.d)
