#!/bin/sh
# Build picolibc, Berth's second C library (make LIBC=picolibc, docs/libc.md),
# from Debian's picolibc source package.  Nothing of picolibc is kept in the
# tree: the package, the source, the build and the result live in
# cache/picolibc/.
#
#   cache/picolibc/lists    apt's package lists for the one deb-src line below
#   cache/picolibc/*.orig.tar.gz, *.debian.tar.xz   the source package
#   cache/picolibc/src      the unpacked upstream tarball
#   cache/picolibc/cross.txt  meson's description of the target (the host gcc, bare metal)
#   cache/picolibc/build    meson's build tree
#   cache/picolibc/install  headers in include/, libc.a in lib/
#   cache/picolibc/build.log  apt, meson and ninja output
#   cache/picolibc/stamp    what was built: picolibc's version and this script's hash
#
# Debian 12 lists a picolibc source but its files are gone from the archive;
# Debian 13 (trixie)'s are there.  apt reads a source list of its own
# (Dir::Etc::SourceList) and keeps its lists in cache/picolibc/lists, so the
# machine's apt configuration is left alone.  trixie's .dsc answers 404, so
# apt-get source exits non-zero although both tarballs arrive: this script
# checks for the tarballs instead of trusting the exit code.  Idempotent:
# when the stamp matches it does nothing.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cache=$root/cache/picolibc
src=$cache/src
lists=$cache/lists
build=$cache/build
install=$cache/install
log=$cache/build.log
stamp=$cache/stamp
suite=trixie
script_hash=$(sha256sum "$0" | cut -d' ' -f1)

say() { echo "picolibc: $*"; }
fail() {
	say "FAILED: $1; the end of cache/picolibc/build.log:" >&2
	tail -n 30 "$log" >&2 || true
	exit 1
}
installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

mkdir -p "$cache"
exec 9>"$cache.lock"
if ! flock -n 9; then
	say "waiting for another build of picolibc to finish"
	flock 9
fi

if [ -f "$stamp" ] && [ -f "$install/lib/libc.a" ] &&
   [ "$(cut -d' ' -f3 "$stamp")" = "$script_hash" ]; then
	[ "$stamp" -nt "$0" ] || touch "$stamp"
	say "$(cut -d' ' -f1 "$stamp") present in cache/picolibc/install"
	exit 0
fi

# meson and ninja build picolibc; they are only needed here
missing=""
for p in meson ninja-build; do
	installed "$p" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
	say "installing:$missing"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q $missing
fi

: >"$log"
start=$(date +%s)
step() { say "[$1/5] $2 ($(( $(date +%s) - start )) s)"; }

orig=$(ls "$cache"/picolibc_*.orig.tar.* 2>/dev/null | head -n 1 || true)
if [ -z "$orig" ]; then
	mkdir -p "$lists/partial"
	echo "deb-src http://deb.debian.org/debian $suite main" >"$cache/sources.list"
	apt_opts="-o Dir::Etc::SourceList=$cache/sources.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$lists"
	step 1 "apt-get update (the $suite source list only)"
	# shellcheck disable=SC2086
	apt-get $apt_opts -q update >>"$log" 2>&1 || fail "apt-get update"
	step 1 "apt-get source --download-only picolibc"
	# the exit code is not the answer (the .dsc is missing upstream): the tarball is
	# shellcheck disable=SC2086
	(cd "$cache" && apt-get $apt_opts -q source --download-only picolibc) >>"$log" 2>&1 || true
	orig=$(ls "$cache"/picolibc_*.orig.tar.* 2>/dev/null | head -n 1 || true)
	[ -n "$orig" ] || fail "no picolibc_*.orig.tar.* arrived from $suite"
else
	step 1 "source package already in cache/picolibc ($(basename "$orig"))"
fi
version=$(basename "$orig" | sed 's/^picolibc_//; s/\.orig\.tar\..*//')

step 2 "unpacking picolibc $version into cache/picolibc/src"
rm -rf "$src" "$build" "$stamp" "$cache/stage"
mkdir -p "$src"
tar -xf "$orig" -C "$src" --strip-components=1 || fail "unpacking $orig"
[ -f "$src/meson.build" ] || fail "cache/picolibc/src/meson.build is missing after unpacking"

# The host gcc as a bare-metal x86-64 compiler, with the flags of Berth's
# user programs (Makefile's UCFLAGS): no PIC/PIE, no stack protector, the
# small code model, none of the Linux predefines.
step 3 "meson setup (cross file cache/picolibc/cross.txt)"
cat >"$cache/cross.txt" <<EOF
# made by tools/setup-picolibc.sh: the host gcc for Berth's user programs
[binaries]
c = ['gcc', '-fno-pic', '-fno-pie', '-mcmodel=small', '-fno-stack-protector', '-static', '-nostdlib', '-U__linux__', '-U__linux', '-Ulinux', '-U__gnu_linux__', '-U__unix__', '-U__unix', '-Uunix']
ar = 'ar'
as = 'as'
nm = 'nm'
strip = 'strip'
objcopy = 'objcopy'

[host_machine]
system = 'none'
cpu_family = 'x86_64'
cpu = 'x86_64'
endian = 'little'

[properties]
skip_sanity_check = true
EOF
# What Berth asks of it: threads (locks it calls, __retarget_lock_*, which
# libipc/libc_lock.c supplies, and thread-local errno and state through
# %fs, local-exec), stdin/stdout/stderr over read and write (libipc/posix.c),
# printf with long long and doubles, no start-up code, sbrk, TLS set-up or
# semihosting (crt0 and libipc do that), no tests.
(
	cd "$cache"
	meson setup --cross-file "$cache/cross.txt" --prefix "$install" \
		-Dbuildtype=release -Doptimization=2 \
		-Dmultilib=false -Dpicolib=false -Dpicocrt=false -Dpicocrt-lib=false -Dsemihost=false \
		-Dtests=false -Dspecsdir=none -Dposix-console=true \
		-Dsingle-thread=false -Dstdio-locking=true \
		-Dthread-local-storage=true -Dtls-model=local-exec -Dnewlib-global-errno=false \
		-Dformat-default=double -Dio-long-long=true \
		"$src" "$build"
) >>"$log" 2>&1 || fail "meson setup"

step 4 "ninja (the longest step)"
ninja -C "$build" -j2 >>"$log" 2>&1 &
ninja_pid=$!
trap 'kill $ninja_pid 2>/dev/null || true' INT TERM EXIT
ticks=0
while kill -0 $ninja_pid 2>/dev/null; do
	sleep 1
	ticks=$((ticks + 1))
	[ $((ticks % 15)) -ne 0 ] ||
		say "      $(find "$build" -name '*.o' | wc -l) objects compiled ($(( $(date +%s) - start )) s)"
done
wait $ninja_pid || fail "ninja"
trap - INT TERM EXIT

step 5 "ninja install into cache/picolibc/install"
rm -rf "$install"
ninja -C "$build" install >>"$log" 2>&1 || fail "ninja install"
for f in lib/libc.a include/stdio.h include/picolibc.h; do
	[ -f "$install/$f" ] || fail "$f was not installed"
done

echo "$version setup-picolibc.sh $script_hash" >"$stamp"
say "built in $(( $(date +%s) - start )) s: $(du -sh "$install" | cut -f1) in cache/picolibc/install"
