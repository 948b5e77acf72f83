#!/bin/bash
# Build the Linux guest's images, for the VMM to be given as boot modules:
#
#   cache/linux/guest/bzImage            Debian's linux-image-amd64 kernel (a link
#                                        into the unpacked package)
#   cache/linux/guest/initramfs.cpio.gz  busybox-static, tools/linux-guest/init
#                                        as /init and its inittab, and the kernel's
#                                        modules for virtio disks, NICs and balloons and ext4
#                                        (in /lib/modules, loaded by /init)
#   cache/linux/guest/kernel-version     the kernel's release, as `uname -r` says it
#   cache/linux/guest/disk.img           the guest's own disk: a 32 MiB ext4 file
#                                        system made by mke2fs -d (tools/mkguestdisk.sh);
#                                        tools/mkdisk.sh puts it on Berth's disk as
#                                        /vm/linux.img
#
# Both packages are fetched by tools/fetch-deb.sh, never installed on the
# host and never committed.  Idempotent: each step says what it does or
# that it is already done; the initramfs is rebuilt only when busybox, the
# guest's files or the scripts that make it change.  `make guest-images`
# runs it.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

out=cache/linux/guest
initrd=$out/initramfs.cpio.gz
mkinitramfs=tools/mkinitramfs.py
guest=tools/linux-guest
self=tools/guest-images.sh	# holds the initramfs's file list

say() { echo "guest-images: $*"; }
fail() { echo "guest-images: $*" >&2; exit 1; }

# tools/setup.sh installs these; `make guest-images` runs it first.
for tool in python3 gzip cpio apt-get dpkg-deb /sbin/mke2fs; do
	command -v $tool >/dev/null || fail "$tool is missing: run tools/setup.sh first"
done

# Everything made before, and nothing it was made from changed since:
# one line, not five steps.  The packages' versions are not asked again
# then: rm cache/linux/guest/.complete looks for newer ones.
stamp=$out/.complete
if [ -f "$stamp" ] && [ -e "$out/bzImage" ] && [ -f "$initrd" ] && [ -f "$out/disk.img" ]; then
	fresh=1
	for input in "$self" tools/fetch-deb.sh tools/mkguestdisk.sh "$mkinitramfs" "$guest"/*; do
		[ "$stamp" -nt "$input" ] || fresh=0
	done
	if [ $fresh = 1 ]; then
		say "up to date in $out (bzImage, initramfs.cpio.gz, disk.img)"
		exit 0
	fi
fi

say "[1/5] the kernel: Debian's linux-image-amd64"
kdir=$(tools/fetch-deb.sh --follow 'linux-image-[0-9].*-amd64' linux-image-amd64 ./boot cache/linux)
vmlinuzes=("$kdir"/boot/vmlinuz-*)
vmlinuz=${vmlinuzes[0]}
[ -r "$vmlinuz" ] || fail "no readable kernel image in $kdir/boot"
mkdir -p "$out"
# A relative link, so that the cache can move with the tree.
ln -sfn "../$(basename "$kdir")/boot/$(basename "$vmlinuz")" "$out/bzImage"
basename "$vmlinuz" | sed 's/^vmlinuz-//' >"$out/kernel-version"
say "      $out/bzImage -> $vmlinuz ($(wc -c <"$vmlinuz") bytes)"

say "[2/5] the kernel's modules for virtio and ext4 (from the same package)"
# In load order: each after the ones it needs.  /init loads them with
# busybox's insmod, which knows no dependencies.
modules="drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev
drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci drivers/block/virtio_blk
drivers/virtio/virtio_balloon net/core/failover drivers/net/net_failover drivers/net/virtio_net lib/crc16 fs/mbcache fs/jbd2/jbd2
crypto/crc32c_generic fs/ext4/ext4"
abi=$(cat "$out/kernel-version")
members=""
for m in $modules; do
	members="$members ./lib/modules/$abi/kernel/$m.ko"
done
mdir=$(tools/fetch-deb.sh --follow 'linux-image-[0-9].*-amd64' linux-image-amd64 "$members" cache/linux-guest-modules)

say "[3/5] busybox: Debian's busybox-static"
bdir=$(tools/fetch-deb.sh busybox-static ./bin/busybox cache/busybox)
busybox=$bdir/bin/busybox
[ -x "$busybox" ] || fail "no executable busybox in $bdir/bin"

say "[4/5] the guest's disk"
disk=$out/disk.img
if [ -f "$disk" ] && [ "$disk" -nt tools/mkguestdisk.sh ]; then
	say "      $disk up to date"
else
	tools/mkguestdisk.sh "$disk.tmp" 32M
	mv "$disk.tmp" "$disk"
	say "      $disk made (32 MiB ext4)"
fi

say "[5/5] the initramfs"
if [ -f "$initrd" ] && [ "$initrd" -nt "$busybox" ] && [ "$initrd" -nt "$guest/init" ] &&
	[ "$initrd" -nt "$guest/inittab" ] && [ "$initrd" -nt "$mkinitramfs" ] &&
	[ "$initrd" -nt "$self" ] && [ "$initrd" -nt "$mdir/.done" ]; then
	say "      $initrd up to date"
	touch "$stamp"
	exit 0
fi
# /dev/console is where the kernel opens init's stdin, stdout and stderr
# (before /init mounts devtmpfs); mkinitramfs.py writes the node as an
# archive entry, so no mknod and no root are needed.
python3 "$mkinitramfs" "$initrd.tmp" <<-EOF
	dir  /bin 0755
	dir  /sbin 0755
	dir  /usr 0755
	dir  /usr/bin 0755
	dir  /usr/sbin 0755
	dir  /dev 0755
	nod  /dev/console 0600 c 5 1
	dir  /etc 0755
	dir  /proc 0555
	dir  /sys 0555
	dir  /root 0700
	dir  /tmp 01777
	file /bin/busybox $busybox 0755
	file /etc/inittab $guest/inittab 0644
	file /init $guest/init 0755
	dir  /lib 0755
	dir  /lib/modules 0755
	dir  /mnt 0755
	$(for m in $modules; do echo "file /lib/modules/${m##*/}.ko $mdir/lib/modules/$abi/kernel/$m.ko 0644"; done)
EOF
# Check the hand-written archive with a standard reader.
want="bin sbin usr usr/bin usr/sbin dev dev/console etc proc sys root tmp bin/busybox etc/inittab init lib lib/modules mnt $(for m in $modules; do printf 'lib/modules/%s.ko ' "${m##*/}"; done)"
listing=$(gzip -dc "$initrd.tmp" | cpio -it --quiet | tr '\n' ' ')
[ "$listing" = "$want" ] || fail "the initramfs holds '$listing', not '$want'"
mv "$initrd.tmp" "$initrd"
say "      $initrd built ($(wc -c <"$initrd") bytes)"
touch "$stamp"
