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
timeout=${BENCH_TIMEOUT:-900}        # QEMU's life, at most
base=${GUEST_NET_BENCH_PORT:-18300}  # Berth's run: base..base+3, bare QEMU's: base+10..base+13
rounds=3                             # net_measure.py's, each:
mib=16                               # MiB to the sink, from the source
requests=400                         # HTTP requests
idle=2                               # the autorun's idle seconds (marks 6, 7)
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
	python3 tools/bench/net_measure.py "$1" "$2" $(($2 + 1)) $(($2 + 2)) --wait 300 --rounds $rounds \
		>"$out/guest-net-$1.txt" ||
		{ tail -n 30 "$3" >&2; fail "the measurement under $1 failed (log: $3)"; }
	python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10).close()' \
		$(($2 + 3)) || { tail -n 30 "$3" >&2; fail "cannot tell the guest under $1 it is done"; }
}
# await LOG PATTERN SECONDS: until PATTERN is in LOG; fails if QEMU
# ends or the time is up first
await() {
	local n=0
	while ! grep -q "$2" "$1"; do
		if [ $n -ge $(($3 * 2)) ] || ! kill -0 $qemu 2>/dev/null; then
			tail -n 30 "$1" >&2
			fail "no '$2' in $1 after $((n / 2)) s$(kill -0 $qemu 2>/dev/null || echo ': QEMU ended')"
		fi
		sleep 0.5
		n=$((n + 1))
	done
}
stop_qemu() {
	kill $qemu 2>/dev/null || true
	wait $qemu 2>/dev/null || true
	qemu=""
}

say "a Linux guest's network under Berth (VMM, network server, virtio-net driver), wall clock"
log=$out/guest-net-berth.log
: >$log  # now, not when the background job gets to it: await reads it at once
QEMU_EXTRA="-drive if=none,id=da,format=raw,file=$out/guest-net-berth.img \
-device virtio-blk-pci,disable-legacy=on,drive=da,addr=4 -netdev user,id=n0,restrict=on,$(hostfwd "$base") \
-device virtio-net-pci,disable-legacy=on,netdev=n0,addr=5" KERNEL_CMDLINE="" \
	timeout "$timeout" tools/qemu.sh --test build/kernel.bin build/init.elf tests/bench/guest_net.manifest \
	build/serial.elf build/rtc.elf build/pci.elf build/virtio_blk.elf build/virtio_net.elf build/fs.elf \
	build/net.elf build/vmm.elf cache/linux/guest/bzImage cache/linux/guest/initramfs.cpio.gz >$log 2>&1 &
qemu=$!
await $log "GUESTNET ready" 600
measure berth "$base" $log
# the VMM prints the marks when the guest has powered off; 5 is the last
await $log "vmm: \[linux\] mark 5:" 60
stop_qemu

say "the same guest under bare QEMU, QEMU's own virtio-net, wall clock"
bare=$out/guest-net-bare.log
: >$bare
timeout "$timeout" qemu-system-x86_64 -accel tcg -cpu max -m 112M -no-reboot -display none -vga none \
	-serial stdio -monitor none -nic none \
	-drive if=none,id=da,format=raw,file=$out/guest-net-bare.img -device virtio-blk-pci,disable-legacy=on,drive=da,addr=4 \
	-netdev "user,id=n0,restrict=on,$(hostfwd $((base + 10)))" -device virtio-net-pci,disable-legacy=on,netdev=n0,addr=5 \
	-kernel cache/linux/guest/bzImage -initrd cache/linux/guest/initramfs.cpio.gz \
	-append "console=ttyS0 panic=-1 berth.ip=10.0.2.15/24 berth.gw=10.0.2.2" </dev/null >$bare 2>&1 &
qemu=$!
await $bare "GUESTNET ready" 600
measure qemu $((base + 10)) $bare
await $bare "GUESTNET done" 60
stop_qemu

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
# per NAME FIRST LAST DIVISOR SCALE PER [UNIT]: NAME_vm_entries_PER and
# NAME_ipc_messages_PER, the median round's count times SCALE over
# DIVISOR, and each round's; the unit is UNIT, or entries and messages
per() {
	costs "$2" "$3" | awk -v n="$1" -v d="$4" -v s="$5" -v per="$6" -v u="${7:-}" -v rounds=$rounds '
		function max(x, y) { return x > y ? x : y }
		function min(x, y) { return x < y ? x : y }
		function line(what, a, unit,   med) {
			med = a[1] + a[2] + a[3] - max(max(a[1], a[2]), a[3]) - min(min(a[1], a[2]), a[3])
			printf "BENCH name=%s_%s_%s value=%d unit=%s runs=%d,%d,%d\n", n, what, per, med, unit, a[1], a[2], a[3]
		}
		{ e[NR] = int($1 * s / d + 0.5); m[NR] = int($2 * s / d + 0.5) }
		END {
			if (NR != rounds || rounds != 3) exit 1
			line("vm_entries", e, u ? u : "entries")
			line("ipc_messages", m, u ? u : "messages")
		}' || fail "not $rounds rounds between marks $2 and $3 (log: $log)"
}
per guest_tcp_rx 1 2 $mib 1 per_mib
per guest_tcp_tx 3 4 $mib 1 per_mib
# a round's HTTP requests: from the end of its source (4) to the next
# sink (1) or, after the last round, "done" (5); the host's steps between
# them and the next connection's start are in it
per guest_http 4 "1|5" $requests 100 per_request hundredths
costs 6 7 | awk -v s=$idle '{ printf "# guest_net: an idle guest on Berth, per second: %d vm entries, %d ipc messages\n",
	$1 / s, $2 / s }'
