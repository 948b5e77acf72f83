#!/bin/bash
# The guest-I/O benchmark (issue 13): the same Linux guest (Debian's
# kernel and Berth's guest initramfs) reads and writes its virtio-blk disk
# under Berth, where the disk is a file of the fs server on the block
# driver, and under bare QEMU, where the disk is QEMU's own virtio-blk on
# a host file.  Both under -accel tcg -cpu max -icount shift=0; the guest
# times each piece of work by its own clock (tests/bench/guest_io_autorun.sh)
# and Berth's VMM reports what it cost in guest entries, IPC messages and
# disk requests (its port 0x519 marks).  Prints BENCH lines on stdout,
# progress ("bench: ...") on stderr.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=build/bench
timeout=${BENCH_TIMEOUT:-900}
mkdir -p $out
say() { echo "bench: $*" >&2; }
fail() { echo "guest-io-bench: $*" >&2; exit 1; }

inner=$out/guest-io-disk.img
tools/mkguestdisk.sh $inner 64M tests/bench/guest_io_autorun.sh
tools/mkdisk.sh $out/guest-io-berth.img 128M $inner

# wait_for LOG PATTERN PID: until PATTERN is in LOG, QEMU ends or the time is up
wait_for() {
	local n=0
	while [ $n -lt $((timeout * 2)) ] && kill -0 "$3" 2>/dev/null && ! grep -q "$2" "$1"; do
		sleep 0.5
		n=$((n + 1))
	done
}

say "the guest's disk under Berth (VMM, fs server, virtio-blk driver) under -icount shift=0"
log=$out/guest-io-berth.log
QEMU_EXTRA="-icount shift=0 -drive if=none,id=da,format=raw,file=$out/guest-io-berth.img \
-device virtio-blk-pci,disable-legacy=on,drive=da,addr=4" KERNEL_CMDLINE="" \
	tools/qemu.sh --test build/kernel.bin build/init.elf tests/bench/guest_io.manifest build/serial.elf \
	build/rtc.elf build/pci.elf build/virtio_blk.elf build/fs.elf build/vmm.elf \
	cache/linux/guest/bzImage cache/linux/guest/initramfs.cpio.gz >$log 2>&1 &
qemu=$!
wait_for $log "vmm: \[linux\] mark 4:" $qemu
kill $qemu 2>/dev/null || true
wait $qemu 2>/dev/null || true
grep -q "GUESTIO done" $log || { tail -n 30 $log >&2; fail "the Berth run did not finish (log: $log)"; }

say "the same guest under bare QEMU, QEMU's own virtio-blk"
tools/mkguestdisk.sh $out/guest-io-bare.img 64M tests/bench/guest_io_autorun.sh
bare=$out/guest-io-bare.log
timeout "$timeout" qemu-system-x86_64 -accel tcg -cpu max -m 112M -icount shift=0 \
	-no-reboot -display none -vga none -serial stdio -monitor none \
	-drive if=none,id=da,format=raw,file=$out/guest-io-bare.img -device virtio-blk-pci,disable-legacy=on,drive=da,addr=4 \
	-kernel cache/linux/guest/bzImage -initrd cache/linux/guest/initramfs.cpio.gz \
	-append "console=ttyS0 quiet panic=-1" </dev/null >$bare 2>&1 || true
grep -q "GUESTIO done" $bare || { tail -n 30 $bare >&2; fail "the bare QEMU run did not finish (log: $bare)"; }

# figures: GUESTIO name=N ns=V -> BENCH name=PREFIX.guest_N value=V unit=instructions
figures() {
	tr -d '\r' <"$1" | sed -n "s/.*GUESTIO name=\([a-z0-9_]*\) ns=\([0-9]*\).*/BENCH name=$2guest_\1 value=\2 unit=instructions/p"
}
figures $log ""
figures $bare "qemu."
# per disk request between the marks, on Berth: counters at mark 1..4
counter() { # mark field
	tr -d '\r' <$log | sed -n "s/.*vmm: \[linux\] mark $1: .*$2=\([0-9]*\).*/\1/p" | head -n 1
}
per_request() { # name first-mark last-mark field
	local req v
	req=$(($(counter "$3" disk_requests) - $(counter "$2" disk_requests)))
	[ "$req" -gt 0 ] || fail "no disk requests between marks $2 and $3"
	v=$((($(counter "$3" "$4") - $(counter "$2" "$4")) * 100 / req))
	echo "BENCH name=$1 value=$v unit=hundredths"
}
per_request guest_disk_read_vm_entries_per_request 1 2 vm_entries
per_request guest_disk_read_ipc_messages_per_request 1 2 ipc_messages
per_request guest_disk_write_vm_entries_per_request 3 4 vm_entries
per_request guest_disk_write_ipc_messages_per_request 3 4 ipc_messages
echo "BENCH name=guest_disk_read_requests value=$(($(counter 2 disk_requests) - $(counter 1 disk_requests))) unit=requests"
echo "BENCH name=guest_disk_write_requests value=$(($(counter 4 disk_requests) - $(counter 3 disk_requests))) unit=requests"
