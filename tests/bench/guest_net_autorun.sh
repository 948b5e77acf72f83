#!/bin/sh
# The guest's part of the guest-network benchmark
# (tools/bench/guest-net-bench.sh), the same under Berth and under bare
# QEMU: run by the Linux guest's /init from its own disk once eth0 is up.
# It starts the three servers tools/bench/net_measure.py measures from
# the host, each on busybox: a TCP sink on 5001, a source of 16 MiB on
# 5002, an httpd on 8080 serving /www/one (1 byte); and on 5003 the
# host's "done", which powers the guest off.  nc -ll runs this script
# again for each connection, with the connection as stdin and stdout and
# the server's name as $1.
#
# Port 0x519 marks bracket the work (Berth's VMM reports its counters at
# each mark when the VM stops; bare QEMU ignores the port).  The id says
# what the mark is; their order gives the round:
#   1, 2  a sink's connection: accepted, the whole stream read
#   3, 4  a source's connection: accepted, all 16 MiB acknowledged
#   5     the host's "done" (the last round's HTTP requests lie between its 4 and this)
#   6, 7  two seconds of an idle guest, before the servers start
# shellcheck disable=SC2059 # the format is the byte: \NNN in octal
mark() { printf "\\$(printf %03o "$1")" | dd of=/dev/port bs=1 seek=$((0x519)) 2>/dev/null; }

# wait (at most 10 s) until nothing is left in the send queue of a
# connection on local port $1: dd returns when its last byte is in the
# socket's buffer, the transfer is over when the host acknowledged it
drained() {
	hex=$(printf %04X "$1")
	n=0
	while [ $n -lt 1000 ] && awk -v p=":$hex" 'substr($2, length($2) - 4) == p && $5 !~ /^00000000:/ { busy = 1 }
		END { exit !busy }' /proc/net/tcp; do
		usleep 10000
		n=$((n + 1))
	done
}

case ${1:-} in
sink)
	mark 1
	dd of=/dev/null bs=64k 2>/dev/null
	mark 2
	exit 0
	;;
source)
	mark 3
	dd if=/dev/zero bs=64k count=256 2>/dev/null
	drained 5002
	mark 4
	exit 0
	;;
stop)
	mark 5
	echo "GUESTNET done" >/dev/console  # stdout is the connection
	poweroff -f
	;;
esac

mark 6
sleep 2
mark 7
nc -ll -p 5001 -e "$0" sink &
nc -ll -p 5002 -e "$0" source &
nc -ll -p 5003 -e "$0" stop &
# net_measure.py asks for /www/one; its HTTP server answers last, when
# everything else listens, because the host starts once it answers
mkdir -p /bench/www
printf x >/bench/www/one
httpd -p 8080 -h /bench
echo "GUESTNET ready"
