# make bench: a second kernel, for benchmarks only, that answers CPUID
# exits itself (vmexit_cpuid_inkernel in docs/benchmarks.md).
$(eval $(call kernel_variant,kbench,kernel-inkernel-cpuid,-DBERTH_BENCH_INKERNEL_CPUID,bench))
BENCH_EXTRA := $(BUILD)/kernel-inkernel-cpuid.bin $(BUILD)/tests/guests/progs/bench.bin $(BUILD)/vmm.elf $(BUILD)/serial.elf
