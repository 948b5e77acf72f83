#!/usr/bin/env python3
"""A Linux guest's snapshot and restore, timed, next to Linux writing and
reading as much on its own disk (issue 16; docs/lifecycle.md,
docs/benchmarks.md, "Snapshots").

    tools/bench/snapshot_linux.py [--build DIR] [--no-icount]

Berth (build/kernel.bin, tests/bench/snapshot.manifest) boots under QEMU
-icount shift=0 with a disk image holding the guest's own disk, whose
/autorun keeps 8 MiB in a tmpfs and counts rounds
(tests/system/data/linux_snapshot_autorun.sh).  The 128 MiB guest is saved
(`vm snapshot linux /snap.bin`) after round 3, stopped, and restored
(`vm restore /snap.bin`); it must go on with the next rounds.  The VMM's
own lines give the guest's pause, the bytes written, the rate and the
calls of the fs server, and the restore's time (reading, checking and
applying the file; the VMM's clock, which under icount counts one
nanosecond per instruction).  Then the same Linux kernel under bare QEMU
(-m 256M, the same icount) writes a 128 MiB file with dd on its own
virtio-blk disk and fsyncs it, drops its page cache and reads the file
back (tests/bench/snapshot_dd_autorun.sh), timed by its own clock.

prints BENCH lines (stdout; progress and the console lines on stderr):

    BENCH name=snapshot_pause_ms value=<ms> unit=ms
    BENCH name=snapshot_bytes value=<n> unit=bytes
    BENCH name=snapshot_mibs value=<MiB/s> unit=MiB/s
    BENCH name=snapshot_host_ms value=<ms> unit=ms   (host wall time, typing to answer)
    BENCH name=snapshot_fs_calls value=<n> unit=calls
    BENCH name=restore_ms value=<ms> unit=ms
    BENCH name=restore_mibs value=<MiB/s> unit=MiB/s
    BENCH name=restore_fs_calls value=<n> unit=calls
    BENCH name=linux.dd_write_128m_ms, linux.dd_write_128m_mibs,
               linux.dd_read_128m_ms, linux.dd_read_128m_mibs

and exits non-zero, with the end of the log, when a figure is missing.
Logs: build/bench/snapshot-berth.log, build/bench/snapshot-bare.log.
"""
import argparse
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in tools/
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import linux_guest_test as lg  # noqa: E402  (tools/linux_guest_test.py)

AUTORUN = os.path.join('tests', 'system', 'data', 'linux_snapshot_autorun.sh')
DD_AUTORUN = os.path.join('tests', 'bench', 'snapshot_dd_autorun.sh')
MANIFEST = os.path.join('tests', 'bench', 'snapshot.manifest')
ROUND = r'\[linux\] linux-snapshot: round (\d+) (ok|BAD)'
MIB = 1 << 20


def say(text):
    print('bench: ' + text, file=sys.stderr)
    sys.stderr.flush()


def fail(q, why):
    say(why)
    if q:
        print('\n'.join(lg.tail(q, 30)), file=sys.stderr)
    sys.exit(1)


def berth(args, icount):
    out = os.path.join(args.build, 'bench')
    inner, disk = os.path.join(out, 'snapshot-guest.img'), os.path.join(out, 'snapshot-berth.img')
    subprocess.run(['tools/mkguestdisk.sh', inner, '16M', AUTORUN], check=True)
    subprocess.run(['tools/mkdisk.sh', disk, '320M', inner], check=True)
    b = args.build
    mods = [os.path.join(b, 'init.elf'), MANIFEST] + [os.path.join(b, m) for m in (
        'serial.elf', 'rtc.elf', 'pci.elf', 'virtio_blk.elf', 'fs.elf', 'shell.elf')] + \
        [args.vmm or os.path.join(b, 'vmm.elf'), lg.BZIMAGE, lg.INITRD]
    # QEMU_MEM: init gives the VMM a pool of twice its memory line's 256 MiB
    env = dict(os.environ, KERNEL_CMDLINE='', QEMU_MEM='2G',
               QEMU_EXTRA=('-icount shift=0 ' if icount else '') + '-drive if=none,id=da,format=raw,file=%s '
               '-device virtio-blk-pci,disable-legacy=on,drive=da,addr=4' % disk)
    q = lg.Qemu(['tools/qemu.sh', '--test', os.path.join(b, 'kernel.bin')] + mods,
                os.path.join(lg.ROOT, out, 'snapshot-berth.log'), env)
    res = {}
    try:
        if q.wait_for(r'\[linux\] linux-snapshot: round 3 ok|init: .linux. exited|init: cannot start .linux.|init: no boot module', args.timeout) is None or \
                q.wait_for(r'\[linux\] linux-snapshot: round 3 ok', 1) is None:
            fail(q, 'the guest did not reach round 3')
        mark = len(q.text())
        t0 = time.time()
        q.type('vm snapshot linux /snap.bin\r')
        saved = q.wait_for(r"^vm: saved 'linux' to /snap\.bin", args.timeout, mark)
        wall = time.time() - t0
        line = q.wait_for(r'vmm: \[linux\] snapshot /snap\.bin: (\d+) bytes \((\d+) of (\d+) pages in use\), the '
                          r'guest paused (\d+) ms(, [\d.]+ MiB/s in (\d+) calls)?', 5, mark)
        if not saved or not line:
            fail(q, 'no snapshot')
        say(line.group(0) + ' (host: %.1f s from typing to the answer)' % wall)
        last = max(int(n) for n, _ in re.findall(ROUND, q.text()[:saved.start()]))
        res.update(bytes=int(line.group(1)), pause_ms=int(line.group(4)), calls=int(line.group(6) or 0), wall=wall,
                   pages=(int(line.group(2)), int(line.group(3))))
        q.type('vm stop linux\r')
        if q.wait_for(r"^vm: stopped 'linux'", 60, saved.end()) is None:
            fail(q, 'vm stop linux did not answer')
        mark = len(q.text())
        q.type('vm restore /snap.bin\r')
        line = q.wait_for(r'vmm: \[linux\] restored from /snap\.bin: [^\n]*?(applied in (\d+) ms \((\d+) calls[^\n]*)?$',
                          args.timeout, mark)
        if not line:
            fail(q, 'no restore')
        say(line.group(0))
        if line.group(1):   # (an older VMM says neither)
            res.update(restore_ms=int(line.group(2)), restore_calls=int(line.group(3)))
        if q.wait_for(r'\[linux\] linux-snapshot: round %d ok' % (last + 2), args.timeout, line.end()) is None:
            fail(q, 'the restored guest did not go on to round %d' % (last + 2))
        rounds = re.findall(ROUND, q.text()[line.end():])
        if not rounds or int(rounds[0][0]) != last + 1 or any(st != 'ok' for _, st in rounds):
            fail(q, 'the restored guest did not go on from round %d with the same bytes: %r' % (last, rounds))
        say('the restored guest went on with round %d, the same bytes' % (last + 1))
    finally:
        q.stop()
    return res


def bare(args, icount):
    out = os.path.join(args.build, 'bench')
    disk, log = os.path.join(out, 'snapshot-bare.img'), os.path.join(out, 'snapshot-bare.log')
    subprocess.run(['tools/mkguestdisk.sh', disk, '192M', DD_AUTORUN], check=True)
    cmd = ['qemu-system-x86_64', '-accel', 'tcg', '-cpu', 'max', '-m', '256M'] + \
        (['-icount', 'shift=0'] if icount else []) + \
        ['-no-reboot', '-display', 'none', '-vga', 'none', '-serial', 'stdio', '-monitor', 'none',
         '-drive', 'if=none,id=da,format=raw,file=%s' % disk,
         '-device', 'virtio-blk-pci,disable-legacy=on,drive=da,addr=4',
         '-kernel', lg.BZIMAGE, '-initrd', lg.INITRD, '-append', 'console=ttyS0 quiet panic=-1']
    with open(log, 'w') as f:
        try:
            subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                           timeout=args.timeout)
        except subprocess.TimeoutExpired:
            pass
    text = open(log, errors='replace').read()
    figures = dict((n, int(v)) for n, v in re.findall(r'SNAPDD name=(\w+) ns=(\d+)', text))
    if 'SNAPDD done' not in text or len(figures) != 2:
        print(text[-3000:], file=sys.stderr)
        fail(None, 'the bare QEMU run did not finish (log: %s)' % log)
    return figures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default='build')
    ap.add_argument('--no-icount', action='store_true', help='wall clock: QEMU without -icount shift=0')
    ap.add_argument('--timeout', type=int, default=400)
    ap.add_argument('--vmm', help='another vmm.elf (an older one, for a before-and-after; its file name must be vmm.elf)')
    args = ap.parse_args()
    os.chdir(lg.ROOT)
    icount = not args.no_icount
    how = 'under -icount shift=0' if icount else 'without icount'
    say('a 128 MiB Linux guest saved and restored under Berth, %s' % how)
    r = berth(args, icount)
    d = {}
    if not args.vmm:
        say('Linux writing and reading 128 MiB with dd on its own disk under bare QEMU, %s' % how)
        d = bare(args, icount)
    print('# snapshot: %d of %d pages in use' % r['pages'])
    print('BENCH name=snapshot_pause_ms value=%d unit=ms' % r['pause_ms'])
    print('BENCH name=snapshot_bytes value=%d unit=bytes' % r['bytes'])
    print('BENCH name=snapshot_mibs value=%.1f unit=MiB/s' % (r['bytes'] / MIB / max(r['pause_ms'], 1) * 1000))
    print('BENCH name=snapshot_host_ms value=%d unit=ms' % (r['wall'] * 1000))
    if r['calls']:
        print('BENCH name=snapshot_fs_calls value=%d unit=calls' % r['calls'])
    if 'restore_ms' in r:
        print('BENCH name=restore_ms value=%d unit=ms' % r['restore_ms'])
        print('BENCH name=restore_mibs value=%.1f unit=MiB/s' % (r['bytes'] / MIB / max(r['restore_ms'], 1) * 1000))
        print('BENCH name=restore_fs_calls value=%d unit=calls' % r['restore_calls'])
    for name in sorted(d, reverse=True):
        ns = d[name]
        print('BENCH name=linux.dd_%s_ms value=%d unit=ms' % (name, ns // 1000000))
        print('BENCH name=linux.dd_%s_mibs value=%.1f unit=MiB/s' % (name, 128 / max(ns, 1) * 1e9))


if __name__ == '__main__':
    main()
