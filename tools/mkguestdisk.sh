#!/bin/sh
# Make a Linux guest's own disk: an ext4 file system made by the host's
# mke2fs -d, for the guest to mount as /dev/vda (issue 13).
#
#   tools/mkguestdisk.sh OUT.img SIZE [AUTORUN]
#
# Its files: /README.txt, and with AUTORUN that script as /autorun, which
# the guest's /init runs once the disk is mounted on /mnt (the tests use it
# to drive the guest; tools/linux-guest/init).  tools/guest-images.sh makes
# cache/linux/guest/disk.img with it; tools/mkdisk.sh puts such an image on
# Berth's own disk, where the VMM serves it (disk=/vm/linux.img).
set -eu
out=$1
size=$2
autorun=${3:-}
root=$out.root
rm -rf "$root"
mkdir -p "$root"
cat > "$root/README.txt" <<TEXT
This is a Linux guest's disk under Berth: a file (/vm/linux.img) on
Berth's own file system, which the VMM offers the guest as a virtio-blk
disk.  The guest's /init mounts it on /mnt.  What is written here goes
through the VMM, Berth's fs server and its block driver to Berth's disk.
TEXT
if [ -n "$autorun" ]; then
	cp "$autorun" "$root/autorun"
	chmod 755 "$root/autorun"
fi
rm -f "$out"
# inode tables and journal written out now: otherwise the guest's ext4
# zeroes them in the background after mounting (ext4lazyinit), writes
# that would land in the middle of the tests' and the benchmark's I/O
/sbin/mke2fs -q -F -t ext4 -L berth-guest -E lazy_itable_init=0,lazy_journal_init=0 -d "$root" "$out" "$size" >/dev/null
rm -rf "$root"
