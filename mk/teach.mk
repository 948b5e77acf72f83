# The teaching guest (guests/teach): a small kernel the VMM runs in every
# mode, flattened to build/guests/teach/teach.bin and loaded like the test
# guests at guest-physical 0x100000.
TEACH_SRC := $(wildcard guests/teach/*.c guests/teach/*.S)
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

all: $(TEACH_BIN)
