#!/bin/sh
# The fault-injection campaign, long mode: tools/faults.sh [COUNT [SEED [ARGS]]]
# (make faults-inject FAULTS_COUNT=N FAULTS_SEED=S; make faults runs it).
# Boots the servers of tests/system/manifests/faultinj.manifest as
# `make test` does, with the campaign's args line rewritten: COUNT
# injections per target (default 1000) from seed SEED (default: the time),
# ARGS added (only=NAME, kind=K, from=I).  The log is build/faults.log;
# tools/faults_report.py turns its result lines into the table and chart
# of docs/reliability.md.  A failure ends the run with the seed, target,
# injection and the last injections made, and this script exits 1.
# The network server's campaign streams records to tools/faults_tcp_peer.py
# through a port forwarded on 127.0.0.1 (its log: build/faults-tcp.log, beside the campaign's).
# Replay: tools/faults.sh COUNT SEED "only=NAME from=I"
# FAULTS_LOG names the log instead (tools/faults_long.sh gives each chunk
# its own); FAULTS_SELFCHECK=N runs the kernel's self-check on every Nth
# exit (default 16, and 256 in the Linux guest's boot).
#
# tools/faults.sh linux [COUNT [SEED [ARGS]]] runs the campaign against
# the VMM of a running Linux guest instead (the target `linux`, in a boot
# of its own: tests/system/manifests/faultinj_linux.manifest, beside a
# ticker VM that must not be disturbed); its log is build/faults-linux.log.
set -eu
boot=servers
if [ "${1:-}" = linux ]; then
	boot=linux
	shift
fi
count=${1:-1000}
seed=${2:-$(date +%s)}
extra=${3:-}
b=${BUILD:-build}
# the injections this run makes: from= (a later chunk of a long run) up to COUNT
from=$(printf '%s\n' "$extra" | sed -n 's/.*from=\([0-9]*\).*/\1/p')
runs=$(( count - ${from:-0} ))
if [ $boot = linux ]; then
	log=$b/faults-linux.log
	template=tests/system/manifests/faultinj_linux.manifest
	extra="only=linux $extra"
else
	log=$b/faults.log
	template=tests/system/manifests/faultinj.manifest
fi
log=${FAULTS_LOG:-$log}
man=$log.manifest
disk=$log.disk.img
sed "s/^    args count=[0-9]*\$/    args count=$count seed=$seed $extra/" "$template" > "$man"
grep -q "args count=$count seed=$seed" "$man" || { echo "faults: cannot rewrite the manifest's args" >&2; exit 2; }
echo "faults: seed $seed, $count injections per target ($boot); log $log"
start=$(date +%s)
peer=
if [ $boot = linux ]; then
	# a failure of the VMM is seen within a second or two; then the guest
	# boots again before the next injection (a minute or two under this
	# kernel's self-check), and about one injection in three fails
	limit=$(( 600 + runs * 45 ))
	KERNEL_CMDLINE="selfcheck=${FAULTS_SELFCHECK:-256}" \
	tools/qemu.sh --test $b/kernel-check.bin $b/init.elf "$man" $b/serial.elf $b/vmm.elf \
		cache/linux/guest/bzImage cache/linux/guest/initramfs.cpio.gz $b/tests/guests/progs/ticker.bin \
		$b/tests/system/faultinj.elf > "$log" 2>&1 </dev/null &
	qemu=$!
else
	# the disk the test's header asks runtests.py for: a copy of the fs test image
	cp $b/tests/data/files.img "$disk"
	# the TCP stream's peer (the network server's campaign), through a port
	# forwarded on 127.0.0.1 only
	fwd=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	tcplog=${log%.log}-tcp.log
	python3 tools/faults_tcp_peer.py "$fwd" --secs 0 > "$tcplog" 2>&1 &
	peer=$!
	# a failure costs about 2 s to notice and recover from; most injections
	# cost less: 10 targets x COUNT x 3 s is a generous bound
	limit=$(( 120 + runs * 10 * 3 ))
	QEMU_EXTRA="-netdev user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$fwd-:7300 -device virtio-net-pci,disable-legacy=on,netdev=n0,addr=5 \
-drive if=none,id=da,format=raw,file=$disk -device virtio-blk-pci,disable-legacy=on,drive=da,addr=6" \
	KERNEL_CMDLINE="selfcheck=${FAULTS_SELFCHECK:-16}" \
	tools/qemu.sh --test $b/kernel-check.bin $b/init.elf "$man" \
		$b/serial.elf $b/rtc.elf $b/pci.elf $b/virtio_blk.elf $b/virtio_net.elf $b/fs.elf $b/net.elf \
		$b/vmm.elf $b/tests/guests/progs/ticker.bin $b/httpd.elf $b/shell.elf $b/tests/system/faultinj.elf > "$log" 2>&1 </dev/null &
	qemu=$!
fi
why="the time was up ($limit s)"
while [ $(( $(date +%s) - start )) -lt "$limit" ]; do
	if ! kill -0 $qemu 2>/dev/null; then why="QEMU ended"; break; fi
	if grep -aq 'faults: FAILED' "$log"; then why="the campaign failed"; sleep 2; break; fi
	sleep 2
done
# QEMU's own status, which says how a run that ended early ended: 33 is
# tap_done's isa-debug-exit, 0x7f << 1 | 1 the kernel's panic, 143 our
# kill, 139 or 134 QEMU itself crashing (a segfault, an abort)
ended_by_itself=0
kill -0 $qemu 2>/dev/null || ended_by_itself=1
kill $qemu 2>/dev/null || true
qemu_status=0
wait $qemu 2>/dev/null || qemu_status=$?
# the peer ends at the stream's end record; otherwise (a run without
# the network server's campaign, or stopped) it is stopped here
if [ -n "$peer" ]; then
	for i in 1 2 3 4 5; do kill -0 $peer 2>/dev/null || break; sleep 1; done
	kill $peer 2>/dev/null || true
	wait $peer 2>/dev/null || true
else
	tcplog=/dev/null
fi
# the console writes log lines above the shell's edited line (the shell is
# a target): each carriage return starts a line of its own and the
# terminal sequences go, so that each line starts with what was written
sed -i 's/\r*$//; s/\r/\n/g; s/\x1b\[[0-9;]*[A-Za-z]//g' "$log"
secs=$(( $(date +%s) - start ))
echo "faults: stopped because $why after $secs s (QEMU's status $qemu_status$([ $ended_by_itself = 1 ] || echo ', after our kill'))"
grep -aE '^(not )?ok|^faults: (result|done|FAILED|replay)|^KERNEL PANIC' "$log" | tail -30 || true
[ -z "$peer" ] || echo "faults: the TCP peer: $(grep -aE '^(not )?ok' "$tcplog" || echo 'no result (stopped)')"
if grep -aq '^faults: done' "$log" && ! grep -aq '^not ok' "$log" && ! grep -aq '^KERNEL PANIC' "$log" &&
	! grep -aq '^not ok' "$tcplog"; then
	echo "faults: no failure (seed $seed)"
	rm -f "$disk"   # kept after a failure, for what the fs server wrote
	exit 0
fi
echo "faults: FAILED (seed $seed); from $log:"
sed -n '/faults: FAILED/,$p' "$log" | head -40
exit 1
