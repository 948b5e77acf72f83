#!/usr/bin/env python3
"""Make the ext2 image the file-system system tests read (tests/system/files.c):
a folder of files with known contents, turned into an image by the host's
mke2fs -d, as issue 11 asks ("host-made images with known contents").

    tools/fs_test_image.py OUT.img

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


def main():
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
