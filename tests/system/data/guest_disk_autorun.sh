#!/bin/sh
# The Linux guest's part of tests/system/guest_disk.c: run by its /init
# from its own disk (tools/mkguestdisk.sh put this file there as
# /autorun).  It writes files on that disk, flushes them, unmounts it and
# powers the VM off; the host then checks the guest's file system inside
# Berth's (runtests' test-disk-file-* lines).
set -e
echo "guest-disk: writing"
mkdir -p /mnt/berth
echo "written by Linux through Berth's VMM, fs server and block driver" > /mnt/berth/hello.txt
# 4 MiB with a known pattern: the host compares its checksum
i=0
while [ $i -lt 1024 ]; do
	printf '%4095d\n' $i
	i=$((i + 1))
done > /mnt/berth/pattern.bin
md5sum /mnt/berth/pattern.bin | sed 's/^/guest-disk: md5 /'
for d in 1 2 3 4 5 6 7 8; do
	mkdir -p /mnt/berth/dir$d
	echo "file in directory $d" > /mnt/berth/dir$d/file.txt
done
sync
echo "guest-disk: synced"
# read back what went to the device, not the page cache
echo 3 > /proc/sys/vm/drop_caches
md5sum /mnt/berth/pattern.bin | sed 's/^/guest-disk: md5 after drop /'
# the I/O APIC model under that load: no interrupt the guest's kernel
# counted as erroneous (ERR) or mis-routed (MIS), and the disk's line used
awk '/ERR|MIS/ { printf " %s%s", $1, $2 } END { print "" }' /proc/interrupts | sed 's/^/guest-disk: interrupts/'
grep -q virtio /proc/interrupts && echo "guest-disk: the disk's interrupts are counted"
cd /
umount /mnt
echo "guest-disk: unmounted"
poweroff -f
