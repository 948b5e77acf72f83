#!/usr/bin/env python3
"""Crash points on a real (emulated) disk (issue 11): Berth boots with the
fs server on a virtio-blk disk (a fresh 32 MiB ext2 made by the host's
mke2fs) and tests/system/progs/fs_writer.c writing and fsyncing file
after file, renaming, making and removing directories and unlinking old
records (it keeps the last KEEP); at a
random moment the whole machine is killed (QEMU gets SIGKILL, as a power
cut).  Then the host's e2fsck -fp must repair the disk unattended (status
0 or 1, never 4), e2fsck -fn must then find it clean, and every record
whose "fsynced K" line reached the console must read back exactly
through debugfs.  Prints TAP: two checks per point.

    tools/fs_crash_test.py [--build DIR] [--points N] [--seed S]

make test runs a few points; `make fs-crash` runs many (docs/fs.md)."""
import argparse
import os
import random
import re
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULES = ['{b}/init.elf', 'tests/fs/crash.manifest', '{b}/rtc.elf', '{b}/pci.elf', '{b}/virtio_blk.elf',
           '{b}/fs.elf', '{b}/tests/system/progs/fs_writer.elf']


KEEP = 50  # fs_writer.c keeps the last KEEP records


def record(k):
    return ('record %d ' % k) * ((k * 37) % 3000 + 1)


def path_of(k):
    return '/crash/moved/f%d.txt' % k if k % 5 == 4 else '/crash/f%d.txt' % k


def one_point(build, n, rng):
    disk = os.path.join(build, 'test-disks', 'fs-crash-%d.img' % n)
    os.makedirs(os.path.dirname(disk), exist_ok=True)
    if os.path.exists(disk):
        os.remove(disk)
    subprocess.run(['/sbin/mke2fs', '-q', '-F', '-t', 'ext2', disk, '32M'], check=True, stdout=subprocess.DEVNULL)
    env = dict(os.environ, KERNEL_CMDLINE='',
               QEMU_EXTRA='-drive if=none,id=da,format=raw,file=%s -device '
                          'virtio-blk-pci,disable-legacy=on,drive=da,addr=4' % disk)
    mods = [m.format(b=build) for m in MODULES]
    p = subprocess.Popen(['tools/qemu.sh', '--test', os.path.join(build, 'kernel.bin')] + mods, cwd=ROOT,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    out = []
    reader = threading.Thread(target=lambda: out.extend(iter(p.stdout.readline, b'')), daemon=True)
    reader.start()
    text = lambda: b''.join(out).decode(errors='replace')
    t0 = time.time()
    while 'fs-writer: started' not in text() and time.time() - t0 < 90 and p.poll() is None:
        time.sleep(0.1)
    started = 'fs-writer: started' in text()
    delay = rng.uniform(0.2, 8.0)
    time.sleep(delay)
    p.kill()  # the power cut: no unmount, no flush
    p.wait()
    reader.join(2)
    log = text()
    with open(os.path.join(build, 'test-logs', 'fs-crash-%d.log' % n), 'w') as f:
        f.write(log)
    synced = sorted(int(k) for k in re.findall(r'^fs-writer: fsynced (\d+)\r?$', log, re.MULTILINE))
    preen = subprocess.run(['/sbin/e2fsck', '-fp', disk], capture_output=True, text=True)
    clean = subprocess.run(['/sbin/e2fsck', '-fn', disk], capture_output=True, text=True)
    ok = started and preen.returncode <= 1 and clean.returncode == 0
    print('%sok %d - point %d (killed %.1f s into the workload, %d records fsynced): e2fsck -fp status %d, '
          'then -fn %d' % ('' if ok else 'not ', 2 * n - 1, n, delay, len(synced), preen.returncode,
                            clean.returncode))
    if not ok:
        for line in (preen.stdout + preen.stderr + clean.stdout).strip().split('\n')[-10:]:
            print('#   ' + line)
    # the oldest of the last KEEP may be gone: the writer unlinks record
    # K+1-KEEP before it reports K+1, which the kill may have cut off
    lost = []
    for k in [k for k in synced if synced and k > synced[-1] - KEEP + 1]:
        r = subprocess.run(['/sbin/debugfs', '-R', 'cat %s' % path_of(k), disk], capture_output=True)
        if r.stdout.decode(errors='replace') != record(k):
            lost.append(k)
    kept = min(len(synced), KEEP - 1)
    print('%sok %d - point %d: every fsynced record still named reads back exactly (%d of %d%s)'
          % ('' if not lost and started and synced else 'not ', 2 * n, n, kept - len(lost), kept,
             '; lost: %s' % lost[:10] if lost else ''))
    os.remove(disk)
    return ok and not lost and bool(synced)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default='build')
    ap.add_argument('--points', type=int, default=4)
    ap.add_argument('--seed', type=int, default=None)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)
    os.makedirs(os.path.join(args.build, 'test-logs'), exist_ok=True)
    print('1..%d' % (2 * args.points))
    print('# seed %d' % seed)
    good = sum(one_point(args.build, n, rng) for n in range(1, args.points + 1))
    print('# %d of %d crash points repaired unattended with every fsynced record intact' % (good, args.points))
    return 0 if good == args.points else 1


if __name__ == '__main__':
    sys.exit(main())
