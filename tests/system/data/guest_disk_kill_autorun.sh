#!/bin/sh
# The Linux guest's part of tests/system/guest_disk_kill.c (run by its
# /init from its own disk).  It writes and fsyncs one file, then writes
# and fsyncs a file per round for a minute while Berth's test kills the
# block driver and then the fs server under it.  A round whose fsync
# succeeded must survive everything (the last one of each of 64 files is
# checked); one whose fsync failed is the guest being told (ext4 then
# aborts its journal and writes no more, so the loop ends).  At the end every round reported as synced is read back from
# the device (caches dropped) and compared.
echo "guest-disk: writing"
mkdir -p /mnt/berth
echo "fsynced before anything was killed" > /tmp/durable
dd if=/tmp/durable of=/mnt/berth/durable.txt conv=fsync 2>/dev/null && echo "guest-disk: durable synced"
# 64 files written in turn (a round's file replaces the one 64 rounds
# before), so that the disk never fills however fast the rounds go;
# /tmp/lastK says which round file K last holds, once its fsync succeeded
i=0
while [ "$(cut -d. -f1 /proc/uptime)" -lt 75 ]; do
	i=$((i + 1))
	k=$((i % 64))
	rm -f /tmp/last$k
	printf '%65535d\n' $i > /tmp/round
	if dd if=/tmp/round of=/mnt/berth/round$k bs=65536 conv=fsync 2>/dev/null; then
		echo $i > /tmp/last$k
		echo "guest-disk: round $i synced"
	else
		# the disk said it lost acknowledged writes: ext4 stops writing
		echo "guest-disk: round $i failed"
		break
	fi
done
echo 3 > /proc/sys/vm/drop_caches
bad=0
n=0
for f in /tmp/last*; do
	[ -f "$f" ] || continue
	r=$(cat "$f")
	k=${f#/tmp/last}
	printf '%65535d\n' "$r" > /tmp/round
	cmp -s /tmp/round /mnt/berth/round$k || { echo "guest-disk: round $r LOST"; bad=1; }
	n=$((n + 1))
done
cmp -s /tmp/durable /mnt/berth/durable.txt || { echo "guest-disk: durable.txt LOST"; bad=1; }
[ $bad = 0 ] && [ "$n" -gt 0 ] && echo "guest-disk: all $n synced rounds still on disk and durable.txt intact"
cd /
umount /mnt && echo "guest-disk: unmounted"
poweroff -f
