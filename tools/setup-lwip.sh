#!/bin/sh
# Fetch lwIP, the TCP/IP stack inside servers/net, from Debian's lwip
# source package.  Nothing of lwIP is kept in the tree: the package and the
# unpacked source live in cache/lwip/, and mk/lwip.mk compiles its core
# with Berth's server flags into build/.
#
#   cache/lwip/lists   apt's package lists for the one deb-src line below
#   cache/lwip/*.dsc, *.orig.tar.*, *.debian.tar.*   the source package
#   cache/lwip/src     the unpacked source (src/core, src/include, ...)
#   cache/lwip/stamp   what was unpacked: the version and this script's hash
#
# The machine's apt has no deb-src line and this script does not touch
# /etc/apt: it points apt at a list of its own (Dir::Etc::SourceList) and
# keeps the lists it reads in cache/lwip/lists.  Idempotent: when the
# stamp matches it does nothing.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cache=$root/cache/lwip
src=$cache/src
lists=$cache/lists
stamp=$cache/stamp
suite=bookworm
script_hash=$(sha256sum "$0" | cut -d' ' -f1)

say() { echo "lwip: $*"; }
fail() { say "FAILED: $*" >&2; exit 1; }

mkdir -p "$cache"
exec 9>"$cache.lock"
if ! flock -n 9; then
	say "waiting for another set-up of lwIP to finish"
	flock 9
fi

if [ -f "$stamp" ] && [ -f "$src/src/core/tcp.c" ] &&
   [ "$(cut -d' ' -f3 "$stamp")" = "$script_hash" ]; then
	[ "$stamp" -nt "$0" ] || touch "$stamp"
	say "$(cut -d' ' -f1 "$stamp") present in cache/lwip/src"
	exit 0
fi

for tool in apt-get tar; do
	command -v $tool >/dev/null || fail "$tool is missing"
done

# apt with a source list of its own: Debian's main archive, sources only.
mkdir -p "$lists/partial"
echo "deb-src http://deb.debian.org/debian $suite main" >"$cache/sources.list"
apt_opts="-o Dir::Etc::SourceList=$cache/sources.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$lists"

say "[1/3] apt-get update (the $suite source list only)"
# shellcheck disable=SC2086
apt-get $apt_opts -q update >"$cache/apt.log" 2>&1 ||
	{ tail -n 20 "$cache/apt.log" >&2; fail "apt-get update"; }

say "[2/3] apt-get source --download-only lwip"
rm -f "$cache"/lwip_*.dsc "$cache"/lwip_*.tar.*
# shellcheck disable=SC2086
(cd "$cache" && apt-get $apt_opts -q source --download-only lwip) >>"$cache/apt.log" 2>&1 ||
	{ tail -n 20 "$cache/apt.log" >&2; fail "apt-get source lwip"; }
dsc=$(ls "$cache"/lwip_*.dsc 2>/dev/null | head -n 1)
[ -n "$dsc" ] || fail "no lwip_*.dsc was downloaded"
version=$(sed -n 's/^Version: //p' "$dsc" | head -n 1)

say "[3/3] unpacking lwip $version into cache/lwip/src"
rm -rf "$src" "$stamp"
if command -v dpkg-source >/dev/null; then
	(cd "$cache" && dpkg-source -x --no-check "$dsc" "$src") >>"$cache/apt.log" 2>&1 ||
		fail "dpkg-source -x $(basename "$dsc")"
else
	orig=$(ls "$cache"/lwip_*.orig.tar.* | head -n 1)
	mkdir -p "$src"
	tar -xf "$orig" -C "$src" --strip-components=1 || fail "unpacking $orig"
fi
[ -f "$src/src/core/tcp.c" ] || fail "cache/lwip/src/src/core/tcp.c is missing after unpacking"

echo "$version setup-lwip.sh $script_hash" >"$stamp"
say "lwip $version in cache/lwip/src"
