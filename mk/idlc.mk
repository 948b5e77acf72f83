# idlc, the interface compiler (tools/idlc/), the stubs it generates from
# idl/*.idl, and its tests (tests/unit/idlc/).  See docs/idl.md.
#
# For an interface idl/NAME.idl this gives
#   $(BUILD)/idl/NAME.h                 include it with $(IDL_INC)
#   $(BUILD)/idl/NAME_client.o          link it into programs that call NAME
#   $(BUILD)/idl/NAME_server.o          link it into the program that serves NAME
# A program whose sources include NAME.h should depend on it (for example
# `$(MY_OBJ): | $(IDL_HEADERS)`), so a clean build generates it first.

# (the rules below must not become make's default goal)
IDLC_SAVED_GOAL := $(.DEFAULT_GOAL)

IDLC_SRC    := $(wildcard tools/idlc/*.c)
IDLC_HDR    := $(wildcard tools/idlc/*.h)
IDLC        := $(BUILD)/tools/idlc
IDL_INC     := -I$(BUILD)/idl
IDL_NAMES   := $(patsubst idl/%.idl,%,$(wildcard idl/*.idl))
IDL_HEADERS := $(patsubst %,$(BUILD)/idl/%.h,$(IDL_NAMES))

# the generated files stay in $(BUILD)/idl, to be read
.SECONDARY: $(foreach i,$(IDL_NAMES),$(BUILD)/idl/$(i).h $(BUILD)/idl/$(i)_client.c $(BUILD)/idl/$(i)_server.c)

$(IDLC): $(IDLC_SRC) $(IDLC_HDR)
	@mkdir -p $(dir $@)
	$(call say,HOSTCC,$@)
	$(Q)$(HOSTCC) -std=c11 -O2 -g $(WARN) -o $@ $(IDLC_SRC)

# One run of idlc writes all three files.
$(BUILD)/idl/%.h $(BUILD)/idl/%_client.c $(BUILD)/idl/%_server.c: idl/%.idl $(IDLC)
	@mkdir -p $(BUILD)/idl
	$(call say,IDLC,$<)
	$(Q)$(IDLC) $< -o $(BUILD)/idl

$(BUILD)/idl/%_client.o: $(BUILD)/idl/%_client.c $(BUILD)/idl/%.h
	$(call say,CC,$<)
	$(Q)$(CC) $(UCFLAGS) $(IDL_INC) -MMD -MP -c $< -o $@

$(BUILD)/idl/%_server.o: $(BUILD)/idl/%_server.c $(BUILD)/idl/%.h
	$(call say,CC,$<)
	$(Q)$(CC) $(UCFLAGS) $(IDL_INC) -MMD -MP -c $< -o $@

# --- tests -----------------------------------------------------------------
# test_idlc: the compiler (bad inputs under ASan/UBSan, a parser fuzz, the
# generated code of every good input compiled with the user flags).
# test_idl_rpc: the code generated from idl/test_types.idl, run on the host
# against a loopback ipc_call.  Both are host programs printing TAP.
IDLC_TEST      := $(BUILD)/tests/unit/idlc
IDLC_ASAN      := $(IDLC_TEST)/idlc-asan
IDLC_HOST_SAN  := -std=gnu11 -O1 -g $(WARN) -fsanitize=address,undefined -fno-omit-frame-pointer
IDLC_TEST_DEFS  = -DIDLC_TEST_SRCDIR='"$(CURDIR)"' -DIDLC_TEST_BUILD='"$(BUILD)"' \
		  -DIDLC_TEST_USER_CC='"$(CC) $(UCFLAGS)"'
IDL_TEST_GEN   := $(BUILD)/idl/test_types.h $(BUILD)/idl/test_types_client.c $(BUILD)/idl/test_types_server.c

$(IDLC_ASAN): $(IDLC_SRC) $(IDLC_HDR)
	@mkdir -p $(dir $@)
	$(call say,HOSTCC,$@)
	$(Q)$(HOSTCC) $(IDLC_HOST_SAN) -o $@ $(IDLC_SRC)

# the parser and generator are also linked in, for the in-process fuzz;
# the user-flag objects are built first so a compile error stops the build
$(IDLC_TEST)/test_idlc: tests/unit/idlc/test_idlc.c tests/unit/unit.h $(IDLC_SRC) $(IDLC_HDR) \
		$(IDLC_ASAN) $(IDLC) $(IDL_TEST_GEN) $(BUILD)/idl/test_types_client.o $(BUILD)/idl/test_types_server.o
	@mkdir -p $(dir $@)
	$(call say,HOSTCC,$<)
	$(Q)$(HOSTCC) $(IDLC_HOST_SAN) -Itests/unit -Itools/idlc $(IDLC_TEST_DEFS) -o $@ $< \
		$(filter-out tools/idlc/main.c,$(IDLC_SRC))

$(IDLC_TEST)/test_idl_rpc: tests/unit/idlc/test_idl_rpc.c tests/unit/unit.h $(IDL_TEST_GEN)
	@mkdir -p $(dir $@)
	$(call say,HOSTCC,$<)
	$(Q)$(HOSTCC) $(IDLC_HOST_SAN) -Itests/unit -Iinclude -Ilibipc/include $(IDL_INC) -o $@ $< \
		$(BUILD)/idl/test_types_client.c $(BUILD)/idl/test_types_server.c

EXTRA_UNIT_BIN += $(IDLC_TEST)/test_idlc $(IDLC_TEST)/test_idl_rpc

.DEFAULT_GOAL := $(IDLC_SAVED_GOAL)
