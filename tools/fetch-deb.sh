#!/bin/bash
# Fetch one Debian package into cache/ without installing it, and unpack
# only the part of it that Berth uses.
#
#   tools/fetch-deb.sh [--follow REGEX] PACKAGE MEMBER DIR
#
# Downloads the candidate version of PACKAGE with `apt-get download`,
# unpacks the archive member MEMBER (a path such as ./boot or
# ./bin/busybox; several paths separated by spaces, in one argument) into
# DIR/PACKAGE_VERSION/ and prints that directory on stdout.  With --follow, PACKAGE is a metapackage and the package fetched
# is the one it depends on whose name matches REGEX: linux-image-amd64
# names no kernel itself, it depends on linux-image-6.1.0-N-amd64.
#
# Progress goes to stderr as "fetch-deb: ...".  Idempotent: a complete
# unpack is marked with .done (which lists the members) and is never
# fetched again unless the members asked for change; a new package
# version goes to a new directory.  Nothing is installed into the host's
# file system.  Package lists that are missing (a fresh machine) or stale
# (the version they name is gone from the archive) are refreshed once with
# apt-get update and the step is tried again.
set -eu

say() { echo "fetch-deb: $*" >&2; }
fail() { echo "fetch-deb: $*" >&2; exit 1; }

follow=""
if [ "${1:-}" = "--follow" ]; then
	[ $# -ge 2 ] || fail "--follow needs a REGEX"
	follow=$2
	shift 2
fi
[ $# -eq 3 ] || fail "usage: fetch-deb.sh [--follow REGEX] PACKAGE MEMBER DIR"
want=$1
member=$2
cache=$3

if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
apt_updated=no
apt_update() {
	[ $apt_updated = no ] || return 1
	say "apt-get update"
	$sudo apt-get update -q >&2
	apt_updated=yes
}

# Sets pkg, ver and dir (where the member is unpacked).
resolve() {
	pkg=$want
	if [ -n "$follow" ]; then
		pkg=$(apt-cache depends "$want" 2>/dev/null |
			sed -n 's/^ *Depends: \([^ <>]*\)$/\1/p' | grep -E -x "$follow" | head -n 1) ||
			true
		[ -n "$pkg" ] || return 1
	fi
	ver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: //p' |
		head -n 1)
	# as Debian names its .deb files: an epoch's colon would be a path separator to some tools
	dir=$cache/${pkg}_${ver//:/%3a}
	[ -n "$ver" ]
}

# Download into $deb.  It is called as a condition, where set -e does not
# act: hence the explicit returns.
download() {
	local size
	size=$(apt-cache show "$pkg=$ver" 2>/dev/null | sed -n 's/^Size: //p' | head -n 1)
	say "downloading $pkg $ver${size:+ ($((size / 1048576)) MiB)} from the Debian archive into $cache/ (once: later runs use this copy)"
	mkdir -p "$cache" && rm -f "$cache/${pkg}_"*.deb || return 1
	# As root, apt's download sandbox user (_apt) cannot write into the
	# cache; running the download as root is fine for a file we only unpack.
	(cd "$cache" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$ver") >&2 ||
		return 1
	local debs=("$cache/${pkg}_"*.deb)
	deb=${debs[0]}
	[ -f "$deb" ]
}

# Like `dpkg -x`, but only the member we need: the kernel package, for
# one, also carries ~400 MB of modules that an initramfs boot never loads.
# A member the package lacks is an error no update can fix: nothing is
# left behind but the message.
unpack() {
	say "unpacking $member of $deb"
	rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
	local m missing=""
	# shellcheck disable=SC2086 # one word per member
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir.tmp" $member 2>/dev/null || missing=yes
	for m in $member; do
		[ -e "$dir.tmp/$m" ] || missing="$missing $m"
	done
	if [ -n "$missing" ]; then
		rm -rf "$dir.tmp" "$deb"
		fail "$pkg $ver lacks some of: $member"
	fi
	rm -f "$deb" && rm -rf "$dir" && mv "$dir.tmp" "$dir" && echo "$member" >"$dir/.done"
}

what=$want${follow:+ (the package it depends on matching $follow)}
if ! resolve; then
	apt_update || fail "apt-cache finds no $what"
	resolve || fail "apt-cache finds no $what"
fi
# .done names the members unpacked: a list that grew unpacks again
if [ -f "$dir/.done" ] && [ "$(cat "$dir/.done")" = "$member" ]; then
	say "$pkg $ver already in $dir"
else
	if ! download; then
		apt_update || fail "cannot download $pkg $ver"
		resolve || fail "apt-cache finds no $what"
		download || fail "cannot download $pkg $ver"
	fi
	unpack
fi
echo "$dir"
