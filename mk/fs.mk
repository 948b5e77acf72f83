# The ext2 image the file-system tests read (tools/fs_test_image.py):
# made by the host's mke2fs -d from files with known contents.
FS_TEST_IMAGE := $(BUILD)/tests/data/files.img
$(FS_TEST_IMAGE): tools/fs_test_image.py
	@mkdir -p $(dir $@)
	$(call say,MKE2FS,$@)
	$(Q)$(PYTHON) tools/fs_test_image.py $@
