#!/bin/sh
# Linux's side of the snapshot benchmark (tools/bench/snapshot_linux.py),
# run by the guest's /init from its own disk under bare QEMU: the work
# closest to a 128 MiB snapshot and its restore, done by Linux itself on
# its own disk.  dd writes a 128 MiB file in 1 MiB blocks and fsyncs it;
# the page cache is dropped and dd reads it back.  Each timed by the
# guest's clock, which under -icount shift=0 counts one nanosecond per
# instruction (/proc/uptime: 10 ms resolution).
now() { cut -d' ' -f1 /proc/uptime; }
figure() { # name t0 t1: elapsed in ns
	echo "$2 $3" | awk -v n="$1" '{ printf "SNAPDD name=%s ns=%.0f\n", n, ($2 - $1) * 1e9 }'
}
t0=$(now)
dd if=/dev/zero of=/mnt/snap.bin bs=1M count=128 conv=fsync 2>/dev/null
t1=$(now)
figure write_128m "$t0" "$t1"
sync
echo 3 >/proc/sys/vm/drop_caches
t0=$(now)
dd if=/mnt/snap.bin of=/dev/null bs=1M 2>/dev/null
t1=$(now)
figure read_128m "$t0" "$t1"
rm -f /mnt/snap.bin
cd /
umount /mnt
echo "SNAPDD done"
poweroff -f
