#!/bin/sh
# The IDL fuzzer, long mode: tools/fuzz-idl.sh [SECONDS [SEED [COUNT]]]
# (make fuzz-idl FUZZ_SECS=N FUZZ_SEED=S).  Boots the servers of
# tests/system/manifests/idl_fuzz.manifest as `make test` does, with the
# fuzzer's args line rewritten: rounds of COUNT messages per interface
# (default 1500) for SECONDS (default 900) from seed SEED (default: the
# time).  The log is build/fuzz-idl.log; a failure ends the run with the
# seed, round, interface and the last messages sent, and this script
# exits 1.  Replay one batch: tools/fuzz-idl.sh 0 SEED COUNT "round=R only=NAME".
set -eu
secs=${1:-900}
seed=${2:-$(date +%s)}
count=${3:-1500}
extra=${4:-}
b=${BUILD:-build}
log=$b/fuzz-idl.log
man=$b/fuzz-idl.manifest
disk=$b/fuzz-idl-disk.img
sed "s/^    args count=[0-9]*\$/    args count=$count seed=$seed secs=$secs $extra/" \
	tests/system/manifests/idl_fuzz.manifest > "$man"
grep -q "args count=$count seed=$seed" "$man" || { echo "fuzz-idl: cannot rewrite the manifest's args" >&2; exit 2; }
# the same disk and NIC the test's header asks runtests.py for (a scratch disk)
dd if=/dev/zero of="$disk" bs=512 count=2048 status=none
echo "fuzz-idl: seed $seed, $secs s, $count messages per interface and round; log $log"
start=$(date +%s)
QEMU_EXTRA="-netdev user,id=n0,restrict=on -device virtio-net-pci,disable-legacy=on,netdev=n0,addr=5 \
-drive if=none,id=da,format=raw,file=$disk -device virtio-blk-pci,disable-legacy=on,drive=da,addr=6" \
KERNEL_CMDLINE="selfcheck=16" \
	timeout $((secs + 600)) tools/qemu.sh --test $b/kernel-check.bin $b/init.elf "$man" \
	$b/serial.elf $b/rtc.elf $b/pci.elf $b/virtio_blk.elf $b/virtio_net.elf $b/fs.elf \
	$b/tests/data/files.img $b/net.elf $b/tests/system/progs/kv_server.elf $b/vmm.elf \
	$b/tests/guests/progs/ticker.bin $b/tests/system/idl_fuzz.elf > "$log" 2>&1 </dev/null && code=0 || code=$?
echo "fuzz-idl: QEMU ended with status $code after $(( $(date +%s) - start )) s"
grep -E '^(not )?ok|^idl-fuzz: (done|FAILED|replay)' "$log" || true
if [ "$code" -eq 33 ] && ! grep -q '^not ok' "$log" && grep -q '^idl-fuzz: done' "$log"; then
	exit 0
fi
echo "fuzz-idl: FAILED (seed $seed); the messages are in $log:"
sed -n '/^idl-fuzz: FAILED/,/^idl-fuzz: FAILED/p' "$log" | head -40
exit 1
