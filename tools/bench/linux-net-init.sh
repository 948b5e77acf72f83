#!/bin/busybox sh
# /init of the Linux side of the network benchmark
# (tools/bench/linux-net-bench.sh): the virtio network driver, a static
# address on QEMU's user network, busybox httpd on port 80 serving /www,
# a TCP sink on 5001 and a 16 MiB source on 5002, as Berth's side has.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in failover net_failover virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_net; do
	insmod /lib/modules/$m.ko || echo "net-bench: insmod $m failed"
done
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ifconfig lo 127.0.0.1 up
ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up
route add default gw 10.0.2.2
dd if=/dev/urandom of=/www/16m.bin bs=1M count=16 2>/dev/null
printf x >/www/one
httpd -p 80 -h /
(while true; do nc -l -p 5001 >/dev/null; done) &
(while true; do nc -l -p 5002 </www/16m.bin; done) &
echo "net-bench: ready"
while true; do sleep 3600; done
