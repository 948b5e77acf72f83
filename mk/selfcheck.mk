# make test boots a third kernel: the same sources with the self-check
# built in (kernel/selfcheck.c, docs/kernel-objects.md).  make run and
# make bench use build/kernel.bin, which does not contain it.
KCHECK_OBJ := $(patsubst %,$(BUILD)/kcheck/%.o,$(KERNEL_SRC))
$(BUILD)/kcheck/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$< [selfcheck])
	$(Q)$(CC) $(KCFLAGS) -DBERTH_SELFCHECK -MMD -MP -c $< -o $@
$(BUILD)/kcheck/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(KCFLAGS) -DBERTH_SELFCHECK -MMD -MP -c $< -o $@
$(BUILD)/kernel-check.elf: $(KCHECK_OBJ) kernel/kernel.ld
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -Wl,--no-warn-rwx-segments -T kernel/kernel.ld -o $@ $(KCHECK_OBJ)
$(BUILD)/kernel-check.bin: $(BUILD)/kernel-check.elf
	$(Q)objcopy -O binary $< $@
-include $(KCHECK_OBJ:.o=.d)
