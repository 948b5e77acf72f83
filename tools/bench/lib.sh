# shellcheck shell=bash
# Shell functions the Linux sides of the benchmark share (sourced by
# tools/bench/linux-*.sh, which set -eu and define say and fail).

# bench_packages PACKAGE...: install the Debian packages that are missing
# (apt-get update first; sudo when not root), or say they are present.
bench_packages() {
	local p missing="" sudo=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing="$missing $p"
	done
	if [ -z "$missing" ]; then
		say "packages present ($*)"
		return
	fi
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null 2>&1 || fail "need root or sudo to install:$missing"
		sudo=sudo
	fi
	say "apt-get update"
	$sudo apt-get update -q >&2
	say "installing$missing"
	# shellcheck disable=SC2086 # one word per package
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q $missing >&2
}

# linux_kernel_and_modules CACHE_NAME MODULE...: Debian's stock kernel
# (cache/linux/) and the named modules (paths under kernel/, without
# .ko), unpacked from the same package into cache/CACHE_NAME/.  Sets
# vmlinuz, abi and mdir (the modules of MODULE are then
# $mdir/lib/modules/$abi/kernel/MODULE.ko).
linux_kernel_and_modules() {
	local cache=$1 kdir m members=""
	shift
	kdir=$(tools/fetch-deb.sh --follow 'linux-image-[0-9].*-amd64' linux-image-amd64 ./boot cache/linux) ||
		fail "cannot fetch Debian's kernel"
	local vmlinuzes=("$kdir"/boot/vmlinuz-*)
	vmlinuz=${vmlinuzes[0]}
	abi=${vmlinuz##*/vmlinuz-}
	for m in "$@"; do
		members="$members ./lib/modules/$abi/kernel/$m.ko"
	done
	# shellcheck disable=SC2034 # mdir (like vmlinuz and abi) is for the caller
	mdir=$(tools/fetch-deb.sh --follow 'linux-image-[0-9].*-amd64' linux-image-amd64 "$members" \
		"cache/$cache") || fail "cannot fetch the kernel's modules"
}

# print_figures LOG UNIT NAME...: the line "BENCH name=linux.NAME value=N
# unit=UNIT" of each NAME from a serial log (anywhere in a line: kernel
# messages can share it), or fail with the log's end if one is missing.
print_figures() {
	local log=$1 unit=$2 name line missing=""
	shift 2
	for name in "$@"; do
		line=$(tr -d '\r' <"$log" |
			grep -o "BENCH name=linux\.$name value=[0-9][0-9]* unit=$unit" | head -n 1) || true
		if [ -n "$line" ]; then
			echo "$line"
		else
			missing="$missing $name"
		fi
	done
	if [ -n "$missing" ]; then
		echo "$(basename "$0"): no figure for:$missing; the serial log ends:" >&2
		tail -n 20 "$log" >&2
		exit 1
	fi
}

# bench_compile SRC PROG: compile a benchmark program, static (it runs as
# /init with no libraries beside it), when PROG is missing or older than SRC.
bench_compile() {
	if [ ! -f "$2" ] || [ "$1" -nt "$2" ]; then
		say "compiling $1"
		mkdir -p "$(dirname "$2")"
		gcc -static -O2 -Wall -Wextra -Werror -o "$2" "$1"
	fi
}
