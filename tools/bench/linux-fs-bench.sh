#!/bin/bash
# The Linux side of the file-system benchmark: Debian's stock kernel in
# Berth's benchmark machine (QEMU -accel tcg -cpu max -m 256M -icount
# shift=0) with the same virtio-blk device Berth's run has, on a fresh
# 64 MiB ext2 image made the same way (mke2fs -t ext2), running
# tools/bench/linux-fs-bench.c as /init.  Prints its BENCH lines
# (linux.fs_*) on stdout; progress ("bench-setup: ...") on stderr.
#
# The kernel and the eleven modules it needs (virtio PCI and block, ext4
# and what ext4 needs) are fetched once with tools/fetch-deb.sh into
# cache/linux/ and cache/linux-modules/; the program and the initramfs
# are rebuilt when their sources change.  tools/bench/linux-bench.sh
# installs the Debian packages both scripts use.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

src=tools/bench/linux-fs-bench.c
self=tools/bench/linux-fs-bench.sh
out=build/bench
prog=$out/linux-fs-bench
initrd=$out/fs-initramfs.cpio.gz
disk=$out/linux-fs-bench.img
log=$out/linux-fs-serial.log
timeout=${BENCH_TIMEOUT:-600}
# in load order, as linux-fs-bench.c lists them
modules="drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev
drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci drivers/block/virtio_blk lib/crc16
fs/mbcache fs/jbd2/jbd2 crypto/crc32c_generic fs/ext4/ext4"

say() { echo "bench-setup: $*" >&2; }
fail() { echo "linux-fs-bench: $*" >&2; exit 1; }

. tools/bench/lib.sh
# shellcheck disable=SC2086 # one word per module
linux_kernel_and_modules linux-modules $modules

mkdir -p "$out"
if [ ! -f "$prog" ] || [ "$src" -nt "$prog" ]; then
	say "compiling $src"
	gcc -static -O2 -Wall -Wextra -Werror -o "$prog" "$src"
fi
if [ ! -f "$initrd" ] || [ "$prog" -nt "$initrd" ] || [ "$self" -nt "$initrd" ]; then
	say "building $initrd"
	{
		echo "dir  /dev 0755"
		echo "nod  /dev/console 0600 c 5 1"
		echo "dir  /proc 0755"
		echo "dir  /mnt 0755"
		echo "dir  /lib 0755"
		echo "dir  /lib/modules 0755"
		for m in $modules; do
			echo "file /lib/modules/${m##*/}.ko $mdir/lib/modules/$abi/kernel/$m.ko 0644"
		done
		echo "file /init $prog 0755"
	} | python3 tools/mkinitramfs.py "$initrd.tmp"
	mv "$initrd.tmp" "$initrd"
fi

/sbin/mke2fs -q -F -t ext2 "$disk" 64M >/dev/null 2>&1 || fail "mke2fs failed"
say "booting $(basename "$vmlinuz") with a virtio-blk disk (timeout ${timeout}s; serial log in $log)"
status=0
timeout "$timeout" qemu-system-x86_64 -accel tcg -cpu max -m 256M -icount shift=0 \
	-no-reboot -display none -vga none -serial stdio -monitor none \
	-drive if=none,id=da,format=raw,file="$disk" -device virtio-blk-pci,disable-legacy=on,drive=da,addr=4 \
	-kernel "$vmlinuz" -initrd "$initrd" -append "console=ttyS0 quiet panic=-1" \
	</dev/null >"$log" 2>&1 || status=$?
[ $status -ne 124 ] || echo "linux-fs-bench: QEMU timed out after ${timeout}s" >&2
print_figures "$log" instructions fs_write_16m fs_read_16m fs_create_1000 fs_delete_1000
# the host's judge: what Linux left must be a clean ext2
/sbin/e2fsck -fn "$disk" >/dev/null 2>&1 || fail "e2fsck -fn finds $disk damaged after Linux's run"
