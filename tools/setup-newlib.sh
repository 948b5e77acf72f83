#!/bin/sh
# Build newlib, the C library of Berth's user programs, from the source
# tarball in Debian's newlib-source package.  Nothing of newlib is kept in
# the tree: the source, the build and the result live in cache/newlib/.
#
#   cache/newlib/src      the unpacked tarball
#   cache/newlib/bin      x86_64-elf-* tool names for the host gcc and binutils
#   cache/newlib/build    the configured build tree
#   cache/newlib/install  headers in x86_64-elf/include, libc.a and libm.a in x86_64-elf/lib
#   cache/newlib/build.log  configure and make output
#   cache/newlib/stamp    what was built: newlib's version and this script's hash
#
# newlib is configured for the bare-metal target x86_64-elf: the library
# expects the operating system to supply the system calls (write, sbrk, ...;
# libipc/posix.c does), no libgloss, no multilib.  Idempotent: when the stamp
# matches it does nothing; a new newlib-source version or a change to this
# script builds again.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cache=$root/cache/newlib
src=$cache/src
bin=$cache/bin
build=$cache/build
install=$cache/install
log=$cache/build.log
stamp=$cache/stamp
target=x86_64-elf
packages="newlib-source gcc binutils make xz-utils"

say() { echo "newlib: $*"; }
installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}
version() { dpkg-query -W -f='${Version}' newlib-source 2>/dev/null; }
script_hash=$(sha256sum "$0" | cut -d' ' -f1)
want_stamp() { echo "newlib-source $(version) setup-newlib.sh $script_hash"; }

# One build at a time (make and tools/setup.sh may both ask for it).
mkdir -p "$cache"
exec 9>"$cache.lock"
if ! flock -n 9; then
	say "waiting for another build of newlib to finish"
	flock 9
fi

# Already built by this script from this version: nothing to do.  The stamp
# gets this script's time so that make does not ask again.
if [ -f "$stamp" ] && installed newlib-source && [ "$(cat "$stamp")" = "$(want_stamp)" ] &&
   [ -f "$install/$target/lib/libc.a" ]; then
	[ "$stamp" -nt "$0" ] || touch "$stamp"
	say "$(version) present in cache/newlib/install"
	exit 0
fi

missing=""
for p in $packages; do
	installed "$p" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
	say "installing:$missing"
	# a fresh machine may never have read the package lists
	if ! apt-cache show newlib-source >/dev/null 2>&1; then
		say "apt-get update"
		$sudo apt-get update -q
	fi
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q $missing
fi

tarball=$(ls /usr/src/newlib/newlib-*.tar.* 2>/dev/null | head -n 1)
if [ -z "$tarball" ]; then
	say "newlib-source is installed but /usr/src/newlib holds no tarball" >&2
	exit 1
fi
say "building $(basename "$tarball") (newlib-source $(version)) for $target; log in cache/newlib/build.log"
start=$(date +%s)
step() { say "[$1/5] $2 ($(( $(date +%s) - start )) s)"; }
fail() {
	say "FAILED: $1; the end of cache/newlib/build.log:" >&2
	tail -n 40 "$log" >&2
	first=$(grep -m 1 -E 'error:|Error [0-9]' "$log" || true)
	[ -z "$first" ] || say "the first error in the log: $first" >&2
	exit 1
}

# The old result stays usable until the new one replaces it (step 5).
stage=$cache/stage
rm -rf "$src" "$bin" "$build" "$stage" "$stamp"
mkdir -p "$src" "$bin" "$build"
: >"$log"

step 1 "unpacking into cache/newlib/src"
tar -xf "$tarball" -C "$src" --strip-components=1 || fail "unpacking $tarball"

# The host gcc and binutils under the names a cross toolchain for x86_64-elf
# would have.  The compiler is made bare-metal: freestanding, no PIC/PIE, no
# stack protector, the small code model of Berth's user programs, none of the
# Linux predefines, and no host headers (gcc's own, for stddef.h, stdarg.h
# and the like, come after newlib's).
step 2 "tool wrappers in cache/newlib/bin"
gcc_include=$(gcc -print-file-name=include)
cat >"$bin/$target-gcc" <<EOF
#!/bin/sh
# made by tools/setup-newlib.sh: the host gcc as a bare-metal x86-64 ELF compiler
exec gcc -ffreestanding -fno-pic -fno-pie -mcmodel=small -fno-stack-protector -O2 -g \\
	-U__linux__ -U__linux -Ulinux -U__gnu_linux__ -U__unix__ -U__unix -Uunix \\
	-nostdinc -idirafter $gcc_include "\$@"
EOF
wrap() {
	printf '#!/bin/sh\n# made by tools/setup-newlib.sh\nexec %s "$@"\n' "$2" >"$bin/$target-$1"
}
wrap ar ar
wrap ranlib ranlib
wrap as "as --64"
wrap ld "ld -m elf_x86_64"
wrap nm nm
wrap objdump objdump
wrap objcopy objcopy
wrap readelf readelf
wrap strip strip
chmod +x "$bin"/*

# Besides the target and the system calls: printf and scanf with long long
# (%lld) and the C99 formats (%zu, %jd, %hhd), and locks that a program can
# supply at link time (newlib's defaults do nothing), so libipc can make
# the library thread-safe later without building it again.
step 3 "configure (newlib only)"
(
	cd "$build"
	PATH=$bin:$PATH "$src/configure" \
		--target=$target --prefix="$install" \
		--disable-multilib --disable-libgloss --disable-nls \
		--disable-newlib-supplied-syscalls \
		--enable-newlib-io-long-long --enable-newlib-io-c99-formats \
		--enable-newlib-retargetable-locking
) >>"$log" 2>&1 || fail "configure"

step 4 "make -j2 all-target-newlib (the longest step)"
PATH=$bin:$PATH make -C "$build" -j2 all-target-newlib >>"$log" 2>&1 &
make_pid=$!
trap 'kill $make_pid 2>/dev/null || true' INT TERM EXIT
ticks=0
while kill -0 $make_pid 2>/dev/null; do
	sleep 1
	ticks=$((ticks + 1))
	[ $((ticks % 15)) -ne 0 ] ||
		say "      $(find "$build" -name '*.o' | wc -l) objects compiled ($(( $(date +%s) - start )) s)"
done
wait $make_pid || fail "make"
trap - INT TERM EXIT

step 5 "make install-target-newlib into cache/newlib/install"
PATH=$bin:$PATH make -C "$build" DESTDIR="$stage" install-target-newlib >>"$log" 2>&1 || fail "make install"
for f in lib/libc.a lib/libm.a include/stdio.h; do
	[ -f "$stage$install/$target/$f" ] || fail "$target/$f was not installed"
done
rm -rf "$install"
mv "$stage$install" "$install"
rm -rf "$stage"

want_stamp >"$stamp"
say "built in $(( $(date +%s) - start )) s: $(du -sh "$install" | cut -f1) in cache/newlib/install"
