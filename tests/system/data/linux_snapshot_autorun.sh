#!/bin/sh
# The Linux guest's part of tests/system/linux_snapshot.c: run by its
# /init from its own disk.  A process keeps 8 MiB of random bytes in a
# tmpfs and a round counter in its own memory; every second it checks
# the bytes against their checksum and says which round it is.  Saved,
# stopped and restored as another VM, it must go on with the next round
# and the same bytes.
mkdir -p /tmp/m
mount -t tmpfs -o size=16m tmpfs /tmp/m
dd if=/dev/urandom of=/tmp/m/data bs=1M count=8 2>/dev/null
want=$(md5sum /tmp/m/data | cut -d' ' -f1)
echo "linux-snapshot: ready"
n=0
while true; do
	got=$(md5sum /tmp/m/data | cut -d' ' -f1)
	if [ "$got" = "$want" ]; then
		echo "linux-snapshot: round $n ok"
	else
		echo "linux-snapshot: round $n BAD ($got, not $want)"
	fi
	n=$((n + 1))
	sleep 1
done
