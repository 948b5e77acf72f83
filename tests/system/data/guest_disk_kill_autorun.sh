#!/bin/sh
# The Linux guest's part of tests/system/guest_disk_kill.c (run by its
# /init from its own disk).  It writes and fsyncs one file, then writes
# and fsyncs a file per round for a minute while Berth's test kills the
# block driver and then the fs server under it.  A round whose fsync
# succeeded must survive everything; one whose fsync failed is the guest
# being told (ext4 then aborts its journal and writes no more, so the loop
# ends).  At the end every round reported as synced is read back from
# the device (caches dropped) and compared.
echo "guest-disk: writing"
mkdir -p /mnt/berth
echo "fsynced before anything was killed" > /tmp/durable
dd if=/tmp/durable of=/mnt/berth/durable.txt conv=fsync 2>/dev/null && echo "guest-disk: durable synced"
synced=""
i=0
while [ "$(cut -d. -f1 /proc/uptime)" -lt 75 ]; do
	i=$((i + 1))
	printf '%65535d\n' $i > /tmp/round
	if dd if=/tmp/round of=/mnt/berth/round$i bs=65536 conv=fsync 2>/dev/null; then
		synced="$synced $i"
		echo "guest-disk: round $i synced"
	else
		# the disk said it lost acknowledged writes: ext4 stops writing
		echo "guest-disk: round $i failed"
		break
	fi
done
echo 3 > /proc/sys/vm/drop_caches
bad=0
for i in $synced; do
	printf '%65535d\n' $i > /tmp/round
	cmp -s /tmp/round /mnt/berth/round$i || { echo "guest-disk: round $i LOST"; bad=1; }
done
cmp -s /tmp/durable /mnt/berth/durable.txt || { echo "guest-disk: durable.txt LOST"; bad=1; }
n=$(echo $synced | wc -w)
[ $bad = 0 ] && [ "$n" -gt 0 ] && echo "guest-disk: all $n synced rounds and durable.txt intact"
cd /
umount /mnt && echo "guest-disk: unmounted"
poweroff -f
