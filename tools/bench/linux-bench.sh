#!/bin/bash
# The Linux side of Berth's benchmark: boot Debian's stock kernel under QEMU
# with the same machine Berth's benchmarks use, run tools/bench/linux-bench.c
# as /init, and print its figures:
#
#   # linux: <kernel version> <iterations...>
#   BENCH name=linux.getppid value=<n> unit=instructions
#   BENCH name=linux.pipe_pingpong value=<n> unit=instructions
#   BENCH name=linux.page_fault value=<n> unit=instructions
#
# Only those lines go to stdout; progress ("bench-setup: ...") goes to stderr.
# QEMU runs with -icount shift=0, under which the guest's RDTSC counts guest
# instructions (one per instruction), so a "cycle" is a guest instruction
# and the figures repeat from run to run whatever the host is doing.
#
# Set-up is idempotent: missing Debian packages are installed, the kernel
# package is downloaded once into cache/linux/ (never installed into the
# host's /boot), and the program and initramfs are rebuilt only when their
# sources change.  Environment: BENCH_TIMEOUT (seconds, default 180).
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
. tools/bench/lib.sh

src=tools/bench/linux-bench.c
mkinitramfs=tools/mkinitramfs.py
self=tools/bench/linux-bench.sh	# holds the initramfs's file list
cache=cache/linux
out=build/bench
prog=$out/linux-bench
initrd=$out/initramfs.cpio.gz
log=$out/linux-serial.log
timeout=${BENCH_TIMEOUT:-180}

say() { echo "bench-setup: $*" >&2; }
fail() { echo "linux-bench: $*" >&2; exit 1; }

# --- Debian packages -----------------------------------------------------
# cpio only checks the archive that mkinitramfs.py writes (see below).
bench_packages qemu-system-x86 cpio gcc libc6-dev python3

# --- the kernel ----------------------------------------------------------
# linux-image-amd64 is a metapackage; the kernel itself is the package it
# depends on, named after the kernel ABI (linux-image-6.1.0-N-amd64).
# tools/fetch-deb.sh downloads it once and unpacks its /boot (its progress
# lines, "fetch-deb: ...", go to stderr like ours).
kdir=$(tools/fetch-deb.sh --follow 'linux-image-[0-9].*-amd64' linux-image-amd64 ./boot "$cache") ||
	fail "cannot fetch Debian's kernel"
vmlinuzes=("$kdir"/boot/vmlinuz-*)
vmlinuz=${vmlinuzes[0]}
[ -r "$vmlinuz" ] || fail "no readable kernel image in $kdir/boot"

# --- the program and the initramfs ---------------------------------------
mkdir -p "$out"
bench_compile "$src" "$prog"
if [ ! -f "$initrd" ] || [ "$prog" -nt "$initrd" ] ||
	[ "$mkinitramfs" -nt "$initrd" ] || [ "$self" -nt "$initrd" ]; then
	say "building $initrd"
	# /dev/console is where the kernel opens init's stdin, stdout and
	# stderr.  mkinitramfs.py writes the node as an archive entry, so no
	# mknod (and no root) is needed.
	python3 "$mkinitramfs" "$initrd.tmp" <<-EOF
		dir  /dev 0755
		nod  /dev/console 0600 c 5 1
		file /init $prog 0755
	EOF
	# Check the hand-written archive with a standard reader.
	listing=$(gzip -dc "$initrd.tmp" | cpio -it --quiet | tr '\n' ' ')
	[ "$listing" = "dev dev/console init " ] ||
		fail "initramfs holds '$listing', not dev, dev/console and init"
	mv "$initrd.tmp" "$initrd"
else
	say "$initrd up to date"
fi

# --- the run -------------------------------------------------------------
# The machine is Berth's benchmark machine; only -kernel, -initrd and
# -append are Linux's.  panic=-1 and -no-reboot make QEMU exit should /init
# die; the timeout catches anything else.
say "booting $(basename "$vmlinuz") under QEMU (timeout ${timeout}s; serial log in $log)"
start=$(date +%s)
status=0
timeout "$timeout" qemu-system-x86_64 -accel tcg -cpu max -m 256M -icount shift=0 \
	-no-reboot -display none -vga none -serial stdio -monitor none \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-kernel "$vmlinuz" -initrd "$initrd" -append "console=ttyS0 quiet panic=-1" \
	</dev/null >"$log" 2>&1 || status=$?
# Status 1 is the program's own exit through isa-debug-exit (value 0):
# the normal end, said as such; anything else is worth a look
if [ $status -eq 1 ]; then
	say "the benchmark program finished after $(( $(date +%s) - start ))s"
elif [ $status -eq 124 ]; then
	echo "linux-bench: QEMU timed out after ${timeout}s" >&2
else
	echo "linux-bench: QEMU ended with status $status (not the program's exit); the figures below are checked" >&2
fi

# The console may put \r before \n, and kernel messages can land on the
# same line as ours: take the markers from anywhere in a line.
tr -d '\r' <"$log" | grep -o '# linux: .*' | head -n 1 || true
print_figures "$log" instructions getppid pipe_pingpong page_fault
