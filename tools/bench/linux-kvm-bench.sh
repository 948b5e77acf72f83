#!/bin/bash
# KVM side by side with Berth's VM exits: boot Debian's stock kernel in
# Berth's benchmark machine (QEMU -accel tcg -cpu max -m 256M, whose
# emulated SVM the kernel's kvm_amd drives), run tools/bench/linux-kvm-bench.c
# as /init (it loads irqbypass, kvm, ccp and kvm-amd, makes a one-VCPU VM
# and times a CPUID exit KVM answers in the kernel, an OUT exit KVM hands
# to the program and an OUT KVM completes in the kernel through an
# eventfd), and print:
#
#   # linux-kvm-bench: ... and # kmsg: ...             (context lines)
#   BENCH name=linux.kvm_cpuid value=<n> unit=instructions
#   BENCH name=linux.kvm_pio value=<n> unit=instructions
#   BENCH name=linux.kvm_pio_inkernel value=<n> unit=instructions
#   BENCH name=linux.kvm_cpuid_ns value=<n> unit=ns
#   BENCH name=linux.kvm_pio_ns value=<n> unit=ns
#   BENCH name=linux.kvm_pio_inkernel_ns value=<n> unit=ns
#
# QEMU boots twice: with -icount shift=0 for the instructions (the guest's
# RDTSC counts QEMU's executed instructions) and without icount for the
# wall-clock nanoseconds, as Berth's vmexit_* and vmexit_*_ns are taken.
# Only those lines go to stdout; progress ("bench-setup: ...") to stderr.
# Exits non-zero, with the end of the serial log, when a figure is missing
# (the program says first why: a module that did not load, no /dev/kvm).
#
# Set-up is idempotent: Debian packages are installed when missing, the
# kernel and the four modules are fetched once (cache/linux/,
# cache/linux-kvm-modules/), and the program and the initramfs are rebuilt
# only when their sources change.  Environment: BENCH_TIMEOUT (seconds per
# boot, default 300).  With --setup it only sets up, and prints the kernel,
# the initramfs, the program and the modules' directory, one a line
# (tools/bench/kvm_exit_profile.py uses them).
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

src=tools/bench/linux-kvm-bench.c
self=tools/bench/linux-kvm-bench.sh	# holds the initramfs's file list
mkinitramfs=tools/mkinitramfs.py
out=build/bench
prog=$out/linux-kvm-bench
initrd=$out/kvm-initramfs.cpio.gz
timeout=${BENCH_TIMEOUT:-300}
# in load order (linux-kvm-bench.c loads them by these file names):
# kvm needs irqbypass; kvm-amd needs kvm and, for SEV, ccp
modules="virt/lib/irqbypass arch/x86/kvm/kvm drivers/crypto/ccp/ccp arch/x86/kvm/kvm-amd"

say() { echo "bench-setup: $*" >&2; }
fail() { echo "linux-kvm-bench: $*" >&2; exit 1; }

. tools/bench/lib.sh

# linux-libc-dev: <linux/kvm.h>
bench_packages qemu-system-x86 cpio gcc libc6-dev linux-libc-dev python3
# shellcheck disable=SC2086 # one word per module
linux_kernel_and_modules linux-kvm-modules $modules

bench_compile "$src" "$prog"
if [ ! -f "$initrd" ] || [ "$prog" -nt "$initrd" ] || [ "$self" -nt "$initrd" ] ||
	[ "$mkinitramfs" -nt "$initrd" ] || [ "$mdir/.done" -nt "$initrd" ]; then
	say "building $initrd"
	{
		echo "dir  /dev 0755"
		echo "nod  /dev/console 0600 c 5 1"
		echo "dir  /lib 0755"
		echo "dir  /lib/modules 0755"
		for m in $modules; do
			echo "file /lib/modules/${m##*/}.ko $mdir/lib/modules/$abi/kernel/$m.ko 0644"
		done
		echo "file /init $prog 0755"
	} | python3 "$mkinitramfs" "$initrd.tmp"
	mv "$initrd.tmp" "$initrd"
else
	say "$initrd up to date"
fi
if [ "${1:-}" = --setup ]; then
	printf '%s\n' "$vmlinuz" "$initrd" "$prog" "$mdir/lib/modules/$abi/kernel"
	exit 0
fi

# boot KIND LOG QEMU-ARGS...: one run of the program; kvm_bench_clock=KIND
# on the kernel command line reaches /init as an environment variable and
# tells it which figures are the run's.  Status 1 is the program's own
# exit through isa-debug-exit; anything else is said, and the figures are
# checked all the same.
boot() {
	local kind=$1 log=$2 status=0 start
	shift 2
	say "booting $(basename "$vmlinuz") under QEMU${*:+ $*} (timeout ${timeout}s; serial log in $log)"
	start=$(date +%s)
	timeout "$timeout" qemu-system-x86_64 -accel tcg -cpu max -m 256M "$@" \
		-no-reboot -display none -vga none -serial stdio -monitor none \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel "$vmlinuz" -initrd "$initrd" \
		-append "console=ttyS0 quiet panic=-1 kvm_bench_clock=$kind" \
		</dev/null >"$log" 2>&1 || status=$?
	if [ $status -eq 1 ]; then
		say "the program finished after $(($(date +%s) - start))s"
	elif [ $status -eq 124 ]; then
		echo "linux-kvm-bench: QEMU timed out after ${timeout}s" >&2
	else
		echo "linux-kvm-bench: QEMU ended with status $status (not the program's exit)" >&2
	fi
	# the program's own account of a failure, before print_figures' log tail
	tr -d '\r' <"$log" | grep -v '# linux-kvm-bench: ' | grep -o 'linux-kvm-bench: .*' >&2 || true
}

boot icount "$out/linux-kvm-icount.log" -icount shift=0
# a first run without its figures fails now, with its log's end, rather
# than after a second boot that would fail the same way
if ! grep -q 'BENCH name=linux\.kvm_pio_inkernel ' "$out/linux-kvm-icount.log"; then
	print_figures "$out/linux-kvm-icount.log" instructions kvm_cpuid kvm_pio kvm_pio_inkernel
fi
boot wall "$out/linux-kvm-wall.log"

# the context: kernel, what it said loading KVM, iterations; from the wall
# run, the TSC's rate and its ticks per exit
tr -d '\r' <"$out/linux-kvm-icount.log" | grep -o '# \(linux-kvm-bench\|kmsg\): .*' || true
tr -d '\r' <"$out/linux-kvm-wall.log" | grep -o '# linux-kvm-bench: .*\(tsc_hz\|TSC ticks\).*' |
	sed 's/^# linux-kvm-bench: /# linux-kvm-bench (wall run): /' || true
print_figures "$out/linux-kvm-icount.log" instructions kvm_cpuid kvm_pio kvm_pio_inkernel
print_figures "$out/linux-kvm-wall.log" ns kvm_cpuid_ns kvm_pio_ns kvm_pio_inkernel_ns
