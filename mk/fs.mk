# Berth's disk for make run and make gdb: made on first use by the host's
# mke2fs -d (tools/mkdisk.sh: a README, /hello.txt and the Linux guest's
# /vm/vmlinuz, /vm/initrd.img and its own disk /vm/linux.img), then kept: what Berth writes there is
# still there next time.  rm it (or make clean) to start afresh.
BERTH_DISK := $(BUILD)/berth-disk.img
BERTH_DISK_QEMU := -drive if=none,id=disk0,format=raw,file=$(BERTH_DISK) \
	-device virtio-blk-pci,disable-legacy=on,drive=disk0,addr=4
# The network of make run: QEMU's user network, which lets nothing out
# (restrict=on); the host reaches Berth's web server at
# http://127.0.0.1:$(BERTH_HTTP_PORT)/ and nothing else.
BERTH_HTTP_PORT ?= 8080
BERTH_NET_QEMU := -netdev user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$(BERTH_HTTP_PORT)-:80 \
	-device virtio-net-pci,disable-legacy=on,netdev=n0,addr=5
$(BERTH_DISK): | cache/linux/guest/bzImage cache/linux/guest/initramfs.cpio.gz cache/linux/guest/disk.img
	@echo "disk: making Berth's disk $@ (64 MiB ext2, mke2fs -d)"
	$(Q)tools/mkdisk.sh $@ 64M

# The ext2 image the file-system tests read (tools/fs_test_image.py):
# made by the host's mke2fs -d from files with known contents.
FS_TEST_IMAGE := $(BUILD)/tests/data/files.img
$(FS_TEST_IMAGE): tools/fs_test_image.py
	@mkdir -p $(dir $@)
	$(call say,MKE2FS,$@)
	$(Q)$(PYTHON) tools/fs_test_image.py $@

# The web server's files (tests/system/httpd.c): 0 bytes to 16 MiB of
# known contents, a directory with an index and one without
HTTP_TEST_IMAGE := $(BUILD)/tests/data/www.img
$(HTTP_TEST_IMAGE): tools/http_test.py
	@mkdir -p $(dir $@)
	$(call say,MKE2FS,$@)
	$(Q)$(PYTHON) tools/http_test.py image $@

# A disk with the Linux guest's kernel and initrd, small enough to be a
# boot module (the RAM disk of tests/system/vm_files.c)
VM_FILES_IMAGE := $(BUILD)/tests/data/vm.img
$(VM_FILES_IMAGE): tools/mkdisk.sh cache/linux/guest/bzImage cache/linux/guest/initramfs.cpio.gz
	@mkdir -p $(dir $@)
	$(call say,MKE2FS,$@)
	$(Q)tools/mkdisk.sh $@ 12M none

# Damaged copies of it (tests/system/files_damaged.c)
FS_DAMAGED_IMAGES := $(BUILD)/tests/data/files-baddir.img $(BUILD)/tests/data/files-badmagic.img
$(FS_DAMAGED_IMAGES) &: $(FS_TEST_IMAGE) tools/fs_test_image.py
	$(call say,DAMAGE,$(FS_DAMAGED_IMAGES))
	$(Q)$(PYTHON) tools/fs_test_image.py --damage $(FS_TEST_IMAGE) $(FS_DAMAGED_IMAGES)

# The Linux guest's disk tests (tests/system/guest_disk*.c): Berth's disk
# with a guest disk whose /autorun drives the guest (writes files, syncs,
# powers off)
GUEST_DISK_TEST_IMAGES := $(BUILD)/tests/data/guest-disk.img $(BUILD)/tests/data/guest-disk-kill.img \
	$(BUILD)/tests/data/guest-disk-two.img $(BUILD)/tests/data/guest-net.img $(BUILD)/tests/data/guest-net-kill.img \
	$(BUILD)/tests/data/trace-guest-disk.img $(BUILD)/tests/data/linux-snapshot.img
GUEST_DISK_DEPS := tools/mkdisk.sh tools/mkguestdisk.sh cache/linux/guest/bzImage cache/linux/guest/initramfs.cpio.gz
define guest_disk_image
	@mkdir -p $(dir $@)
	$(call say,MKE2FS,$@)
	$(Q)tools/mkguestdisk.sh $@.guest 32M $<
	$(Q)tools/mkdisk.sh $@ 64M $@.guest
	$(Q)rm -f $@.guest
endef
$(BUILD)/tests/data/guest-disk.img: tests/system/data/guest_disk_autorun.sh $(GUEST_DISK_DEPS)
	$(guest_disk_image)
$(BUILD)/tests/data/guest-disk-kill.img: tests/system/data/guest_disk_kill_autorun.sh $(GUEST_DISK_DEPS)
	$(guest_disk_image)
$(BUILD)/tests/data/guest-net-kill.img: tests/system/data/guest_net_kill_autorun.sh $(GUEST_DISK_DEPS)
	$(guest_disk_image)
$(BUILD)/tests/data/trace-guest-disk.img: tests/system/data/trace_guest_disk_autorun.sh $(GUEST_DISK_DEPS)
	$(guest_disk_image)
# two guests' disks with the same /autorun (tests/system/guest_disk_two.c,
# guest_net.c)
define two_guest_disks_image
	@mkdir -p $(dir $@)
	$(call say,MKE2FS,$@)
	$(Q)tools/mkguestdisk.sh $@.guest 32M $<
	$(Q)tools/mkdisk.sh $@ 96M $@.guest $@.guest
	$(Q)rm -f $@.guest
endef
$(BUILD)/tests/data/guest-net.img: tests/system/data/guest_net_autorun.sh $(GUEST_DISK_DEPS)
	$(two_guest_disks_image)
$(BUILD)/tests/data/guest-disk-two.img: tests/system/data/guest_disk_kill_autorun.sh $(GUEST_DISK_DEPS)
	@mkdir -p $(dir $@)
	$(call say,MKE2FS,$@)
	$(Q)tools/mkguestdisk.sh $@.guest 32M $<
	$(Q)tools/mkdisk.sh $@ 96M $@.guest $@.guest
	$(Q)rm -f $@.guest

# tests/system/virtio_hostile.c: a RAM disk holding /disk.img, 128
# sectors in which every 8-byte word of sector n is n
VIRTIO_HOSTILE_IMAGE := $(BUILD)/tests/data/virtio-hostile.img
$(VIRTIO_HOSTILE_IMAGE): mk/fs.mk
	@mkdir -p $(dir $@)
	$(call say,MKE2FS,$@)
	$(Q)rm -rf $@.root && mkdir -p $@.root
	$(Q)$(PYTHON) -c "import struct, sys; sys.stdout.buffer.write(b''.join(struct.pack('<Q', n) * 64 for n in range(128)))" > $@.root/disk.img
	$(Q)/sbin/mke2fs -q -F -t ext2 -d $@.root $@ 2M >/dev/null
	$(Q)rm -rf $@.root

# tests/system/snapshot.c: an empty RAM disk with room for a few
# snapshots of a small VM
SNAPSHOT_TEST_IMAGE := $(BUILD)/tests/data/snapshot.img
$(SNAPSHOT_TEST_IMAGE): mk/fs.mk
	@mkdir -p $(dir $@)
	$(call say,MKE2FS,$@)
	$(Q)rm -f $@ && /sbin/mke2fs -q -F -t ext2 $@ 12M >/dev/null

# tests/system/linux_snapshot.c: a guest disk with its /autorun, and room
# on Berth's disk for a snapshot of the guest
$(BUILD)/tests/data/linux-snapshot.img: tests/system/data/linux_snapshot_autorun.sh $(GUEST_DISK_DEPS)
	@mkdir -p $(dir $@)
	$(call say,MKE2FS,$@)
	$(Q)tools/mkguestdisk.sh $@.guest 16M $<
	$(Q)tools/mkdisk.sh $@ 192M $@.guest
	$(Q)rm -f $@.guest
