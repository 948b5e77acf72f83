#!/bin/bash
# The Linux side of the network benchmark: Debian's stock kernel in
# QEMU (-accel tcg -cpu max -m 256M, no -icount: these are wall-clock
# figures) with the same virtio-net device and user network (restrict=on)
# as Berth's run, busybox httpd and nc as the servers
# (tools/bench/linux-net-init.sh), measured from the host through ports
# forwarded on 127.0.0.1 by tools/bench/net_measure.py.  Prints its
# BENCH lines (linux.tcp_rx_mibs, linux.tcp_tx_mibs, linux.http_rps).
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=build/bench
initrd=$out/net-initramfs.cpio.gz
log=$out/linux-net-serial.log
base=${NET_BENCH_PORT:-18180}
modules="net/core/failover drivers/net/net_failover drivers/virtio/virtio_ring drivers/virtio/virtio
drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci
drivers/net/virtio_net"

say() { echo "bench-setup: $*" >&2; }
fail() { echo "linux-net-bench: $*" >&2; exit 1; }

. tools/bench/lib.sh
# shellcheck disable=SC2086 # one word per module
linux_kernel_and_modules linux-net-modules $modules
bdir=$(tools/fetch-deb.sh busybox-static ./bin/busybox cache/busybox) || fail "cannot fetch busybox"

mkdir -p "$out"
if [ ! -f "$initrd" ] || [ tools/bench/linux-net-init.sh -nt "$initrd" ] || [ "$0" -nt "$initrd" ]; then
	say "building $initrd"
	{
		for d in /dev /proc /sys /bin /www /lib /lib/modules; do echo "dir  $d 0755"; done
		echo "nod  /dev/console 0600 c 5 1"
		echo "file /bin/busybox $bdir/bin/busybox 0755"
		for m in $modules; do
			echo "file /lib/modules/${m##*/}.ko $mdir/lib/modules/$abi/kernel/$m.ko 0644"
		done
		echo "file /init tools/bench/linux-net-init.sh 0755"
	} | python3 tools/mkinitramfs.py "$initrd.tmp"
	mv "$initrd.tmp" "$initrd"
fi

say "booting $(basename "$vmlinuz") with virtio-net on the user network (serial log in $log)"
qemu-system-x86_64 -accel tcg -cpu max -m 256M \
	-no-reboot -display none -vga none -serial stdio -monitor none \
	-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$base-:80,hostfwd=tcp:127.0.0.1:$((base + 1))-:5001,hostfwd=tcp:127.0.0.1:$((base + 2))-:5002" \
	-device virtio-net-pci,disable-legacy=on,netdev=n0,addr=5 \
	-kernel "$vmlinuz" -initrd "$initrd" -append "console=ttyS0 quiet panic=-1" \
	</dev/null >"$log" 2>&1 &
qemu=$!
trap 'kill $qemu 2>/dev/null || true' EXIT
status=0
python3 tools/bench/net_measure.py linux $base $((base + 1)) $((base + 2)) || status=$?
kill $qemu 2>/dev/null || true
wait $qemu 2>/dev/null || true
if [ $status -ne 0 ]; then
	echo "linux-net-bench: the measurement failed; the serial log ends:" >&2
	tail -n 20 "$log" >&2
	exit 1
fi
