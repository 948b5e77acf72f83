#!/usr/bin/env python3
"""Make the ext2 image the file-system system tests read (tests/system/files.c):
a folder of files with known contents, turned into an image by the host's
mke2fs -d, as issue 11 asks ("host-made images with known contents").

    tools/fs_test_image.py OUT.img
    tools/fs_test_image.py --damage GOOD.img DIRDAMAGED.img BADMAGIC.img

The second form makes two damaged copies: one whose /docs directory
block has a first entry with an impossible length (rec_len 0xfff0, past
the block), one whose superblock magic is wrong.

The contents are fixed here and in the test: text files, an empty file,
nested directories and big.bin, 300000 bytes where byte i is
(7 * i + i // 251) & 0xff (with 1 KiB blocks it needs the double-indirect
block).  Nothing of it is committed."""
import os
import shutil
import subprocess
import sys

FILES = {
    'hello.txt': b'hello from the host\n',
    'docs/readme.txt': b''.join(b'line %d of the readme\n' % i for i in range(1, 101)),
    'dir/a/b/deep.txt': b'three levels down\n',
    'empty': b'',
}
BIG = 300000


def damage(good, dir_damaged, bad_magic):
    data = bytearray(open(good, 'rb').read())
    out = subprocess.run(['/sbin/debugfs', '-R', 'bmap /docs 0', good], check=True,
                         capture_output=True, text=True).stdout.split()
    block = int(out[-1])
    # the first entry of the block: inode (4), rec_len (2) at offset 4
    data[block * 1024 + 4:block * 1024 + 6] = (0xfff0).to_bytes(2, 'little')
    open(dir_damaged, 'wb').write(data)
    data = bytearray(open(good, 'rb').read())
    data[1024 + 56:1024 + 58] = b'\x00\x00'   # s_magic (0xef53) at superblock offset 56
    open(bad_magic, 'wb').write(data)


def main():
    if sys.argv[1] == '--damage':
        damage(*sys.argv[2:5])
        return
    out = sys.argv[1]
    tree = out + '.tree'
    shutil.rmtree(tree, ignore_errors=True)
    for name, data in FILES.items():
        path = os.path.join(tree, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(data)
    with open(os.path.join(tree, 'big.bin'), 'wb') as f:
        f.write(bytes((7 * i + i // 251) & 0xff for i in range(BIG)))
    if os.path.exists(out):
        os.remove(out)
    subprocess.run(['/sbin/mke2fs', '-q', '-F', '-t', 'ext2', '-b', '1024', '-d', tree, out, '4M'],
                   check=True, stdout=subprocess.DEVNULL)
    shutil.rmtree(tree)


if __name__ == '__main__':
    main()
