#!/bin/sh
# Boot Berth under QEMU: tools/qemu.sh [--test|--gdb] kernel.bin root.elf [module ...]
# The first module is the root task.  KERNEL_CMDLINE is the kernel's
# command line.  --test adds the isa-debug-exit device, the word
# debugexit at the command line's start (SYS_DEBUG_EXIT works only with
# it) and no console input.  No mode gets a network device but the ones QEMU_EXTRA names (QEMU's
# default NIC would sit on an unrestricted user network; runtests.py's
# test-net adds a virtio-net one with restrict=on); --gdb starts halted
# with the gdb stub on :1234.  QEMU_EXTRA adds arguments (runtests.py's
# test-qemu and test-net, make run's disk and network).
set -eu
mode=run
case "${1:-}" in --test|--gdb) mode=${1#--}; shift ;; esac
[ $# -ge 2 ] || { echo "usage: $0 [--test|--gdb] kernel.bin root.elf [module ...]" >&2; exit 2; }
kernel=$1; shift
modules=$(printf '%s,' "$@" | sed 's/,$//')

cmdline=${KERNEL_CMDLINE:-}
[ $mode = test ] && cmdline="debugexit $cmdline"
set -- -accel tcg -cpu max -m ${QEMU_MEM:-1G} -no-reboot -display none -vga none \
	-kernel "$kernel" -append "$cmdline" -initrd "$modules"
case $mode in
	run)  exec qemu-system-x86_64 "$@" -serial mon:stdio -nic none ${QEMU_EXTRA:-} ;;
	gdb)  exec qemu-system-x86_64 "$@" -serial mon:stdio -nic none -s -S ${QEMU_EXTRA:-} ;;
	test) exec qemu-system-x86_64 "$@" -serial stdio -monitor none -nic none \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 ${QEMU_EXTRA:-} ;;
esac
