#!/bin/sh
# QEMU halted at the first instruction with its gdb stub, and gdb attached
# to the kernel's symbols with Berth's commands (tools/gdb/berth.py:
# berth-server, berth-break; docs/debugging.md).  The guest's serial
# console goes to build/gdb-serial.log; quit gdb to stop QEMU.
set -eu
elf=$1 bin=$2; shift 2
log=$(dirname "$elf")/gdb-serial.log
modules=$(printf '%s,' "$@" | sed 's/,$//')
# setsid: QEMU in a session of its own, away from the terminal's Ctrl-C
# (QEMU would end on it), which is for gdb: it stops the target
setsid qemu-system-x86_64 -accel tcg -cpu max -m ${QEMU_MEM:-1G} -no-reboot -display none -vga none \
	-kernel "$bin" -append "${KERNEL_CMDLINE:-}" -initrd "$modules" \
	-serial "file:$log" -monitor none -nic none -s -S ${QEMU_EXTRA:-} &
qemu=$!
trap 'kill $qemu 2>/dev/null || true' EXIT
# and this script ignores Ctrl-C instead of ending and taking QEMU along
trap '' INT
echo "gdb: QEMU pid $qemu, serial output in $log; Ctrl-C stops the machine, 'continue' resumes"
gdb -q "$elf" -x "$(dirname "$0")/gdb/berth.py" -ex 'target remote :1234' -ex 'break kmain' -ex 'continue'
