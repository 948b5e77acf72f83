#!/bin/sh
# Make an ext2 disk image with the host's mke2fs -d (issue 11: the disk
# Berth's fs server mounts):  tools/mkdisk.sh OUT.img SIZE [GUEST_DISK [SECOND_DISK]]
# Its files: /README.txt, /hello.txt and /vm/vmlinuz, /vm/initrd.img (the
# Linux guest's kernel and initramfs from cache/linux/guest, which
# `make guest-images` fetches and builds), and /vm/linux.img, the guest's
# own disk (GUEST_DISK, default cache/linux/guest/disk.img: see
# tools/mkguestdisk.sh; "none": no guest disk, for a small image), and
# with SECOND_DISK /vm/linux2.img, a second guest's.
# Nothing of it is committed.
set -eu
out=$1
size=$2
guest_disk=${3:-cache/linux/guest/disk.img}
second_disk=${4:-}
root=$out.root
rm -rf "$root"
mkdir -p "$root/vm"
cat > "$root/README.txt" <<TEXT
This is Berth's disk: an ext2 file system made on the host by mke2fs -d,
served by the fs server (servers/fs) from a user-level virtio-blk driver.
Try, in the Berth shell:
    ls /         cat /hello.txt       echo hi > /note.txt
    df           vm start linux disk=/vm/linux.img
TEXT
echo "hello from Berth's disk" > "$root/hello.txt"
cp -L cache/linux/guest/bzImage "$root/vm/vmlinuz"
cp -L cache/linux/guest/initramfs.cpio.gz "$root/vm/initrd.img"
[ "$guest_disk" = none ] || cp "$guest_disk" "$root/vm/linux.img"
[ -z "$second_disk" ] || cp "$second_disk" "$root/vm/linux2.img"
rm -f "$out"
/sbin/mke2fs -q -F -t ext2 -d "$root" "$out" "$size" >/dev/null
rm -rf "$root"
