#!/bin/sh
# The IDL fuzzer, long mode: tools/fuzz-idl.sh [SECONDS [SEED [COUNT [ARGS]]]]
# (make fuzz-idl FUZZ_SECS=N FUZZ_SEED=S).  Boots the servers of
# tests/system/manifests/idl_fuzz.manifest as `make test` does, with the
# fuzzer's args line rewritten: rounds of COUNT messages per interface
# (default 1500) from seed SEED (default: the time) until SECONDS of wall
# time (default 900) have passed, when this script stops QEMU; SECONDS 0
# runs one round.  The log is build/fuzz-idl.log (build/fuzz-idl.log.txt
# without the console's redrawn editing lines).  A failure ends the run
# with the seed, round, interface and the last messages sent, and this
# script exits 1.  Replay one batch:
#   tools/fuzz-idl.sh 0 SEED COUNT "round=R only=INTERFACE"
set -eu
secs=${1:-900}
seed=${2:-$(date +%s)}
count=${3:-1500}
extra=${4:-}
b=${BUILD:-build}
log=$b/fuzz-idl.log
man=$b/fuzz-idl.manifest
disk=$b/fuzz-idl-disk.img
# the guest's own clock runs slow under load: it runs "for ever" and this
# script keeps the wall time
guest_secs=0
[ "$secs" -gt 0 ] && guest_secs=1000000
sed "s/^    args count=[0-9]*\$/    args count=$count seed=$seed secs=$guest_secs $extra/" \
	tests/system/manifests/idl_fuzz.manifest > "$man"
grep -q "args count=$count seed=$seed" "$man" || { echo "fuzz-idl: cannot rewrite the manifest's args" >&2; exit 2; }
# the same disk and NIC the test's header asks runtests.py for (a scratch disk)
dd if=/dev/zero of="$disk" bs=512 count=2048 status=none
echo "fuzz-idl: seed $seed, $secs s, $count messages per interface and round; log $log"
start=$(date +%s)
QEMU_EXTRA="-netdev user,id=n0,restrict=on -device virtio-net-pci,disable-legacy=on,netdev=n0,addr=5 \
-drive if=none,id=da,format=raw,file=$disk -device virtio-blk-pci,disable-legacy=on,drive=da,addr=6" \
KERNEL_CMDLINE="selfcheck=16" \
	tools/qemu.sh --test $b/kernel-check.bin $b/init.elf "$man" \
	$b/serial.elf $b/rtc.elf $b/pci.elf $b/virtio_blk.elf $b/virtio_net.elf $b/fs.elf \
	$b/tests/data/files.img $b/net.elf $b/tests/system/progs/kv_server.elf $b/vmm.elf \
	$b/tests/guests/progs/ticker.bin $b/tests/system/idl_fuzz.elf > "$log" 2>&1 </dev/null &
qemu=$!
# one round alone: give it ten minutes
limit=$secs
[ "$secs" -gt 0 ] || limit=600
why="the time was up"
while [ $(( $(date +%s) - start )) -lt "$limit" ]; do
	if ! kill -0 $qemu 2>/dev/null; then why="QEMU ended by itself"; break; fi
	if grep -aq 'idl-fuzz: FAILED' "$log"; then why="the fuzzer failed"; sleep 2; break; fi
	sleep 2
done
kill $qemu 2>/dev/null || true
wait $qemu 2>/dev/null || true
echo "fuzz-idl: stopped because $why after $(( $(date +%s) - start )) s"
# the console redraws a line the fuzzer left in its line editor (edit_line)
# before other output: keep what follows the editor's last erase on each line
sed 's/^.*\x1b\[K//; s/\r$//' "$log" > "$log.txt"
log=$log.txt
grep -aE '^(not )?ok|^idl-fuzz: (done|FAILED|replay|round)' "$log" | tail -20 || true
if ! grep -aq '^idl-fuzz: FAILED' "$log" && ! grep -aq '^not ok' "$log" &&
	{ grep -aq '^idl-fuzz: done' "$log" || { [ "$secs" -gt 0 ] && grep -aq '^idl-fuzz: round' "$log"; }; }; then
	echo "fuzz-idl: no failure (seed $seed)"
	exit 0
fi
echo "fuzz-idl: FAILED (seed $seed); from $log:"
sed -n '/^idl-fuzz: FAILED/,$p' "$log" | grep -a '^idl-fuzz\|^#' | head -60
exit 1
