#!/usr/bin/env python3
"""Write a gzipped newc ("070701") cpio archive for use as a Linux initramfs.

    mkinitramfs.py OUT.cpio.gz < LIST

Written here rather than using cpio(1) so that no root is needed for the
device node: the node exists only as an archive entry.  Every entry has
owner 0:0 and time 0, so the same inputs give the same bytes.

LIST has one entry per line ('#' starts a comment):

    dir  NAME MODE                 a directory
    nod  NAME MODE c MAJOR MINOR   a character device (b for a block device)
    file NAME SOURCE MODE          a regular file with SOURCE's contents

NAME is the path inside the archive; MODE is octal permission bits.
Parents must be listed before their children.
"""
import gzip
import stat
import sys


def header(ino, mode, nlink, size, rmajor, rminor, namesize):
    # 13 fields of 8 hex digits: ino mode uid gid nlink mtime filesize
    # devmajor devminor rdevmajor rdevminor namesize check.
    fields = (ino, mode, 0, 0, nlink, 0, size, 0, 0, rmajor, rminor, namesize, 0)
    return b"070701" + b"".join(b"%08x" % f for f in fields)


def pad4(n):
    return b"\0" * (-n % 4)


def entry(ino, name, mode, nlink=1, data=b"", rdev=(0, 0)):
    bname = name.encode() + b"\0"
    head = header(ino, mode, nlink, len(data), rdev[0], rdev[1], len(bname)) + bname
    # The name is padded so the data starts 4-aligned; the data likewise.
    return head + pad4(len(head)) + data + pad4(len(data))


def parse(lines):
    for lineno, line in enumerate(lines, 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        kind, args = words[0], words[1:]
        try:
            if kind == "dir" and len(args) == 2:
                yield dict(name=args[0], mode=stat.S_IFDIR | int(args[1], 8), nlink=2)
            elif kind == "nod" and len(args) == 5 and args[2] in ("c", "b"):
                kind_bits = stat.S_IFCHR if args[2] == "c" else stat.S_IFBLK
                yield dict(name=args[0], mode=kind_bits | int(args[1], 8),
                           rdev=(int(args[3]), int(args[4])))
            elif kind == "file" and len(args) == 3:
                with open(args[1], "rb") as f:
                    data = f.read()
                yield dict(name=args[0], mode=stat.S_IFREG | int(args[2], 8), data=data)
            else:
                raise ValueError("bad entry")
        except ValueError as e:
            sys.exit("mkinitramfs: line %d: %s: %s" % (lineno, e, line.rstrip()))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: mkinitramfs.py OUT.cpio.gz < LIST")
    archive = bytearray()
    for ino, e in enumerate(parse(sys.stdin), 1):
        e["name"] = e["name"].lstrip("/")
        archive += entry(ino, **e)
    archive += entry(0, "TRAILER!!!", 0)
    # Whole 512-byte blocks, as cpio(1) writes; the kernel skips the zeros.
    archive += b"\0" * (-len(archive) % 512)
    with open(sys.argv[1], "wb") as out:
        out.write(gzip.compress(bytes(archive), mtime=0))


if __name__ == "__main__":
    main()
