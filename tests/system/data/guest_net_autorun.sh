#!/bin/sh
# The Linux guests' part of tests/system/guest_net.c, run by /init from
# each guest's own disk once eth0 is up (berth.ip= from the VMM).  Two
# guests run it: 10.0.4.10 and 10.0.4.11, each the other's peer.  Every
# result is a "guest-net:" line the test expects (or rejects).
addr=""
for w in $(cat /proc/cmdline); do
	case $w in berth.ip=*) addr=${w#berth.ip=} ;; esac
done
me=${addr%/*}
case $me in
10.0.4.10) peer=10.0.4.11 ;;
*) peer=10.0.4.10 ;;
esac
# busybox's wget crashes in Debian's static build: HTTP by hand with nc
get() { printf 'GET %s HTTP/1.0\r\n\r\n' "$2" | nc -w 10 "$1" 80 | tail -n 1; }
echo "guest-net: $me up, peer $peer"
ping -c 2 -W 2 10.0.4.1 >/dev/null && echo "guest-net: $me: the gateway (Berth) answers ping"
get 10.0.4.1 /hello.txt | sed "s/^/guest-net: $me: Berth's httpd says: /"
# no rule yet: the switch keeps guests apart
if ping -c 3 -W 1 "$peer" >/dev/null; then
	echo "guest-net: $me: the peer answered before any rule"
else
	echo "guest-net: $me: the peer is blocked by default"
fi
# tell the test (it listens on Berth's port 7000): it adds the rules once
# both guests have been blocked; wait up to 90 s for them
echo "$me blocked" | nc -w 5 10.0.4.1 7000
n=0
until ping -c 1 -W 1 "$peer" >/dev/null; do
	n=$((n + 1))
	[ $n -lt 90 ] || break
done
if [ $n -lt 90 ]; then
	echo "guest-net: $me: the peer answers ping after the rules"
	get "$peer" / | sed "s/^/guest-net: $me: the peer's httpd says: /"
fi
ping -c 2 -W 2 10.0.2.2 >/dev/null && echo "guest-net: $me: QEMU's network (10.0.2.2) answers through Berth's NAT"
awk '/ERR|MIS/ { printf " %s%s", $1, $2 } END { print "" }' /proc/interrupts | sed "s/^/guest-net: $me: interrupts/"
echo "guest-net: $me: done"
# the first guest keeps pinging the gateway: the test kills the other
# VM's VMM and watches this guest's traffic go on through the switch
if [ "$me" = 10.0.4.10 ]; then
	while :; do
		ping -c 1 -W 1 10.0.4.1 >/dev/null 2>&1
		sleep 1
	done &
fi
