# The user-level servers.  Each is a directory of C files plus the
# generated code of the interfaces it serves (_server.o) and calls
# (_client.o); see idl/ and docs/idl.md.
#   $(call server,NAME,SOURCE DIR,IDL OBJECTS)
# servers/lib's code comes with every server, and the stubs it calls
# (the console's, fs's, socket's, init's name service).

# shared code that needs generated stubs (servers/lib)
SERVERLIB_OBJ := $(patsubst %,$(BUILD)/%.o,$(wildcard servers/lib/*.c))
SERVERLIB_STUBS := console_client fs_client socket_client init_client

define server
$(1)_SRC := $$(wildcard $(2)/*.c)
$(1)_OBJ := $$(patsubst %,$(BUILD)/%.o,$$($(1)_SRC)) $(SERVERLIB_OBJ) \
	$(foreach o,$(filter-out $(3),$(SERVERLIB_STUBS)),$(BUILD)/idl/$(o).o)
$(BUILD)/$(1).elf: $$($(1)_OBJ) $(foreach o,$(3),$(BUILD)/idl/$(o).o) $(BUILD)/libipc.a libipc/user.ld
	$$(call say,LD,$$@)
	$$(Q)$$(CC) $$(LDFLAGS) -T libipc/user.ld -o $$@ $(BUILD)/libipc/crt0.S.o $$($(1)_OBJ) \
		$(foreach o,$(3),$(BUILD)/idl/$(o).o) $(BUILD)/libipc.a $$(USER_LIBS)
SERVER_ELF += $(BUILD)/$(1).elf
$(BUILD)/$(1).elf: $(LIBC_STAMP)
$$($(1)_OBJ) $(foreach o,$(3),$(BUILD)/idl/$(o).o): | $(LIBC_STAMP)
endef

$(BUILD)/servers/%.c.o: servers/%.c $(foreach i,$(wildcard idl/*.idl),$(BUILD)/idl/$(basename $(notdir $(i))).h)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(UCFLAGS) $(IDL_INC) -Iservers/lib -MMD -MP -c $< -o $@

$(eval $(call server,init,servers/init,init_server))
$(eval $(call server,serial,servers/drivers/serial,console_server init_client))
$(eval $(call server,shell,servers/shell,init_client vmm_client pci_client vswitch_client))
$(eval $(call server,rtc,servers/drivers/rtc,clock_server init_client))
$(eval $(call server,vmm,servers/vmm,init_client clock_client vmm_server vmm_client vswitch_client))
$(eval $(call server,fs,servers/fs,fs_server init_client clock_client block_client))

# the network server (servers/net): lwIP inside, its headers and port
# layer on the include path of its own files only (mk/lwip.mk)
$(eval $(call server,net,servers/net,socket_server init_client netif_client vswitch_server))
net_OBJ += $(BUILD)/lwip/liblwip.a
$(BUILD)/net.elf: $(BUILD)/lwip/liblwip.a
$(BUILD)/servers/net/%.c.o: UCFLAGS += $(LWIP_INC)
$(patsubst %,$(BUILD)/%.o,$(wildcard servers/net/*.c)): | $(LWIP_STAMP)
# test programs use the sockets library (servers/lib) too
SYSTEST_LIB += $(BUILD)/idl/socket_client.o

# what make run boots: init first, then its manifest and the servers it names
LINUX_GUEST = cache/linux/guest/bzImage cache/linux/guest/initramfs.cpio.gz
# (the Linux guest's kernel and initrd are files on Berth's disk, BERTH_DISK)
BOOT_MODULES = $(BUILD)/init.elf servers/init/boot.manifest $(BUILD)/serial.elf $(BUILD)/shell.elf $(BUILD)/rtc.elf \
	$(BUILD)/pci.elf $(BUILD)/virtio_blk.elf $(BUILD)/fs.elf $(BUILD)/vmm.elf $(BUILD)/virtio_net.elf \
	$(BUILD)/net.elf $(BUILD)/httpd.elf

# System tests call the services through the generated stubs; the test
# servers in tests/system/progs serve test interfaces.
TEST_IDL_OBJ := $(foreach i,init console kv clock vmm fs pci block netif vswitch,$(BUILD)/idl/$(i)_client.o) $(BUILD)/idl/kv_server.o
SYSTEST_LIB += $(TEST_IDL_OBJ) $(SERVERLIB_OBJ)
$(patsubst %,$(BUILD)/%.o,$(SYSTEST_SRC) $(PROG_SRC)) $(SYSTEST_LIB): | \
	$(foreach i,$(wildcard idl/*.idl),$(BUILD)/idl/$(basename $(notdir $(i))).h)
# init-rooted system tests boot these too
$(SYSTEST_ELF): | $(SERVER_ELF) $(PROG_ELF)

# the drivers' shared helpers (servers/drivers/lib): pure code, unit-tested
$(BUILD)/tests/unit/test_virtq: servers/drivers/lib/virtq.c servers/drivers/lib/virtq.h
# the shell's line editor and the console's screen: pure code, unit-tested
$(BUILD)/tests/unit/test_lineedit: servers/shell/lineedit.c servers/shell/lineedit.h
$(BUILD)/tests/unit/test_screen: servers/drivers/serial/screen.c servers/drivers/serial/screen.h
# the web server (servers/httpd): files of the fs server over the network server
$(eval $(call server,httpd,servers/httpd,init_client))
$(eval $(call server,pci,servers/drivers/pci,pci_server init_client))
$(eval $(call server,virtio_blk,servers/drivers/virtio_blk,block_server pci_client init_client))
# the virtio drivers link the shared virtqueue and PCI transport code too
VIRTIO_LIB_OBJ := $(BUILD)/servers/drivers/lib/virtq.c.o $(BUILD)/servers/drivers/lib/virtio_pci.c.o
virtio_blk_OBJ += $(VIRTIO_LIB_OBJ)
$(BUILD)/virtio_blk.elf: $(VIRTIO_LIB_OBJ)
$(eval $(call server,virtio_net,servers/drivers/virtio_net,netif_server pci_client init_client))
virtio_net_OBJ += $(VIRTIO_LIB_OBJ)
$(BUILD)/virtio_net.elf: $(VIRTIO_LIB_OBJ)
$(BUILD)/tests/unit/test_net_slots: servers/drivers/virtio_net/slots.c servers/drivers/virtio_net/slots.h
# the shell's word splitter (servers/shell/words.c): pure code, unit-tested
$(BUILD)/tests/unit/test_shell_words: servers/shell/words.c servers/shell/words.h
