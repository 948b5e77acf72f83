#!/bin/bash
# The guest-network benchmark (issue 13): the same Linux guest (Debian's
# kernel and Berth's guest initramfs) serves TCP under Berth, where its
# virtio-net card is a port of the network server's switch and the host
# reaches it through QEMU's forward to Berth and Berth's forward to the
# guest, and under bare QEMU with QEMU's own virtio-net on the user
# network.  The guest runs a sink, a 16 MiB source and an httpd
# (tests/bench/guest_net_autorun.sh); tools/bench/net_measure.py measures
# them from the host through ports forwarded on 127.0.0.1.  Both under
# -accel tcg -cpu max and no -icount: QEMU's user network runs on the host
# in real time, so these are wall-clock figures.  Berth's VMM reports what
# each transfer cost in guest entries and IPC messages (port 0x519 marks).
# Prints BENCH lines on stdout, progress ("bench: ...") on stderr.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=build/bench
timeout=${BENCH_TIMEOUT:-900}
base=${GUEST_NET_BENCH_PORT:-18300}  # Berth's run: base..base+3, bare QEMU's: base+10..base+13
mib=16                               # net_measure.py's transfers
requests=400                         # and its HTTP requests per round
mkdir -p $out
say() { echo "bench: $*" >&2; }
fail() { echo "guest-net-bench: $*" >&2; exit 1; }
qemu=""
trap '[ -z "$qemu" ] || kill $qemu 2>/dev/null || true' EXIT

inner=$out/guest-net-disk.img
tools/mkguestdisk.sh $inner 32M tests/bench/guest_net_autorun.sh
tools/mkdisk.sh $out/guest-net-berth.img 128M $inner
cp $inner $out/guest-net-bare.img

# hostfwd P: QEMU's forwards from 127.0.0.1:P.. to the guest's (or, on
# Berth, Berth's) ports of the HTTP server, the sink, the source and "done"
hostfwd() {
	echo "hostfwd=tcp:127.0.0.1:$1-:8080,hostfwd=tcp:127.0.0.1:$(($1 + 1))-:5001,\
hostfwd=tcp:127.0.0.1:$(($1 + 2))-:5002,hostfwd=tcp:127.0.0.1:$(($1 + 3))-:5003"
}
# measure NAME P LOG: net_measure.py, then "done" to the guest, which
# powers off; fails with the log's end
measure() {
	python3 tools/bench/net_measure.py "$1" "$2" $(($2 + 1)) $(($2 + 2)) --wait 300 >"$out/guest-net-$1.txt" ||
		{ tail -n 30 "$3" >&2; fail "the measurement under $1 failed (log: $3)"; }
	python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10).close()' \
		$(($2 + 3)) || { tail -n 30 "$3" >&2; fail "cannot tell the guest under $1 it is done"; }
}
# wait_for LOG PATTERN PID: until PATTERN is in LOG, QEMU ends or the time is up
wait_for() {
	local n=0
	while [ $n -lt $((timeout * 2)) ] && kill -0 "$3" 2>/dev/null && ! grep -q "$2" "$1"; do
		sleep 0.5
		n=$((n + 1))
	done
}

say "a Linux guest's network under Berth (VMM, network server, virtio-net driver), wall clock"
log=$out/guest-net-berth.log
QEMU_EXTRA="-drive if=none,id=da,format=raw,file=$out/guest-net-berth.img \
-device virtio-blk-pci,disable-legacy=on,drive=da,addr=4 -netdev user,id=n0,restrict=on,$(hostfwd "$base") \
-device virtio-net-pci,disable-legacy=on,netdev=n0,addr=5" KERNEL_CMDLINE="" \
	timeout "$timeout" tools/qemu.sh --test build/kernel.bin build/init.elf tests/bench/guest_net.manifest \
	build/serial.elf build/rtc.elf build/pci.elf build/virtio_blk.elf build/virtio_net.elf build/fs.elf \
	build/net.elf build/vmm.elf cache/linux/guest/bzImage cache/linux/guest/initramfs.cpio.gz >$log 2>&1 &
qemu=$!
measure berth "$base" $log
# the VMM prints the marks when the guest has powered off; 5 is the last
wait_for $log "vmm: \[linux\] mark 5:" $qemu
kill $qemu 2>/dev/null || true
wait $qemu 2>/dev/null || true
qemu=""
grep -q "vmm: \[linux\] mark 5:" $log || { tail -n 30 $log >&2; fail "no marks from the Berth run (log: $log)"; }

say "the same guest under bare QEMU, QEMU's own virtio-net, wall clock"
bare=$out/guest-net-bare.log
timeout "$timeout" qemu-system-x86_64 -accel tcg -cpu max -m 112M -no-reboot -display none -vga none \
	-serial stdio -monitor none -nic none \
	-drive if=none,id=da,format=raw,file=$out/guest-net-bare.img -device virtio-blk-pci,disable-legacy=on,drive=da,addr=4 \
	-netdev "user,id=n0,restrict=on,$(hostfwd $((base + 10)))" -device virtio-net-pci,disable-legacy=on,netdev=n0,addr=5 \
	-kernel cache/linux/guest/bzImage -initrd cache/linux/guest/initramfs.cpio.gz \
	-append "console=ttyS0 panic=-1 berth.ip=10.0.2.15/24 berth.gw=10.0.2.2" </dev/null >$bare 2>&1 &
qemu=$!
measure qemu $((base + 10)) $bare
wait $qemu 2>/dev/null || true
qemu=""
grep -q "GUESTNET done" $bare || { tail -n 30 $bare >&2; fail "the bare QEMU run did not finish (log: $bare)"; }

# net_measure's PREFIX.tcp_rx_mibs -> guest_tcp_rx_mibs and qemu.guest_tcp_rx_mibs
sed 's/name=berth\./name=guest_/' $out/guest-net-berth.txt
sed 's/name=qemu\./name=qemu.guest_/' $out/guest-net-qemu.txt

# Berth's cost: the counters at the marks, in the order they were taken
marks=$(tr -d '\r' <$log | sed -n 's/.*vmm: \[linux\] mark \([0-9]*\): vm_entries=\([0-9]*\) ipc_messages=\([0-9]*\).*/\1 \2 \3/p')
# costs FIRST LAST: "entries messages" from each mark FIRST to the next
# mark matching LAST (a regular expression), one line per round
costs() {
	echo "$marks" | awk -v a="$1" -v b="^($2)$" '
		$1 == a { e = $2; m = $3; open = 1; next }
		$1 ~ b && open { print $2 - e, $3 - m; open = 0 }'
}
# per NAME FIRST LAST DIVISOR SCALE UNIT: NAME_vm_entries_... and
# NAME_ipc_messages_..., the median of the 3 rounds, times SCALE over DIVISOR
per() {
	costs "$2" "$3" | awk -v n="$1" -v d="$4" -v s="$5" -v u="$6" '
		function max(x, y) { return x > y ? x : y }
		function min(x, y) { return x < y ? x : y }
		function line(what, a,   med) {
			med = a[1] + a[2] + a[3] - max(max(a[1], a[2]), a[3]) - min(min(a[1], a[2]), a[3])
			printf "BENCH name=%s_%s value=%d unit=%s runs=%d,%d,%d\n", n, what, med, u, a[1], a[2], a[3]
		}
		{ e[NR] = int($1 * s / d + 0.5); m[NR] = int($2 * s / d + 0.5) }
		END {
			if (NR != 3) exit 1
			line("vm_entries_" (s == 1 ? "per_mib" : "per_request"), e)
			line("ipc_messages_" (s == 1 ? "per_mib" : "per_request"), m)
		}' || fail "not 3 rounds between marks $2 and $3 (log: $log)"
}
per guest_tcp_rx 1 2 $mib 1 per_MiB
per guest_tcp_tx 3 4 $mib 1 per_MiB
# a round's HTTP requests: from the end of its source (4) to the next
# sink (1) or, after the last round, "done" (5): the host's steps between
# them and the next connection's start are in it
per guest_http 4 "1|5" $requests 100 hundredths
costs 6 7 | awk '{ printf "# guest_net: an idle guest on Berth, per second: %d vm entries, %d ipc messages\n", $1 / 2, $2 / 2 }'
