# The teaching guest (guests/teach): a small kernel the VMM runs in every
# mode, flattened to build/guests/teach/teach.bin and loaded like the test
# guests at guest-physical 0x100000.  The same sources built with
# -DTEACH_PV (and pv.c, which only that build has) are teach_pv.bin, the
# paravirtualized guest of mode=pv; servers/vmm/pv_abi.h is its interface.
TEACH_SRC := $(filter-out guests/teach/pv.c,$(wildcard guests/teach/*.c guests/teach/*.S))
TEACH_OBJ := $(patsubst %,$(BUILD)/%.o,$(TEACH_SRC))
TEACH_BIN := $(BUILD)/guests/teach/teach.bin
TEACH_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-builtin -fno-pic -fno-pie -fno-stack-protector \
	-fno-asynchronous-unwind-tables -mno-red-zone -mgeneral-regs-only -mcmodel=small $(WARN)

$(BUILD)/guests/teach/%.c.o: guests/teach/%.c guests/teach/teach.h
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(TEACH_CFLAGS) -c $< -o $@
$(BUILD)/guests/teach/%.S.o: guests/teach/%.S
	@mkdir -p $(dir $@)
	$(call say,AS,$<)
	$(Q)$(CC) $(TEACH_CFLAGS) -c $< -o $@
$(BUILD)/guests/teach/teach.elf: $(TEACH_OBJ) guests/teach/teach.ld
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -T guests/teach/teach.ld -o $@ $(TEACH_OBJ)
$(TEACH_BIN): $(BUILD)/guests/teach/teach.elf
	$(Q)objcopy -O binary $< $@

# the pv build: its objects apart, in build/guests/teach/pv/
TEACH_PV_SRC := $(wildcard guests/teach/*.c guests/teach/*.S)
TEACH_PV_OBJ := $(patsubst guests/teach/%,$(BUILD)/guests/teach/pv/%.o,$(TEACH_PV_SRC))
TEACH_PV_BIN := $(BUILD)/guests/teach/teach_pv.bin
TEACH_PV_CFLAGS := $(TEACH_CFLAGS) -DTEACH_PV -Iservers/vmm

$(BUILD)/guests/teach/pv/%.c.o: guests/teach/%.c guests/teach/teach.h servers/vmm/pv_abi.h
	@mkdir -p $(dir $@)
	$(call say,CC-PV,$<)
	$(Q)$(CC) $(TEACH_PV_CFLAGS) -c $< -o $@
$(BUILD)/guests/teach/pv/%.S.o: guests/teach/%.S servers/vmm/pv_abi.h
	@mkdir -p $(dir $@)
	$(call say,AS-PV,$<)
	$(Q)$(CC) $(TEACH_PV_CFLAGS) -c $< -o $@
$(BUILD)/guests/teach/teach_pv.elf: $(TEACH_PV_OBJ) guests/teach/teach.ld
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -T guests/teach/teach.ld -o $@ $(TEACH_PV_OBJ)
$(TEACH_PV_BIN): $(BUILD)/guests/teach/teach_pv.elf
	$(Q)objcopy -O binary $< $@

all: $(TEACH_BIN) $(TEACH_PV_BIN)
