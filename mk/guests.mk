# Test guests (tests/guests): freestanding 64-bit programs the VMM runs,
# linked at 0x100000 and flattened to a binary image.
GUEST_SRC := $(wildcard tests/guests/*.c)
GUEST_BIN := $(patsubst tests/guests/%.c,$(BUILD)/tests/guests/%.bin,$(GUEST_SRC))
# guests that system tests boot, not tests themselves
GUEST_PROG_BIN := $(patsubst tests/guests/progs/%.c,$(BUILD)/tests/guests/progs/%.bin,$(wildcard tests/guests/progs/*.c))
GUEST_LIB := $(BUILD)/tests/guests/lib/start.o $(BUILD)/tests/guests/lib/guest.o
GCFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	-fno-asynchronous-unwind-tables -mno-red-zone -mgeneral-regs-only -mcmodel=small \
	$(WARN) -Itests/guests/lib

$(BUILD)/tests/guests/lib/%.o: tests/guests/lib/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(GCFLAGS) -c $< -o $@
$(BUILD)/tests/guests/lib/%.o: tests/guests/lib/%.S
	@mkdir -p $(dir $@)
	$(call say,AS,$<)
	$(Q)$(CC) $(GCFLAGS) -c $< -o $@
# paravirtualized guests (pv_*.c) for mode=pv: pv_abi.h, and no runtime
# of the others' (whose console is port I/O a pv guest may not do)
$(BUILD)/tests/guests/progs/pv_%.o: tests/guests/progs/pv_%.c servers/vmm/pv_abi.h
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(GCFLAGS) -Iservers/vmm -c $< -o $@
$(BUILD)/tests/guests/progs/pv_%.elf: $(BUILD)/tests/guests/progs/pv_%.o tests/guests/lib/guest.ld
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -T tests/guests/lib/guest.ld -o $@ $<
$(BUILD)/tests/guests/progs/%.o: tests/guests/progs/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(GCFLAGS) -c $< -o $@
$(BUILD)/tests/guests/%.o: tests/guests/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(GCFLAGS) -c $< -o $@
$(BUILD)/tests/guests/%.elf: $(BUILD)/tests/guests/%.o $(GUEST_LIB) tests/guests/lib/guest.ld
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -T tests/guests/lib/guest.ld -o $@ $(GUEST_LIB) $<
$(BUILD)/tests/guests/%.bin: $(BUILD)/tests/guests/%.elf
	$(Q)objcopy -O binary $< $@
.PRECIOUS: $(BUILD)/tests/guests/progs/pv_%.o $(BUILD)/tests/guests/progs/pv_%.elf $(BUILD)/tests/guests/%.o $(BUILD)/tests/guests/%.elf $(BUILD)/tests/guests/lib/%.o $(BUILD)/tests/guests/progs/%.o $(BUILD)/tests/guests/progs/%.elf
