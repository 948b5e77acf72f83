#!/bin/sh
# The Linux guest's part of tests/system/guest_net_kill.c: for 80 s of
# uptime, ping Berth (10.0.4.1, the switch's gateway) and QEMU's network
# (10.0.2.2, through Berth's NAT and the network driver) once a second,
# saying when either stops or starts answering, while the test kills the
# network driver and then the network server under it.
state_gw=up
state_out=up
lost=0
while [ "$(cut -d. -f1 /proc/uptime)" -lt 80 ]; do
	if ping -c 1 -W 1 10.0.4.1 >/dev/null; then now=up; else now=down; fi
	[ $now = $state_gw ] || echo "guest-net-kill: the gateway is $now"
	state_gw=$now
	if ping -c 1 -W 1 10.0.2.2 >/dev/null; then now=up; else now=down; fi
	[ $now = $state_out ] || echo "guest-net-kill: the outside is $now"
	[ $now = up ] || lost=$((lost + 1))
	state_out=$now
	sleep 1
done
ping -c 2 -W 2 10.0.4.1 >/dev/null && ping -c 2 -W 2 10.0.2.2 >/dev/null &&
	echo "guest-net-kill: at the end both answer again"
cd /
umount /mnt
poweroff -f
