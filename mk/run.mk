# make run's choices (docs/running.md): MANIFEST, GUEST, MEM, GUEST_KERNEL,
# GUEST_INITRD, GUEST_CMDLINE, read from the environment (make exports
# what is set on its command line) by tools/run/runconfig.py, which checks
# them, writes the manifest to boot into $(BUILD)/run/ and lists the boot
# modules.  It checks a manifest with init's own parser, built for the host:
RUN_CHECKER := $(BUILD)/tools/manifest-check
$(RUN_CHECKER): tools/run/manifest_check.c servers/init/manifest.c servers/init/manifest.h
	@mkdir -p $(dir $@)
	$(call say,HOSTCC,$@)
	$(Q)$(HOSTCC) -std=gnu11 -O1 -g $(WARN) -o $@ tools/run/manifest_check.c servers/init/manifest.c
# the modules to boot, one a line: the manifest's images and modules, the
# guest's kernel and initrd if GUEST_KERNEL and GUEST_INITRD are given
# (and the machine's memory, for QEMU's -m, in $(BUILD)/run-qemu-mem)
RUN_MODULES = $(PYTHON) tools/run/runconfig.py --checker $(RUN_CHECKER) --build $(BUILD) \
	--default-manifest servers/init/boot.manifest --out $(BUILD)/run --qemu-mem-out $(BUILD)/run-qemu-mem \
	-- $(BOOT_MODULES)
# its tests, run by make test with the unit tests
$(BUILD)/tests/unit/test_runconfig: tools/run/test_runconfig.py tools/run/runconfig.py $(RUN_CHECKER)
	@mkdir -p $(dir $@)
	$(Q)install -m 755 $< $@
EXTRA_UNIT_BIN += $(BUILD)/tests/unit/test_runconfig
