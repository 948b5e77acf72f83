#!/bin/sh
# The guest's part of the guest-I/O benchmark (tools/bench/guest-io-bench.sh),
# the same under Berth and under bare QEMU: run by the Linux guest's /init
# from its own disk.  Sequential reads of the raw disk and sequential
# writes of a file, both with O_DIRECT (the guest's page cache out of the
# way) and 1 MiB requests from dd; each timed by the guest's clock, which
# under -icount shift=0 counts one nanosecond per instruction.  Port 0x519
# marks bracket each piece of work: Berth's VMM reports the counters at
# those marks when the VM stops (bare QEMU ignores the port).
mark() { printf "\\00$1" | dd of=/dev/port bs=1 seek=$((0x519)) 2>/dev/null; }
now() { cut -d' ' -f1 /proc/uptime; }
figure() { # name t0 t1: elapsed in ns, from two /proc/uptime readings (1/100 s)
	echo "$2 $3" | awk -v n="$1" '{ printf "GUESTIO name=%s ns=%.0f\n", n, ($2 - $1) * 1e9 }'
}
dd if=/dev/vda of=/dev/null bs=1M count=4 iflag=direct 2>/dev/null   # warm up the path
t0=$(now); mark 1
dd if=/dev/vda of=/dev/null bs=1M count=32 iflag=direct 2>/dev/null
mark 2; t1=$(now)
figure disk_read_32m "$t0" "$t1"
t0=$(now); mark 3
dd if=/dev/zero of=/mnt/bench.bin bs=1M count=16 oflag=direct conv=fsync 2>/dev/null
mark 4; t1=$(now)
figure disk_write_16m "$t0" "$t1"
rm -f /mnt/bench.bin
cd /
umount /mnt
echo "GUESTIO done"
poweroff -f
