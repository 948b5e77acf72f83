#!/bin/sh
# QEMU halted at the first instruction with its gdb stub, and gdb attached
# to the kernel's symbols.  The guest's serial console goes to
# build/gdb-serial.log; quit gdb to stop QEMU.
set -eu
elf=$1 bin=$2; shift 2
log=$(dirname "$elf")/gdb-serial.log
modules=$(printf '%s,' "$@" | sed 's/,$//')
qemu-system-x86_64 -accel tcg -cpu max -m 256M -no-reboot -display none -vga none \
	-kernel "$bin" -append "${KERNEL_CMDLINE:-}" -initrd "$modules" \
	-serial "file:$log" -monitor none -nic none -s -S ${QEMU_EXTRA:-} &
qemu=$!
trap 'kill $qemu 2>/dev/null || true' EXIT
echo "gdb: QEMU pid $qemu, serial output in $log"
gdb -q "$elf" -ex 'target remote :1234' -ex 'break kmain' -ex 'continue'
