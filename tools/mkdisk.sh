#!/bin/sh
# Make an ext2 disk image with the host's mke2fs -d (issue 11: the disk
# Berth's fs server mounts):  tools/mkdisk.sh OUT.img SIZE [--test]
# Its files: /README.txt, /hello.txt and /vm/vmlinuz, /vm/initrd.img (the
# Linux guest's kernel and initramfs from cache/linux/guest, which
# `make guest-images` fetches and builds).  Nothing of it is committed.
set -eu
out=$1
size=$2
root=$out.root
rm -rf "$root"
mkdir -p "$root/vm"
cat > "$root/README.txt" <<TEXT
This is Berth's disk: an ext2 file system made on the host by mke2fs -d,
served by the fs server (servers/fs) from a user-level virtio-blk driver.
Try, in the Berth shell:
    ls /         cat /hello.txt       echo hi > /note.txt
    df           vm start linux kernel=/vm/vmlinuz initrd=/vm/initrd.img
TEXT
echo "hello from Berth's disk" > "$root/hello.txt"
cp -L cache/linux/guest/bzImage "$root/vm/vmlinuz"
cp -L cache/linux/guest/initramfs.cpio.gz "$root/vm/initrd.img"
rm -f "$out"
/sbin/mke2fs -q -F -t ext2 -d "$root" "$out" "$size" >/dev/null
rm -rf "$root"
