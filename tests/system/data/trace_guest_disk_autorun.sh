#!/bin/sh
# The Linux guest's part of tests/system/trace_guest_disk.c: once the
# shell traces its VMM, the fs server and the block driver, one read of a
# block that neither the guest's page cache nor the fs server's block
# cache holds, with O_DIRECT so that it reaches the device: the path a
# student watches in docs/trace.md.  The 2 MiB file pushes its first
# blocks out of the fs server's cache (256 blocks); noatime: the read
# writes nothing back.
mount -o remount,noatime /mnt
dd if=/dev/urandom of=/mnt/data.bin bs=65536 count=32 2>/dev/null
sync
echo 3 > /proc/sys/vm/drop_caches
echo "trace-guest: ready"
sleep 2
dd if=/mnt/data.bin of=/dev/null bs=4096 count=1 iflag=direct 2>/dev/null
echo "trace-guest: read"
sleep 1000
