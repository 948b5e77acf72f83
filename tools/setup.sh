#!/bin/sh
# Install what building and running Berth needs on Debian 12, then build
# the two C libraries (tools/setup-newlib.sh, tools/setup-picolibc.sh) and
# fetch lwIP's source (tools/setup-lwip.sh).  Idempotent: it checks each
# package and installs only what is missing, and each library is built once.
set -eu

packages="qemu-system-x86 gcc make binutils python3 gdb cppcheck clang-tidy newlib-source meson ninja-build xz-utils cpio e2fsprogs curl gnuplot-nox"
missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "setup: Debian packages present ($packages)"
else
	if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
	echo "setup: installing:$missing"
	echo "setup: [1/2] apt-get update"
	$sudo apt-get update -q
	echo "setup: [2/2] apt-get install$missing"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q $missing
	echo "setup: done"
fi

"$(dirname "$0")/setup-newlib.sh"
"$(dirname "$0")/setup-picolibc.sh"
"$(dirname "$0")/setup-lwip.sh"
